//go:build !linux

package backup

import (
	"errors"
	"io/fs"
	"os"
)

// errUnpackNeedsLinux: the in-place unpack relies on openat, renameat2 and
// unlinkat to act inside the home without following a symlink swapped in
// after the plan (see parentfs_linux.go); there is no such port elsewhere
// yet, so it refuses rather than run with weaker guarantees.
var errUnpackNeedsLinux = errors.New("the in-place unpack is only supported on Linux")

type parentFS struct{}

func openParentFS(string) (*parentFS, error) { return nil, errUnpackNeedsLinux }

func (p *parentFS) Close() error                     { return nil }
func (p *parentFS) rel(string) (string, error)       { return "", errUnpackNeedsLinux }
func (p *parentFS) openDir(string) (*os.File, error) { return nil, errUnpackNeedsLinux }
func (p *parentFS) openParentOf(string) (*os.File, string, error) {
	return nil, "", errUnpackNeedsLinux
}
func (p *parentFS) isDir(string) (bool, error)      { return false, errUnpackNeedsLinux }
func (p *parentFS) exists(string) (bool, error)     { return false, errUnpackNeedsLinux }
func (p *parentFS) rename(string, string) error     { return errUnpackNeedsLinux }
func (p *parentFS) sameFile(string, string) bool    { return false }
func (p *parentFS) remove(string) error             { return errUnpackNeedsLinux }
func (p *parentFS) mkdir(string, fs.FileMode) error { return errUnpackNeedsLinux }
func (p *parentFS) removeDir(string) error          { return errUnpackNeedsLinux }
func (p *parentFS) syncDir(string) error            { return errUnpackNeedsLinux }
