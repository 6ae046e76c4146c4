//go:build !linux

package backup

import (
	"errors"
	"os"
)

// renameat2NoReplace is Linux only; elsewhere renameNoReplace goes on to
// link(2).
func renameat2NoReplace(oldname, newname string) error {
	return &os.LinkError{Op: "renameat2", Old: oldname, New: newname, Err: errors.ErrUnsupported}
}

// syncfsSupported is false: files are fsynced one by one.
const syncfsSupported = false

func syncFilesystem(dir string) error {
	return &os.PathError{Op: "syncfs", Path: dir, Err: errors.ErrUnsupported}
}
