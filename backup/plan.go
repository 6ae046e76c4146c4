package backup

// This file decides the fate of every file of a home before an unpack, the
// way dpkg decides about conffiles (recorded hash of the original vs. the
// file on disk vs. the new file) and RPM's rpmfilesDecideFate does, but for
// every file of a tarball install and without a package database: the
// original comes from .gwup-shipped.json, a pristine archive, or, failing
// both, a documented guess. Planning reads and never writes.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"sync"
)

// Fate is what an unpack does with one path of the home.
type Fate string

const (
	FateInstall  Fate = "install"  // new in the release: written
	FateReplace  Fate = "replace"  // unchanged by the user: the release's version replaces it
	FateSame     Fate = "same"     // already what the release ships: left alone
	FateKeepNew  Fate = "keep+new" // changed by the user and by the release: user's kept, release's written as Side (FILE.new)
	FateNewOld   Fate = "new+old"  // changed by both, Conffiles "new": release's installed, user's kept as Side (FILE.old)
	FateKeep     Fate = "keep"     // changed by the user only: kept
	FateUser     Fate = "user"     // not in the release and not shipped before: the user's, kept
	FateObsolete Fate = "obsolete" // shipped before, not in the release any more: left, reported
	FateConflict Fate = "conflict" // cannot be applied as is (a directory where the release has a file, ...): Apply refuses
)

// Reference says how "changed by the user" was decided.
type Reference string

const (
	// RefShipped: exact, from HOME/.gwup-shipped.json written by the last unpack.
	RefShipped Reference = "shipped-record"
	// RefPristine: exact, from an archive of the installed release as shipped.
	RefPristine Reference = "pristine-archive"
	// RefHeuristic: no original known. A file that differs from the new
	// release's is taken as the user's when it lies where users make changes
	// (see [UserModifiable]) and as the old release's everywhere else.
	RefHeuristic Reference = "heuristic"
)

// Conffiles policies for files changed by both the user and the release.
const (
	ConffilesKeep = "keep" // keep the user's file, write the release's as FILE.new (default, dpkg confold)
	ConffilesNew  = "new"  // install the release's file, keep the user's as FILE.old (dpkg confnew)
)

// PlanSchema versions [UnpackPlan] as JSON.
const PlanSchema = "gwup/unpack-plan/v1"

// UnpackPlan is the complete, ordered list of what an unpack will do. It is
// what --dry-run prints and exactly what [ApplyUnpack] executes.
type UnpackPlan struct {
	Schema      string         `json:"schema"`
	Archive     string         `json:"archive"` // absolute
	ArchiveSize int64          `json:"archive_size"`
	Format      string         `json:"format"`     // ".tar.gz", ".zip", ...
	TopFolder   string         `json:"top_folder"` // stripped from every entry
	Release     ArchiveRelease `json:"release"`
	Home        string         `json:"home"`                        // absolute, symlinks resolved
	Installed   string         `json:"installed_release,omitempty"` // from the reference, when it says
	Reference   Reference      `json:"reference"`
	Method      string         `json:"method"` // one sentence: how user changes were told apart
	Conffiles   string         `json:"conffiles"`
	Files       []PlannedFile  `json:"files"` // sorted by path
	MaxBytes    int64          `json:"max_bytes"`
	MaxEntries  int            `json:"max_entries"`

	// content is the release's file contents, when they fit in
	// planCacheBytes: Apply then writes them without reading the archive.
	content map[string][]byte
}

// PlannedFile is the fate of one path.
type PlannedFile struct {
	Path   string      `json:"path"` // slash-separated, relative to the home
	Kind   string      `json:"kind"` // "file", "dir", "symlink"
	Fate   Fate        `json:"fate"`
	Mode   fs.FileMode `json:"mode,omitempty"`   // release's permission bits
	Size   int64       `json:"size,omitempty"`   // release's size
	SHA256 string      `json:"sha256,omitempty"` // release's content
	Link   string      `json:"link,omitempty"`   // release's symlink target
	Side   string      `json:"side,omitempty"`   // FILE.new or FILE.old written next to it
	Reason string      `json:"reason,omitempty"`
	// Implied marks a directory the archive has no entry for (many zips
	// list only files): the unpack creates it all the same.
	Implied bool `json:"implied,omitempty"`
	// What was on disk when planned; Apply refuses if it changed since.
	HomeSize    int64 `json:"home_size,omitempty"`
	HomeModTime int64 `json:"home_mtime,omitempty"` // unix nanoseconds
	// HomeSHA256 is the content of a file to replace: Apply moves it aside
	// and deletes it, so right before it does, the content must still be
	// this (an edit can keep the size and the mtime).
	HomeSHA256 string `json:"home_sha256,omitempty"`
}

