package backup

// Tests for archives written by someone else than gwup: the manifest says
// where to write and what to set, so restore must not simply obey it.

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
)

// craftEntry is one entry of a hand-made archive. hdrMode is the mode in the
// tar header (c_ISUID and friends included); 0 means mode.Perm().
type craftEntry struct {
	name, body, link, source string
	mode                     fs.FileMode
	hdrMode                  int64
}

var craftTime = time.Unix(1700000000, 0).UTC()

// craftArchive writes a tar.gz whose manifest agrees with its entries, as an
// attacker would, and returns its path. edit may change the manifest last.
func craftArchive(t *testing.T, home string, entries []craftEntry, edit func(*Manifest)) string {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	tw := tar.NewWriter(zw)
	m := Manifest{Schema: ManifestSchema, Home: home, Complete: true, Created: craftTime, Method: MethodAll, Entries: []Entry{}}
	for _, c := range entries {
		hdr := &tar.Header{Name: c.name, Mode: c.hdrMode, ModTime: craftTime, Typeflag: tar.TypeReg, Size: int64(len(c.body))}
		if hdr.Mode == 0 {
			hdr.Mode = int64(c.mode.Perm())
		}
		e := Entry{Path: c.name, Source: c.source, Mode: c.mode, MTime: craftTime}
		if c.link != "" {
			hdr.Typeflag, hdr.Linkname, hdr.Size = tar.TypeSymlink, c.link, 0
			e.Mode |= fs.ModeSymlink
			e.Link = c.link
		} else {
			sum := sha256.Sum256([]byte(c.body))
			e.Size, e.SHA256 = int64(len(c.body)), hex.EncodeToString(sum[:])
		}
		must(t, tw.WriteHeader(hdr))
		_, err := tw.Write([]byte(c.body))
		must(t, err)
		m.Entries = append(m.Entries, e)
	}
	if edit != nil {
		edit(&m)
	}
	data, err := json.Marshal(m)
	must(t, err)
	must(t, tw.WriteHeader(&tar.Header{Name: ManifestName, Mode: 0o600, Size: int64(len(data)), ModTime: craftTime, Typeflag: tar.TypeReg}))
	_, err = tw.Write(data)
	must(t, err)
	must(t, tw.Close())
	must(t, zw.Close())
	p := filepath.Join(t.TempDir(), "crafted.tar.gz")
	must(t, os.WriteFile(p, buf.Bytes(), 0o600))
	return p
}

var keysEntry = []craftEntry{{name: "authorized_keys", body: "ssh-ed25519 AAAA attacker", mode: 0o644}}

// TestRestoreRefusesUntrustedManifestHome: without an explicit home, only a
// manifest home that is a clean absolute existing directory other than "/"
// is used; nothing is created otherwise.
func TestRestoreRefusesUntrustedManifestHome(t *testing.T) {
	base := t.TempDir()
	missing := filepath.Join(base, "root", ".ssh")
	file := filepath.Join(base, "file")
	must(t, os.WriteFile(file, nil, 0o600))
	cwd := t.TempDir()
	t.Chdir(cwd)
	tests := []struct{ name, home, want string }{
		{"empty", "", "not an absolute path"},
		{"relative", "opt/gw", "not an absolute path"},
		{"root", "/", "root directory"},
		{"unclean", base + "/x/../" + filepath.Base(base), "not a clean path"},
		{"missing", missing, "give the home to restore into explicitly"},
		{"a file", file, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := craftArchive(t, tt.home, keysEntry, nil)
			for _, dry := range []bool{true, false} {
				res, err := Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{DryRun: dry})
				if err == nil || !strings.Contains(err.Error(), tt.want) {
					t.Errorf("dry run %v: err %v, want %q", dry, err, tt.want)
				}
				if res.Written != 0 || len(res.Items) != 0 {
					t.Errorf("dry run %v: planned %v, wrote %d", dry, res.Items, res.Written)
				}
			}
		})
	}
	if _, err := os.Lstat(filepath.Join(base, "root")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the missing home's parent was created: %v", err)
	}
	if names, _ := os.ReadDir(cwd); len(names) != 0 {
		t.Errorf("wrote into the working directory: %v", names)
	}
}

