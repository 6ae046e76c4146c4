package backup

// archive.go writes a backup archive and proves it before saying so.
//
//	res, err := backup.Save(ctx, fsys, sel, backup.Options{Gwup: version})
//	switch {
//	case errors.Is(err, backup.ErrIncomplete): // saved and verified, but some files are missing: exit 4
//	case err != nil:                            // nothing trustworthy was saved
//	}
//
// The archive is private from its first byte: a temp file
// ".gwup-backup-*.tmp" created O_EXCL with mode 0600 in the destination
// directory (created 0700 when gwup makes it), written through
// mholt/archives (tar.gz with multithreaded gzip, tar.zst or zip, chosen by
// the destination's extension), every Close checked, fsynced, then linked to
// its final name (link(2) never overwrites), the temp name removed and the
// directory fsynced. An interrupted or failed run leaves nothing at the final
// name. The archive is then read back and verified against its manifest and
// against the disk.
//
// Each file is opened once, described by fstat, and hashed while it is
// written; a file that shrinks is padded (so the archive stays well formed)
// and, like one whose size or mtime changed by the time it was written, is
// listed in the manifest's Changed. A file that cannot be opened is listed in
// Unreadable. Either makes the backup incomplete (ErrIncomplete), but every
// other file is saved.

import (
	"archive/zip"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mholt/archives"
	"github.com/spf13/afero"
)

// ErrIncomplete marks a backup that was saved and verified but lacks some
// selected files (unreadable, or changed while archived). The CLI exits 4.
var ErrIncomplete = errors.New("backup incomplete")

// IncompleteError lists what an incomplete backup is missing. It matches
// ErrIncomplete with errors.Is.
type IncompleteError struct {
	Path       string // the archive, which exists
	Unreadable []Unreadable
	Changed    []string
}

func (e *IncompleteError) Error() string {
	var parts []string
	for _, u := range e.Unreadable {
		parts = append(parts, u.Path+" ("+u.Error+")")
	}
	for _, c := range e.Changed {
		parts = append(parts, c+" (changed while archived)")
	}
	return fmt.Sprintf("backup %s: incomplete, %d file(s) not saved: %s", e.Path, len(parts), strings.Join(parts, ", "))
}

func (e *IncompleteError) Is(target error) bool { return target == ErrIncomplete }

// Options says where and how to write a backup.
type Options struct {
	// Output is the archive to create; its extension picks the format
	// (.tar.gz/.tgz, .tar.zst/.tzst, .zip). It must not exist and must not
	// be inside the home. "" means DefaultPath.
	Output string
	Gwup   string    // gwup version, recorded in the manifest
	Host   string    // "" means os.Hostname()
	Now    time.Time // zero means time.Now()
}

// Result is a saved and verified backup.
type Result struct {
	Path     string   `json:"path"`
	Manifest Manifest `json:"manifest"`
	Warnings []string `json:"warnings,omitempty"`
}

// DefaultDir is where backups of home go when no output is given: a
// "gwup-backups" folder next to the home, outside it.
func DefaultDir(home string) string {
	return filepath.Join(filepath.Dir(filepath.Clean(home)), "gwup-backups")
}

// DefaultPath is DefaultDir(home)/gwup-backup-<release>-<host>-<UTC time>.tar.gz.
func DefaultPath(home, release, host string, now time.Time) string {
	if release == "" {
		release = "unknown"
	}
	name := fmt.Sprintf("gwup-backup-%s-%s-%s.tar.gz", safeNamePart(release), safeNamePart(host), now.UTC().Format("20060102T150405Z"))
	return filepath.Join(DefaultDir(home), name)
}

