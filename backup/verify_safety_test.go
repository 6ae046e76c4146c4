package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// setLimits lowers the archive limits for one test.
func setLimits(t *testing.T, manifest, content int64, entries int) {
	t.Helper()
	old := limits
	t.Cleanup(func() { limits = old })
	limits.manifest, limits.content, limits.entries = manifest, content, entries
}

// overLimitDiff returns the one over-limit difference of err, failing the
// test when there is none.
func overLimitDiff(t *testing.T, err error) Difference {
	t.Helper()
	var ve *VerifyError
	if !errors.As(err, &ve) {
		t.Fatalf("err %v, want a *VerifyError", err)
	}
	for _, d := range ve.Differences {
		if d.Kind == DiffLimit {
			return d
		}
	}
	t.Fatalf("err %v, want a %s difference", err, DiffLimit)
	return Difference{}
}

// TestVerifyCapsTheManifest: a small archive whose manifest entry inflates
// past MaxManifestSize is refused from its header, without reading it into
// memory.
func TestVerifyCapsTheManifest(t *testing.T) {
	var buf bytes.Buffer
	zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
	must(t, err)
	tw := tar.NewWriter(zw)
	size := int64(MaxManifestSize + 1)
	must(t, tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: size, ModTime: craftTime, Typeflag: tar.TypeReg}))
	_, err = io.CopyN(tw, zeros{}, size)
	must(t, err)
	must(t, tw.Close())
	must(t, zw.Close())
	archive := filepath.Join(t.TempDir(), "big-manifest.tar.gz")
	must(t, os.WriteFile(archive, buf.Bytes(), 0o600))

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err = Verify(t.Context(), afero.NewOsFs(), archive, VerifyOptions{})
	runtime.ReadMemStats(&after)
	d := overLimitDiff(t, err)
	if d.Entry != ManifestName || !strings.Contains(d.Detail, "manifest too large") || !strings.Contains(d.Detail, ManifestName) {
		t.Errorf("difference %v, want %s: manifest too large", d, ManifestName)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 16<<20 {
		t.Errorf("verify allocated %d MiB for a refused manifest", alloc>>20)
	}
	if _, err := Restore(t.Context(), afero.NewOsFs(), archive, RestoreOptions{Into: t.TempDir()}); !errors.Is(err, ErrVerify) {
		t.Errorf("restore: err %v, want ErrVerify", err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

// TestVerifyCapsEntriesAndContent: past the entry or content limit verify
// stops reading and says which limit, and restore writes nothing.
func TestVerifyCapsEntriesAndContent(t *testing.T) {
	var entries []craftEntry
	for _, name := range []string{"a", "b", "c", "d"} {
		entries = append(entries, craftEntry{name: name, body: "12345678", mode: 0o644})
	}
	archive := craftArchive(t, "", entries, nil)
	tests := []struct {
		name              string
		manifest, content int64
		entries           int
		wantEntry, want   string
	}{
		{"entries", MaxManifestSize, MaxArchiveContent, 3, "d", "more than 3 entries"},
		{"content", MaxManifestSize, 20, MaxArchiveEntries, "c", "more than 20 bytes"},
		{"manifest", 100, MaxArchiveContent, MaxArchiveEntries, ManifestName, "manifest too large"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			setLimits(t, tt.manifest, tt.content, tt.entries)
			_, err := Verify(t.Context(), afero.NewOsFs(), archive, VerifyOptions{})
			if d := overLimitDiff(t, err); d.Entry != tt.wantEntry || !strings.Contains(d.Detail, tt.want) {
				t.Errorf("difference %v, want %s: %s", d, tt.wantEntry, tt.want)
			}
			into := t.TempDir()
			if _, err := Restore(t.Context(), afero.NewOsFs(), archive, RestoreOptions{Into: into}); !errors.Is(err, ErrVerify) {
				t.Errorf("restore: err %v, want ErrVerify", err)
			}
			if names, _ := os.ReadDir(into); len(names) != 0 {
				t.Errorf("restore wrote %v", names)
			}
		})
	}
}

// TestParseManifestCapsEntries: a manifest listing more entries than the
// limit is refused.
func TestParseManifestCapsEntries(t *testing.T) {
	setLimits(t, MaxManifestSize, MaxArchiveContent, 2)
	m := Manifest{Schema: ManifestSchema, Entries: []Entry{{Path: "a"}, {Path: "b"}, {Path: "c"}}}
	data, err := json.Marshal(m)
	must(t, err)
	if _, err := parseManifest(data); err == nil || !strings.Contains(err.Error(), "more than 2") {
		t.Errorf("err %v, want more than 2 entries", err)
	}
	m.Entries = m.Entries[:2]
	data, err = json.Marshal(m)
	must(t, err)
	if _, err := parseManifest(data); err != nil {
		t.Errorf("two entries: %v", err)
	}
}

// TestVerifyAgainstDiskDistrustsTheManifest: comparing with the disk reads
// files where the manifest says; a root or relative home needs an explicit
// home, and an outside entry whose name does not match its source is not
// compared (its sha256 would tell about a file it does not own).
func TestVerifyAgainstDiskDistrustsTheManifest(t *testing.T) {
	for _, home := range []string{"/", "", "opt/gw", "/opt/../etc"} {
		a := craftArchive(t, home, []craftEntry{{name: "etc/shadow", body: "x", mode: 0o600}}, nil)
		if _, err := Verify(t.Context(), afero.NewOsFs(), a, VerifyOptions{Against: true}); err == nil || !strings.Contains(err.Error(), "give the home explicitly") {
			t.Errorf("home %q: err %v, want a refusal", home, err)
		}
	}
	dir := t.TempDir()
	secret := filepath.Join(dir, "secret")
	must(t, os.WriteFile(secret, []byte("s3cret"), 0o600))
	a := craftArchive(t, dir, []craftEntry{{name: outsideName(secret), source: filepath.Join(dir, "mine"), body: "x", mode: 0o600}}, nil)
	_, err := Verify(t.Context(), afero.NewOsFs(), a, VerifyOptions{Against: true})
	var ve *VerifyError
	if !errors.As(err, &ve) || len(ve.Differences) != 1 || ve.Differences[0].Kind != DiffUnsafe {
		t.Errorf("err %v, want one %s difference", err, DiffUnsafe)
	}
}
