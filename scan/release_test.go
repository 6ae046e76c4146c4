package scan_test

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/spf13/afero"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
)

// releaseFixture is a Gateway home in a txtar archive; the archive comment
// holds, after free text, one directive a line:
//
//	home /abs/path                     the home to read
//	logdirs DIR...                     extra log directories
//	mtime /abs/file 2017-02-01T00:00:00Z
//	release V | -                      what BestRelease must say
//	edition E | -
//	evidence KIND PATH VERSION|- EDITION|-   every piece, in order
//	problem KEY PATH|-                 every problem of ReadRelease and BestRelease, in order
type releaseFixture struct {
	home     string
	logDirs  []string
	mtimes   map[string]time.Time
	release  string
	edition  string
	evidence []string
	problems []string
}

func loadReleaseFixture(t *testing.T, file string) (afero.Fs, releaseFixture) {
	t.Helper()
	a, err := txtar.ParseFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fx := releaseFixture{mtimes: map[string]time.Time{}}
	for _, line := range strings.Split(string(a.Comment), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		dash := func(s string) string {
			if s == "-" {
				return ""
			}
			return s
		}
		switch f[0] {
		case "home":
			fx.home = f[1]
		case "logdirs":
			fx.logDirs = f[1:]
		case "mtime":
			tm, err := time.Parse(time.RFC3339, f[2])
			if err != nil {
				t.Fatal(err)
			}
			fx.mtimes[f[1]] = tm
		case "release":
			fx.release = dash(f[1])
		case "edition":
			fx.edition = dash(f[1])
		case "evidence":
			fx.evidence = append(fx.evidence, strings.Join(f[1:], " "))
		case "problem":
			fx.problems = append(fx.problems, strings.Join(f[1:], " "))
		}
	}
	if fx.home == "" {
		t.Fatalf("%s: no home directive", file)
	}
	fsys := scantest.Load(t, txtar.Format(a), "/")
	for name, tm := range fx.mtimes {
		if err := fsys.Chtimes(name, tm, tm); err != nil {
			t.Fatal(err)
		}
	}
	return fsys, fx
}

func evidenceLine(e scan.Evidence) string {
	dash := func(s string) string {
		if s == "" {
			return "-"
		}
		return s
	}
	return strings.Join([]string{string(e.Kind), e.Path, dash(e.Version), dash(e.Edition)}, " ")
}

func problemLine(p scan.Problem) string {
	if p.Path == "" {
		return p.Key + " -"
	}
	return p.Key + " " + p.Path
}

func TestReadReleaseFixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/release/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txtar"), func(t *testing.T) {
			fsys, fx := loadReleaseFixture(t, file)
			evidence, problems := scan.ReadRelease(fsys, fx.home, fx.logDirs)
			release, edition, more := scan.BestRelease(evidence)
			problems = append(problems, more...)

			var gotEvidence, gotProblems []string
			for _, e := range evidence {
				gotEvidence = append(gotEvidence, evidenceLine(e))
			}
			for _, p := range problems {
				gotProblems = append(gotProblems, problemLine(p))
			}
			if !slices.Equal(gotEvidence, fx.evidence) {
				t.Errorf("evidence:\n%s\nwant:\n%s", strings.Join(gotEvidence, "\n"), strings.Join(fx.evidence, "\n"))
			}
			if !slices.Equal(gotProblems, fx.problems) {
				t.Errorf("problems: %v\nwant: %v", problems, fx.problems)
			}
			if release != fx.release || edition != fx.edition {
				t.Errorf("BestRelease = %q, %q, want %q, %q", release, edition, fx.release, fx.edition)
			}
			for _, p := range problems {
				if p.Message == "" || strings.HasSuffix(p.Message, ".") {
					t.Errorf("problem %s: message %q is empty or ends with a period", p.Key, p.Message)
				}
			}
			for _, e := range evidence {
				if e.Kind != scan.EvidenceFolder && e.Detail == "" {
					t.Errorf("evidence %s has no detail", evidenceLine(e))
				}
			}
		})
	}
}

