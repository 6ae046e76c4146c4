package detect

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan"
)

var day = time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)

func TestParseWaiver(t *testing.T) {
	tests := []struct {
		in      string
		want    Waiver
		wantErr bool
	}{
		{"port-clash", Waiver{Key: "port-clash"}, false},
		{" port-clash ", Waiver{Key: "port-clash"}, false},
		{"port-clash@until=2027-01-31", Waiver{Key: "port-clash", Until: day}, false},
		{"config-unreadable", Waiver{Key: "config-unreadable"}, false},
		{"", Waiver{}, true},
		{"Port-Clash", Waiver{}, true},
		{"port clash", Waiver{}, true},
		{"port-clash@2027-01-31", Waiver{}, true},
		{"port-clash@until=2027-02-30", Waiver{}, true},
		{"port-clash@until=tomorrow", Waiver{}, true},
		{"@until=2027-01-31", Waiver{}, true},
	}
	for _, tt := range tests {
		got, err := ParseWaiver(tt.in)
		if (err != nil) != tt.wantErr || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseWaiver(%q) = %+v, %v; want %+v, error %v", tt.in, got, err, tt.want, tt.wantErr)
		}
		if err == nil {
			if back, err := ParseWaiver(got.String()); err != nil || !reflect.DeepEqual(back, got) {
				t.Errorf("ParseWaiver(%q.String()) = %+v, %v", tt.in, back, err)
			}
		}
	}
}

func TestWaiverExpiry(t *testing.T) {
	w := Waiver{Key: "k", Until: day}
	tests := []struct {
		now  time.Time
		want bool
	}{
		{day.Add(-time.Hour), false},
		{day, false},
		{day.Add(23*time.Hour + 59*time.Minute), false}, // the whole last day holds
		{day.AddDate(0, 0, 1), true},
		{day.AddDate(1, 0, 0), true},
	}
	for _, tt := range tests {
		if got := w.expired(tt.now); got != tt.want {
			t.Errorf("expired(%v) = %v, want %v", tt.now, got, tt.want)
		}
	}
	if (Waiver{Key: "k"}).expired(day.AddDate(100, 0, 0)) {
		t.Errorf("a waiver without date expired")
	}
}

