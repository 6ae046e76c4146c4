package backup

// restore.go puts the files of a backup back into a home.
//
//	res, err := backup.Restore(ctx, fsys, "/srv/gwup-backups/x.tar.gz", backup.RestoreOptions{Into: home})
//
// The archive is verified against its manifest first; nothing is written
// from an archive that fails. Verifying proves only that the archive agrees
// with itself: whoever wrote it wrote the manifest too, so what the manifest
// says about where and how to write is checked, not obeyed. Without Into the
// manifest's home is used only when it is a clean absolute existing
// directory other than "/"; a missing Into is created (0755, its parent
// must exist; CreatedHome says so). A home with an unpack journal next to it
// (JournalPath) is mid-upgrade and refused with ErrUnfinished. Each entry is then planned against the disk:
// absent (write), equal to the backup (unchanged, skipped), different
// (conflict: refused unless Force, in which case it is overwritten). If any
// conflict remains, nothing at all is written. A dry run stops after the
// plan.
//
// Writing uses os.Root on the real disk (not afero): every open, mkdir,
// symlink and rename is confined beneath the home by the kernel-level
// checks of os.Root, so a symlinked parent cannot lead a write out of it.
// Names are also checked lexically (filepath.IsLocal), and a symlink entry
// whose target leaves the home is not created (action "refused"). Each file
// is written to a temp name, fsynced, given its mode and mtime, and renamed
// into place; then everything written is read back and compared with the
// manifest. Symlink mtimes are not restored, nor are setuid, setgid and
// sticky bits: only the permission bits (Perm) are set.
//
// OutsidePrefix entries go back to their original absolute paths only with
// Outside; otherwise they are listed as "outside" and left alone. Such an
// entry is written only when its name is the one gwup derives from its
// recorded source path, and a symlink among them only when its target is
// relative and stays beneath the link's own folder; every absolute path
// written outside the home is listed in the result's Outside.

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/mholt/archives"
	"github.com/spf13/afero"
)

// ErrRestoreConflict is returned when files on the disk differ from the backup and
// Force was not given; nothing was written.
var ErrRestoreConflict = errors.New("files differ from the backup (use --force to overwrite)")

// ErrRefused is returned, after everything else was restored, when some
// entries were not restored because writing them would leave the home (a
// symlink pointing out of it, a symlinked parent leading out of it).
var ErrRefused = errors.New("some entries refused as unsafe")

// Restore actions.
const (
	ActionWrite     = "write"     // absent on the disk: created
	ActionOverwrite = "overwrite" // different on the disk, Force given: replaced
	ActionUnchanged = "unchanged" // equal to the backup: skipped
	ActionConflict  = "conflict"  // different on the disk, no Force: refused
	ActionOutside   = "outside"   // outside the home, Outside not given: skipped
	ActionRefused   = "refused"   // unsafe (a link leaving the home): skipped
)

// RestoreOptions says where and how to restore.
type RestoreOptions struct {
	Into    string // the home to restore into; "" means the manifest's Home
	DryRun  bool   // plan only
	Force   bool   // overwrite files that differ from the backup
	Outside bool   // also restore OutsidePrefix entries to their absolute paths
}

// RestoreItem is what restore does, or would do, with one entry.
type RestoreItem struct {
	Entry  string `json:"entry"`
	Target string `json:"target"` // absolute path on the disk
	Action string `json:"action"`
	Detail string `json:"detail,omitempty"`
}

// RestoreResult is the plan, and after a real run what was done.
type RestoreResult struct {
	Into     string        `json:"into"`
	DryRun   bool          `json:"dry_run"`
	Manifest Manifest      `json:"manifest"`
	Items    []RestoreItem `json:"items"`
	Written  int           `json:"written"`
	// Outside lists the absolute paths outside the home that the restore
	// writes (in a dry run: would write); only with the Outside option.
	Outside []string `json:"outside,omitempty"`
	// CreatedHome is true when Into did not exist and was created (mode
	// 0755, like a Gateway home; its parent must exist). In a dry run it
	// says the home would be created.
	CreatedHome bool `json:"created_home,omitempty"`
}