// Conflicts returns the planned files that block Apply.
func (p *UnpackPlan) Conflicts() []PlannedFile {
	var out []PlannedFile
	for _, f := range p.Files {
		if f.Fate == FateConflict {
			out = append(out, f)
		}
	}
	return out
}

// Summary counts the planned paths (directories left out) by fate, for
// the one-line overview of a dry run.
func (p *UnpackPlan) Summary() map[Fate]int {
	n := map[Fate]int{}
	for _, f := range p.Files {
		if f.Kind != kindDir {
			n[f.Fate]++
		}
	}
	return n
}

// UnpackOptions tunes planning and applying an unpack.
type UnpackOptions struct {
	// Conffiles is ConffilesKeep (default) or ConffilesNew.
	Conffiles string
	// Pristine is an archive of the installed release as shipped, used as
	// the original when the home has no .gwup-shipped.json.
	Pristine string
	// MaxBytes caps the bytes of content read from an archive (default
	// DefaultMaxBytes); MaxEntries caps its entries (default DefaultMaxEntries).
	MaxBytes   int64
	MaxEntries int
	// Backup saves the files the plan keeps and returns the path of the
	// verified backup archive. Apply refuses to start without it, or when
	// it fails: no verified backup, no unpack.
	Backup func(ctx context.Context, plan *UnpackPlan) (archive string, err error)
	// GatewayRunning says the install's gateway runs now; Apply refuses.
	GatewayRunning bool
	// Target is the new home of an unpack beside the old one; empty means
	// derived from the layout (see [UnpackBeside]).
	Target string

	// testOnlyFail, when set, is called before each step of Apply and may
	// inject an error (a full disk, a failing rename) at that step.
	testOnlyFail func(step string) error
	// testOnlyNoCache makes PlanUnpack keep no content, so that Apply
	// takes its second pass over the archive (as for a huge archive).
	testOnlyNoCache bool
}

// ErrConflict marks a plan that cannot be applied as it stands.
var ErrConflict = errors.New("the home conflicts with the release")

