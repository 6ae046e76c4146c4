package scan_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/txtar"

	"github.com/kaazing-tools/gwup/scan"
)

// Banner lines as real gateways write them (see kaazing-facts.md §2.2).
const (
	banner5015  = "INFO  Kaazing Gateway (5.0.0.15)"
	banner40383 = "gateway_1 | com.kaazing.gateway.server.Gateway 2016-03-30 21:02:33,448 INFO  com.kaazing.gateway.server.Gateway [main] Kaazing WebSocket Gateway (4.0.9.383)"
	banner562   = "2017-02-01 10:00:00,001 [main] INFO  Kaazing WebSocket Gateway (5.6.2)"
	bannerDev   = "INFO  Kaazing Gateway (develop-SNAPSHOT)"
)

// junkLines returns n lines of ordinary log noise, none of them a banner.
func junkLines(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "2017-02-01 10:00:%02d,%03d [pool-1-thread-1] WARN  Unable to bind to resource: tcp://0.0.0.0:%d cause: Address already in use\n", i%60, i%1000, 8000+i%100)
	}
	return b.String()
}

// writeLog writes content to a file in a temp dir and returns it opened.
func writeLog(t *testing.T, content []byte) (*os.File, int64) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "error.log")
	if err := os.WriteFile(name, content, 0o644); err != nil {
		t.Fatal(err)
	}
	return openLog(t, name)
}

func openLog(t *testing.T, name string) (*os.File, int64) {
	t.Helper()
	f, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	info, err := f.Stat()
	if err != nil {
		t.Fatal(err)
	}
	return f, info.Size()
}

func TestReadBanner(t *testing.T) {
	tests := []struct {
		name        string
		content     string
		wantVersion string
		wantLine    string // "" means the banner line itself is not checked
	}{
		{"5.0.0.15 console", "✔ /usr/local/kaazing-gateway-community-5.0.0/bin\n06:01 $ ./gateway.start\n" + banner5015 + "\nINFO  Configuration file: /usr/local/kaazing-gateway-community-5.0.0/conf/gateway-config-minimal.xml\nINFO  Starting server\n", "5.0.0.15", banner5015},
		{"4.0.9 docker CRLF", strings.ReplaceAll(junkLines(3)+banner40383+"\n"+junkLines(5), "\n", "\r\n"), "4.0.9.383", banner40383},
		{"newest of several wins", banner40383 + "\n" + junkLines(10) + banner5015 + "\n" + junkLines(10) + banner562 + "\n" + junkLines(10), "5.6.2", banner562},
		{"last line without newline", junkLines(2) + banner562, "5.6.2", banner562},
		{"development build", junkLines(2) + bannerDev + "\n", "develop-SNAPSHOT", bannerDev},
		{"edition in the title", "INFO  Kaazing WebSocket Gateway - JMS Edition (4.0.7.596)\n", "4.0.7.596", ""},
		{"upper case product name", "INFO  KAAZING Gateway (5.0.1.52)  \n", "5.0.1.52", ""},
		{"old community title", "INFO  Kaazing Community Gateway (5.0.0.9)\n", "5.0.0.9", ""},
		{"title without version is skipped", banner562 + "\nINFO  Kaazing WebSocket Gateway (Development)\n", "5.6.2", ""},
		{"README line is not a banner", "Kaazing WebSocket Gateway (Community Edition)\n", "", ""},
		{"banner text inside a longer line", "WARN  upgrade note: Kaazing Gateway (5.0.0) is old, see docs\n", "", ""},
		{"version with spaces", "INFO  Kaazing Gateway (5.0 .1)\n", "", ""},
		{"product must be Kaazing", "INFO  Other Gateway (5.6.2)\nINFO  Gateway (5.6.2)\n", "", ""},
		{"no banner", junkLines(100), "", ""},
		{"empty", "", "", ""},
		{"only newlines", "\n\n\r\n\n", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, size := writeLog(t, []byte(tt.content))
			version, line, ok, err := scan.ReadBanner(f, size)
			if err != nil {
				t.Fatalf("ReadBanner: %v", err)
			}
			if ok != (tt.wantVersion != "") || version != tt.wantVersion {
				t.Fatalf("ReadBanner = %q, %q, %v, want %q", version, line, ok, tt.wantVersion)
			}
			if tt.wantLine != "" && line != tt.wantLine {
				t.Errorf("ReadBanner line = %q, want %q", line, tt.wantLine)
			}
		})
	}
}