// gzipped compresses text as logrotate would.
func gzipped(t *testing.T, text string) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := gzip.NewWriter(&b)
	if _, err := zw.Write([]byte(text)); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// The newest log decides: a live file without banner defers to the rotated
// ones, newest first, compressed ones included; a corrupt one is reported.
func TestReadReleaseRotatedLogs(t *testing.T) {
	const home = "/opt/kaazing-community-gateway-5.6.2"
	day := func(d int) time.Time { return time.Date(2017, 2, d, 0, 0, 0, 0, time.UTC) }
	type file struct {
		name  string
		data  []byte
		mtime time.Time
	}
	tests := []struct {
		name        string
		files       []file
		wantPath    string
		wantVersion string
		wantProblem string
	}{
		{
			name: "gzip rotated log",
			files: []file{
				{"error.log", []byte(junkLines(5)), day(5)},
				{"error.log.1.gz", gzipped(t, "INFO  Kaazing WebSocket Gateway (5.6.1)\n"+junkLines(5)+"INFO  Kaazing WebSocket Gateway (5.6.2)\r\n"+junkLines(5)), day(4)},
				{"error.log.2.gz", gzipped(t, "INFO  Kaazing WebSocket Gateway (5.6.0)\n"), day(3)},
			},
			wantPath: "error.log.1.gz", wantVersion: "5.6.2",
		},
		{
			name: "same mtime: lower rotation number is newer",
			files: []file{
				{"error.log.2", []byte("INFO  Kaazing WebSocket Gateway (5.6.0)\n"), day(3)},
				{"error.log.1", []byte("INFO  Kaazing WebSocket Gateway (5.6.1)\n"), day(3)},
				{"error.log", []byte(junkLines(5)), day(3)},
			},
			wantPath: "error.log.1", wantVersion: "5.6.1",
		},
		{
			name: "service log newer than error log",
			files: []file{
				{"error.log", []byte("INFO  Kaazing WebSocket Gateway (5.6.1)\n"), day(3)},
				{"service.log", []byte("INFO  Kaazing WebSocket Gateway (5.6.2)\n"), day(4)},
			},
			wantPath: "service.log", wantVersion: "5.6.2",
		},
		{
			name: "corrupt gzip is reported and skipped",
			files: []file{
				{"error.log.1.gz", []byte("\x1f\x8b not really gzip"), day(4)},
				{"error.log.2", []byte("INFO  Kaazing WebSocket Gateway (5.6.0)\n"), day(3)},
			},
			wantPath: "error.log.2", wantVersion: "5.6.0", wantProblem: "log-unreadable",
		},
		{
			name: "other logs are not looked at",
			files: []file{
				{"access.log", []byte("INFO  Kaazing WebSocket Gateway (5.6.9)\n"), day(9)},
				{"error.log.old", []byte("INFO  Kaazing WebSocket Gateway (5.6.8)\n"), day(9)},
				{"error.log", []byte("INFO  Kaazing WebSocket Gateway (5.6.2)\n"), day(1)},
			},
			wantPath: "error.log", wantVersion: "5.6.2",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			for _, f := range tt.files {
				name := filepath.Join(home, "log", f.name)
				if err := afero.WriteFile(fsys, name, f.data, 0o644); err != nil {
					t.Fatal(err)
				}
				if err := fsys.Chtimes(name, f.mtime, f.mtime); err != nil {
					t.Fatal(err)
				}
			}
			evidence, problems := scan.ReadRelease(fsys, home, nil)
			var banner *scan.Evidence
			for i := range evidence {
				if evidence[i].Kind == scan.EvidenceLogBanner {
					banner = &evidence[i]
				}
			}
			if banner == nil {
				t.Fatalf("no log-banner evidence in %v", evidence)
			}
			if want := filepath.Join(home, "log", tt.wantPath); banner.Path != want || banner.Version != tt.wantVersion {
				t.Errorf("banner = %s in %s, want %s in %s", banner.Version, banner.Path, tt.wantVersion, want)
			}
			if !strings.Contains(banner.Detail, "Kaazing WebSocket Gateway ("+tt.wantVersion+")") || strings.ContainsAny(banner.Detail, "\r\n") {
				t.Errorf("banner detail = %q, want the clean banner line", banner.Detail)
			}
			var keys []string
			for _, p := range problems {
				keys = append(keys, p.Key)
			}
			if want := tt.wantProblem; (want == "") != (len(keys) == 0) || want != "" && !slices.Contains(keys, want) {
				t.Errorf("problems = %v, want %q", problems, want)
			}
		})
	}
}

