package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"

	"github.com/spf13/afero"
)

// WalkOptions configure FindHomes.
type WalkOptions struct {
	// Roots are absolute paths in fsys to walk ("/" walks everything). A root
	// is walked even when it is a symlink or matches Exclude: naming it is
	// asking for it. Roots inside other roots are walked once.
	Roots []string
	// Exclude are globs (path.Match) matched against the absolute,
	// slash-separated path of a directory AND its base name; matching
	// directories are pruned, never opened. A followed link is also pruned
	// when the real path it leads to matches.
	Exclude []string
	// OneFileSystem keeps the walk on the mount of each root: a directory
	// that is the mount point of another mount (per Mounts) is not entered.
	OneFileSystem bool
	// FollowSymlinks follows symlinked directories. Each directory is then
	// walked once, under the first path that reaches it (real paths first,
	// then symlinks in sorted order), and links back into a walked tree are
	// recorded as loops or duplicates instead of being walked again. A
	// directory's identity is its resolved real path, which the walk knows
	// for free; the set of them grows with the tree, so this mode costs
	// memory that the default one does not. Without it, every symlink to a
	// directory is recorded in Coverage.Skipped ("symlink not followed");
	// links to files and dangling links are ignored.
	FollowSymlinks bool
	// Mounts come from ReadMounts. Mount points of pseudo-filesystems (proc,
	// sysfs, ... see IsPseudoFS) are never entered; without Mounts nothing is
	// known about mounts and OneFileSystem has no effect.
	Mounts []Mount
	// Progress is called now and then (every few thousand directories, one
	// call at a time) with the number of directories read so far. May be nil.
	Progress func(dirsVisited int)
}

// Bounds on the gap lists of a Coverage, so that scanning "/" on a host with
// millions of symlinks or a huge excluded cache cannot grow the report without
// limit. Each kind of gap (see the gap* constants) keeps the entries with the
// smallest paths, which makes the list the same from run to run whatever
// order the parallel walk met them in; the rest are counted in one extra gap
// with an empty Path and the Reason "N more not listed: <kind>".
const (
	maxSkippedPerKind = 100
	maxUnreadable     = 1000
)

// Kinds of gaps. The Reason of a skipped gap starts with its kind
// ("excluded by node_modules", "pseudo-filesystem proc", "other filesystem
// xfs /dev/vdb1", "symlink loop: points to its ancestor /opt", ...); the
// Reason of an unreadable one is the failed operation and its cause
// ("open: permission denied").
const (
	gapExcluded   = "excluded"
	gapPseudoFS   = "pseudo-filesystem"
	gapOtherFS    = "other filesystem"
	gapSymlink    = "symlink not followed"
	gapLoop       = "symlink loop"
	gapDuplicate  = "already walked"
	gapUnreadable = "unreadable"
)

const (
	// readBatch is how many entries a directory read returns at a time, so
	// that a directory with millions of files never sits in memory at once.
	readBatch = 1024
	// flushChildren is how many subdirectories of one directory are held back
	// before they are queued. They are held back so that a recognised home is
	// not entered; past this many, the home question is settled with IsHome
	// right away (a Gateway home has a dozen subdirectories, not thousands)
	// and the rest are queued on the shared stack for any worker to take.
	flushChildren = 4096
	// progressEvery is how many directories pass between Progress calls.
	progressEvery = 4096
)

