package backup

// This file applies an [UnpackPlan]: the release is extracted into a staging
// directory next to the home (same filesystem, so every later move is an
// atomic rename), then moved into the home step by step under a journal
// (journal.go) that lets any failure, or a later [Recover], put the old
// install back exactly.
//
// Why the real disk and not afero: the guarantees rest on os.Root (the
// kernel refuses, with openat2/O_NOFOLLOW walks, any path that escapes the
// staging directory, even through a symlink planted by the archive), on
// the steps into the home being *at system calls on directories walked
// with O_NOFOLLOW from an os.Root on the home's parent (a directory of the
// home swapped for a symlink after the plan stops the unpack instead of
// redirecting it, see parentFS), on renameat2(RENAME_NOREPLACE) never
// replacing a file that appeared meanwhile, on rename being atomic within
// one filesystem, and on fsync of files and directories. afero's OsFs offers none of these as such and MemMapFs has
// no semantics worth testing them against, so this writer uses package os
// directly and its tests run in real temporary directories.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
)

// Errors Apply refuses with before touching anything.
var (
	ErrNoBackup       = errors.New("no verified backup: refusing to unpack")
	ErrGatewayRunning = errors.New("the gateway of this home is running")
	ErrHomeChanged    = errors.New("the home changed since it was planned")
)

// SideFile is a release's or a user's file written next to the other one.
type SideFile struct {
	Path string `json:"path"` // the file in place
	Side string `json:"side"` // FILE.new (the release's) or FILE.old (the user's)
}

// MergeNote is something the user must merge by hand after an unpack.
type MergeNote struct {
	Path string `json:"path"`
	Side string `json:"side,omitempty"`
	Note string `json:"note"`
}

// UnpackResult says what an unpack changed, what the user must merge and
// how to go back.
type UnpackResult struct {
	Home      string         `json:"home"`
	Release   ArchiveRelease `json:"release"`
	Installed string         `json:"installed_release,omitempty"` // the release replaced, when known
	Reference Reference      `json:"reference"`
	Backup    string         `json:"backup,omitempty"`
	Beside    bool           `json:"beside,omitempty"` // a new home next to the old one
	Written   []string       `json:"installed"`        // new in the release
	Replaced  []string       `json:"replaced"`
	Kept      []string       `json:"kept"` // the user's, with or without a side file
	NewFiles  []SideFile     `json:"new_files"`
	OldFiles  []SideFile     `json:"old_files"`
	Obsolete  []string       `json:"obsolete"`   // shipped before, not any more: left
	UserFiles []string       `json:"user_files"` // the user's own, untouched (copied over beside)
	Merge     []MergeNote    `json:"merge"`
	Rollback  string         `json:"rollback,omitempty"` // the command that undoes the unpack
	Warnings  []string       `json:"warnings,omitempty"`
}

// needsRelease reports whether a fate writes the release's version.
func needsRelease(f Fate) bool {
	return f == FateInstall || f == FateReplace || f == FateKeepNew || f == FateNewOld
}

// errSimulatedKill, returned by testOnlyFail, makes Apply stop dead at that
// step, leaving staging and journal as a killed process would.
var errSimulatedKill = errors.New("simulated kill")

// applier carries one run of ApplyUnpack or UnpackBeside.
type applier struct {
	plan     *UnpackPlan
	opts     UnpackOptions
	staging  string // absolute; holds new/ (the release) and aside/ (what it replaces)
	warnings []string
}

func (a *applier) fail(step string) error {
	if a.opts.testOnlyFail == nil {
		return nil
	}
	return a.opts.testOnlyFail(step)
}

