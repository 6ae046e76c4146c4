package backup

// This file reads a release archive entry by entry and decides, before a
// single byte lands on the disk, whether each entry may be written at all.
//
// mholt/archives hands entry names through raw (no zip-slip protection) and
// Go's archive/tar and archive/zip accept "../x" and "/etc/x" by default
// (tarinsecurepath=1), so every rule below is ours: lexical checks with
// fs.ValidPath and filepath.IsLocal, a model of the symlinks the archive has
// created so far, and byte and entry budgets counted on the data actually
// read. Writing then goes through os.Root, which refuses at the syscall level
// anything that would still escape the staging directory.

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/mholt/archives"
)

// Errors that callers of the unpack API may branch on.
var (
	// ErrUnsafeArchive marks an entry that could write outside the home or
	// create something that is not a plain file, directory or inward symlink.
	ErrUnsafeArchive = errors.New("unsafe archive")
	// ErrArchiveLayout marks an archive without exactly one top folder.
	ErrArchiveLayout = errors.New("archive must hold exactly one top folder")
	// ErrNotRelease marks an archive that holds no Gateway version jar.
	ErrNotRelease = errors.New("not a Gateway release")
	// ErrTooLarge marks an archive whose content exceeds the byte or entry budget.
	ErrTooLarge = errors.New("archive too large")
	// ErrArchiveChanged marks an archive whose content differs from the plan
	// made from it.
	ErrArchiveChanged = errors.New("archive changed since it was planned")
)

// DefaultMaxBytes is the default budget of bytes written by an unpack: a
// Gateway release is a few hundred MB at most, a decompression bomb is not.
const DefaultMaxBytes int64 = 4 << 30

// DefaultMaxEntries is the default budget of entries (an inode bomb is as bad
// as a byte bomb).
const DefaultMaxEntries = 200_000

// Kinds of release entries, as they appear in plans (JSON).
const (
	kindFile    = "file"
	kindDir     = "dir"
	kindSymlink = "symlink"
)

// releaseEntry is one admitted archive entry, named relative to the home
// (the archive's top folder stripped).
type releaseEntry struct {
	Path string // slash-separated, local
	Kind string // kindFile, kindDir or kindSymlink
	Mode fs.FileMode
	Link string // symlink target

	sizeHint int64 // the size the header claims (not trusted: the data is counted)
}

// entryGuard admits the entries of one archive, in archive order. It
// remembers every path created so far (explicitly or as an implied parent
// directory) and every symlink, which is what the "symlink, then a file
// through it" attacks (mholt/archiver#69, tauri#2369) need to be caught.
type entryGuard struct {
	top        string
	kinds      map[string]string // path -> kind; "implied" for parents never listed
	links      map[string]string // symlink path -> target
	entries    int
	bytes      int64
	maxBytes   int64
	maxEntries int
}

const kindImplied = "implied"

func newEntryGuard(maxBytes int64, maxEntries int) *entryGuard {
	if maxBytes <= 0 {
		maxBytes = DefaultMaxBytes
	}
	if maxEntries <= 0 {
		maxEntries = DefaultMaxEntries
	}
	return &entryGuard{
		kinds:      map[string]string{},
		links:      map[string]string{},
		maxBytes:   maxBytes,
		maxEntries: maxEntries,
	}
}

func unsafeEntry(name, why string) error {
	return fmt.Errorf("%w: entry %q %s", ErrUnsafeArchive, name, why)
}

