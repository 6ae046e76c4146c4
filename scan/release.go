package scan

import (
	"bufio"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/afero"
)

// Problem keys reported while reading a release; scripts match on them.
const (
	KeyJarUnreadable           = "jar-unreadable"
	KeyLogUnreadable           = "log-unreadable"
	KeyLogScanLimit            = "log-scan-limit"
	KeyReleaseNotRestarted     = "release-not-restarted"
	KeyReleaseEvidenceConflict = "release-evidence-conflict"
	KeyReleaseUnknown          = "release-unknown"
)

// versionJars lists the jars of lib/ whose manifest carries the release, most
// telling first. An Enterprise Edition home also holds the community
// gateway.server.jar (saying Community.Gateway), so the enterprise jar comes
// first; the assembly "version" jars of 4.x and 5.0.0.x name the edition
// ("Kaazing WebSocket Gateway - JMS Edition") where the server jar may not.
// A name with a "*" matches any run of characters.
var versionJars = []string{
	"enterprise.gateway.server.jar",     // EE 5.x
	"com.kaazing.gateway.*.version.jar", // 4.x: com.kaazing.gateway.jms.assembly.version.jar
	"gateway.distribution.version.jar",  // 5.0.0.x
	"gateway.server.jar",                // 5.1+ community, and inside EE
	"com.kaazing.gateway.server.jar",    // 4.x
}

// ReadRelease collects every piece of evidence about the release of the
// Gateway home, most reliable first (see [EvidenceKind]):
//
//  1. the manifests of the version-bearing jars in lib/, one Evidence each;
//  2. the newest startup banner in the logs (log/ and each of logDirs,
//     relative ones resolved against home): the release last started;
//  3. the name of the home folder or its installer path;
//  4. the first lines of README.txt / README.md.
//
// Files that are absent are no problem; files that cannot be read are
// reported as problems and the search goes on. It never fails as a whole:
// [BestRelease] decides what the evidence adds up to. home must be absolute;
// an empty one (a bare config file) has no evidence.
func ReadRelease(fsys afero.Fs, home string, logDirs []string) ([]Evidence, []Problem) {
	if home == "" {
		return nil, nil
	}
	var evidence []Evidence
	var problems []Problem
	ev, pr := readManifests(fsys, home)
	evidence, problems = append(evidence, ev...), append(problems, pr...)
	ev, pr = readLogBanner(fsys, home, logDirs)
	evidence, problems = append(evidence, ev...), append(problems, pr...)
	if e, ok := folderRelease(home); ok {
		evidence = append(evidence, e)
	}
	ev, pr = readReadmes(fsys, home)
	evidence, problems = append(evidence, ev...), append(problems, pr...)
	return evidence, problems
}

// readManifests reads the version-bearing jars of home/lib.
func readManifests(fsys afero.Fs, home string) ([]Evidence, []Problem) {
	lib := filepath.Join(home, "lib")
	entries, err := afero.ReadDir(fsys, lib)
	if errors.Is(err, fs.ErrNotExist) {
		// No lib/ (a 3.x home without jars, a copied conf/): no manifest
		// evidence, which BestRelease will notice.
		return nil, nil
	}
	if err != nil {
		return nil, []Problem{{Key: KeyJarUnreadable, Path: lib,
			Message: fmt.Sprintf("cannot list the jars, whose manifests name the release: %v", err)}}
	}
	var evidence []Evidence
	var problems []Problem
	for _, pattern := range versionJars {
		for _, entry := range entries {
			if !matchJarName(pattern, entry.Name()) {
				continue
			}
			jar := filepath.Join(lib, entry.Name())
			if _, ok := regularFile(fsys, jar, entry); !ok {
				continue
			}
			attrs, err := readJarManifest(fsys, jar)
			if err != nil {
				problems = append(problems, Problem{
					Key: KeyJarUnreadable, Path: jar,
					Message: fmt.Sprintf("cannot read the manifest of %s, which names the release: %v", entry.Name(), err),
				})
				continue
			}
			if e, ok := manifestEvidence(jar, attrs); ok {
				evidence = append(evidence, e)
			}
		}
	}
	return evidence, problems
}