// ApplyUnpack executes a plan made by [PlanUnpack] on the home it names. It
// refuses while the gateway runs, while the plan has conflicts, while an
// earlier unpack is unfinished, when the archive or the home changed since
// the plan, and unless opts.Backup returns a verified backup. Any failure
// after that rolls the home back to exactly what it was.
func ApplyUnpack(ctx context.Context, plan *UnpackPlan, opts UnpackOptions) (*UnpackResult, error) {
	if plan == nil || plan.Schema != PlanSchema {
		return nil, errors.New("unpack: not a plan made by PlanUnpack")
	}
	a := &applier{plan: plan, opts: opts}
	if err := a.preflight(); err != nil {
		return nil, fmt.Errorf("unpack into %s: %w", plan.Home, err)
	}
	backup, err := a.backup(ctx)
	if err != nil {
		return nil, fmt.Errorf("unpack into %s: %w", plan.Home, err)
	}
	j := &unpackJournal{
		Schema:  JournalSchema,
		Home:    plan.Home,
		Staging: stagingPath(plan.Home),
		Archive: plan.Archive,
		Release: plan.Release.Version,
		Backup:  backup,
		State:   journalPreparing,
	}
	a.staging = j.Staging
	if err := j.create(); err != nil {
		return nil, fmt.Errorf("unpack into %s: %w", plan.Home, err)
	}
	err = a.apply(ctx, j)
	if errors.Is(err, errSimulatedKill) {
		return nil, err
	}
	if err != nil {
		if rerr := j.rollback(); rerr != nil {
			return nil, fmt.Errorf("unpack into %s: %w; ROLLBACK FAILED, run recover: %w", plan.Home, err, rerr)
		}
		if cerr := j.cleanup(); cerr != nil {
			return nil, fmt.Errorf("unpack into %s: %w (rolled back%s; %w)", plan.Home, err, j.keptNote(), cerr)
		}
		return nil, fmt.Errorf("unpack into %s: %w (rolled back: the home is as it was%s)", plan.Home, err, j.keptNote())
	}
	res := a.result(backup)
	return res, nil
}

// preflight refuses what must be refused before anything is written.
func (a *applier) preflight() error {
	p := a.plan
	if a.opts.GatewayRunning {
		return fmt.Errorf("%w: stop it first", ErrGatewayRunning)
	}
	if c := p.Conflicts(); len(c) > 0 {
		return fmt.Errorf("%w: %s: %s (and %d more)", ErrConflict, c[0].Path, c[0].Reason, len(c)-1)
	}
	if _, err := os.Lstat(JournalPath(p.Home)); err == nil {
		return fmt.Errorf("%w: %s exists", ErrUnfinished, JournalPath(p.Home))
	}
	st, err := os.Stat(p.Archive)
	if err != nil {
		return err
	}
	if st.Size() != p.ArchiveSize {
		return fmt.Errorf("%w: %s", ErrArchiveChanged, p.Archive)
	}
	return a.checkHomeUnchanged(false)
}

// checkHomeUnchanged compares the home with what the plan saw: a file the
// user edits between plan and apply must not be replaced as "unchanged".
// With hashes, the content of every file to replace is compared too (it
// is run right before the first step; before the backup, size and mtime
// are enough to refuse early).
func (a *applier) checkHomeUnchanged(hashes bool) error {
	p := a.plan
	var toHash []PlannedFile
	for _, f := range p.Files {
		if f.Fate == FateSame || f.Fate == FateUser || f.Fate == FateObsolete || f.Fate == FateKeep {
			continue // nothing of it is touched
		}
		// A directory swapped for a symlink since the plan would have the
		// renames write through it, out of the home.
		if dir, kind, err := p.blockedAncestor(f.Path); err != nil {
			return err
		} else if dir != "" {
			return fmt.Errorf("%w: %s is now a %s", ErrHomeChanged, dir, kind)
		}
		hs, err := p.stat(f.Path)
		if err != nil {
			return err
		}
		switch {
		case f.Fate == FateInstall && hs.Kind != "":
			return fmt.Errorf("%w: %s appeared", ErrHomeChanged, f.Path)
		case f.Fate != FateInstall && (hs.Kind != kindFile && hs.Kind != kindSymlink || hs.Size != f.HomeSize || hs.MTime != f.HomeModTime):
			return fmt.Errorf("%w: %s was modified", ErrHomeChanged, f.Path)
		}
		if hashes && f.Fate == FateReplace && f.HomeSHA256 != "" {
			toHash = append(toHash, f)
		}
		if f.Side != "" {
			if _, err := os.Lstat(filepath.Join(p.Home, filepath.FromSlash(f.Side))); err == nil {
				return fmt.Errorf("%w: %s appeared", ErrHomeChanged, f.Side)
			}
		}
	}
	return a.sameContentAsPlanned(toHash)
}

