package backup

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// savedMem makes a verified tar.gz backup of the fixture home (known set) at
// /backups/b.tar.gz and returns the filesystem.
func savedMem(t *testing.T) afero.Fs {
	t.Helper()
	fsys := loadMemHome(t)
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(t, err)
	must(t, fsys.MkdirAll("/backups", 0o700))
	if _, err := Save(context.Background(), fsys, sel, Options{Output: "/backups/b.tar.gz", Now: fixedNow}); err != nil {
		t.Fatal(err)
	}
	return fsys
}

type tarEntry struct {
	hdr  *tar.Header
	body []byte
}

func readTarGz(t *testing.T, fsys afero.Fs, name string) []tarEntry {
	t.Helper()
	data, err := afero.ReadFile(fsys, name)
	must(t, err)
	gz, err := gzip.NewReader(bytes.NewReader(data))
	must(t, err)
	tr := tar.NewReader(gz)
	var out []tarEntry
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		must(t, err)
		body, err := io.ReadAll(tr)
		must(t, err)
		out = append(out, tarEntry{h, body})
	}
}

func writeTarGz(t *testing.T, fsys afero.Fs, name string, entries []tarEntry) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	for _, e := range entries {
		e.hdr.Size = int64(len(e.body))
		must(t, tw.WriteHeader(e.hdr))
		_, err := tw.Write(e.body)
		must(t, err)
	}
	must(t, tw.Close())
	must(t, gz.Close())
	must(t, afero.WriteFile(fsys, name, buf.Bytes(), 0o600))
}

// editManifest applies f to the manifest inside entries.
func editManifest(t *testing.T, entries []tarEntry, f func(*Manifest)) {
	t.Helper()
	for i, e := range entries {
		if e.hdr.Name == ManifestName {
			var m Manifest
			must(t, json.Unmarshal(e.body, &m))
			f(&m)
			body, err := json.Marshal(m)
			must(t, err)
			entries[i].body = body
		}
	}
}

