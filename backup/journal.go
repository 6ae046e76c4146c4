package backup

// The journal makes an in-place unpack all-or-nothing across crashes. It is
// written ahead, in full, before the first change to the home: every step
// (a directory created, a file renamed aside or into place) with the test
// that tells, from the disk alone, whether the step has happened. Each step
// either moves a file out of gwup's staging directory (it existed when the
// journal was written and only that step removes it: "from-gone") or to a
// name that did not exist then and that no later step moves away
// ("to-exists"), or, for a user's file renamed to FILE.old within the home,
// FILE gone and FILE.old there ("moved"; a later step refills FILE, and a
// rollback undoes that first). So a run killed anywhere leaves enough on the disk to finish
// or to undo exactly, without an fsync of the journal per step; renames are
// atomic, and the journal is fsynced (and its directory) before step one.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// JournalSchema versions the unpack journal.
const JournalSchema = "gwup/unpack-journal/v1"

// Journal states.
const (
	journalPreparing = "preparing" // the home is untouched: remove the staging directory
	journalApplying  = "applying"  // steps may have run: roll back
	journalCommitted = "committed" // every step ran: only cleaning up remains
)

// How to tell whether a step has happened.
const (
	checkToExists = "to-exists"
	checkFromGone = "from-gone"
	// checkMoved (From gone and To there) is for a rename within the home,
	// where the user may create To meanwhile; From is refilled by a later
	// step, which a rollback undoes first.
	checkMoved = "moved"
)

// journalStep is one change to the home. Op "rename" moves From to To.
// Op "mkdir" moves the empty directory From, made in staging beforehand,
// to To, so that "done" (From gone) means gwup made To: a directory the
// user creates at To first makes the step fail and is never removed by a
// rollback. (A journal written before that has a mkdir without From,
// done when To exists; it is still rolled back.) Paths are absolute.
type journalStep struct {
	Op    string      `json:"op"`
	From  string      `json:"from,omitempty"`
	To    string      `json:"to"`
	Check string      `json:"check"`
	Mode  fs.FileMode `json:"mode,omitempty"` // of a created directory
}

// unpackJournal is the JSON file next to the home while an unpack runs.
type unpackJournal struct {
	Schema  string        `json:"schema"`
	Home    string        `json:"home"`
	Staging string        `json:"staging"`
	Archive string        `json:"archive"`
	Release string        `json:"release"`
	Backup  string        `json:"backup"`
	State   string        `json:"state"`
	Steps   []journalStep `json:"steps"`

	// kept lists the directories gwup created that a rollback left because
	// they hold files gwup did not put there.
	kept []string
}

// JournalPath is where the journal of an unpack into home lives: next to
// the home, on the same filesystem, outside the tree being replaced.
func JournalPath(home string) string {
	return filepath.Join(filepath.Dir(home), ".gwup-journal-"+filepath.Base(home)+".json")
}

// create writes the first version of the journal, failing if one exists:
// it is also the lock that keeps two unpacks out of the same home.
func (j *unpackJournal) create() error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	name := JournalPath(j.Home)
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("%w: %s exists", ErrUnfinished, name)
	}
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = fsyncDir(filepath.Dir(name))
	}
	if err != nil {
		os.Remove(name)
	}
	return err
}

// ErrUnfinished marks a home with the journal of an unpack that did not
// finish: [Recover] must run first.
var ErrUnfinished = errors.New("an earlier unpack did not finish (run recover)")

// save writes the journal atomically and durably: temp file, fsync,
// rename, fsync of the directory.
func (j *unpackJournal) save() error {
	data, err := json.MarshalIndent(j, "", "  ")
	if err != nil {
		return err
	}
	return writeFileDurably(JournalPath(j.Home), data, 0o600)
}

// writeFileDurably replaces name with data so that a crash leaves either
// the old or the new content, never a mix.
func writeFileDurably(name string, data []byte, perm fs.FileMode) error {
	tmp := name + ".tmp"
	// A fresh file, never one found there: a symlink left at that name
	// (next to the home, run as root) is not written through.
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		os.Remove(tmp)
		return err
	}
	return fsyncDir(filepath.Dir(name))
}