// matchJarName matches a jar name against a versionJars pattern, in which
// one "*" stands for any non-empty run of characters.
func matchJarName(pattern, name string) bool {
	prefix, suffix, wild := strings.Cut(pattern, "*")
	if !wild {
		return name == pattern
	}
	return len(name) > len(prefix)+len(suffix) && strings.HasPrefix(name, prefix) && strings.HasSuffix(name, suffix)
}

// manifestEvidence turns the manifest attributes of a jar into evidence, if
// they say anything about the release or the edition. An unfiltered
// "${project.version}" is no version.
func manifestEvidence(jar string, attrs map[string]string) (Evidence, bool) {
	e := Evidence{Kind: EvidenceManifest, Path: jar, Edition: editionFromManifest(attrs)}
	if raw := strings.TrimSpace(attrs[attrVersion]); raw != "" {
		if v, err := ParseVersion(raw); err == nil {
			e.Version = v.String()
		}
	}
	if e.Version == "" && e.Edition == "" {
		return Evidence{}, false
	}
	var detail []string
	for _, name := range []string{attrVersion, attrTitle, attrProduct} {
		if value, ok := attrs[name]; ok {
			detail = append(detail, name+": "+value)
		}
	}
	e.Detail = cleanLine([]byte(strings.Join(detail, "; ")))
	return e, true
}

// logFilePattern matches the logs a Gateway writes its banner to: the
// error.log of log4j-config.xml (also rotated: error.log.1, error.log.2.gz,
// error.log.2016-03-30) and the service.log of an installed service.
var logFilePattern = regexp.MustCompile(`^(?:error|service)\.log(?:\.([0-9][0-9-]*))?(\.gz)?$`)

// logScanBudget caps the log bytes read for one home, over all its logs: a
// directory of a thousand rotated logs without a banner must not cost them
// all. Each log counts for at most BannerScanLimit.
const logScanBudget = 4 * BannerScanLimit

// gzBannerLimit caps how much of a compressed rotated log is decompressed:
// it can only be read from its start.
const gzBannerLimit = 4 * BannerScanLimit

type logFile struct {
	path     string
	modTime  time.Time
	size     int64
	rotation int // 0 for the live file, N for file.N; rotated files are older
	gz       bool
}

// readLogBanner finds the newest banner in the logs: the logs are searched
// newest first (by modification time, then rotation number) and the first
// one holding a banner gives the last one it holds.
func readLogBanner(fsys afero.Fs, home string, logDirs []string) ([]Evidence, []Problem) {
	var problems []Problem
	var files []logFile
	for _, dir := range logDirectories(home, logDirs) {
		entries, err := afero.ReadDir(fsys, dir)
		if err != nil {
			if !errors.Is(err, fs.ErrNotExist) {
				problems = append(problems, Problem{Key: KeyLogUnreadable, Path: dir,
					Message: fmt.Sprintf("cannot list the log directory: %v", err)})
			}
			continue
		}
		for _, entry := range entries {
			m := logFilePattern.FindStringSubmatch(entry.Name())
			if m == nil {
				continue
			}
			name := filepath.Join(dir, entry.Name())
			info, ok := regularFile(fsys, name, entry)
			if !ok {
				continue
			}
			rotation := 0
			if m[1] != "" {
				// A dated rotation has no number; it is older than any live file.
				rotation = 1 << 30
				if n, err := strconv.Atoi(m[1]); err == nil {
					rotation = n
				}
			}
			files = append(files, logFile{name, info.ModTime(), info.Size(), rotation, m[2] != ""})
		}
	}
	slices.SortStableFunc(files, func(a, b logFile) int {
		if c := b.modTime.Compare(a.modTime); c != 0 {
			return c
		}
		return cmp.Compare(a.rotation, b.rotation)
	})
	var budget int64 = logScanBudget
	for _, lf := range files {
		if budget <= 0 {
			problems = append(problems, Problem{Key: KeyLogScanLimit, Path: lf.path, Message: fmt.Sprintf(
				"startup banner search stopped: read %d MiB of logs without finding one, older logs are not read", logScanBudget>>20)})
			break
		}
		budget -= min(lf.size, BannerScanLimit)
		version, line, ok, err := readLogFileBanner(fsys, lf)
		if err != nil {
			key := KeyLogUnreadable
			if errors.Is(err, ErrBannerScanLimit) {
				key = KeyLogScanLimit
			}
			problems = append(problems, Problem{Key: key, Path: lf.path,
				Message: fmt.Sprintf("startup banner search incomplete in this log, older logs are searched instead: %v", err)})
		}
		if ok {
			return []Evidence{{Kind: EvidenceLogBanner, Path: lf.path, Version: version, Detail: line}}, problems
		}
	}
	return nil, problems
}

