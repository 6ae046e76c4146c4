package scan_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/kaazing-tools/gwup/scan"
)

func mustVersion(t testing.TB, s string) scan.Version {
	t.Helper()
	v, err := scan.ParseVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestParseVersion(t *testing.T) {
	tests := []struct {
		in         string
		line       string
		major      int
		minor      int
		precision  int
		isSnapshot bool
	}{
		{"4.0", "4.0", 4, 0, 2, false},
		{"5.6.2", "5.6", 5, 6, 3, false},
		{"4.0.9.383", "4.0", 4, 0, 4, false},
		{"5.0.1.52", "5.0", 5, 0, 4, false},
		{"3.5.11", "3.5", 3, 5, 3, false},
		{"5.6.0-RC001", "5.6", 5, 6, 3, false},
		{"5.7.0-SNAPSHOT", "5.7", 5, 7, 3, true},
		{"develop-SNAPSHOT", "", 0, 0, 0, true},
		{"feature-x.1-SNAPSHOT", "", 0, 0, 0, true},
		{"10.20.30.40", "10.20", 10, 20, 4, false},
		{"0.0", "0.0", 0, 0, 2, false},
	}
	for _, tt := range tests {
		v, err := scan.ParseVersion(tt.in)
		if err != nil {
			t.Errorf("ParseVersion(%q): %v", tt.in, err)
			continue
		}
		if got := v.String(); got != tt.in {
			t.Errorf("ParseVersion(%q).String() = %q, want the input back", tt.in, got)
		}
		if got := v.Line(); got != tt.line {
			t.Errorf("ParseVersion(%q).Line() = %q, want %q", tt.in, got, tt.line)
		}
		if v.Major() != tt.major || v.Minor() != tt.minor {
			t.Errorf("ParseVersion(%q) major.minor = %d.%d, want %d.%d", tt.in, v.Major(), v.Minor(), tt.major, tt.minor)
		}
		if got := v.Precision(); got != tt.precision {
			t.Errorf("ParseVersion(%q).Precision() = %d, want %d", tt.in, got, tt.precision)
		}
		if got := v.IsSnapshot(); got != tt.isSnapshot {
			t.Errorf("ParseVersion(%q).IsSnapshot() = %v, want %v", tt.in, got, tt.isSnapshot)
		}
	}
}

func TestParseVersionRejects(t *testing.T) {
	bad := []string{
		"", " ", "5", "5.", ".5", "5..1", "5.6.2.1.0", "05.6.2", "5.06", "4.0.9.0383",
		"v5.6.2", " 5.6.2", "5.6.2 ", "5.6.2-", "5.6.2-RC 1", "5.6.2-.RC", "-SNAPSHOT",
		"SNAPSHOT", "develop", "1develop-SNAPSHOT", "${product.version}", "${project.version}",
		"5.x", "5.0.x", "Development", "Community Edition", "1234567890.0", "-1.0", "+1.0",
		"5.6.2\x00", "5.6\n", "5.6.2-RC\u00e9", "5.1-5.2", "5.6.0-1",
	}
	for _, s := range bad {
		v, err := scan.ParseVersion(s)
		if err == nil {
			t.Errorf("ParseVersion(%q) = %q, want an error", s, v)
			continue
		}
		if !strings.HasPrefix(err.Error(), fmt.Sprintf("parse version %q: ", s)) {
			t.Errorf("ParseVersion(%q) error %q does not name the input", s, err)
		}
	}
	// The error quotes the input so that an empty one is visible.
	if _, err := scan.ParseVersion(""); err == nil || !strings.Contains(err.Error(), `""`) {
		t.Errorf(`ParseVersion("") error = %v, want it to quote the empty input`, err)
	}
	if _, err := scan.ParseVersion("garbage"); err == nil || !strings.Contains(err.Error(), `"garbage"`) {
		t.Errorf(`ParseVersion("garbage") error = %v, want it to name the input`, err)
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"5.6.2", "5.6.2", 0},
		{"5.6.1", "5.6.2", -1},
		{"5.10.0", "5.9.9", 1},
		{"4.0.9.383", "4.0.9.626", -1},
		{"4.0.9.626", "4.0.10.1", -1},
		{"5.0.1.9", "5.0.1.52", -1}, // numerically, not as text
		{"4.0.9.383", "5.0.0.15", -1},
		{"5.0.1.55", "5.1.0", -1},
		// A shorter version names a release line and compares equal to its members.
		{"5.0", "5.0.1.52", 0},
		{"5.0.1", "5.0.1.52", 0},
		{"5.0.0", "5.0.0.15", 0},
		{"4.0", "5.0.1.52", -1},
		{"5.1", "5.0.1.52", 1},
		// Pre-releases come before the final release of the same precision.
		{"5.6.0-RC001", "5.6.0", -1},
		{"5.6.0-RC001", "5.6.0-RC002", -1},
		{"5.6.0-RC9", "5.6.0-RC10", -1},
		{"5.6.0-RC001", "5.5.9", 1},
		{"5.6.0-RC001", "5.6", 0},
		{"5.7.0-SNAPSHOT", "5.7.0", -1},
		// A branch build is newer than every numbered release.
		{"develop-SNAPSHOT", "5.8.22", 1},
		{"develop-SNAPSHOT", "99.99.99.99", 1},
		{"develop-SNAPSHOT", "develop-SNAPSHOT", 0},
		{"develop-SNAPSHOT", "feature-SNAPSHOT", -1},
	}
	for _, tt := range tests {
		a, b := mustVersion(t, tt.a), mustVersion(t, tt.b)
		if got := a.Compare(b); got != tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
		if got := b.Compare(a); got != -tt.want {
			t.Errorf("%s.Compare(%s) = %d, want %d (antisymmetry)", tt.b, tt.a, got, -tt.want)
		}
	}
	var zero scan.Version
	if got := zero.Compare(mustVersion(t, "3.3")); got != -1 {
		t.Errorf("zero.Compare(3.3) = %d, want -1", got)
	}
	if got := zero.Compare(zero); got != 0 {
		t.Errorf("zero.Compare(zero) = %d, want 0", got)
	}
}

