package backup

import (
	"context"
	"crypto/rand"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/spf13/afero"
)

const memHome = "/opt/kaazing-gateway"

var fixedNow = time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC)

// loadMemHome loads testdata/backup/home.txtar into a MemMapFs.
func loadMemHome(t *testing.T) afero.Fs { return loadMemHomeTB(t) }

func loadMemHomeTB(t testing.TB) afero.Fs {
	t.Helper()
	return scantest.LoadFile(t, "../testdata/backup/home.txtar", memHome)
}

// loadDiskHome writes the fixture into a real temp dir, with a symlink, an
// executable start script and a private keystore password file, and returns
// the home's path.
func loadDiskHome(t *testing.T) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "kaazing-gateway")
	data, err := os.ReadFile("../testdata/backup/home.txtar")
	if err != nil {
		t.Fatal(err)
	}
	scantest.LoadInto(t, afero.NewOsFs(), data, home)
	must(t, os.Chmod(filepath.Join(home, "bin/gateway.start"), 0o755))
	must(t, os.Chmod(filepath.Join(home, "conf/keystore.pw"), 0o600))
	must(t, os.Symlink("gateway-config.xml", filepath.Join(home, "conf/current.xml")))
	touchAll(t, home, time.Date(2024, 3, 4, 5, 6, 7, 0, time.UTC))
	return home
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func install(home string) scan.Install {
	return scan.Install{Home: home, Release: "5.6.2"}
}

// TestRoundTrip backs up a real home (every format), verifies the archive,
// restores it into an empty dir and checks every byte, mode, mtime and
// symlink.
func TestRoundTrip(t *testing.T) {
	for _, ext := range []string{".tar.gz", ".zip", ".tar.zst"} {
		t.Run(ext, func(t *testing.T) {
			ctx := context.Background()
			fsys := afero.NewOsFs()
			home := loadDiskHome(t)
			sel, err := Select(ctx, fsys, install(home), SelectOptions{All: true})
			must(t, err)
			out := filepath.Join(t.TempDir(), "b"+ext)
			res, err := Save(ctx, fsys, sel, Options{Output: out, Gwup: "test", Host: "h", Now: fixedNow})
			must(t, err)
			if !res.Manifest.Complete || res.Path != out {
				t.Fatalf("result %+v", res)
			}
			fi, err := os.Stat(out)
			must(t, err)
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("archive mode %v, want 0600", fi.Mode().Perm())
			}
			if _, err := Verify(ctx, fsys, out, VerifyOptions{Against: true}); err != nil {
				t.Fatalf("verify: %v", err)
			}
			into := filepath.Join(t.TempDir(), "restored")
			rr, err := Restore(ctx, fsys, out, RestoreOptions{Into: into})
			must(t, err)
			if rr.Written != len(sel.Files) {
				t.Errorf("restored %d files, want %d", rr.Written, len(sel.Files))
			}
			for _, s := range sel.Files {
				compareFiles(t, s.Path, filepath.Join(into, filepath.FromSlash(s.Name)))
			}
			// A second restore finds everything unchanged.
			rr, err = Restore(ctx, fsys, out, RestoreOptions{Into: into})
			must(t, err)
			for _, it := range rr.Items {
				if it.Action != ActionUnchanged {
					t.Errorf("second restore: %s: %s, want unchanged", it.Entry, it.Action)
				}
			}
		})
	}
}

func compareFiles(t *testing.T, want, got string) {
	t.Helper()
	wi, err := os.Lstat(want)
	must(t, err)
	gi, err := os.Lstat(got)
	if err != nil {
		t.Errorf("restored: %v", err)
		return
	}
	if wi.Mode() != gi.Mode() {
		t.Errorf("%s: mode %v, want %v", got, gi.Mode(), wi.Mode())
	}
	if wi.Mode()&fs.ModeSymlink != 0 {
		wl, _ := os.Readlink(want)
		gl, _ := os.Readlink(got)
		if wl != gl {
			t.Errorf("%s: link %q, want %q", got, gl, wl)
		}
		return
	}
	if !wi.ModTime().Equal(gi.ModTime()) {
		t.Errorf("%s: mtime %v, want %v", got, gi.ModTime(), wi.ModTime())
	}
	wb, _ := os.ReadFile(want)
	gb, _ := os.ReadFile(got)
	if string(wb) != string(gb) {
		t.Errorf("%s: content differs", got)
	}
}