// On the real disk: a log directory that cannot be listed is reported.
func TestReadReleaseUnreadableLogDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permissions do not stop root from reading")
	}
	home := filepath.Join(t.TempDir(), "kaazing-community-gateway-5.6.2")
	logDir := filepath.Join(home, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(logDir, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(logDir, 0o755) })
	_, problems := scan.ReadRelease(afero.NewOsFs(), home, nil)
	if len(problems) != 1 || problems[0].Key != "log-unreadable" || problems[0].Path != logDir {
		t.Errorf("problems = %v, want one log-unreadable for %s", problems, logDir)
	}
}

func TestBestRelease(t *testing.T) {
	ev := func(kind scan.EvidenceKind, version, edition string) scan.Evidence {
		return scan.Evidence{Kind: kind, Path: "/" + string(kind), Version: version, Edition: edition}
	}
	const (
		manifest = scan.EvidenceManifest
		banner   = scan.EvidenceLogBanner
		folder   = scan.EvidenceFolder
		readme   = scan.EvidenceReadme
		ns       = scan.EvidenceNamespace
	)
	tests := []struct {
		name         string
		evidence     []scan.Evidence
		wantRelease  string
		wantEdition  string
		wantProblems []string
	}{
		{"nothing", nil, "", "", []string{"release-unknown"}},
		{"edition only", []scan.Evidence{ev(readme, "", "Community")}, "", "Community", []string{"release-unknown"}},
		{"namespace range only", []scan.Evidence{ev(ns, "5.1-5.2", "")}, "", "", []string{"release-unknown"}},
		{"namespace line only", []scan.Evidence{ev(ns, "4.0", "")}, "4.0", "", nil},
		{"readme line refined by folder", []scan.Evidence{ev(readme, "4.0", ""), ev(folder, "4.0.7", "JMS")}, "4.0.7", "JMS", nil},
		{"folder 3-part, build 4-part", []scan.Evidence{ev(folder, "5.0.0", "Community"), ev(banner, "5.0.0.15", "")}, "5.0.0.15", "Community", nil},
		{"manifest wins whatever the order", []scan.Evidence{ev(folder, "5.0.1", "Community"), ev(manifest, "4.0.9.383", "JMS")}, "4.0.9.383", "JMS", []string{"release-evidence-conflict"}},
		{"not restarted", []scan.Evidence{ev(manifest, "5.6.2", "Community"), ev(banner, "5.6.1", "")}, "5.6.2", "Community", []string{"release-not-restarted"}},
		{"downgraded, not restarted", []scan.Evidence{ev(manifest, "5.6.1", ""), ev(banner, "5.6.2", "")}, "5.6.1", "", []string{"release-not-restarted"}},
		{"banner without manifest vs folder", []scan.Evidence{ev(banner, "5.6.2", ""), ev(folder, "5.6.1", "Community")}, "5.6.2", "Community", []string{"release-evidence-conflict"}},
		{"manifests disagree", []scan.Evidence{ev(manifest, "5.7.3", "Enterprise"), ev(manifest, "5.7.2", "Community")}, "5.7.3", "Enterprise", []string{"release-evidence-conflict"}},
		{"enterprise wins over a more reliable community", []scan.Evidence{ev(manifest, "5.7.3", "Community"), ev(readme, "", "Enterprise")}, "5.7.3", "Enterprise", nil},
		{"old namespace is fine", []scan.Evidence{ev(manifest, "5.6.2", ""), ev(ns, "4.0", "")}, "5.6.2", "", nil},
		{"namespace range contains release", []scan.Evidence{ev(manifest, "5.2.1", ""), ev(ns, "5.1-5.2", "")}, "5.2.1", "", nil},
		{"namespace newer than release", []scan.Evidence{ev(manifest, "5.0.1.52", ""), ev(ns, "5.1-5.2", "")}, "5.0.1.52", "", []string{"release-evidence-conflict"}},
		{"namespace newer than 4.0", []scan.Evidence{ev(folder, "4.0.7", "JMS"), ev(ns, "5.0", "")}, "4.0.7", "JMS", []string{"release-evidence-conflict"}},
		{"2016/06 namespace on 5.6.2", []scan.Evidence{ev(manifest, "5.6.2", ""), ev(ns, "5.2.3+", "")}, "5.6.2", "", nil},
		{"2016/06 namespace on 5.2.1", []scan.Evidence{ev(manifest, "5.2.1", ""), ev(ns, "5.2.3+", "")}, "5.2.1", "", []string{"release-evidence-conflict"}},
		{"2016/06 namespace on a 5.2 README", []scan.Evidence{ev(readme, "5.2", ""), ev(ns, "5.2.3+", "")}, "5.2", "", nil},
		{"pre-3.0 namespace on 4.0.7", []scan.Evidence{ev(folder, "4.0.7", ""), ev(ns, "pre-3.0", "")}, "4.0.7", "", nil},
		{"open namespace only", []scan.Evidence{ev(ns, "5.2.3+", "")}, "", "", []string{"release-unknown"}},
		{"garbage versions are ignored", []scan.Evidence{ev(manifest, "${project.version}", ""), ev(folder, "5.6.2", "")}, "5.6.2", "", nil},
		{"snapshot", []scan.Evidence{ev(manifest, "develop-SNAPSHOT", "Community"), ev(banner, "develop-SNAPSHOT", "")}, "develop-SNAPSHOT", "Community", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			release, edition, problems := scan.BestRelease(tt.evidence)
			var keys []string
			for _, p := range problems {
				keys = append(keys, p.Key)
				if p.Message == "" {
					t.Errorf("problem %s has no message", p.Key)
				}
			}
			if release != tt.wantRelease || edition != tt.wantEdition || !slices.Equal(keys, tt.wantProblems) {
				t.Errorf("BestRelease = %q, %q, %v, want %q, %q, %v", release, edition, keys, tt.wantRelease, tt.wantEdition, tt.wantProblems)
			}
		})
	}
}

