package backup

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
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