// fsyncDir makes the entries of a directory (renames, creations) durable.
func fsyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

func readJournal(home string) (*unpackJournal, error) {
	data, err := os.ReadFile(JournalPath(home))
	if err != nil {
		return nil, err
	}
	var j unpackJournal
	if err := json.Unmarshal(data, &j); err != nil {
		return nil, fmt.Errorf("read journal %s: %w", JournalPath(home), err)
	}
	if j.Schema != JournalSchema {
		return nil, fmt.Errorf("read journal %s: unknown schema %q", JournalPath(home), j.Schema)
	}
	return &j, nil
}

// validate refuses a journal whose paths are not those an unpack into
// j.Home writes: Recover removes j.Staging and renames the steps' paths,
// so a damaged or tampered journal must not make it delete or move
// anything else. The staging directory must be a sibling of the home
// named as stagingPath names it; every step path must lie strictly
// beneath the home or the staging directory.
func (j *unpackJournal) validate() error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("journal %s: %s: refusing to act on it (look at it and remove it by hand)", JournalPath(j.Home), fmt.Sprintf(format, args...))
	}
	if !filepath.IsAbs(j.Home) || filepath.Clean(j.Home) != j.Home || filepath.Dir(j.Home) == j.Home {
		return bad("home %q is not a clean absolute path", j.Home)
	}
	if j.Staging != "" {
		name := filepath.Base(j.Staging)
		if filepath.Clean(j.Staging) != j.Staging || filepath.Dir(j.Staging) != filepath.Dir(j.Home) || !stagingName.MatchString(name) ||
			name[len(".gwup-staging-"):len(name)-len("-0123456789ab")] != filepath.Base(j.Home) {
			return bad("staging %q is not a staging directory of %s", j.Staging, j.Home)
		}
	}
	beneath := func(p string) bool {
		if !filepath.IsAbs(p) || filepath.Clean(p) != p {
			return false
		}
		return p != j.Home && isWithin(j.Home, p) || j.Staging != "" && p != j.Staging && isWithin(j.Staging, p)
	}
	for i, s := range j.Steps {
		switch {
		case s.Op != "rename" && s.Op != "mkdir":
			return bad("step %d has an unknown op %q", i, s.Op)
		case s.Check != checkToExists && s.Check != checkFromGone && s.Check != checkMoved:
			return bad("step %d has an unknown check %q", i, s.Check)
		case !beneath(s.To):
			return bad("step %d goes to %q, outside the home and staging", i, s.To)
		case (s.Op == "rename" || s.From != "") && !beneath(s.From):
			return bad("step %d comes from %q, outside the home and staging", i, s.From)
		case (s.Check == checkFromGone || s.Check == checkMoved) && s.From == "":
			return bad("step %d checks a missing source", i)
		}
	}
	return nil
}

var stagingName = regexp.MustCompile(`^\.gwup-staging-.+-[0-9a-f]{12}$`)

// done reports whether a step has happened, from the disk alone.
func (s journalStep) done(fsys *parentFS) (bool, error) {
	probe, wantExists := s.To, true
	if s.Check == checkFromGone || s.Check == checkMoved {
		probe, wantExists = s.From, false
	}
	exists, err := fsys.exists(probe)
	if err != nil {
		return false, err
	}
	if s.Op == "rename" && fsys.sameFile(s.From, s.To) {
		return true, nil // half moved by link and unlink: undo unlinks To
	}
	if s.Check == checkMoved && !exists {
		return fsys.exists(s.To)
	}
	return exists == wantExists, nil
}

// run performs a step.
func (s journalStep) run(fsys *parentFS) error {
	if s.Op == "mkdir" && s.From == "" {
		return fsys.mkdir(s.To, s.Mode.Perm()|0o700)
	}
	return fsys.rename(s.From, s.To)
}