// checkManifestHome checks, lexically, a home read from a manifest: it must
// be a clean absolute path other than "/".
func checkManifestHome(home string) error {
	switch {
	case home == "" || !filepath.IsAbs(home):
		return fmt.Errorf("the manifest's home %q is not an absolute path", home)
	case filepath.Clean(home) != home:
		return fmt.Errorf("the manifest's home %q is not a clean path", home)
	case home == "/":
		return fmt.Errorf("the manifest's home is the root directory")
	}
	return nil
}

// restoreTarget is the home to restore into, cleaned and absolute, and
// whether it is missing. The manifest's Home is written by whoever made the
// archive, so it is used only when it names an existing directory other
// than "/"; a home that does not exist (yet) needs an explicit Into.
func restoreTarget(m Manifest, opts RestoreOptions) (string, bool, error) {
	if opts.Into == "" {
		home := m.Home
		if err := checkManifestHome(home); err != nil {
			return "", false, fmt.Errorf("restore: %w: give the home to restore into explicitly", err)
		}
		fi, err := os.Stat(home)
		if err != nil {
			return "", false, fmt.Errorf("restore into %s (the manifest's home): %w: give the home to restore into explicitly", home, err)
		}
		if !fi.IsDir() {
			return "", false, fmt.Errorf("restore into %s (the manifest's home): not a directory", home)
		}
		return home, false, nil
	}
	into, err := filepath.Abs(opts.Into)
	if err != nil {
		return "", false, fmt.Errorf("restore into %s: %w", opts.Into, err)
	}
	if into == "/" {
		return "", false, fmt.Errorf("restore into /: refusing to restore into the root directory")
	}
	fi, err := os.Stat(into)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return into, true, nil
	case err != nil:
		return "", false, fmt.Errorf("restore into %s: %w", into, err)
	case !fi.IsDir():
		return "", false, fmt.Errorf("restore into %s: not a directory", into)
	}
	return into, false, nil
}