// regularFile returns the file information of a directory entry that is a
// regular file, or a symbolic link to one. Devices and FIFOs are never
// opened: reading a FIFO named error.log would block the scan.
func regularFile(fsys afero.Fs, name string, entry fs.FileInfo) (fs.FileInfo, bool) {
	if entry.Mode().IsRegular() {
		return entry, true
	}
	if entry.Mode()&fs.ModeSymlink == 0 {
		return nil, false
	}
	info, err := fsys.Stat(name)
	if err != nil || !info.Mode().IsRegular() {
		return nil, false
	}
	return info, true
}

// installerLogDir is where the Linux installers put the logs (the javadoc of
// the 5.x server.api Gateway class: "logs /var/log/kaazing/").
const installerLogDir = "/var/log/kaazing"

// LogDirs lists the log directories beyond home/log that a Gateway of this
// layout started with these -D properties writes to, for [ReadRelease]:
// GATEWAY_LOG_DIRECTORY when set (the gateway resolves a relative one
// against its working directory: make it absolute first when the process is
// known; ReadRelease resolves what is left against the home), and
// /var/log/kaazing for an installer home.
func LogDirs(layout Layout, defines map[string]string) []string {
	var dirs []string
	if d := strings.TrimSpace(defines["GATEWAY_LOG_DIRECTORY"]); d != "" {
		dirs = append(dirs, d)
	}
	if layout == LayoutInstaller {
		dirs = append(dirs, installerLogDir)
	}
	return dirs
}

// logDirectories is home/log followed by logDirs (relative ones resolved
// against home), cleaned and without repeats.
func logDirectories(home string, logDirs []string) []string {
	dirs := []string{filepath.Join(home, "log")}
	for _, d := range logDirs {
		if d == "" {
			continue
		}
		if !filepath.IsAbs(d) {
			d = filepath.Join(home, d)
		}
		d = filepath.Clean(d)
		if !slices.Contains(dirs, d) {
			dirs = append(dirs, d)
		}
	}
	return dirs
}

func readLogFileBanner(fsys afero.Fs, lf logFile) (version, line string, ok bool, err error) {
	f, err := fsys.Open(lf.path)
	if err != nil {
		return "", "", false, err
	}
	defer f.Close()
	if lf.gz {
		zr, err := gzip.NewReader(f)
		if err != nil {
			return "", "", false, fmt.Errorf("read gzip: %w", err)
		}
		defer zr.Close()
		return readBannerForward(zr, gzBannerLimit)
	}
	info, err := f.Stat()
	if err != nil {
		return "", "", false, err
	}
	return ReadBanner(f, info.Size())
}

// archiveFolderWords are the words of a release folder name other than the
// version and the edition: kaazing-gateway-community-5.0.1,
// kaazing-community-gateway-5.6.2, kaazing-enterprise-gateway-5.7.3,
// kaazing-websocket-gateway-jms-4.0.7, kaazing-websocket-gateway-html5-3.5.11.
var archiveFolderWords = map[string]bool{"kaazing": true, "websocket": true, "gateway": true, "edition": true, "full": true}

// archivePlatformWords may follow the version in an archive or its folder:
// kaazing-gateway-community-5.0.0-unix, ...-windows, ...-unix-base.
var archivePlatformWords = map[string]bool{"unix": true, "windows": true, "base": true, "bin": true, "distribution": true}

