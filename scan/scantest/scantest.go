// Package scantest builds install trees for tests: txtar fixtures loaded into
// an in-memory filesystem, and jar files with a given MANIFEST.MF.
package scantest

import (
	"archive/zip"
	"bytes"
	"path"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/txtar"
	"github.com/spf13/afero"
)

// Jar returns the bytes of a jar (a zip) holding META-INF/MANIFEST.MF with the
// given attributes, in order, as "Name: value" lines ending in CRLF like the
// ones Maven writes.
func Jar(attrs ...string) []byte {
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.Create("META-INF/MANIFEST.MF")
	if err != nil {
		panic(err)
	}
	var m strings.Builder
	m.WriteString("Manifest-Version: 1.0\r\n")
	for _, a := range attrs {
		m.WriteString(a + "\r\n")
	}
	m.WriteString("\r\n")
	if _, err := w.Write([]byte(m.String())); err != nil {
		panic(err)
	}
	if err := zw.Close(); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// JarMarker is a txtar file body that Load replaces by a real jar: a file
// whose content starts with "JAR\n" followed by manifest lines becomes a jar
// holding those lines as its MANIFEST.MF. It keeps binary jars out of txtar.
const JarMarker = "JAR\n"

// Load parses a txtar archive and writes its files into a new MemMapFs under
// root (an absolute path, "/" for none). Files whose body starts with
// [JarMarker] are turned into jars.
func Load(t testing.TB, archive []byte, root string) afero.Fs {
	t.Helper()
	fsys := afero.NewMemMapFs()
	LoadInto(t, fsys, archive, root)
	return fsys
}

// LoadInto is [Load] into an existing filesystem.
func LoadInto(t testing.TB, fsys afero.Fs, archive []byte, root string) {
	t.Helper()
	a := txtar.Parse(archive)
	for _, f := range a.Files {
		name := path.Join("/", root, f.Name)
		data := f.Data
		if rest, ok := bytes.CutPrefix(data, []byte(JarMarker)); ok {
			var attrs []string
			for _, line := range strings.Split(strings.TrimSpace(string(rest)), "\n") {
				if line != "" {
					attrs = append(attrs, line)
				}
			}
			data = Jar(attrs...)
		}
		if strings.HasSuffix(f.Name, "/") {
			if err := fsys.MkdirAll(name, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := fsys.MkdirAll(path.Dir(name), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := afero.WriteFile(fsys, name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// LoadFile is [Load] of a txtar file on the real disk.
func LoadFile(t testing.TB, file, root string) afero.Fs {
	t.Helper()
	data, err := afero.ReadFile(afero.NewOsFs(), file)
	if err != nil {
		t.Fatal(err)
	}
	return Load(t, data, root)
}
