package detect

import (
	"reflect"
	"strconv"
	"strings"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
)

func TestOverlap(t *testing.T) {
	hosts := map[string][]string{
		"gw.example.com":  {"10.0.0.5"},
		"gw2.example.com": {"10.0.0.6"},
		"alias":           {"10.0.0.5", "fe80::1"},
		"v6only":          {"2001:db8::10"},
		"any":             {"0.0.0.0"},
		"localhost":       {"127.0.0.1", "::1"},
	}
	tests := []struct {
		a, b   string
		want   overlapVerdict
		reason string // substring for overlapMaybe
	}{
		// wildcards overlap every address, of either family
		{"0.0.0.0", "0.0.0.0", overlapYes, ""},
		{"0.0.0.0", "10.0.0.5", overlapYes, ""},
		{"0.0.0.0", "::1", overlapYes, ""},
		{"::", "127.0.0.1", overlapYes, ""}, // :: on Linux takes IPv4 too
		{"[::]", "2001:db8::10", overlapYes, ""},
		{"", "10.0.0.5", overlapYes, ""}, // a port-only bind
		{"*", "gw.example.com", overlapYes, ""},
		{"0.0.0.0", "unknown.example.com", overlapYes, ""}, // no need to resolve
		{"::ffff:0.0.0.0", "10.1.1.1", overlapYes, ""},
		{"any", "10.1.1.1", overlapYes, ""}, // a name for the wildcard
		// localhost is 127.0.0.1 and ::1
		{"localhost", "127.0.0.1", overlapYes, ""},
		{"localhost", "::1", overlapYes, ""},
		{"LOCALHOST", "[::1]", overlapYes, ""},
		{"localhost", "localhost", overlapYes, ""},
		{"localhost", "10.0.0.5", overlapNo, ""},
		{"localhost", "127.0.0.2", overlapNo, ""},
		// literal addresses: same overlaps, different does not
		{"10.0.0.5", "10.0.0.5", overlapYes, ""},
		{"10.0.0.5", "10.0.0.6", overlapNo, ""},
		{"127.0.0.1", "127.0.0.2", overlapNo, ""},
		{"::1", "127.0.0.1", overlapNo, ""},
		{"2001:db8::10", "2001:DB8:0::10", overlapYes, ""},
		{"2001:db8::10", "2001:db8::11", overlapNo, ""},
		{"::ffff:10.0.0.5", "10.0.0.5", overlapYes, ""}, // v4-mapped is IPv4
		{"fe80::1%eth0", "fe80::1", overlapYes, ""},
		// hostnames through /etc/hosts
		{"gw.example.com", "10.0.0.5", overlapYes, ""},
		{"GW.Example.COM", "alias", overlapYes, ""},
		{"gw.example.com", "gw2.example.com", overlapNo, ""},
		{"alias", "fe80::1", overlapYes, ""},
		{"v6only", "10.0.0.5", overlapNo, ""},
		// unresolved names: possible, with the reason; the same name is certain
		{"db.internal", "10.0.0.5", overlapMaybe, "db.internal is not in /etc/hosts"},
		{"10.0.0.5", "db.internal", overlapMaybe, "db.internal"},
		{"db.internal", "other.internal", overlapMaybe, "not in /etc/hosts"},
		{"db.internal", "DB.internal", overlapYes, ""},
		{"${gateway.hostname}", "10.0.0.5", overlapMaybe, "unresolved property"},
	}
	for _, tt := range tests {
		got, reason := overlap(tt.a, tt.b, hosts)
		if got != tt.want || !strings.Contains(reason, tt.reason) {
			t.Errorf("overlap(%q, %q) = %v %q, want %v %q", tt.a, tt.b, got, reason, tt.want, tt.reason)
		}
		// the relation is symmetric
		if back, _ := overlap(tt.b, tt.a, hosts); back != got {
			t.Errorf("overlap(%q, %q) = %v but overlap(%q, %q) = %v", tt.a, tt.b, got, tt.b, tt.a, back)
		}
	}
}

func lis(proto, host string, port int, file string, line int) scan.Listener {
	return scan.Listener{Proto: proto, Host: host, Port: port, Service: "svc", Type: "echo", Element: "accept",
		URI: proto + "://" + host, Scheme: "ws", File: file, Line: line}
}

