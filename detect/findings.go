package detect

import (
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"

	"github.com/kaazing-tools/gwup/scan"
)

// Severities.
const (
	SeverityError   = "error"
	SeverityWarning = "warning"
	SeverityInfo    = "info"
)

// Finding keys. They are stable API: scripts and waivers name them.
const (
	KeyPortClash               = "port-clash"                      // two installs bind the same socket
	KeyPortClashPossible       = "port-clash-possible"             // they may, depending on name resolution
	KeyPortHeld                = "port-held-by-other-process"      // a port an install needs is taken now
	KeyPathUnsupported         = "path-unsupported"                // no documented upgrade path
	KeyPathContactSupport      = "path-contact-support"            // the path needs KAAZING Support
	KeyPathRequiredStop        = "path-required-stop"              // the path goes through another release first
	KeyDowngrade               = "downgrade"                       // the target is older than the install
	KeyNamespaceUntranslatable = "config-namespace-untranslatable" // 2012/09 or older config on a 5.x target
	KeyServiceTypeRemoved      = "service-type-removed"            // management.snmp / session on 5.2.0+
	KeyPropertyUnresolved      = "property-unresolved"             // a ${name} the scan could not resolve
	KeyInstallRunning          = "install-running"                 // an in-place upgrade of a running gateway
	KeyReleaseUnknown          = "release-unknown"                 // the install's (or target's) release is unknown
	KeyScanProblem             = "scan-problem"                    // a scan problem that carried no key
	KeyLiveStateUnavailable    = "live-state-unavailable"          // /proc could not be read
	KeyWaiverExpired           = "waiver-expired"                  // a waiver given is past its date
	KeyWaiverIgnored           = "waiver-ignored"                  // a waiver named a mandatory finding
)

// Location is a place in a file that a finding points at.
type Location struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Finding is one thing an operator should know before upgrading, in the
// shape of Leapp's report entries: a stable key, a severity, whether it
// blocks the upgrade, a remediation and the evidence.
type Finding struct {
	Key      string `json:"key"`
	Severity string `json:"severity"` // error, warning or info
	// Blocker findings stop the upgrade until fixed, waived or forced.
	Blocker bool `json:"blocker"`
	// Mandatory blockers yield to nothing: --force does not demote them and
	// a waiver does not waive them (kubeadm's policy for unsafe version skew).
	Mandatory bool   `json:"mandatory"`
	Home      string `json:"home"`
	// Related are the other installs a finding involves (the other side
	// of a clash); their plans list it among their blockers too.
	Related     []string   `json:"related_homes,omitempty"`
	Message     string     `json:"message"`
	Remediation string     `json:"remediation,omitempty"`
	Docs        string     `json:"docs,omitempty"`
	Evidence    []Location `json:"evidence"`
	// Forced is set on a blocker that --force demoted to a warning.
	Forced bool `json:"forced,omitempty"`
	// Waived findings stay in the report; they never fail a run.
	Waived      bool   `json:"waived"`
	WaivedUntil string `json:"waived_until,omitempty"` // YYYY-MM-DD, "" for no expiry
}

// Waiver accepts the findings of one key. Until is the last day (UTC) it
// holds; the zero time means no expiry.
type Waiver struct {
	Key   string
	Until time.Time
}

// String renders the waiver in the form ParseWaiver reads.
func (w Waiver) String() string {
	if w.Until.IsZero() {
		return w.Key
	}
	return w.Key + "@until=" + w.Until.Format(time.DateOnly)
}

// expired reports whether now is past the end of the waiver's last day.
func (w Waiver) expired(now time.Time) bool {
	return !w.Until.IsZero() && !now.Before(w.Until.AddDate(0, 0, 1))
}

var keyPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ParseWaiver reads "KEY" or "KEY@until=YYYY-MM-DD" (a --waive value, or a
// line of a waiver file). Expiring waivers are the norm in Trivy's ignore
// files: a waiver that is forgotten stops hiding the finding on its own.
func ParseWaiver(s string) (Waiver, error) {
	key, opt, hasOpt := strings.Cut(strings.TrimSpace(s), "@")
	if !keyPattern.MatchString(key) {
		return Waiver{}, fmt.Errorf("parse waiver %q: key must be lower-case letters, digits, '.', '_' or '-'", s)
	}
	w := Waiver{Key: key}
	if !hasOpt {
		return w, nil
	}
	date, ok := strings.CutPrefix(opt, "until=")
	if !ok {
		return Waiver{}, fmt.Errorf("parse waiver %q: want KEY or KEY@until=YYYY-MM-DD", s)
	}
	until, err := time.Parse(time.DateOnly, date)
	if err != nil {
		return Waiver{}, fmt.Errorf("parse waiver %q: %w", s, err)
	}
	w.Until = until
	return w, nil
}

// ParseWaivers reads a waiver file: one ParseWaiver value per line, blank
// lines and "#" comments ignored, so that a fleet can keep its accepted
// findings, with their reasons and dates, next to its hosts. Errors name the
// line.
func ParseWaivers(data []byte) ([]Waiver, error) {
	var out []Waiver
	for i, line := range strings.Split(string(data), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if strings.TrimSpace(line) == "" {
			continue
		}
		w, err := ParseWaiver(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		out = append(out, w)
	}
	return out, nil
}

// Input is everything Analyze looks at.
type Input struct {
	Installs []scan.Install
	Live     scan.Live
	Hosts    map[string][]string
	// Target is the release to upgrade to ("" for none: no plans, no
	// target-dependent findings).
	Target string
	// Force demotes blockers that are not mandatory to warnings.
	Force   bool
	Waivers []Waiver
	// Now decides waiver expiry; the zero time means time.Now().
	Now time.Time
}

// Result is what Analyze found.
type Result struct {
	Clashes  []Clash   `json:"clashes"`
	Findings []Finding `json:"findings"`
	Plans    []Plan    `json:"plans"`
}

// Analyze turns scanned installs, live state and an optional target release
// into clashes, upgrade plans and findings, sorted by SortFindings.
//
// Install problems become findings keyed by the problem's own key, so that
// a waiver or a script names exactly the problem ("config-unreadable"), with
// severity warning; "property-unresolved" (and "unresolved-property") map to
// KeyPropertyUnresolved, and a problem without key to KeyScanProblem with
// severity warning.
func Analyze(in Input) Result {
	now := in.Now
	if now.IsZero() {
		now = time.Now()
	}
	res := Result{Clashes: Clashes(in.Installs, in.Live, in.Hosts), Findings: []Finding{}, Plans: []Plan{}}
	byName := map[string]scan.Install{}
	for _, inst := range in.Installs {
		byName[installName(inst)] = inst
	}
	for _, c := range res.Clashes {
		f := clashFinding(c, byName, in.Live)
		if in.Target != "" && f.Key == KeyPortClash {
			// Planning an upgrade means running the new release, beside the
			// old one or instead of it next to others: a clash then stops
			// the gateway from starting.
			f.Blocker = true
		}
		res.Findings = append(res.Findings, f)
	}
	if !in.Live.Available {
		reason := in.Live.Reason
		if reason == "" {
			reason = "live state was not read"
		}
		res.Findings = append(res.Findings, Finding{Key: KeyLiveStateUnavailable, Severity: SeverityInfo,
			Message:     "ports held by running processes were not checked: " + reason,
			Remediation: "run gwup on the Linux host itself (not on a sysroot image) to compare with live sockets"})
	}
	for _, inst := range in.Installs {
		res.Findings = append(res.Findings, problemFindings(inst)...)
	}

	if in.Target != "" {
		if _, err := PlanUpgrade("", in.Target); err != nil {
			res.Findings = append(res.Findings, Finding{Key: KeyReleaseUnknown, Severity: SeverityError, Blocker: true,
				Message: err.Error(), Remediation: "name a known release with --to (e.g. 5.6.2)"})
		} else {
			target, _ := parseRelease(in.Target)
			for _, inst := range in.Installs {
				if inst.Layout != scan.LayoutConfig {
					plan, pf := planFindings(inst, in.Target, in.Live)
					res.Plans = append(res.Plans, plan)
					res.Findings = append(res.Findings, pf...)
				}
				res.Findings = append(res.Findings, targetFindings(inst, target)...)
			}
		}
	}

	res.Findings = applyPolicy(res.Findings, in.Force, in.Waivers, now)
	SortFindings(res.Findings)
	for i := range res.Plans {
		for _, f := range res.Findings {
			concerned := f.Home == res.Plans[i].Home || containsString(f.Related, res.Plans[i].Home)
			if concerned && f.Blocker && !f.Waived && !containsString(res.Plans[i].Blockers, f.Key) {
				res.Plans[i].Blockers = append(res.Plans[i].Blockers, f.Key)
			}
		}
	}
	return res
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// clashFinding describes a clash. Between installs it is an error unless
// every one of them is known to be stopped: when one runs, the other cannot
// start, and when gwup cannot see (state unknown, as on a sysroot) it must
// not assume the best. Between stopped installs it is a warning: they only
// cannot run together (rocketdoo#125 treats stopped siblings the same way).
// A port held now by another process blocks the install's start.
func clashFinding(c Clash, byName map[string]scan.Install, live scan.Live) Finding {
	f := Finding{Home: c.Homes[0], Docs: "https://kaazing.com/doc/5.0/upgrade/c_upgrade_gw/"}
	if c.Remediation != nil {
		f.Home = c.Remediation.Home
		f.Remediation = c.Remediation.Message
	}
	for _, h := range c.Homes {
		if h != f.Home {
			f.Related = append(f.Related, h)
		}
	}
	var binds []string
	for _, p := range c.Listeners {
		f.Evidence = append(f.Evidence, Location{File: p.Listener.File, Line: p.Listener.Line})
		binds = append(binds, fmt.Sprintf("%s binds %s (%s)", p.Home, p.Listener.Addr(), p.Listener.Service))
	}
	switch c.Kind {
	case ClashLive:
		f.Key = KeyPortHeld
		f.Message = fmt.Sprintf("%s/%d is held now by %s: %s", c.Proto, c.Port, ownerText(c.HeldBy), strings.Join(binds, "; "))
		f.Severity, f.Blocker = SeverityError, true
		if c.Possible {
			f.Severity, f.Blocker = SeverityWarning, false
		}
	default:
		f.Key = KeyPortClash
		f.Message = fmt.Sprintf("%s/%d is bound by %d installs: %s", c.Proto, c.Port, len(c.Homes), strings.Join(binds, "; "))
		f.Severity = SeverityWarning
		for _, h := range c.Homes {
			if in := byName[h]; isRunning(in, live) || in.State != scan.StateStopped {
				f.Severity = SeverityError
			}
		}
		if c.Possible {
			f.Key, f.Severity = KeyPortClashPossible, SeverityWarning
		}
	}
	if c.Possible {
		f.Message += " (possible: " + c.Reason + ")"
	}
	return f
}

// problemErrors are the scan problems that stop the Gateway from starting,
// or keep gwup from knowing what it would bind: errors, not warnings.
var problemErrors = map[string]bool{
	"config-missing": true, "config-unreadable": true, "config-too-large": true,
	"config-empty": true, "config-malformed": true, "config-doctype": true,
	"config-trailing-content": true, "config-root-unexpected": true,
	"config-namespace-unknown": true, "config-namespace-com": true,
	"config-port-conflict": true, "config-none": true,
	KeyPropertyUnresolved: true, "listener-uri-invalid": true,
	"listener-port-missing": true, "listener-port-invalid": true,
	"listener-host-invalid": true,
}

// problemFindings turns an install's scan problems into findings.
func problemFindings(inst scan.Install) []Finding {
	var out []Finding
	for _, p := range inst.Problems {
		key := strings.ToLower(strings.TrimSpace(p.Key))
		switch key {
		case "":
			key = KeyScanProblem
		case "property-unresolved", "unresolved-property":
			key = KeyPropertyUnresolved
		}
		severity := SeverityWarning
		if problemErrors[key] {
			severity = SeverityError
		}
		f := Finding{Key: key, Severity: severity, Home: installName(inst), Message: p.Message}
		if key == KeyPropertyUnresolved {
			f.Remediation = "define the property in <properties> or pass -Dname=value (gwup --define) so that its port is checked"
		}
		if p.Path != "" {
			f.Evidence = []Location{{File: p.Path, Line: p.Line}}
		}
		out = append(out, f)
	}
	return out
}

// planFindings plans one install's upgrade and raises the path findings.
func planFindings(inst scan.Install, targetText string, live scan.Live) (Plan, []Finding) {
	name := installName(inst)
	plan, _ := PlanUpgrade(inst.Release, targetText) // the target was checked by the caller
	plan.Home = name
	from, at := " from "+plan.From, fmt.Sprintf(" is at %s;", plan.From)
	if name == "" { // gwup plan --from: a release, not an install
		name, from, at = "release "+inst.Release, "", ":"
	}
	f := Finding{Home: plan.Home, Docs: plan.Instructions, Severity: SeverityError, Blocker: true}
	for _, e := range inst.Evidence {
		f.Evidence = append(f.Evidence, Location{File: e.Path, Line: e.Line})
	}
	var out []Finding
	_, knownFrom := parseRelease(inst.Release)
	switch {
	case plan.Action == ActionUnsupported && !knownFrom:
		f.Key = KeyReleaseUnknown
		f.Message = fmt.Sprintf("the release of %s is unknown (%q), so no upgrade path to %s can be checked", name, inst.Release, plan.To)
		f.Remediation = "check the release in the startup log or lib/*.jar MANIFEST.MF (Implementation-Version)"
		out = append(out, f)
	case plan.Action == ActionUnsupported:
		f.Key = KeyPathUnsupported
		f.Message = fmt.Sprintf("upgrading %s%s to %s is not a documented path: %s", name, from, plan.To, plan.Note)
		f.Remediation = "choose a target the documentation supports, or contact KAAZING Support"
		out = append(out, f)
	case plan.Action == ActionContactSupport:
		f.Key = KeyPathContactSupport
		f.Message = fmt.Sprintf("upgrading %s%s to %s needs KAAZING Support", name, from, plan.To)
		f.Remediation = "contact KAAZING Support (" + plan.Instructions + ")"
		out = append(out, f)
	case plan.Action == ActionDowngrade:
		f.Key, f.Mandatory = KeyDowngrade, true
		f.Message = fmt.Sprintf("%s%s %s", name, at, plan.Note)
		f.Remediation = "choose a target newer than the installed release"
		out = append(out, f)
	case plan.Action == ActionUpgrade && len(plan.Stops) > 0:
		f.Key, f.Mandatory = KeyPathRequiredStop, true
		f.Message = fmt.Sprintf("%s cannot go%s to %s directly: upgrade to %s first", name, from, plan.To, strings.Join(plan.Stops, ", then "))
		f.Remediation = fmt.Sprintf("run gwup with --to %s, upgrade, then plan %s again", latestOfLine(plan.Stops[0]), plan.To)
		out = append(out, f)
	}
	inPlace := inst.Layout == scan.LayoutArchive || inst.Layout == scan.LayoutDocker
	if plan.Action != ActionNone && inPlace && isRunning(inst, live) {
		pid := inst.PID
		if p := findProcess(inst, live); p != nil {
			pid = p.PID
		}
		r := Finding{Key: KeyInstallRunning, Severity: SeverityError, Blocker: true, Home: plan.Home,
			Message:     fmt.Sprintf("%s is running (pid %d) and an upgrade unpacks the new release over it", name, pid),
			Remediation: "stop the gateway before the upgrade (the documented procedure starts with stopping it)",
			Docs:        "https://kaazing.com/doc/5.0/upgrade/c_upgrade_gw/"}
		if pid == 0 {
			r.Message = fmt.Sprintf("%s is running and an upgrade unpacks the new release over it", name)
		}
		out = append(out, r)
	}
	return plan, out
}

// latestOfLine is the newest known release of a line, for a --to hint.
func latestOfLine(line string) string {
	for _, l := range paths.Lines {
		if l.Line == line && l.MaxPatch >= 0 {
			return fmt.Sprintf("%s.%d", line, l.MaxPatch)
		}
	}
	return line
}

// untranslatableNamespaces are the gateway-config namespaces (kaazing-facts
// §0) that community 5.x recognises but does not translate: its translators
// start at 2014/09 (CommunityGatewayConfigTranslatorFactorySpi). Enterprise
// Edition 5.x still accepts 2012/09 (EE 5.7.3 ships 2012/09 samples).
var untranslatableNamespaces = []string{
	"http://xmlns.kaazing.org/gateway-config/battlestar",
	"http://xmlns.kaazing.com/gateway-config/dragonfire",
	"http://xmlns.kaazing.com/gateway-config/excalibur",
	"http://xmlns.kaazing.com/2012/03/gateway",
	"http://xmlns.kaazing.com/2012/08/gateway",
	"http://xmlns.kaazing.com/2012/09/gateway",
}

// removedServiceTypes are rejected at startup from 5.2.0 ("snmp management
// type is no longer supported", kaazing/gateway commit 4dfcaf84f).
var removedServiceTypes = map[string]bool{"management.snmp": true, "session": true}

var release520, _ = parseRelease("5.2.0")

// targetFindings checks an install's configuration against the target.
func targetFindings(inst scan.Install, target release) []Finding {
	var out []Finding
	name := installName(inst)
	if target.parts[0] >= 5 && inst.Config != nil && isUntranslatable(inst.Config.Namespace) {
		f := Finding{Key: KeyNamespaceUntranslatable, Home: name, Evidence: []Location{{File: inst.Config.Path}},
			Docs: "https://kaazing.com/doc/5.0/upgrade/c_upgrade_gw/"}
		if strings.Contains(strings.ToLower(inst.Edition), "enterprise") {
			// EE 5.x still reads 2012/09 configs (it ships samples in it).
			f.Severity = SeverityWarning
			f.Message = fmt.Sprintf("%s uses namespace %s: Enterprise Edition %s translates it, Community Edition does not start with it", inst.Config.Path, inst.Config.Namespace, target)
		} else {
			// 4.x editions (JMS, HTML5) move to Community or Enterprise 5.x;
			// only Enterprise translates the old namespace, so without knowing
			// the target's edition this blocks (--force when it is Enterprise).
			f.Severity, f.Blocker = SeverityError, true
			f.Message = fmt.Sprintf("%s uses namespace %s, which Community Edition %s does not translate: the gateway will not start (Enterprise Edition does translate it)", inst.Config.Path, inst.Config.Namespace, target)
		}
		f.Remediation = "rewrite the configuration in the http://xmlns.kaazing.org/2014/09/gateway namespace (or later), or upgrade to Enterprise Edition"
		out = append(out, f)
	}
	if target.compare(release520) >= 0 {
		for _, s := range inst.Services {
			if !removedServiceTypes[s.Type] {
				continue
			}
			out = append(out, Finding{Key: KeyServiceTypeRemoved, Severity: SeverityError, Blocker: true, Home: name,
				Message:     fmt.Sprintf("service %q has type %s, which %s rejects at startup (removed in 5.2.0)", s.Name, s.Type, target),
				Remediation: fmt.Sprintf("remove the %s service from %s before starting %s", s.Type, s.File, target),
				Evidence:    []Location{{File: s.File, Line: s.Line}}})
		}
	}
	return out
}

func isUntranslatable(ns string) bool {
	ns = strings.TrimSuffix(strings.TrimSpace(ns), "/")
	for _, u := range untranslatableNamespaces {
		if strings.EqualFold(ns, u) {
			return true
		}
	}
	return false
}

// applyPolicy applies --force and the waivers. Force demotes every blocker
// that is not mandatory to a warning (marked forced). A waiver marks the
// findings of its key waived until its date; an expired waiver waives
// nothing and says so in an info finding; a waiver of a mandatory finding is
// ignored, also with an info finding.
func applyPolicy(findings []Finding, force bool, waivers []Waiver, now time.Time) []Finding {
	for i := range findings {
		f := &findings[i]
		if force && f.Blocker && !f.Mandatory {
			f.Blocker, f.Forced = false, true
			if f.Severity == SeverityError {
				f.Severity = SeverityWarning
			}
		}
	}
	var extra []Finding
	ignored := map[string]bool{}
	for _, w := range waivers {
		if w.expired(now) {
			extra = append(extra, Finding{Key: KeyWaiverExpired, Severity: SeverityInfo,
				Message:     fmt.Sprintf("the waiver %s expired on %s and waives nothing", w, w.Until.Format(time.DateOnly)),
				Remediation: "fix the findings of " + w.Key + ", or renew the waiver with a new date"})
			continue
		}
		for i := range findings {
			f := &findings[i]
			if f.Key != w.Key {
				continue
			}
			if f.Mandatory {
				if !ignored[w.Key] {
					ignored[w.Key] = true
					extra = append(extra, Finding{Key: KeyWaiverIgnored, Severity: SeverityInfo,
						Message: fmt.Sprintf("the waiver %s is ignored: %s findings are mandatory and cannot be waived", w, w.Key)})
				}
				continue
			}
			until := ""
			if !w.Until.IsZero() {
				until = w.Until.Format(time.DateOnly)
			}
			// Of several waivers for one key the longest-lived wins.
			if !f.Waived || until == "" || (f.WaivedUntil != "" && until > f.WaivedUntil) {
				f.WaivedUntil = until
			}
			f.Waived = true
		}
	}
	return append(findings, extra...)
}

// severityRank orders severities, most severe first.
func severityRank(s string) int {
	switch s {
	case SeverityError:
		return 0
	case SeverityWarning:
		return 1
	case SeverityInfo:
		return 2
	}
	return 3
}

// SortFindings orders findings for reading: unwaived before waived, then
// blockers, then errors, warnings and info. Equal findings keep their order
// (clashes, then scan problems, then path findings, install by install).
func SortFindings(findings []Finding) {
	sort.SliceStable(findings, func(i, j int) bool {
		a, b := findings[i], findings[j]
		if a.Waived != b.Waived {
			return !a.Waived
		}
		if a.Blocker != b.Blocker {
			return a.Blocker
		}
		return severityRank(a.Severity) < severityRank(b.Severity)
	})
}

// ExitFindings reports whether findings should fail the run: with failOn
// "error", any unwaived error or blocker; with "warning", also any unwaived
// warning; with "never", nothing. Waived findings never count. Any other
// failOn is treated as "error" (the CLI validates the flag).
func ExitFindings(findings []Finding, failOn string) bool {
	if failOn == "never" {
		return false
	}
	limit := severityRank(SeverityError)
	if failOn == SeverityWarning {
		limit = severityRank(SeverityWarning)
	}
	for _, f := range findings {
		if f.Waived {
			continue
		}
		if f.Blocker || severityRank(f.Severity) <= limit {
			return true
		}
	}
	return false
}