// folderRelease reads the release from the name of the home: an unpacked
// archive folder (kaazing-community-gateway-5.6.2) or an installer path
// (/usr/share/kaazing/jms/4.0, C:\Program Files\Kaazing\JMS\4.0\Gateway).
func folderRelease(home string) (Evidence, bool) {
	parts := strings.FieldsFunc(home, func(r rune) bool { return r == '/' || r == '\\' })
	if len(parts) == 0 {
		return Evidence{}, false
	}
	if v, edition, ok := archiveFolderName(parts[len(parts)-1]); ok {
		return Evidence{Kind: EvidenceFolder, Path: home, Version: v.String(), Edition: edition, Detail: parts[len(parts)-1]}, true
	}
	// Installer: .../kaazing/<edition>/<version>[/Gateway].
	tail := parts
	if strings.EqualFold(tail[len(tail)-1], "gateway") {
		tail = tail[:len(tail)-1]
	}
	if len(tail) >= 3 && strings.EqualFold(tail[len(tail)-3], "kaazing") {
		if v, err := ParseVersion(tail[len(tail)-1]); err == nil {
			return Evidence{
				Kind: EvidenceFolder, Path: home, Version: v.String(),
				Edition: editionFromWord(tail[len(tail)-2]),
				Detail:  strings.Join(parts[len(tail)-3:], "/"),
			}, true
		}
	}
	return Evidence{}, false
}

// archiveFolderName parses a release folder name: dash-separated words, at
// least "kaazing" and "gateway", an edition word maybe, then the version
// (which may hold a dash itself: 5.6.0-RC001) and maybe a platform word.
func archiveFolderName(name string) (Version, string, bool) {
	words := strings.Split(name, "-")
	edition := ""
	seen := map[string]bool{}
	for i, w := range words {
		if w != "" && isDigit(w[0]) {
			if !seen["kaazing"] || !seen["gateway"] {
				return Version{}, "", false
			}
			// The version is the digit word, maybe with a pre-release word
			// (5.6.0-RC001), and only platform words may follow it.
			v, err := ParseVersion(w)
			rest := words[i+1:]
			if len(rest) > 0 && folderPreRelease.MatchString(rest[0]) {
				v, err = ParseVersion(w + "-" + rest[0])
				rest = rest[1:]
			}
			if err != nil || !allPlatformWords(rest) {
				return Version{}, "", false
			}
			return v, edition, true
		}
		lw := strings.ToLower(w)
		switch {
		case archiveFolderWords[lw]:
			seen[lw] = true
		case editionFromWord(lw) != "":
			edition = editionFromWord(lw)
		default:
			return Version{}, "", false
		}
	}
	return Version{}, "", false
}

// folderPreRelease matches the pre-release words a release folder may carry
// after its version; any other word (kaazing-gateway-5.6.2-backup) makes the
// name no release folder.
var folderPreRelease = regexp.MustCompile(`^(?i:rc|m|alpha|beta)[0-9]*$|^SNAPSHOT$`)

func allPlatformWords(words []string) bool {
	for _, w := range words {
		if !archivePlatformWords[strings.ToLower(w)] {
			return false
		}
	}
	return true
}

// readmeRelease matches "Welcome to Kaazing WebSocket Gateway Release 4.0"
// and "# Welcome to KAAZING Gateway Release 5.0"; an unfiltered
// "${product.version}" does not parse as a version and gives nothing.
var readmeRelease = regexp.MustCompile(`(?i)\bgateway\b.*\brelease[ \t]+(\S+)`)

// readmeLines is how many lines of a README are looked at: the product name
// is on its first line.
const readmeLines = 10

// readReadmes reads README.txt and README.md at the root of the home.
func readReadmes(fsys afero.Fs, home string) ([]Evidence, []Problem) {
	var evidence []Evidence
	for _, name := range []string{"README.txt", "README.md"} {
		path := filepath.Join(home, name)
		f, err := fsys.Open(path)
		if err != nil {
			continue // absent, or unreadable: the README is the least reliable evidence
		}
		if e, ok := readmeEvidence(f, path); ok {
			evidence = append(evidence, e)
		}
		f.Close()
	}
	return evidence, nil
}