// A banner at the very start of a 50 MB log (a gateway that has run for a
// while) must be found behind all the later lines.
func TestReadBannerAtStartOfBigLog(t *testing.T) {
	var b bytes.Buffer
	b.WriteString(banner40383 + "\r\n")
	junk := junkLines(1000)
	for b.Len() < 50<<20 {
		b.WriteString(junk)
	}
	f, size := writeLog(t, b.Bytes())
	version, _, ok, err := scan.ReadBanner(f, size)
	if err != nil || !ok || version != "4.0.9.383" {
		t.Fatalf("ReadBanner on a %d MiB log = %q, %v, %v, want 4.0.9.383", size>>20, version, ok, err)
	}
}

// A banner that straddles a read-block boundary is found whole, wherever
// the boundary falls in it.
func TestReadBannerAcrossBlockBoundaries(t *testing.T) {
	const block = 256 << 10
	for _, shift := range []int{-1, 0, 1, 2, 10, len(banner562) - 1, len(banner562), len(banner562) + 1} {
		tail := strings.Repeat("x", block-shift) + "\n"
		content := junkLines(5) + banner562 + "\n" + tail
		version, _, ok, err := scan.ReadBanner(strings.NewReader(content), int64(len(content)))
		if err != nil || !ok || version != "5.6.2" {
			t.Errorf("shift %d: ReadBanner = %q, %v, %v, want 5.6.2", shift, version, ok, err)
		}
	}
}

// Binary junk, NUL bytes and lines far longer than any banner must neither
// crash nor produce a false banner, and must not hide a real one before them.
func TestReadBannerBinaryGarbage(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	garbage := make([]byte, 3<<20)
	for i := range garbage {
		garbage[i] = byte(rng.UintN(256))
	}
	// Sprinkle almost-banners into the noise.
	for i := 0; i+200 < len(garbage); i += 77777 {
		copy(garbage[i:], "Kaazing Gateway (5.6.2\x00)\nKaazing Gateway (\xff.1)\n")
	}
	t.Run("garbage only", func(t *testing.T) {
		f, size := writeLog(t, garbage)
		if version, line, ok, err := scan.ReadBanner(f, size); ok || err != nil {
			t.Errorf("ReadBanner on garbage = %q, %q, %v, %v, want nothing", version, line, ok, err)
		}
	})
	t.Run("banner before garbage", func(t *testing.T) {
		content := append([]byte(junkLines(3)+banner5015+"\n"), garbage...)
		f, size := writeLog(t, content)
		if version, _, ok, err := scan.ReadBanner(f, size); !ok || err != nil || version != "5.0.0.15" {
			t.Errorf("ReadBanner = %q, %v, %v, want 5.0.0.15", version, ok, err)
		}
	})
	t.Run("banner before one huge line", func(t *testing.T) {
		content := []byte(banner5015 + "\n" + strings.Repeat("Kaazing Gateway (9.9.9)", 100000) + "\n")
		f, size := writeLog(t, content)
		if version, _, ok, err := scan.ReadBanner(f, size); !ok || err != nil || version != "5.0.0.15" {
			t.Errorf("ReadBanner = %q, %v, %v, want 5.0.0.15", version, ok, err)
		}
	})
}