// undo reverses a step that has happened. It reports whether it left a
// directory in place because it is not empty.
func (s journalStep) undo(fsys *parentFS) (kept bool, err error) {
	switch {
	case s.Op == "mkdir":
		err := fsys.removeDir(s.To)
		switch {
		case errors.Is(err, syscall.ENOTEMPTY) || errors.Is(err, syscall.EEXIST):
			return true, nil // it holds the user's files now: theirs to keep
		case errors.Is(err, fs.ErrNotExist):
			// removed by an earlier, interrupted rollback
		case err != nil:
			return false, err
		}
		if s.From == "" {
			return false, nil
		}
		// Put the staging directory back, so that the step reads as not
		// done: a later rollback must not remove a directory of that name.
		if err := fsys.mkdir(s.From, 0o700); err != nil && !errors.Is(err, fs.ErrExist) {
			return false, err
		}
		return false, nil
	case fsys.sameFile(s.From, s.To):
		return false, fsys.remove(s.To)
	}
	return false, fsys.rename(s.To, s.From)
}

// rollback undoes, last first, every step that has happened. A step that
// cannot be undone does not stop it: the others are undone all the same
// (a move that would need a name now taken fails without harm) and every
// failure is returned. The journal is kept on failure, so a later Recover
// can retry. A directory gwup created that now holds the user's files is
// left (listed in j.kept), which is not a failure.
func (j *unpackJournal) rollback() error {
	if err := j.validate(); err != nil {
		return err
	}
	fsys, err := openParentFS(j.Home)
	if err != nil {
		return fmt.Errorf("roll back: %w", err)
	}
	defer fsys.Close()
	var errs []error
	j.kept = nil
	for i := len(j.Steps) - 1; i >= 0; i-- {
		s := j.Steps[i]
		done, err := s.done(fsys)
		if err != nil {
			errs = append(errs, fmt.Errorf("roll back step %d (%s %s): %w", i, s.Op, s.To, err))
			continue
		}
		if !done {
			continue
		}
		kept, err := s.undo(fsys)
		if err != nil {
			errs = append(errs, fmt.Errorf("roll back step %d (%s %s): %w", i, s.Op, s.To, err))
		}
		if kept {
			j.kept = append(j.kept, s.To)
		}
	}
	if err := j.syncHomeDirs(fsys); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// keptNote tells the user which directories a rollback left, or "".
func (j *unpackJournal) keptNote() string {
	if len(j.kept) == 0 {
		return ""
	}
	return fmt.Sprintf(", except the new directories %s, left because they hold files that are not the release's", strings.Join(j.kept, ", "))
}

// syncHomeDirs fsyncs every directory of the home a step changed.
func (j *unpackJournal) syncHomeDirs(fsys *parentFS) error {
	var dirs []string
	for _, s := range j.Steps {
		for _, p := range []string{s.From, s.To} {
			if p != "" && isWithin(j.Home, p) {
				dirs = append(dirs, filepath.Dir(p))
			}
		}
	}
	slices.Sort(dirs)
	for _, d := range slices.Compact(dirs) {
		if err := fsys.syncDir(d); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("sync %s: %w", d, err)
		}
	}
	return nil
}

// cleanup removes the staging directory (with the release's replaced files
// set aside in it) and then the journal.
func (j *unpackJournal) cleanup() error {
	if j.Staging != "" {
		if err := removeStaging(j.Home, j.Staging); err != nil {
			return fmt.Errorf("remove staging %s: %w", j.Staging, err)
		}
	}
	os.Remove(JournalPath(j.Home) + ".tmp")
	if err := os.Remove(JournalPath(j.Home)); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove journal: %w", err)
	}
	return fsyncDir(filepath.Dir(j.Home))
}

// Recovery says what [Recover] found and did.
type Recovery struct {
	Journal string `json:"journal,omitempty"`
	// Action is "none" (no unfinished unpack), "finished" (it had committed:
	// only cleaning up remained) or "rolled-back" (the home is as before it).
	Action  string `json:"action"`
	Release string `json:"release,omitempty"` // the release that was being unpacked
	Backup  string `json:"backup,omitempty"`  // the backup taken before it
	// Kept lists new directories a rollback left because they hold files
	// that are not the release's (the user's, added during the unpack).
	Kept []string `json:"kept,omitempty"`
}

