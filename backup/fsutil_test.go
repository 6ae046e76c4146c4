package backup

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// faultFs wraps an afero.Fs and injects errors: at the Nth Write on a file
// opened for writing, at Sync, Close or Rename/Link of such a file, at Open
// of chosen paths, and a hook that runs when a chosen file is first read (to
// change it under the archiver's feet).
type faultFs struct {
	afero.Fs
	mu         sync.Mutex
	failWrite  int   // 1-based index of the Write that fails; 0 never
	writeErr   error // defaults to ENOSPC
	failSync   error
	failClose  error
	failRename error            // at Rename
	noReplace  error            // at RenameNoReplace; nil forwards (renameat2 on OsFs)
	linkErr    error            // at Link; nil forwards (link(2) on OsFs)
	lstatErr   map[string]error // at Lstat of chosen paths
	openErr    map[string]error
	onRead     map[string]func()
	writes     int
}

func (f *faultFs) Open(name string) (afero.File, error) {
	if err := f.openErr[name]; err != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: err}
	}
	file, err := f.Fs.Open(name)
	if err != nil {
		return nil, err
	}
	if hook := f.onRead[name]; hook != nil {
		return &faultFile{File: file, fs: f, hook: hook}, nil
	}
	return file, nil
}

func (f *faultFs) OpenFile(name string, flag int, perm os.FileMode) (afero.File, error) {
	file, err := f.Fs.OpenFile(name, flag, perm)
	if err != nil || flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return file, err
	}
	return &faultFile{File: file, fs: f, writing: true}, nil
}

func (f *faultFs) Create(name string) (afero.File, error) {
	return f.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

func (f *faultFs) Rename(oldname, newname string) error {
	if f.failRename != nil {
		return &os.LinkError{Op: "rename", Old: oldname, New: newname, Err: f.failRename}
	}
	return f.Fs.Rename(oldname, newname)
}

// RenameNoReplace is what renameNoReplace tries first on a real disk.
func (f *faultFs) RenameNoReplace(oldname, newname string) error {
	if f.noReplace != nil {
		return &os.LinkError{Op: "renameat2", Old: oldname, New: newname, Err: f.noReplace}
	}
	if _, ok := f.Fs.(*afero.OsFs); ok {
		return renameat2NoReplace(oldname, newname)
	}
	return errors.ErrUnsupported
}

// Link is what renameNoReplace tries next.
func (f *faultFs) Link(oldname, newname string) error {
	if f.linkErr != nil {
		return &os.LinkError{Op: "link", Old: oldname, New: newname, Err: f.linkErr}
	}
	if _, ok := f.Fs.(*afero.OsFs); ok {
		return os.Link(oldname, newname)
	}
	return errors.ErrUnsupported
}

func (f *faultFs) LstatIfPossible(name string) (os.FileInfo, bool, error) {
	if err := f.lstatErr[name]; err != nil {
		return nil, false, &fs.PathError{Op: "lstat", Path: name, Err: err}
	}
	if l, ok := f.Fs.(afero.Lstater); ok {
		return l.LstatIfPossible(name)
	}
	fi, err := f.Fs.Stat(name)
	return fi, false, err
}

func (f *faultFs) ReadlinkIfPossible(name string) (string, error) {
	if l, ok := f.Fs.(afero.LinkReader); ok {
		return l.ReadlinkIfPossible(name)
	}
	return "", errors.ErrUnsupported
}

type faultFile struct {
	afero.File
	fs      *faultFs
	writing bool
	hook    func()
	once    sync.Once
}

func (f *faultFile) Write(p []byte) (int, error) {
	if f.writing {
		f.fs.mu.Lock()
		f.fs.writes++
		n := f.fs.writes
		f.fs.mu.Unlock()
		if f.fs.failWrite > 0 && n >= f.fs.failWrite {
			err := f.fs.writeErr
			if err == nil {
				err = syscall.ENOSPC
			}
			return 0, &fs.PathError{Op: "write", Path: f.Name(), Err: err}
		}
	}
	return f.File.Write(p)
}

func (f *faultFile) Read(p []byte) (int, error) {
	if f.hook != nil {
		f.once.Do(f.hook)
	}
	return f.File.Read(p)
}

func (f *faultFile) Sync() error {
	if f.writing && f.fs.failSync != nil {
		return &fs.PathError{Op: "sync", Path: f.Name(), Err: f.fs.failSync}
	}
	return f.File.Sync()
}

func (f *faultFile) Close() error {
	err := f.File.Close()
	if f.writing && f.fs.failClose != nil {
		return &fs.PathError{Op: "close", Path: f.Name(), Err: f.fs.failClose}
	}
	return err
}

// dirNames lists the names in dir (nil when it does not exist).
func dirNames(t *testing.T, fsys afero.Fs, dir string) []string {
	t.Helper()
	infos, err := afero.ReadDir(fsys, dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var names []string
	for _, fi := range infos {
		names = append(names, fi.Name())
	}
	return names
}

func TestRenameNoReplace(t *testing.T) {
	dir := t.TempDir()
	osfs := afero.NewOsFs()
	tmp, final := filepath.Join(dir, "a.tmp"), filepath.Join(dir, "a")
	for _, fsys := range []afero.Fs{osfs, afero.NewMemMapFs()} {
		if err := afero.WriteFile(fsys, tmp, []byte("new"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, final, []byte("old"), 0o600); err != nil {
			t.Fatal(err)
		}
		err := renameNoReplace(fsys, tmp, final)
		if !errors.Is(err, fs.ErrExist) {
			t.Errorf("%s: renameNoReplace over an existing file: err %v, want ErrExist", fsys.Name(), err)
		}
		if got, _ := afero.ReadFile(fsys, final); string(got) != "old" {
			t.Errorf("%s: existing file now holds %q", fsys.Name(), got)
		}
		fsys.Remove(final)
		if err := renameNoReplace(fsys, tmp, final); err != nil {
			t.Fatalf("%s: %v", fsys.Name(), err)
		}
		if got, _ := afero.ReadFile(fsys, final); string(got) != "new" {
			t.Errorf("%s: final holds %q, want new", fsys.Name(), got)
		}
		if ok, _ := afero.Exists(fsys, tmp); ok {
			t.Errorf("%s: temp name still exists", fsys.Name())
		}
		fsys.Remove(final)
	}
}

func TestIsInside(t *testing.T) {
	tests := []struct {
		dir, p string
		want   bool
	}{
		{"/opt/gw", "/opt/gw", true},
		{"/opt/gw", "/opt/gw/conf/x", true},
		{"/opt/gw", "/opt/gw-backups/x", false},
		{"/opt/gw", "/opt", false},
		{"/opt/gw", "/etc/x", false},
	}
	for _, tt := range tests {
		if got := isInside(tt.dir, tt.p); got != tt.want {
			t.Errorf("isInside(%q, %q) = %v, want %v", tt.dir, tt.p, got, tt.want)
		}
	}
}

// touchAll gives every file under root the same old mtime, so that tests
// can tell restored mtimes from fresh ones.
func touchAll(t *testing.T, root string, when time.Time) {
	t.Helper()
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.Type()&fs.ModeSymlink != 0 || strings.HasSuffix(p, "/") {
			return err
		}
		return os.Chtimes(p, when, when)
	})
	if err != nil {
		t.Fatal(err)
	}
}