// Restore restores archive into opts.Into; see the file comment for the
// rules. Errors: a *VerifyError or ErrNoManifest for a bad archive,
// ErrUnfinished when an unpack journal exists next to the home (nothing read
// from the disk or written),
// ErrRestoreConflict when files differ and Force is not set (nothing written),
// ErrRefused when unsafe entries were skipped (the rest written).
func Restore(ctx context.Context, fsys afero.Fs, archive string, opts RestoreOptions) (RestoreResult, error) {
	rep, err := Verify(ctx, fsys, archive, VerifyOptions{})
	if err != nil {
		return RestoreResult{}, fmt.Errorf("restore: %w", err)
	}
	m := rep.Manifest
	into, missing, err := restoreTarget(m, opts)
	if err != nil {
		return RestoreResult{}, err
	}
	// A journal next to the home means an unpack is running or was
	// interrupted: its files are half old, half new, and the unpack's own
	// recovery must run (or the journal be dealt with) before anything else
	// writes there.
	jp := JournalPath(into)
	if _, err := os.Lstat(jp); err == nil {
		return RestoreResult{}, fmt.Errorf("restore into %s: %w: the unpack journal %s exists, so the home is mid-upgrade; let the unpack recover it first, or, if recovery fails, move the journal away before restoring", into, ErrUnfinished, jp)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return RestoreResult{}, fmt.Errorf("restore into %s: look for an unpack journal: %w", into, err)
	}
	res := RestoreResult{Into: into, DryRun: opts.DryRun, Manifest: m, Items: []RestoreItem{}, CreatedHome: missing}
	if missing && !opts.DryRun {
		// Only the home itself, never its parents: a typo in the parent
		// path fails here instead of growing a tree of 0755 folders.
		if err := os.Mkdir(into, 0o755); err != nil {
			return res, fmt.Errorf("restore into %s: create the home: %w", into, err)
		}
	}
	t := &restorer{into: into, opts: opts}
	defer t.close()

	torn := map[string]bool{}
	for _, c := range m.Changed {
		torn[c] = true
	}
	conflicts := 0
	for _, e := range m.Entries {
		item := t.plan(e)
		writes := item.Action == ActionWrite || item.Action == ActionOverwrite
		if torn[e.Path] && writes {
			item.Detail = strings.TrimPrefix(item.Detail+"; changed while it was archived: may be a torn copy", "; ")
		}
		if e.Mode&specialModeBits != 0 && !e.IsLink() && writes {
			item.Detail = strings.TrimPrefix(item.Detail+"; "+specialBitsDropped(e.Mode), "; ")
		}
		if item.Action == ActionConflict {
			conflicts++
		}
		res.Items = append(res.Items, item)
	}
	for _, it := range res.Items {
		if strings.HasPrefix(it.Entry, OutsidePrefix) && (it.Action == ActionWrite || it.Action == ActionOverwrite) {
			res.Outside = append(res.Outside, it.Target)
		}
	}
	if conflicts > 0 {
		return res, fmt.Errorf("restore into %s: %d file(s): %w", into, conflicts, ErrRestoreConflict)
	}
	if opts.DryRun {
		return res, refusedError(res)
	}

	todo := map[string]*RestoreItem{}
	for i := range res.Items {
		if a := res.Items[i].Action; a == ActionWrite || a == ActionOverwrite {
			todo[res.Items[i].Entry] = &res.Items[i]
		}
	}
	byPath := map[string]Entry{}
	for _, e := range m.Entries {
		byPath[e.Path] = e
	}
	f, ex, r, err := openArchive(ctx, fsys, archive)
	if err != nil {
		return res, fmt.Errorf("restore: %w", err)
	}
	defer f.Close()
	// The archive was verified, but it is read a second time: it may have
	// been replaced since, so the limits hold here too.
	entries := 0
	err = extractWithoutPanics(ctx, ex, r, func(ctx context.Context, fi archives.FileInfo) error {
		if entries++; entries > limits.entries {
			return fmt.Errorf("%w: more than %d entries", errOverLimit, limits.entries)
		}
		name, _ := cleanEntryName(fi.NameInArchive)
		_, ok := todo[name]
		if !ok {
			return nil
		}
		delete(todo, name)
		if err := t.write(byPath[name], fi); err != nil {
			return err
		}
		res.Written++
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("restore into %s: %w", into, err)
	}
	for name := range todo {
		return res, fmt.Errorf("restore into %s: entry %s: not found in the archive", into, name)
	}
	// Read back what was written.
	var diffs []Difference
	for _, item := range res.Items {
		if item.Action != ActionWrite && item.Action != ActionOverwrite {
			continue
		}
		root, rel, err := t.place(byPath[item.Entry])
		if err != nil {
			return res, err
		}
		if same, why := sameOnDisk(root, rel, byPath[item.Entry], true); !same {
			diffs = append(diffs, Difference{Entry: item.Entry, Kind: DiskContent, Detail: why})
		}
	}
	if len(diffs) > 0 {
		return res, fmt.Errorf("restore into %s: %w", into, &VerifyError{Archive: archive, Differences: diffs})
	}
	return res, refusedError(res)
}

func refusedError(res RestoreResult) error {
	var refused []string
	for _, it := range res.Items {
		if it.Action == ActionRefused {
			refused = append(refused, it.Entry+" ("+it.Detail+")")
		}
	}
	if len(refused) == 0 {
		return nil
	}
	return fmt.Errorf("restore into %s: %w: %s", res.Into, ErrRefused, strings.Join(refused, ", "))
}

// restorer holds the roots writes are confined to.
type restorer struct {
	into    string
	opts    RestoreOptions
	home    *os.Root // beneath into
	outside *os.Root // beneath "/", for OutsidePrefix entries
}

func (t *restorer) close() {
	if t.home != nil {
		t.home.Close()
	}
	if t.outside != nil {
		t.outside.Close()
	}
}

// place returns the root and the name beneath it where entry e goes.
func (t *restorer) place(e Entry) (*os.Root, string, error) {
	var err error
	if rest, ok := strings.CutPrefix(e.Path, OutsidePrefix); ok {
		if t.outside == nil {
			if t.outside, err = os.OpenRoot("/"); err != nil {
				return nil, "", fmt.Errorf("restore %s: %w", e.Path, err)
			}
		}
		return t.outside, filepath.FromSlash(rest), nil
	}
	if t.home == nil {
		if t.home, err = os.OpenRoot(t.into); err != nil {
			return nil, "", fmt.Errorf("restore into %s: %w", t.into, err)
		}
	}
	return t.home, filepath.FromSlash(e.Path), nil
}

// plan decides what to do with entry e.
func (t *restorer) plan(e Entry) RestoreItem {
	item := RestoreItem{Entry: e.Path, Target: diskPath(t.into, e)}
	if strings.HasPrefix(e.Path, OutsidePrefix) && !t.opts.Outside {
		item.Action, item.Detail = ActionOutside, "outside the home; restore it with --outside"
		return item
	}
	if !filepath.IsLocal(filepath.FromSlash(e.Path)) {
		item.Action, item.Detail = ActionRefused, "unsafe name"
		return item
	}
	outside := strings.HasPrefix(e.Path, OutsidePrefix)
	if outside {
		if why := outsideMismatch(e); why != "" {
			item.Action, item.Detail = ActionRefused, why
			return item
		}
	}
	switch {
	case e.IsLink() && !outside && !linkInsideHome(e.Path, e.Link):
		item.Action, item.Detail = ActionRefused, fmt.Sprintf("symlink to %q leaves the home", e.Link)
		return item
	case e.IsLink() && outside && !filepath.IsLocal(e.Link):
		item.Action, item.Detail = ActionRefused, fmt.Sprintf("symlink to %q leaves its folder", e.Link)
		return item
	}
	if _, err := os.Lstat(t.into); err != nil && t.opts.DryRun && !strings.HasPrefix(e.Path, OutsidePrefix) {
		item.Action = ActionWrite // the home does not exist yet
		return item
	}
	root, rel, err := t.place(e)
	if err != nil {
		item.Action, item.Detail = ActionRefused, err.Error()
		return item
	}
	if _, err := root.Lstat(rel); errors.Is(err, fs.ErrNotExist) {
		item.Action = ActionWrite
		return item
	} else if err != nil {
		item.Action, item.Detail = ActionRefused, err.Error()
		return item
	}
	same, why := sameOnDisk(root, rel, e, false)
	switch {
	case same && !e.IsLink() && !sameMode(root, rel, e):
		// The content is the backup's, only the permissions moved: putting
		// them back loses nothing, so it needs no force.
		item.Action, item.Detail = ActionOverwrite, "mode differs (content equal)"
	case same:
		item.Action = ActionUnchanged
	case t.opts.Force:
		item.Action, item.Detail = ActionOverwrite, why
	default:
		item.Action, item.Detail = ActionConflict, why
	}
	return item
}

// outsideMismatch says why an OutsidePrefix entry cannot be trusted to go
// where its name says ("" when it can): gwup names such an entry after its
// recorded source path (outsideName), so the two must agree and the source
// must be a clean absolute path.
func outsideMismatch(e Entry) string {
	switch {
	case e.Source == "":
		return "outside entry without a recorded source path"
	case !filepath.IsAbs(e.Source) || filepath.Clean(e.Source) != e.Source || e.Source == "/":
		return fmt.Sprintf("recorded source %q is not a clean absolute path", e.Source)
	case outsideName(e.Source) != e.Path:
		return fmt.Sprintf("name does not match its recorded source %q", e.Source)
	}
	return ""
}

// specialModeBits are the mode bits beyond the permissions that a backup
// records but restore never sets.
const specialModeBits = fs.ModeSetuid | fs.ModeSetgid | fs.ModeSticky

func specialBitsDropped(m fs.FileMode) string {
	return fmt.Sprintf("%v bits not restored (mode %v in the backup)", m&specialModeBits, m&(specialModeBits|fs.ModePerm))
}

// sameMode reports whether the file at rel has the permission bits of e.
func sameMode(root *os.Root, rel string, e Entry) bool {
	fi, err := root.Lstat(rel)
	return err == nil && fi.Mode().Perm() == e.Mode.Perm()
}

// linkInsideHome reports whether a symlink at name (slash, relative to the
// home) pointing to target resolves inside the home, lexically.
func linkInsideHome(name, target string) bool {
	if filepath.IsAbs(target) {
		return false
	}
	return filepath.IsLocal(filepath.Join(filepath.Dir(filepath.FromSlash(name)), target))
}

// sameOnDisk compares the file at rel with entry e: type, link target, size
// and sha256; with meta also mode and mtime. It says why when they differ.
func sameOnDisk(root *os.Root, rel string, e Entry, meta bool) (bool, string) {
	fi, err := root.Lstat(rel)
	if err != nil {
		return false, err.Error()
	}
	if e.IsLink() {
		if fi.Mode()&fs.ModeSymlink == 0 {
			return false, "not a symlink on the disk"
		}
		target, err := root.Readlink(rel)
		if err != nil {
			return false, err.Error()
		}
		if target != e.Link {
			return false, fmt.Sprintf("links to %q, backup to %q", target, e.Link)
		}
		return true, ""
	}
	if !fi.Mode().IsRegular() {
		return false, fmt.Sprintf("is %v on the disk", fi.Mode().Type())
	}
	if fi.Size() != e.Size {
		return false, fmt.Sprintf("size %d on the disk, %d in the backup", fi.Size(), e.Size)
	}
	if meta && fi.Mode().Perm() != e.Mode.Perm() {
		return false, fmt.Sprintf("mode %v on the disk, %v in the backup", fi.Mode().Perm(), e.Mode.Perm())
	}
	if meta && fi.ModTime().Unix() != e.MTime.Unix() {
		return false, "mtime differs"
	}
	f, err := root.Open(rel)
	if err != nil {
		return false, err.Error()
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err.Error()
	}
	if sum := hex.EncodeToString(h.Sum(nil)); sum != e.SHA256 {
		return false, "content differs"
	}
	return true, ""
}

// write puts one entry in place atomically: temp name, fsync, mode, mtime,
// rename.
func (t *restorer) write(e Entry, fi archives.FileInfo) (err error) {
	root, rel, err := t.place(e)
	if err != nil {
		return err
	}
	dir := filepath.Dir(rel)
	if err := root.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("entry %s: %w", e.Path, err)
	}
	var rnd [6]byte
	_, _ = rand.Read(rnd[:])
	tmp := filepath.Join(dir, ".gwup-restore-"+hex.EncodeToString(rnd[:])+".tmp")
	defer func() {
		if err != nil {
			root.Remove(tmp)
		}
	}()
	if e.IsLink() {
		if err := root.Symlink(e.Link, tmp); err != nil {
			return fmt.Errorf("entry %s: %w", e.Path, err)
		}
	} else {
		if err := writeBody(root, tmp, e, fi); err != nil {
			return fmt.Errorf("entry %s: %w", e.Path, err)
		}
	}
	if err := root.Rename(tmp, rel); err != nil {
		return fmt.Errorf("entry %s: %w", e.Path, err)
	}
	return nil
}

func writeBody(root *os.Root, tmp string, e Entry, fi archives.FileInfo) error {
	rc, err := fi.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	out, err := root.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(rc, e.Size+1))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if n != e.Size || hex.EncodeToString(h.Sum(nil)) != e.SHA256 {
		return fmt.Errorf("content read from the archive does not match the manifest")
	}
	// Only the permission bits: setuid, setgid and sticky are recorded in
	// the manifest (and verified against the archive) but never restored,
	// since whoever wrote the archive chose them.
	if err := root.Chmod(tmp, e.Mode.Perm()); err != nil {
		return err
	}
	return root.Chtimes(tmp, time.Now(), e.MTime)
}
