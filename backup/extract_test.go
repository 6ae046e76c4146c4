package backup

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/mholt/archives"
)

const evilTop = "kaazing-gateway-community-5.0.1/"

// TestPlanRefusesMaliciousArchives builds each classic attack in tar,
// tar.gz and zip: the archive is refused as a whole, and nothing is written
// anywhere (the home, its parent, the symlink targets).
func TestPlanRefusesMaliciousArchives(t *testing.T) {
	outside := t.TempDir() // what the links aim at; must stay empty
	release := fakeRelease("5.0.1")
	tests := []struct {
		name    string
		entries []tEntry
		want    error
		noZip   bool
	}{
		{name: "dot-dot", entries: []tEntry{fileEntry(evilTop+"../x", "evil")}, want: ErrUnsafeArchive},
		{name: "dot-dot at the top", entries: []tEntry{fileEntry("../x", "evil")}, want: ErrUnsafeArchive},
		{name: "deep dot-dot", entries: []tEntry{fileEntry(evilTop+"conf/../../../x", "evil")}, want: ErrUnsafeArchive},
		{name: "absolute", entries: []tEntry{fileEntry("/tmp/abs", "evil")}, want: ErrUnsafeArchive},
		{name: "backslash", entries: []tEntry{fileEntry(evilTop+`..\..\x`, "evil")}, want: ErrUnsafeArchive},
		{name: "symlink out, absolute", entries: []tEntry{linkEntry(evilTop+"link", outside)}, want: ErrUnsafeArchive},
		{name: "symlink out, relative", entries: []tEntry{linkEntry(evilTop+"conf/link", "../../x")}, want: ErrUnsafeArchive},
		{name: "symlink to dot-dot then through it", entries: []tEntry{linkEntry(evilTop+"link", ".."), fileEntry(evilTop+"link/x", "evil")}, want: ErrUnsafeArchive},
		{name: "symlink then file through it", entries: []tEntry{linkEntry(evilTop+"link", outside), fileEntry(evilTop+"link/evil", "evil")}, want: ErrUnsafeArchive},
		{name: "inward symlink then file through it", entries: []tEntry{linkEntry(evilTop+"conf/up", ".."), fileEntry(evilTop+"conf/up/x", "evil")}, want: ErrUnsafeArchive},
		{name: "inward symlink then dir through it", entries: []tEntry{linkEntry(evilTop+"web/l", "base"), dirEntry(evilTop + "web/l/d/")}, want: ErrUnsafeArchive},
		{name: "escape through a later symlink", entries: []tEntry{linkEntry(evilTop+"a", "sub/b/../x"), dirEntry(evilTop + "sub/"), linkEntry(evilTop+"sub/b", "..")}, want: ErrUnsafeArchive},
		{name: "symlink loop", entries: []tEntry{linkEntry(evilTop+"p", "q"), linkEntry(evilTop+"q", "p")}, want: ErrUnsafeArchive},
		{name: "file then symlink of the same name", entries: []tEntry{fileEntry(evilTop+"x", "a"), linkEntry(evilTop+"x", outside)}, want: ErrUnsafeArchive},
		{name: "dir replaced by a symlink", entries: []tEntry{fileEntry(evilTop+"d/x", "a"), linkEntry(evilTop+"d", "..")}, want: ErrUnsafeArchive},
		{name: "hardlink out", entries: []tEntry{{Name: evilTop + "h", Type: tar.TypeLink, Link: "/etc/passwd"}}, want: ErrUnsafeArchive, noZip: true},
		{name: "hardlink in", entries: []tEntry{{Name: evilTop + "h", Type: tar.TypeLink, Link: evilTop + "README.txt"}}, want: ErrUnsafeArchive, noZip: true},
		{name: "device node", entries: []tEntry{{Name: evilTop + "dev", Type: tar.TypeChar, Mode: 0o666}}, want: ErrUnsafeArchive},
		{name: "fifo", entries: []tEntry{{Name: evilTop + "fifo", Type: tar.TypeFifo, Mode: 0o666}}, want: ErrUnsafeArchive},
		{name: "duplicate entry", entries: []tEntry{fileEntry(evilTop+"README.txt", "again")}, want: ErrUnsafeArchive},
		{name: "overwrites the shipped record", entries: []tEntry{fileEntry(evilTop+ShippedName, "{}")}, want: ErrUnsafeArchive},
		{name: "size bomb", entries: []tEntry{fileEntry(evilTop+"bomb", strings.Repeat("\x00", 2<<20))}, want: ErrTooLarge},
		{name: "two top folders", entries: []tEntry{fileEntry("other-5.0.1/x", "a")}, want: ErrArchiveLayout},
		{name: "a file at the top", entries: []tEntry{fileEntry("README", "a")}, want: ErrArchiveLayout},
	}
	for _, tt := range tests {
		for _, format := range []string{"tar", "tar.gz", "zip"} {
			if format == "zip" && tt.noZip {
				continue
			}
			t.Run(tt.name+"/"+format, func(t *testing.T) {
				fx := newInstalledHome(t)
				entries := append(slices.Clone(release), tt.entries...)
				var data []byte
				switch format {
				case "tar":
					data = writeTar(t, entries, false)
				case "tar.gz":
					data = writeTar(t, entries, true)
				case "zip":
					data = writeZip(t, entries)
				}
				archive := writeArchive(t, filepath.Dir(fx.parent), "evil."+format, data)
				before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
				_, err := PlanUnpack(t.Context(), archive, fx.home, UnpackOptions{MaxBytes: 1 << 20})
				if !errors.Is(err, tt.want) {
					t.Fatalf("got %v, want %v", err, tt.want)
				}
				unchangedAfter(t, fx, before, parentBefore)
				if names := listDir(t, outside); len(names) != 0 {
					t.Errorf("written outside: %v", names)
				}
			})
		}
	}
}