// FindHomes walks opts.Roots in fsys and returns the Gateway homes found
// (sorted by Path, each once) and the coverage of the walk: which roots, how
// many directories, what was skipped on purpose and what could not be read.
// A recognised home is not entered: homes are never nested.
//
// Unreadable directories are recorded and the walk goes on. The error is
// non-nil only for bad options (a relative root, a malformed glob) or when
// ctx is cancelled, in which case the walk stops promptly, and what was found
// so far is returned with ctx.Err().
//
// On a real disk (afero.OsFs, also under ReadOnlyFs and BasePathFs) the walk
// reads directories with (*os.File).ReadDir, which takes entry types from
// the directory itself without an lstat per entry, and reads several
// directories at a time (2*GOMAXPROCS workers). A directory is only examined
// with IsHome when it has entries named conf and lib, so the walk costs no
// more system calls per directory than find.
//
// Coverage.DirsVisited counts the directories opened. Roots keep the order
// given, cleaned, each once; a root that is missing is Unreadable, one that
// is the same directory as an earlier root (through a symlink) is Skipped.
// Mount points are compared with the real paths of directories, so Mounts
// must be in the same namespace as fsys.
func FindHomes(ctx context.Context, fsys afero.Fs, opts WalkOptions) ([]Home, Coverage, error) {
	for _, r := range opts.Roots {
		if !filepath.IsAbs(r) && !path.IsAbs(filepath.ToSlash(r)) {
			return nil, Coverage{}, fmt.Errorf("find homes: root %q: not an absolute path", r)
		}
	}
	for _, p := range opts.Exclude {
		if _, err := path.Match(p, ""); err != nil {
			return nil, Coverage{}, fmt.Errorf("find homes: exclude pattern %q: %w", p, err)
		}
	}

	w := newWalker(ctx, fsys, opts)
	roots := w.prepareRoots()
	w.runPool(roots)
	w.followLinks()

	homes := make([]Home, 0, len(w.homes))
	for _, h := range w.homes {
		homes = append(homes, h)
	}
	slices.SortFunc(homes, func(a, b Home) int { return strings.Compare(a.Path, b.Path) })
	cov := Coverage{
		Roots:       w.rootsWalked,
		DirsVisited: int(w.dirs.Load()),
		Skipped:     w.skipped.list(),
		Unreadable:  w.unreadable.list(),
	}
	if err := ctx.Err(); err != nil {
		return homes, cov, err
	}
	return homes, cov, nil
}

// dirTask is one directory waiting to be read.
type dirTask struct {
	path string // as reached, the path reported
	// real is the path with every symlink resolved, when it differs from
	// path (the walk went through a symlinked root or a followed link); ""
	// means "same as path", which saves a string per directory in the
	// common case.
	real string
	// mount is the ID of the mount the walk's root is on (OneFileSystem).
	mount int
	// root is the real path of the root this task came from, so that the
	// walk of one root does not treat that root as "another root".
	root string
}

func (t dirTask) realPath() string {
	if t.real != "" {
		return t.real
	}
	return t.path
}

type walker struct {
	ctx     context.Context
	fsys    afero.Fs
	opts    WalkOptions
	workers int

	mountAt   map[string]Mount // the topmost mount at each mount point
	rootReals map[string]bool  // real paths of the roots, each walked once on its own

	// The shared LIFO work stack, fed by busy workers when others are
	// idle. LIFO makes the walk depth-first, which keeps the stacks as
	// small as the tree is deep times its fan-out.
	mu      sync.Mutex
	cond    *sync.Cond
	stack   []dirTask
	stopped bool
	pending atomic.Int64 // tasks on any stack or being read
	idle    atomic.Int32 // workers waiting in take

	dirs       atomic.Int64
	progressMu sync.Mutex

	resMu       sync.Mutex
	homes       map[string]Home
	skipped     gapSet
	unreadable  gapSet
	links       []linkTask      // symlinked dirs to follow after the pool drains (FollowSymlinks)
	visited     map[string]bool // real paths of the dirs read (FollowSymlinks)
	rootsWalked []string
}

// linkTask is a symlinked directory met during a walk, to be followed later.
type linkTask struct {
	path       string // the link
	parentReal string // real path of the directory holding the link
	mount      int
}

func newWalker(ctx context.Context, fsys afero.Fs, opts WalkOptions) *walker {
	w := &walker{
		ctx:        ctx,
		fsys:       fsys,
		opts:       opts,
		workers:    2 * runtime.GOMAXPROCS(0),
		mountAt:    map[string]Mount{},
		rootReals:  map[string]bool{},
		homes:      map[string]Home{},
		skipped:    gapSet{limit: maxSkippedPerKind},
		unreadable: gapSet{limit: maxUnreadable},
	}
	w.cond = sync.NewCond(&w.mu)
	for _, m := range opts.Mounts {
		w.mountAt[filepath.Clean(m.Point)] = m // later lines are mounted on top
	}
	if opts.FollowSymlinks {
		w.visited = map[string]bool{}
	}
	return w
}