func TestApplyPolicy(t *testing.T) {
	base := func() []Finding {
		return []Finding{
			{Key: "port-clash", Severity: SeverityError},
			{Key: "install-running", Severity: SeverityError, Blocker: true},
			{Key: "downgrade", Severity: SeverityError, Blocker: true, Mandatory: true},
			{Key: "port-clash-possible", Severity: SeverityWarning},
		}
	}
	type row struct {
		Key                    string
		Severity               string
		Blocker, Forced, Waive bool
		Until                  string
	}
	summarize := func(fs []Finding) []row {
		var out []row
		for _, f := range fs {
			out = append(out, row{f.Key, f.Severity, f.Blocker, f.Forced, f.Waived, f.WaivedUntil})
		}
		return out
	}
	now := day.AddDate(0, 0, -10)
	tests := []struct {
		name    string
		force   bool
		waivers []string
		want    []row
	}{
		{"nothing", false, nil, []row{
			{"port-clash", "error", false, false, false, ""},
			{"install-running", "error", true, false, false, ""},
			{"downgrade", "error", true, false, false, ""},
			{"port-clash-possible", "warning", false, false, false, ""},
		}},
		{"force demotes only non-mandatory blockers", true, nil, []row{
			{"port-clash", "error", false, false, false, ""},
			{"install-running", "warning", false, true, false, ""},
			{"downgrade", "error", true, false, false, ""},
			{"port-clash-possible", "warning", false, false, false, ""},
		}},
		{"waivers with and without date", false, []string{"port-clash@until=2027-01-31", "install-running"}, []row{
			{"port-clash", "error", false, false, true, "2027-01-31"},
			{"install-running", "error", true, false, true, ""},
			{"downgrade", "error", true, false, false, ""},
			{"port-clash-possible", "warning", false, false, false, ""},
		}},
		{"the longest waiver wins", false, []string{"port-clash@until=2027-01-31", "port-clash@until=2027-06-30", "port-clash@until=2027-03-01"}, []row{
			{"port-clash", "error", false, false, true, "2027-06-30"},
			{"install-running", "error", true, false, false, ""},
			{"downgrade", "error", true, false, false, ""},
			{"port-clash-possible", "warning", false, false, false, ""},
		}},
		{"expired waiver waives nothing and says so", false, []string{"port-clash@until=2026-12-31"}, []row{
			{"port-clash", "error", false, false, false, ""},
			{"install-running", "error", true, false, false, ""},
			{"downgrade", "error", true, false, false, ""},
			{"port-clash-possible", "warning", false, false, false, ""},
			{"waiver-expired", "info", false, false, false, ""},
		}},
		{"mandatory findings cannot be waived", false, []string{"downgrade"}, []row{
			{"port-clash", "error", false, false, false, ""},
			{"install-running", "error", true, false, false, ""},
			{"downgrade", "error", true, false, false, ""},
			{"port-clash-possible", "warning", false, false, false, ""},
			{"waiver-ignored", "info", false, false, false, ""},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ws []Waiver
			for _, s := range tt.waivers {
				w, err := ParseWaiver(s)
				if err != nil {
					t.Fatal(err)
				}
				ws = append(ws, w)
			}
			got := summarize(applyPolicy(base(), tt.force, ws, now))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("applyPolicy =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestSortFindings(t *testing.T) {
	fs := []Finding{
		{Key: "i1", Severity: SeverityInfo},
		{Key: "w1", Severity: SeverityWarning},
		{Key: "e-waived", Severity: SeverityError, Blocker: true, Waived: true},
		{Key: "e1", Severity: SeverityError},
		{Key: "b-warn", Severity: SeverityWarning, Blocker: true},
		{Key: "w2", Severity: SeverityWarning},
		{Key: "b-err", Severity: SeverityError, Blocker: true},
		{Key: "e2", Severity: SeverityError},
	}
	SortFindings(fs)
	var got []string
	for _, f := range fs {
		got = append(got, f.Key)
	}
	want := []string{"b-err", "b-warn", "e1", "e2", "w1", "w2", "i1", "e-waived"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("SortFindings = %v, want %v", got, want)
	}
}

func TestExitFindings(t *testing.T) {
	tests := []struct {
		name     string
		findings []Finding
		failOn   string
		want     bool
	}{
		{"none", nil, "warning", false},
		{"error fails on error", []Finding{{Severity: SeverityError}}, "error", true},
		{"warning does not fail on error", []Finding{{Severity: SeverityWarning}}, "error", false},
		{"warning fails on warning", []Finding{{Severity: SeverityWarning}}, "warning", true},
		{"info never fails", []Finding{{Severity: SeverityInfo}}, "warning", false},
		{"a blocker fails even as a warning", []Finding{{Severity: SeverityWarning, Blocker: true}}, "error", true},
		{"never", []Finding{{Severity: SeverityError, Blocker: true}}, "never", false},
		{"waived never counts", []Finding{{Severity: SeverityError, Blocker: true, Waived: true}}, "warning", false},
		{"unknown failOn is error", []Finding{{Severity: SeverityError}}, "bogus", true},
	}
	for _, tt := range tests {
		if got := ExitFindings(tt.findings, tt.failOn); got != tt.want {
			t.Errorf("%s: ExitFindings = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// upgradeHost is a host with a running 4.0.9 JMS install (2012/09 config,
// snmp and session services, an unresolved property) and a stopped 5.6.2
// community install unpacked next to it with the same ports; nginx holds 8081.
func upgradeHost() Input {
	a, b := "/opt/kaazing-websocket-gateway-jms-4.0.9", "/opt/kaazing-community-gateway-5.6.2"
	ca, cb := a+"/conf/gateway-config.xml", b+"/conf/gateway-config.xml"
	old := inst(a, "4.0.9.383", scan.StateRunning, lis("tcp", "0.0.0.0", 8000, ca, 40), jmx("localhost", 2020, ca, 80))
	old.Edition, old.PID = "JMS", 1234
	old.Config.Namespace = "http://xmlns.kaazing.com/2012/09/gateway"
	old.Evidence = []scan.Evidence{{Kind: scan.EvidenceManifest, Path: a + "/lib/com.kaazing.gateway.jms.assembly.version.jar", Version: "4.0.9.383"}}
	old.Services = []scan.Service{{Name: "SNMP", Type: "management.snmp", File: ca, Line: 90}, {Name: "session", Type: "session", File: ca, Line: 100}}
	old.Problems = []scan.Problem{{Key: "property-unresolved", Path: ca, Line: 12, Message: "${broker.hostname} is not defined"}}
	next := inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, cb, 30), lis("tcp", "0.0.0.0", 8081, cb, 31))
	next.Edition = "Community"
	next.Config.Namespace = "http://xmlns.kaazing.org/2016/06/gateway"
	next.Problems = []scan.Problem{{Message: "README.txt has no release number"}, {Key: "config-backup-found", Path: cb + ".new", Message: "a translated config is waiting"}}
	return Input{
		Installs: []scan.Install{old, next},
		Live: scan.Live{Available: true,
			Processes: []scan.Process{{PID: 1234, Home: a, SocketInodes: []uint64{1, 2}}},
			Sockets: []scan.Socket{
				{Proto: "tcp", Host: "::", Port: 8000, Inode: 1, PID: 1234, Command: "java"},
				{Proto: "tcp", Host: "::", Port: 2020, Inode: 2, PID: 1234, Command: "java"},
				{Proto: "tcp", Host: "0.0.0.0", Port: 8081, Inode: 3, PID: 900, Command: "nginx"},
			}},
		Hosts: map[string][]string{},
		Now:   day,
	}
}

func findingKeys(fs []Finding) []string {
	var keys []string
	for _, f := range fs {
		keys = append(keys, f.Home[strings.LastIndex(f.Home, "/")+1:]+" "+f.Key+" "+f.Severity+map[bool]string{true: " blocker", false: ""}[f.Blocker])
	}
	return keys
}

func TestAnalyzeWithoutTarget(t *testing.T) {
	res := Analyze(upgradeHost())
	want := []string{
		"kaazing-community-gateway-5.6.2 port-held-by-other-process error blocker",
		"kaazing-community-gateway-5.6.2 port-clash error",
		"kaazing-websocket-gateway-jms-4.0.9 property-unresolved error",
		"kaazing-community-gateway-5.6.2 scan-problem warning",
		"kaazing-community-gateway-5.6.2 config-backup-found warning",
	}
	if got := findingKeys(res.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("findings =\n %q\nwant\n %q", got, want)
	}
	if len(res.Plans) != 0 || len(res.Clashes) != 2 {
		t.Errorf("plans %d clashes %d, want 0 and 2", len(res.Plans), len(res.Clashes))
	}
}

func TestAnalyzeToCommunity562(t *testing.T) {
	in := upgradeHost()
	in.Target = "5.6.2"
	res := Analyze(in)
	// With a target, a clash blocks both installs' plans (the new release
	// must start next to the other), and a 4.x (JMS) config in 2012/09
	// blocks unless the target is Enterprise Edition.
	want := []string{
		"kaazing-community-gateway-5.6.2 port-clash error blocker",
		"kaazing-community-gateway-5.6.2 port-held-by-other-process error blocker",
		"kaazing-websocket-gateway-jms-4.0.9 install-running error blocker",
		"kaazing-websocket-gateway-jms-4.0.9 config-namespace-untranslatable error blocker",
		"kaazing-websocket-gateway-jms-4.0.9 service-type-removed error blocker",
		"kaazing-websocket-gateway-jms-4.0.9 service-type-removed error blocker",
		"kaazing-websocket-gateway-jms-4.0.9 property-unresolved error",
		"kaazing-community-gateway-5.6.2 scan-problem warning",
		"kaazing-community-gateway-5.6.2 config-backup-found warning",
	}
	if got := findingKeys(res.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("findings =\n %q\nwant\n %q", got, want)
	}
	if len(res.Plans) != 2 {
		t.Fatalf("plans = %+v", res.Plans)
	}
	p := res.Plans[0]
	if p.Action != ActionUpgrade || p.From != "4.0.9.383" || p.To != "5.6.2" ||
		!reflect.DeepEqual(p.Blockers, []string{"port-clash", "install-running", "config-namespace-untranslatable", "service-type-removed"}) {
		t.Errorf("plan[0] = %+v", p)
	}
	if res.Plans[1].Action != ActionNone || !reflect.DeepEqual(res.Plans[1].Blockers, []string{KeyPortClash, KeyPortHeld}) {
		t.Errorf("plan[1] = %+v", res.Plans[1])
	}
}

func TestAnalyzePathFindings(t *testing.T) {
	tests := []struct {
		release, target string
		edition, ns     string
		force           bool
		want            []string
	}{
		{"3.5.11", "5.6.2", "HTML5", "", false, []string{"a path-required-stop error blocker"}},
		{"3.5.11", "5.6.2", "HTML5", "", true, []string{"a path-required-stop error blocker"}}, // mandatory: force does not demote
		{"3.2.9", "4.0.9", "", "", false, []string{"a path-contact-support error blocker"}},
		{"3.2.9", "4.0.9", "", "", true, []string{"a path-contact-support warning"}},
		{"4.0.9", "3.5.11", "", "", false, []string{"a downgrade error blocker"}},
		{"3.2.9", "3.5.11", "", "", false, []string{"a path-unsupported error blocker"}},
		{"", "5.6.2", "", "", false, []string{"a release-unknown error blocker"}},
		{"5.0.1.55", "5.6.2", "Community", "http://xmlns.kaazing.com/2012/09/gateway", false,
			[]string{"a config-namespace-untranslatable error blocker"}},
		{"5.0.1.55", "5.6.2", "Community", "http://xmlns.kaazing.org/2014/09/gateway", false, nil},
		{"4.0.9", "5.0.1", "Enterprise", "HTTP://XMLNS.KAAZING.COM/2012/09/GATEWAY", false,
			[]string{"a config-namespace-untranslatable warning"}},
		{"4.0.9", "4.0.9", "JMS", "http://xmlns.kaazing.com/2012/09/gateway", false, nil},
		{"4.0.9", "9.9.9", "", "", false, []string{" release-unknown error blocker"}},
		{"4.0.9", "develop-SNAPSHOT", "", "", false, []string{" release-unknown error blocker"}},
	}
	for _, tt := range tests {
		i := inst("/opt/a", tt.release, scan.StateStopped)
		i.Edition, i.Config.Namespace = tt.edition, tt.ns
		res := Analyze(Input{Installs: []scan.Install{i}, Live: scan.Live{Available: true}, Target: tt.target, Force: tt.force, Now: day})
		if got := findingKeys(res.Findings); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s -> %s (%s, %s, force %v): findings %q, want %q", tt.release, tt.target, tt.edition, tt.ns, tt.force, got, tt.want)
		}
	}
}

func TestAnalyzeServiceTypesByTarget(t *testing.T) {
	i := inst("/opt/a", "5.1.2", scan.StateStopped)
	i.Services = []scan.Service{{Name: "snmp", Type: "management.snmp", File: "/opt/a/conf/gateway-config.xml", Line: 9}}
	for target, want := range map[string]int{"5.1.2": 0, "5.1.1": 0, "5.2.0": 1, "5.2": 1, "5.6.2": 1} {
		res := Analyze(Input{Installs: []scan.Install{i}, Live: scan.Live{Available: true}, Target: target, Now: day})
		n := 0
		for _, f := range res.Findings {
			if f.Key == KeyServiceTypeRemoved {
				n++
				if !reflect.DeepEqual(f.Evidence, []Location{{File: "/opt/a/conf/gateway-config.xml", Line: 9}}) {
					t.Errorf("evidence = %+v", f.Evidence)
				}
			}
		}
		if n != want {
			t.Errorf("target %s: %d service-type-removed findings, want %d", target, n, want)
		}
	}
}

func TestAnalyzeInstallRunningOnlyInPlace(t *testing.T) {
	for layout, want := range map[scan.Layout]bool{scan.LayoutArchive: true, scan.LayoutDocker: true, scan.LayoutInstaller: false} {
		i := inst("/opt/a", "5.1.2", scan.StateRunning)
		i.Layout = layout
		res := Analyze(Input{Installs: []scan.Install{i}, Live: scan.Live{Available: true}, Target: "5.6.2", Now: day})
		got := false
		for _, f := range res.Findings {
			got = got || f.Key == KeyInstallRunning
		}
		if got != want {
			t.Errorf("layout %s: install-running %v, want %v", layout, got, want)
		}
	}
}

func TestAnalyzeLiveUnavailableAndWaivers(t *testing.T) {
	in := upgradeHost()
	in.Live = scan.Live{Reason: "no /proc/net/tcp under the scanned root"}
	w1, _ := ParseWaiver("port-clash@until=2027-02-01")
	w2, _ := ParseWaiver("scan-problem@until=2027-01-01")
	w3, _ := ParseWaiver("property-unresolved")
	in.Waivers = []Waiver{w1, w2, w3}
	res := Analyze(in)
	want := []string{
		"kaazing-community-gateway-5.6.2 scan-problem warning",
		"kaazing-community-gateway-5.6.2 config-backup-found warning",
		" live-state-unavailable info",
		" waiver-expired info",
		"kaazing-community-gateway-5.6.2 port-clash error", // the 4.0.9 install is running (scan state)
		"kaazing-websocket-gateway-jms-4.0.9 property-unresolved error",
	}
	if got := findingKeys(res.Findings); !reflect.DeepEqual(got, want) {
		t.Errorf("findings =\n %q\nwant\n %q", got, want)
	}
	last := res.Findings[len(res.Findings)-2]
	if !last.Waived || last.WaivedUntil != "2027-02-01" {
		t.Errorf("port-clash waived %v until %q", last.Waived, last.WaivedUntil)
	}
	if ExitFindings(res.Findings, "error") {
		t.Errorf("ExitFindings(error) = true with only warnings and waived errors")
	}
	if !ExitFindings(res.Findings, "warning") {
		t.Errorf("ExitFindings(warning) = false with unwaived warnings")
	}
}

// TestResultJSON pins the JSON field names the CLI and scripts rely on.
func TestResultJSON(t *testing.T) {
	in := upgradeHost()
	in.Target = "5.6.2"
	data, err := json.Marshal(Analyze(in))
	if err != nil {
		t.Fatal(err)
	}
	var generic map[string][]map[string]any
	if err := json.Unmarshal(data, &generic); err != nil {
		t.Fatal(err)
	}
	fields := func(m map[string]any) []string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		return ks
	}
	for section, want := range map[string][]string{
		"clashes":  {"kind", "proto", "port", "homes", "listeners", "possible", "remediation"},
		"findings": {"key", "severity", "blocker", "mandatory", "home", "message", "waived"},
		"plans":    {"home", "from", "to", "action", "stops", "client_impact", "instructions", "source", "blockers"},
	} {
		if len(generic[section]) == 0 {
			t.Fatalf("no %s in %s", section, data)
		}
		got := strings.Join(fields(generic[section][0]), ",")
		for _, f := range want {
			if _, ok := generic[section][0][f]; !ok {
				t.Errorf("%s[0] has no field %q (has %s)", section, f, got)
			}
		}
	}
	rem := generic["clashes"][0]["remediation"].(map[string]any)
	for _, f := range []string{"home", "file", "line", "port", "free_port", "message"} {
		if _, ok := rem[f]; !ok {
			t.Errorf("remediation has no %q: %v", f, rem)
		}
	}
}

func FuzzParseWaiver(f *testing.F) {
	for _, s := range []string{"port-clash", "port-clash@until=2027-01-31", "x@until=", "@", "a@b=c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		w, err := ParseWaiver(s)
		if err != nil {
			return
		}
		back, err := ParseWaiver(w.String())
		if err != nil || !reflect.DeepEqual(back, w) {
			t.Fatalf("ParseWaiver(%q) = %+v does not round-trip: %+v, %v", s, w, back, err)
		}
	})
}

func FuzzOverlap(f *testing.F) {
	for _, s := range [][2]string{{"0.0.0.0", "::1"}, {"localhost", "[::1]"}, {"gw", "10.0.0.5"}, {"fe80::1%eth0", "${x}"}} {
		f.Add(s[0], s[1])
	}
	hosts := map[string][]string{"gw": {"10.0.0.5", "junk"}, "localhost": {"127.0.0.1"}}
	f.Fuzz(func(t *testing.T, a, b string) {
		v1, _ := overlap(a, b, hosts)
		v2, _ := overlap(b, a, hosts)
		if v1 != v2 {
			t.Fatalf("overlap(%q, %q) = %v, reversed %v", a, b, v1, v2)
		}
		if v, _ := overlap(a, a, hosts); v != overlapYes && strings.TrimSpace(a) != "" {
			// a bind always overlaps itself
			t.Fatalf("overlap(%q, itself) = %v", a, v)
		}
	})
}

func TestParseWaivers(t *testing.T) {
	file := "# accepted on 2026-11-28 by ops\nport-clash@until=2027-01-31   # old and new side by side until cut-over\n\n\r\nscan-problem\r\n"
	got, err := ParseWaivers([]byte(file))
	want := []Waiver{{Key: "port-clash", Until: day}, {Key: "scan-problem"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseWaivers = %+v, %v; want %+v", got, err, want)
	}
	if _, err := ParseWaivers([]byte("port-clash\nBad Key\n")); err == nil || !strings.Contains(err.Error(), "line 2") {
		t.Errorf("ParseWaivers(bad line 2) error = %v, want one naming line 2", err)
	}
}