func jmx(host string, port int, file string, line int) scan.Listener {
	l := lis("tcp", host, port, file, line)
	l.Type, l.Scheme, l.Service = "management.jmx", "jmx", "JMX Management"
	return l
}

func inst(home, release string, state scan.State, ls ...scan.Listener) scan.Install {
	return scan.Install{Home: home, Layout: scan.LayoutArchive, Release: release, State: state, Listeners: ls,
		Config: &scan.Config{Path: home + "/conf/gateway-config.xml"}}
}

func TestClashesBetweenInstalls(t *testing.T) {
	a := "/opt/kaazing/jms/4.0"
	b := "/opt/kaazing-community-gateway-5.6.2"
	ca, cb := a+"/conf/gateway-config.xml", b+"/conf/gateway-config.xml"
	tests := []struct {
		name     string
		installs []scan.Install
		want     []string // "kind proto/port possible homes→mover:free"
	}{
		{"same wildcard port",
			[]scan.Install{inst(a, "4.0.9", scan.StateRunning, lis("tcp", "0.0.0.0", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, cb, 20))},
			[]string{"installs tcp/8000 false " + b + ":8002"}},
		{"tcp and udp never clash",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "0.0.0.0", 3478, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("udp", "0.0.0.0", 3478, cb, 20))},
			nil},
		{"proto names are normalised",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("", "0.0.0.0", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("TCP", "0.0.0.0", 8000, cb, 20))},
			[]string{"installs tcp/8000 false " + b + ":8002"}},
		{"IPv6 wildcard and an IPv4 address",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "::", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "10.0.0.6", 8000, cb, 20))},
			[]string{"installs tcp/8000 false " + b + ":8002"}},
		{"different IPv6 addresses",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "2001:db8::1", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "2001:db8::2", 8000, cb, 20))},
			nil},
		{"different literal IPs",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "10.0.0.5", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "10.0.0.6", 8000, cb, 20))},
			nil},
		{"localhost and ::1",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "localhost", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "::1", 8000, cb, 20))},
			[]string{"installs tcp/8000 false " + b + ":8002"}},
		{"unresolved hostname is possible",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "gw.corp", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "10.0.0.6", 8000, cb, 20))},
			[]string{"installs tcp/8000 true " + b + ":8002"}},
		{"jmx always clashes whatever the host",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, jmx("10.0.0.5", 2020, ca, 50)),
				inst(b, "5.6.2", scan.StateStopped, jmx("10.0.0.6", 2020, cb, 60))},
			[]string{"installs tcp/2020 false " + b + ":2021"}},
		{"mover is the one not running even if older",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, ca, 10)),
				inst(b, "5.6.2", scan.StateRunning, lis("tcp", "0.0.0.0", 8000, cb, 20))},
			[]string{"installs tcp/8000 false " + a + ":8002"}},
		{"both stopped: the newer moves, whatever the order",
			[]scan.Install{inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, cb, 20)),
				inst(a, "4.0.9", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, ca, 10))},
			[]string{"installs tcp/8000 false " + b + ":8002"}},
		{"unknown release counts as oldest",
			[]scan.Install{inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, cb, 20)),
				inst(a, "", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, ca, 10))},
			[]string{"installs tcp/8000 false " + b + ":8002"}},
		{"two ports, two proposals never the same port",
			[]scan.Install{inst(a, "4.0.9", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, ca, 10), lis("tcp", "0.0.0.0", 8001, ca, 11), lis("tcp", "0.0.0.0", 8002, ca, 12)),
				inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, cb, 20), lis("tcp", "0.0.0.0", 8001, cb, 21))},
			[]string{"installs tcp/8000 false " + b + ":8003", "installs tcp/8001 false " + b + ":8004"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range Clashes(tt.installs, scan.Live{}, map[string][]string{}) {
				got = append(got, clashSummary(c))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Clashes =\n %q\nwant\n %q", got, tt.want)
			}
		})
	}
}