// admit checks one entry and returns it relative to the home, or nil for the
// top folder itself.
func (g *entryGuard) admit(info archives.FileInfo) (*releaseEntry, error) {
	name := info.NameInArchive
	g.entries++
	if g.entries > g.maxEntries {
		return nil, fmt.Errorf("%w: more than %d entries", ErrTooLarge, g.maxEntries)
	}
	kind, err := entryKind(info)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(name, "\x00\\") {
		return nil, unsafeEntry(name, "has a NUL or backslash in its name")
	}
	if strings.HasPrefix(name, "/") || filepath.IsAbs(name) {
		return nil, unsafeEntry(name, "has an absolute name")
	}
	clean := strings.TrimRight(name, "/")
	for strings.HasPrefix(clean, "./") {
		clean = clean[2:]
	}
	if clean == "" || clean == "." {
		return nil, fmt.Errorf("%w: entry %q is the archive root, not a top folder", ErrArchiveLayout, name)
	}
	if !fs.ValidPath(clean) || !filepath.IsLocal(filepath.FromSlash(clean)) {
		return nil, unsafeEntry(name, "is not a local path")
	}
	top, rel, _ := strings.Cut(clean, "/")
	switch {
	case g.top == "":
		g.top = top
	case g.top != top:
		return nil, fmt.Errorf("%w: found %q and %q", ErrArchiveLayout, g.top, top)
	}
	if rel == "" {
		if kind != kindDir {
			return nil, fmt.Errorf("%w: %q is not a folder", ErrArchiveLayout, name)
		}
		return nil, nil
	}
	if rel == ShippedName {
		return nil, unsafeEntry(name, "would overwrite gwup's own record "+ShippedName)
	}

	if prev, ok := g.kinds[rel]; ok && !(prev == kindImplied && kind == kindDir) {
		if prev == kindImplied {
			return nil, unsafeEntry(name, "replaces a directory that earlier entries were written into")
		}
		return nil, unsafeEntry(name, "is a duplicate entry")
	}
parents:
	for dir := path.Dir(rel); dir != "."; dir = path.Dir(dir) {
		switch g.kinds[dir] {
		case kindSymlink:
			return nil, unsafeEntry(name, "lies beneath the symlink "+dir)
		case kindFile:
			return nil, unsafeEntry(name, "lies beneath the file "+dir)
		case "":
			g.kinds[dir] = kindImplied
			continue
		}
		break parents // a known directory: its parents were checked when it was added
	}

	e := &releaseEntry{Path: rel, Kind: kind, Mode: info.Mode().Perm(), sizeHint: max(0, min(info.Size(), g.maxBytes))}
	if kind == kindSymlink {
		target := info.LinkTarget
		switch {
		case target == "" || strings.ContainsAny(target, "\x00\\"):
			return nil, unsafeEntry(name, "has an empty or malformed link target")
		case strings.HasPrefix(target, "/") || filepath.IsAbs(target):
			return nil, unsafeEntry(name, "links to the absolute path "+target)
		case !pathStaysInside(path.Join(path.Dir(rel), target)):
			return nil, unsafeEntry(name, "links out of the home: "+target)
		}
		e.Link = target
		g.links[rel] = target
	}
	g.kinds[rel] = kind
	return e, nil
}

// finish runs the checks that need the whole archive: a symlink admitted
// early may only escape through a symlink admitted later.
func (g *entryGuard) finish() error {
	if g.top == "" {
		return fmt.Errorf("%w: the archive is empty", ErrArchiveLayout)
	}
	for link := range g.links {
		if !linkStaysInside(g.links, link) {
			return unsafeEntry(g.top+"/"+link, "links out of the home through other links")
		}
	}
	return nil
}

// count charges n bytes of entry data against the budget.
func (g *entryGuard) count(n int64) error {
	g.bytes += n
	if g.bytes > g.maxBytes {
		return fmt.Errorf("%w: more than %d bytes of content", ErrTooLarge, g.maxBytes)
	}
	return nil
}

// pathStaysInside reports whether a cleaned slash path stays within its root.
func pathStaysInside(p string) bool {
	return p != ".." && !strings.HasPrefix(p, "../") && !strings.HasPrefix(p, "/")
}