func TestSaveManifest(t *testing.T) {
	ctx := context.Background()
	fsys := loadMemHome(t)
	inst := install(memHome)
	inst.Config = &scan.Config{Path: "/etc/kaazing/gw.xml", Referenced: []string{"/etc/kaazing/ks.db"}}
	must(t, afero.WriteFile(fsys, "/etc/kaazing/gw.xml", []byte("<gateway-config/>"), 0o640))
	must(t, afero.WriteFile(fsys, "/etc/kaazing/ks.db", []byte("keys"), 0o600))
	sel, err := Select(ctx, fsys, inst, SelectOptions{})
	must(t, err)
	res, err := Save(ctx, fsys, sel, Options{Gwup: "v1", Host: "gw01", Now: fixedNow})
	must(t, err)
	wantPath := "/opt/gwup-backups/gwup-backup-5.6.2-gw01-20261128T050000Z.tar.gz"
	if res.Path != wantPath {
		t.Errorf("path %s, want %s", res.Path, wantPath)
	}
	if fi, err := fsys.Stat("/opt/gwup-backups"); err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("backup dir: %v %v, want 0700", fi, err)
	}
	m := res.Manifest
	if m.Schema != ManifestSchema || m.Gwup != "v1" || m.Host != "gw01" || m.Home != memHome || m.Method != MethodKnownSet || !m.Complete {
		t.Errorf("manifest header %+v", m)
	}
	var names []string
	for _, e := range m.Entries {
		names = append(names, e.Path)
		if e.Reason == "" || e.SHA256 == "" {
			t.Errorf("entry %s: reason %q sha256 %q", e.Path, e.Reason, e.SHA256)
		}
	}
	for _, want := range []string{"conf/keystore.pw", "_outside/etc/kaazing/gw.xml", "_outside/etc/kaazing/ks.db"} {
		if !slices.Contains(names, want) {
			t.Errorf("entries %v lack %s", names, want)
		}
	}
	for _, e := range m.Entries {
		if e.Path == "_outside/etc/kaazing/ks.db" && e.Source != "/etc/kaazing/ks.db" {
			t.Errorf("outside entry source %q", e.Source)
		}
	}
	// Never overwrite an existing backup.
	if _, err := Save(ctx, fsys, sel, Options{Gwup: "v1", Host: "gw01", Now: fixedNow}); !errors.Is(err, fs.ErrExist) {
		t.Errorf("second save at the same name: %v, want ErrExist", err)
	}
}

func TestSaveRefusesDestinationInsideHome(t *testing.T) {
	fsys := loadMemHome(t)
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(t, err)
	_, err = Save(context.Background(), fsys, sel, Options{Output: memHome + "/conf/b.tar.gz"})
	if err == nil || !strings.Contains(err.Error(), "inside the home") {
		t.Errorf("err %v, want inside the home", err)
	}
	if _, err := Save(context.Background(), fsys, sel, Options{Output: "/tmp/b.rar"}); err == nil {
		t.Error("unknown extension accepted")
	}
}

