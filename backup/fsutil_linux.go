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

// syncfsSupported says syncFilesystem works here.
const syncfsSupported = true

// syncFilesystem makes every written byte of the filesystem holding dir
// durable with one syncfs(2): after an unpack has written a thousand files
// into staging, one call costs less than a thousand fsyncs. Since Linux 5.8
// it reports writeback errors of that filesystem.
func syncFilesystem(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := unix.Syncfs(int(f.Fd())); err != nil {
		return &os.PathError{Op: "syncfs", Path: dir, Err: err}
	}
	return nil
}