// linkStaysInside follows a symlink of the archive the way the kernel would,
// through the other symlinks of the archive, and reports whether the walk
// ever climbs above the home: "sub/b -> .." is harmless alone, but turns
// "a -> sub/b/../x" into an escape that a lexical check cannot see.
func linkStaysInside(links map[string]string, link string) bool {
	var stack []string
	if dir := path.Dir(link); dir != "." {
		stack = strings.Split(dir, "/")
	}
	pending := strings.Split(links[link], "/")
	for hops := 0; len(pending) > 0; {
		c := pending[0]
		pending = pending[1:]
		switch c {
		case "", ".":
			continue
		case "..":
			if len(stack) == 0 {
				return false
			}
			stack = stack[:len(stack)-1]
			continue
		}
		stack = append(stack, c)
		target, isLink := links[strings.Join(stack, "/")]
		if !isLink {
			continue
		}
		if hops++; hops > 255 || strings.HasPrefix(target, "/") {
			return false // a loop, or absolute (already refused at admission)
		}
		stack = stack[:len(stack)-1]
		pending = append(strings.Split(target, "/"), pending...)
	}
	return true
}

// entryKind classifies an entry, refusing hard links (a release never needs
// them, and a hard link to a file outside the archive's tree would let later
// writes through it escape), device nodes, FIFOs and anything exotic.
func entryKind(info archives.FileInfo) (string, error) {
	if hdr, ok := info.Header.(*tar.Header); ok {
		switch hdr.Typeflag {
		case tar.TypeReg, '\x00':
			return kindFile, nil
		case tar.TypeDir:
			return kindDir, nil
		case tar.TypeSymlink:
			return kindSymlink, nil
		case tar.TypeLink:
			return "", unsafeEntry(info.NameInArchive, "is a hard link (to "+hdr.Linkname+"); hard links are refused")
		case tar.TypeChar, tar.TypeBlock:
			return "", unsafeEntry(info.NameInArchive, "is a device node")
		case tar.TypeFifo:
			return "", unsafeEntry(info.NameInArchive, "is a FIFO")
		default:
			return "", unsafeEntry(info.NameInArchive, fmt.Sprintf("has the unsupported tar type %q", hdr.Typeflag))
		}
	}
	mode := info.Mode()
	switch {
	case mode.IsRegular():
		return kindFile, nil
	case mode.IsDir():
		return kindDir, nil
	case mode&fs.ModeSymlink != 0:
		return kindSymlink, nil
	case mode&fs.ModeDevice != 0:
		return "", unsafeEntry(info.NameInArchive, "is a device node")
	case mode&fs.ModeNamedPipe != 0:
		return "", unsafeEntry(info.NameInArchive, "is a FIFO")
	default:
		return "", unsafeEntry(info.NameInArchive, "is neither a file, a directory nor a symlink ("+mode.Type().String()+")")
	}
}

// releaseReader reads one release archive.
type releaseReader struct {
	file       string
	maxBytes   int64
	maxEntries int
}

// archiveFacts is what a full pass over an archive learns besides entries.
type archiveFacts struct {
	Format    string // extension of the identified format, e.g. ".tar.gz"
	TopFolder string
}

