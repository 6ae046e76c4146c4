package backup

// fsutil.go holds the small filesystem helpers the rest of the package
// shares: lstat and readlink through afero's optional interfaces, hashing,
// fsync of a directory, and a no-overwrite rename.

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/spf13/afero"
)

// lstat is Lstat when the filesystem has it (OsFs), Stat otherwise
// (MemMapFs has no symlinks, so the two agree there).
func lstat(fsys afero.Fs, name string) (fs.FileInfo, error) {
	if l, ok := fsys.(afero.Lstater); ok {
		fi, _, err := l.LstatIfPossible(name)
		return fi, err
	}
	return fsys.Stat(name)
}

// readlink returns the target of the symlink name.
func readlink(fsys afero.Fs, name string) (string, error) {
	if l, ok := fsys.(afero.LinkReader); ok {
		return l.ReadlinkIfPossible(name)
	}
	return "", &fs.PathError{Op: "readlink", Path: name, Err: errors.ErrUnsupported}
}

// hashFile returns the hex sha256 and the byte count of a file's content.
func hashFile(fsys afero.Fs, name string) (string, int64, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", n, fmt.Errorf("read %s: %w", name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// syncDir makes a rename or link in dir durable. Filesystems that cannot
// fsync a directory (EINVAL, ENOTSUP) are tolerated, as restic does.
func syncDir(fsys afero.Fs, dir string) error {
	d, err := fsys.Open(dir)
	if err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, syscall.EINVAL) && !errors.Is(err, syscall.ENOTSUP) {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// linker is implemented by filesystems that can make a hard link (the test
// fault injector forwards to its inner filesystem).
type linker interface {
	Link(oldname, newname string) error
}

// noReplaceRenamer is implemented by filesystems that can rename without
// replacing (the test fault injector forwards to its inner filesystem).
type noReplaceRenamer interface {
	RenameNoReplace(oldname, newname string) error
}

// errCannotRenameSafely is returned when the filesystem offers no atomic
// way to move a file without replacing one, and whether the destination
// exists cannot be told either.
var errCannotRenameSafely = errors.New("cannot rename without overwriting on this filesystem")

// renameNoReplace moves a finished temp file to its final name but never
// replaces a file already there; the destination existing is fs.ErrExist.
//
//  1. renameat2(RENAME_NOREPLACE) (Linux, on the real disk): atomic.
//  2. Where the filesystem lacks it (EINVAL, ENOSYS, ENOTSUP, EOPNOTSUPP):
//     link(2), which fails with EEXIST atomically, then remove the temp name.
//  3. Only where the filesystem has no hard links either (link fails with
//     EXDEV, ENOTSUP, EOPNOTSUPP, or EPERM, which is what such filesystems
//     answer for a file we own; MemMapFs): check that the destination is
//     absent, then rename. That leaves a small race, the best such a
//     filesystem allows; when the check itself fails, the rename is refused
//     (errCannotRenameSafely) rather than risk overwriting.
//
// Any other error (EACCES, ENOSPC, EMLINK, EIO...) is returned as it is:
// it says nothing about whether a plain rename would be safe.
func renameNoReplace(fsys afero.Fs, oldname, newname string) error {
	err := errors.ErrUnsupported
	switch f := fsys.(type) {
	case *afero.OsFs:
		err = renameat2NoReplace(oldname, newname)
	case noReplaceRenamer:
		err = f.RenameNoReplace(oldname, newname)
	}
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("rename %s: %w", newname, fs.ErrExist)
	case !anyErr(err, errors.ErrUnsupported, syscall.EINVAL, syscall.ENOSYS, syscall.ENOTSUP, syscall.EOPNOTSUPP):
		return fmt.Errorf("rename %s: %w", newname, err)
	}

	err = errors.ErrUnsupported
	switch f := fsys.(type) {
	case *afero.OsFs:
		err = os.Link(oldname, newname)
	case linker:
		err = f.Link(oldname, newname)
	}
	switch {
	case err == nil:
		if rerr := fsys.Remove(oldname); rerr != nil {
			return fmt.Errorf("remove temp file %s: %w", oldname, rerr)
		}
		return nil
	case errors.Is(err, fs.ErrExist):
		return fmt.Errorf("rename %s: %w", newname, fs.ErrExist)
	case !anyErr(err, errors.ErrUnsupported, syscall.EXDEV, syscall.ENOTSUP, syscall.EOPNOTSUPP, syscall.EPERM):
		return fmt.Errorf("rename %s: %w", newname, err)
	}

	if _, serr := lstat(fsys, newname); serr == nil {
		return fmt.Errorf("rename %s: %w", newname, fs.ErrExist)
	} else if !errors.Is(serr, fs.ErrNotExist) {
		return fmt.Errorf("rename %s: %w: %w", newname, errCannotRenameSafely, serr)
	}
	if rerr := fsys.Rename(oldname, newname); rerr != nil {
		return fmt.Errorf("rename %s: %w", newname, rerr)
	}
	return nil
}

// anyErr reports whether err is any of targets.
func anyErr(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// isInside reports whether path is dir or below it (both absolute, cleaned).
func isInside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel) || rel == "."
}