func safeNamePart(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// archiveFormat is how a destination name is written.
type archiveFormat struct {
	compress archives.Compressor // nil for zip
	archiver archives.ArchiverAsync
}

func formatFor(name string) (archiveFormat, error) {
	lower := strings.ToLower(name)
	switch {
	case strings.HasSuffix(lower, ".tar.gz"), strings.HasSuffix(lower, ".tgz"):
		return archiveFormat{archives.Gz{Multithreaded: true}, archives.Tar{}}, nil
	case strings.HasSuffix(lower, ".tar.zst"), strings.HasSuffix(lower, ".tzst"):
		return archiveFormat{archives.Zstd{}, archives.Tar{}}, nil
	case strings.HasSuffix(lower, ".zip"):
		return archiveFormat{nil, archives.Zip{Compression: zip.Deflate, SelectiveCompression: true}}, nil
	}
	return archiveFormat{}, fmt.Errorf("backup %s: unknown format, want .tar.gz, .tar.zst or .zip", name)
}

// Save writes the selected files and a manifest into a new archive, reads
// it back and verifies it against the manifest and the disk. It returns an
// *IncompleteError (ErrIncomplete) when the archive is good but some files
// are missing from it.
func Save(ctx context.Context, fsys afero.Fs, sel Selection, opts Options) (Result, error) {
	now := opts.Now
	if now.IsZero() {
		now = time.Now()
	}
	host := opts.Host
	if host == "" {
		host, _ = os.Hostname()
	}
	dest := opts.Output
	made := false
	if dest == "" {
		dest, made = DefaultPath(sel.Home, sel.Release, host, now), true
	}
	dest, err := filepath.Abs(dest)
	if err != nil {
		return Result{}, fmt.Errorf("backup %s: %w", opts.Output, err)
	}
	realHome, _ := filepath.EvalSymlinks(sel.Home)
	if isInside(sel.Home, dest) || isInside(sel.Home, resolved(dest)) || realHome != "" && isInside(realHome, resolved(dest)) {
		return Result{}, fmt.Errorf("backup %s: destination is inside the home %s", dest, sel.Home)
	}
	format, err := formatFor(dest)
	if err != nil {
		return Result{}, err
	}
	var res Result
	dir := filepath.Dir(dest)
	if made {
		if err := fsys.MkdirAll(dir, 0o700); err != nil {
			return Result{}, fmt.Errorf("backup %s: %w", dest, err)
		}
	}
	if fi, err := fsys.Stat(dir); err != nil {
		return Result{}, fmt.Errorf("backup %s: %w", dest, err)
	} else if fi.Mode().Perm()&0o077 != 0 {
		res.Warnings = append(res.Warnings, fmt.Sprintf("%s is accessible to other users (mode %v); the archive itself is 0600", dir, fi.Mode().Perm()))
	}
	if _, err := lstat(fsys, dest); err == nil {
		return Result{}, fmt.Errorf("backup %s: %w", dest, fs.ErrExist)
	}

	m := Manifest{
		Schema: ManifestSchema, Gwup: opts.Gwup, Host: host, Home: sel.Home, Release: sel.Release,
		Method: sel.Method, Created: now.UTC().Truncate(time.Second),
		Unreadable: append([]Unreadable(nil), sel.Unreadable...), Deleted: sel.Deleted,
		Entries: []Entry{},
	}
	if err := writeBackupArchive(ctx, fsys, dest, format, sel, &m); err != nil {
		return Result{}, err
	}
	res.Path, res.Manifest = dest, m

	// The archive is at its final name now; if reading it back fails it is
	// left there for inspection, and the error (a *VerifyError) says why.
	if _, err := Verify(ctx, fsys, dest, VerifyOptions{Against: true, skipDisk: m.Changed}); err != nil {
		return res, fmt.Errorf("backup %s: read back: %w", dest, err)
	}
	if !m.Complete {
		return res, &IncompleteError{Path: dest, Unreadable: m.Unreadable, Changed: m.Changed}
	}
	return res, nil
}

// resolved is p with its directory's symlinks resolved, when possible on the
// real disk ("" otherwise): a destination reached through a link into the
// home is still inside it.
func resolved(p string) string {
	d, err := filepath.EvalSymlinks(filepath.Dir(p))
	if err != nil {
		return ""
	}
	return filepath.Join(d, filepath.Base(p))
}

// writeBackupArchive writes the archive at a temp name and moves it to dest. On
// any error it removes the temp file and returns the error.
func writeBackupArchive(ctx context.Context, fsys afero.Fs, dest string, format archiveFormat, sel Selection, m *Manifest) (err error) {
	dir := filepath.Dir(dest)
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".gwup-backup-"+hex.EncodeToString(rnd[:])+".tmp")
	f, err := fsys.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("backup %s: create temp file: %w", dest, err)
	}
	closed := false
	defer func() {
		if err != nil {
			if !closed {
				f.Close()
			}
			fsys.Remove(tmp)
		}
	}()

	out := &stickyWriter{w: f}
	var aw io.Writer = out
	var cw io.WriteCloser
	if format.compress != nil {
		if cw, err = format.compress.OpenWriter(out); err != nil {
			return fmt.Errorf("backup %s: %w", dest, err)
		}
		aw = &stickyWriter{w: cw}
	}
	if err = archiveFiles(ctx, fsys, aw, format.archiver, sel, m); err != nil {
		return fmt.Errorf("backup %s: %w", dest, err)
	}
	if sw, ok := aw.(*stickyWriter); ok && sw.err != nil {
		return fmt.Errorf("backup %s: write: %w", dest, sw.err)
	}
	if cw != nil {
		if err = cw.Close(); err != nil {
			return fmt.Errorf("backup %s: compress: %w", dest, err)
		}
	}
	if out.err != nil {
		return fmt.Errorf("backup %s: write: %w", dest, out.err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("backup %s: sync: %w", dest, err)
	}
	closed = true
	if err = f.Close(); err != nil {
		return fmt.Errorf("backup %s: close: %w", dest, err)
	}
	if err = renameNoReplace(fsys, tmp, dest); err != nil {
		return fmt.Errorf("backup %s: %w", dest, err)
	}
	if err := syncDir(fsys, dir); err != nil {
		return fmt.Errorf("backup %s: %w", dest, err)
	}
	return nil
}