// TestSaveFaults injects write, sync, close and rename failures: each must
// fail the backup and leave neither the final name nor a temp file.
func TestSaveFaults(t *testing.T) {
	tests := []struct {
		name   string
		fault  func(*faultFs)
		expect error
	}{
		{"disk full at first write", func(f *faultFs) { f.failWrite = 1 }, syscall.ENOSPC},
		{"disk full at third write", func(f *faultFs) { f.failWrite = 3 }, syscall.ENOSPC},
		{"io error at write", func(f *faultFs) { f.failWrite, f.writeErr = 2, syscall.EIO }, syscall.EIO},
		{"sync fails", func(f *faultFs) { f.failSync = syscall.EIO }, syscall.EIO},
		{"close fails", func(f *faultFs) { f.failClose = syscall.EDQUOT }, syscall.EDQUOT},
		{"rename fails", func(f *faultFs) { f.failRename = syscall.EXDEV }, syscall.EXDEV},
	}
	for _, tt := range tests {
		for _, ext := range []string{".tar.gz", ".zip"} {
			t.Run(tt.name+ext, func(t *testing.T) {
				mem := loadMemHome(t)
				// Enough incompressible bytes for many writes whatever the format.
				must(t, afero.WriteFile(mem, memHome+"/lib/ext/big.jar", randomBytes(256<<10), 0o644))
				ff := &faultFs{Fs: mem}
				sel, err := Select(context.Background(), ff, install(memHome), SelectOptions{All: true})
				must(t, err)
				tt.fault(ff)
				out := "/backups/b" + ext
				must(t, ff.MkdirAll("/backups", 0o700))
				_, err = Save(context.Background(), ff, sel, Options{Output: out, Now: fixedNow})
				if !errors.Is(err, tt.expect) {
					t.Fatalf("err %v, want %v", err, tt.expect)
				}
				if names := dirNames(t, ff, "/backups"); len(names) != 0 {
					t.Errorf("left behind: %v", names)
				}
			})
		}
	}
}

func TestSaveReadOnlyDestination(t *testing.T) {
	mem := loadMemHome(t)
	must(t, mem.MkdirAll("/backups", 0o700))
	ro := afero.NewReadOnlyFs(mem)
	sel, err := Select(context.Background(), ro, install(memHome), SelectOptions{})
	must(t, err)
	if _, err := Save(context.Background(), ro, sel, Options{Output: "/backups/b.tar.gz"}); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("err %v, want permission error", err)
	}

	if os.Geteuid() == 0 {
		t.Skip("running as root: a 0500 directory is writable, the real-disk half cannot fail")
	}
	home := loadDiskHome(t)
	dir := filepath.Join(t.TempDir(), "ro")
	must(t, os.Mkdir(dir, 0o500))
	fsys := afero.NewOsFs()
	sel, err = Select(context.Background(), fsys, install(home), SelectOptions{})
	must(t, err)
	if _, err := Save(context.Background(), fsys, sel, Options{Output: filepath.Join(dir, "b.tar.gz")}); !errors.Is(err, fs.ErrPermission) {
		t.Errorf("real disk: err %v, want permission error", err)
	}
}

// TestSaveUnreadable: a file that cannot be opened is left out, the rest is
// saved and verified, the manifest says incomplete and the error is
// ErrIncomplete.
func TestSaveUnreadable(t *testing.T) {
	ff := &faultFs{Fs: loadMemHome(t), openErr: map[string]error{memHome + "/conf/keystore.pw": syscall.EACCES}}
	sel, err := Select(context.Background(), ff, install(memHome), SelectOptions{})
	must(t, err)
	must(t, ff.MkdirAll("/backups", 0o700))
	res, err := Save(context.Background(), ff, sel, Options{Output: "/backups/b.tar.gz"})
	checkIncomplete(t, ff, res, err, memHome+"/conf/keystore.pw")
}

func TestSaveUnreadableOnDisk(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: a 0000 file is still readable")
	}
	home := loadDiskHome(t)
	secret := filepath.Join(home, "conf/keystore.pw")
	must(t, os.Chmod(secret, 0))
	fsys := afero.NewOsFs()
	sel, err := Select(context.Background(), fsys, install(home), SelectOptions{})
	must(t, err)
	res, err := Save(context.Background(), fsys, sel, Options{Output: filepath.Join(t.TempDir(), "b.tar.gz")})
	checkIncomplete(t, fsys, res, err, secret)
}

