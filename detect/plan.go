package detect

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
)

// The upgrade knowledge is data (Leapp's upgrade_paths.json, GitLab's
// upgrade_path.yml), versioned by its schema and tested row by row in
// plan_test.go. Changing what gwup says about a path means editing paths.json,
// not code.
//
//go:embed paths.json
var pathsJSON []byte

// Plan actions.
const (
	ActionUpgrade        = "upgrade"         // a documented path (possibly through Stops)
	ActionContactSupport = "contact-support" // documented, but only with KAAZING Support
	ActionNone           = "none"            // already at the target
	ActionDowngrade      = "downgrade"       // the target is older than the install
	ActionUnsupported    = "unsupported"     // no documented path, or the install's release is unknown
)

// Plan says how one install gets from its release to the target release.
type Plan struct {
	Home   string `json:"home"`
	From   string `json:"from"`
	To     string `json:"to"`
	Action string `json:"action"` // one of the Action* constants
	// Stops are the release lines to install on the way, in order ("4.0"
	// for 3.5.11 -> 5.6.2): a required stop cannot be skipped.
	Stops        []string `json:"stops"`
	ClientImpact string   `json:"client_impact"`
	Instructions string   `json:"instructions"` // a documentation link
	Source       string   `json:"source"`       // where the row comes from
	// Note explains an unsupported or unknown path with what is known.
	Note string `json:"note,omitempty"`
	// Blockers are the keys of the blocking findings of this install
	// (filled by Analyze; PlanUpgrade leaves it empty).
	Blockers []string `json:"blockers"`
}

// pathData is the shape of paths.json.
type pathData struct {
	Schema  string     `json:"schema"`
	Updated string     `json:"updated"`
	Lines   []lineData `json:"lines"`
	Rows    []pathRow  `json:"rows"`
}

type lineData struct {
	Line     string `json:"line"`
	MaxPatch int    `json:"max_patch"`
	Edition  string `json:"edition,omitempty"`
}

type pathRow struct {
	From         string   `json:"from"`
	To           string   `json:"to"`
	Action       string   `json:"action"`
	Stops        []string `json:"stops"`
	ClientImpact string   `json:"client_impact"`
	Instructions string   `json:"instructions"`
	Source       string   `json:"source"`
}

// PathsSchema is the schema of the embedded upgrade-path data; reports carry
// it so that a reader knows which knowledge produced a plan.
const PathsSchema = "gwup.upgrade-paths/v1"

var paths = mustLoadPaths(pathsJSON)

// mustLoadPaths parses the embedded data. It panics on a defect of the data
// file itself, which the tests catch before any release; it never sees input.
func mustLoadPaths(data []byte) pathData {
	var d pathData
	if err := json.Unmarshal(data, &d); err != nil {
		panic("detect: paths.json: " + err.Error())
	}
	if d.Schema != PathsSchema {
		panic("detect: paths.json: schema " + d.Schema + ", want " + PathsSchema)
	}
	for i, r := range d.Rows {
		for _, rng := range []string{r.From, r.To} {
			if _, err := parseRange(rng); err != nil {
				panic(fmt.Sprintf("detect: paths.json row %d: %v", i, err))
			}
		}
		if r.Stops == nil {
			d.Rows[i].Stops = []string{}
		}
	}
	return d
}

// PathsUpdated is the date the embedded upgrade-path data was last reviewed.
func PathsUpdated() string { return paths.Updated }

// KnownRelease reports whether v is a release the embedded data knows: its
// line is listed and its patch is not above the highest seen. A release line
// alone ("5.0") and release candidates of known releases count;
// develop-SNAPSHOT and anything unparsable do not. The CLI uses it to refuse a
// --to that gwup cannot reason about (Pluto#434: a nonsense target accepted
// silently).
func KnownRelease(v string) bool {
	r, ok := parseRelease(v)
	if !ok || r.snapshot {
		return false
	}
	for _, l := range paths.Lines {
		if l.Line != r.line() {
			continue
		}
		return r.n < 3 || l.MaxPatch < 0 || r.parts[2] <= l.MaxPatch
	}
	return false
}

// latestKnown is the newest release the data lists, for messages.
func latestKnown() string {
	last := paths.Lines[len(paths.Lines)-1]
	if last.MaxPatch < 0 {
		return last.Line
	}
	return last.Line + "." + strconv.Itoa(last.MaxPatch)
}