// UserModifiable reports whether a home path lies where users make changes
// (kaazing-facts §1.4): configuration, licences, extension and SPI jars, the
// user's web content, error pages and start scripts.
func UserModifiable(p string) bool {
	for _, prefix := range []string{"conf/", "license/", "lib/ext/", "lib/spi/", "web/base/", "error-pages/"} {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return strings.HasPrefix(p, "bin/") && !strings.HasSuffix(p, ".jar")
}

// runtimeDirs hold what a running gateway writes; their content is neither
// shipped nor the user's configuration, and is never touched.
var runtimeDirs = []string{"log", "temp"}

// original is what the reference says a path was when shipped.
type original struct {
	Kind   string
	Size   int64
	SHA256 string
	Link   string
}

// PlanUnpack reads the release archive and the home and decides the fate of
// every path. It writes nothing. The archive must hold exactly one top
// folder and a Gateway version jar; any unsafe entry refuses it as a whole.
func PlanUnpack(ctx context.Context, archive, home string, opts UnpackOptions) (*UnpackPlan, error) {
	conffiles := opts.Conffiles
	switch conffiles {
	case "":
		conffiles = ConffilesKeep
	case ConffilesKeep, ConffilesNew:
	default:
		return nil, fmt.Errorf("plan unpack: unknown conffiles policy %q (want keep or new)", conffiles)
	}
	home, err := resolveHome(home)
	if err != nil {
		return nil, fmt.Errorf("plan unpack: %w", err)
	}
	archiveAbs, err := filepath.Abs(archive)
	if err != nil {
		return nil, fmt.Errorf("plan unpack: %w", err)
	}
	st, err := os.Stat(archiveAbs)
	if err != nil {
		return nil, fmt.Errorf("plan unpack: %w", err)
	}
	if isWithin(home, archiveAbs) {
		return nil, fmt.Errorf("plan unpack: the archive %s lies inside the home it would overwrite", archiveAbs)
	}
	plan := &UnpackPlan{
		Schema:      PlanSchema,
		Archive:     archiveAbs,
		ArchiveSize: st.Size(),
		Home:        home,
		Conffiles:   conffiles,
		MaxBytes:    opts.MaxBytes,
		MaxEntries:  opts.MaxEntries,
	}
	if plan.MaxBytes <= 0 {
		plan.MaxBytes = DefaultMaxBytes
	}
	if plan.MaxEntries <= 0 {
		plan.MaxEntries = DefaultMaxEntries
	}

	ref, err := plan.loadReference(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("plan unpack: %w", err)
	}

	// Each entry is compared with the home (stat, hash) by two workers
	// while the archive pass goes on: on a release-sized archive this
	// hides most of the hashing of the home behind the inflating.
	var (
		mu      sync.Mutex
		files   []PlannedFile
		fateErr error
		wg      sync.WaitGroup
		jobs    = make(chan plannedEntry, 64)
	)
	for range 2 {
		wg.Go(func() {
			for e := range jobs {
				pf, err := plan.fateOf(e, ref)
				mu.Lock()
				files = append(files, pf)
				fateErr = cmpOr(fateErr, err)
				mu.Unlock()
			}
		})
	}
	var cache *contentCache
	if !opts.testOnlyNoCache {
		cache = newContentCache(planCacheBytes)
	}
	entries, facts, rel, err := readReleaseEntries(ctx, releaseReader{file: archiveAbs, maxBytes: plan.MaxBytes, maxEntries: plan.MaxEntries},
		func(e plannedEntry) { jobs <- e }, cache)
	if cache != nil && !cache.dropped {
		plan.content = cache.files
	}
	if err == nil {
		for _, dir := range impliedDirs(entries) {
			entries = append(entries, dir)
			jobs <- dir
		}
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, fmt.Errorf("plan unpack: %w", err)
	}
	if fateErr != nil {
		return nil, fmt.Errorf("plan unpack: %w", fateErr)
	}
	plan.Format, plan.TopFolder, plan.Release = facts.Format, facts.TopFolder, rel
	plan.Files = files
	slices.SortFunc(plan.Files, func(a, b PlannedFile) int { return strings.Compare(a.Path, b.Path) })

	inRelease := make(map[string]bool, len(entries))
	for _, e := range entries {
		inRelease[e.Path] = true
	}
	// Side names are chosen once every release name is known, in path
	// order, so that the same home and archive always give the same plan.
	sides := map[string]bool{}
	for i := range plan.Files {
		f := &plan.Files[i]
		switch f.Fate {
		case FateKeepNew:
			f.Side, err = plan.freeSide(f.Path, ".new", sides, inRelease)
		case FateNewOld:
			f.Side, err = plan.freeSide(f.Path, ".old", sides, inRelease)
		}
		if err != nil {
			return nil, fmt.Errorf("plan unpack: %w", err)
		}
	}
	extras, err := plan.homeExtras(ctx, inRelease, ref)
	if err != nil {
		return nil, fmt.Errorf("plan unpack: %w", err)
	}
	plan.Files = append(plan.Files, extras...)
	slices.SortFunc(plan.Files, func(a, b PlannedFile) int { return strings.Compare(a.Path, b.Path) })
	return plan, nil
}

// plannedEntry is a release entry with its content hash.
type plannedEntry struct {
	releaseEntry
	Size    int64
	SHA256  string
	implied bool // a parent directory the archive does not list
}

// readReleaseEntries makes one full pass over an archive: every entry
// admitted and hashed (and handed to each, when set, as soon as it is),
// and the release read from the best version jar.
func readReleaseEntries(ctx context.Context, rr releaseReader, each func(plannedEntry), cache *contentCache) ([]plannedEntry, archiveFacts, ArchiveRelease, error) {
	var entries []plannedEntry
	var best ArchiveRelease
	bestRank := 0
	buf := make([]byte, 256<<10)
	facts, err := rr.walk(ctx, func(e *releaseEntry, r io.Reader) error {
		pe := plannedEntry{releaseEntry: *e}
		if e.Kind == kindFile {
			var jar *bytesBuffer
			var ws []io.Writer
			rank := versionJarRank(e.Path)
			if rank > bestRank {
				jar = &bytesBuffer{max: maxJarRead}
				ws = append(ws, jar)
			}
			var kept *bytesBuffer
			if cache.room(e.sizeHint) {
				kept = &bytesBuffer{data: make([]byte, 0, e.sizeHint), max: int(cache.budget - cache.used)}
				ws = append(ws, kept)
			}
			var w io.Writer
			switch len(ws) {
			case 1:
				w = ws[0]
			case 2:
				w = io.MultiWriter(ws...)
			}
			sum, n, err := hashingCopy(w, r, buf)
			if err != nil {
				return fmt.Errorf("read %s: %w", e.Path, err)
			}
			pe.Size, pe.SHA256 = n, sum
			if jar != nil && !jar.overflow {
				if got, ok := releaseFromJar(e.Path, jar.data); ok {
					best, bestRank = got, rank
				}
			}
			cache.keep(e.Path, kept)
		}
		entries = append(entries, pe)
		if each != nil {
			each(pe)
		}
		return nil
	})
	if err != nil {
		return nil, facts, best, err
	}
	if bestRank == 0 {
		return nil, facts, best, fmt.Errorf("read archive %s: %w: no lib/gateway.server.jar, lib/enterprise.gateway.server.jar, lib/gateway.distribution.version.jar or lib/com.kaazing.gateway.*.version.jar with an Implementation-Version", rr.file, ErrNotRelease)
	}
	return entries, facts, best, nil
}

// planCacheBytes is how much release content a plan keeps in memory. A
// Gateway release is well under it; a bigger archive is read again by Apply.
const planCacheBytes = 256 << 20

// contentCache keeps the release's file contents read while planning, so
// that Apply writes exactly the bytes that were planned (and hashed)
// without inflating the archive a second time. Past its budget it gives
// up and Apply reads the archive again, checking every hash.
type contentCache struct {
	budget, used int64
	files        map[string][]byte
	dropped      bool
}

func newContentCache(budget int64) *contentCache {
	return &contentCache{budget: budget, files: map[string][]byte{}}
}

// room reports whether a file of about size bytes may be kept.
func (c *contentCache) room(size int64) bool {
	if c == nil || c.dropped {
		return false
	}
	if c.used+size > c.budget {
		c.drop()
		return false
	}
	return true
}

func (c *contentCache) keep(name string, b *bytesBuffer) {
	if c == nil || c.dropped || b == nil {
		return
	}
	if b.overflow {
		c.drop()
		return
	}
	c.files[name] = b.data
	c.used += int64(len(b.data))
}

func (c *contentCache) drop() { c.dropped, c.files = true, nil }

// impliedDirs returns the parent directories no entry lists, as entries.
func impliedDirs(entries []plannedEntry) []plannedEntry {
	listed := make(map[string]bool, len(entries))
	for _, e := range entries {
		listed[e.Path] = true
	}
	var out []plannedEntry
	for _, e := range entries {
		for dir := path.Dir(e.Path); dir != "." && !listed[dir]; dir = path.Dir(dir) {
			listed[dir] = true
			out = append(out, plannedEntry{releaseEntry: releaseEntry{Path: dir, Kind: kindDir, Mode: 0o755}, implied: true})
		}
	}
	return out
}

// bytesBuffer keeps up to max bytes and notes an overflow instead of failing.
type bytesBuffer struct {
	data     []byte
	max      int
	overflow bool
}

func (b *bytesBuffer) Write(p []byte) (int, error) {
	if len(b.data)+len(p) > b.max {
		b.overflow = true
		return len(p), nil
	}
	b.data = append(b.data, p...)
	return len(p), nil
}

// resolveHome makes a home absolute with symlinks resolved, so that the
// staging directory and the journal land next to the real directory.
func resolveHome(home string) (string, error) {
	abs, err := filepath.Abs(home)
	if err != nil {
		return "", err
	}
	real, err := filepath.EvalSymlinks(abs)
	if err != nil {
		return "", fmt.Errorf("home %s: %w", home, err)
	}
	st, err := os.Stat(real)
	if err != nil {
		return "", fmt.Errorf("home %s: %w", home, err)
	}
	if !st.IsDir() {
		return "", fmt.Errorf("home %s: not a directory", home)
	}
	if filepath.Dir(real) == real {
		return "", fmt.Errorf("home %s: the root directory cannot be a home", home)
	}
	return real, nil
}

// isWithin reports whether p is dir or lies beneath it (both clean, absolute).
func isWithin(dir, p string) bool {
	rel, err := filepath.Rel(dir, p)
	return err == nil && filepath.IsLocal(rel)
}

// loadReference finds the original of every shipped file: the shipped
// record in the home, else the pristine archive, else nothing.
func (p *UnpackPlan) loadReference(ctx context.Context, opts UnpackOptions) (map[string]original, error) {
	data, err := os.ReadFile(filepath.Join(p.Home, ShippedName))
	switch {
	case err == nil:
		var s Shipped
		if err := json.Unmarshal(data, &s); err != nil {
			return nil, fmt.Errorf("read %s: %w", ShippedName, err)
		}
		if s.Schema != ShippedSchema {
			return nil, fmt.Errorf("read %s: unknown schema %q", ShippedName, s.Schema)
		}
		ref := make(map[string]original, len(s.Files))
		for _, f := range s.Files {
			if !fs.ValidPath(f.Path) {
				return nil, fmt.Errorf("read %s: bad path %q", ShippedName, f.Path)
			}
			ref[f.Path] = original{Kind: kindOfMode(fs.FileMode(f.Mode)), Size: f.Size, SHA256: f.SHA256, Link: f.Link}
		}
		p.Reference, p.Installed = RefShipped, s.Release
		p.Method = "exact: every file compared with its sha256 in " + ShippedName + ", written by the last unpack"
		return ref, nil
	case !errors.Is(err, fs.ErrNotExist):
		return nil, fmt.Errorf("read %s: %w", ShippedName, err)
	}
	if opts.Pristine != "" {
		entries, _, rel, err := readReleaseEntries(ctx, releaseReader{file: opts.Pristine, maxBytes: p.MaxBytes, maxEntries: p.MaxEntries}, nil, nil)
		if err != nil {
			return nil, fmt.Errorf("pristine archive: %w", err)
		}
		ref := make(map[string]original, len(entries))
		for _, e := range entries {
			ref[e.Path] = original{Kind: e.Kind, Size: e.Size, SHA256: e.SHA256, Link: e.Link}
		}
		p.Reference, p.Installed = RefPristine, rel.Version
		p.Method = "exact: every file compared with the pristine archive " + opts.Pristine
		return ref, nil
	}
	p.Reference = RefHeuristic
	p.Method = "heuristic (no " + ShippedName + " and no pristine archive): a file that differs from the new release's " +
		"is the user's when under conf/, license/, lib/ext/, lib/spi/, web/base/, error-pages/ or a bin/ script, the old release's elsewhere"
	return nil, nil
}

func kindOfMode(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return kindDir
	case m&fs.ModeSymlink != 0:
		return kindSymlink
	}
	return kindFile
}

