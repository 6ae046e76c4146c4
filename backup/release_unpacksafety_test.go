package backup

import (
	"errors"
	"testing"

	"github.com/spf13/afero"
)

// TestReadReleaseOfABrokenXZZipEntry: the zip entry that makes the xz
// decoder panic is a corrupt archive to ReadRelease, not a crash.
func TestReadReleaseOfABrokenXZZipEntry(t *testing.T) {
	fsys := afero.NewMemMapFs()
	if err := afero.WriteFile(fsys, "/dl/rel.zip", zipWithBrokenXZ(t), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err := ReadRelease(t.Context(), fsys, "/dl/rel.zip")
	if !errors.Is(err, ErrCorruptArchive) {
		t.Errorf("got %v, want ErrCorruptArchive", err)
	}
}