func TestVerifyDetectsTampering(t *testing.T) {
	const victim = "conf/keystore.pw"
	tests := []struct {
		name   string
		tamper func(t *testing.T, entries []tarEntry) []tarEntry
		kind   string
		entry  string
	}{
		{"entry replaced", func(t *testing.T, es []tarEntry) []tarEntry {
			for i := range es {
				if es[i].hdr.Name == victim {
					es[i].body = []byte("sekret")
				}
			}
			return es
		}, DiffContent, victim},
		{"manifest hash edited", func(t *testing.T, es []tarEntry) []tarEntry {
			editManifest(t, es, func(m *Manifest) {
				for i := range m.Entries {
					if m.Entries[i].Path == victim {
						m.Entries[i].SHA256 = strings.Repeat("0", 64)
					}
				}
			})
			return es
		}, DiffContent, victim},
		{"entry removed", func(t *testing.T, es []tarEntry) []tarEntry {
			var out []tarEntry
			for _, e := range es {
				if e.hdr.Name != victim {
					out = append(out, e)
				}
			}
			return out
		}, DiffMissing, victim},
		{"entry added", func(t *testing.T, es []tarEntry) []tarEntry {
			extra := tarEntry{&tar.Header{Name: "conf/evil.xml", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")}
			return append([]tarEntry{extra}, es...)
		}, DiffExtra, "conf/evil.xml"},
		{"entry twice", func(t *testing.T, es []tarEntry) []tarEntry {
			for _, e := range es {
				if e.hdr.Name == victim {
					return append([]tarEntry{e}, es...)
				}
			}
			return es
		}, DiffDuplicate, victim},
		{"mode changed", func(t *testing.T, es []tarEntry) []tarEntry {
			for i := range es {
				if es[i].hdr.Name == victim {
					es[i].hdr.Mode = 0o666
				}
			}
			return es
		}, DiffMode, victim},
		{"unsafe name", func(t *testing.T, es []tarEntry) []tarEntry {
			extra := tarEntry{&tar.Header{Name: "../../etc/cron.d/x", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("x")}
			return append(es, extra)
		}, DiffUnsafe, "../../etc/cron.d/x"},
		{"manifest lists an unsafe name", func(t *testing.T, es []tarEntry) []tarEntry {
			editManifest(t, es, func(m *Manifest) { m.Entries[0].Path = "/etc/passwd" })
			return es
		}, DiffCorrupt, ManifestName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := savedMem(t)
			entries := tt.tamper(t, readTarGz(t, fsys, "/backups/b.tar.gz"))
			writeTarGz(t, fsys, "/backups/t.tar.gz", entries)
			rep, err := Verify(context.Background(), fsys, "/backups/t.tar.gz", VerifyOptions{})
			var ve *VerifyError
			if !errors.Is(err, ErrVerify) || !errors.As(err, &ve) {
				t.Fatalf("err %v, want a VerifyError", err)
			}
			found := false
			for _, d := range rep.Differences {
				if d.Kind == tt.kind && d.Entry == tt.entry {
					found = true
				}
			}
			if !found {
				t.Errorf("differences %v lack %s on %s", rep.Differences, tt.kind, tt.entry)
			}
			if !strings.Contains(err.Error(), tt.entry) {
				t.Errorf("error %q does not name %s", err, tt.entry)
			}
		})
	}
}

func TestVerifyBrokenStreams(t *testing.T) {
	tests := []struct {
		name   string
		damage func([]byte) []byte
	}{
		{"truncated to half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"truncated by 10 bytes", func(b []byte) []byte { return b[:len(b)-10] }},
		{"bit flipped in the middle", func(b []byte) []byte { b[len(b)/2] ^= 0x10; return b }},
		{"bit flipped near the end", func(b []byte) []byte { b[len(b)-12] ^= 0x01; return b }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := savedMem(t)
			data, err := afero.ReadFile(fsys, "/backups/b.tar.gz")
			must(t, err)
			must(t, afero.WriteFile(fsys, "/backups/d.tar.gz", tt.damage(data), 0o600))
			rep, err := Verify(context.Background(), fsys, "/backups/d.tar.gz", VerifyOptions{})
			if !errors.Is(err, ErrVerify) {
				t.Fatalf("err %v, want ErrVerify", err)
			}
			if len(rep.Differences) == 0 || rep.Differences[0].Entry == "" {
				t.Errorf("differences %v do not name an entry", rep.Differences)
			}
		})
	}
}

func TestVerifyForeignArchives(t *testing.T) {
	fsys := afero.NewMemMapFs()
	writeTarGz(t, fsys, "/plain.tar.gz", []tarEntry{{&tar.Header{Name: "a.txt", Mode: 0o644, Typeflag: tar.TypeReg}, []byte("a")}})
	makeZip(t, fsys, "/plain.zip", map[string]string{"a.txt": "a"})
	for _, name := range []string{"/plain.tar.gz", "/plain.zip"} {
		if _, err := Verify(context.Background(), fsys, name, VerifyOptions{}); !errors.Is(err, ErrNoManifest) {
			t.Errorf("%s: err %v, want ErrNoManifest", name, err)
		}
	}
	must(t, afero.WriteFile(fsys, "/text", []byte("hello"), 0o644))
	if _, err := Verify(context.Background(), fsys, "/text", VerifyOptions{}); !errors.Is(err, ErrNotArchive) {
		t.Errorf("text: err %v, want ErrNotArchive", err)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	must(t, zw.Close())
	must(t, afero.WriteFile(fsys, "/empty.zip", buf.Bytes(), 0o644))
	if _, err := Verify(context.Background(), fsys, "/empty.zip", VerifyOptions{}); err == nil {
		t.Error("empty zip verified")
	}
}

func TestVerifyAgainstDisk(t *testing.T) {
	fsys := savedMem(t)
	if _, err := Verify(context.Background(), fsys, "/backups/b.tar.gz", VerifyOptions{Against: true}); err != nil {
		t.Fatalf("fresh backup: %v", err)
	}
	must(t, afero.WriteFile(fsys, memHome+"/conf/keystore.pw", []byte("changed!"), 0o644))
	must(t, fsys.Remove(memHome+"/conf/jaas-config.xml"))
	rep, err := Verify(context.Background(), fsys, "/backups/b.tar.gz", VerifyOptions{Against: true})
	if !errors.Is(err, ErrVerify) {
		t.Fatalf("err %v", err)
	}
	got := map[string]string{}
	for _, d := range rep.Differences {
		got[d.Entry] = d.Kind
	}
	if got["conf/keystore.pw"] != DiskSize || got["conf/jaas-config.xml"] != DiskMissing || len(got) != 2 {
		t.Errorf("differences %v", rep.Differences)
	}
	// Against another home: everything is missing there.
	must(t, fsys.MkdirAll("/elsewhere", 0o755))
	rep, _ = Verify(context.Background(), fsys, "/backups/b.tar.gz", VerifyOptions{Against: true, Home: "/elsewhere"})
	if len(rep.Differences) != len(rep.Manifest.Entries) {
		t.Errorf("against an empty home: %d differences for %d entries", len(rep.Differences), len(rep.Manifest.Entries))
	}
}

func FuzzParseManifest(f *testing.F) {
	f.Add([]byte(`{"schema":"gwup/backup/v1","entries":[{"path":"conf/a","size":1,"mode":420}]}`))
	f.Add([]byte(`{"schema":"gwup/backup/v1","entries":[{"path":"../a"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseManifest(data)
		if err != nil {
			return
		}
		for _, e := range m.Entries {
			if _, err := cleanEntryName(e.Path); err != nil {
				t.Errorf("unsafe entry %q accepted", e.Path)
			}
		}
	})
}

func FuzzVerify(f *testing.F) {
	fsys := loadMemHomeTB(f)
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(f, err)
	for _, ext := range []string{".tar.gz", ".zip", ".tar.zst"} {
		out := "/b" + ext
		_, err := Save(context.Background(), fsys, sel, Options{Output: out, Now: fixedNow})
		must(f, err)
		data, err := afero.ReadFile(fsys, out)
		must(f, err)
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := afero.NewMemMapFs()
		must(t, afero.WriteFile(fsys, "/a", data, 0o600))
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		rep, err := Verify(ctx, fsys, "/a", VerifyOptions{})
		if err == nil && rep.Manifest.Schema != ManifestSchema {
			t.Errorf("verified without a manifest")
		}
		if errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("verify did not finish in 5s")
		}
	})
}

// TestVerifyBigDamaged damages an archive big enough to be read by the
// multithreaded gzip reader, at several places.
func TestVerifyBigDamaged(t *testing.T) {
	if testing.Short() {
		t.Skip("writes a 6 MB archive")
	}
	fsys := loadMemHome(t)
	must(t, afero.WriteFile(fsys, memHome+"/lib/ext/big.jar", randomBytes(6<<20), 0o644))
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(t, err)
	_, err = Save(context.Background(), fsys, sel, Options{Output: "/b.tar.gz"})
	must(t, err)
	good, err := afero.ReadFile(fsys, "/b.tar.gz")
	must(t, err)
	for _, at := range []int{20, 1000, len(good) / 3, len(good) / 2, len(good) - 100, len(good) - 5} {
		for _, truncate := range []bool{false, true} {
			data := bytes.Clone(good)
			if truncate {
				data = data[:at]
			} else {
				data[at] ^= 0x55
			}
			must(t, afero.WriteFile(fsys, "/d.tar.gz", data, 0o600))
			_, err := Verify(context.Background(), fsys, "/d.tar.gz", VerifyOptions{})
			if truncate && at <= 20 && errors.Is(err, ErrNotArchive) {
				continue // too little left to tell what it was
			}
			if !errors.Is(err, ErrVerify) {
				t.Errorf("damage at %d (truncate %v): err %v, want ErrVerify", at, truncate, err)
			}
		}
	}
}

func TestVerifyDamagedZipAndZstd(t *testing.T) {
	for _, ext := range []string{".zip", ".tar.zst"} {
		fsys := loadMemHome(t)
		sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{All: true})
		must(t, err)
		_, err = Save(context.Background(), fsys, sel, Options{Output: "/b" + ext})
		must(t, err)
		good, err := afero.ReadFile(fsys, "/b"+ext)
		must(t, err)
		for _, at := range []int{len(good) / 4, len(good) / 2} {
			data := bytes.Clone(good)
			data[at] ^= 0x08
			must(t, afero.WriteFile(fsys, "/d"+ext, data, 0o600))
			if _, err := Verify(context.Background(), fsys, "/d"+ext, VerifyOptions{}); !errors.Is(err, ErrVerify) {
				t.Errorf("%s flipped at %d: err %v, want ErrVerify", ext, at, err)
			}
			must(t, afero.WriteFile(fsys, "/d"+ext, good[:at], 0o600))
			if _, err := Verify(context.Background(), fsys, "/d"+ext, VerifyOptions{}); !errors.Is(err, ErrVerify) {
				t.Errorf("%s truncated at %d: err %v, want ErrVerify", ext, at, err)
			}
		}
	}
}
