//go:build linux

package backup

import (
	"os"

	"golang.org/x/sys/unix"
)

// renameat2NoReplace renames oldname to newname in one atomic step unless
// newname exists (EEXIST). Filesystems without RENAME_NOREPLACE answer
// EINVAL (or ENOSYS before Linux 3.15); see renameNoReplace.
func renameat2NoReplace(oldname, newname string) error {
	if err := unix.Renameat2(unix.AT_FDCWD, oldname, unix.AT_FDCWD, newname, unix.RENAME_NOREPLACE); err != nil {
		return &os.LinkError{Op: "renameat2", Old: oldname, New: newname, Err: err}
	}
	return nil
}