// TestRestoreIntoMissingHome: an explicit missing home is created (only
// the home, not its parents) and the result says so.
func TestRestoreIntoMissingHome(t *testing.T) {
	a := craftArchive(t, "/somewhere/else", keysEntry, nil)
	base := t.TempDir()

	deep := filepath.Join(base, "a", "b", "home")
	if _, err := Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{Into: deep}); err == nil {
		t.Error("restore into a home whose parent is missing: no error")
	}
	if _, err := os.Lstat(filepath.Join(base, "a")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("parents of the home were created: %v", err)
	}

	into := filepath.Join(base, "home")
	res, err := Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{Into: into, DryRun: true})
	must(t, err)
	if !res.CreatedHome {
		t.Error("dry run into a missing home: CreatedHome false")
	}
	if _, err := os.Lstat(into); !errors.Is(err, fs.ErrNotExist) {
		t.Error("dry run created the home")
	}
	res, err = Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{Into: into})
	must(t, err)
	if !res.CreatedHome || res.Written != 1 {
		t.Errorf("CreatedHome %v written %d", res.CreatedHome, res.Written)
	}
	if _, err := os.Stat(filepath.Join(into, "authorized_keys")); err != nil {
		t.Error(err)
	}
	res, err = Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{Into: into, Force: true})
	must(t, err)
	if res.CreatedHome {
		t.Error("existing home reported as created")
	}
}

// TestRestoreDropsSpecialModeBits: a setuid (setgid, sticky) file in the
// archive is restored with its permission bits only, and the item says so.
func TestRestoreDropsSpecialModeBits(t *testing.T) {
	a := craftArchive(t, "", []craftEntry{
		{name: "bin/suid", body: "#!/bin/sh\n", mode: fs.ModeSetuid | 0o755, hdrMode: 0o4755},
		{name: "bin/sgid", body: "#!/bin/sh\n", mode: fs.ModeSetgid | fs.ModeSticky | 0o750, hdrMode: 0o3750},
	}, nil)
	if _, err := Verify(t.Context(), afero.NewOsFs(), a, VerifyOptions{}); err != nil {
		t.Fatalf("the crafted archive does not verify: %v", err)
	}
	into := t.TempDir()
	res, err := Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{Into: into})
	must(t, err)
	for name, want := range map[string]fs.FileMode{"bin/suid": 0o755, "bin/sgid": 0o750} {
		fi, err := os.Stat(filepath.Join(into, name))
		must(t, err)
		if got := fi.Mode() & (fs.ModePerm | specialModeBits); got != want {
			t.Errorf("%s: mode %v, want %v", name, got, want)
		}
	}
	for _, it := range res.Items {
		if !strings.Contains(it.Detail, "not restored") {
			t.Errorf("%s: detail %q does not say the bits were dropped", it.Entry, it.Detail)
		}
	}
}

// TestVerifyComparesSpecialModeBits: a manifest claiming setuid for an entry
// the archive stores without it (or the reverse) is a mode difference.
func TestVerifyComparesSpecialModeBits(t *testing.T) {
	tests := []struct {
		name    string
		mode    fs.FileMode
		hdrMode int64
	}{
		{"manifest setuid", fs.ModeSetuid | 0o755, 0o755},
		{"archive setgid", 0o755, 0o2755},
		{"archive sticky", 0o755, 0o1755},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := craftArchive(t, "", []craftEntry{{name: "x", body: "x", mode: tt.mode, hdrMode: tt.hdrMode}}, nil)
			_, err := Verify(t.Context(), afero.NewOsFs(), a, VerifyOptions{})
			var ve *VerifyError
			if !errors.As(err, &ve) || len(ve.Differences) != 1 || ve.Differences[0].Kind != DiffMode {
				t.Errorf("err %v, want one %s difference", err, DiffMode)
			}
		})
	}
}

// TestSaveVerifiesSpecialModeBits: a real backup of a home holding a setuid
// file verifies in every format (the archive keeps the bits the manifest
// records), and its restore drops them.
func TestSaveVerifiesSpecialModeBits(t *testing.T) {
	for _, ext := range []string{".tar.gz", ".zip", ".tar.zst"} {
		t.Run(ext, func(t *testing.T) {
			fsys := afero.NewOsFs()
			home := loadDiskHome(t)
			start := filepath.Join(home, "bin/gateway.start")
			must(t, os.Chmod(start, fs.ModeSetuid|0o755))
			if fi, err := os.Stat(start); err != nil || fi.Mode()&fs.ModeSetuid == 0 {
				t.Skipf("cannot set setuid here: %v", err)
			}
			sel, err := Select(t.Context(), fsys, install(home), SelectOptions{})
			must(t, err)
			archive := filepath.Join(t.TempDir(), "b"+ext)
			_, err = Save(t.Context(), fsys, sel, Options{Output: archive, Now: fixedNow})
			must(t, err)
			into := t.TempDir()
			_, err = Restore(t.Context(), fsys, archive, RestoreOptions{Into: into})
			must(t, err)
			fi, err := os.Stat(filepath.Join(into, "bin/gateway.start"))
			must(t, err)
			if fi.Mode()&specialModeBits != 0 || fi.Mode().Perm() != 0o755 {
				t.Errorf("restored mode %v", fi.Mode())
			}
		})
	}
}

