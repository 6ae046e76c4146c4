package scan_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

// symlinkTree builds, in a real temp dir:
//
//	tree/real/gw              a home
//	tree/a/loop -> ..         a loop back to tree/ (an ancestor)
//	tree/a/self -> .          a loop to itself
//	tree/a/dup  -> ../real    a second way to reach tree/real
//	tree/b/ext  -> ../../outside   a tree outside the root, holding a home
//	tree/b/file -> ../real/gw/bin/gateway.start   a link to a file: ignored
//	tree/b/dangling -> nowhere                  ignored
//	outside/gw2               a home only reachable through b/ext
func symlinkTree(t *testing.T) (tmp, root string) {
	t.Helper()
	tmp = t.TempDir()
	root = filepath.Join(tmp, "tree")
	fsys := afero.NewOsFs()
	writeHome(t, fsys, filepath.Join(root, "real", "gw"))
	writeHome(t, fsys, filepath.Join(tmp, "outside", "gw2"))
	for _, d := range []string{"a", "b"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	links := map[string]string{
		"a/loop":     "..",
		"a/self":     ".",
		"a/dup":      "../real",
		"b/ext":      "../../outside",
		"b/file":     "../real/gw/bin/gateway.start",
		"b/dangling": "nowhere",
	}
	for link, target := range links {
		if err := os.Symlink(target, filepath.Join(root, link)); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	return tmp, root
}

func TestFindHomesSymlinksNotFollowed(t *testing.T) {
	_, root := symlinkTree(t)
	got, cov, err := scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "real", "gw")}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	var linked []string
	for _, g := range cov.Skipped {
		if g.Reason == "symlink not followed" {
			linked = append(linked, strings.TrimPrefix(g.Path, root+"/"))
		}
	}
	// Only links to directories are listed, in path order.
	if want := []string{"a/dup", "a/loop", "a/self", "b/ext"}; !slices.Equal(linked, want) {
		t.Errorf("symlinks not followed = %q, want %q (all of Skipped: %+v)", linked, want, cov.Skipped)
	}
}

func TestFindHomesFollowSymlinks(t *testing.T) {
	_, root := symlinkTree(t)
	got, cov, err := scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{root}, FollowSymlinks: true})
	if err != nil {
		t.Fatal(err)
	}
	// The real path wins over the link a/dup; the home outside is reported
	// under the link that reaches it.
	want := []string{filepath.Join(root, "b", "ext", "gw2"), filepath.Join(root, "real", "gw")}
	if !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	for link, reason := range map[string]string{
		"a/loop": "symlink loop",
		"a/self": "symlink loop",
		"a/dup":  "already walked",
	} {
		if !hasGap(cov.Skipped, filepath.Join(root, link), reason) {
			t.Errorf("Skipped = %+v, want %s as %q", cov.Skipped, link, reason)
		}
	}
	if !cov.Complete() {
		t.Errorf("Unreadable = %+v, want none", cov.Unreadable)
	}

	// Excludes apply to where a link leads, too.
	got, cov, err = scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{root}, FollowSymlinks: true, Exclude: []string{"outside"}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "real", "gw")}; !slices.Equal(paths(got), want) {
		t.Errorf("excluding outside: homes = %q, want %q", paths(got), want)
	}
	if !hasGap(cov.Skipped, filepath.Join(root, "b", "ext"), "excluded by outside") {
		t.Errorf("Skipped = %+v, want b/ext excluded", cov.Skipped)
	}
}

// A root reached through a symlink and the same directory named directly are
// walked once.
func TestFindHomesSymlinkedRoots(t *testing.T) {
	tmp, root := symlinkTree(t)
	alias := filepath.Join(tmp, "alias")
	if err := os.Symlink(root, alias); err != nil {
		t.Fatal(err)
	}
	got, cov, err := scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{alias, root}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(alias, "real", "gw")}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	if !hasGap(cov.Skipped, root, "same directory as root "+alias) {
		t.Errorf("Skipped = %+v, want %s as a duplicate root", cov.Skipped, root)
	}

	// A root inside another, even through a link, is walked on its own,
	// and only there.
	got, _, err = scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{alias, filepath.Join(root, "real")}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "real", "gw")}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
}

