//go:build linux

package backup

import (
	"archive/tar"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// swapForSymlink replaces dir with a symlink to a fresh directory outside
// the home that holds one file of its own, and returns that directory.
func swapForSymlink(t *testing.T, dir string) string {
	t.Helper()
	outside := filepath.Join(t.TempDir(), "outside")
	if err := os.Mkdir(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(outside, "gateway.server.jar"), []byte("NOT GWUP'S"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, dir); err != nil {
		t.Fatal(err)
	}
	return outside
}

// TestApplyNeverWritesThroughASwappedDirectory: a home directory swapped
// for a symlink to a folder outside the home after the plan, before the
// journal (caught by the last check) or between two steps (caught by the
// steps themselves, which follow no symlink), never lets Apply write into
// or take from the outside folder.
func TestApplyNeverWritesThroughASwappedDirectory(t *testing.T) {
	for _, at := range []string{"journal", "step 0", "step 4"} {
		t.Run(at, func(t *testing.T) {
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			var outside string
			calls := 0
			opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(step string) error {
				if step == at {
					outside = swapForSymlink(t, filepath.Join(fx.home, "lib"))
				}
				return nil
			}}
			_, err = ApplyUnpack(t.Context(), plan, opts)
			if err == nil {
				t.Fatal("applied through a symlink")
			}
			if at == "journal" && !errors.Is(err, ErrHomeChanged) {
				t.Errorf("got %v, want ErrHomeChanged", err)
			}
			got := snapshot(t, outside)
			if len(got) != 2 { // "." and its file
				t.Errorf("outside folder now holds %v", got)
			}
			if data, _ := os.ReadFile(filepath.Join(outside, "gateway.server.jar")); string(data) != "NOT GWUP'S" {
				t.Errorf("outside file now %q", data)
			}
		})
	}
}

// beforeStep returns a testOnlyFail hook that calls do with the journal
// step about to run, read from the journal on disk.
func beforeStep(t *testing.T, home string, do func(s journalStep)) func(string) error {
	return func(step string) error {
		var i int
		if _, err := fmt.Sscanf(step, "step %d", &i); err != nil {
			return nil
		}
		j, err := readJournal(home)
		if err != nil {
			t.Fatal(err)
		}
		do(j.Steps[i])
		return nil
	}
}

// TestApplyNeverReplacesAFileCreatedMeanwhile: a file the user creates at
// a path the release installs, after every check, right before the step
// that moves the release's file there, is neither overwritten nor lost.
func TestApplyNeverReplacesAFileCreatedMeanwhile(t *testing.T) {
	fx := newInstalledHome(t)
	if err := os.MkdirAll(filepath.Join(fx.home, "lib/extra"), 0o755); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(fx.home, "lib/extra/new.jar")
	calls := 0
	opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: beforeStep(t, fx.home, func(s journalStep) {
		if s.To == target {
			if err := os.WriteFile(target, []byte("USER DATA"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})}
	before := snapshot(t, fx.home)
	_, err = ApplyUnpack(t.Context(), plan, opts)
	if err == nil {
		t.Fatal("applied over the user's file")
	}
	if data, _ := os.ReadFile(target); string(data) != "USER DATA" {
		t.Errorf("the user's file now holds %q", data)
	}
	after := snapshot(t, fx.home)
	delete(after, "lib/extra/new.jar")
	if !maps.Equal(before, after) {
		t.Errorf("not rolled back:\nbefore %v\nafter  %v", before, after)
	}
}

// withoutNoReplace makes every rename act as on a filesystem without
// RENAME_NOREPLACE, for the length of the test.
func withoutNoReplace(t *testing.T) {
	saved := renameat2
	renameat2 = func(int, string, int, string, uint) error { return unix.EINVAL }
	t.Cleanup(func() { renameat2 = saved })
}

// TestApplyWithoutRenameNoReplace: the link-and-unlink fallback unpacks
// the same home, and still never replaces a file created meanwhile.
func TestApplyWithoutRenameNoReplace(t *testing.T) {
	withoutNoReplace(t)
	t.Run("unpacks", func(t *testing.T) {
		fx := newInstalledHome(t)
		plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
		if err != nil {
			t.Fatal(err)
		}
		calls := 0
		if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); err != nil {
			t.Fatal(err)
		}
		if data, _ := os.ReadFile(filepath.Join(fx.home, "README.txt")); !strings.Contains(string(data), "5.0.1") {
			t.Errorf("README.txt: %q", data)
		}
		if _, err := os.Stat(JournalPath(fx.home)); err == nil {
			t.Error("journal left")
		}
	})
	t.Run("never replaces", TestApplyNeverReplacesAFileCreatedMeanwhile)
	t.Run("never takes a folder", TestRollbackLeavesFoldersGwupDidNotCreate)
	t.Run("keeps a folder with the user's files", TestRollbackKeepsAFolderThatGotTheUsersFiles)
	t.Run("never takes a side file", TestApplyWithASideFileCreatedMeanwhile)
	t.Run("never goes through a symlink", TestApplyNeverWritesThroughASwappedDirectory)
	t.Run("killed at each step", TestApplyKilledAtEachStep)
}

// TestRollbackOfAHalfDoneLinkMove: killed between link and unlink, a step
// leaves both names; rolling back removes the new one and keeps the old.
func TestRollbackOfAHalfDoneLinkMove(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	staging := filepath.Join(dir, ".gwup-staging-home-0123456789ab")
	for _, d := range []string{home, filepath.Join(staging, "new")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	from, to := filepath.Join(staging, "new", "a"), filepath.Join(home, "a")
	if err := os.WriteFile(from, []byte("new a"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Link(from, to); err != nil {
		t.Fatal(err)
	}
	j := &unpackJournal{Schema: JournalSchema, Home: home, Staging: staging, State: journalApplying, Steps: []journalStep{
		{Op: "rename", From: from, To: to, Check: checkFromGone},
	}}
	if err := j.rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(to); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%s still there: %v", to, err)
	}
	if data, _ := os.ReadFile(from); string(data) != "new a" {
		t.Errorf("staged file: %q", data)
	}
}

// TestRollbackLeavesFoldersGwupDidNotCreate: a folder the release adds
// that the user creates first (right before the step, after every check)
// is not gwup's: the unpack fails, the rollback finishes and the folder
// stays, with what the user put in it, empty or not.
func TestRollbackLeavesFoldersGwupDidNotCreate(t *testing.T) {
	for name, content := range map[string]bool{"with a file": true, "empty": false} {
		t.Run(name, func(t *testing.T) {
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			extra := filepath.Join(fx.home, "lib/extra")
			calls := 0
			opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: beforeStep(t, fx.home, func(s journalStep) {
				if s.To == extra {
					if err := os.Mkdir(extra, 0o755); err != nil {
						t.Fatal(err)
					}
					if content {
						if err := os.WriteFile(filepath.Join(extra, "mine.jar"), []byte("mine"), 0o644); err != nil {
							t.Fatal(err)
						}
					}
				}
			})}
			before := snapshot(t, fx.home)
			_, err = ApplyUnpack(t.Context(), plan, opts)
			if err == nil || strings.Contains(err.Error(), "ROLLBACK FAILED") {
				t.Fatalf("got %v, want a failed unpack rolled back", err)
			}
			after := snapshot(t, fx.home)
			if _, ok := after["lib/extra"]; !ok {
				t.Error("the user's folder was removed")
			}
			if content && after["lib/extra/mine.jar"] == "" {
				t.Error("the user's file was removed")
			}
			delete(after, "lib/extra")
			delete(after, "lib/extra/mine.jar")
			if !maps.Equal(before, after) {
				t.Errorf("not rolled back:\nbefore %v\nafter  %v", before, after)
			}
			if _, err := os.Stat(JournalPath(fx.home)); err == nil {
				t.Error("journal left: the rollback did not finish")
			}
		})
	}
}

// TestRollbackKeepsAFolderThatGotTheUsersFiles: a folder gwup created
// that the user put a file into before a later step failed is kept (with
// the file); every other step is still undone and the rollback finishes.
func TestRollbackKeepsAFolderThatGotTheUsersFiles(t *testing.T) {
	fx := newInstalledHome(t)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	extra := filepath.Join(fx.home, "lib/extra")
	calls := 0
	boom := errors.New("disk on fire")
	opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(step string) error {
		var failed error
		beforeStep(t, fx.home, func(s journalStep) {
			if s.To == filepath.Join(extra, "new.jar") {
				if err := os.WriteFile(filepath.Join(extra, "mine.jar"), []byte("mine"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if s.To == filepath.Join(fx.home, "lib/gateway.server.jar") && s.Check == checkFromGone {
				failed = boom
			}
		})(step)
		return failed
	}}
	before := snapshot(t, fx.home)
	_, err = ApplyUnpack(t.Context(), plan, opts)
	if !errors.Is(err, boom) || strings.Contains(err.Error(), "ROLLBACK FAILED") {
		t.Fatalf("got %v, want %v, rolled back", err, boom)
	}
	if !strings.Contains(err.Error(), "lib/extra") {
		t.Errorf("the error does not say the folder was kept: %v", err)
	}
	after := snapshot(t, fx.home)
	if after["lib/extra/mine.jar"] == "" {
		t.Fatal("the user's file was removed")
	}
	delete(after, "lib/extra")
	delete(after, "lib/extra/mine.jar")
	if !maps.Equal(before, after) {
		t.Errorf("not rolled back:\nbefore %v\nafter  %v", before, after)
	}
}

// TestApplyRefusesAnEditMadeDuringBackupAndExtraction: a file edited
// after the first checks (here while staging is made, after the backup)
// would be moved aside and deleted as the old release's, with the backup
// holding the content before the edit. The check right before the first
// step refuses, even for an edit that keeps the size and the mtime.
func TestApplyRefusesAnEditMadeDuringBackupAndExtraction(t *testing.T) {
	for name, keepMTime := range map[string]bool{"new mtime": false, "same size and mtime": true} {
		t.Run(name, func(t *testing.T) {
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			readme := filepath.Join(fx.home, "README.txt")
			old, err := os.ReadFile(readme)
			if err != nil {
				t.Fatal(err)
			}
			info, _ := os.Stat(readme)
			edited := bytes.ToUpper(old)
			calls := 0
			opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(step string) error {
				if step == "extract" {
					if err := os.WriteFile(readme, edited, 0o644); err != nil {
						t.Fatal(err)
					}
					if keepMTime {
						if err := os.Chtimes(readme, info.ModTime(), info.ModTime()); err != nil {
							t.Fatal(err)
						}
					}
				}
				return nil
			}}
			_, err = ApplyUnpack(t.Context(), plan, opts)
			if !errors.Is(err, ErrHomeChanged) {
				t.Errorf("got %v, want ErrHomeChanged", err)
			}
			if data, _ := os.ReadFile(readme); !bytes.Equal(data, edited) {
				t.Errorf("README.txt now %q", data)
			}
		})
	}
}

// TestUnpackTarWithoutDirectoryEntries: the review's case (a .tar.gz that
// lists only files, adding lib/extra/) unpacks, whether the plan kept the
// release's content or Apply reads the archive a second time.
func TestUnpackTarWithoutDirectoryEntries(t *testing.T) {
	var filesOnly []tEntry
	for _, e := range fakeRelease("5.0.1") {
		if e.Type != tar.TypeDir {
			filesOnly = append(filesOnly, e)
		}
	}
	for _, reread := range []bool{false, true} {
		t.Run(fmt.Sprint("reread=", reread), func(t *testing.T) {
			fx := newInstalledHome(t)
			archive := writeArchive(t, filepath.Dir(fx.v2), "files-only.tar.gz", writeTar(t, filesOnly, true))
			before := snapshot(t, fx.home)
			plan, err := PlanUnpack(t.Context(), archive, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if reread {
				plan.content = nil
			}
			calls := 0
			if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); err != nil {
				t.Fatal(err)
			}
			checkApplied(t, plan, before, snapshot(t, fx.home), releaseSnapshot(t, fakeRelease("5.0.1")))
		})
	}
}

// TestApplyWithASideFileCreatedMeanwhile: with conffiles "new", the
// user's configuration is renamed to FILE.old; a FILE.old the user
// creates right before that step is neither replaced nor taken for gwup's
// by the rollback, which finishes.
func TestApplyWithASideFileCreatedMeanwhile(t *testing.T) {
	fx := newInstalledHome(t)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{Conffiles: ConffilesNew})
	if err != nil {
		t.Fatal(err)
	}
	var side string
	for _, f := range plan.Files {
		if f.Fate == FateNewOld {
			side = filepath.Join(fx.home, filepath.FromSlash(f.Side))
		}
	}
	if side == "" {
		t.Fatal("the fixture has no new+old file")
	}
	calls := 0
	opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: beforeStep(t, fx.home, func(s journalStep) {
		if s.To == side {
			if err := os.WriteFile(side, []byte("USER DATA"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	})}
	before := snapshot(t, fx.home)
	_, err = ApplyUnpack(t.Context(), plan, opts)
	if err == nil || strings.Contains(err.Error(), "ROLLBACK FAILED") {
		t.Fatalf("got %v, want a failed unpack rolled back", err)
	}
	if data, _ := os.ReadFile(side); string(data) != "USER DATA" {
		t.Errorf("the user's %s now holds %q", side, data)
	}
	after := snapshot(t, fx.home)
	rel, _ := filepath.Rel(fx.home, side)
	delete(after, filepath.ToSlash(rel))
	if !maps.Equal(before, after) {
		t.Errorf("not rolled back:\nbefore %v\nafter  %v", before, after)
	}
}

// TestUnpackBesideNeverReplacesATargetCreatedMeanwhile: a directory made
// at the target after the check, even an empty one, is not replaced.
func TestUnpackBesideNeverReplacesATargetCreatedMeanwhile(t *testing.T) {
	for _, noReplace := range []bool{true, false} {
		t.Run(fmt.Sprint("renameat2=", noReplace), func(t *testing.T) {
			if !noReplace {
				withoutNoReplace(t)
			}
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			target := filepath.Join(fx.parent, "gateway-new")
			_, err = UnpackBeside(t.Context(), plan, UnpackOptions{Target: target, testOnlyFail: func(step string) error {
				if step == "rename" {
					return os.Mkdir(target, 0o755)
				}
				return nil
			}})
			if err == nil {
				t.Fatal("moved over a directory created meanwhile")
			}
			if got := snapshot(t, target); len(got) != 1 {
				t.Errorf("target now holds %v", got)
			}
		})
	}
}