// Without a version, the release-unknown problem still says what the
// namespace tells.
func TestBestReleaseUnknownNamesNamespace(t *testing.T) {
	for _, line := range []string{"5.2.3+", "pre-3.0", "5.1-5.2"} {
		_, _, problems := scan.BestRelease([]scan.Evidence{{Kind: scan.EvidenceNamespace, Path: "/gw/conf/gateway-config.xml", Version: line}})
		if len(problems) != 1 || !strings.Contains(problems[0].Message, line) {
			t.Errorf("BestRelease(namespace %s) problems = %v, want release-unknown naming the line", line, problems)
		}
	}
}

// The not-restarted message names both versions and both files.
func TestBestReleaseNotRestartedMessage(t *testing.T) {
	_, _, problems := scan.BestRelease([]scan.Evidence{
		{Kind: scan.EvidenceLogBanner, Path: "/gw/log/error.log", Version: "4.0.7.596"},
		{Kind: scan.EvidenceManifest, Path: "/gw/lib/com.kaazing.gateway.jms.assembly.version.jar", Version: "4.0.9.626"},
	})
	if len(problems) != 1 {
		t.Fatalf("problems = %v, want one", problems)
	}
	for _, want := range []string{"4.0.7.596", "4.0.9.626", "/gw/log/error.log", "/gw/lib/com.kaazing.gateway.jms.assembly.version.jar"} {
		if !strings.Contains(problems[0].Message, want) {
			t.Errorf("message %q does not name %s", problems[0].Message, want)
		}
	}
}