// sameContentAsPlanned hashes the home's files (in parallel: a release
// holds a thousand jars) and refuses if one differs from the plan's
// HomeSHA256.
func (a *applier) sameContentAsPlanned(files []PlannedFile) error {
	work := make(chan PlannedFile)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		first error
	)
	for range 4 {
		wg.Go(func() {
			for f := range work {
				hs := homeState{Kind: kindFile}
				err := a.plan.hash(f.Path, &hs)
				if err == nil && hs.SHA256 != f.HomeSHA256 {
					err = fmt.Errorf("%w: %s was modified", ErrHomeChanged, f.Path)
				}
				if err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
				}
			}
		})
	}
	for _, f := range files {
		work <- f
	}
	close(work)
	wg.Wait()
	return first
}

// backup runs the backup gate.
func (a *applier) backup(ctx context.Context) (string, error) {
	if err := a.fail("backup"); err != nil {
		return "", err
	}
	if a.opts.Backup == nil {
		return "", ErrNoBackup
	}
	archive, err := a.opts.Backup(ctx, a.plan)
	if err != nil {
		return "", fmt.Errorf("%w: %w", ErrNoBackup, err)
	}
	if archive == "" {
		return "", fmt.Errorf("%w: the backup returned no archive", ErrNoBackup)
	}
	return archive, nil
}

// stagingPath names a fresh staging directory next to the home.
func stagingPath(home string) string {
	var b [6]byte
	rand.Read(b[:])
	return filepath.Join(filepath.Dir(home), ".gwup-staging-"+filepath.Base(home)+"-"+hex.EncodeToString(b[:]))
}

