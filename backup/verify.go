package backup

// verify.go checks a backup archive against its own manifest and,
// optionally, against the disk.
//
//	rep, err := backup.Verify(ctx, fsys, "/srv/gwup-backups/x.tar.gz", backup.VerifyOptions{Against: true})
//	// err is a *VerifyError (errors.Is ErrVerify) naming every bad entry,
//	// ErrNoManifest for an archive another tool made, or an I/O error.
//
// Against the manifest: every entry is read to its end and hashed; an entry
// missing, extra, listed twice, of another type, size, mode (permissions,
// setuid, setgid, sticky), mtime, link target or sha256 is a difference. A
// stream that breaks (truncated, bit-flipped) is a difference of kind
// DiffCorrupt naming the entry being read. Against the disk: each entry is compared with the file at its place
// in the home (or its original absolute path for OutsidePrefix entries);
// there only the permission bits are compared, as restore sets no others.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mholt/archives"
	"github.com/spf13/afero"
)

// ErrVerify is matched by every *VerifyError.
var ErrVerify = errors.New("verification failed")

// ErrNoManifest is returned for a readable archive without gwup-manifest.json.
var ErrNoManifest = errors.New("no " + ManifestName + ": not a gwup backup (made by another tool?)")

// Limits on what verify and restore read from one archive. A backup of a
// Gateway home holds at most a few GB in some thousands of files: the
// content and entry limits are far above that and only keep a hostile or
// broken archive from running (and allocating) without end. The manifest
// is held in memory whole and parsed, so its cap is strict.
const (
	MaxManifestSize   = 64 << 20  // bytes of gwup-manifest.json
	MaxArchiveContent = 64 << 30  // bytes of all entries' content together
	MaxArchiveEntries = 1_000_000 // entries in the archive, or in the manifest
)

// limits are the limits in force; tests lower them.
var limits = struct {
	manifest, content int64
	entries           int
}{MaxManifestSize, MaxArchiveContent, MaxArchiveEntries}

// errOverLimit marks an archive that goes past one of the limits.
var errOverLimit = errors.New("over the limit")

// Kinds of [Difference].
const (
	DiffCorrupt   = "corrupt"     // the archive stream broke while reading this entry
	DiffMissing   = "missing"     // in the manifest, not in the archive
	DiffExtra     = "extra"       // in the archive, not in the manifest
	DiffDuplicate = "duplicate"   // in the archive twice
	DiffUnsafe    = "unsafe-name" // absolute or ".." name
	DiffType      = "type"        // file versus symlink
	DiffSize      = "size"
	DiffMode      = "mode"
	DiffMTime     = "mtime"
	DiffLink      = "link"
	DiffContent   = "content"    // sha256 differs
	DiffLimit     = "over-limit" // past MaxManifestSize, MaxArchiveContent or MaxArchiveEntries: reading stopped

	DiskMissing = "disk-missing" // in the backup, not on the disk
	DiskType    = "disk-type"
	DiskSize    = "disk-size"
	DiskMode    = "disk-mode"
	DiskLink    = "disk-link"
	DiskContent = "disk-content"
	DiskError   = "disk-unreadable"
)

// Difference is one way an archive disagrees with its manifest or the disk.
type Difference struct {
	Entry  string `json:"entry"`
	Kind   string `json:"kind"`
	Detail string `json:"detail,omitempty"`
}

func (d Difference) String() string {
	if d.Detail == "" {
		return d.Entry + ": " + d.Kind
	}
	return d.Entry + ": " + d.Kind + ": " + d.Detail
}

// VerifyError lists the differences found in an archive.
type VerifyError struct {
	Archive     string
	Differences []Difference
}

func (e *VerifyError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "verify %s: %d difference(s)", e.Archive, len(e.Differences))
	for i, d := range e.Differences {
		if i == 5 {
			fmt.Fprintf(&b, "; ...")
			break
		}
		b.WriteString("; " + d.String())
	}
	return b.String()
}

func (e *VerifyError) Is(target error) bool { return target == ErrVerify }

// VerifyOptions chooses what to compare the archive with besides its manifest.
type VerifyOptions struct {
	Against bool   // also compare with the disk
	Home    string // the home to compare with; "" means the manifest's Home

	skipDisk []string // entries not compared with the disk (changed while archived)
}

// Report is what Verify read and found.
type Report struct {
	Archive     string       `json:"archive"`
	Manifest    Manifest     `json:"manifest"`
	Entries     int          `json:"entries"` // entries read, manifest included
	Differences []Difference `json:"differences"`
}

// seenEntry is an archive entry as read back.
type seenEntry struct {
	mode   fs.FileMode
	size   int64
	mtime  int64
	link   string
	sha256 string
}

