package backup

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

func selectedNames(sel Selection) []string {
	var names []string
	for _, f := range sel.Files {
		names = append(names, f.Name)
	}
	return names
}

func TestSelectKnownSet(t *testing.T) {
	fsys := loadMemHome(t)
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(t, err)
	want := []string{
		"bin/gateway.start",
		"conf/gateway-config.xml",
		"conf/gateway-config.xml.new",
		"conf/jaas-config.xml",
		"conf/keystore.pw",
		"error-pages/404.html",
		"lib/ext/login-module.jar",
		"lib/tibjms.jar",
		"license/license.txt",
		"web/base/index.html",
		"web/myapp/app.js",
	}
	if sel.Method != MethodKnownSet || !slices.Equal(selectedNames(sel), want) {
		t.Errorf("method %s files\n%v\nwant\n%v", sel.Method, selectedNames(sel), want)
	}
	for _, f := range sel.Files {
		if f.Reason == "" || f.Path != memHome+"/"+f.Name {
			t.Errorf("%+v", f)
		}
	}
}

func TestSelectAll(t *testing.T) {
	fsys := loadMemHome(t)
	for _, tt := range []struct {
		withLogs bool
		want     []string // present or absent below
		absent   []string
	}{
		{false, []string{"README.txt", "docs/guide.txt", "lib/gateway.server.jar", "web/extras/samples/index.html"}, []string{"log/error.log", "temp/scratch", ".gwup-staging-1/conf/gateway-config.xml"}},
		{true, []string{"log/error.log", "temp/scratch"}, []string{".gwup-staging-1/conf/gateway-config.xml"}},
	} {
		sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{All: true, WithLogs: tt.withLogs})
		must(t, err)
		names := selectedNames(sel)
		for _, w := range tt.want {
			if !slices.Contains(names, w) {
				t.Errorf("withLogs=%v: %s missing from %v", tt.withLogs, w, names)
			}
		}
		for _, a := range tt.absent {
			if slices.Contains(names, a) {
				t.Errorf("withLogs=%v: %s selected", tt.withLogs, a)
			}
		}
	}
}

func TestKnownSetReason(t *testing.T) {
	tests := map[string]bool{
		"conf/gateway-config.xml.migrated":   true,
		"conf/samples/a.xml":                 true,
		"lib/com.kaazing.gateway.server.jar": false,
		"lib/mina.netty.jar":                 false,
		"lib/enterprise.gateway.server.jar":  false,
		"lib/jms-2.0.jar":                    false,
		"lib/my-login.jar":                   true,
		"lib/spi/x.jar":                      true,
		"lib/sigar/libsigar.so":              false,
		"web/commandcenter/index.html":       false,
		"web/welcome/index.html":             false,
		"web/base/x/y.html":                  true,
		"README.txt":                         false,
		"bin/gateway.openshift.start":        true,
	}
	for p, want := range tests {
		if got := knownSetReason(p) != ""; got != want {
			t.Errorf("knownSetReason(%q) selected=%v, want %v", p, got, want)
		}
	}
}

// release is a fake release: path below the top folder -> content.
var release = map[string]string{
	"README.txt":              "Welcome to the test gateway\n",
	"bin/gateway.start":       "#!/bin/sh\nexec java -cp \"$GATEWAY_HOME/lib/*\" org.kaazing.gateway.server.Main \"$@\"\n",
	"conf/gateway-config.xml": "<gateway-config xmlns=\"http://xmlns.kaazing.org/2016/06/gateway\"/>\n",
	"conf/keystore.pw":        "ab987c",
	"conf/jaas-config.xml":    "<jaas/>\n",
	"lib/hazelcast-3.7.4.jar": "not really a jar\n",
	"web/README.txt":          "web readme\n",
	"docs/guide.txt":          "shipped docs\n",
	"docs/removed.txt":        "the user deleted this\n",
}