// homeState is one path of the home as found.
type homeState struct {
	Kind   string // "" when missing; kindFile, kindDir, kindSymlink, or "other"
	Size   int64
	MTime  int64
	SHA256 string // files only, computed lazily
	Link   string
}

func (p *UnpackPlan) stat(rel string) (homeState, error) {
	abs := filepath.Join(p.Home, filepath.FromSlash(rel))
	info, err := os.Lstat(abs)
	if errors.Is(err, fs.ErrNotExist) {
		return homeState{}, nil
	}
	if err != nil {
		return homeState{}, err
	}
	hs := homeState{Size: info.Size(), MTime: info.ModTime().UnixNano()}
	switch {
	case info.Mode().IsRegular():
		hs.Kind = kindFile
	case info.IsDir():
		hs.Kind = kindDir
	case info.Mode()&fs.ModeSymlink != 0:
		hs.Kind = kindSymlink
		if hs.Link, err = os.Readlink(abs); err != nil {
			return hs, err
		}
	default:
		hs.Kind = "other"
	}
	return hs, nil
}

// hash fills in the sha256 of a home file.
func (p *UnpackPlan) hash(rel string, hs *homeState) error {
	if hs.SHA256 != "" || hs.Kind != kindFile {
		return nil
	}
	f, err := os.Open(filepath.Join(p.Home, filepath.FromSlash(rel)))
	if err != nil {
		return err
	}
	defer f.Close()
	sum, _, err := hashingCopy(nil, f, make([]byte, 64<<10))
	hs.SHA256 = sum
	return err
}

