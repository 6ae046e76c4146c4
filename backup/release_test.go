package backup

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/spf13/afero"
)

func TestReadRelease(t *testing.T) {
	fsys := afero.NewMemMapFs()
	files := map[string]string{
		"conf/gateway-config.xml": "<x/>",
		"lib/gateway.server.jar":  string(scantest.Jar("Implementation-Title: Kaazing Gateway", "Implementation-Version: 5.6.2")),
	}
	makeTarGz(t, fsys, "/dl/rel.tgz", "kaazing-community-gateway-5.6.2", files)
	zipped := map[string]string{}
	for k, v := range files {
		zipped["./kaazing-community-gateway-5.6.2/"+k] = v
	}
	makeZip(t, fsys, "/dl/rel.bin", zipped) // a zip under a misleading name: identified by content
	for _, name := range []string{"/dl/rel.tgz", "/dl/rel.bin"} {
		rel, err := ReadRelease(context.Background(), fsys, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if rel.Release != "5.6.2" || rel.Schema != ShippedSchema || rel.Archive != name || len(rel.Files) != 2 {
			t.Fatalf("%s: %+v", name, rel)
		}
		f := rel.Files[0]
		if f.Path != "conf/gateway-config.xml" || f.Size != 4 || f.SHA256 != sum("<x/>") {
			t.Errorf("%s: first file %+v", name, f)
		}
	}
}

func TestReadReleaseRejects(t *testing.T) {
	tests := []struct {
		name    string
		entries []*tar.Header
		want    string
	}{
		{"two top folders", []*tar.Header{{Name: "a/x"}, {Name: "b/y"}}, "more than one top folder"},
		{"file at the top", []*tar.Header{{Name: "a/x"}, {Name: "README.txt"}}, `"README.txt"`},
		{"dot dot", []*tar.Header{{Name: "a/x"}, {Name: "a/../../etc/passwd"}}, `"a/../../etc/passwd"`},
		{"absolute", []*tar.Header{{Name: "/etc/passwd"}}, `"/etc/passwd"`},
		{"empty", nil, "archive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tw := tar.NewWriter(&buf)
			for _, h := range tt.entries {
				h.Typeflag, h.Mode = tar.TypeReg, 0o644
				must(t, tw.WriteHeader(h))
			}
			must(t, tw.Close())
			fsys := afero.NewMemMapFs()
			must(t, afero.WriteFile(fsys, "/r.tar", buf.Bytes(), 0o644))
			_, err := ReadRelease(context.Background(), fsys, "/r.tar")
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err %v, want it to mention %s", err, tt.want)
			}
		})
	}
	fsys := afero.NewMemMapFs()
	must(t, afero.WriteFile(fsys, "/notes.gz.txt", []byte("just text, not an archive at all"), 0o644))
	if _, err := ReadRelease(context.Background(), fsys, "/notes.gz.txt"); !errors.Is(err, ErrNotArchive) {
		t.Errorf("text file: %v, want ErrNotArchive", err)
	}
}

func FuzzReadRelease(f *testing.F) {
	fsys := afero.NewMemMapFs()
	makeTarGz(f, fsys, "/seed.tgz", "top", release)
	seed, _ := afero.ReadFile(fsys, "/seed.tgz")
	f.Add(seed)
	makeZip(f, fsys, "/seed.zip", map[string]string{"top/a": "b"})
	seed, _ = afero.ReadFile(fsys, "/seed.zip")
	f.Add(seed)
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := afero.NewMemMapFs()
		must(t, afero.WriteFile(fsys, "/r", data, 0o644))
		var rel Shipped
		var err error
		done := make(chan struct{})
		go func() { rel, err = ReadRelease(context.Background(), fsys, "/r"); close(done) }()
		select {
		case <-done:
		case <-time.After(3 * time.Second):
			buf := make([]byte, 1<<16)
			n := runtime.Stack(buf, true)
			t.Fatalf("ReadRelease hangs:\n%s", buf[:n])
		}
		if err != nil {
			return
		}
		for _, f := range rel.Files {
			if _, err := cleanEntryName(f.Path); err != nil || f.Path == "" {
				t.Errorf("unsafe path %q accepted", f.Path)
			}
		}
	})
}