// apply runs everything after the journal exists; the caller rolls back.
func (a *applier) apply(ctx context.Context, j *unpackJournal) error {
	p := a.plan
	if err := a.fail("staging"); err != nil {
		return err
	}
	if err := os.Mkdir(a.staging, 0o700); err != nil {
		return fmt.Errorf("create staging: %w", err)
	}
	if err := a.extract(ctx, false); err != nil {
		return err
	}
	shipped, err := a.writeShipped()
	if err != nil {
		return err
	}

	// The steps, in path order so that a directory is made before what goes in it.
	home := func(rel string) string { return filepath.Join(p.Home, filepath.FromSlash(rel)) }
	staged := func(rel string) string { return filepath.Join(a.staging, "new", filepath.FromSlash(rel)) }
	aside := func(rel string) string { return filepath.Join(a.staging, "aside", filepath.FromSlash(rel)) }
	newDir := func(n int) string { return filepath.Join(a.staging, "dirs", fmt.Sprint(n)) }
	var steps []journalStep
	moveAside := func(rel string) {
		steps = append(steps, journalStep{Op: "rename", From: home(rel), To: aside(rel), Check: checkToExists})
	}
	placeFrom := func(rel, dest string) {
		steps = append(steps, journalStep{Op: "rename", From: staged(rel), To: home(dest), Check: checkFromGone})
	}
	for _, f := range p.Files {
		switch f.Fate {
		case FateInstall:
			if f.Kind == kindDir {
				steps = append(steps, journalStep{Op: "mkdir", From: newDir(len(steps)), To: home(f.Path), Check: checkFromGone, Mode: f.Mode})
				continue
			}
			placeFrom(f.Path, f.Path)
		case FateReplace:
			moveAside(f.Path)
			placeFrom(f.Path, f.Path)
		case FateKeepNew:
			placeFrom(f.Path, f.Side)
		case FateNewOld:
			// Both ends are in the home, where the user may create FILE.old
			// meanwhile (the step then fails): done is FILE gone and
			// FILE.old there, so such a file is never taken for gwup's.
			steps = append(steps, journalStep{Op: "rename", From: home(f.Path), To: home(f.Side), Check: checkMoved})
			placeFrom(f.Path, f.Path)
		}
	}
	if shipped {
		moveAside(ShippedName)
	}
	placeFrom(ShippedName, ShippedName)
	if err := os.MkdirAll(filepath.Join(a.staging, "aside"), 0o700); err != nil {
		return err
	}
	for _, s := range steps {
		if s.Check == checkToExists && s.Op == "rename" && strings.HasPrefix(s.To, a.staging) {
			if err := os.MkdirAll(filepath.Dir(s.To), 0o700); err != nil {
				return fmt.Errorf("prepare staging: %w", err)
			}
		}
		if s.Op == "mkdir" {
			if err := os.MkdirAll(filepath.Dir(s.From), 0o700); err != nil {
				return fmt.Errorf("prepare staging: %w", err)
			}
			if err := os.Mkdir(s.From, s.Mode.Perm()|0o700); err != nil {
				return fmt.Errorf("prepare staging: %w", err)
			}
		}
	}

	if err := a.fail("journal"); err != nil {
		return err
	}
	// The backup and the extraction took a while: look at the home again
	// right before changing it (a directory swapped for a symlink, a file
	// edited or created meanwhile).
	if err := a.checkHomeUnchanged(true); err != nil {
		return err
	}
	fsys, err := openParentFS(p.Home)
	if err != nil {
		return fmt.Errorf("open %s: %w", filepath.Dir(p.Home), err)
	}
	defer fsys.Close()
	j.State, j.Steps = journalApplying, steps
	if err := j.save(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	for i, s := range steps {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := a.fail(fmt.Sprintf("step %d", i)); err != nil {
			return err
		}
		if err := s.run(fsys); err != nil {
			if errors.Is(err, syscall.EXDEV) {
				// The home is a mount point (a Docker volume, say): its
				// parent, where staging lives, is another filesystem.
				return fmt.Errorf("step %d: the home is not on the filesystem of its parent directory, so files cannot be renamed into it atomically: %w", i, err)
			}
			return fmt.Errorf("step %d (%s %s): %w", i, s.Op, s.To, err)
		}
	}
	if err := j.syncHomeDirs(fsys); err != nil {
		return err
	}
	if err := a.fail("commit"); err != nil {
		return err
	}
	j.State = journalCommitted
	if err := j.save(); err != nil {
		return fmt.Errorf("write journal: %w", err)
	}
	// Committed: from here on nothing is rolled back. A failure to clean up
	// is finished by Recover.
	if err := a.fail("cleanup"); err != nil {
		return errSimulatedKill // as good as a kill: the journal says committed
	}
	if err := j.cleanup(); err != nil {
		a.warnings = append(a.warnings, fmt.Sprintf("the unpack is complete, but %v: run recover to finish cleaning up", err))
	}
	return nil
}

// writeShipped writes the new .gwup-shipped.json into staging/new and
// reports whether the home has one already.
func (a *applier) writeShipped() (bool, error) {
	p := a.plan
	s := Shipped{Schema: ShippedSchema, Release: p.Release.Version, Archive: p.Archive}
	for _, f := range p.Files {
		switch f.Fate {
		case FateUser, FateObsolete:
			continue
		}
		sf := ShippedFile{Path: f.Path, Size: f.Size, Mode: uint32(f.Mode.Perm()), SHA256: f.SHA256, Link: f.Link}
		switch f.Kind {
		case kindDir:
			sf.Mode |= uint32(fs.ModeDir)
			sf.Size = 0
		case kindSymlink:
			sf.Mode |= uint32(fs.ModeSymlink)
		}
		s.Files = append(s.Files, sf)
	}
	data, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return false, err
	}
	name := filepath.Join(a.staging, "new", ShippedName)
	if err := os.MkdirAll(filepath.Dir(name), 0o700); err != nil {
		return false, err
	}
	if err := writeFileDurably(name, append(data, '\n'), 0o644); err != nil {
		return false, fmt.Errorf("write %s: %w", ShippedName, err)
	}
	_, err = os.Lstat(filepath.Join(p.Home, ShippedName))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	return err == nil, nil
}

