package scan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// maxVersionParts is the most numeric parts a Gateway release number has:
// 4.x and 5.0.x are major.minor.patch.build ("4.0.9.383", "5.0.1.52").
const maxVersionParts = 4

// maxPartDigits bounds each numeric part so that no input can overflow an int.
const maxPartDigits = 9

// snapshotSuffix ends the version string of a development build
// ("develop-SNAPSHOT", or a Maven "5.7.0-SNAPSHOT").
const snapshotSuffix = "SNAPSHOT"

// Version is a Gateway release number: 3- or 4-part ("5.6.2", "4.0.9.383",
// "5.0.1.52"), maybe with a pre-release suffix ("5.6.0-RC001"), or a
// development build named after its branch ("develop-SNAPSHOT"). READMEs,
// folder names and config namespaces give only major.minor ("4.0"), which is
// a Version of precision 2.
//
// The zero Version is "no version": String is "" and it never matches.
// Versions are comparable with ==; two equal values print the same.
type Version struct {
	parts [maxVersionParts]int
	n     int    // numeric parts in use; 0 for a branch build or the zero Version
	pre   string // pre-release suffix after "-" ("RC001", "SNAPSHOT"); "" for a final release
	dev   string // branch of a development build ("develop"), when n == 0
}

// ParseVersion parses a release number. It is strict: two to four dot
// separated decimal parts without sign or leading zeros, an optional
// "-suffix" of letters, digits, dots and dashes that starts with a letter
// ("RC001", "SNAPSHOT"), or "<branch>-SNAPSHOT". A suffix must start with a
// letter so that a range of release lines ("5.1-5.2") is not a version. Surrounding
// space is an error too, so that callers trim what they extracted and a
// version that parses always prints back as the same text.
func ParseVersion(s string) (Version, error) {
	v, err := parseVersion(s)
	if err != nil {
		return Version{}, fmt.Errorf("parse version %q: %w", s, err)
	}
	return v, nil
}

func parseVersion(s string) (Version, error) {
	if s == "" {
		return Version{}, errors.New("empty")
	}
	if len(s) > 128 {
		return Version{}, errors.New("too long")
	}
	if s[0] < '0' || s[0] > '9' {
		// Only a development build starts with a letter: "develop-SNAPSHOT".
		branch, ok := strings.CutSuffix(s, "-"+snapshotSuffix)
		if !ok || !validLabel(branch) || !isLetter(branch[0]) {
			return Version{}, errors.New("not a release number")
		}
		return Version{dev: branch}, nil
	}
	num, pre, hasPre := strings.Cut(s, "-")
	if hasPre && (!validLabel(pre) || !isLetter(pre[0])) {
		return Version{}, fmt.Errorf("bad pre-release suffix %q", pre)
	}
	fields := strings.Split(num, ".")
	if len(fields) < 2 {
		return Version{}, errors.New("need at least major.minor")
	}
	if len(fields) > maxVersionParts {
		return Version{}, fmt.Errorf("more than %d parts", maxVersionParts)
	}
	var v Version
	for i, f := range fields {
		n, err := parsePart(f)
		if err != nil {
			return Version{}, err
		}
		v.parts[i] = n
	}
	v.n = len(fields)
	v.pre = pre
	return v, nil
}

// parsePart parses one numeric part: decimal digits, no leading zero (a "05"
// would print back as "5" and break the round trip), at most maxPartDigits.
func parsePart(f string) (int, error) {
	if f == "" {
		return 0, errors.New("empty part")
	}
	if len(f) > maxPartDigits {
		return 0, fmt.Errorf("part %q too long", f)
	}
	if len(f) > 1 && f[0] == '0' {
		return 0, fmt.Errorf("part %q has a leading zero", f)
	}
	for i := 0; i < len(f); i++ {
		if f[i] < '0' || f[i] > '9' {
			return 0, fmt.Errorf("part %q is not a number", f)
		}
	}
	return strconv.Atoi(f)
}