func TestPlanRefusesBrokenArchives(t *testing.T) {
	good := writeTar(t, fakeRelease("5.0.1"), true)
	// A tar of the first entries without its end marker (two zero blocks,
	// the last 1 KiB Close writes) is what a tar cut at an entry boundary is.
	cut := writeTar(t, fakeRelease("5.0.1")[:12], false)
	cut = cut[:len(cut)-1024]
	noJar := writeTar(t, []tEntry{dirEntry(evilTop), fileEntry(evilTop+"README.txt", "hello")}, true)
	tests := []struct {
		name string
		data []byte
		want string
		is   error
	}{
		{name: "truncated tar.gz", data: good[:len(good)/2], want: "unexpected EOF"},
		{name: "truncated tar", data: writeTar(t, fakeRelease("5.0.1"), false)[:3000], want: "EOF"},
		{name: "tar cut at an entry boundary", data: cut, want: "end-of-archive marker"},
		{name: "tar.gz cut at an entry boundary", data: gzipOf(t, string(cut)), want: "end-of-archive marker"},
		{name: "not an archive", data: []byte("just some text, not an archive at all"), want: "not a known archive format"},
		{name: "gzip of no tar", data: gzipOf(t, "hello"), want: "archive"},
		{name: "empty tar", data: writeTar(t, nil, false), want: "not a known archive format"},
		{name: "zip entry with a broken xz stream", data: zipWithBrokenXZ(t), is: ErrCorruptArchive},
		{name: "only a top folder", data: writeTar(t, []tEntry{dirEntry(evilTop)}, false), is: ErrNotRelease},
		{name: "not a Gateway release", data: noJar, is: ErrNotRelease},
		{name: "a jar without a version", data: writeTar(t, []tEntry{dirEntry(evilTop), fileEntry(evilTop+"lib/gateway.server.jar", string(scantest.Jar("Implementation-Title: x")))}, false), is: ErrNotRelease},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newInstalledHome(t)
			archive := writeArchive(t, filepath.Dir(fx.parent), "broken", tt.data)
			before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
			_, err := PlanUnpack(t.Context(), archive, fx.home, UnpackOptions{})
			switch {
			case err == nil:
				t.Fatal("accepted")
			case tt.is != nil && !errors.Is(err, tt.is):
				t.Fatalf("got %v, want %v", err, tt.is)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("got %v, want %q", err, tt.want)
			}
			unchangedAfter(t, fx, before, parentBefore)
		})
	}
}