// extract makes the second pass over the archive, writing into
// staging/new, through os.Root, the entries the plan needs (all of them
// when beside), each checked against the plan's hash; files are fsynced
// by four workers (fsync mostly waits on the disk) while the pass goes on.
func (a *applier) extract(ctx context.Context, all bool) error {
	p := a.plan
	if err := a.fail("extract"); err != nil {
		return err
	}
	if err := os.Mkdir(filepath.Join(a.staging, "new"), 0o700); err != nil {
		return fmt.Errorf("create staging: %w", err)
	}
	root, err := os.OpenRoot(filepath.Join(a.staging, "new"))
	if err != nil {
		return fmt.Errorf("open staging: %w", err)
	}
	defer root.Close()

	if p.content != nil {
		return a.writePlannedContent(root, all)
	}
	want := map[string]*PlannedFile{}
	for i := range p.Files {
		if f := &p.Files[i]; f.Fate != FateUser && f.Fate != FateObsolete && !f.Implied {
			want[f.Path] = f
		}
	}
	syncer := newFileSyncer(4, a.staging)
	seen := 0
	buf := make([]byte, 256<<10)
	_, err = releaseReader{file: p.Archive, maxBytes: p.MaxBytes, maxEntries: p.MaxEntries}.walk(ctx, func(e *releaseEntry, r io.Reader) error {
		f := want[e.Path]
		if f == nil || f.Kind != e.Kind || f.Link != e.Link {
			return fmt.Errorf("%w: %s", ErrArchiveChanged, e.Path)
		}
		seen++
		if !all && !needsRelease(f.Fate) {
			return nil
		}
		if e.Kind == kindDir {
			return root.MkdirAll(e.Path, e.Mode|0o700)
		}
		if dir := path.Dir(e.Path); dir != "." {
			if err := root.MkdirAll(dir, 0o700); err != nil {
				return err
			}
		}
		if e.Kind == kindSymlink {
			return root.Symlink(e.Link, e.Path)
		}
		if err := a.fail("write " + e.Path); err != nil {
			return err
		}
		out, err := root.OpenFile(e.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, e.Mode)
		if err != nil {
			return err
		}
		sum, n, err := hashingCopy(out, r, buf)
		if err != nil {
			out.Close()
			return fmt.Errorf("write %s: %w", e.Path, err)
		}
		if sum != f.SHA256 || n != f.Size {
			out.Close()
			return fmt.Errorf("%w: %s has other content", ErrArchiveChanged, e.Path)
		}
		syncer.add(out)
		return nil
	})
	if serr := syncer.wait(); err == nil && serr != nil {
		err = fmt.Errorf("sync staging: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("extract into staging: %w", err)
	}
	if seen != len(want) {
		return fmt.Errorf("extract into staging: %w: %d entries planned, %d found", ErrArchiveChanged, len(want), seen)
	}
	return nil
}

// writePlannedContent is extract when the plan kept the release's
// content: the very bytes that were hashed are written, in path order, so
// directories come before what they hold.
func (a *applier) writePlannedContent(root *os.Root, all bool) error {
	syncer := newFileSyncer(4, a.staging)
	err := func() error {
		for _, f := range a.plan.Files {
			if f.Fate == FateUser || f.Fate == FateObsolete || !all && !needsRelease(f.Fate) {
				continue
			}
			if f.Kind == kindDir {
				if err := root.MkdirAll(f.Path, f.Mode|0o700); err != nil {
					return err
				}
				continue
			}
			if dir := path.Dir(f.Path); dir != "." {
				if err := root.MkdirAll(dir, 0o700); err != nil {
					return err
				}
			}
			if f.Kind == kindSymlink {
				if err := root.Symlink(f.Link, f.Path); err != nil {
					return err
				}
				continue
			}
			data, ok := a.plan.content[f.Path]
			if !ok || int64(len(data)) != f.Size {
				return fmt.Errorf("%w: the plan holds no content for %s", ErrArchiveChanged, f.Path)
			}
			if err := a.fail("write " + f.Path); err != nil {
				return err
			}
			out, err := root.OpenFile(f.Path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, f.Mode)
			if err != nil {
				return err
			}
			if _, err := out.Write(data); err != nil {
				out.Close()
				return fmt.Errorf("write %s: %w", f.Path, err)
			}
			syncer.add(out)
		}
		return nil
	}()
	if serr := syncer.wait(); err == nil && serr != nil {
		err = fmt.Errorf("sync staging: %w", serr)
	}
	if err != nil {
		return fmt.Errorf("extract into staging: %w", err)
	}
	return nil
}

// fileSyncer makes the data of every staged file durable before the first
// rename into the home. On Linux it closes each file and, in wait, syncs
// the staging filesystem once (syncfs); elsewhere workers fsync and close
// the files in the background, so that the extraction is not serialised on
// each fsync.
type fileSyncer struct {
	dir   string // staging, for syncfs
	whole bool   // one syncfs in wait instead of an fsync per file
	files chan *os.File
	wg    sync.WaitGroup
	mu    sync.Mutex
	err   error
}

func newFileSyncer(workers int, dir string) *fileSyncer {
	s := &fileSyncer{dir: dir, whole: syncfsSupported}
	if s.whole {
		return s
	}
	s.files = make(chan *os.File, 256)
	for range workers {
		s.wg.Go(func() {
			for f := range s.files {
				err := f.Sync()
				if cerr := f.Close(); err == nil {
					err = cerr
				}
				if err != nil {
					s.mu.Lock()
					s.err = cmpOr(s.err, fmt.Errorf("%s: %w", f.Name(), err))
					s.mu.Unlock()
				}
			}
		})
	}
	return s
}

func (s *fileSyncer) add(f *os.File) {
	if !s.whole {
		s.files <- f
		return
	}
	if err := f.Close(); err != nil {
		s.err = cmpOr(s.err, fmt.Errorf("%s: %w", f.Name(), err))
	}
}

func (s *fileSyncer) wait() error {
	if s.whole {
		return cmpOr(s.err, syncFilesystem(s.dir))
	}
	close(s.files)
	s.wg.Wait()
	return s.err
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// result describes a plan that was carried out.
func (a *applier) result(backup string) *UnpackResult {
	p := a.plan
	r := &UnpackResult{
		Home:      p.Home,
		Release:   p.Release,
		Installed: p.Installed,
		Reference: p.Reference,
		Backup:    backup,
		Warnings:  a.warnings,
	}
	if backup != "" {
		// restore puts back every file the unpack replaced or moved (the
		// backup holds them, and they differ from the disk now: --force);
		// the files the release added stay, and are listed in Written.
		r.Rollback = fmt.Sprintf("gwup restore --force --into %s %s", p.Home, backup)
	}
	for _, f := range p.Files {
		if f.Kind == kindDir {
			continue
		}
		switch f.Fate {
		case FateInstall:
			r.Written = append(r.Written, f.Path)
		case FateReplace:
			r.Replaced = append(r.Replaced, f.Path)
		case FateKeep:
			r.Kept = append(r.Kept, f.Path)
		case FateKeepNew:
			r.Kept = append(r.Kept, f.Path)
			r.NewFiles = append(r.NewFiles, SideFile{Path: f.Path, Side: f.Side})
			r.Merge = append(r.Merge, MergeNote{Path: f.Path, Side: f.Side, Note: mergeNote(f, "keep")})
		case FateNewOld:
			r.OldFiles = append(r.OldFiles, SideFile{Path: f.Path, Side: f.Side})
			r.Merge = append(r.Merge, MergeNote{Path: f.Path, Side: f.Side, Note: mergeNote(f, "new")})
		case FateObsolete:
			r.Obsolete = append(r.Obsolete, f.Path)
		case FateUser:
			r.UserFiles = append(r.UserFiles, f.Path)
		}
	}
	return r
}

// gatewayConfXML matches the configurations of conf/ that the Gateway
// translates (gateway-config.xml and any other config a user loads with
// --config), not log4j-config.xml or jaas-config.xml, which it does not.
var gatewayConfXML = regexp.MustCompile(`^conf/[^/]+\.xml$`)

func isGatewayConfig(path string) bool {
	base := strings.ToLower(path[strings.LastIndex(path, "/")+1:])
	return gatewayConfXML.MatchString(path) && !strings.HasPrefix(base, "log4j") && !strings.HasPrefix(base, "jaas")
}

func mergeNote(f PlannedFile, policy string) string {
	var note string
	if policy == "keep" {
		note = fmt.Sprintf("your %s is kept; the release's version is %s: merge its changes into yours", f.Path, f.Side)
	} else {
		note = fmt.Sprintf("the release's %s is installed; yours is %s: re-apply your changes", f.Path, f.Side)
	}
	if isGatewayConfig(f.Path) {
		note += "; a configuration in an older namespace is translated by the gateway at first start into " + f.Path + ".new, which then replaces it once checked"
	}
	return note
}

// UnpackBeside installs the release of plan as a new home next to the old
// one (plan.Home, left untouched), carrying the user's files over with the
// same classification as an in-place unpack. The target is opts.Target, or
// for an installer home (…/jms/3.5) the sibling named after the new
// release's major.minor (…/jms/4.0), or else <parent>/<archive top folder>.
// It refuses if the target exists. The tree is built in staging and moved
// into place with one rename, so a crash leaves no half-made home.
func UnpackBeside(ctx context.Context, plan *UnpackPlan, opts UnpackOptions) (*UnpackResult, error) {
	a := &applier{plan: plan, opts: opts}
	if plan == nil || plan.Schema != PlanSchema {
		return nil, errors.New("unpack beside: not a plan made by PlanUnpack")
	}
	target, err := BesideTarget(plan, opts.Target)
	if err != nil {
		return nil, fmt.Errorf("unpack beside %s: %w", plan.Home, err)
	}
	if c := plan.Conflicts(); len(c) > 0 {
		return nil, fmt.Errorf("unpack beside %s: %w: %s: %s", plan.Home, ErrConflict, c[0].Path, c[0].Reason)
	}
	if _, err := os.Lstat(target); err == nil {
		return nil, fmt.Errorf("unpack beside %s: %s exists", plan.Home, target)
	}
	var backup string
	if opts.Backup != nil { // the old home is not touched: a backup is welcome, not required
		if backup, err = a.backup(ctx); err != nil {
			return nil, fmt.Errorf("unpack beside %s: %w", plan.Home, err)
		}
	}
	a.staging = stagingPath(target)
	if err := a.beside(ctx, target); err != nil {
		if !errors.Is(err, errSimulatedKill) {
			os.RemoveAll(a.staging)
		}
		return nil, fmt.Errorf("unpack beside %s: %w", plan.Home, err)
	}
	res := a.result(backup)
	res.Home, res.Beside, res.Rollback = target, true, "rm -rf "+target
	return res, nil
}

var installerVersionDir = regexp.MustCompile(`^\d+\.\d+$`)

// BesideTarget is the new home [UnpackBeside] creates for plan.
func BesideTarget(plan *UnpackPlan, target string) (string, error) {
	parent := filepath.Dir(plan.Home)
	switch {
	case target != "":
		return filepath.Abs(target)
	case installerVersionDir.MatchString(filepath.Base(plan.Home)):
		parts := strings.SplitN(plan.Release.Version, ".", 3)
		if len(parts) < 2 {
			return "", fmt.Errorf("release %q has no major.minor to name the new home", plan.Release.Version)
		}
		return filepath.Join(parent, parts[0]+"."+parts[1]), nil
	default:
		return filepath.Join(parent, plan.TopFolder), nil
	}
}

func (a *applier) beside(ctx context.Context, target string) error {
	p := a.plan
	if err := os.Mkdir(a.staging, 0o700); err != nil {
		return fmt.Errorf("create staging: %w", err)
	}
	if err := a.extract(ctx, true); err != nil {
		return err
	}
	root, err := os.OpenRoot(filepath.Join(a.staging, "new"))
	if err != nil {
		return err
	}
	defer root.Close()
	for _, f := range p.Files {
		if err := a.fail("copy " + f.Path); err != nil {
			return err
		}
		var err error
		switch f.Fate {
		case FateKeep:
			if err = root.Remove(f.Path); err == nil {
				err = a.copyUserFile(root, f.Path, f.Path)
			}
		case FateKeepNew:
			if err = root.Rename(f.Path, f.Side); err == nil {
				err = a.copyUserFile(root, f.Path, f.Path)
			}
		case FateNewOld:
			err = a.copyUserFile(root, f.Path, f.Side)
		case FateUser:
			err = a.copyUserFile(root, f.Path, f.Path)
		}
		if err != nil {
			return fmt.Errorf("carry %s over: %w", f.Path, err)
		}
	}
	for _, dir := range runtimeDirs { // an empty log/ and temp/, as a fresh unpack has
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	for _, f := range p.Files { // directories made on the way have 0700
		if f.Kind == kindDir && f.Fate != FateUser && f.Fate != FateObsolete {
			if err := root.MkdirAll(f.Path, f.Mode|0o700); err != nil {
				return err
			}
			if err := root.Chmod(f.Path, f.Mode|0o700); err != nil {
				return err
			}
		}
	}
	if info, err := os.Stat(p.Home); err == nil {
		if err := root.Chmod(".", info.Mode().Perm()|0o700); err != nil {
			return err
		}
	}
	if _, err := a.writeShipped(); err != nil {
		return err
	}
	if err := a.fail("rename"); err != nil {
		return err
	}
	// Without replacing anything: a directory created at target since the
	// check (even an empty one) makes this fail rather than vanish.
	fsys, err := openParentFS(target)
	if err != nil {
		return fmt.Errorf("move into place: %w", err)
	}
	defer fsys.Close()
	if err := fsys.rename(filepath.Join(a.staging, "new"), target); err != nil {
		return fmt.Errorf("move into place: %w", err)
	}
	if err := fsyncDir(filepath.Dir(target)); err != nil {
		return err
	}
	return os.RemoveAll(a.staging)
}

// copyUserFile copies a file or symlink of the old home into the staged
// new home, with its permission bits, fsynced.
func (a *applier) copyUserFile(root *os.Root, from, to string) error {
	src := filepath.Join(a.plan.Home, filepath.FromSlash(from))
	info, err := os.Lstat(src)
	if err != nil {
		return err
	}
	if dir := path.Dir(to); dir != "." {
		if err := root.MkdirAll(dir, 0o755); err != nil {
			return err
		}
	}
	switch {
	case info.Mode()&fs.ModeSymlink != 0:
		link, err := os.Readlink(src)
		if err != nil {
			return err
		}
		return root.Symlink(link, to)
	case !info.Mode().IsRegular():
		return fmt.Errorf("%s is not a regular file", src)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := root.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, info.Mode().Perm())
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