func readmeEvidence(r io.Reader, path string) (Evidence, bool) {
	sc := bufio.NewScanner(io.LimitReader(r, 64<<10))
	for n := 1; n <= readmeLines && sc.Scan(); n++ {
		line := strings.TrimSpace(strings.TrimPrefix(sc.Text(), "\ufeff"))
		if !strings.Contains(strings.ToLower(line), "gateway") {
			continue
		}
		e := Evidence{Kind: EvidenceReadme, Path: path, Line: n, Detail: cleanLine([]byte(line)), Edition: editionFromTitle(line)}
		if m := readmeRelease.FindStringSubmatch(line); m != nil {
			if v, err := ParseVersion(strings.TrimRight(m[1], ".,;:")); err == nil {
				e.Version = v.String()
			}
		}
		if e.Version != "" || e.Edition != "" {
			return e, true
		}
	}
	return Evidence{}, false
}

// kindRank orders evidence kinds from the most to the least reliable.
func kindRank(k EvidenceKind) int {
	switch k {
	case EvidenceManifest:
		return 0
	case EvidenceLogBanner:
		return 1
	case EvidenceFolder:
		return 2
	case EvidenceReadme:
		return 3
	case EvidenceNamespace:
		return 4
	}
	return 5
}

// parsedEvidence is a piece of evidence with its version parsed; a namespace
// gives a release line or a range of them ("5.1-5.2", "5.2.3+", "pre-3.0"),
// held in lo..hi.
type parsedEvidence struct {
	Evidence
	v      Version // a single version; zero for a range or none
	lo, hi Version // the range of a namespace; a zero end is open
	ranged bool    // lo..hi was parsed
}

// parseRange parses the release lines a config namespace implies (see
// NamespaceReleaseLine): one version ("4.0"), two joined by a dash
// ("5.1-5.2"), an open end ("5.2.3+": 5.2.3 and later) or an open start
// ("pre-3.0": before 3.0). A zero lo or hi is an open end.
func parseRange(s string) (lo, hi Version, ok bool) {
	if v, err := ParseVersion(s); err == nil {
		return v, v, true
	}
	if rest, found := strings.CutSuffix(s, "+"); found {
		v, err := ParseVersion(rest)
		return v, Version{}, err == nil
	}
	if rest, found := strings.CutPrefix(s, "pre-"); found {
		v, err := ParseVersion(rest)
		return Version{}, v, err == nil
	}
	for i := strings.IndexByte(s, '-'); i >= 0; i = nextDash(s, i) {
		a, errA := ParseVersion(s[:i])
		b, errB := ParseVersion(s[i+1:])
		if errA == nil && errB == nil && a.Compare(b) <= 0 {
			return a, b, true
		}
	}
	return Version{}, Version{}, false
}

func nextDash(s string, i int) int {
	j := strings.IndexByte(s[i+1:], '-')
	if j < 0 {
		return -1
	}
	return i + 1 + j
}

// consistent reports whether two versions can describe the same install:
// one names the release or line of the other (the 3-part folder 5.0.0 and
// the 4-part build 5.0.0.15 are consistent).
func consistent(a, b Version) bool { return a.Matches(b) || b.Matches(a) }

// BestRelease decides the release and edition of an install from its
// evidence (from ReadRelease, plus namespace evidence from the parsed
// config) and reports what does not add up:
//
//   - release-not-restarted: the installed release (a jar manifest) is not
//     the one last started (the newest log banner): patched or upgraded in
//     place without a restart.
//   - release-evidence-conflict: a folder name, README, another manifest or a
//     config namespace newer than the release disagrees with it (a renamed or
//     copied folder, a half-applied patch). A 3-part folder of a 4-part build
//     (5.0.0 and 5.0.0.15) and an old namespace (auto-translated by the
//     gateway) are no conflict.
//   - release-unknown: nothing names the release.
//
// The release is the version of the most reliable evidence, refined by a
// less reliable one that is consistent with it and more precise (a README's
// 4.0 by a folder's 4.0.7); it may be major.minor only when nothing says
// more, and is "" when nothing gives a version.
//
// The edition is that of the most reliable evidence naming one, except that
// any sign of Enterprise wins over Community: an Enterprise home also holds
// the community jars, whose manifests say Community.Gateway.
func BestRelease(ev []Evidence) (release, edition string, problems []Problem) {
	all := make([]parsedEvidence, 0, len(ev))
	for _, e := range ev {
		p := parsedEvidence{Evidence: e}
		if e.Kind == EvidenceNamespace {
			p.lo, p.hi, p.ranged = parseRange(e.Version)
			if p.lo == p.hi {
				p.v = p.lo
			}
		} else if v, err := ParseVersion(e.Version); err == nil {
			p.v = v
		}
		all = append(all, p)
	}
	slices.SortStableFunc(all, func(a, b parsedEvidence) int { return cmp.Compare(kindRank(a.Kind), kindRank(b.Kind)) })

	var best *parsedEvidence
	for i := range all {
		c := &all[i]
		if c.v.IsZero() {
			continue
		}
		if best == nil || c.v.Matches(best.v) && c.v.Precision() > best.v.Precision() {
			best = c
		}
	}
	edition = bestEdition(all)
	if best == nil {
		return "", edition, []Problem{unknownRelease(all, edition)}
	}
	return best.v.String(), edition, releaseConflicts(all, best)
}

