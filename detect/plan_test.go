package detect

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseRelease(t *testing.T) {
	tests := []struct {
		in   string
		ok   bool
		want string
	}{
		{"4.0.9.383", true, "4.0.9.383"},
		{"5.6.2", true, "5.6.2"},
		{"5.0", true, "5.0"},
		{"v5.1.0", true, "5.1.0"},
		{"5.6.0-RC001", true, "5.6.0-RC001"},
		{"5.6.0-rc001", true, "5.6.0-RC001"},
		{"develop-SNAPSHOT", true, "develop-SNAPSHOT"},
		{"", false, ""},
		{"5", false, ""},
		{"5.x", false, ""},
		{"5.6.2.1.9", false, ""},
		{"5..2", false, ""},
		{"5.6.2-", false, ""},
		{"5.-1", false, ""},
		{"5.+1", false, ""},
		{"4.0.9 (JMS)", false, ""},
	}
	for _, tt := range tests {
		r, ok := parseRelease(tt.in)
		if ok != tt.ok || (ok && r.String() != tt.want) {
			t.Errorf("parseRelease(%q) = %q, %v; want %q, %v", tt.in, r.String(), ok, tt.want, tt.ok)
		}
	}
}

func TestReleaseCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"3.5.10", "3.5.11", -1},
		{"3.5.11", "3.5.11", 0},
		{"4.0.9", "3.5.11", 1},
		{"4.0.9.383", "4.0.9.626", -1}, // builds differ per edition; both 4-part, compared
		{"4.0.9", "4.0.9.383", 0},      // only the parts both give
		{"5.0", "5.0.1.55", 0},         // a line holds its releases
		{"5.10.0", "5.9.9", 1},         // numeric, not lexical
		{"5.6.0-RC001", "5.6.0", -1},
		{"5.6.0-RC001", "5.6.0-RC003", -1},
		{"5.6.0-RC003", "5.5.0", 1},
		{"develop-SNAPSHOT", "5.8.22", 1},
		{"5.8.22", "develop-SNAPSHOT", -1},
		{"develop-SNAPSHOT", "develop-SNAPSHOT", 0},
	}
	for _, tt := range tests {
		a, _ := parseRelease(tt.a)
		b, _ := parseRelease(tt.b)
		if got := a.compare(b); got != tt.want {
			t.Errorf("compare(%s, %s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

const (
	doc408  = "https://download.kaazing.com/com/download/gateway/4.0.8.346/kaazing-websocket-gateway-4.0.8-doc.zip"
	doc5    = "https://kaazing.com/doc/5.0/upgrade/c_upgrade_gw/"
	support = "http://kaazing.com/services/"
)

// TestPlanSeedTable pins every row of the seed table (4.0.8 documentation and
// the 5.x documentation) and the edges around it.
func TestPlanSeedTable(t *testing.T) {
	tests := []struct {
		name, from, to string
		action         string
		stops          []string
		impact         string // a substring of client_impact
		instructions   string
	}{
		// 3.2 or earlier -> 4.0.x: contact KAAZING Support.
		{"3.2 to 4.0", "3.2.9", "4.0.9", ActionContactSupport, nil, "Contact KAAZING Support", support},
		{"3.0 to 4.0", "3.0.1", "4.0.3", ActionContactSupport, nil, "Contact KAAZING Support", support},
		// 3.3.x/3.4.x -> 3.5.x: recompilation might be necessary, no code changes.
		{"3.3 to 3.5", "3.3.0", "3.5.11", ActionUpgrade, nil, "Recompilation of the KAAZING client code might be necessary, but code changes are not required", doc408},
		{"3.4 to 3.5", "3.4.1", "3.5.11", ActionUpgrade, nil, "code changes are not required", doc408},
		// 3.5.x -> 3.5.y: no client changes or recompilation.
		{"3.5 patch", "3.5.10", "3.5.11", ActionUpgrade, nil, "No code changes or recompilation", doc408},
		// 3.3.x/3.4.x/3.5.x -> 4.0.x: see client backward compatibility.
		{"3.3 to 4.0", "3.3.0", "4.0.9", ActionUpgrade, nil, "clients written with the 3.3 or later APIs keep working on 4.0", doc408},
		{"3.4 to 4.0", "3.4.1", "4.0.3", ActionUpgrade, nil, "legacy Flash, .NET and Silverlight clients need no migration", doc408},
		{"3.5 to 4.0", "3.5.11", "4.0.3", ActionUpgrade, nil, "your own WebSocket clients", doc408},
		{"3.5 to 4.0 java/js", "3.5.11", "4.0.8", ActionUpgrade, nil, "migrate Java and JavaScript clients", doc408},
		// 4.0.x -> 5.0.x (5.x docs).
		{"4.0 to 5.0", "4.0.9.383", "5.0.1", ActionUpgrade, nil, "SPI packages move from com.kaazing to org.kaazing", doc5},
		{"4.0 to 5.0 line", "4.0.5", "5.0", ActionUpgrade, nil, "2014/09", doc5},
		// 3.x must reach 4.x first.
		{"3.5 to 5.x", "3.5.11", "5.6.2", ActionUpgrade, []string{"4.0"}, "Upgrade to 4.0.x first", doc5},
		{"3.3 to 5.0", "3.3.0", "5.0.0", ActionUpgrade, []string{"4.0"}, "Upgrade to 4.0.x first", doc5},
		{"3.2 to 5.x", "3.2.9", "5.6.2", ActionContactSupport, []string{"4.0"}, "Contact KAAZING Support", support},
		// Decided from the facts.
		{"4.0 to 5.6", "4.0.9", "5.6.2", ActionUpgrade, nil, "Community 5.x does not translate a 2012/09", doc5},
		{"5.0 to 5.6", "5.0.1.55", "5.6.2", ActionUpgrade, nil, "5.2.3 and later 2016/06", doc5},
		{"5.1 to 5.2", "5.1.2", "5.2.3", ActionUpgrade, nil, "management.snmp and session", doc5},
		{"5.6 RC to 5.6", "5.6.0-RC001", "5.6.0", ActionUpgrade, nil, "None stated", doc5},
		{"5.6 to EE 5.8", "5.6.2", "5.8.22", ActionUpgrade, nil, "None stated", doc5},
		{"4.0 patch", "4.0.5", "4.0.7", ActionUpgrade, nil, "patch release", doc5},
		{"3.3 to 3.4", "3.3.0", "3.4.1", ActionUpgrade, nil, "Not stated", doc408},
		// Edges.
		{"same release", "3.5.11", "3.5.11", ActionNone, nil, "", ""},
		{"same release other build", "4.0.9.383", "4.0.9", ActionNone, nil, "", ""},
		{"same line", "5.0.1.55", "5.0", ActionNone, nil, "", ""},
		{"downgrade", "4.0.9", "3.5.11", ActionDowngrade, nil, "", ""},
		{"downgrade in 5.x", "5.6.2", "5.1.0", ActionDowngrade, nil, "", ""},
		{"3.2 to 3.5 undocumented", "3.2.9", "3.5.11", ActionUnsupported, nil, "", ""},
		{"unknown from", "", "5.6.2", ActionUnsupported, nil, "", ""},
		{"garbage from", "four", "5.6.2", ActionUnsupported, nil, "", ""},
		{"snapshot from", "develop-SNAPSHOT", "5.6.2", ActionUnsupported, nil, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := PlanUpgrade(tt.from, tt.to)
			if err != nil {
				t.Fatalf("PlanUpgrade(%q, %q) error %v", tt.from, tt.to, err)
			}
			stops := tt.stops
			if stops == nil {
				stops = []string{}
			}
			if p.Action != tt.action || !reflect.DeepEqual(p.Stops, stops) {
				t.Errorf("PlanUpgrade(%q, %q) = action %s stops %v, want %s %v (note %q)", tt.from, tt.to, p.Action, p.Stops, tt.action, stops, p.Note)
			}
			if !strings.Contains(p.ClientImpact, tt.impact) {
				t.Errorf("client_impact = %q, want it to contain %q", p.ClientImpact, tt.impact)
			}
			if p.Instructions != tt.instructions {
				t.Errorf("instructions = %q, want %q", p.Instructions, tt.instructions)
			}
			if (tt.action == ActionUpgrade || tt.action == ActionContactSupport) && p.Source == "" {
				t.Errorf("a documented path has no source")
			}
			if (tt.action == ActionUnsupported || tt.action == ActionDowngrade || tt.action == ActionNone) && p.Note == "" {
				t.Errorf("action %s has no note", tt.action)
			}
		})
	}
}

func TestPlanUnknownFromSaysWhatIsKnown(t *testing.T) {
	p, err := PlanUpgrade("", "5.6.2")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"unknown", "4.0.x", "5.x"} {
		if !strings.Contains(p.Note, want) {
			t.Errorf("note %q does not mention %q", p.Note, want)
		}
	}
}

func TestPlanBadTarget(t *testing.T) {
	for _, to := range []string{"", "latest", "develop-SNAPSHOT", "5.9.0", "6.0", "5.6.3", "5.8.23", "2.0.0", "4.0.10"} {
		if _, err := PlanUpgrade("4.0.9", to); err == nil {
			t.Errorf("PlanUpgrade(4.0.9, %q) gave no error", to)
		}
	}
}

func TestKnownRelease(t *testing.T) {
	tests := []struct {
		v    string
		want bool
	}{
		{"3.3", true}, {"3.4.1", true}, {"3.5.11", true}, {"3.5.12", false},
		{"4.0.9.626", true}, {"4.0.10", false}, {"5.0.1.55", true}, {"5.0", true},
		{"5.6.2", true}, {"5.6.0-RC001", true}, {"5.7.3", true}, {"5.8.22", true},
		{"5.8.23", false}, {"5.9", false}, {"6.0.0", false}, {"2.9", false},
		{"develop-SNAPSHOT", false}, {"", false}, {"five", false},
	}
	for _, tt := range tests {
		if got := KnownRelease(tt.v); got != tt.want {
			t.Errorf("KnownRelease(%q) = %v, want %v", tt.v, got, tt.want)
		}
	}
}

// TestPathsData checks the data file itself: schema, every row well formed,
// every action known, every link absolute, every row reachable.
func TestPathsData(t *testing.T) {
	if paths.Schema != PathsSchema || PathsUpdated() == "" {
		t.Fatalf("schema %q updated %q", paths.Schema, PathsUpdated())
	}
	actions := map[string]bool{ActionUpgrade: true, ActionContactSupport: true}
	for i, r := range paths.Rows {
		if !actions[r.Action] {
			t.Errorf("row %d: action %q", i, r.Action)
		}
		if !strings.HasPrefix(r.Instructions, "http") || r.Source == "" || r.ClientImpact == "" {
			t.Errorf("row %d: instructions %q source %q client_impact %q", i, r.Instructions, r.Source, r.ClientImpact)
		}
		for _, s := range r.Stops {
			if !KnownRelease(s) {
				t.Errorf("row %d: stop %q is not a known line", i, s)
			}
		}
	}
	if _, err := parseRange("3.x.1"); err == nil {
		t.Errorf("parseRange accepted 3.x.1")
	}
	if _, err := parseRange("<=3.x"); err == nil {
		t.Errorf("parseRange accepted <=3.x")
	}
}

func FuzzPlanUpgrade(f *testing.F) {
	for _, s := range []string{"4.0.9.383", "5.6.0-RC001", "develop-SNAPSHOT", "3.2", "", "5..1"} {
		f.Add(s, "5.6.2")
	}
	f.Fuzz(func(t *testing.T, from, to string) {
		p, err := PlanUpgrade(from, to)
		if err == nil && p.Action == "" {
			t.Fatalf("PlanUpgrade(%q, %q) gave no action", from, to)
		}
		if r, ok := parseRelease(from); ok {
			r2, ok2 := parseRelease(r.String())
			if !ok2 || r2.compare(r) != 0 {
				t.Fatalf("%q does not round-trip through String (%q)", from, r.String())
			}
		}
	})
}