// stickyWriter remembers the first write error. The archivers defer their
// own Close (tar trailer, zip central directory) and drop its error; the
// error still lands here.
type stickyWriter struct {
	w   io.Writer
	err error
}

func (s *stickyWriter) Write(p []byte) (int, error) {
	if s.err != nil {
		return 0, s.err
	}
	n, err := s.w.Write(p)
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	if err != nil {
		s.err = err
	}
	return n, err
}

// archiveFiles feeds the archiver one file at a time, so that each file is
// opened (and found unreadable) before its header is written.
func archiveFiles(ctx context.Context, fsys afero.Fs, w io.Writer, archiver archives.ArchiverAsync, sel Selection, m *Manifest) error {
	jobs := make(chan archives.ArchiveAsyncJob)
	done := make(chan error, 1)
	go func() { done <- archiver.ArchiveAsync(ctx, w, jobs) }()
	result := make(chan error, 1)
	send := func(fi archives.FileInfo) error {
		jobs <- archives.ArchiveAsyncJob{File: fi, Result: result}
		return <-result
	}
	err := func() error {
		for _, s := range sel.Files {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := archiveOne(fsys, s, send, m); err != nil {
				return err
			}
		}
		m.Complete = len(m.Unreadable) == 0 && len(m.Changed) == 0
		data, err := json.MarshalIndent(m, "", "  ")
		if err != nil {
			return err
		}
		data = append(data, '\n')
		return send(memFileInfo(ManifestName, data, m.Created))
	}()
	close(jobs)
	if aerr := <-done; err == nil {
		err = aerr
	}
	return err
}

// archiveOne writes one selected file; a file that cannot be read is
// recorded in m and skipped, an archive write error is returned.
func archiveOne(fsys afero.Fs, s Selected, send func(archives.FileInfo) error, m *Manifest) error {
	unreadable := func(err error) error {
		m.Unreadable = append(m.Unreadable, Unreadable{Path: s.Path, Error: err.Error()})
		return nil
	}
	e := Entry{Path: s.Name, Reason: s.Reason}
	if strings.HasPrefix(s.Name, OutsidePrefix) {
		e.Source = s.Path
	}
	li, err := lstat(fsys, s.Path)
	if err != nil {
		return unreadable(err)
	}
	if li.Mode()&fs.ModeSymlink != 0 {
		target, err := readlink(fsys, s.Path)
		if err != nil {
			return unreadable(err)
		}
		e.Mode, e.MTime, e.Link = li.Mode(), li.ModTime().UTC().Truncate(time.Second), target
		fi := archives.FileInfo{FileInfo: secondsInfo{li}, NameInArchive: s.Name, LinkTarget: target}
		if err := send(fi); err != nil {
			return err
		}
		m.Entries = append(m.Entries, e)
		return nil
	}
	f, err := fsys.Open(s.Path)
	if err != nil {
		return unreadable(err)
	}
	defer f.Close()
	live, err := f.Stat()
	if err != nil {
		return unreadable(err)
	}
	// Some filesystems hand out a live FileInfo (MemMapFs): freeze it, so the
	// header, the manifest and the change check all see the opening state.
	st := frozenInfo{name: live.Name(), size: live.Size(), mode: live.Mode(), mod: live.ModTime(), sys: live.Sys()}
	if !st.Mode().IsRegular() {
		return unreadable(fmt.Errorf("not a regular file (%v)", st.Mode().Type()))
	}
	// Some filesystems refuse only at the first read (EACCES on NFS, EIO):
	// probe before the header is written, so the entry can still be left out.
	var probe [1]byte
	if _, err := f.ReadAt(probe[:], 0); err != nil && err != io.EOF {
		return unreadable(err)
	}
	body := &hashingReader{r: f, size: st.Size(), h: sha256.New()}
	fi := archives.FileInfo{
		FileInfo: secondsInfo{st}, NameInArchive: s.Name,
		Open: func() (fs.File, error) { return body, nil },
	}
	if err := send(fi); err != nil {
		return err
	}
	if body.readErr != nil {
		// Failed mid-read: the entry was padded to keep the archive whole;
		// its bytes are not the file's.
		m.Unreadable = append(m.Unreadable, Unreadable{Path: s.Path, Error: body.readErr.Error()})
	}
	e.Size, e.Mode, e.MTime = st.Size(), st.Mode(), st.ModTime().UTC().Truncate(time.Second)
	e.SHA256 = hex.EncodeToString(body.h.Sum(nil))
	m.Entries = append(m.Entries, e)
	if after, err := fsys.Stat(s.Path); err != nil || body.short || after.Size() != st.Size() || !after.ModTime().Equal(st.ModTime()) {
		m.Changed = append(m.Changed, s.Name)
	}
	return nil
}