func bestEdition(all []parsedEvidence) string {
	edition := ""
	enterprise := false
	for _, e := range all {
		if edition == "" {
			edition = e.Edition
		}
		enterprise = enterprise || e.Edition == "Enterprise"
	}
	if edition == "Community" && enterprise {
		return "Enterprise"
	}
	return edition
}

func unknownRelease(all []parsedEvidence, edition string) Problem {
	msg := "release unknown: no jar manifest, startup banner, folder name or README gives a version"
	for _, e := range all {
		if e.Kind == EvidenceNamespace && e.ranged {
			msg += fmt.Sprintf("; the config namespace (%s) says release line %s", e.Path, e.Version)
			break
		}
	}
	if edition != "" {
		msg += "; edition " + edition
	}
	return Problem{Key: KeyReleaseUnknown, Message: msg}
}

// releaseConflicts compares every piece of evidence with the chosen one.
func releaseConflicts(all []parsedEvidence, best *parsedEvidence) []Problem {
	var problems []Problem
	var installed *parsedEvidence // the most reliable manifest with a version
	for i := range all {
		if all[i].Kind == EvidenceManifest && !all[i].v.IsZero() {
			installed = &all[i]
			break
		}
	}
	for i := range all {
		e := &all[i]
		switch {
		case e == best || e == installed:
		case e.Kind == EvidenceNamespace:
			if !e.lo.IsZero() && best.v.Precision() > 0 && best.v.Compare(e.lo) < 0 {
				problems = append(problems, Problem{Key: KeyReleaseEvidenceConflict, Path: e.Path, Message: fmt.Sprintf(
					"config namespace is for release line %s, newer than release %s (%s): this gateway cannot load it",
					e.Version, best.v, describe(best.Evidence))})
			}
		case e.v.IsZero() || consistent(e.v, best.v):
		case e.Kind == EvidenceLogBanner && installed != nil:
			problems = append(problems, Problem{Key: KeyReleaseNotRestarted, Path: installed.Path, Message: fmt.Sprintf(
				"installed release %s (%s) is not the release last started, %s (%s): patched or upgraded but not restarted?",
				installed.v, describe(installed.Evidence), e.v, describe(e.Evidence))})
		default:
			problems = append(problems, Problem{Key: KeyReleaseEvidenceConflict, Path: e.Path, Line: e.Line, Message: fmt.Sprintf(
				"%s says release %s but %s says %s: renamed, copied or partly patched?",
				describe(e.Evidence), e.v, describe(best.Evidence), best.v)})
		}
	}
	return problems
}

// describe names a piece of evidence for a message: "manifest of
// lib/gateway.server.jar", "log banner in /opt/gw/log/error.log".
func describe(e Evidence) string {
	switch e.Kind {
	case EvidenceManifest:
		return "manifest of " + e.Path
	case EvidenceLogBanner:
		return "startup banner in " + e.Path
	case EvidenceFolder:
		return "folder name " + e.Path
	case EvidenceReadme:
		return e.Path
	case EvidenceNamespace:
		return "config namespace of " + e.Path
	}
	return string(e.Kind) + " " + e.Path
}
