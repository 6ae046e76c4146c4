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

// renameNoReplace moves a finished temp file to its final name but never
// replaces a file already there. On a real disk it is link(2), which fails
// with EEXIST atomically, followed by removing the temp name; a filesystem
// without hard links falls back to a check then rename (a small race,
// acceptable there). On MemMapFs it is the same check then rename.
func renameNoReplace(fsys afero.Fs, oldname, newname string) error {
	var err error
	switch f := fsys.(type) {
	case *afero.OsFs:
		err = os.Link(oldname, newname)
	case linker:
		err = f.Link(oldname, newname)
	default:
		err = errors.ErrUnsupported
	}
	if err == nil {
		if rerr := fsys.Remove(oldname); rerr != nil {
			return fmt.Errorf("remove temp file %s: %w", oldname, rerr)
		}
		return nil
	}
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("rename %s: %w", newname, fs.ErrExist)
	}
	var le *os.LinkError
	if !errors.Is(err, errors.ErrUnsupported) && !errors.As(err, &le) {
		return fmt.Errorf("rename %s: %w", newname, err)
	}
	if _, serr := lstat(fsys, newname); serr == nil {
		return fmt.Errorf("rename %s: %w", newname, fs.ErrExist)
	}
	if rerr := fsys.Rename(oldname, newname); rerr != nil {
		return fmt.Errorf("rename %s: %w", newname, rerr)
	}
	return nil
}

// isInside reports whether path is dir or below it (both absolute, cleaned).
func isInside(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && filepath.IsLocal(rel) || rel == "."
}