// Verify reads the whole archive and compares it with its manifest, and
// with the disk when opts.Against. It returns a *VerifyError when anything
// differs; the Report is filled as far as the archive could be read.
func Verify(ctx context.Context, fsys afero.Fs, archive string, opts VerifyOptions) (Report, error) {
	rep := Report{Archive: archive, Differences: []Difference{}}
	seen, manifestData, err := readEntries(ctx, fsys, archive, &rep)
	if err != nil {
		return rep, err
	}
	if manifestData == nil {
		// A damaged archive may have lost its manifest: say what broke. An
		// intact one without a manifest (directory entries are normal in
		// other tools' archives) is simply not a gwup backup.
		for _, d := range rep.Differences {
			if d.Kind != DiffExtra || d.Detail != "directory" {
				return rep, &VerifyError{Archive: archive, Differences: rep.Differences}
			}
		}
		return rep, fmt.Errorf("verify %s: %w", archive, ErrNoManifest)
	}
	m, err := parseManifest(manifestData)
	if err != nil {
		rep.Differences = append(rep.Differences, Difference{Entry: ManifestName, Kind: DiffCorrupt, Detail: err.Error()})
		return rep, &VerifyError{Archive: archive, Differences: rep.Differences}
	}
	rep.Manifest = m
	compareManifest(m, seen, &rep)
	if opts.Against {
		home := opts.Home
		if home == "" {
			// The disk is read where the manifest says: only a plausible home.
			if err := checkManifestHome(m.Home); err != nil {
				return rep, fmt.Errorf("verify %s against the disk: %w: give the home explicitly", archive, err)
			}
			home = m.Home
		}
		skip := map[string]bool{}
		for _, s := range opts.skipDisk {
			skip[s] = true
		}
		for _, e := range m.Entries {
			if !skip[e.Path] {
				compareDisk(fsys, home, e, &rep)
			}
		}
	}
	if len(rep.Differences) > 0 {
		return rep, &VerifyError{Archive: archive, Differences: rep.Differences}
	}
	return rep, nil
}

// readEntries reads every entry of the archive, hashing file bodies. Broken
// streams and bad names become differences; only a failure to open or
// identify the archive is returned as an error.
func readEntries(ctx context.Context, fsys afero.Fs, archive string, rep *Report) (map[string]seenEntry, []byte, error) {
	f, ex, r, err := openArchive(ctx, fsys, archive)
	if errors.Is(err, errCorruptStart) {
		rep.Differences = append(rep.Differences, Difference{Entry: "start of archive", Kind: DiffCorrupt, Detail: err.Error()})
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, fmt.Errorf("verify: %w", err)
	}
	defer f.Close()
	seen := map[string]seenEntry{}
	var manifest []byte
	firstZip := ""
	if _, ok := ex.(archives.Zip); ok {
		firstZip = firstZipEntry(f)
	}
	firstSeen := firstZip == ""
	current, last := "", "" // the entry being read and the last one read, for naming a broken stream
	var content int64       // bytes of content read so far
	err = extractWithoutPanics(ctx, ex, r, func(ctx context.Context, fi archives.FileInfo) error {
		rep.Entries++
		current = fi.NameInArchive
		if rep.Entries > limits.entries {
			return fmt.Errorf("%w: more than %d entries", errOverLimit, limits.entries)
		}
		if fi.NameInArchive == firstZip {
			firstSeen = true
		}
		name, nerr := cleanEntryName(fi.NameInArchive)
		if nerr != nil || name == "" {
			rep.Differences = append(rep.Differences, Difference{Entry: fi.NameInArchive, Kind: DiffUnsafe})
			return nil
		}
		if fi.IsDir() {
			rep.Differences = append(rep.Differences, Difference{Entry: name, Kind: DiffExtra, Detail: "directory"})
			return nil
		}
		if _, dup := seen[name]; dup || name == ManifestName && manifest != nil {
			rep.Differences = append(rep.Differences, Difference{Entry: name, Kind: DiffDuplicate})
			return nil
		}
		se := seenEntry{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().Unix(), link: fi.LinkTarget}
		if fi.Mode().IsRegular() {
			// The header's size is checked first (a tar header is exact),
			// the bytes read after (a zip header may lie).
			limit := limits.content - content
			if name == ManifestName {
				limit = min(limit, limits.manifest)
			}
			if fi.Size() > limit {
				return overLimit(name, content, fi.Size())
			}
			rc, err := fi.Open()
			if err != nil {
				return err
			}
			defer rc.Close()
			h := sha256.New()
			var w io.Writer = h
			var buf bytes.Buffer
			if name == ManifestName {
				buf.Grow(int(max(fi.Size(), 0)))
				w = io.MultiWriter(h, &buf)
			}
			n, err := io.Copy(w, io.LimitReader(rc, limit+1))
			if err != nil {
				return err
			}
			if n > limit {
				return overLimit(name, content, n)
			}
			content += n
			se.size, se.sha256 = n, hex.EncodeToString(h.Sum(nil))
			if name == ManifestName {
				manifest = buf.Bytes()
				current, last = "", name
				return nil
			}
		}
		seen[name] = se
		current, last = "", name
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil, nil, ctx.Err()
		}
		where := current
		if where == "" && last != "" {
			where = "after " + last
		} else if where == "" {
			where = "start of archive"
		}
		kind := DiffCorrupt
		if errors.Is(err, errOverLimit) {
			kind = DiffLimit
		}
		rep.Differences = append(rep.Differences, Difference{Entry: where, Kind: kind, Detail: err.Error()})
	}
	if err == nil && !firstSeen {
		rep.Differences = append(rep.Differences, Difference{Entry: firstZip, Kind: DiffCorrupt,
			Detail: "the zip directory does not list the file's first entry (truncated, or the directory of a nested zip)"})
		return nil, nil, nil
	}
	return seen, manifest, nil
}

