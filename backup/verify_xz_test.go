package backup

import (
	"errors"
	"testing"

	"github.com/spf13/afero"
)

// A zip entry compressed with xz over bad data makes the decoder panic
// inside mholt/archives; verify and restore must fail on the archive, not
// crash (found by FuzzReadArchive).
func TestVerifyAndRestoreOfABrokenXZZipEntry(t *testing.T) {
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, "/b/backup.zip", zipWithBrokenXZ(t), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Verify(t.Context(), fsys, "/b/backup.zip", VerifyOptions{}); err == nil {
		t.Errorf("Verify of a broken archive succeeded")
	}
	_, err := Restore(t.Context(), fsys, "/b/backup.zip", RestoreOptions{Into: t.TempDir(), DryRun: true})
	if err == nil {
		t.Errorf("Restore of a broken archive succeeded")
	}
	if errors.Is(err, ErrRestoreConflict) {
		t.Errorf("Restore: %v, want an archive error", err)
	}
}
