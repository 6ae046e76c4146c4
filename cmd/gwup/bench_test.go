//go:build linux

package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan/scantest"
)

// BenchmarkScanCommand times the whole 'gwup scan ROOT' (walk, inspection of
// every home, analysis, JSON report) as an operator runs it, against
// 'find ROOT -name gateway-config.xml' (and fdfind when installed) on the
// same generated server tree, warm caches on every side. It reports the
// ratios gwup/find and gwup/fd (below 1: gwup is faster) and gwup's peak
// RSS, measured by GNU time around the binary when /usr/bin/time exists.
func BenchmarkScanCommand(b *testing.B) {
	if testing.Short() {
		b.Skip("scans a generated tree of a million entries")
	}
	root, homes, err := scantest.CachedServerTree(1_000_000)
	if err != nil {
		b.Fatal(err)
	}
	gwup := filepath.Join(b.TempDir(), "gwup")
	if out, err := exec.Command("go", "build", "-o", gwup, ".").CombinedOutput(); err != nil {
		b.Fatalf("go build: %v\n%s", err, out)
	}
	fd, _ := exec.LookPath("fdfind")
	scanArgs := []string{"scan", "--json", "--fail-on", "never", root}

	// Warm up, and check that gwup finds every home the generator hid.
	out := runBench(b, gwup, scanArgs...)
	for _, h := range homes {
		if !bytes.Contains(out, []byte(`"home": "`+h+`"`)) {
			b.Fatalf("gwup scan did not report %s", h)
		}
	}
	runBench(b, "find", root, "-name", "gateway-config.xml")
	if fd != "" {
		runBench(b, fd, "-u", "-g", "gateway-config.xml", root)
	}

	var gwupTime, findTime, fdTime time.Duration
	for b.Loop() {
		gwupTime += timed(func() { runBench(b, gwup, scanArgs...) })
		b.StopTimer()
		findTime += timed(func() { runBench(b, "find", root, "-name", "gateway-config.xml") })
		if fd != "" {
			fdTime += timed(func() { runBench(b, fd, "-u", "-g", "gateway-config.xml", root) })
		}
		b.StartTimer()
	}
	b.StopTimer()
	b.ReportMetric(gwupTime.Seconds()*1000/float64(b.N), "gwup-ms")
	b.ReportMetric(findTime.Seconds()*1000/float64(b.N), "find-ms")
	b.ReportMetric(gwupTime.Seconds()/findTime.Seconds(), "gwup/find")
	if fd != "" {
		b.ReportMetric(fdTime.Seconds()*1000/float64(b.N), "fd-ms")
		b.ReportMetric(gwupTime.Seconds()/fdTime.Seconds(), "gwup/fd")
	}
	if _, err := os.Stat("/usr/bin/time"); err == nil {
		// GNU time forks gwup from its own small process, so the peak RSS
		// it reports is gwup's (a child of this benchmark would inherit
		// the benchmark's).
		cmd := exec.Command("/usr/bin/time", append([]string{"-f", "maxrss-kib=%M", gwup}, scanArgs...)...)
		var stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = nil, &stderr
		if err := cmd.Run(); err != nil {
			b.Fatalf("time gwup: %v\n%s", err, stderr.Bytes())
		}
		if _, v, ok := strings.Cut(stderr.String(), "maxrss-kib="); ok {
			if kib, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
				b.ReportMetric(float64(kib)/1024, "gwup-maxrss-MiB")
			}
		}
	}
}

func timed(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func runBench(b *testing.B, name string, args ...string) []byte {
	out, err := exec.Command(name, args...).Output()
	if err != nil {
		b.Fatalf("%s %s: %v", name, strings.Join(args, " "), err)
	}
	return out
}
