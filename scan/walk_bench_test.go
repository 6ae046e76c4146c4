//go:build unix

package scan_test

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/spf13/afero"
)

// helperRootEnv makes TestHelperFindHomes run FindHomes on its value: the
// benchmark re-executes the test binary with it to measure gwup's peak RSS
// in a process of its own.
const helperRootEnv = "GWUP_HELPER_FINDHOMES_ROOT"

// TestHelperFindHomes is not a test: it is the child process of
// BenchmarkFindHomes, which reads its peak RSS from the kernel.
func TestHelperFindHomes(t *testing.T) {
	root := os.Getenv(helperRootEnv)
	if root == "" {
		t.Skip("helper process of BenchmarkFindHomes")
	}
	homes, cov, err := scan.FindHomes(context.Background(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	fmt.Printf("homes=%d dirs=%d\n", len(homes), cov.DirsVisited)
	if hwm, ok := peakRSSOfSelf(); ok {
		fmt.Printf("vmhwm=%d\n", hwm)
	}
}

// peakRSSOfSelf reads VmHWM, this process's peak RSS, from
// /proc/self/status (Linux only). It is read by the process itself because
// the rusage of a child is no good here: Linux starts a child's ru_maxrss at
// the peak RSS of the parent that forked it (the benchmark, with its own heap),
// so it would measure the benchmark, not FindHomes.
func peakRSSOfSelf() (int64, bool) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			var kib int64
			if _, err := fmt.Sscanf(strings.TrimSpace(rest), "%d kB", &kib); err == nil {
				return kib * 1024, true
			}
		}
	}
	return 0, false
}

// BenchmarkFindHomes times FindHomes against find (and fd when installed as
// fdfind) on generated server trees, caches warm on both sides, and reports
// the ratios gwup/find and gwup/fd (below 1 means gwup is faster) and gwup's
// peak RSS. The trees are generated once and kept under os.TempDir() for the
// next run (gwup-bench-tree-<entries>).
func BenchmarkFindHomes(b *testing.B) {
	if testing.Short() {
		b.Skip("generates trees of up to a million entries")
	}
	for _, n := range []int{250_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) { benchFindHomes(b, n) })
	}
}

func benchFindHomes(b *testing.B, entries int) {
	root, want := benchTree(b, entries)
	fd, _ := exec.LookPath("fdfind")
	fsys := afero.NewOsFs()
	opts := scan.WalkOptions{Roots: []string{root}}

	// Warm the caches for every contender, and check that they agree.
	homes, _, err := scan.FindHomes(b.Context(), fsys, opts)
	if err != nil {
		b.Fatal(err)
	}
	if got := homePaths(homes); !slices.Equal(got, want) {
		b.Fatalf("FindHomes found %q, want %q", got, want)
	}
	if got := runTool(b, "find", root, "-name", "gateway-config.xml"); got != len(want) {
		b.Fatalf("find found %d gateway-config.xml, want %d", got, len(want))
	}
	if fd != "" {
		if got := runTool(b, fd, "-u", "-g", "gateway-config.xml", root); got != len(want) {
			b.Fatalf("fdfind found %d gateway-config.xml, want %d", got, len(want))
		}
	}

	var gwupTime, findTime, fdTime time.Duration
	for b.Loop() {
		start := time.Now()
		if _, _, err := scan.FindHomes(b.Context(), fsys, opts); err != nil {
			b.Fatal(err)
		}
		gwupTime += time.Since(start)

		b.StopTimer()
		start = time.Now()
		runTool(b, "find", root, "-name", "gateway-config.xml")
		findTime += time.Since(start)
		if fd != "" {
			start = time.Now()
			runTool(b, fd, "-u", "-g", "gateway-config.xml", root)
			fdTime += time.Since(start)
		}
		b.StartTimer()
	}
	b.StopTimer()

	rss := helperRSS(b, root)
	b.ReportMetric(float64(gwupTime.Milliseconds())/float64(b.N), "gwup-ms")
	b.ReportMetric(float64(findTime.Milliseconds())/float64(b.N), "find-ms")
	b.ReportMetric(gwupTime.Seconds()/findTime.Seconds(), "gwup/find")
	if fd != "" {
		b.ReportMetric(float64(fdTime.Milliseconds())/float64(b.N), "fd-ms")
		b.ReportMetric(gwupTime.Seconds()/fdTime.Seconds(), "gwup/fd")
	}
	b.ReportMetric(float64(rss)/(1<<20), "gwup-maxrss-MiB")
}

// benchTree returns a generated tree of about entries entries and its homes,
// generating it on the first run only.
func benchTree(b *testing.B, entries int) (string, []string) {
	start := time.Now()
	root, homes, err := scantest.CachedServerTree(entries)
	if err != nil {
		b.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		b.Logf("generated %s (%d entries) in %v", root, entries, d.Round(time.Millisecond))
	}
	return root, homes
}

// runTool runs a command and returns how many lines it printed.
func runTool(b *testing.B, name string, args ...string) int {
	cmd := exec.Command(name, args...)
	var out bytes.Buffer
	cmd.Stdout = &out
	if err := cmd.Run(); err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	return bytes.Count(out.Bytes(), []byte("\n"))
}

// helperRSS runs FindHomes over root in a child process (this test binary
// running TestHelperFindHomes) and returns its peak RSS in bytes: VmHWM as
// the child reports it, or where there is no /proc its rusage, which then
// errs on the high side.
func helperRSS(b *testing.B, root string) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFindHomes$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperRootEnv+"="+root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		b.Fatalf("helper: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("homes=")) {
		b.Fatalf("helper did not run FindHomes:\n%s", out)
	}
	if _, rest, ok := bytes.Cut(out, []byte("vmhwm=")); ok {
		var hwm int64
		if _, err := fmt.Sscanf(string(rest), "%d", &hwm); err == nil {
			return hwm
		}
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		return 0
	}
	if runtime.GOOS == "darwin" {
		return int64(ru.Maxrss) // bytes there, KiB on the others
	}
	return int64(ru.Maxrss) * 1024
}

func homePaths(homes []scan.Home) []string {
	var paths []string
	for _, h := range homes {
		paths = append(paths, h.Path)
	}
	return paths
}