// makeTarGz writes a release archive with the given top folder.
func makeTarGz(t testing.TB, fsys afero.Fs, name, top string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	gz := gzip.NewWriter(&buf)
	tw := tar.NewWriter(gz)
	var names []string
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	must(t, tw.WriteHeader(&tar.Header{Name: top + "/", Typeflag: tar.TypeDir, Mode: 0o755}))
	for _, n := range names {
		mode := int64(0o644)
		if strings.HasPrefix(n, "bin/") {
			mode = 0o755
		}
		must(t, tw.WriteHeader(&tar.Header{Name: path.Join(top, n), Typeflag: tar.TypeReg, Mode: mode, Size: int64(len(files[n])), ModTime: time.Unix(1e9, 0)}))
		_, err := tw.Write([]byte(files[n]))
		must(t, err)
	}
	must(t, tw.Close())
	must(t, gz.Close())
	must(t, afero.WriteFile(fsys, name, buf.Bytes(), 0o644))
}

func makeZip(t testing.TB, fsys afero.Fs, name string, files map[string]string) {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for n, c := range files {
		w, err := zw.Create(n)
		must(t, err)
		_, err = w.Write([]byte(c))
		must(t, err)
	}
	must(t, zw.Close())
	must(t, afero.WriteFile(fsys, name, buf.Bytes(), 0o644))
}

func sum(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestSelectPristineAndAgainst(t *testing.T) {
	fsys := loadMemHome(t)
	makeTarGz(t, fsys, "/dl/old.tar.gz", "kaazing-gateway-5.6.2", release)
	rel, err := ReadRelease(context.Background(), fsys, "/dl/old.tar.gz")
	must(t, err)
	// MemMapFs files are 0644: make the release's modes agree except where
	// the test wants a change.
	for i := range rel.Files {
		rel.Files[i].Mode = 0o644
	}

	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{Pristine: &rel})
	must(t, err)
	reasons := map[string]string{}
	for _, f := range sel.Files {
		reasons[f.Name] = f.Reason
	}
	for name, want := range map[string]string{
		"conf/gateway-config.xml": "changed",
		"conf/keystore.pw":        "changed",
		"lib/tibjms.jar":          "added",
		"lib/gateway.server.jar":  "added",
	} {
		if !strings.HasPrefix(reasons[name], want) {
			t.Errorf("pristine: %s reason %q, want %s...", name, reasons[name], want)
		}
	}
	for _, same := range []string{"README.txt", "conf/jaas-config.xml", "docs/guide.txt", "bin/gateway.start"} {
		if _, ok := reasons[same]; ok {
			t.Errorf("pristine: unchanged %s selected (%s)", same, reasons[same])
		}
	}
	if !slices.Equal(sel.Deleted, []string{"docs/removed.txt"}) {
		t.Errorf("deleted %v", sel.Deleted)
	}
	if sel.Method != MethodPristine {
		t.Errorf("method %s", sel.Method)
	}

	sel, err = Select(context.Background(), fsys, install(memHome), SelectOptions{Against: &rel})
	must(t, err)
	reasons = map[string]string{}
	for _, f := range sel.Files {
		reasons[f.Name] = f.Reason
	}
	if !strings.Contains(reasons["conf/keystore.pw"], "overwrite") || !strings.HasPrefix(reasons["lib/tibjms.jar"], "not shipped") {
		t.Errorf("against reasons %v", reasons)
	}
	if _, ok := reasons["conf/jaas-config.xml"]; ok || sel.Method != MethodAgainst || len(sel.Deleted) != 0 {
		t.Errorf("against: %v %s %v", reasons, sel.Method, sel.Deleted)
	}
}