// TestRestoreOutsideEntriesMustMatchTheirSource: with the outside option, an
// entry goes to an absolute path only when its name is the one derived from
// its recorded source; symlinks among them may not leave their folder; every
// absolute path written is listed.
func TestRestoreOutsideEntriesMustMatchTheirSource(t *testing.T) {
	dir := t.TempDir()
	abs := func(name string) string { return filepath.Join(dir, name) }
	entries := []craftEntry{
		{name: outsideName(abs("good.xml")), source: abs("good.xml"), body: "<gateway-config/>", mode: 0o640},
		{name: outsideName(abs("current.xml")), source: abs("current.xml"), link: "good.xml", mode: 0o777},
		{name: outsideName(abs("nosource")), body: "x", mode: 0o644},
		{name: outsideName(abs("evil")), source: abs("other"), body: "x", mode: 0o644},
		{name: outsideName(abs("x/../unclean")), source: abs("x") + "/../unclean", body: "x", mode: 0o644},
		{name: outsideName(abs("passwd")), source: abs("passwd"), link: "/etc/passwd", mode: 0o777},
		{name: outsideName(abs("up")), source: abs("up"), link: "../up", mode: 0o777},
	}
	a := craftArchive(t, "", entries, nil)
	into := t.TempDir()
	res, err := Restore(t.Context(), afero.NewOsFs(), a, RestoreOptions{Into: into, Outside: true})
	if !errors.Is(err, ErrRefused) {
		t.Fatalf("err %v, want ErrRefused", err)
	}
	got := actions(res)
	want := map[string]string{
		outsideName(abs("good.xml")):     ActionWrite,
		outsideName(abs("current.xml")):  ActionWrite,
		outsideName(abs("nosource")):     ActionRefused,
		outsideName(abs("evil")):         ActionRefused,
		outsideName(abs("x/../unclean")): ActionRefused,
		outsideName(abs("passwd")):       ActionRefused,
		outsideName(abs("up")):           ActionRefused,
	}
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %s, want %s", name, got[name], w)
		}
	}
	for _, name := range []string{"nosource", "evil", "other", "unclean", "passwd", "up"} {
		if _, err := os.Lstat(abs(name)); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s was written", abs(name))
		}
	}
	if b, err := os.ReadFile(abs("current.xml")); err != nil || string(b) != "<gateway-config/>" {
		t.Errorf("current.xml: %q %v", b, err)
	}
	wantOutside := []string{abs("good.xml"), abs("current.xml")}
	if strings.Join(res.Outside, "\n") != strings.Join(wantOutside, "\n") {
		t.Errorf("Outside %q, want %q", res.Outside, wantOutside)
	}
}

// TestRestoreRefusesMidUpgradeHome: an unpack journal next to the home
// means the home is half upgraded; restore writes nothing there.
func TestRestoreRefusesMidUpgradeHome(t *testing.T) {
	into := filepath.Join(t.TempDir(), "home")
	must(t, os.Mkdir(into, 0o755))
	must(t, os.WriteFile(JournalPath(into), []byte("{}"), 0o600))
	a := craftArchive(t, into, keysEntry, nil)
	for _, opts := range []RestoreOptions{{}, {Into: into}, {Into: into, DryRun: true}, {Into: into, Force: true}} {
		_, err := Restore(t.Context(), afero.NewOsFs(), a, opts)
		if !errors.Is(err, ErrUnfinished) || !strings.Contains(err.Error(), JournalPath(into)) {
			t.Errorf("%+v: err %v, want ErrUnfinished naming the journal", opts, err)
		}
	}
	if names, _ := os.ReadDir(into); len(names) != 0 {
		t.Errorf("restore wrote into a home mid-upgrade: %v", names)
	}
}
