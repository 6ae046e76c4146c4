package detect

import (
	"strconv"
	"strings"
)

// release is a parsed KAAZING Gateway release number. detect keeps its own
// small parser so that it does not depend on scan's (which may later replace
// it): "4.0.9.383" (4-part with build), "5.6.2", "5.0" (a release line),
// "5.6.0-RC001" (a release candidate) and "develop-SNAPSHOT" (a dev build).
type release struct {
	parts    [4]int // major, minor, patch, build
	n        int    // how many parts were given (2..4)
	pre      string // "RC001" for 5.6.0-RC001; sorts before the release
	snapshot bool   // develop-SNAPSHOT: newer than every release, planned as nothing
}

// parseRelease parses s; ok is false for anything that is not a release
// number. Leading "v" and surrounding space are tolerated.
func parseRelease(s string) (release, bool) {
	s = strings.TrimSpace(s)
	if strings.EqualFold(s, "develop-SNAPSHOT") {
		return release{snapshot: true}, true
	}
	s = strings.TrimPrefix(strings.TrimPrefix(s, "v"), "V")
	var r release
	num, pre, hasPre := strings.Cut(s, "-")
	if hasPre {
		if pre == "" || strings.Contains(pre, "-") {
			return release{}, false
		}
		r.pre = strings.ToUpper(pre)
	}
	fields := strings.Split(num, ".")
	if len(fields) < 2 || len(fields) > 4 {
		return release{}, false
	}
	for i, f := range fields {
		if f == "" || len(f) > 9 {
			return release{}, false
		}
		v, err := strconv.Atoi(f)
		if err != nil || v < 0 || strings.HasPrefix(f, "+") {
			return release{}, false
		}
		r.parts[i] = v
	}
	r.n = len(fields)
	return r, true
}

// line is "major.minor", the unit the upgrade documentation speaks of.
func (r release) line() string {
	if r.snapshot {
		return "develop"
	}
	return strconv.Itoa(r.parts[0]) + "." + strconv.Itoa(r.parts[1])
}

// String renders the release as it was given, with an upper-case pre-release.
func (r release) String() string {
	if r.snapshot {
		return "develop-SNAPSHOT"
	}
	var b strings.Builder
	for i := 0; i < r.n; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(r.parts[i]))
	}
	if r.pre != "" {
		b.WriteString("-" + r.pre)
	}
	return b.String()
}

// compare orders a and b: -1, 0 or +1. Only the parts both give are compared,
// so "5.0" equals "5.0.1.55" (a line holds its releases) and "4.0.9" equals
// "4.0.9.383" (builds of one release differ per edition, kaazing-facts §0).
// A release candidate sorts before its release; develop-SNAPSHOT after all.
func (a release) compare(b release) int {
	switch {
	case a.snapshot && b.snapshot:
		return 0
	case a.snapshot:
		return 1
	case b.snapshot:
		return -1
	}
	n := min(a.n, b.n)
	for i := 0; i < n; i++ {
		if a.parts[i] != b.parts[i] {
			if a.parts[i] < b.parts[i] {
				return -1
			}
			return 1
		}
	}
	switch {
	case a.pre == b.pre:
		return 0
	case a.pre == "":
		return 1
	case b.pre == "":
		return -1
	case a.pre < b.pre:
		return -1
	default:
		return 1
	}
}