// zipWithBrokenXZ is a zip whose entry claims method 95 (xz) over bytes
// that are not xz: found by FuzzReadArchive, it made the decoders panic.
func zipWithBrokenXZ(t testing.TB) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	zw.RegisterCompressor(95, func(w io.Writer) (io.WriteCloser, error) { return nopWriteCloser{w}, nil })
	for _, e := range []struct {
		name   string
		method uint16
		body   string
	}{
		{evilTop, zip.Store, ""},
		{evilTop + "lib/gateway.server.jar", 95, "definitely not an xz stream"},
	} {
		w, err := zw.CreateHeader(&zip.FileHeader{Name: e.name, Method: e.method})
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(w, e.body)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func gzipOf(t *testing.T, s string) []byte {
	t.Helper()
	var buf bytes.Buffer
	w, err := archives.Gz{}.OpenWriter(&buf)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, s)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestStagingIsConfined checks the second line of defence on its own: even
// a path the guard would let through cannot leave the staging root.
func TestStagingIsConfined(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	staging := filepath.Join(dir, "new")
	if err := os.Mkdir(staging, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(staging, "link")); err != nil {
		t.Fatal(err)
	}
	root, err := os.OpenRoot(staging)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	for _, name := range []string{"link/evil", "../evil"} {
		if f, err := root.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644); err == nil {
			f.Close()
			t.Errorf("os.Root let %s through", name)
		}
	}
	if names := listDir(t, outside); len(names) != 0 {
		t.Errorf("written outside: %v", names)
	}
}

