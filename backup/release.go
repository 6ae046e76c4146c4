package backup

// release.go reads a release archive (the one an install came from, or the
// one it is about to be upgraded to) into a [Shipped] list, so that
// selection can compare a home against it file by file.
//
//	rel, err := backup.ReadRelease(ctx, fsys, "/srv/kaazing-gateway-5.6.2.tar.gz")
//
// The format is identified by content, never by name (.tar.gz, .zip,
// .tar.zst, plain .tar all work). The archive must hold exactly one top
// folder, which is stripped; any entry whose name is not local (absolute,
// "..") is refused with its name, since such an archive cannot be what an
// operator meant to install.

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/mholt/archives"
	"github.com/spf13/afero"
)

// ErrNotArchive is returned when a file is not an archive gwup can read.
var ErrNotArchive = errors.New("not a tar, tar.gz, tar.zst or zip archive")

// errCorruptStart marks an archive whose first bytes could not even be
// decoded while identifying it (a damaged compressed stream).
var errCorruptStart = errors.New("damaged at the start")

// openArchive opens name and identifies its format by content. The caller
// closes the returned file and extracts from the returned reader (Identify
// may have consumed part of the file).
func openArchive(ctx context.Context, fsys afero.Fs, name string) (afero.File, archives.Extractor, io.Reader, error) {
	f, err := fsys.Open(name)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("open archive %s: %w", name, err)
	}
	// An empty name: identification by content only (archives matches
	// names by substring, see go-style.md).
	format, r, err := archives.Identify(ctx, "", guardedFile{f})
	if err != nil {
		f.Close()
		if errors.Is(err, archives.NoMatch) {
			return nil, nil, nil, fmt.Errorf("open archive %s: %w", name, ErrNotArchive)
		}
		return nil, nil, nil, fmt.Errorf("open archive %s: %w: %w", name, errCorruptStart, err)
	}
	ex, ok := format.(archives.Extractor)
	if _, compressed := format.(archives.Compression); !ok && compressed {
		f.Close()
		return nil, nil, nil, fmt.Errorf("open archive %s: %w: compressed stream without a readable archive inside (truncated or damaged?)", name, errCorruptStart)
	}
	if !ok {
		f.Close()
		return nil, nil, nil, fmt.Errorf("open archive %s: %w", name, ErrNotArchive)
	}
	if c, ok := format.(archives.CompressedArchive); ok {
		if c.Extraction == nil || c.Compression == nil {
			f.Close()
			return nil, nil, nil, fmt.Errorf("open archive %s: compressed, but no archive inside: %w", name, ErrNotArchive)
		}
		if _, ok := c.Compression.(archives.Gz); ok {
			// pgzip decompresses ahead in its own goroutine, so verifying a
			// big archive runs about as fast as writing it; its buffers are
			// not worth it for small ones.
			if fi, err := f.Stat(); err == nil && fi.Size() > 4<<20 {
				c.Compression = archives.Gz{Multithreaded: true}
			}
		}
		ex = wholeStream{c}
	}
	return f, ex, r, nil
}

// wholeStream extracts a compressed archive and then reads the compressed
// stream to its end. A tar reader stops at the end-of-archive blocks, so
// without this a truncated or damaged gzip trailer (its CRC) or zstd
// checksum would go unnoticed.
type wholeStream struct{ c archives.CompressedArchive }

func (w wholeStream) Extract(ctx context.Context, r io.Reader, handle archives.FileHandler) error {
	rc, err := w.c.Compression.OpenReader(r)
	if err != nil {
		return err
	}
	defer rc.Close()
	stopped := false
	err = w.c.Extraction.Extract(ctx, rc, func(ctx context.Context, fi archives.FileInfo) error {
		err := handle(ctx, fi)
		if errors.Is(err, fs.SkipAll) {
			stopped = true
		}
		return err
	})
	if err != nil || stopped {
		return err
	}
	// struct{io.Reader} hides pgzip's WriteTo, which panics when called
	// after partial reads (klauspost/pgzip v1.2.6).
	if _, err := io.Copy(io.Discard, struct{ io.Reader }{rc}); err != nil {
		return fmt.Errorf("end of archive: %w", err)
	}
	return nil
}

// guardedFile refuses negative ReadAt offsets, which a corrupt zip can ask
// for and on which MemMapFs panics (os.File returns an error).
type guardedFile struct{ afero.File }

func (g guardedFile) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read %s at %d: negative offset", g.Name(), off)
	}
	return g.File.ReadAt(p, off)
}

// firstZipEntry returns the name in the local header at the start of a zip
// file, "" when there is none. A zip reader trusts the central directory at
// the end of the file; in a truncated zip that can be the directory of a jar
// stored inside it, which then reads as a valid archive of its own. The
// first local header tells the two apart.
func firstZipEntry(f afero.File) string {
	var hdr [30]byte
	if _, err := f.ReadAt(hdr[:], 0); err != nil || string(hdr[:4]) != "PK\x03\x04" {
		return ""
	}
	n := int(hdr[26]) | int(hdr[27])<<8
	name := make([]byte, n)
	if _, err := f.ReadAt(name, 30); err != nil {
		return ""
	}
	return string(name)
}