// sparseLog makes a file of the given size whose only content is text
// written at offset at; the rest reads as NUL bytes and costs no disk.
func sparseLog(t *testing.T, size, at int64, text string) (*os.File, int64) {
	t.Helper()
	name := filepath.Join(t.TempDir(), "error.log")
	f, err := os.Create(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(size); err != nil {
		t.Skipf("cannot make a sparse file here: %v", err)
	}
	if _, err := f.WriteAt([]byte(text), at); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return openLog(t, name)
}

// A 2 GB log with a banner near its end costs only its tail.
func TestReadBannerHugeLogIsFast(t *testing.T) {
	const size = 2 << 30
	text := "\n" + banner562 + "\n" + junkLines(100)
	f, got := sparseLog(t, size, size-int64(len(text))-4096, text)
	start := time.Now()
	version, _, ok, err := scan.ReadBanner(f, got)
	elapsed := time.Since(start)
	if err != nil || !ok || version != "5.6.2" {
		t.Fatalf("ReadBanner = %q, %v, %v, want 5.6.2", version, ok, err)
	}
	if elapsed > time.Second {
		t.Errorf("ReadBanner on a 2 GB log took %v, want it to read only the tail", elapsed)
	}
	t.Logf("banner 4 KiB before the end of a 2 GB log found in %v", elapsed)
}

// A banner further back than the scan limit is not searched for, and the
// caller is told why nothing was found.
func TestReadBannerScanLimit(t *testing.T) {
	size := int64(scan.BannerScanLimit + 8<<20)
	f, got := sparseLog(t, size, 0, banner562+"\n")
	version, _, ok, err := scan.ReadBanner(f, got)
	if ok || !errors.Is(err, scan.ErrBannerScanLimit) {
		t.Fatalf("ReadBanner = %q, %v, %v, want no banner and ErrBannerScanLimit", version, ok, err)
	}
	// Just inside the limit it is still found.
	f, got = sparseLog(t, scan.BannerScanLimit-1<<20, 0, banner562+"\n")
	if version, _, ok, err := scan.ReadBanner(f, got); !ok || err != nil || version != "5.6.2" {
		t.Fatalf("ReadBanner inside the limit = %q, %v, %v, want 5.6.2", version, ok, err)
	}
}

// errReaderAt fails every read, like a log on a failing disk.
type errReaderAt struct{}

func (errReaderAt) ReadAt([]byte, int64) (int, error) { return 0, errors.New("input/output error") }

func TestReadBannerReadError(t *testing.T) {
	_, _, ok, err := scan.ReadBanner(errReaderAt{}, 1000)
	if ok || err == nil || !strings.Contains(err.Error(), "input/output error") {
		t.Fatalf("ReadBanner on a failing reader = %v, %v, want the read error", ok, err)
	}
}

// fixtureFiles returns the files of the release fixtures whose name
// contains part, to seed the fuzz targets.
func fixtureFiles(f *testing.F, part string) []txtar.File {
	f.Helper()
	names, err := filepath.Glob("../testdata/release/*.txtar")
	if err != nil || len(names) == 0 {
		f.Fatalf("no release fixtures: %v", err)
	}
	var files []txtar.File
	for _, name := range names {
		a, err := txtar.ParseFile(name)
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range a.Files {
			if strings.Contains("/"+file.Name, part) {
				files = append(files, file)
			}
		}
	}
	return files
}

// FuzzReadBanner checks that no input panics and that a banner found always
// carries a version that parses.
func FuzzReadBanner(f *testing.F) {
	for _, s := range []string{
		banner5015 + "\n", banner40383 + "\r\n", bannerDev, banner562 + "\n" + junkLines(2),
		"Kaazing Gateway ()\n", "Kaazing Gateway (5.6.2", "\x00\xff(\n)", "",
		"INFO  Kaazing WebSocket Gateway - JMS Edition (4.0.7.596)\n",
	} {
		f.Add([]byte(s))
	}
	for _, file := range fixtureFiles(f, "/log/") {
		f.Add(file.Data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		version, line, ok, err := scan.ReadBanner(bytes.NewReader(data), int64(len(data)))
		if err != nil {
			t.Fatalf("ReadBanner: %v", err)
		}
		if !ok {
			if version != "" || line != "" {
				t.Fatalf("ReadBanner = %q, %q without ok", version, line)
			}
			return
		}
		if _, err := scan.ParseVersion(version); err != nil {
			t.Fatalf("ReadBanner found %q in %q: %v", version, line, err)
		}
	})
}

// BenchmarkReadBanner times ReadBanner on a 50 MB log whose only banner is
// on its first line (the worst case within the scan limit) against the
// standard way to find the last match of a file, tac | grep -m1, and
// reports the ratio (tac+grep time / ReadBanner time); ns/op and MB/s are
// those of ReadBanner alone. "5.x" lines never say "gateway"; "4.x" lines
// all do (their logger is com.kaazing.gateway...), so every line is looked at.
func BenchmarkReadBanner(b *testing.B) {
	line4 := "2016-03-30 21:02:34,648 INFO  com.kaazing.gateway.server.transport.nio.AbstractNioAcceptor [main] Bound to resource: tcp://172.17.0.3:8000\n"
	for _, bench := range []struct{ name, junk string }{
		{"5.x", junkLines(1000)},
		{"4.x", strings.Repeat(line4, 1000)},
	} {
		b.Run(bench.name, func(b *testing.B) { benchmarkReadBanner(b, bench.junk) })
	}
}

func benchmarkReadBanner(b *testing.B, junk string) {
	tacPath, errTac := exec.LookPath("tac")
	_, errGrep := exec.LookPath("grep")
	name := filepath.Join(b.TempDir(), "error.log")
	var buf bytes.Buffer
	buf.WriteString(banner562 + "\n")
	for buf.Len() < 50<<20 {
		buf.WriteString(junk)
	}
	if err := os.WriteFile(name, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	f, err := os.Open(name)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	b.SetBytes(int64(buf.Len()))

	var ours, theirs time.Duration
	for b.Loop() {
		start := time.Now()
		version, _, ok, err := scan.ReadBanner(f, int64(buf.Len()))
		ours += time.Since(start)
		if err != nil || !ok || version != "5.6.2" {
			b.Fatalf("ReadBanner = %q, %v, %v", version, ok, err)
		}
		if errTac != nil || errGrep != nil {
			continue
		}
		b.StopTimer()
		start = time.Now()
		out, err := exec.Command("sh", "-c", tacPath+` "$1" | grep -m1 -E 'Kaazing .*Gateway \(' `, "sh", name).Output()
		theirs += time.Since(start)
		if err != nil || !strings.Contains(string(out), "(5.6.2)") {
			b.Fatalf("tac | grep = %q, %v", out, err)
		}
		b.StartTimer()
	}
	if theirs > 0 {
		b.ReportMetric(float64(theirs)/float64(ours), "tac+grep/ReadBanner")
	}
}

// Lines longer than any banner are skipped without being kept in memory,
// wherever they sit relative to the read blocks and to the banners.
func TestReadBannerLongLines(t *testing.T) {
	fake := func(n int) string { // a too-long line that ends like a banner
		return strings.Repeat("x", n) + " Kaazing Gateway (9.9.9)"
	}
	tests := []struct {
		name, content, want string
	}{
		{"long line after the banner", banner5015 + "\n" + fake(100<<10) + "\n", "5.0.0.15"},
		{"long last line without newline", banner5015 + "\n" + fake(100<<10), "5.0.0.15"},
		{"banner after a long line", fake(100<<10) + "\n" + banner562 + "\n", "5.6.2"},
		{"banner between long lines", fake(300<<10) + "\n" + banner562 + "\n" + fake(600<<10) + "\n", "5.6.2"},
		{"long line is the whole file", fake(1 << 20), ""},
		{"line just short enough", strings.Repeat(" ", 16<<10-len(banner562)-1) + banner562 + "\n", "5.6.2"},
	}
	for _, tt := range tests {
		for _, shift := range []int{0, 1, 7, 4096, 100 << 10} {
			content := tt.content + strings.Repeat("\n", shift)
			version, _, ok, err := scan.ReadBanner(strings.NewReader(content), int64(len(content)))
			if err != nil || ok != (tt.want != "") || version != tt.want {
				t.Errorf("%s, shifted by %d: ReadBanner = %q, %v, %v, want %q", tt.name, shift, version, ok, err, tt.want)
			}
		}
	}
}

// A log truncated under the reader (logrotate's copytruncate) is an error,
// not a banner misread from stale bytes.
func TestReadBannerTruncatedWhileReading(t *testing.T) {
	content := banner562 + "\n" + junkLines(10)
	r := strings.NewReader(content)
	_, _, ok, err := scan.ReadBanner(r, int64(len(content))+1000)
	if ok || !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("ReadBanner past the end = %v, %v, want io.ErrUnexpectedEOF", ok, err)
	}
}