func TestFindHomesSkippedListIsBounded(t *testing.T) {
	root := t.TempDir()
	target := filepath.Join(root, "target")
	if err := os.Mkdir(target, 0o755); err != nil {
		t.Fatal(err)
	}
	const links = 150
	for i := range links {
		if err := os.Symlink(target, filepath.Join(root, fmt.Sprintf("link%03d", i))); err != nil {
			t.Skipf("no symlinks here: %v", err)
		}
	}
	_, cov, err := scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	if len(cov.Skipped) != 101 {
		t.Fatalf("len(Skipped) = %d, want 100 links and one summary", len(cov.Skipped))
	}
	if first, last := cov.Skipped[0].Path, cov.Skipped[99].Path; first != filepath.Join(root, "link000") || last != filepath.Join(root, "link099") {
		t.Errorf("kept %s .. %s, want the first 100 in path order", first, last)
	}
	if s := cov.Skipped[100]; s.Path != "" || s.Reason != "50 more not listed: symlink not followed" {
		t.Errorf("summary = %+v", s)
	}
}

func TestFindHomesUnreadableDir(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads a mode-000 directory anyway, so there is nothing to test")
	}
	root := t.TempDir()
	fsys := afero.NewOsFs()
	writeHome(t, fsys, filepath.Join(root, "b", "gw"))
	locked := filepath.Join(root, "a", "locked")
	writeHome(t, fsys, filepath.Join(locked, "gw"))
	if err := os.Chmod(locked, 0); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(locked, 0o755) })

	got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{filepath.Join(root, "b", "gw")}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
	if cov.Complete() || !hasGap(cov.Unreadable, locked, "permission denied") {
		t.Errorf("Unreadable = %+v, want %s permission denied", cov.Unreadable, locked)
	}
}

// Names are bytes on Linux: spaces and invalid UTF-8 must go through.
func TestFindHomesOddNames(t *testing.T) {
	root := t.TempDir()
	fsys := afero.NewOsFs()
	home := filepath.Join(root, "old gateways", "caf\xe9 \xff", "kaazing gateway")
	if err := os.MkdirAll(filepath.Dir(home), 0o755); err != nil {
		t.Skipf("this filesystem refuses non-UTF-8 names: %v", err)
	}
	writeHome(t, fsys, home)
	got, _, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{root}})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{home}; !slices.Equal(paths(got), want) {
		t.Errorf("homes = %q, want %q", paths(got), want)
	}
}

// The command hands scan a read-only view of the disk, re-rooted with
// --sysroot; the walk must see the same homes through both wrappers.
func TestFindHomesThroughWrappers(t *testing.T) {
	sysroot := t.TempDir()
	writeHome(t, afero.NewOsFs(), filepath.Join(sysroot, "opt", "gw"))
	writeHome(t, afero.NewOsFs(), filepath.Join(sysroot, "srv", "deep", "er", "gw"))
	for name, fsys := range map[string]afero.Fs{
		"read-only":           afero.NewReadOnlyFs(afero.NewOsFs()),
		"base path":           afero.NewBasePathFs(afero.NewOsFs(), sysroot),
		"read-only base path": afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), sysroot)),
	} {
		root, want := "/", []string{"/opt/gw", "/srv/deep/er/gw"}
		if name == "read-only" {
			root, want = sysroot, []string{filepath.Join(sysroot, "opt", "gw"), filepath.Join(sysroot, "srv", "deep", "er", "gw")}
		}
		got, cov, err := scan.FindHomes(t.Context(), fsys, scan.WalkOptions{Roots: []string{root}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(paths(got), want) || !cov.Complete() {
			t.Errorf("%s: homes = %q, unreadable %+v; want %q", name, paths(got), cov.Unreadable, want)
		}
	}
}