// walk identifies the archive by content, then visits every admitted entry
// in archive order. For files, r yields the entry's bytes (counted against
// the budget); visit need not read it. The archive is refused as a whole at
// the first unsafe entry.
func (rr releaseReader) walk(ctx context.Context, visit func(e *releaseEntry, r io.Reader) error) (archiveFacts, error) {
	var facts archiveFacts
	f, err := os.Open(rr.file)
	if err != nil {
		return facts, fmt.Errorf("open archive: %w", err)
	}
	defer f.Close()
	var size int64
	if st, err := f.Stat(); err == nil {
		size = st.Size()
	}
	// The name is not trusted: mholt/archives v0.1.5 matches names by
	// substring ("notes.gzip.txt" is a Gz), so identify by content only.
	format, stream, err := archives.Identify(ctx, "", f)
	if err != nil {
		if errors.Is(err, archives.NoMatch) {
			return facts, fmt.Errorf("identify %s: not a known archive format", rr.file)
		}
		return facts, fmt.Errorf("identify %s: %w", rr.file, err)
	}
	facts.Format = format.Extension()
	var ex archives.Extractor
	switch v := format.(type) {
	case archives.CompressedArchive:
		if v.Extraction == nil {
			return facts, fmt.Errorf("identify %s: %s is compressed but holds no archive", rr.file, facts.Format)
		}
		if gz, ok := v.Compression.(archives.Gz); ok && size >= 8<<20 {
			// pgzip decompresses ahead in its own goroutine, so hashing and
			// writing overlap with inflating on a second core. It costs
			// some 16 MB of buffers to start: not worth it for small ones.
			gz.Multithreaded = true
			v.Compression = gz
		}
		// Decompress here rather than through CompressedArchive.Extract,
		// so the tar stream itself can be watched for its end marker.
		rc, err := v.Compression.OpenReader(stream)
		if err != nil {
			return facts, fmt.Errorf("decompress %s: %w", rr.file, err)
		}
		defer rc.Close()
		stream, ex = rc, v.Extraction
	case archives.Extractor:
		ex = v
	default:
		return facts, fmt.Errorf("identify %s: %s is not an archive", rr.file, facts.Format)
	}
	var tail *tailReader
	if _, isTar := ex.(archives.Tar); isTar {
		tail = &tailReader{r: stream}
		stream = tail
	}

	guard := newEntryGuard(rr.maxBytes, rr.maxEntries)
	// ContinueOnError stays false: with it, a corrupt tar loops forever.
	err = extractWithoutPanics(ctx, ex, stream, func(ctx context.Context, info archives.FileInfo) error {
		e, err := guard.admit(info)
		if err != nil || e == nil {
			return err
		}
		if e.Kind != kindFile {
			return visit(e, nil)
		}
		rc, err := info.Open()
		if err != nil {
			return fmt.Errorf("read %s: %w", info.NameInArchive, err)
		}
		defer rc.Close()
		return visit(e, &countingReader{r: rc, guard: guard})
	})
	facts.TopFolder = guard.top
	if err != nil {
		return facts, fmt.Errorf("read archive %s: %w", rr.file, err)
	}
	if tail != nil && !tail.endsWithZeroBlocks() {
		// archive/tar reads a tar cut at an entry boundary as a complete,
		// shorter one; GNU tar would warn. A release missing its last
		// files is not one to unpack.
		return facts, fmt.Errorf("read archive %s: %w (no end-of-archive marker)", rr.file, io.ErrUnexpectedEOF)
	}
	if err := guard.finish(); err != nil {
		return facts, fmt.Errorf("read archive %s: %w", rr.file, err)
	}
	return facts, nil
}

// tailReader remembers the last 1 KiB read through it: a complete tar
// stream ends with two 512-byte blocks of zeros.
type tailReader struct {
	r    io.Reader
	last [1024]byte
	n    int64
}

func (t *tailReader) Read(p []byte) (int, error) {
	n, err := t.r.Read(p)
	if n >= len(t.last) {
		copy(t.last[:], p[n-len(t.last):n])
	} else if n > 0 {
		copy(t.last[:], t.last[n:])
		copy(t.last[len(t.last)-n:], p[:n])
	}
	t.n += int64(n)
	return n, err
}

func (t *tailReader) endsWithZeroBlocks() bool {
	return t.n >= int64(len(t.last)) && t.last == [1024]byte{}
}

// ErrCorruptArchive marks an archive the archive libraries could not read
// without crashing.
var ErrCorruptArchive = errors.New("corrupt archive")

// extractWithoutPanics runs ex.Extract and turns a panic into an error: the
// decoders behind mholt/archives are fed untrusted bytes, and one of them
// (a zip entry with method 95, xz, and a broken stream: the xz decoder
// returns a nil reader that klauspost/compress/zip then reads) panics.
// gwup must answer, not crash, whatever the archive holds.
func extractWithoutPanics(ctx context.Context, ex archives.Extractor, r io.Reader, handle archives.FileHandler) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%w: the decoder failed: %v", ErrCorruptArchive, p)
		}
	}()
	return ex.Extract(ctx, r, handle)
}

