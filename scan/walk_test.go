package scan_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/rogpeppe/go-internal/txtar"
	"github.com/spf13/afero"
)

// recordingFs counts the directories and files opened through it, so a test
// can prove that a pruned directory was never opened.
type recordingFs struct {
	afero.Fs
	mu     sync.Mutex
	opened map[string]int
	onOpen func(n int) // called with the number of opens so far
}

func newRecordingFs(fsys afero.Fs) *recordingFs {
	return &recordingFs{Fs: fsys, opened: map[string]int{}}
}

func (r *recordingFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0 {
		return r.Fs.OpenFile(name, flag, perm)
	}
	return r.Open(name)
}

func (r *recordingFs) Open(name string) (afero.File, error) {
	r.mu.Lock()
	r.opened[name]++
	n := 0
	for _, c := range r.opened {
		n += c
	}
	onOpen := r.onOpen
	r.mu.Unlock()
	if onOpen != nil {
		onOpen(n)
	}
	return r.Fs.Open(name)
}

// openedUnder returns the opened paths that are dir or inside it.
func (r *recordingFs) openedUnder(dir string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var got []string
	for p := range r.opened {
		if p == dir || strings.HasPrefix(p, dir+"/") {
			got = append(got, p)
		}
	}
	slices.Sort(got)
	return got
}

// fixtureHomes reads the homes a fixture expects from its comment, one
// "home: <path> | <layout> | <markers...>" line each.
func fixtureHomes(t *testing.T, a *txtar.Archive) []scan.Home {
	t.Helper()
	var homes []scan.Home
	for _, line := range strings.Split(string(a.Comment), "\n") {
		rest, ok := strings.CutPrefix(line, "home: ")
		if !ok {
			continue
		}
		parts := strings.Split(rest, " | ")
		if len(parts) != 3 {
			t.Fatalf("bad expectation line %q", line)
		}
		homes = append(homes, scan.Home{Path: parts[0], Layout: scan.Layout(parts[1]), Markers: strings.Fields(parts[2])})
	}
	slices.SortFunc(homes, func(a, b scan.Home) int { return strings.Compare(a.Path, b.Path) })
	return homes
}

func TestFindHomesFixtures(t *testing.T) {
	files, err := filepath.Glob("../testdata/walk/*.txtar")
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures: %v", err)
	}
	for _, file := range files {
		t.Run(filepath.Base(file), func(t *testing.T) {
			a, err := txtar.ParseFile(file)
			if err != nil {
				t.Fatal(err)
			}
			want := fixtureHomes(t, a)
			fsys := scantest.LoadFile(t, file, "/")
			got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{"/"}})
			if err != nil {
				t.Fatal(err)
			}
			if !homesEqual(got, want) {
				t.Errorf("FindHomes =\n%s\nwant\n%s", fmtHomes(got), fmtHomes(want))
			}
			if !slices.Equal(cov.Roots, []string{"/"}) || cov.DirsVisited == 0 || !cov.Complete() {
				t.Errorf("coverage = %+v, want root / visited and complete", cov)
			}
		})
	}
}

func homesEqual(a, b []scan.Home) bool {
	return slices.EqualFunc(a, b, func(x, y scan.Home) bool {
		return x.Path == y.Path && x.Layout == y.Layout && slices.Equal(x.Markers, y.Markers)
	})
}

func fmtHomes(homes []scan.Home) string {
	var b strings.Builder
	for _, h := range homes {
		fmt.Fprintf(&b, "  %s | %s | %s\n", h.Path, h.Layout, strings.Join(h.Markers, " "))
	}
	if b.Len() == 0 {
		return "  (none)"
	}
	return b.String()
}

