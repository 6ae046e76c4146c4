package backup

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

// savedDisk backs up a real home (known set, plus a config file outside it)
// and returns the home, the outside file and the archive.
func savedDisk(t *testing.T, all bool) (home, outside, archive string) {
	t.Helper()
	ctx := context.Background()
	fsys := afero.NewOsFs()
	home = loadDiskHome(t)
	outside = filepath.Join(t.TempDir(), "etc", "gw.xml")
	must(t, os.MkdirAll(filepath.Dir(outside), 0o755))
	must(t, os.WriteFile(outside, []byte("<gateway-config/>"), 0o640))
	inst := install(home)
	inst.Config = &scan.Config{Path: outside}
	sel, err := Select(ctx, fsys, inst, SelectOptions{All: all})
	must(t, err)
	archive = filepath.Join(t.TempDir(), "b.tar.gz")
	_, err = Save(ctx, fsys, sel, Options{Output: archive, Now: fixedNow})
	must(t, err)
	return home, outside, archive
}

func actions(res RestoreResult) map[string]string {
	m := map[string]string{}
	for _, it := range res.Items {
		m[it.Entry] = it.Action
	}
	return m
}

func TestRestoreDryRunWritesNothing(t *testing.T) {
	_, _, archive := savedDisk(t, false)
	into := filepath.Join(t.TempDir(), "new-home")
	res, err := Restore(context.Background(), afero.NewOsFs(), archive, RestoreOptions{Into: into, DryRun: true})
	must(t, err)
	if _, err := os.Lstat(into); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("dry run created %s", into)
	}
	a := actions(res)
	if a["conf/keystore.pw"] != ActionWrite || len(res.Items) < 10 || res.Written != 0 {
		t.Errorf("plan %v written %d", a, res.Written)
	}
}

func TestRestoreConflicts(t *testing.T) {
	ctx := context.Background()
	fsys := afero.NewOsFs()
	home, _, archive := savedDisk(t, false)
	pw := filepath.Join(home, "conf/keystore.pw")
	jaas := filepath.Join(home, "conf/jaas-config.xml")
	must(t, os.WriteFile(pw, []byte("edited after the backup"), 0o600))
	must(t, os.Remove(jaas))

	res, err := Restore(ctx, fsys, archive, RestoreOptions{})
	if !errors.Is(err, ErrRestoreConflict) {
		t.Fatalf("err %v, want ErrRestoreConflict", err)
	}
	a := actions(res)
	if a["conf/keystore.pw"] != ActionConflict || a["conf/jaas-config.xml"] != ActionWrite || a["conf/gateway-config.xml"] != ActionUnchanged {
		t.Errorf("plan %v", a)
	}
	if _, err := os.Stat(jaas); !errors.Is(err, os.ErrNotExist) {
		t.Error("a conflicting restore wrote files")
	}

	res, err = Restore(ctx, fsys, archive, RestoreOptions{Force: true})
	must(t, err)
	if got, _ := os.ReadFile(pw); string(got) != "secret\n" {
		t.Errorf("forced restore left %q", got)
	}
	if _, err := os.Stat(jaas); err != nil {
		t.Errorf("deleted file not restored: %v", err)
	}
	if a := actions(res); a["conf/keystore.pw"] != ActionOverwrite || res.Written != 2 {
		t.Errorf("forced plan %v written %d", a, res.Written)
	}
	// No temp files left behind.
	names, _ := filepath.Glob(filepath.Join(home, "conf", ".gwup-restore-*"))
	if len(names) > 0 {
		t.Errorf("temp files left: %v", names)
	}
}

func TestRestoreOutside(t *testing.T) {
	ctx := context.Background()
	fsys := afero.NewOsFs()
	_, outside, archive := savedDisk(t, false)
	must(t, os.Remove(outside))
	into := t.TempDir()
	res, err := Restore(ctx, fsys, archive, RestoreOptions{Into: into})
	must(t, err)
	name := outsideName(outside)
	if actions(res)[name] != ActionOutside {
		t.Errorf("outside entry %s: %v", name, actions(res))
	}
	if _, err := os.Stat(outside); !errors.Is(err, os.ErrNotExist) {
		t.Error("outside file restored without the option")
	}
	if _, err := os.Stat(filepath.Join(into, filepath.FromSlash(name))); !errors.Is(err, os.ErrNotExist) {
		t.Error("outside file restored inside the home")
	}
	res, err = Restore(ctx, fsys, archive, RestoreOptions{Into: into, Outside: true})
	must(t, err)
	if got, err := os.ReadFile(outside); err != nil || string(got) != "<gateway-config/>" {
		t.Errorf("outside file: %q %v", got, err)
	}
	if actions(res)[name] != ActionWrite {
		t.Errorf("outside entry: %v", actions(res))
	}
}

// TestRestoreRefusesEscapes: a symlink in the backup that points out of the
// home is not created, and a symlinked parent in the destination cannot lead
// a write out of it.
func TestRestoreRefusesEscapes(t *testing.T) {
	ctx := context.Background()
	fsys := afero.NewOsFs()
	home := loadDiskHome(t)
	must(t, os.Symlink("/etc/passwd", filepath.Join(home, "conf/passwd")))
	must(t, os.Symlink("../../outside", filepath.Join(home, "conf/up")))
	sel, err := Select(ctx, fsys, install(home), SelectOptions{})
	must(t, err)
	archive := filepath.Join(t.TempDir(), "b.zip")
	_, err = Save(ctx, fsys, sel, Options{Output: archive})
	must(t, err)

	into := t.TempDir()
	elsewhere := t.TempDir()
	must(t, os.Symlink(elsewhere, filepath.Join(into, "license"))) // a parent leading out
	res, err := Restore(ctx, fsys, archive, RestoreOptions{Into: into})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
	a := actions(res)
	for _, name := range []string{"conf/passwd", "conf/up", "license/license.txt"} {
		if a[name] != ActionRefused {
			t.Errorf("%s: %s, want refused", name, a[name])
		}
	}
	for _, p := range []string{filepath.Join(into, "conf/passwd"), filepath.Join(into, "conf/up")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s created", p)
		}
	}
	if names, _ := os.ReadDir(elsewhere); len(names) != 0 {
		t.Errorf("wrote through a symlinked parent: %v", names)
	}
	if _, err := os.Stat(filepath.Join(into, "conf/keystore.pw")); err != nil {
		t.Errorf("safe entries not restored: %v", err)
	}
}

func TestRestoreRefusesBadArchives(t *testing.T) {
	ctx := context.Background()
	fsys := afero.NewOsFs()
	_, _, archive := savedDisk(t, false)
	data, err := os.ReadFile(archive)
	must(t, err)
	data[len(data)/2] ^= 0x40
	bad := filepath.Join(t.TempDir(), "bad.tar.gz")
	must(t, os.WriteFile(bad, data, 0o600))
	into := filepath.Join(t.TempDir(), "h")
	if _, err := Restore(ctx, fsys, bad, RestoreOptions{Into: into}); !errors.Is(err, ErrVerify) {
		t.Errorf("damaged archive: err %v, want ErrVerify", err)
	}
	if _, err := os.Lstat(into); !errors.Is(err, os.ErrNotExist) {
		t.Error("restore of a damaged archive created the home")
	}
}