func TestVersionMatches(t *testing.T) {
	tests := []struct {
		v, prefix string
		want      bool
	}{
		{"4.0.9.383", "4.0", true},
		{"4.0.9.383", "4.0.9", true},
		{"4.0.9.383", "4.0.9.383", true},
		{"4.0.9.383", "4.0.1", false},
		{"4.0.9.383", "4.0.9.38", false},
		{"4.0", "4.0.9", false}, // a line is not in one of its releases
		{"5.6.0-RC001", "5.6", true},
		{"5.6.0-RC001", "5.6.0-RC001", true},
		{"5.6.0", "5.6.0-RC001", false},
		{"develop-SNAPSHOT", "develop-SNAPSHOT", true},
		{"develop-SNAPSHOT", "5.6", false},
		{"5.6.2", "develop-SNAPSHOT", false},
	}
	for _, tt := range tests {
		if got := mustVersion(t, tt.v).Matches(mustVersion(t, tt.prefix)); got != tt.want {
			t.Errorf("%s.Matches(%s) = %v, want %v", tt.v, tt.prefix, got, tt.want)
		}
	}
	var zero scan.Version
	if zero.Matches(zero) || mustVersion(t, "5.6").Matches(zero) || zero.Matches(mustVersion(t, "5.6")) {
		t.Error("the zero Version matched, want it to match nothing")
	}
}

func TestZeroVersion(t *testing.T) {
	var v scan.Version
	if v.String() != "" || v.Line() != "" || v.Precision() != 0 || v.IsSnapshot() || !v.IsZero() {
		t.Errorf("zero Version = %q line %q precision %d snapshot %v zero %v, want all empty",
			v.String(), v.Line(), v.Precision(), v.IsSnapshot(), v.IsZero())
	}
}

// FuzzParseVersion checks the round trip: a version that parses prints as
// text that parses to an equal version, and printing is stable.
func FuzzParseVersion(f *testing.F) {
	for _, s := range []string{
		"4.0", "5.6.2", "4.0.9.383", "5.0.1.52", "5.6.0-RC001", "develop-SNAPSHOT", "5.7.0-SNAPSHOT",
		"05.1", "", "5.6.2.1.0", "${product.version}", "1-SNAPSHOT", "a-b-SNAPSHOT",
	} {
		f.Add(s)
	}
	// And every version the release fixtures expect.
	names, _ := filepath.Glob("../testdata/release/*.txtar")
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, field := range strings.Fields(string(txtar.Parse(data).Comment)) {
			if field != "" && field[0] >= '0' && field[0] <= '9' || strings.HasSuffix(field, "SNAPSHOT") {
				f.Add(field)
			}
		}
	}
	f.Fuzz(func(t *testing.T, s string) {
		v, err := scan.ParseVersion(s)
		if err != nil {
			return
		}
		text := v.String()
		w, err := scan.ParseVersion(text)
		if err != nil {
			t.Fatalf("ParseVersion(%q).String() = %q, which does not parse: %v", s, text, err)
		}
		if w != v || w.Compare(v) != 0 || w.String() != text {
			t.Fatalf("round trip of %q: %q then %q", s, text, w.String())
		}
		if text != s {
			t.Fatalf("ParseVersion(%q).String() = %q, want the input back (parsing is strict)", s, text)
		}
		if !v.Matches(v) {
			t.Fatalf("%q does not match itself", s)
		}
	})
}

func TestVersionJSON(t *testing.T) {
	type doc struct {
		Release scan.Version `json:"release"`
		Line    scan.Version `json:"line"`
	}
	in := doc{Release: mustVersion(t, "4.0.9.383")}
	data, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"release":"4.0.9.383","line":""}`; got != want {
		t.Errorf("json.Marshal = %s, want %s", got, want)
	}
	var out doc
	if err := json.Unmarshal(data, &out); err != nil || out != in {
		t.Errorf("json.Unmarshal(%s) = %+v, %v, want %+v", data, out, err, in)
	}
	if err := json.Unmarshal([]byte(`{"release":"4.0.09"}`), &out); err == nil || !strings.Contains(err.Error(), `"4.0.09"`) {
		t.Errorf("json.Unmarshal of a bad version: error %v, want one naming it", err)
	}
}