// homeFiles is the smallest home: what IsHome needs, plus a start script.
func writeHome(t testing.TB, fsys afero.Fs, dir string) {
	t.Helper()
	for _, f := range []string{"bin/gateway.start", "conf/gateway-config.xml", "lib/gateway.server.jar"} {
		if err := fsys.MkdirAll(filepath.Dir(filepath.Join(dir, f)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, filepath.Join(dir, f), nil, 0o755); err != nil {
			t.Fatal(err)
		}
	}
}

func paths(homes []scan.Home) []string {
	var p []string
	for _, h := range homes {
		p = append(p, h.Path)
	}
	return p
}

func hasGap(gaps []scan.Gap, path, reasonPart string) bool {
	for _, g := range gaps {
		if g.Path == path && strings.Contains(g.Reason, reasonPart) {
			return true
		}
	}
	return false
}

func TestFindHomesExcludePrunes(t *testing.T) {
	mem := afero.NewMemMapFs()
	writeHome(t, mem, "/opt/gw")
	writeHome(t, mem, "/opt/cache/gw-copy")            // pruned by base name
	writeHome(t, mem, "/srv/app/node_modules/x/gw")    // pruned by base name, deeper
	writeHome(t, mem, "/home/bob/backups/2020/gw-old") // pruned by absolute path
	fsys := newRecordingFs(mem)

	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{
		Roots:   []string{"/"},
		Exclude: []string{"cache", "node_modules", "/home/*/backups"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/gw"}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	if len(fsys.openedUnder("/srv/app")) == 0 {
		t.Fatal("/srv/app was not opened: the recording is broken")
	}
	for _, pruned := range []string{"/opt/cache", "/srv/app/node_modules", "/home/bob/backups"} {
		if opened := fsys.openedUnder(pruned); len(opened) > 0 {
			t.Errorf("pruned %s but opened %q", pruned, opened)
		}
		if !hasGap(cov.Skipped, pruned, "excluded by") {
			t.Errorf("Skipped = %+v, want %s excluded", cov.Skipped, pruned)
		}
	}
}

func TestFindHomesBadOptions(t *testing.T) {
	fsys := afero.NewMemMapFs()
	for _, opts := range []scan.WalkOptions{
		{Roots: []string{"opt"}},
		{Roots: []string{"/"}, Exclude: []string{"[unclosed"}},
	} {
		if _, _, err := scan.FindHomes(t.Context(), fsys, opts); err == nil {
			t.Errorf("FindHomes(%+v) = nil error, want one", opts)
		}
	}
}

func TestFindHomesOverlappingRoots(t *testing.T) {
	mem := afero.NewMemMapFs()
	writeHome(t, mem, "/opt/kaazing/gw")
	writeHome(t, mem, "/opt/other/gw2")
	fsys := newRecordingFs(mem)
	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{
		Roots: []string{"/opt/kaazing", "/opt", "/opt/", "/opt/kaazing/gw"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/kaazing/gw", "/opt/other/gw2"}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	if want := []string{"/opt/kaazing", "/opt", "/opt/kaazing/gw"}; !slices.Equal(cov.Roots, want) {
		t.Errorf("Roots = %q, want %q", cov.Roots, want)
	}
	for _, dir := range []string{"/opt", "/opt/kaazing", "/opt/kaazing/gw", "/opt/other"} {
		if n := fsys.opened[dir]; n != 1 {
			t.Errorf("%s opened %d times, want once", dir, n)
		}
	}
}

func TestFindHomesMissingRoot(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeHome(t, fsys, "/opt/gw")
	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{"/nope", "/opt"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/gw"}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	if cov.Complete() || !hasGap(cov.Unreadable, "/nope", "") {
		t.Errorf("Unreadable = %+v, want /nope", cov.Unreadable)
	}
}

func TestFindHomesPseudoFilesystems(t *testing.T) {
	mem := afero.NewMemMapFs()
	writeHome(t, mem, "/run/gw")         // tmpfs: real data, walked
	writeHome(t, mem, "/proc/1/root/gw") // what /proc/<pid>/root would show
	writeHome(t, mem, "/sys/x/gw")
	writeHome(t, mem, "/opt/gw")
	mounts, err := scan.ReadMounts(afero.NewOsFs(), "../testdata/walk/mountinfo.txt")
	if err != nil {
		t.Fatal(err)
	}
	fsys := newRecordingFs(mem)
	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{"/"}, Mounts: mounts})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/gw", "/run/gw"}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	for dir, fstype := range map[string]string{"/proc": "proc", "/sys": "sysfs"} {
		if opened := fsys.openedUnder(dir); len(opened) > 0 {
			t.Errorf("opened %q inside the %s mount", opened, fstype)
		}
		if !hasGap(cov.Skipped, dir, "pseudo-filesystem "+fstype) {
			t.Errorf("Skipped = %+v, want %s as pseudo-filesystem %s", cov.Skipped, dir, fstype)
		}
	}

	// A root on a pseudo-filesystem is skipped too, with the reason.
	_, cov, err = scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{"/proc/1"}, Mounts: mounts})
	if err != nil {
		t.Fatal(err)
	}
	if !hasGap(cov.Skipped, "/proc/1", "pseudo-filesystem proc") {
		t.Errorf("Skipped = %+v, want root /proc/1 skipped", cov.Skipped)
	}
}

func TestFindHomesOneFileSystem(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeHome(t, fsys, "/opt/gw")
	writeHome(t, fsys, "/data/gw")
	writeHome(t, fsys, "/mnt/my backup\\disk/gw")
	mounts, err := scan.ReadMounts(afero.NewOsFs(), "../testdata/walk/mountinfo.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		roots   []string
		onefs   bool
		want    []string
		skipped []string
	}{
		{[]string{"/"}, false, []string{"/data/gw", "/mnt/my backup\\disk/gw", "/opt/gw"}, nil},
		{[]string{"/"}, true, []string{"/opt/gw"}, []string{"/data", "/mnt/my backup\\disk"}},
		{[]string{"/data"}, true, []string{"/data/gw"}, nil}, // the root's own mount is walked
	}
	for _, tt := range tests {
		got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: tt.roots, OneFileSystem: tt.onefs, Mounts: mounts})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(paths(got), tt.want) {
			t.Errorf("roots %q onefs %v: homes = %q, want %q", tt.roots, tt.onefs, paths(got), tt.want)
		}
		for _, s := range tt.skipped {
			if !hasGap(cov.Skipped, s, "other filesystem") {
				t.Errorf("roots %q onefs %v: Skipped = %+v, want %s", tt.roots, tt.onefs, cov.Skipped, s)
			}
		}
	}
}