// hashingReader hashes what the archiver copies and pads a file that
// shrank while being read, so the entry keeps the size its header promised.
type hashingReader struct {
	r       io.Reader
	size    int64
	n       int64
	h       hash.Hash
	short   bool
	readErr error
}

func (r *hashingReader) Read(p []byte) (int, error) {
	if r.n >= r.size {
		return 0, io.EOF
	}
	if rest := r.size - r.n; int64(len(p)) > rest {
		p = p[:rest]
	}
	var n int
	var err error
	if !r.short {
		n, err = r.r.Read(p)
	}
	if err != nil && err != io.EOF {
		r.readErr, r.short = err, true
	}
	if n == 0 && (err == io.EOF || r.short) {
		r.short = true
		clear(p)
		n = len(p)
	}
	r.h.Write(p[:n])
	r.n += int64(n)
	return n, nil
}

func (r *hashingReader) Stat() (fs.FileInfo, error) { return nil, errors.ErrUnsupported }
func (r *hashingReader) Close() error               { return nil } // the caller closes the file

// frozenInfo is a FileInfo frozen at one moment.
type frozenInfo struct {
	name string
	size int64
	mode fs.FileMode
	mod  time.Time
	sys  any
}

func (s frozenInfo) Name() string       { return s.name }
func (s frozenInfo) Size() int64        { return s.size }
func (s frozenInfo) Mode() fs.FileMode  { return s.mode }
func (s frozenInfo) ModTime() time.Time { return s.mod }
func (s frozenInfo) IsDir() bool        { return s.mode.IsDir() }
func (s frozenInfo) Sys() any           { return s.sys }

// secondsInfo rounds mtimes down to whole seconds, the precision common to
// tar and zip, so the archive, the manifest and a restore all agree.
type secondsInfo struct{ fs.FileInfo }

func (s secondsInfo) ModTime() time.Time { return s.FileInfo.ModTime().Truncate(time.Second) }

// memInfo describes an in-memory file (the manifest).
type memInfo struct {
	name string
	size int64
	mod  time.Time
}

func (m memInfo) Name() string       { return m.name }
func (m memInfo) Size() int64        { return m.size }
func (m memInfo) Mode() fs.FileMode  { return 0o600 }
func (m memInfo) ModTime() time.Time { return m.mod }
func (m memInfo) IsDir() bool        { return false }
func (m memInfo) Sys() any           { return nil }

type memFile struct {
	*strings.Reader
	info memInfo
}

func (f memFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f memFile) Close() error               { return nil }

func memFileInfo(name string, data []byte, mod time.Time) archives.FileInfo {
	info := memInfo{name: name, size: int64(len(data)), mod: mod}
	return archives.FileInfo{
		FileInfo: info, NameInArchive: name,
		Open: func() (fs.File, error) { return memFile{strings.NewReader(string(data)), info}, nil },
	}
}