// cleanEntryName turns an archive entry name into a slash path without
// "./" or trailing slash, or reports it unsafe.
func cleanEntryName(name string) (string, error) {
	n := strings.TrimSuffix(name, "/")
	for strings.HasPrefix(n, "./") {
		n = n[2:]
	}
	if n == "" || n == "." {
		return "", nil
	}
	if strings.Contains(n, "\\") || !filepath.IsLocal(filepath.FromSlash(n)) || path.Clean(n) != n {
		return "", fmt.Errorf("entry %q: unsafe name", name)
	}
	return n, nil
}

// versionJars are the jars whose MANIFEST.MF carries the release, best
// first (kaazing-facts.md 2.4).
var versionJars = []string{
	"lib/enterprise.gateway.server.jar",
	"lib/gateway.server.jar",
	"lib/com.kaazing.gateway.jms.assembly.version.jar",
	"lib/gateway.distribution.version.jar",
}

// ReadRelease lists the files of the release archive file (files and
// symlinks; directories are left out) with their size, mode, sha256 and link
// target, paths relative to the archive's single top folder. Release is read
// from the Implementation-Version of the version-bearing jar when present.
func ReadRelease(ctx context.Context, fsys afero.Fs, file string) (Shipped, error) {
	f, ex, r, err := openArchive(ctx, fsys, file)
	if err != nil {
		return Shipped{}, fmt.Errorf("read release: %w", err)
	}
	defer f.Close()

	rel := Shipped{Schema: ShippedSchema, Archive: file}
	top := ""
	versions := map[string]string{}
	err = extractWithoutPanics(ctx, ex, r, func(ctx context.Context, fi archives.FileInfo) error {
		name, err := cleanEntryName(fi.NameInArchive)
		if err != nil {
			return err
		}
		if name == "" {
			return nil
		}
		first, rest, _ := strings.Cut(name, "/")
		if top == "" {
			top = first
		} else if first != top {
			return fmt.Errorf("entry %q: more than one top folder (%s and %s)", fi.NameInArchive, top, first)
		}
		if rest == "" {
			if !fi.IsDir() {
				return fmt.Errorf("entry %q: file at the top, no single top folder", fi.NameInArchive)
			}
			return nil
		}
		if fi.IsDir() {
			return nil
		}
		sf := ShippedFile{Path: rest, Size: fi.Size(), Mode: uint32(fi.Mode())}
		switch {
		case fi.LinkTarget != "":
			sf.Link = fi.LinkTarget
			sf.Size = 0
		case fi.Mode().IsRegular():
			rc, err := fi.Open()
			if err != nil {
				return fmt.Errorf("entry %q: %w", fi.NameInArchive, err)
			}
			defer rc.Close()
			h := sha256.New()
			var jar bytes.Buffer
			w := io.Writer(h)
			if isVersionJar(rest) && fi.Size() < 1<<20 {
				w = io.MultiWriter(h, &jar)
			}
			n, err := io.Copy(w, rc)
			if err != nil {
				return fmt.Errorf("entry %q: %w", fi.NameInArchive, err)
			}
			sf.Size = n
			sf.SHA256 = hex.EncodeToString(h.Sum(nil))
			if jar.Len() > 0 {
				if v := jarVersion(jar.Bytes()); v != "" {
					versions[rest] = v
				}
			}
		default:
			return nil // devices, fifos: not part of a release
		}
		rel.Files = append(rel.Files, sf)
		return nil
	})
	if err != nil {
		return Shipped{}, fmt.Errorf("read release %s: %w", file, err)
	}
	if top == "" {
		return Shipped{}, fmt.Errorf("read release %s: empty archive, no top folder", file)
	}
	for _, j := range versionJars {
		if v, ok := versions[j]; ok {
			rel.Release = v
			break
		}
	}
	sort.Slice(rel.Files, func(i, j int) bool { return rel.Files[i].Path < rel.Files[j].Path })
	return rel, nil
}

func isVersionJar(p string) bool {
	for _, j := range versionJars {
		if p == j {
			return true
		}
	}
	return false
}

// jarVersion returns the Implementation-Version of a jar's MANIFEST.MF, ""
// when there is none or the jar cannot be read.
func jarVersion(data []byte) string {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return ""
	}
	mf, err := zr.Open("META-INF/MANIFEST.MF")
	if err != nil {
		return ""
	}
	defer mf.Close()
	sc := bufio.NewScanner(io.LimitReader(mf, 64<<10))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(strings.TrimRight(sc.Text(), "\r"), "Implementation-Version:"); ok {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

// shippedIndex maps a Shipped list by path.
func shippedIndex(s *Shipped) map[string]ShippedFile {
	m := make(map[string]ShippedFile, len(s.Files))
	for _, f := range s.Files {
		if fs.FileMode(f.Mode).IsDir() {
			continue
		}
		m[f.Path] = f
	}
	return m
}