// Recover finishes or rolls back an unpack into home that was interrupted
// (killed, power loss). The CLI calls it before anything else that touches
// the home and tells the user what it did. Without a journal it does nothing.
func Recover(ctx context.Context, home string) (*Recovery, error) {
	if resolved, err := resolveHome(home); err == nil {
		home = resolved
	} else if home, err = filepath.Abs(home); err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	j, err := readJournal(home)
	if errors.Is(err, fs.ErrNotExist) {
		return &Recovery{Action: "none"}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("recover: %w", err)
	}
	if j.Home != home {
		return nil, fmt.Errorf("recover %s: journal %s is for %q: refusing to act on it", home, JournalPath(home), j.Home)
	}
	if err := j.validate(); err != nil {
		return nil, fmt.Errorf("recover %s: %w", home, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	r := &Recovery{Journal: JournalPath(home), Release: j.Release, Backup: j.Backup}
	switch j.State {
	case journalCommitted:
		r.Action = "finished"
	case journalPreparing:
		r.Action = "rolled-back" // nothing in the home had changed yet
	case journalApplying:
		if err := j.rollback(); err != nil {
			return nil, fmt.Errorf("recover %s: %w", home, err)
		}
		r.Action, r.Kept = "rolled-back", j.kept
	default:
		return nil, fmt.Errorf("recover %s: unknown journal state %q", home, j.State)
	}
	if err := j.cleanup(); err != nil {
		return nil, fmt.Errorf("recover %s: %w", home, err)
	}
	return r, nil
}

// removeStaging removes the staging directory of home without following
// a symlink: not one put in its place (only the link goes), nor one
// inside it (an os.Root on the directory opened with O_NOFOLLOW).
func removeStaging(home, staging string) error {
	fsys, err := openParentFS(home)
	if err != nil {
		return err
	}
	defer fsys.Close()
	isDir, err := fsys.isDir(staging)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if !isDir {
		return fsys.remove(staging)
	}
	rel, err := fsys.rel(staging)
	if err != nil {
		return err
	}
	d, err := fsys.openDir(rel)
	if err != nil {
		return err
	}
	// The directory itself, as opened: /proc/self/fd names the open file.
	root, err := os.OpenRoot(fmt.Sprintf("/proc/self/fd/%d", d.Fd()))
	d.Close()
	if err != nil {
		// No /proc: os.RemoveAll does not follow symlinks either (it
		// works with openat and unlinkat), it is only slower.
		return os.RemoveAll(staging)
	}
	err = removeAllConcurrently(root)
	root.Close()
	if err != nil {
		return err
	}
	return fsys.removeDir(staging)
}

// removeAllConcurrently empties root, with the subtrees two levels down
// removed by four workers: after an upgrade the staging directory holds
// the whole replaced release, and unlinking a thousand files one by one
// is a noticeable part of an unpack.
func removeAllConcurrently(root *os.Root) error {
	list := func(name string) []fs.DirEntry {
		d, err := root.Open(name)
		if err != nil {
			return nil
		}
		defer d.Close()
		entries, _ := d.ReadDir(-1)
		return entries
	}
	tops := list(".")
	var subtrees []string
	for _, top := range tops {
		if top.IsDir() {
			for _, c := range list(top.Name()) {
				subtrees = append(subtrees, filepath.Join(top.Name(), c.Name()))
			}
		}
	}
	work := make(chan string)
	errs := make(chan error, len(subtrees)+len(tops))
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for p := range work {
				errs <- root.RemoveAll(p)
			}
		})
	}
	for _, p := range subtrees {
		work <- p
	}
	close(work)
	wg.Wait()
	for _, top := range tops {
		errs <- root.RemoveAll(top.Name())
	}
	close(errs)
	for err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