func clashSummary(c Clash) string {
	s := c.Kind + " " + c.Proto + "/" + itoa(c.Port) + " " + map[bool]string{true: "true", false: "false"}[c.Possible]
	if c.Remediation != nil {
		s += " " + c.Remediation.Home + ":" + itoa(c.Remediation.FreePort)
	}
	return s
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestClashDetails(t *testing.T) {
	a, b := "/opt/a", "/opt/b"
	installs := []scan.Install{
		inst(a, "4.0.9", scan.StateRunning, lis("tcp", "0.0.0.0", 8000, a+"/conf/gateway-config.xml", 10), lis("tcp", "localhost", 8000, a+"/conf/gateway-config.xml", 30)),
		inst(b, "5.6.2", scan.StateStopped, lis("tcp", "127.0.0.1", 8000, b+"/conf/gateway-config.xml", 20)),
	}
	cs := Clashes(installs, scan.Live{}, nil)
	if len(cs) != 1 {
		t.Fatalf("got %d clashes, want 1", len(cs))
	}
	c := cs[0]
	if !reflect.DeepEqual(c.Homes, []string{a, b}) {
		t.Errorf("homes = %v", c.Homes)
	}
	var lines []int
	for _, p := range c.Listeners {
		lines = append(lines, p.Listener.Line)
	}
	if !reflect.DeepEqual(lines, []int{10, 30, 20}) {
		t.Errorf("listener lines = %v, want [10 30 20] (a's listeners then b's)", lines)
	}
	r := c.Remediation
	want := &Remediation{Home: b, File: b + "/conf/gateway-config.xml", Line: 20, Port: 8000, FreePort: 8002,
		Message: "change tcp/8000 to port 8002 in /opt/b/conf/gateway-config.xml:20"}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("remediation =\n %+v\nwant\n %+v", r, want)
	}
}

func TestFreePort(t *testing.T) {
	used := map[protoPort]bool{{"tcp", 8002}: true, {"tcp", 8003}: true, {"udp", 8004}: true}
	tests := []struct {
		proto string
		port  int
		want  int
	}{
		{"tcp", 8000, 8004}, // 8001 avoided, 8002-8003 used; udp 8004 does not count
		{"udp", 8000, 8002},
		{"tcp", 2019, 2021}, // 2020 is JMX
		{"tcp", 80, 81},     // a privileged port may move to a privileged port
		{"tcp", 1023, 1024},
		{"tcp", 32000, 32001},
		{"tcp", 32767, 61000}, // the ephemeral range is skipped
		{"tcp", 65535, 0},
	}
	for _, tt := range tests {
		if got := freePort(tt.proto, tt.port, used); got != tt.want {
			t.Errorf("freePort(%s, %d) = %d, want %d", tt.proto, tt.port, got, tt.want)
		}
	}
}

// testLive is a host where nginx holds 0.0.0.0:8000 and [::]:8000, the 5.6.2
// gateway (pid 1234) holds its own 8001, and an unknown process holds 9000
// on 127.0.0.1.
func testLive() scan.Live {
	return scan.Live{Available: true,
		Processes: []scan.Process{{PID: 1234, Home: "/opt/b", SocketInodes: []uint64{31002}}},
		Sockets: []scan.Socket{
			{Proto: "tcp", Host: "0.0.0.0", Port: 8000, Inode: 31001, PID: 900, Command: "nginx"},
			{Proto: "tcp", Host: "::", Port: 8000, Inode: 31005, PID: 900, Command: "nginx"},
			{Proto: "tcp", Host: "::", Port: 8001, Inode: 31002, PID: 1234, Command: "java"},
			{Proto: "tcp", Host: "127.0.0.1", Port: 9000, Inode: 41001},
		}}
}