func TestReleaseFromArchive(t *testing.T) {
	jar := func(attrs ...string) string { return string(scantest.Jar(attrs...)) }
	tests := []struct {
		name string
		jars map[string]string
		want ArchiveRelease
	}{
		{
			name: "community 5.x",
			jars: map[string]string{"lib/gateway.server.jar": jar("Implementation-Title: Kaazing Gateway", "Implementation-Version: 5.6.2", "Kaazing-Product: Community.Gateway")},
			want: ArchiveRelease{Version: "5.6.2", Edition: "Community", Product: "Community.Gateway", Jar: "lib/gateway.server.jar"},
		},
		{
			name: "enterprise wins over the community jar it also ships",
			jars: map[string]string{
				"lib/gateway.server.jar":            jar("Implementation-Version: 5.7.3", "Kaazing-Product: Community.Gateway"),
				"lib/enterprise.gateway.server.jar": jar("Implementation-Version: 5.7.3", "Kaazing-Product: Enterprise.Gateway"),
			},
			want: ArchiveRelease{Version: "5.7.3", Edition: "Enterprise", Product: "Enterprise.Gateway", Jar: "lib/enterprise.gateway.server.jar"},
		},
		{
			name: "5.0.0 distribution jar",
			jars: map[string]string{"lib/gateway.distribution.version.jar": jar("Implementation-Title: Kaazing Gateway", "Implementation-Version: 5.0.0.15", "Kaazing-Product: Community.Gateway")},
			want: ArchiveRelease{Version: "5.0.0.15", Edition: "Community", Product: "Community.Gateway", Jar: "lib/gateway.distribution.version.jar"},
		},
		{
			name: "4.0 JMS",
			jars: map[string]string{"lib/com.kaazing.gateway.jms.assembly.version.jar": jar("Implementation-Title: Kaazing WebSocket Gateway - JMS Edition", "Implementation-Version: 4.0.7.596", "Kaazing-Product: jms")},
			want: ArchiveRelease{Version: "4.0.7.596", Edition: "JMS", Product: "jms", Jar: "lib/com.kaazing.gateway.jms.assembly.version.jar"},
		},
		{
			name: "continuation line and no product",
			jars: map[string]string{"lib/gateway.server.jar": jar("Implementation-Title: Kaazing WebSocket Gateway - HTML5 Edi", " tion", "Implementation-Version: 4.0.", " 9.383")},
			want: ArchiveRelease{Version: "4.0.9.383", Edition: "HTML5", Jar: "lib/gateway.server.jar"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			entries := []tEntry{dirEntry("kaazing-x/")}
			for _, p := range slices.Sorted(mapsKeys(tt.jars)) {
				entries = append(entries, fileEntry("kaazing-x/"+p, tt.jars[p]))
			}
			archive := writeArchive(t, t.TempDir(), "r.tar.gz", writeTar(t, entries, true))
			_, _, got, err := readReleaseEntries(t.Context(), releaseReader{file: archive}, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func mapsKeys(m map[string]string) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

func TestLinkStaysInside(t *testing.T) {
	links := map[string]string{
		"lib/current": "gateway.server.jar",
		"sub/b":       "..",
		"a":           "sub/b/../x",
		"up":          "sub/b",
		"deep/l":      "../sub/b/sub/b/lib",
		"p":           "q",
		"q":           "p",
	}
	for link, want := range map[string]bool{"lib/current": true, "sub/b": true, "a": false, "up": true, "deep/l": true, "p": false} {
		if got := linkStaysInside(links, link); got != want {
			t.Errorf("linkStaysInside(%s -> %s) = %v, want %v", link, links[link], got, want)
		}
	}
}

// FuzzEntryGuard feeds arbitrary names and link targets to the guard: it
// must never panic, and whatever it admits must be a local path that does
// not lie beneath an admitted symlink, with every admitted link staying
// inside the home.
func FuzzEntryGuard(f *testing.F) {
	f.Add("top/link", "..", "top/link/x")
	f.Add("top/a", "sub/b/../x", "top/sub/b")
	f.Add("top/l", "/etc", "top/l/passwd")
	f.Add("./top/conf/l", "../web", "top/conf/l/../x")
	f.Fuzz(func(t *testing.T, linkName, target, fileName string) {
		g := newEntryGuard(1<<20, 100)
		var admitted []*releaseEntry
		for _, info := range []archives.FileInfo{
			{FileInfo: fakeInfo{mode: 0o755 | os.ModeDir}, NameInArchive: "top/"},
			{FileInfo: fakeInfo{mode: 0o777 | os.ModeSymlink}, NameInArchive: linkName, LinkTarget: target},
			{FileInfo: fakeInfo{mode: 0o644}, NameInArchive: fileName},
			{FileInfo: fakeInfo{mode: 0o777 | os.ModeSymlink}, NameInArchive: fileName + "2", LinkTarget: target},
		} {
			e, err := g.admit(info)
			if err == nil && e != nil {
				admitted = append(admitted, e)
			}
		}
		finished := g.finish() == nil
		for _, e := range admitted {
			if !filepath.IsLocal(e.Path) || strings.Contains(e.Path, `\`) {
				t.Fatalf("admitted non-local %q", e.Path)
			}
			for _, l := range admitted {
				if l.Kind == kindSymlink && strings.HasPrefix(e.Path, l.Path+"/") {
					t.Fatalf("admitted %q beneath the symlink %q", e.Path, l.Path)
				}
			}
			if e.Kind == kindSymlink && finished && !linkStaysInside(g.links, e.Path) {
				t.Fatalf("finished with %q -> %q escaping", e.Path, e.Link)
			}
		}
	})
}

// FuzzManifest: the MANIFEST.MF parser takes any bytes without panicking.
func FuzzManifest(f *testing.F) {
	f.Add([]byte("Manifest-Version: 1.0\r\nImplementation-Version: 5.0.1\r\n continued\r\n\r\nName: x\r\n"))
	f.Add([]byte(" leading continuation\n:\n\n"))
	f.Add([]byte("0\r0: x\n")) // a lone CR ends a line too
	f.Fuzz(func(t *testing.T, data []byte) {
		attrs := manifestMainAttributes(bytes.NewReader(data))
		for k := range attrs {
			if strings.ContainsAny(k, "\r\n") {
				t.Fatalf("attribute name %q holds a line break", k)
			}
		}
		releaseFromJar("lib/gateway.server.jar", data)
	})
}

type fakeInfo struct{ mode os.FileMode }

func (f fakeInfo) Name() string       { return "x" }
func (f fakeInfo) Size() int64        { return 0 }
func (f fakeInfo) Mode() os.FileMode  { return f.mode }
func (f fakeInfo) ModTime() time.Time { return time.Time{} }
func (f fakeInfo) IsDir() bool        { return f.mode.IsDir() }
func (f fakeInfo) Sys() any           { return nil }

// FuzzReadArchive: any bytes given as a release archive are read to an
// answer (a release or an error) without panicking or hanging, and what is
// admitted is local.
func FuzzReadArchive(f *testing.F) {
	small := []tEntry{dirEntry(evilTop), fileEntry(evilTop+"lib/gateway.server.jar", string(scantest.Jar("Implementation-Version: 5.0.1"))), linkEntry(evilTop+"lib/l", "gateway.server.jar")}
	f.Add(writeTar(f, small, false))
	f.Add(writeTar(f, small, true))
	f.Add(writeZip(f, small))
	f.Add(zipWithBrokenXZ(f))
	f.Add(writeTar(f, append(small, linkEntry(evilTop+"x", ".."), fileEntry(evilTop+"x/y", "z")), false))
	f.Fuzz(func(t *testing.T, data []byte) {
		file := filepath.Join(t.TempDir(), "a")
		if err := os.WriteFile(file, data, 0o600); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		entries, _, _, err := readReleaseEntries(ctx, releaseReader{file: file, maxBytes: 1 << 20, maxEntries: 1000}, nil, nil)
		if ctx.Err() != nil {
			t.Fatalf("no answer in 10s: %v", err)
		}
		if err != nil {
			return
		}
		for _, e := range entries {
			if !filepath.IsLocal(e.Path) {
				t.Fatalf("admitted %q", e.Path)
			}
		}
	})
}