// On the real disk: jars and logs may be symbolic links (a log directory
// moved to /var/log), and a FIFO named like a log must not block the scan.
func TestReadReleaseOnDisk(t *testing.T) {
	root := t.TempDir()
	home := filepath.Join(root, "kaazing-community-gateway-5.6.2")
	write := func(name string, data []byte) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(root, "dist", "gateway.server.jar"), scantest.Jar("Implementation-Version: 5.6.2", "Kaazing-Product: Community.Gateway"))
	write(filepath.Join(root, "var", "service.log"), []byte(junkLines(3)+"INFO  Kaazing WebSocket Gateway (5.6.2)\n"))
	if err := os.MkdirAll(filepath.Join(home, "lib"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "log"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(root, "dist", "gateway.server.jar"), filepath.Join(home, "lib", "gateway.server.jar")); err != nil {
		t.Skipf("no symbolic links here: %v", err)
	}
	if err := os.Symlink(filepath.Join(root, "var", "service.log"), filepath.Join(home, "log", "service.log")); err != nil {
		t.Fatal(err)
	}
	if err := mkfifo(filepath.Join(home, "log", "error.log")); err != nil {
		t.Logf("no FIFO: %v", err)
	}
	if err := os.Symlink(filepath.Join(root, "nowhere"), filepath.Join(home, "log", "error.log.1")); err != nil {
		t.Fatal(err)
	}

	done := make(chan struct{})
	var evidence []scan.Evidence
	var problems []scan.Problem
	go func() {
		defer close(done)
		evidence, problems = scan.ReadRelease(afero.NewOsFs(), home, nil)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ReadRelease blocked (on the FIFO?)")
	}
	var got []string
	for _, e := range evidence {
		got = append(got, evidenceLine(e))
	}
	want := []string{
		"manifest " + filepath.Join(home, "lib", "gateway.server.jar") + " 5.6.2 Community",
		"log-banner " + filepath.Join(home, "log", "service.log") + " 5.6.2 -",
		"folder-name " + home + " 5.6.2 Community",
	}
	if !slices.Equal(got, want) || len(problems) != 0 {
		t.Errorf("ReadRelease =\n%s\n%v\nwant\n%s", strings.Join(got, "\n"), problems, strings.Join(want, "\n"))
	}
}