func TestFindHomesCancel(t *testing.T) {
	mem := afero.NewMemMapFs()
	for i := range 200 {
		if err := mem.MkdirAll(fmt.Sprintf("/d%03d/a/b/c", i), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	fsys := newRecordingFs(mem)
	const cancelAt = 50
	fsys.onOpen = func(n int) {
		if n == cancelAt {
			cancel()
		}
	}
	_, _, err := scan.FindHomes(ctx, fsys, scan.WalkOptions{Roots: []string{"/"}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	total := 0
	for _, n := range fsys.opened {
		total += n
	}
	// Workers that were already reading may finish their directory; nobody
	// starts a new one.
	if total > cancelAt+16 {
		t.Errorf("%d opens after cancelling at %d of about 800, want the walk to stop", total, cancelAt)
	}

	// Already cancelled: nothing is read.
	fsys = newRecordingFs(mem)
	if _, _, err := scan.FindHomes(ctx, fsys, scan.WalkOptions{Roots: []string{"/"}}); !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled", err)
	}
	if len(fsys.opened) != 0 {
		t.Errorf("opened %d dirs with a cancelled ctx", len(fsys.opened))
	}
}

// A directory with thousands of subdirectories is settled early: a home
// with a huge web/ is not entered, and a huge plain directory is walked.
func TestFindHomesHugeDirectories(t *testing.T) {
	mem := afero.NewMemMapFs()
	writeHome(t, mem, "/opt/bighome")
	for i := range 5000 {
		if err := mem.MkdirAll(fmt.Sprintf("/opt/bighome/d%04d", i), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := mem.MkdirAll(fmt.Sprintf("/srv/wide/d%04d", i), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeHome(t, mem, "/srv/wide/d4999/gw")
	fsys := newRecordingFs(mem)
	var progress []int
	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{
		Roots:    []string{"/"},
		Progress: func(n int) { progress = append(progress, n) },
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/bighome", "/srv/wide/d4999/gw"}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	if opened := fsys.openedUnder("/opt/bighome/d0000"); len(opened) > 0 {
		t.Errorf("entered the home: opened %q", opened)
	}
	if cov.DirsVisited < 5000 || len(progress) == 0 {
		t.Errorf("DirsVisited = %d, Progress calls %v: want the wide dir walked and progress reported", cov.DirsVisited, progress)
	}
}

// faultyFs fails to open the directories in denied, and fails reading the
// directories in broken after their first entries: the errors a real disk
// gives for a mode-000 directory (which root, running CI, cannot see) or an
// I/O error.
type faultyFs struct {
	afero.Fs
	denied, broken map[string]bool
}

func (f faultyFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	if flag&(os.O_WRONLY|os.O_RDWR|os.O_CREATE) != 0 {
		return f.Fs.OpenFile(name, flag, perm)
	}
	return f.Open(name)
}

func (f faultyFs) Open(name string) (afero.File, error) {
	if f.denied[name] {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrPermission}
	}
	file, err := f.Fs.Open(name)
	if err == nil && f.broken[name] {
		return brokenDir{file}, nil
	}
	return file, err
}

type brokenDir struct{ afero.File }

func (b brokenDir) Readdir(n int) ([]os.FileInfo, error) {
	infos, _ := b.File.Readdir(1)
	return infos, &fs.PathError{Op: "readdirent", Path: b.Name(), Err: errors.New("input/output error")}
}

func TestFindHomesUnreadableRecorded(t *testing.T) {
	mem := afero.NewMemMapFs()
	writeHome(t, mem, "/opt/a/gw")
	writeHome(t, mem, "/opt/locked/gw")
	writeHome(t, mem, "/srv/broken/a-gw") // read before the error: found
	writeHome(t, mem, "/srv/broken/z-gw") // after it: lost, and said so
	fsys := faultyFs{Fs: mem, denied: map[string]bool{"/opt/locked": true}, broken: map[string]bool{"/srv/broken": true}}

	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{"/"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"/opt/a/gw", "/srv/broken/a-gw"}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	want := []scan.Gap{
		{Path: "/opt/locked", Reason: "open: permission denied"},
		{Path: "/srv/broken", Reason: "readdirent: input/output error"},
	}
	if !slices.Equal(cov.Unreadable, want) || cov.Complete() {
		t.Errorf("Unreadable = %+v, want %+v", cov.Unreadable, want)
	}
}
