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