// prepareRoots cleans the roots, drops those that are the same directory as
// an earlier one (by real path, so /var/run and /run are walked once) and
// those on pseudo-filesystems, and returns the tasks to start with.
func (w *walker) prepareRoots() []dirTask {
	var tasks []dirTask
	firstAt := map[string]string{}
	for _, r := range w.opts.Roots {
		r = filepath.Clean(r)
		if slices.Contains(w.rootsWalked, r) {
			continue
		}
		w.rootsWalked = append(w.rootsWalked, r)
		real, err := realPath(w.fsys, r)
		if err == nil {
			var fi os.FileInfo
			if fi, err = w.fsys.Stat(r); err == nil && !fi.IsDir() {
				err = errors.New("not a directory")
			}
		}
		if err != nil {
			w.unreadable.add(gapUnreadable, r, errText(err))
			continue
		}
		if other, ok := firstAt[real]; ok {
			w.skipped.add(gapDuplicate, r, gapDuplicate+": same directory as root "+other)
			continue
		}
		firstAt[real] = r
		m, known := w.mountOf(real)
		if known && IsPseudoFS(m.FSType) {
			w.skipped.add(gapPseudoFS, r, gapPseudoFS+" "+m.FSType)
			continue
		}
		t := dirTask{path: r, mount: -1, root: real}
		if known {
			t.mount = m.ID
		}
		if real != r {
			t.real = real
		}
		w.rootReals[real] = true
		tasks = append(tasks, t)
	}
	return tasks
}

// mountOf returns the mount a real path is on: the mount at the longest
// mount point that is the path or one of its parents.
func (w *walker) mountOf(real string) (Mount, bool) {
	if len(w.mountAt) == 0 {
		return Mount{}, false
	}
	for p := real; ; p = filepath.Dir(p) {
		if m, ok := w.mountAt[p]; ok {
			return m, true
		}
		if p == filepath.Dir(p) {
			return Mount{}, false
		}
	}
}

// runPool reads the tasks and everything below them with w.workers
// goroutines, and returns when all is read or ctx is cancelled.
func (w *walker) runPool(tasks []dirTask) {
	if len(tasks) == 0 || w.ctx.Err() != nil {
		return
	}
	w.mu.Lock()
	w.stack = append(w.stack[:0], tasks...)
	w.pending.Store(int64(len(tasks)))
	w.stopped = false
	w.mu.Unlock()

	stop := context.AfterFunc(w.ctx, func() {
		w.mu.Lock()
		w.stopped = true
		w.mu.Unlock()
		w.cond.Broadcast()
	})
	defer stop()

	var wg sync.WaitGroup
	for range w.workers {
		wg.Go(w.work)
	}
	wg.Wait()
}

// work is one worker. It walks depth-first from a stack of its own, which
// costs no locking and no waking of other goroutines; only when another
// worker is idle does it give away the older half of its stack (the
// shallowest directories, the biggest pieces of work) through the shared
// stack. Handing every directory through a shared queue made the runtime
// spend more time passing goroutines between threads than reading.
func (w *walker) work() {
	var local, children []dirTask
	for {
		if len(local) == 0 {
			t, ok := w.take()
			if !ok {
				return
			}
			local = append(local, t)
		}
		if w.ctx.Err() != nil {
			return
		}
		t := local[len(local)-1]
		local = local[:len(local)-1]
		children = w.visit(t, children[:0])
		local = append(local, children...)
		if w.pending.Add(int64(len(children)-1)) == 0 {
			w.mu.Lock()
			w.cond.Broadcast() // all done: wake the idle to leave
			w.mu.Unlock()
			return
		}
		if len(local) > 1 && w.idle.Load() > 0 {
			local = w.share(local)
		}
	}
}

// take waits for a task on the shared stack; false means the walk is over
// (nothing pending) or stopped.
func (w *walker) take() (dirTask, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.idle.Add(1)
	defer w.idle.Add(-1)
	for len(w.stack) == 0 && w.pending.Load() > 0 && !w.stopped {
		w.cond.Wait()
	}
	if w.stopped || len(w.stack) == 0 {
		return dirTask{}, false
	}
	t := w.stack[len(w.stack)-1]
	w.stack = w.stack[:len(w.stack)-1]
	return t, true
}

// share moves the older half of a worker's stack to the shared one.
func (w *walker) share(local []dirTask) []dirTask {
	k := len(local) / 2
	w.mu.Lock()
	w.stack = append(w.stack, local[:k]...)
	w.mu.Unlock()
	w.cond.Broadcast()
	n := copy(local, local[k:])
	return local[:n]
}

// push queues tasks from the middle of a visit (a huge directory) on the
// shared stack.
func (w *walker) push(tasks []dirTask) {
	w.mu.Lock()
	w.stack = append(w.stack, tasks...)
	w.pending.Add(int64(len(tasks)))
	w.mu.Unlock()
	w.cond.Broadcast()
}

