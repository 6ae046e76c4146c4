package backup

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// benchHome generates, once per machine, a release-sized home under
// os.TempDir(): about 60 MB in 1,000 files, half incompressible random
// bytes (jars), half text-like (configs, web pages, docs).
func benchHome(b *testing.B) string {
	b.Helper()
	home := filepath.Join(os.TempDir(), "gwup-bench-home-v2")
	done := filepath.Join(home, ".complete")
	if _, err := os.Stat(done); err == nil {
		return home
	}
	must(b, os.RemoveAll(home))
	rng := rand.New(rand.NewPCG(1, 2))
	words := strings.Fields("gateway service accept connect property name value ws tcp http " +
		"cluster balancer realm authorization user role keystore truststore session jms amqp " +
		"<service> </service> <accept> </accept> ${gateway.hostname}:8000 proxy echo broadcast")
	const files, size = 1000, 60 << 10
	for i := range files {
		var dir, name string
		var data []byte
		n := size/2 + rng.IntN(size)
		if i%2 == 0 {
			dir, name = "lib", fmt.Sprintf("module-%04d.jar", i)
			data = make([]byte, n)
			for j := range data {
				data[j] = byte(rng.Uint32())
			}
		} else {
			dir = []string{"conf", "web/extras/docs", "web/base", "error-pages"}[i/2%4]
			name = fmt.Sprintf("file-%04d.xml", i)
			var sb strings.Builder
			for sb.Len() < n {
				sb.WriteString(words[rng.IntN(len(words))])
				if rng.IntN(12) == 0 {
					sb.WriteString("\n")
				} else {
					sb.WriteString(" ")
				}
			}
			data = []byte(sb.String())
		}
		p := filepath.Join(home, dir, name)
		must(b, os.MkdirAll(filepath.Dir(p), 0o755))
		must(b, os.WriteFile(p, data, 0o644))
	}
	must(b, os.WriteFile(done, nil, 0o644))
	return home
}

// BenchmarkBackupAll times gwup backup --all of a release-sized home (with
// its read-back verification) against tar -czf and, when pigz is on PATH,
// tar -I pigz, and reports backup/tar and backup/pigz time ratios.
func BenchmarkBackupAll(b *testing.B) {
	if testing.Short() {
		b.Skip("generates a 60 MB home")
	}
	home := benchHome(b)
	out := b.TempDir()
	fsys := afero.NewOsFs()
	pigz, _ := exec.LookPath("pigz")
	want := 0 // every file of the home: --all takes them all
	must(b, filepath.WalkDir(home, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			want++
		}
		return err
	}))
	var gwupT, tarT, pigzT time.Duration
	var size, tarSize int64
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		sel, err := Select(context.Background(), fsys, install(home), SelectOptions{All: true})
		must(b, err)
		res, err := Save(context.Background(), fsys, sel, Options{Output: filepath.Join(out, fmt.Sprintf("g%d.tar.gz", i))})
		must(b, err)
		gwupT += time.Since(start)
		if got := len(res.Manifest.Entries); got != want {
			b.Fatalf("backup --all holds %d entries, the home has %d files", got, want)
		}
		fi, _ := os.Stat(res.Path)
		size = fi.Size()

		start = time.Now()
		tarOut := filepath.Join(out, fmt.Sprintf("t%d.tar.gz", i))
		if o, err := exec.Command("tar", "-C", home, "-czf", tarOut, ".").CombinedOutput(); err != nil {
			b.Fatalf("tar: %v: %s", err, o)
		}
		tarT += time.Since(start)
		fi, _ = os.Stat(tarOut)
		tarSize = fi.Size()

		if pigz != "" {
			start = time.Now()
			if o, err := exec.Command("tar", "-I", "pigz", "-C", home, "-cf", filepath.Join(out, fmt.Sprintf("p%d.tar.gz", i)), ".").CombinedOutput(); err != nil {
				b.Fatalf("tar -I pigz: %v: %s", err, o)
			}
			pigzT += time.Since(start)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(gwupT.Milliseconds())/float64(b.N), "backup-ms/op")
	b.ReportMetric(float64(tarT.Milliseconds())/float64(b.N), "tar-ms/op")
	b.ReportMetric(gwupT.Seconds()/tarT.Seconds(), "backup/tar")
	b.ReportMetric(float64(size)/float64(tarSize), "size-backup/tar")
	if pigz != "" {
		b.ReportMetric(gwupT.Seconds()/pigzT.Seconds(), "backup/pigz")
	} else {
		b.Log("pigz not on PATH: no backup/pigz ratio")
	}
}