// validLabel reports whether s is a non-empty run of ASCII letters, digits,
// dots and dashes that neither starts nor ends with a separator.
func validLabel(s string) bool {
	if s == "" || isSeparator(s[0]) || isSeparator(s[len(s)-1]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && !isSeparator(c) && c != '_' {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool    { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool     { return c >= '0' && c <= '9' }
func isSeparator(c byte) bool { return c == '.' || c == '-' }

// String is the canonical text of v; it parses back to v.
func (v Version) String() string {
	if v.n == 0 {
		if v.dev == "" {
			return ""
		}
		return v.dev + "-" + snapshotSuffix
	}
	var b strings.Builder
	for i := 0; i < v.n; i++ {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(v.parts[i]))
	}
	if v.pre != "" {
		b.WriteByte('-')
		b.WriteString(v.pre)
	}
	return b.String()
}

// IsZero reports whether v is the zero Version (no version known).
func (v Version) IsZero() bool { return v == Version{} }

// Compare returns -1, 0 or +1 as v is older than, the same as, or newer than w.
//
// The rules, chosen for an upgrade check rather than for sorting:
//   - Numeric parts compare numerically, 4-part build numbers included
//     (4.0.9.383 < 4.0.9.626).
//   - A shorter version is a prefix that names a release line: when the
//     shorter one's parts equal the start of the longer one they compare
//     equal (5.0 == 5.0.1.52, 5.0.1 == 5.0.1.52), whatever their suffixes.
//     So Compare is not a total order over mixed precisions: 5.0 equals both
//     5.0.1 and 5.0.2. Use [Version.Matches] to ask "is it in this line".
//   - At the same precision a pre-release is older than the final release
//     (5.6.0-RC001 < 5.6.0), and pre-releases compare part by part, digit runs
//     numerically (RC9 < RC10).
//   - A branch build (develop-SNAPSHOT) is newer than every numbered release:
//     it is built from the tip of development. Two branch builds compare by
//     branch name.
//   - The zero Version is older than everything else.
func (v Version) Compare(w Version) int {
	switch {
	case v == w:
		return 0
	case v.IsZero():
		return -1
	case w.IsZero():
		return 1
	case v.n == 0 && w.n == 0:
		return strings.Compare(v.dev, w.dev)
	case v.n == 0:
		return 1
	case w.n == 0:
		return -1
	}
	for i := 0; i < min(v.n, w.n); i++ {
		if c := cmpInt(v.parts[i], w.parts[i]); c != 0 {
			return c
		}
	}
	if v.n != w.n {
		return 0
	}
	switch {
	case v.pre == w.pre:
		return 0
	case v.pre == "":
		return 1
	case w.pre == "":
		return -1
	}
	return compareNatural(v.pre, w.pre)
}

func cmpInt(a, b int) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareNatural compares two labels run by run: digit runs numerically,
// other runs byte-wise, so "RC9" < "RC10" and "beta.2" < "beta.11".
func compareNatural(a, b string) int {
	for a != "" && b != "" {
		ra, restA := nextRun(a)
		rb, restB := nextRun(b)
		var c int
		if isDigit(ra[0]) && isDigit(rb[0]) {
			ta, tb := strings.TrimLeft(ra, "0"), strings.TrimLeft(rb, "0")
			if c = cmpInt(len(ta), len(tb)); c == 0 {
				c = strings.Compare(ta, tb)
			}
		} else {
			c = strings.Compare(ra, rb)
		}
		if c != 0 {
			return c
		}
		a, b = restA, restB
	}
	return cmpInt(len(a), len(b))
}

// nextRun splits s (non-empty) into its leading run of digits or of
// non-digits and the rest.
func nextRun(s string) (run, rest string) {
	digit := isDigit(s[0])
	i := 1
	for i < len(s) && isDigit(s[i]) == digit {
		i++
	}
	return s[:i], s[i:]
}

// Line is the release line "major.minor" ("4.0", "5.6"); "" for a branch
// build or the zero Version.
func (v Version) Line() string {
	if v.n < 2 {
		return ""
	}
	return strconv.Itoa(v.parts[0]) + "." + strconv.Itoa(v.parts[1])
}

// Major is the first number; 0 for a branch build (check IsSnapshot first).
func (v Version) Major() int { return v.parts[0] }

// Minor is the second number; 0 for a branch build (check IsSnapshot first).
func (v Version) Minor() int { return v.parts[1] }

// IsSnapshot reports whether v is a development build: a branch build
// ("develop-SNAPSHOT") or a Maven snapshot ("5.7.0-SNAPSHOT").
func (v Version) IsSnapshot() bool {
	return v.dev != "" || strings.EqualFold(v.pre, snapshotSuffix)
}

// Precision is the number of numeric parts: 2 for "4.0", 4 for "4.0.9.383",
// 0 for a branch build.
func (v Version) Precision() int { return v.n }

// Matches reports whether v is in the release or line that prefix names:
// 4.0.9.383 matches 4.0, 4.0.9 and 4.0.9.383, but not 4.0.1 or 4.0.9.38.
// A prefix with a pre-release suffix matches only that exact pre-release. A
// branch build matches only itself; the zero Version matches nothing.
func (v Version) Matches(prefix Version) bool {
	if v.IsZero() || prefix.IsZero() {
		return false
	}
	if v.n == 0 || prefix.n == 0 {
		return v == prefix
	}
	if prefix.n > v.n {
		return false
	}
	if prefix.pre != "" && (prefix.n != v.n || prefix.pre != v.pre) {
		return false
	}
	return slices.Equal(v.parts[:prefix.n], prefix.parts[:prefix.n])
}

// MarshalText renders v as its String, so that a Version in JSON output is
// the plain release number ("" for the zero Version).
func (v Version) MarshalText() ([]byte, error) { return []byte(v.String()), nil }

// UnmarshalText parses text with [ParseVersion]; empty text is the zero
// Version.
func (v *Version) UnmarshalText(text []byte) error {
	if len(text) == 0 {
		*v = Version{}
		return nil
	}
	w, err := ParseVersion(string(text))
	if err != nil {
		return err
	}
	*v = w
	return nil
}