// visit reads one directory: it records a home and stops there, or appends
// the subdirectories to walk to children and returns it.
func (w *walker) visit(t dirTask, children []dirTask) []dirTask {
	if w.ctx.Err() != nil {
		return children
	}
	if w.visited != nil && !w.markVisited(t.realPath()) {
		return children // reached twice, e.g. a root also reached by a link
	}
	f, err := openDir(w.fsys, t.path)
	if err != nil {
		w.unreadable.add(gapUnreadable, t.path, errText(err))
		return children
	}
	defer f.Close()
	if n := w.dirs.Add(1); w.opts.Progress != nil && n%progressEvery == 0 {
		w.progressMu.Lock()
		w.opts.Progress(int(n))
		w.progressMu.Unlock()
	}

	var (
		links           []string
		hasConf, hasLib bool
		decided         bool // IsHome already asked (huge directory)
		isHome          bool
	)
	handle := func(name string, typ fs.FileMode) {
		switch name {
		case "conf":
			hasConf = true
		case "lib":
			hasLib = true
		}
		switch {
		case typ.IsDir():
			if c, ok := w.child(t, name); ok {
				children = append(children, c)
			}
		case typ&fs.ModeSymlink != 0:
			links = append(links, joinPath(t.path, name))
		}
	}
	// settle decides early, for a directory with thousands of
	// subdirectories, whether it is a home; if not, what was collected
	// is queued so that it does not pile up.
	settle := func() {
		if !decided {
			decided = true
			var h Home
			if h, isHome = IsHome(w.fsys, t.path); isHome {
				w.addHome(h)
				return
			}
		}
		w.push(children)
		children = children[:0]
	}

	read := readDirFunc(f)
	for !isHome {
		err := read(handle)
		if len(children) >= flushChildren {
			settle()
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			w.unreadable.add(gapUnreadable, t.path, errText(err))
			break
		}
		if w.ctx.Err() != nil {
			return children[:0]
		}
	}
	if isHome {
		return children[:0]
	}
	if !decided && hasConf && hasLib {
		if h, ok := IsHome(w.fsys, t.path); ok {
			w.addHome(h)
			return children[:0]
		}
	}
	for _, l := range links {
		w.symlink(t, l)
	}
	return children
}

// child decides whether the subdirectory name of t is walked, records why
// not when it is not, and returns its task.
func (w *walker) child(t dirTask, name string) (dirTask, bool) {
	p := joinPath(t.path, name)
	c := dirTask{path: p, mount: t.mount, root: t.root}
	if t.real != "" {
		c.real = joinPath(t.real, name)
	}
	real := c.realPath()
	if real != t.root && w.rootReals[real] {
		return c, false // another root: walked on its own
	}
	if pat := w.excludedBy(p, name); pat != "" {
		w.skipped.add(gapExcluded, p, gapExcluded+" by "+pat)
		return c, false
	}
	if m, ok := w.mountAt[real]; ok {
		if IsPseudoFS(m.FSType) {
			w.skipped.add(gapPseudoFS, p, gapPseudoFS+" "+m.FSType)
			return c, false
		}
		if w.opts.OneFileSystem && m.ID != t.mount {
			w.skipped.add(gapOtherFS, p, gapOtherFS+" "+m.FSType+" "+m.Source)
			return c, false
		}
	}
	return c, true
}

// symlink handles a symlink met in the directory of t: links to anything but
// a directory are ignored; links to directories are followed later
// (FollowSymlinks) or recorded as not followed.
func (w *walker) symlink(t dirTask, link string) {
	fi, err := w.fsys.Stat(link)
	if err != nil || !fi.IsDir() {
		return // dangling, or a link to a file: nothing to walk either way
	}
	name := filepath.Base(link)
	if pat := w.excludedBy(link, name); pat != "" {
		w.skipped.add(gapExcluded, link, gapExcluded+" by "+pat)
		return
	}
	if !w.opts.FollowSymlinks {
		w.skipped.add(gapSymlink, link, gapSymlink)
		return
	}
	w.resMu.Lock()
	w.links = append(w.links, linkTask{path: link, parentReal: t.realPath(), mount: t.mount})
	w.resMu.Unlock()
}