func TestSelectShipped(t *testing.T) {
	fsys := loadMemHome(t)
	rec := Shipped{Schema: ShippedSchema, Release: "5.6.2"}
	for p, c := range release {
		rec.Files = append(rec.Files, ShippedFile{Path: p, Size: int64(len(c)), Mode: 0o644, SHA256: sum(c)})
	}
	data, err := json.Marshal(rec)
	must(t, err)
	must(t, afero.WriteFile(fsys, memHome+"/"+ShippedName, data, 0o644))
	sel, err := Select(context.Background(), fsys, install(memHome), SelectOptions{})
	must(t, err)
	names := selectedNames(sel)
	if sel.Method != MethodShipped || !slices.Contains(names, "conf/keystore.pw") || slices.Contains(names, "conf/jaas-config.xml") || slices.Contains(names, ShippedName) {
		t.Errorf("method %s names %v", sel.Method, names)
	}
	if !slices.Equal(sel.Deleted, []string{"docs/removed.txt"}) {
		t.Errorf("deleted %v", sel.Deleted)
	}

	must(t, afero.WriteFile(fsys, memHome+"/"+ShippedName, []byte("{"), 0o644))
	if _, err := Select(context.Background(), fsys, install(memHome), SelectOptions{}); err == nil {
		t.Error("a corrupt shipped record was accepted")
	}
}

func TestSelectErrors(t *testing.T) {
	fsys := loadMemHome(t)
	for _, home := range []string{"", "relative/home", "/nowhere", memHome + "/README.txt"} {
		if _, err := Select(context.Background(), fsys, scan.Install{Home: home}, SelectOptions{}); err == nil {
			t.Errorf("home %q accepted", home)
		}
	}
}

func TestSelectOutsideUnreadable(t *testing.T) {
	fsys := loadMemHome(t)
	inst := install(memHome)
	inst.Config = &scan.Config{Path: memHome + "/conf/gateway-config.xml", Referenced: []string{"/etc/missing.db", "relative.db"}}
	sel, err := Select(context.Background(), fsys, inst, SelectOptions{})
	must(t, err)
	if len(sel.Unreadable) != 1 || sel.Unreadable[0].Path != "/etc/missing.db" {
		t.Errorf("unreadable %v", sel.Unreadable)
	}
	for _, f := range sel.Files {
		if strings.HasPrefix(f.Name, OutsidePrefix) {
			t.Errorf("outside entry %s for a file inside the home or missing", f.Name)
		}
	}
}

func TestSelectReferencedInsideHome(t *testing.T) {
	fsys := loadMemHome(t)
	must(t, afero.WriteFile(fsys, memHome+"/keys/ks.db", []byte("k"), 0o600))
	inst := install(memHome)
	inst.Config = &scan.Config{Path: memHome + "/custom.xml", Referenced: []string{memHome + "/keys/ks.db", memHome + "/conf/keystore.pw"}}
	must(t, afero.WriteFile(fsys, memHome+"/custom.xml", []byte("<c/>"), 0o644))
	sel, err := Select(context.Background(), fsys, inst, SelectOptions{})
	must(t, err)
	names := selectedNames(sel)
	for _, want := range []string{"custom.xml", "keys/ks.db", "conf/keystore.pw"} {
		if !slices.Contains(names, want) {
			t.Errorf("%s missing from %v", want, names)
		}
	}
	if n := len(names); n != len(slices.Compact(slices.Clone(names))) {
		t.Errorf("duplicates in %v", names)
	}
}

// TestSelectSymlinkedConf: conf/ is a symlink to a folder outside the home
// (a Docker volume): its content is saved under _outside/, once, even when
// the config file inside it is also referenced.
func TestSelectSymlinkedConf(t *testing.T) {
	ctx := context.Background()
	fsys := afero.NewOsFs()
	home := loadDiskHome(t)
	vol := filepath.Join(t.TempDir(), "volume")
	must(t, os.Rename(filepath.Join(home, "conf"), vol))
	must(t, os.Symlink(vol, filepath.Join(home, "conf")))
	inst := install(home)
	inst.Config = &scan.Config{Path: filepath.Join(vol, "gateway-config.xml")}
	sel, err := Select(ctx, fsys, inst, SelectOptions{})
	must(t, err)
	names := selectedNames(sel)
	for _, want := range []string{"conf", outsideName(filepath.Join(vol, "gateway-config.xml")), outsideName(filepath.Join(vol, "keystore.pw"))} {
		if !slices.Contains(names, want) {
			t.Errorf("%s missing from %v", want, names)
		}
	}
	_, err = Save(ctx, fsys, sel, Options{Output: filepath.Join(t.TempDir(), "b.tar.gz")})
	must(t, err)
}