// Many big rotated logs without a banner cost a bounded read, and the
// operator is told the search stopped.
func TestReadReleaseLogBudget(t *testing.T) {
	home := filepath.Join(t.TempDir(), "gw")
	logDir := filepath.Join(home, "log")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		t.Fatal(err)
	}
	base := time.Date(2017, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 8 {
		name := filepath.Join(logDir, fmt.Sprintf("error.log.%d", i+1))
		f, err := os.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		size := int64(scan.BannerScanLimit + 1<<20)
		if i == 7 {
			// The oldest one has the banner, but too far back to be reached.
			if _, err := f.WriteString("INFO  Kaazing Gateway (5.0.0.15)\n"); err != nil {
				t.Fatal(err)
			}
			size = 100
		}
		if err := f.Truncate(size); err != nil {
			t.Skipf("cannot make a sparse file here: %v", err)
		}
		f.Close()
		mtime := base.Add(-time.Duration(i) * time.Hour)
		if err := os.Chtimes(name, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	start := time.Now()
	evidence, problems := scan.ReadRelease(afero.NewOsFs(), home, nil)
	if len(evidence) != 0 {
		t.Errorf("evidence = %v, want none", evidence)
	}
	var keys []string
	for _, p := range problems {
		keys = append(keys, p.Key)
	}
	// Four logs fill the budget, each hits the per-log limit, then the search stops.
	want := []string{"log-scan-limit", "log-scan-limit", "log-scan-limit", "log-scan-limit", "log-scan-limit"}
	if !slices.Equal(keys, want) {
		t.Errorf("problems = %v, want %v", problems, want)
	}
	t.Logf("read %d logs' tails in %v", 4, time.Since(start))
}

// corpusDir holds real files from public Gateway repositories (see
// /work/shared/corpus/INDEX.md); they are read in place, never copied into
// this repository, and the test is skipped where they are absent.
const corpusDir = "/work/shared/corpus"

func readCorpus(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(corpusDir, name))
	if err != nil {
		t.Skipf("corpus not available: %v", err)
	}
	return data
}

func TestReadReleaseCorpus(t *testing.T) {
	tests := []struct {
		file        string
		as          string // where it goes in the home
		wantKind    scan.EvidenceKind
		wantVersion string
		wantEdition string
	}{
		{"nemigaservices__kaazingtutorials/kaazing-websocket-gateway-jms-4.0.7__README.txt", "README.txt", scan.EvidenceReadme, "4.0", ""},
		{"kaazing__gateway/tag-5.0.0.15__base__src__main__gateway__README.md", "README.md", scan.EvidenceReadme, "5.0", ""},
		{"kaazing__gateway/tag-5.0.0.9__base__src__main__gateway__README.txt", "README.txt", "", "", ""},
		{"kaazing__gateway/tag-5.6.2__distribution__src__main__gateway__README.txt", "README.txt", scan.EvidenceReadme, "", "Community"},
		{"kaazing__template-simple-chat-app/ee-gateway__README.txt", "README.txt", scan.EvidenceReadme, "", "Enterprise"},
		{"kaazing__template-simple-chat-app/ee-gateway__license__README.txt", "README.txt", "", "", ""},
		{"nemigaservices__kaazingtutorials/kaazing-websocket-gateway-jms-4.0.7__web__README.txt", "README.txt", "", "", ""},
		{"daniel-smith-kaazing__projects/mqtt-javascript__4.0__README.md.gateway-4.0.9-docker-log-excerpt.log", "log/error.log", scan.EvidenceLogBanner, "4.0.9.383", ""},
		{"hamn07__hamn07.github.io/c0648e3e__source___posts__configuration.md.kaazing-5.0.0.15-console-excerpt.log", "log/service.log", scan.EvidenceLogBanner, "5.0.0.15", ""},
		{"kaazing__gateway/tag-5.6.2__distribution__src__main__gateway__conf__log4j-config.xml", "log/error.log", "", "", ""},
	}
	const home = "/opt/gw"
	for _, tt := range tests {
		t.Run(filepath.Base(tt.file), func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			if err := afero.WriteFile(fsys, filepath.Join(home, tt.as), readCorpus(t, tt.file), 0o644); err != nil {
				t.Fatal(err)
			}
			evidence, problems := scan.ReadRelease(fsys, home, nil)
			if len(problems) != 0 {
				t.Errorf("problems: %v", problems)
			}
			if tt.wantKind == "" {
				if len(evidence) != 0 {
					t.Errorf("evidence = %+v, want none", evidence)
				}
				return
			}
			if len(evidence) != 1 {
				t.Fatalf("evidence = %+v, want one piece", evidence)
			}
			e := evidence[0]
			if e.Kind != tt.wantKind || e.Version != tt.wantVersion || e.Edition != tt.wantEdition {
				t.Errorf("evidence = %s %q %q, want %s %q %q", e.Kind, e.Version, e.Edition, tt.wantKind, tt.wantVersion, tt.wantEdition)
			}
		})
	}
}

func TestLogDirs(t *testing.T) {
	tests := []struct {
		layout  scan.Layout
		defines map[string]string
		want    []string
	}{
		{scan.LayoutArchive, nil, nil},
		{scan.LayoutInstaller, nil, []string{"/var/log/kaazing"}},
		{scan.LayoutArchive, map[string]string{"GATEWAY_LOG_DIRECTORY": "/srv/app/log"}, []string{"/srv/app/log"}},
		{scan.LayoutInstaller, map[string]string{"GATEWAY_LOG_DIRECTORY": " logs "}, []string{"logs", "/var/log/kaazing"}},
		{scan.LayoutDocker, map[string]string{"GATEWAY_LOG_DIRECTORY": ""}, nil},
	}
	for _, tt := range tests {
		if got := scan.LogDirs(tt.layout, tt.defines); !slices.Equal(got, tt.want) {
			t.Errorf("LogDirs(%s, %v) = %q, want %q", tt.layout, tt.defines, got, tt.want)
		}
	}
}