func TestClashesLive(t *testing.T) {
	b := "/opt/b"
	cfg := b + "/conf/gateway-config.xml"
	tests := []struct {
		name    string
		install scan.Install
		live    scan.Live
		want    []string
		owner   string // substring of the remediation of the first clash
	}{
		{"nginx holds 8000; the gateway's own 8001 is fine",
			inst(b, "5.6.2", scan.StateRunning, lis("tcp", "0.0.0.0", 8000, cfg, 10), lis("tcp", "0.0.0.0", 8001, cfg, 11)),
			testLive(), []string{"live tcp/8000 false " + b + ":8002"}, "stop nginx (pid 900), or change tcp/8000 to port 8002"},
		{"unknown owner on a literal address that does not overlap",
			inst(b, "5.6.2", scan.StateRunning, lis("tcp", "10.0.0.5", 9000, cfg, 12)),
			testLive(), nil, ""},
		{"unknown owner on an overlapping address",
			inst(b, "5.6.2", scan.StateStopped, lis("tcp", "localhost", 9000, cfg, 12)),
			testLive(), []string{"live tcp/9000 false " + b + ":9002"}, "run as root with --owners"},
		{"udp does not clash with tcp",
			inst(b, "5.6.2", scan.StateStopped, lis("udp", "0.0.0.0", 8000, cfg, 10)),
			testLive(), nil, ""},
		{"live state unavailable adds nothing",
			inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, cfg, 10)),
			scan.Live{Reason: "not linux"}, nil, ""},
		{"gateway fds unreadable: ownerless sockets are its own",
			inst(b, "5.6.2", scan.StateRunning, lis("tcp", "127.0.0.1", 9000, cfg, 12)),
			scan.Live{Available: true, Processes: []scan.Process{{PID: 1234, Home: b}},
				Sockets: []scan.Socket{{Proto: "tcp", Host: "127.0.0.1", Port: 9000, Inode: 41001}}}, nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cs := Clashes([]scan.Install{tt.install}, tt.live, nil)
			var got []string
			for _, c := range cs {
				got = append(got, clashSummary(c))
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("Clashes =\n %q\nwant\n %q", got, tt.want)
			}
			if tt.owner != "" && !strings.Contains(cs[0].Remediation.Message, tt.owner) {
				t.Errorf("remediation %q does not contain %q", cs[0].Remediation.Message, tt.owner)
			}
		})
	}
}

// TestClashesLiveOtherInstall: the running 4.0 gateway holds 8000, which the
// stopped 5.6.2 install also configures: that is reported once, as a clash
// between installs, not again as a port held by another process.
func TestClashesLiveOtherInstall(t *testing.T) {
	a, b := "/opt/a", "/opt/b"
	installs := []scan.Install{
		inst(a, "4.0.9", scan.StateRunning, lis("tcp", "0.0.0.0", 8000, a+"/conf/gateway-config.xml", 10)),
		inst(b, "5.6.2", scan.StateStopped, lis("tcp", "0.0.0.0", 8000, b+"/conf/gateway-config.xml", 20)),
	}
	live := scan.Live{Available: true,
		Processes: []scan.Process{{PID: 77, Home: a, SocketInodes: []uint64{5}}},
		Sockets:   []scan.Socket{{Proto: "tcp", Host: "::", Port: 8000, Inode: 5, PID: 77, Command: "java"}}}
	var got []string
	for _, c := range Clashes(installs, live, nil) {
		got = append(got, clashSummary(c))
	}
	want := []string{"installs tcp/8000 false " + b + ":8002"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Clashes = %q, want %q", got, want)
	}
}

// TestClashesBareConfigs: configuration files given alone have no home and
// are named by their path.
func TestClashesBareConfigs(t *testing.T) {
	bare := func(file string, l scan.Listener) scan.Install {
		return scan.Install{Layout: scan.LayoutConfig, Config: &scan.Config{Path: file}, Listeners: []scan.Listener{l}}
	}
	installs := []scan.Install{
		bare("/srv/a.xml", lis("tcp", "0.0.0.0", 8000, "/srv/a.xml", 5)),
		bare("/srv/b.xml", lis("tcp", "0.0.0.0", 8000, "/srv/b.xml", 6)),
	}
	live := scan.Live{Available: true, Sockets: []scan.Socket{{Proto: "tcp", Host: "0.0.0.0", Port: 8000, Inode: 9, PID: 42}}}
	cs := Clashes(installs, live, nil)
	var got []string
	for _, c := range cs {
		got = append(got, clashSummary(c)+" "+strings.Join(c.Homes, ","))
	}
	// b moves once: the install clash and its live clash name the same port.
	want := []string{
		"installs tcp/8000 false /srv/b.xml:8002 /srv/a.xml,/srv/b.xml",
		"live tcp/8000 false /srv/a.xml:8003 /srv/a.xml",
		"live tcp/8000 false /srv/b.xml:8002 /srv/b.xml",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Clashes =\n %q\nwant\n %q", got, want)
	}
	if !strings.HasPrefix(cs[1].Remediation.Message, "stop pid 42, or change") {
		t.Errorf("remediation = %q", cs[1].Remediation.Message)
	}
}