// blockedAncestor returns the first parent of rel in the home that is not a
// real directory: writing beneath a symlink of the user's (log -> /var/log)
// would write outside the home, beneath a file is impossible.
func (p *UnpackPlan) blockedAncestor(rel string) (string, string, error) {
	var parents []string
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		parents = append(parents, dir)
	}
	for i := len(parents) - 1; i >= 0; i-- {
		hs, err := p.stat(parents[i])
		if err != nil {
			return "", "", err
		}
		switch hs.Kind {
		case "":
			return "", "", nil // missing: created by the unpack, nothing deeper exists
		case kindDir:
			continue
		default:
			return parents[i], hs.Kind, nil
		}
	}
	return "", "", nil
}

// fateOf decides one release entry (dpkg's table; RPM's fates). The side
// file of keep+new and new+old is named later, see PlanUnpack. It only
// reads p's immutable fields and the home: it runs concurrently.
func (p *UnpackPlan) fateOf(e plannedEntry, ref map[string]original) (PlannedFile, error) {
	pf := PlannedFile{Path: e.Path, Kind: e.Kind, Mode: e.Mode, Size: e.Size, SHA256: e.SHA256, Link: e.Link, Implied: e.implied}
	if e.Kind == kindDir {
		pf.Size = 0
	}
	if dir, kind, err := p.blockedAncestor(e.Path); err != nil {
		return pf, err
	} else if dir != "" {
		pf.Fate, pf.Reason = FateConflict, fmt.Sprintf("%s is a %s in the home, the release has a directory there", dir, kind)
		return pf, nil
	}
	hs, err := p.stat(e.Path)
	if err != nil {
		return pf, err
	}
	pf.HomeSize, pf.HomeModTime = hs.Size, hs.MTime
	switch {
	case hs.Kind == "":
		pf.Fate, pf.Reason = FateInstall, "new in the release"
		if o, shipped := ref[e.Path]; shipped && o.Kind != kindDir {
			pf.Reason = "shipped before and deleted from the home: installed again"
		}
		pf.HomeSize, pf.HomeModTime = 0, 0
		return pf, nil
	case e.Kind == kindDir && hs.Kind == kindDir:
		pf.Fate = FateSame
		pf.HomeSize, pf.HomeModTime = 0, 0
		return pf, nil
	case e.Kind == kindDir && hs.Kind == kindSymlink:
		// log -> /var/log/kaazing: the user moved the directory. Kept; the
		// release's files beneath it, if any, are conflicts (blockedAncestor)
		// because writing them would write through the link.
		pf.Fate, pf.Reason = FateSame, "the home has a symlink ("+hs.Link+") for this directory: kept"
		pf.HomeSize, pf.HomeModTime = 0, 0
		return pf, nil
	case e.Kind == kindDir || hs.Kind == kindDir || hs.Kind == "other":
		pf.Fate, pf.Reason = FateConflict, fmt.Sprintf("the home has a %s where the release has a %s", hs.Kind, e.Kind)
		return pf, nil
	}

	same, err := p.sameContent(e.Path, &hs, e.Kind, e.Size, e.SHA256, e.Link)
	if err != nil {
		return pf, err
	}
	if same {
		pf.Fate, pf.Reason = FateSame, "identical to the release's"
		return pf, nil
	}

	var userChanged, releaseChanged bool
	switch {
	case p.Reference == RefHeuristic:
		// A symlink where the release has a file (or the reverse) is the
		// user's doing wherever it is (lib/x.jar -> /opt/shared/x.jar).
		userChanged, releaseChanged = UserModifiable(e.Path) || hs.Kind != e.Kind, true
		if userChanged {
			pf.Reason = "differs from the release's where users make changes, or is of another kind (no reference: assumed the user's)"
		} else {
			pf.Reason = "differs from the release's outside the user-modifiable set (no reference: assumed the old release's)"
		}
	default:
		o, shipped := ref[e.Path]
		if !shipped {
			userChanged, releaseChanged = true, true
			pf.Reason = "not shipped before: added by the user, now shipped by the release too"
			break
		}
		unchanged, err := p.sameContent(e.Path, &hs, o.Kind, o.Size, o.SHA256, o.Link)
		if err != nil {
			return pf, err
		}
		userChanged = !unchanged
		releaseChanged = o.Kind != e.Kind || o.SHA256 != e.SHA256 || o.Link != e.Link
		switch {
		case !userChanged:
			pf.Reason = "unchanged since shipped"
		case !releaseChanged:
			pf.Reason = "changed by the user, unchanged by the release"
		default:
			pf.Reason = "changed by the user and by the release"
		}
	}
	switch {
	case !userChanged:
		pf.Fate = FateReplace
		if err := p.hash(e.Path, &hs); err != nil {
			return pf, err
		}
		pf.HomeSHA256 = hs.SHA256
	case !releaseChanged:
		pf.Fate = FateKeep
	case p.Conffiles == ConffilesNew:
		pf.Fate = FateNewOld
	default:
		pf.Fate = FateKeepNew
	}
	return pf, nil
}