func checkIncomplete(t *testing.T, fsys afero.Fs, res Result, err error, missing string) {
	t.Helper()
	if !errors.Is(err, ErrIncomplete) {
		t.Fatalf("err %v, want ErrIncomplete", err)
	}
	var ie *IncompleteError
	if !errors.As(err, &ie) || len(ie.Unreadable) != 1 || ie.Unreadable[0].Path != missing {
		t.Errorf("incomplete error %+v, want %s unreadable", ie, missing)
	}
	if res.Manifest.Complete {
		t.Error("manifest says complete")
	}
	rep, err := Verify(context.Background(), fsys, res.Path, VerifyOptions{})
	if err != nil {
		t.Fatalf("the incomplete archive does not verify: %v", err)
	}
	if rep.Manifest.Complete || len(rep.Manifest.Unreadable) != 1 {
		t.Errorf("manifest read back: complete %v unreadable %v", rep.Manifest.Complete, rep.Manifest.Unreadable)
	}
	for _, e := range rep.Manifest.Entries {
		if filepath.Join(res.Manifest.Home, e.Path) == missing {
			t.Errorf("unreadable file %s has an entry", missing)
		}
	}
	if len(rep.Manifest.Entries) < 5 {
		t.Errorf("only %d entries saved", len(rep.Manifest.Entries))
	}
}

// TestSaveFileChangesWhileArchived: a file that grows or shrinks under the
// archiver is listed as changed, the archive stays well formed.
func TestSaveFileChangesWhileArchived(t *testing.T) {
	for _, tt := range []struct {
		name    string
		content string
	}{
		{"grows", "<gateway-config/> plus a good deal more text than before"},
		{"shrinks", "x"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			mem := loadMemHome(t)
			target := memHome + "/conf/jaas-config.xml"
			ff := &faultFs{Fs: mem, onRead: map[string]func(){target: func() {
				time.Sleep(2 * time.Millisecond)
				must(t, afero.WriteFile(mem, target, []byte(tt.content), 0o644))
			}}}
			sel, err := Select(context.Background(), ff, install(memHome), SelectOptions{})
			must(t, err)
			must(t, ff.MkdirAll("/backups", 0o700))
			res, err := Save(context.Background(), ff, sel, Options{Output: "/backups/b.tar.gz"})
			if !errors.Is(err, ErrIncomplete) {
				t.Fatalf("err %v, want ErrIncomplete", err)
			}
			if !slices.Equal(res.Manifest.Changed, []string{"conf/jaas-config.xml"}) {
				t.Errorf("changed %v", res.Manifest.Changed)
			}
			if _, err := Verify(context.Background(), ff, res.Path, VerifyOptions{}); err != nil {
				t.Errorf("archive not well formed: %v", err)
			}
		})
	}
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestDefaultPath(t *testing.T) {
	got := DefaultPath("/opt/kaazing/gateway/", "", "host/with space", fixedNow)
	want := "/opt/kaazing/gwup-backups/gwup-backup-unknown-host_with_space-20261128T050000Z.tar.gz"
	if got != want {
		t.Errorf("DefaultPath = %s, want %s", got, want)
	}
}

// TestSaveRefusesHomeThroughSymlink: a destination that reaches the home
// through a symlink, or a home given through a symlink, is still inside it.
func TestSaveRefusesHomeThroughSymlink(t *testing.T) {
	fsys := afero.NewOsFs()
	home := loadDiskHome(t)
	link := filepath.Join(t.TempDir(), "link")
	must(t, os.Symlink(home, link))
	for _, tt := range []struct{ home, out string }{
		{home, filepath.Join(link, "b.tar.gz")},
		{link, filepath.Join(home, "b.tar.gz")},
	} {
		sel, err := Select(context.Background(), fsys, install(tt.home), SelectOptions{})
		must(t, err)
		if len(sel.Files) < 10 {
			t.Errorf("home %s: only %d files selected", tt.home, len(sel.Files))
		}
		_, err = Save(context.Background(), fsys, sel, Options{Output: tt.out})
		if err == nil || !strings.Contains(err.Error(), "inside the home") {
			t.Errorf("home %s, output %s: err %v, want inside the home", tt.home, tt.out, err)
		}
	}
}

// TestSaveFileVanishes: a file deleted between selection and archiving is
// reported, and the rest is saved.
func TestSaveFileVanishes(t *testing.T) {
	fsys := loadMemHome(t)
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(t, err)
	gone := memHome + "/conf/jaas-config.xml"
	must(t, fsys.Remove(gone))
	must(t, fsys.MkdirAll("/backups", 0o700))
	res, err := Save(context.Background(), fsys, sel, Options{Output: "/backups/b.tar.gz"})
	checkIncomplete(t, fsys, res, err, gone)
}
