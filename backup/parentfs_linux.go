//go:build linux

package backup

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"
)

// parentFS carries out the journal's steps inside the home's parent
// directory, where the home and its staging directory are siblings. Every
// path is walked from an [os.Root] on that parent one component at a time
// with O_NOFOLLOW, and the last component is acted on with the *at system
// calls, which do not follow it either: a directory of the home swapped
// for a symlink after the plan (lib -> /etc) makes a step fail instead of
// writing or moving files wherever the link points. That is stricter than
// os.Root alone, which follows a symlink that stays inside the parent
// (into a sibling home, say).
type parentFS struct {
	root *os.Root
	dir  string // filepath.Dir(home), absolute and clean
}

func openParentFS(home string) (*parentFS, error) {
	dir := filepath.Dir(home)
	root, err := os.OpenRoot(dir)
	if err != nil {
		return nil, err
	}
	return &parentFS{root: root, dir: dir}, nil
}

func (p *parentFS) Close() error { return p.root.Close() }

// rel turns an absolute path of the journal into a name inside the parent.
func (p *parentFS) rel(abs string) (string, error) {
	r, err := filepath.Rel(p.dir, abs)
	if err != nil || !filepath.IsLocal(r) || !filepath.IsAbs(abs) {
		return "", fmt.Errorf("%s lies outside %s", abs, p.dir)
	}
	return r, nil
}

// openDir opens the directory rel (relative to the parent, "." for the
// parent itself) without following any symlink on the way.
func (p *parentFS) openDir(rel string) (*os.File, error) {
	f, err := p.root.Open(".")
	if err != nil {
		return nil, err
	}
	if rel == "." {
		return f, nil
	}
	walked := p.dir
	for _, name := range strings.Split(rel, string(filepath.Separator)) {
		walked = filepath.Join(walked, name)
		fd, err := unix.Openat(int(f.Fd()), name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
		f.Close()
		if errors.Is(err, unix.ELOOP) || errors.Is(err, unix.ENOTDIR) {
			return nil, fmt.Errorf("%s is not a directory (a symlink or a file): refusing to go through it", walked)
		}
		if err != nil {
			return nil, &fs.PathError{Op: "open", Path: walked, Err: err}
		}
		f = os.NewFile(uintptr(fd), walked)
	}
	return f, nil
}

// openParentOf opens the directory that holds abs and returns it with the
// last component of abs.
func (p *parentFS) openParentOf(abs string) (*os.File, string, error) {
	rel, err := p.rel(abs)
	if err != nil {
		return nil, "", err
	}
	dir, err := p.openDir(filepath.Dir(rel))
	if err != nil {
		return nil, "", err
	}
	return dir, filepath.Base(rel), nil
}

// isDir reports whether abs itself is a directory (a symlink is not
// followed).
func (p *parentFS) isDir(abs string) (bool, error) {
	st, err := p.lstat(abs)
	if err != nil {
		return false, err
	}
	return st.Mode&unix.S_IFMT == unix.S_IFDIR, nil
}

// lstat stats abs itself (a symlink is not followed).
func (p *parentFS) lstat(abs string) (unix.Stat_t, error) {
	var st unix.Stat_t
	dir, name, err := p.openParentOf(abs)
	if err != nil {
		return st, err
	}
	defer dir.Close()
	if err := unix.Fstatat(int(dir.Fd()), name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return st, &fs.PathError{Op: "lstat", Path: abs, Err: err}
	}
	return st, nil
}

// exists reports whether abs exists (as anything, a symlink included).
func (p *parentFS) exists(abs string) (bool, error) {
	_, err := p.lstat(abs)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	}
	return false, err
}

// renameat2 is unix.Renameat2, replaced in tests by a filesystem without
// RENAME_NOREPLACE.
var renameat2 = unix.Renameat2

// rename moves from to to, never replacing anything at to: a file the
// user created there since the plan makes the step fail (EEXIST) instead
// of being overwritten. Every step's destination is free by construction
// (a replaced file is moved aside first), so no step needs more. Where the
// filesystem lacks RENAME_NOREPLACE, a file is hard-linked to its new name
// (link(2) does not replace either) and then unlinked from the old: for a
// moment both names exist, which done and undo recognise (same inode); a
// directory is made anew with mkdirat(2), which does not replace either,
// and the old one removed.
func (p *parentFS) rename(from, to string) error {
	fromDir, fromName, err := p.openParentOf(from)
	if err != nil {
		return err
	}
	defer fromDir.Close()
	toDir, toName, err := p.openParentOf(to)
	if err != nil {
		return err
	}
	defer toDir.Close()
	ofd, nfd := int(fromDir.Fd()), int(toDir.Fd())
	err = renameat2(ofd, fromName, nfd, toName, unix.RENAME_NOREPLACE)
	if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.ENOSYS) {
		err = moveWithoutReplacing(ofd, fromName, nfd, toName)
	}
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// moveWithoutReplacing is rename without RENAME_NOREPLACE support.
func moveWithoutReplacing(ofd int, from string, nfd int, to string) error {
	var st unix.Stat_t
	if err := unix.Fstatat(ofd, from, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return err
	}
	if st.Mode&unix.S_IFMT == unix.S_IFDIR {
		if err := unix.Mkdirat(nfd, to, st.Mode&0o7777); err != nil {
			return err
		}
		return unix.Unlinkat(ofd, from, unix.AT_REMOVEDIR)
	}
	if err := unix.Linkat(ofd, from, nfd, to, 0); err != nil {
		return err
	}
	return unix.Unlinkat(ofd, from, 0)
}

// sameFile reports whether a and b both exist and are one inode: a move
// by link and unlink that stopped half way.
func (p *parentFS) sameFile(a, b string) bool {
	sa, err := p.lstat(a)
	if err != nil {
		return false
	}
	sb, err := p.lstat(b)
	return err == nil && sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// remove unlinks the file (not directory) abs.
func (p *parentFS) remove(abs string) error {
	dir, name, err := p.openParentOf(abs)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := unix.Unlinkat(int(dir.Fd()), name, 0); err != nil {
		return &fs.PathError{Op: "remove", Path: abs, Err: err}
	}
	return nil
}

// mkdir creates the directory abs; it fails if abs exists.
func (p *parentFS) mkdir(abs string, mode fs.FileMode) error {
	dir, name, err := p.openParentOf(abs)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := unix.Mkdirat(int(dir.Fd()), name, uint32(mode.Perm())); err != nil {
		return &fs.PathError{Op: "mkdir", Path: abs, Err: err}
	}
	return nil
}

// removeDir removes the directory abs if it is empty.
func (p *parentFS) removeDir(abs string) error {
	dir, name, err := p.openParentOf(abs)
	if err != nil {
		return err
	}
	defer dir.Close()
	if err := unix.Unlinkat(int(dir.Fd()), name, unix.AT_REMOVEDIR); err != nil {
		return &fs.PathError{Op: "remove", Path: abs, Err: err}
	}
	return nil
}

// syncDir fsyncs the directory abs.
func (p *parentFS) syncDir(abs string) error {
	rel, err := p.rel(abs)
	if err != nil {
		return err
	}
	d, err := p.openDir(rel)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
