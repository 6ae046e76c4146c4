//go:build linux

package backup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/spf13/afero"
)

// TestRenameNoReplaceFaults: renameNoReplace never replaces an existing
// file, falls back to link(2) only when the filesystem lacks
// RENAME_NOREPLACE, and to a checked rename only when it lacks hard links
// too; every other error is returned with both names left as they were.
func TestRenameNoReplaceFaults(t *testing.T) {
	tests := []struct {
		name       string
		noReplace  error // at renameat2
		linkErr    error // at link
		lstatErr   error // at the fallback's check of the destination
		destExists bool
		wantErr    error // nil: moved
		wantText   string
	}{
		{name: "renameat2", linkErr: syscall.EIO},
		{name: "renameat2, destination exists", linkErr: syscall.EIO, destExists: true, wantErr: fs.ErrExist},
		{name: "renameat2 fails", noReplace: syscall.ENOSPC, wantErr: syscall.ENOSPC},
		{name: "renameat2 denied", noReplace: syscall.EACCES, wantErr: syscall.EACCES},
		{name: "no renameat2: link", noReplace: syscall.EINVAL},
		{name: "no renameat2: link, destination exists", noReplace: syscall.EINVAL, destExists: true, wantErr: fs.ErrExist},
		{name: "link EMLINK", noReplace: syscall.EINVAL, linkErr: syscall.EMLINK, wantErr: syscall.EMLINK},
		{name: "link ENOSPC", noReplace: syscall.ENOSYS, linkErr: syscall.ENOSPC, wantErr: syscall.ENOSPC},
		{name: "link EACCES", noReplace: syscall.ENOSYS, linkErr: syscall.EACCES, wantErr: syscall.EACCES},
		{name: "no hard links: checked rename", noReplace: syscall.EOPNOTSUPP, linkErr: syscall.EPERM},
		{name: "no hard links, destination exists", noReplace: syscall.EOPNOTSUPP, linkErr: syscall.EPERM, destExists: true, wantErr: fs.ErrExist},
		{name: "no hard links, check fails", noReplace: syscall.ENOTSUP, linkErr: syscall.EXDEV, lstatErr: syscall.EACCES, destExists: true,
			wantErr: errCannotRenameSafely, wantText: "cannot rename without overwriting on this filesystem"},
		{name: "no hard links, check fails, absent", noReplace: syscall.ENOTSUP, linkErr: syscall.EXDEV, lstatErr: syscall.EIO, wantErr: errCannotRenameSafely},
	}
	realNoReplace := renameat2Works(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.noReplace == nil && !realNoReplace {
				t.Skip("renameat2(RENAME_NOREPLACE) is not available here")
			}
			dir := t.TempDir()
			tmp, final := filepath.Join(dir, "a.tmp"), filepath.Join(dir, "a")
			must(t, os.WriteFile(tmp, []byte("new"), 0o600))
			if tt.destExists {
				must(t, os.WriteFile(final, []byte("old"), 0o600))
			}
			ff := &faultFs{Fs: afero.NewOsFs(), noReplace: tt.noReplace, linkErr: tt.linkErr}
			if tt.lstatErr != nil {
				ff.lstatErr = map[string]error{final: tt.lstatErr}
			}
			err := renameNoReplace(ff, tmp, final)
			if tt.wantErr == nil {
				if err != nil {
					t.Fatalf("err %v", err)
				}
				if got, _ := os.ReadFile(final); string(got) != "new" {
					t.Errorf("destination holds %q, want new", got)
				}
				if _, err := os.Lstat(tmp); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("temp name still there: %v", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.wantText) {
				t.Fatalf("err %v, want %v %q", err, tt.wantErr, tt.wantText)
			}
			want := ""
			if tt.destExists {
				want = "old"
			}
			if got, _ := os.ReadFile(final); string(got) != want {
				t.Errorf("destination holds %q, want %q", got, want)
			}
			if got, _ := os.ReadFile(tmp); string(got) != "new" {
				t.Errorf("temp file holds %q, want new", got)
			}
		})
	}
}

// renameat2Works reports whether renameat2(RENAME_NOREPLACE) works in a
// temp dir on this system.
func renameat2Works(t *testing.T) bool {
	dir := t.TempDir()
	old, new := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	must(t, os.WriteFile(old, nil, 0o600))
	return renameat2NoReplace(old, new) == nil
}