// overLimit says which limit the entry name, of size bytes, goes past
// after content bytes of earlier entries.
func overLimit(name string, content, size int64) error {
	if name == ManifestName && size > limits.manifest {
		return fmt.Errorf("%w: manifest too large: %s is more than %d bytes", errOverLimit, name, limits.manifest)
	}
	return fmt.Errorf("%w: content of the archive more than %d bytes at %s (%d bytes)", errOverLimit, limits.content, name, size)
}

func compareManifest(m Manifest, seen map[string]seenEntry, rep *Report) {
	listed := map[string]bool{}
	add := func(entry, kind, format string, args ...any) {
		rep.Differences = append(rep.Differences, Difference{Entry: entry, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	for _, e := range m.Entries {
		listed[e.Path] = true
		s, ok := seen[e.Path]
		if !ok {
			add(e.Path, DiffMissing, "listed in the manifest, not in the archive")
			continue
		}
		switch {
		case e.IsLink() != (s.mode&fs.ModeSymlink != 0) || !e.IsLink() && !s.mode.IsRegular():
			add(e.Path, DiffType, "manifest %v, archive %v", e.Mode.Type(), s.mode.Type())
			continue
		case e.IsLink():
			if e.Link != s.link {
				add(e.Path, DiffLink, "manifest %q, archive %q", e.Link, s.link)
			}
			continue
		}
		if e.Size != s.size {
			add(e.Path, DiffSize, "manifest %d, archive %d", e.Size, s.size)
		}
		if recordedMode(e.Mode) != recordedMode(s.mode) {
			add(e.Path, DiffMode, "manifest %v, archive %v", recordedMode(e.Mode), recordedMode(s.mode))
		}
		if e.MTime.Unix() != s.mtime {
			add(e.Path, DiffMTime, "manifest %v, archive %v", e.MTime.Unix(), s.mtime)
		}
		if e.SHA256 != s.sha256 {
			add(e.Path, DiffContent, "sha256 manifest %s, archive %s", e.SHA256, s.sha256)
		}
	}
	var extra []string
	for name := range seen {
		if !listed[name] {
			extra = append(extra, name)
		}
	}
	sort.Strings(extra)
	for _, name := range extra {
		add(name, DiffExtra, "in the archive, not in the manifest")
	}
}

// recordedMode is the part of a mode that the manifest and the archive
// must agree on: the permissions and the setuid, setgid and sticky bits.
// Restore sets only the permissions, so against the disk (compareDisk) only
// they are compared.
func recordedMode(m fs.FileMode) fs.FileMode {
	return m & (fs.ModePerm | specialModeBits)
}

// diskPath is where entry e lives on the disk for a home.
func diskPath(home string, e Entry) string {
	if strings.HasPrefix(e.Path, OutsidePrefix) {
		return "/" + strings.TrimPrefix(e.Path, OutsidePrefix)
	}
	return filepath.Join(home, filepath.FromSlash(e.Path))
}

func compareDisk(fsys afero.Fs, home string, e Entry, rep *Report) {
	add := func(kind, format string, args ...any) {
		rep.Differences = append(rep.Differences, Difference{Entry: e.Path, Kind: kind, Detail: fmt.Sprintf(format, args...)})
	}
	if strings.HasPrefix(e.Path, OutsidePrefix) {
		if why := outsideMismatch(e); why != "" {
			add(DiffUnsafe, "%s", why)
			return
		}
	}
	p := diskPath(home, e)
	fi, err := lstat(fsys, p)
	if errors.Is(err, fs.ErrNotExist) {
		add(DiskMissing, "%s", p)
		return
	} else if err != nil {
		add(DiskError, "%v", err)
		return
	}
	if e.IsLink() != (fi.Mode()&fs.ModeSymlink != 0) {
		add(DiskType, "backup %v, disk %v", e.Mode.Type(), fi.Mode().Type())
		return
	}
	if e.IsLink() {
		target, err := readlink(fsys, p)
		if err != nil {
			add(DiskError, "%v", err)
		} else if target != e.Link {
			add(DiskLink, "backup %q, disk %q", e.Link, target)
		}
		return
	}
	if fi.Mode().Perm() != e.Mode.Perm() {
		add(DiskMode, "backup %v, disk %v", e.Mode.Perm(), fi.Mode().Perm())
	}
	if fi.Size() != e.Size {
		add(DiskSize, "backup %d, disk %d", e.Size, fi.Size())
		return
	}
	sum, _, err := hashFile(fsys, p)
	if err != nil {
		add(DiskError, "%v", err)
	} else if sum != e.SHA256 {
		add(DiskContent, "sha256 backup %s, disk %s", e.SHA256, sum)
	}
}