// followLinks walks the symlinked directories collected by the walk, one
// link at a time in sorted order so that which path reaches a directory
// first does not depend on timing; links found there are followed in the
// next round.
func (w *walker) followLinks() {
	for len(w.links) > 0 && w.ctx.Err() == nil {
		round := w.links
		w.links = nil
		slices.SortFunc(round, func(a, b linkTask) int { return strings.Compare(a.path, b.path) })
		for _, l := range round {
			if w.ctx.Err() != nil {
				return
			}
			real, err := realPath(w.fsys, l.path)
			if err != nil {
				w.unreadable.add(gapUnreadable, l.path, errText(err))
				continue
			}
			switch {
			case real == l.parentReal || isUnder(l.parentReal, real):
				w.skipped.add(gapLoop, l.path, gapLoop+": points to its ancestor "+real)
				continue
			case w.visited[real]:
				w.skipped.add(gapDuplicate, l.path, gapDuplicate+" as "+real)
				continue
			}
			if pat := w.excludedBy(real, filepath.Base(real)); pat != "" {
				w.skipped.add(gapExcluded, l.path, gapExcluded+" by "+pat+" as "+real)
				continue
			}
			m, known := w.mountOf(real)
			if known && IsPseudoFS(m.FSType) {
				w.skipped.add(gapPseudoFS, l.path, gapPseudoFS+" "+m.FSType)
				continue
			}
			if known && w.opts.OneFileSystem && m.ID != l.mount {
				w.skipped.add(gapOtherFS, l.path, gapOtherFS+" "+m.FSType+" "+m.Source)
				continue
			}
			w.runPool([]dirTask{{path: l.path, real: real, mount: l.mount, root: real}})
		}
	}
}

// markVisited records a real path as read and reports whether it is new.
func (w *walker) markVisited(real string) bool {
	w.resMu.Lock()
	defer w.resMu.Unlock()
	if w.visited[real] {
		return false
	}
	w.visited[real] = true
	return true
}

func (w *walker) addHome(h Home) {
	w.resMu.Lock()
	defer w.resMu.Unlock()
	w.homes[h.Path] = h
}

// excludedBy returns the first exclude pattern matching the directory p
// (slash-separated) or its base name, or "".
func (w *walker) excludedBy(p, name string) string {
	for _, pat := range w.opts.Exclude {
		if ok, _ := path.Match(pat, name); ok {
			return pat
		}
		if ok, _ := path.Match(pat, filepath.ToSlash(p)); ok {
			return pat
		}
	}
	return ""
}

// openDirFlags are the flags directories are opened with. On Linux,
// os.Open of a file it does not know to be non-blocking spends four fcntl
// calls setting O_NONBLOCK and clearing it again around its (failing) attempt
// to register the descriptor with the poller; opening with O_NONBLOCK skips
// them, which is a third of the system calls per directory. A directory read
// is not affected by the flag.
var openDirFlags = func() int {
	if runtime.GOOS == "linux" {
		return os.O_RDONLY | syscall.O_NONBLOCK
	}
	return os.O_RDONLY
}()

// openDir opens a directory for reading through fsys.
func openDir(fsys afero.Fs, name string) (afero.File, error) {
	if openDirFlags == os.O_RDONLY {
		return fsys.Open(name)
	}
	return fsys.OpenFile(name, openDirFlags, 0)
}

// readDirFunc returns a function that reads the next batch of entries of
// the directory f, calls handle for each, and returns io.EOF at the end.
// *os.File (afero.OsFs) has ReadDir, which takes each entry's type from the
// directory itself (d_type) instead of an lstat per entry: that is most of
// the speed of find and fd. Other filesystems fall back to Readdir.
func readDirFunc(f afero.File) func(handle func(string, fs.FileMode)) error {
	type dirEntryReader interface {
		ReadDir(n int) ([]fs.DirEntry, error)
	}
	if bp, ok := f.(*afero.BasePathFile); ok {
		f = bp.File // --sysroot: the *os.File is inside
	}
	if rd, ok := f.(dirEntryReader); ok {
		return func(handle func(string, fs.FileMode)) error {
			entries, err := rd.ReadDir(readBatch)
			for _, e := range entries {
				handle(e.Name(), e.Type())
			}
			// (*os.File).ReadDir returns fewer entries than asked only
			// at the end: stopping here saves a getdents call per
			// directory that would only say "no more".
			if err == nil && len(entries) < readBatch {
				err = io.EOF
			}
			return err
		}
	}
	return func(handle func(string, fs.FileMode)) error {
		infos, err := f.Readdir(readBatch)
		for _, fi := range infos {
			handle(fi.Name(), fi.Mode().Type())
		}
		if err == nil && len(infos) == 0 {
			err = io.EOF
		}
		return err
	}
}