// countingReader charges what is read against the byte budget, so a header
// that lies about its size gains nothing.
type countingReader struct {
	r     io.Reader
	guard *entryGuard
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if cerr := c.guard.count(int64(n)); cerr != nil {
		return n, cerr
	}
	return n, err
}

// ArchiveRelease is the release held by an archive, read from the manifest
// of its version-bearing jar.
type ArchiveRelease struct {
	Version string `json:"version"`           // Implementation-Version, e.g. "5.0.1.53"
	Edition string `json:"edition,omitempty"` // Community, Enterprise, JMS, ...
	Product string `json:"product,omitempty"` // Kaazing-Product as written
	Jar     string `json:"jar"`               // the jar it was read from, relative to the home
}

// versionJarRank says which jars carry a release number, best first: the
// Enterprise server jar names the edition the Community one does not.
func versionJarRank(p string) int {
	dir, name := path.Split(p)
	if dir != "lib/" {
		return 0
	}
	switch {
	case name == "enterprise.gateway.server.jar":
		return 4
	case name == "gateway.server.jar":
		return 3
	case name == "gateway.distribution.version.jar":
		return 2
	case strings.HasPrefix(name, "com.kaazing.gateway.") && strings.HasSuffix(name, ".version.jar"):
		return 1
	}
	return 0
}

// maxJarRead caps the bytes of a version jar kept in memory.
const maxJarRead = 64 << 20

// releaseFromJar reads Implementation-Version and Kaazing-Product from a
// jar's META-INF/MANIFEST.MF.
func releaseFromJar(jarPath string, data []byte) (ArchiveRelease, bool) {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ArchiveRelease{}, false
	}
	for _, f := range zr.File {
		if !strings.EqualFold(f.Name, "META-INF/MANIFEST.MF") {
			continue
		}
		rc, err := f.Open()
		if err != nil {
			return ArchiveRelease{}, false
		}
		attrs := manifestMainAttributes(io.LimitReader(rc, 1<<20))
		rc.Close()
		rel := ArchiveRelease{
			Version: attrs["Implementation-Version"],
			Product: attrs["Kaazing-Product"],
			Jar:     jarPath,
		}
		rel.Edition = editionOf(rel.Product, attrs["Implementation-Title"])
		return rel, rel.Version != ""
	}
	return ArchiveRelease{}, false
}

// manifestMainAttributes parses the main section of a MANIFEST.MF:
// "Name: value" lines, a line starting with one space continuing the
// previous value, ending at the first blank line.
func manifestMainAttributes(r io.Reader) map[string]string {
	attrs := map[string]string{}
	data, _ := io.ReadAll(r)
	// Lines end in CR LF, LF or CR (JAR File Specification).
	text := strings.ReplaceAll(strings.ReplaceAll(string(data), "\r\n", "\n"), "\r", "\n")
	last := ""
	for line := range strings.Lines(text) {
		line = strings.TrimSuffix(line, "\n")
		if line == "" {
			break
		}
		if strings.HasPrefix(line, " ") && last != "" {
			attrs[last] += line[1:]
			continue
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(name)
		attrs[last] = strings.TrimSpace(value)
	}
	return attrs
}

func editionOf(product, title string) string {
	switch strings.ToLower(product) {
	case "enterprise.gateway":
		return "Enterprise"
	case "community.gateway":
		return "Community"
	case "jms":
		return "JMS"
	case "html5":
		return "HTML5"
	}
	if _, edition, ok := strings.Cut(title, " - "); ok {
		return strings.TrimSuffix(edition, " Edition")
	}
	return ""
}

// hashingCopy copies r to w (w may be nil) and returns the hex sha256 and
// the number of bytes.
func hashingCopy(w io.Writer, r io.Reader, buf []byte) (string, int64, error) {
	h := sha256.New()
	dst := io.Writer(h)
	if w != nil {
		dst = io.MultiWriter(w, h)
	}
	n, err := io.CopyBuffer(dst, r, buf)
	return hex.EncodeToString(h.Sum(nil)), n, err
}