// PlanUpgrade plans the upgrade of an install at release from to release to.
// It returns an error only when to is not a known release (malformed,
// develop-SNAPSHOT, or newer than the data): that is a usage error. An
// unknown or unparsable from gives a Plan with action unsupported and a Note
// saying which releases can reach to.
func PlanUpgrade(from, to string) (Plan, error) {
	target, ok := parseRelease(to)
	switch {
	case !ok:
		return Plan{}, fmt.Errorf("plan upgrade to %q: not a release number (want e.g. 5.6.2 or 4.0.9)", to)
	case target.snapshot:
		return Plan{}, fmt.Errorf("plan upgrade to %s: a development build is not a release", to)
	case !KnownRelease(to):
		return Plan{}, fmt.Errorf("plan upgrade to %s: unknown release (the upgrade data knows releases up to %s, reviewed %s)", to, latestKnown(), paths.Updated)
	}
	plan := Plan{From: from, To: target.String(), Stops: []string{}, Blockers: []string{}}

	current, ok := parseRelease(from)
	switch {
	case !ok:
		plan.Action = ActionUnsupported
		plan.Note = "the installed release is unknown; " + reachableFrom(target)
		return plan, nil
	case current.snapshot:
		plan.Action = ActionUnsupported
		plan.Note = "develop-SNAPSHOT is a development build with no upgrade path; " + reachableFrom(target)
		return plan, nil
	}
	switch c := current.compare(target); {
	case c == 0 && current.n < target.n:
		// "4.0" (a README, a folder name) is a line, not a release: the
		// install may be any 4.0.x, older than the target. Plan it as an
		// upgrade within the line and say why.
		plan.Note = fmt.Sprintf("only the release line %s of the install is known; planned as an upgrade within it", current)
	case c == 0:
		plan.Action = ActionNone
		plan.Note = "the install is already at " + target.String()
		return plan, nil
	case c > 0:
		plan.Action = ActionDowngrade
		plan.Note = fmt.Sprintf("%s is older than the installed %s; no downgrade path is documented", target, current)
		return plan, nil
	}
	for _, row := range paths.Rows {
		if matchRange(row.From, current) && matchRange(row.To, target) {
			plan.Action = row.Action
			plan.Stops = append([]string{}, row.Stops...)
			plan.ClientImpact = row.ClientImpact
			plan.Instructions = row.Instructions
			plan.Source = row.Source
			return plan, nil
		}
	}
	plan.Action = ActionUnsupported
	plan.Note = fmt.Sprintf("no documented path from %s to %s; %s", current.line(), target.line(), reachableFrom(target))
	return plan, nil
}

// reachableFrom lists the from ranges of the rows that lead to target.
func reachableFrom(target release) string {
	var from []string
	for _, row := range paths.Rows {
		if matchRange(row.To, target) {
			from = append(from, strings.ReplaceAll(row.From, " || ", ", "))
		}
	}
	if len(from) == 0 {
		return "no documented path leads to " + target.String()
	}
	return "documented paths to " + target.String() + " start from " + strings.Join(from, "; ")
}

// versionRange is one alternative of a range: a line ("3.5.x"), a major
// ("5.x"), or every line up to one ("<=3.2.x").
type versionRange struct {
	major, minor int // minor < 0: every minor of major
	upTo         bool
}

// parseRange parses "A.B.x", "A.x", "<=A.B.x", joined by " || ".
func parseRange(s string) ([]versionRange, error) {
	var out []versionRange
	for _, alt := range strings.Split(s, "||") {
		alt = strings.TrimSpace(alt)
		var r versionRange
		rest, upTo := strings.CutPrefix(alt, "<=")
		r.upTo = upTo
		fields := strings.Split(rest, ".")
		if fields[len(fields)-1] != "x" || len(fields) < 2 || len(fields) > 3 {
			return nil, fmt.Errorf("range %q: want A.B.x, A.x or <=A.B.x", alt)
		}
		var err error
		if r.major, err = strconv.Atoi(fields[0]); err != nil {
			return nil, fmt.Errorf("range %q: %w", alt, err)
		}
		r.minor = -1
		if len(fields) == 3 {
			if r.minor, err = strconv.Atoi(fields[1]); err != nil {
				return nil, fmt.Errorf("range %q: %w", alt, err)
			}
		}
		if r.upTo && r.minor < 0 {
			return nil, fmt.Errorf("range %q: <= needs a line A.B.x", alt)
		}
		out = append(out, r)
	}
	return out, nil
}

func matchRange(s string, v release) bool {
	ranges, err := parseRange(s)
	if err != nil || v.snapshot {
		return false
	}
	major, minor := v.parts[0], v.parts[1]
	for _, r := range ranges {
		switch {
		case r.upTo:
			if major < r.major || major == r.major && minor <= r.minor {
				return true
			}
		case r.minor < 0:
			if major == r.major {
				return true
			}
		default:
			if major == r.major && minor == r.minor {
				return true
			}
		}
	}
	return false
}