// joinPath joins a directory and an entry name without the cost of
// filepath.Join's Clean: both are already clean.
func joinPath(dir, name string) string {
	if strings.HasSuffix(dir, string(filepath.Separator)) {
		return dir + name
	}
	return dir + string(filepath.Separator) + name
}

// isUnder reports whether p is strictly inside dir.
func isUnder(p, dir string) bool {
	if dir == string(filepath.Separator) || strings.HasSuffix(dir, string(filepath.Separator)) {
		return strings.HasPrefix(p, dir) && p != dir
	}
	return strings.HasPrefix(p, dir+string(filepath.Separator))
}

// errText is an error's text without the path, which the gap already has.
func errText(err error) string {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Op + ": " + pe.Err.Error()
	}
	return err.Error()
}

// realPath resolves every symlink in the absolute path p through fsys, the
// way filepath.EvalSymlinks does on the real disk. A filesystem without
// symlinks (MemMapFs) just gets p cleaned.
func realPath(fsys afero.Fs, p string) (string, error) {
	lst, ok1 := fsys.(afero.Lstater)
	rl, ok2 := fsys.(afero.LinkReader)
	p = filepath.Clean(p)
	if !ok1 || !ok2 {
		if _, err := fsys.Stat(p); err != nil {
			return "", err
		}
		return p, nil
	}
	const maxLinks = 255
	sep := string(filepath.Separator)
	vol := filepath.VolumeName(p)
	resolved := vol + sep
	todo := strings.Split(strings.TrimPrefix(p[len(vol):], sep), sep)
	links := 0
	for len(todo) > 0 {
		c := todo[0]
		todo = todo[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			resolved = filepath.Dir(resolved)
			continue
		}
		next := joinPath(resolved, c)
		fi, _, err := lst.LstatIfPossible(next)
		if err != nil {
			return "", err
		}
		if fi.Mode()&fs.ModeSymlink == 0 {
			resolved = next
			continue
		}
		if links++; links > maxLinks {
			return "", &fs.PathError{Op: "resolve", Path: p, Err: errors.New("too many levels of symbolic links")}
		}
		target, err := rl.ReadlinkIfPossible(next)
		if err != nil {
			return "", err
		}
		if filepath.IsAbs(target) {
			if v := filepath.VolumeName(target); v != "" {
				vol = v
			}
			resolved = vol + sep
			target = target[len(filepath.VolumeName(target)):]
		}
		todo = append(strings.Split(target, sep), todo...)
	}
	if _, err := fsys.Stat(resolved); err != nil {
		return "", err
	}
	return resolved, nil
}

// gapSet collects gaps of several kinds, keeping at most limit entries per
// kind: those with the smallest paths, so the result does not depend on the
// order the gaps were met in. It is safe for concurrent use.
type gapSet struct {
	mu     sync.Mutex
	limit  int
	kinds  map[string][]Gap // each sorted by Path
	extras map[string]int   // how many were left out, per kind
}

func (s *gapSet) add(kind, p, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kinds == nil {
		s.kinds = map[string][]Gap{}
		s.extras = map[string]int{}
	}
	gaps := s.kinds[kind]
	i, _ := slices.BinarySearchFunc(gaps, p, func(g Gap, p string) int { return strings.Compare(g.Path, p) })
	if len(gaps) >= s.limit {
		s.extras[kind]++
		if i >= len(gaps) {
			return
		}
		gaps = gaps[:len(gaps)-1]
	}
	s.kinds[kind] = slices.Insert(gaps, i, Gap{Path: p, Reason: reason})
}

// list returns the gaps sorted by path, then one "N more not listed" gap per
// kind that overflowed, by kind.
func (s *gapSet) list() []Gap {
	s.mu.Lock()
	defer s.mu.Unlock()
	var all []Gap
	for _, gaps := range s.kinds {
		all = append(all, gaps...)
	}
	slices.SortFunc(all, func(a, b Gap) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		return strings.Compare(a.Reason, b.Reason)
	})
	kinds := make([]string, 0, len(s.extras))
	for k := range s.extras {
		kinds = append(kinds, k)
	}
	slices.Sort(kinds)
	for _, k := range kinds {
		all = append(all, Gap{Reason: fmt.Sprintf("%d more not listed: %s", s.extras[k], k)})
	}
	return all
}