// sameContent compares the home's path with a shipped or released version.
func (p *UnpackPlan) sameContent(rel string, hs *homeState, kind string, size int64, sum, link string) (bool, error) {
	if hs.Kind != kind {
		return false, nil
	}
	if kind == kindSymlink {
		return hs.Link == link, nil
	}
	if hs.Size != size {
		return false, nil
	}
	if err := p.hash(rel, hs); err != nil {
		return false, err
	}
	return hs.SHA256 == sum, nil
}

// freeSide picks FILE.new (or .old), or FILE.new.2, ... when that name is
// taken in the home or by the release: an unpack never overwrites a file it
// has not planned to.
func (p *UnpackPlan) freeSide(rel, suffix string, sides, inRelease map[string]bool) (string, error) {
	for i := 1; i < 1000; i++ {
		name := rel + suffix
		if i > 1 {
			name = fmt.Sprintf("%s%s.%d", rel, suffix, i)
		}
		if sides[name] || inRelease[name] {
			continue
		}
		if _, err := os.Lstat(filepath.Join(p.Home, filepath.FromSlash(name))); err == nil {
			continue
		} else if !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
		sides[name] = true
		return name, nil
	}
	return "", fmt.Errorf("no free name for %s%s", rel, suffix)
}

// homeExtras lists what the home holds beyond the release: the user's own
// files, and files an older release shipped that this one does not.
// Runtime directories (log/, temp/) are not looked into.
func (p *UnpackPlan) homeExtras(ctx context.Context, inRelease map[string]bool, ref map[string]original) ([]PlannedFile, error) {
	var out []PlannedFile
	err := filepath.WalkDir(p.Home, func(abs string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if abs == p.Home {
			return nil
		}
		rel, err := filepath.Rel(p.Home, abs)
		if err != nil {
			return err
		}
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if slices.Contains(runtimeDirs, rel) {
				return fs.SkipDir
			}
			return nil
		}
		if inRelease[rel] || rel == ShippedName {
			return nil
		}
		pf := PlannedFile{Path: rel, Kind: kindOfMode(d.Type())}
		o, shipped := ref[rel]
		switch {
		case p.Reference == RefHeuristic:
			pf.Fate, pf.Reason = FateUser, "not in the new release (no reference to tell the user's from an older release's): left"
		case shipped:
			pf.Fate, pf.Reason = FateObsolete, "shipped before, not any more: left"
			hs, err := p.stat(rel)
			if err != nil {
				return err
			}
			if same, err := p.sameContent(rel, &hs, o.Kind, o.Size, o.SHA256, o.Link); err != nil {
				return err
			} else if !same {
				pf.Reason = "shipped before, changed by the user, not shipped any more: left"
			}
		default:
			pf.Fate, pf.Reason = FateUser, "added by the user: kept"
		}
		out = append(out, pf)
		return nil
	})
	return out, err
}
