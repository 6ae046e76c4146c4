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
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/kaazing-tools/gwup/scan/scantest"
)

// tEntry is one entry of an archive built by a test.
type tEntry struct {
	Name string
	Body string
	Mode int64
	Type byte // tar type flag; 0 means a regular file (or a dir when Name ends in "/")
	Link string
}

func dirEntry(name string) tEntry { return tEntry{Name: name, Type: tar.TypeDir, Mode: 0o755} }
func fileEntry(name, body string) tEntry {
	return tEntry{Name: name, Body: body, Type: tar.TypeReg, Mode: 0o644}
}
func linkEntry(name, target string) tEntry {
	return tEntry{Name: name, Type: tar.TypeSymlink, Link: target, Mode: 0o777}
}

// fakeRelease is a realistic small Gateway home as shipped, under its top
// folder. Releases "5.0.0" and "5.0.1" differ in README.txt, the main
// config, the server jar (new manifest), lib/old.jar (only in 5.0.0) and
// lib/new.jar (only in 5.0.1).
func fakeRelease(version string) []tEntry {
	top := "kaazing-gateway-community-" + version + "/"
	jar := string(scantest.Jar("Implementation-Title: Kaazing Gateway", "Implementation-Version: "+version, "Kaazing-Product: Community.Gateway"))
	es := []tEntry{
		dirEntry(top),
		fileEntry(top+"README.txt", "KAAZING Gateway "+version+"\r\n"),
		dirEntry(top + "bin/"),
		{Name: top + "bin/gateway.start", Body: "#!/bin/sh\nexec java -cp \"$GW_HOME/lib/*\" org.kaazing.gateway.server.Main \"$@\"\n", Type: tar.TypeReg, Mode: 0o755},
		dirEntry(top + "conf/"),
		fileEntry(top+"conf/gateway-config.xml", "<gateway-config xmlns=\"http://xmlns.kaazing.org/2014/09/gateway\">\n<!-- "+version+" -->\n</gateway-config>\n"),
		fileEntry(top+"conf/log4j-config.xml", "<log4j:configuration/>\n"),
		fileEntry(top+"conf/keystore.pw", "ab987c"),
		dirEntry(top + "lib/"),
		fileEntry(top+"lib/gateway.server.jar", jar),
		fileEntry(top+"lib/log4j-1.2.17.jar", "log4j bytes"),
		linkEntry(top+"lib/server.jar", "gateway.server.jar"),
		dirEntry(top + "web/"),
		dirEntry(top + "web/base/"),
		fileEntry(top+"web/base/index.html", "<html>welcome</html>\n"),
		dirEntry(top + "log/"),
		dirEntry(top + "temp/"),
	}
	if version == "5.0.0" {
		es = append(es, fileEntry(top+"lib/old.jar", "old"))
	} else {
		es = append(es, dirEntry(top+"lib/extra/"), fileEntry(top+"lib/extra/new.jar", "new in "+version))
	}
	return es
}

// writeTar builds a tar (gzipped if gz) of entries.
func writeTar(t testing.TB, entries []tEntry, gz bool) []byte {
	t.Helper()
	var buf bytes.Buffer
	var tw *tar.Writer
	var zw *gzip.Writer
	if gz {
		zw = gzip.NewWriter(&buf)
		tw = tar.NewWriter(zw)
	} else {
		tw = tar.NewWriter(&buf)
	}
	for _, e := range entries {
		hdr := &tar.Header{Name: e.Name, Mode: e.Mode, Typeflag: e.Type, Linkname: e.Link, Format: tar.FormatPAX}
		if e.Type == tar.TypeReg {
			hdr.Size = int64(len(e.Body))
		}
		if e.Type == tar.TypeChar || e.Type == tar.TypeBlock {
			hdr.Devmajor, hdr.Devminor = 1, 3
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			if _, err := tw.Write([]byte(e.Body)); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if zw != nil {
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
	}
	return buf.Bytes()
}

// writeZip builds a zip of entries; hard links cannot be expressed.
func writeZip(t testing.TB, entries []tEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		fh := &zip.FileHeader{Name: e.Name, Method: zip.Deflate}
		mode := fs.FileMode(e.Mode).Perm()
		body := e.Body
		switch e.Type {
		case tar.TypeDir:
			mode |= fs.ModeDir
			if !strings.HasSuffix(fh.Name, "/") {
				fh.Name += "/"
			}
		case tar.TypeSymlink:
			mode |= fs.ModeSymlink
			body = e.Link
		case tar.TypeChar:
			mode |= fs.ModeDevice | fs.ModeCharDevice
		case tar.TypeFifo:
			mode |= fs.ModeNamedPipe
		case tar.TypeLink:
			t.Fatalf("zip cannot hold the hard link %s", e.Name)
		}
		fh.SetMode(mode)
		w, err := zw.CreateHeader(fh)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func writeArchive(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// snapshot describes a tree: every path with its type, permission bits and
// content hash or link target. Two trees are the same when their snapshots
// are equal.
func snapshot(t testing.TB, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			out[rel] = "symlink -> " + link
		case d.IsDir():
			out[rel] = fmt.Sprintf("dir %v", info.Mode().Perm())
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			sum := sha256.Sum256(data)
			out[rel] = fmt.Sprintf("file %v %s", info.Mode().Perm(), hex.EncodeToString(sum[:8]))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func diffSnapshots(before, after map[string]string) []string {
	var diffs []string
	for p, b := range before {
		if a, ok := after[p]; !ok {
			diffs = append(diffs, "removed "+p)
		} else if a != b {
			diffs = append(diffs, fmt.Sprintf("changed %s: %s -> %s", p, b, a))
		}
	}
	for p := range after {
		if _, ok := before[p]; !ok {
			diffs = append(diffs, "added "+p)
		}
	}
	slices.Sort(diffs)
	return diffs
}

func listDir(t testing.TB, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

// fakeBackup is a backup hook that records it was called.
func fakeBackup(calls *int) func(context.Context, *UnpackPlan) (string, error) {
	return func(context.Context, *UnpackPlan) (string, error) {
		*calls++
		return "/backups/home-before.tar.gz", nil
	}
}

// fixture is a parent directory holding a home and release archives.
type fixture struct {
	parent, home, v1, v2 string
}

// newInstalledHome unpacks release 5.0.0 into an empty home (so the home
// has its .gwup-shipped.json), then makes the user's changes: an edited
// gateway-config.xml (changed by the release too), an edited
// log4j-config.xml (not changed by the release), an added lib/ext jar and
// config file.
func newInstalledHome(t *testing.T) fixture {
	t.Helper()
	base := t.TempDir()
	fx := fixture{parent: filepath.Join(base, "opt"), home: filepath.Join(base, "opt", "gateway")}
	if err := os.MkdirAll(fx.home, 0o755); err != nil {
		t.Fatal(err)
	}
	fx.v1 = writeArchive(t, base, "v1.tar.gz", writeTar(t, fakeRelease("5.0.0"), true))
	fx.v2 = writeArchive(t, base, "v2.tar.gz", writeTar(t, fakeRelease("5.0.1"), true))
	calls := 0
	plan, err := PlanUnpack(t.Context(), fx.v1, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); err != nil {
		t.Fatal(err)
	}
	userEdits(t, fx.home)
	return fx
}

func userEdits(t *testing.T, home string) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(os.WriteFile(filepath.Join(home, "conf/gateway-config.xml"), []byte("<gateway-config><!-- mine --></gateway-config>\n"), 0o640))
	must(os.WriteFile(filepath.Join(home, "conf/log4j-config.xml"), []byte("<log4j:configuration debug=\"true\"/>\n"), 0o644))
	must(os.MkdirAll(filepath.Join(home, "lib/ext"), 0o755))
	must(os.WriteFile(filepath.Join(home, "lib/ext/login-module.jar"), []byte("user jar"), 0o644))
	must(os.WriteFile(filepath.Join(home, "conf/echo-config.xml"), []byte("<gateway-config/>\n"), 0o644))
	must(os.WriteFile(filepath.Join(home, "log/gateway.log"), []byte("INFO started\n"), 0o644))
}

// checkApplied proves that what Apply did is what the plan said, path by
// path: the dry-run's plan is the truth about the unpack.
func checkApplied(t *testing.T, plan *UnpackPlan, before, after map[string]string, releaseSnap map[string]string) {
	t.Helper()
	touched := map[string]bool{ShippedName: true}
	for _, f := range plan.Files {
		touched[f.Path] = true
		if f.Side != "" {
			touched[f.Side] = true
		}
		p := filepath.FromSlash(f.Path)
		side := filepath.FromSlash(f.Side)
		switch f.Fate {
		case FateInstall, FateReplace:
			if f.Kind == kindDir {
				if !strings.HasPrefix(after[p], "dir") {
					t.Errorf("%s (%s): want a directory, got %q", f.Path, f.Fate, after[p])
				}
				continue
			}
			if after[p] != releaseSnap[p] {
				t.Errorf("%s (%s): got %q, want the release's %q", f.Path, f.Fate, after[p], releaseSnap[p])
			}
		case FateSame, FateKeep, FateUser, FateObsolete:
			if after[p] != before[p] {
				t.Errorf("%s (%s): changed from %q to %q", f.Path, f.Fate, before[p], after[p])
			}
		case FateKeepNew:
			if after[p] != before[p] {
				t.Errorf("%s (%s): the user's file changed from %q to %q", f.Path, f.Fate, before[p], after[p])
			}
			if after[side] != releaseSnap[p] {
				t.Errorf("%s (%s): got %q, want the release's %q", f.Side, f.Fate, after[side], releaseSnap[p])
			}
		case FateNewOld:
			if after[p] != releaseSnap[p] {
				t.Errorf("%s (%s): got %q, want the release's %q", f.Path, f.Fate, after[p], releaseSnap[p])
			}
			if after[side] != before[p] {
				t.Errorf("%s (%s): got %q, want the user's %q", f.Side, f.Fate, after[side], before[p])
			}
		default:
			t.Errorf("%s: unexpected fate %s after Apply", f.Path, f.Fate)
		}
	}
	// Nothing the plan does not name may change (log/, temp/ content included).
	for _, d := range diffSnapshots(before, after) {
		_, p, _ := strings.Cut(d, " ")
		p, _, _ = strings.Cut(p, ":")
		if !touched[filepath.ToSlash(p)] {
			t.Errorf("not in the plan: %s", d)
		}
	}
}

// releaseSnapshot extracts an archive with tar(1)-like plain code to know
// what each file of the release looks like on disk.
func releaseSnapshot(t *testing.T, entries []tEntry) map[string]string {
	t.Helper()
	dir := t.TempDir()
	for _, e := range entries {
		_, rel, _ := strings.Cut(strings.TrimSuffix(e.Name, "/"), "/")
		if rel == "" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(rel))
		var err error
		switch e.Type {
		case tar.TypeDir:
			err = os.MkdirAll(p, fs.FileMode(e.Mode))
		case tar.TypeSymlink:
			err = os.Symlink(e.Link, p)
		default:
			if err = os.WriteFile(p, []byte(e.Body), 0o600); err == nil {
				err = os.Chmod(p, fs.FileMode(e.Mode))
			}
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return snapshot(t, dir)
}

func TestApplyDoesWhatThePlanSays(t *testing.T) {
	for _, mode := range []string{"shipped/keep", "shipped/new", "pristine/keep", "heuristic/new", "shipped/keep/second-pass"} {
		t.Run(mode, func(t *testing.T) {
			ref, conffiles, _ := strings.Cut(mode, "/")
			conffiles, secondPass := strings.CutSuffix(conffiles, "/second-pass")
			fx := newInstalledHome(t)
			opts := UnpackOptions{Conffiles: conffiles, testOnlyNoCache: secondPass}
			if ref != "shipped" {
				if err := os.Remove(filepath.Join(fx.home, ShippedName)); err != nil {
					t.Fatal(err)
				}
			}
			if ref == "pristine" {
				opts.Pristine = fx.v1
			}
			before := snapshot(t, fx.home)
			parentBefore := listDir(t, fx.parent)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := snapshot(t, fx.home); len(diffSnapshots(before, got)) != 0 {
				t.Fatalf("planning changed the home: %v", diffSnapshots(before, got))
			}
			if (plan.content == nil) != secondPass {
				t.Fatalf("plan content kept: %v, want %v", plan.content != nil, !secondPass)
			}
			calls := 0
			res, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)})
			if err != nil {
				t.Fatal(err)
			}
			if calls != 1 {
				t.Errorf("backup hook called %d times, want 1", calls)
			}
			checkApplied(t, plan, before, snapshot(t, fx.home), releaseSnapshot(t, fakeRelease("5.0.1")))
			if got := listDir(t, fx.parent); !slices.Equal(got, parentBefore) {
				t.Errorf("parent directory: got %v, want %v (staging or journal left behind?)", got, parentBefore)
			}
			if res.Backup != "/backups/home-before.tar.gz" || res.Rollback != "gwup restore --force --into "+fx.home+" /backups/home-before.tar.gz" {
				t.Errorf("result backup/rollback: %q / %q", res.Backup, res.Rollback)
			}
			if len(res.Merge) == 0 || res.Merge[0].Path != "conf/gateway-config.xml" || !strings.Contains(res.Merge[0].Note, "namespace") {
				t.Errorf("merge notes: %+v", res.Merge)
			}
			if wantObsolete := []string{"lib/old.jar"}; ref != "heuristic" && !slices.Equal(res.Obsolete, wantObsolete) {
				t.Errorf("obsolete: got %v, want %v", res.Obsolete, wantObsolete)
			}
			checkShippedRecord(t, fx.home, "5.0.1", fakeRelease("5.0.1"))
		})
	}
}

// checkShippedRecord reads HOME/.gwup-shipped.json and compares it with the
// release's files.
func checkShippedRecord(t *testing.T, home, version string, entries []tEntry) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(home, ShippedName))
	if err != nil {
		t.Fatal(err)
	}
	var s Shipped
	if err := json.Unmarshal(data, &s); err != nil {
		t.Fatal(err)
	}
	if s.Schema != ShippedSchema || s.Release != version {
		t.Errorf("shipped record: schema %q release %q", s.Schema, s.Release)
	}
	got := map[string]ShippedFile{}
	for _, f := range s.Files {
		got[f.Path] = f
	}
	for _, e := range entries {
		_, rel, _ := strings.Cut(strings.TrimSuffix(e.Name, "/"), "/")
		if rel == "" {
			continue
		}
		f, ok := got[rel]
		if !ok {
			t.Errorf("shipped record lacks %s", rel)
			continue
		}
		if e.Type == tar.TypeReg {
			sum := sha256.Sum256([]byte(e.Body))
			if f.SHA256 != hex.EncodeToString(sum[:]) || f.Size != int64(len(e.Body)) {
				t.Errorf("shipped record %s: %+v", rel, f)
			}
		}
		if e.Type == tar.TypeSymlink && (f.Link != e.Link || fs.FileMode(f.Mode)&fs.ModeSymlink == 0) {
			t.Errorf("shipped record %s: %+v", rel, f)
		}
	}
	if len(got) != len(entries)-1 {
		t.Errorf("shipped record has %d files, release %d", len(got), len(entries)-1)
	}
}

// unchangedAfter checks that a failed or refused unpack left no trace.
func unchangedAfter(t *testing.T, fx fixture, before map[string]string, parentBefore []string) {
	t.Helper()
	if d := diffSnapshots(before, snapshot(t, fx.home)); len(d) != 0 {
		t.Errorf("the home changed: %v", d)
	}
	if got := listDir(t, fx.parent); !slices.Equal(got, parentBefore) {
		t.Errorf("parent directory: got %v, want %v", got, parentBefore)
	}
}

func TestApplyRefuses(t *testing.T) {
	failingBackup := func(context.Context, *UnpackPlan) (string, error) {
		return "", errors.New("verify backup: sha256 mismatch")
	}
	tests := []struct {
		name    string
		opts    UnpackOptions
		prepare func(t *testing.T, fx fixture)
		want    error
	}{
		{name: "no backup hook", want: ErrNoBackup},
		{name: "backup fails", opts: UnpackOptions{Backup: failingBackup}, want: ErrNoBackup},
		{name: "gateway running", opts: UnpackOptions{GatewayRunning: true}, want: ErrGatewayRunning},
		{name: "unfinished unpack", prepare: func(t *testing.T, fx fixture) {
			if err := os.WriteFile(JournalPath(fx.home), []byte("{}"), 0o600); err != nil {
				t.Fatal(err)
			}
		}, want: ErrUnfinished},
		{name: "file edited after plan", prepare: func(t *testing.T, fx fixture) {
			if err := os.WriteFile(filepath.Join(fx.home, "README.txt"), []byte("edited after the plan, longer"), 0o644); err != nil {
				t.Fatal(err)
			}
		}, want: ErrHomeChanged},
		{name: "directory swapped for a symlink after plan", prepare: func(t *testing.T, fx fixture) {
			lib := filepath.Join(fx.home, "lib")
			if err := os.Rename(lib, lib+".moved"); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink(t.TempDir(), lib); err != nil {
				t.Fatal(err)
			}
		}, want: ErrHomeChanged},
		{name: "archive replaced after plan", prepare: func(t *testing.T, fx fixture) {
			writeArchive(t, filepath.Dir(fx.v2), filepath.Base(fx.v2), writeTar(t, fakeRelease("5.0.0"), true))
		}, want: ErrArchiveChanged},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if tt.prepare != nil {
				tt.prepare(t, fx)
			}
			if tt.opts.Backup == nil && tt.want != ErrNoBackup {
				calls := 0
				tt.opts.Backup = fakeBackup(&calls)
			}
			before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
			_, err = ApplyUnpack(t.Context(), plan, tt.opts)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, want %v", err, tt.want)
			}
			unchangedAfter(t, fx, before, parentBefore)
		})
	}
}

// TestApplyArchiveSwappedSameSize replaces the archive, after the plan, by
// one of the same size with other content: the second pass must notice
// before anything reaches the home.
func TestApplyArchiveSwappedSameSize(t *testing.T) {
	fx := newInstalledHome(t)
	v2 := fakeRelease("5.0.1")
	fx.v2 = writeArchive(t, filepath.Dir(fx.v2), "v2.tar", writeTar(t, v2, false))
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{testOnlyNoCache: true})
	if err != nil {
		t.Fatal(err)
	}
	for i := range v2 {
		if strings.HasSuffix(v2[i].Name, "README.txt") {
			v2[i].Body = strings.Replace(v2[i].Body, "5.0.1", "6.6.6", 1)
		}
	}
	writeArchive(t, filepath.Dir(fx.v2), "v2.tar", writeTar(t, v2, false))
	before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
	calls := 0
	_, err = ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)})
	if !errors.Is(err, ErrArchiveChanged) {
		t.Fatalf("got %v, want ErrArchiveChanged", err)
	}
	unchangedAfter(t, fx, before, parentBefore)
}

func TestApplyRefusesConflicts(t *testing.T) {
	fx := newInstalledHome(t)
	// The user has a file where the new release has a directory.
	if err := os.WriteFile(filepath.Join(fx.home, "lib/extra"), []byte("mine"), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range plan.Conflicts() {
		got = append(got, c.Path)
	}
	if want := []string{"lib/extra", "lib/extra/new.jar"}; !slices.Equal(got, want) {
		t.Errorf("conflicts: got %v, want %v", got, want)
	}
	before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
	calls := 0
	if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); !errors.Is(err, ErrConflict) {
		t.Fatalf("got %v, want ErrConflict", err)
	}
	unchangedAfter(t, fx, before, parentBefore)
}

// applySteps lists the step names Apply passes to its fault hook.
func applySteps(t *testing.T, conffiles string) []string {
	t.Helper()
	fx := newInstalledHome(t)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{Conffiles: conffiles})
	if err != nil {
		t.Fatal(err)
	}
	var steps []string
	calls := 0
	opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(step string) error {
		steps = append(steps, step)
		return nil
	}}
	if _, err := ApplyUnpack(t.Context(), plan, opts); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"backup", "staging", "extract", "write README.txt", "journal", "step 0", "commit", "cleanup"} {
		if !slices.Contains(steps, want) {
			t.Fatalf("steps %v lack %q", steps, want)
		}
	}
	return steps
}

// TestApplyFailsAtEachStep injects a full disk before every step, rename
// after rename: each time the home must be restored exactly and nothing
// may be left beside it.
func TestApplyFailsAtEachStep(t *testing.T) {
	for _, step := range applySteps(t, ConffilesKeep) {
		if step == "cleanup" {
			continue // after the commit: nothing to roll back (see TestApplyKilledAtEachStep)
		}
		t.Run(step, func(t *testing.T) {
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
			calls := 0
			opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(s string) error {
				if s == step {
					return &fs.PathError{Op: "write", Path: s, Err: syscall.ENOSPC}
				}
				return nil
			}}
			_, err = ApplyUnpack(t.Context(), plan, opts)
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("got %v, want ENOSPC", err)
			}
			unchangedAfter(t, fx, before, parentBefore)
		})
	}
}

// TestApplyKilledAtEachStep stops Apply dead before every step, leaving
// staging and journal as a killed process would; Recover must then roll
// back (or, once committed, finish) and a second Recover find nothing.
func TestApplyKilledAtEachStep(t *testing.T) {
	for _, conffiles := range []string{ConffilesKeep, ConffilesNew} {
		for _, step := range applySteps(t, conffiles) {
			t.Run(conffiles+"/"+step, func(t *testing.T) { killedAt(t, conffiles, step) })
		}
	}
}

func killedAt(t *testing.T, conffiles, step string) {
	t.Helper()
	fx := newInstalledHome(t)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{Conffiles: conffiles})
	if err != nil {
		t.Fatal(err)
	}
	before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
	calls := 0
	opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(s string) error {
		if s == step {
			return errSimulatedKill
		}
		return nil
	}}
	if _, err := ApplyUnpack(t.Context(), plan, opts); !errors.Is(err, errSimulatedKill) {
		t.Fatalf("got %v, want the simulated kill", err)
	}
	if step != "backup" {
		if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); !errors.Is(err, ErrUnfinished) {
			t.Fatalf("a second unpack before recover: got %v, want ErrUnfinished", err)
		}
	}
	rec, err := Recover(t.Context(), fx.home)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case step == "backup":
		if rec.Action != "none" {
			t.Errorf("recover: %+v, want none", rec)
		}
		unchangedAfter(t, fx, before, parentBefore)
	case step == "cleanup":
		if rec.Action != "finished" {
			t.Errorf("recover: %+v, want finished", rec)
		}
		checkApplied(t, plan, before, snapshot(t, fx.home), releaseSnapshot(t, fakeRelease("5.0.1")))
		if got := listDir(t, fx.parent); !slices.Equal(got, parentBefore) {
			t.Errorf("parent directory: got %v, want %v", got, parentBefore)
		}
	default:
		if rec.Action != "rolled-back" || rec.Release != "5.0.1" || rec.Backup != "/backups/home-before.tar.gz" {
			t.Errorf("recover: %+v, want rolled-back", rec)
		}
		unchangedAfter(t, fx, before, parentBefore)
	}
	if rec, err := Recover(t.Context(), fx.home); err != nil || rec.Action != "none" {
		t.Errorf("second recover: %+v, %v", rec, err)
	}
}

// TestApplyRealRenameFailure makes a rename fail for real (a read-only
// directory) rather than through the hook.
func TestApplyRealRenameFailure(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root ignores directory permissions, so the rename cannot be made to fail")
	}
	fx := newInstalledHome(t)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	lib := filepath.Join(fx.home, "lib")
	before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
	if err := os.Chmod(lib, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(lib, 0o755)
	calls := 0
	_, err = ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)})
	if !errors.Is(err, fs.ErrPermission) {
		t.Fatalf("got %v, want a permission error", err)
	}
	os.Chmod(lib, 0o755)
	unchangedAfter(t, fx, before, parentBefore)
}

func TestUnpackFromZip(t *testing.T) {
	fx := newInstalledHome(t)
	v2zip := writeArchive(t, filepath.Dir(fx.v2), "v2.zip", writeZip(t, fakeRelease("5.0.1")))
	before := snapshot(t, fx.home)
	plan, err := PlanUnpack(t.Context(), v2zip, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Format != ".zip" || plan.Release.Version != "5.0.1" {
		t.Errorf("format %q release %+v", plan.Format, plan.Release)
	}
	calls := 0
	if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); err != nil {
		t.Fatal(err)
	}
	checkApplied(t, plan, before, snapshot(t, fx.home), releaseSnapshot(t, fakeRelease("5.0.1")))
}

func TestUnpackBeside(t *testing.T) {
	fx := newInstalledHome(t)
	before := snapshot(t, fx.home)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := UnpackBeside(t.Context(), plan, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(fx.parent, "kaazing-gateway-community-5.0.1")
	if res.Home != want || !res.Beside {
		t.Fatalf("new home %q, want %q", res.Home, want)
	}
	if d := diffSnapshots(before, snapshot(t, fx.home)); len(d) != 0 {
		t.Errorf("the old home changed: %v", d)
	}
	got := snapshot(t, res.Home)
	rel := releaseSnapshot(t, fakeRelease("5.0.1"))
	checks := map[string]string{
		"conf/gateway-config.xml":     before["conf/gateway-config.xml"], // the user's, kept
		"conf/gateway-config.xml.new": rel["conf/gateway-config.xml"],    // the release's beside it
		"conf/log4j-config.xml":       before["conf/log4j-config.xml"],
		"lib/ext/login-module.jar":    before["lib/ext/login-module.jar"],
		"conf/echo-config.xml":        before["conf/echo-config.xml"],
		"lib/gateway.server.jar":      rel["lib/gateway.server.jar"],
		"lib/extra/new.jar":           rel["lib/extra/new.jar"],
		"lib/server.jar":              rel["lib/server.jar"],
		"bin/gateway.start":           rel["bin/gateway.start"],
		"lib/old.jar":                 "", // obsolete: not carried over
		"log/gateway.log":             "", // runtime: not carried over
	}
	for p, w := range checks {
		if got[p] != w {
			t.Errorf("%s: got %q, want %q", p, got[p], w)
		}
	}
	checkShippedRecord(t, res.Home, "5.0.1", fakeRelease("5.0.1"))
	if names := listDir(t, fx.parent); !slices.Equal(names, []string{"gateway", "kaazing-gateway-community-5.0.1"}) {
		t.Errorf("parent: %v", names)
	}
	if _, err := UnpackBeside(t.Context(), plan, UnpackOptions{}); err == nil || !strings.Contains(err.Error(), "exists") {
		t.Errorf("second beside: got %v, want a refusal", err)
	}
}

func TestBesideTarget(t *testing.T) {
	tests := []struct {
		home, top, version, target, want string
	}{
		{"/usr/share/kaazing/jms/3.5", "kaazing-websocket-gateway-jms-4.0.9", "4.0.9.626", "", "/usr/share/kaazing/jms/4.0"},
		{"/opt/kaazing-gateway-community-5.0.0", "kaazing-gateway-community-5.0.1", "5.0.1.53", "", "/opt/kaazing-gateway-community-5.0.1"},
		{"/opt/gw", "x", "5.0.1", "/srv/new", "/srv/new"},
	}
	for _, tt := range tests {
		got, err := BesideTarget(&UnpackPlan{Home: tt.home, TopFolder: tt.top, Release: ArchiveRelease{Version: tt.version}}, tt.target)
		if err != nil || got != tt.want {
			t.Errorf("BesideTarget(%s): got %q, %v, want %q", tt.home, got, err, tt.want)
		}
	}
}

func TestUnpackBesideFailsCleanly(t *testing.T) {
	for _, step := range []string{"extract", "write README.txt", "copy conf/gateway-config.xml", "copy lib/ext/login-module.jar", "rename"} {
		t.Run(step, func(t *testing.T) {
			fx := newInstalledHome(t)
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
			hit := false
			_, err = UnpackBeside(t.Context(), plan, UnpackOptions{testOnlyFail: func(s string) error {
				if s == step {
					hit = true
					return syscall.ENOSPC
				}
				return nil
			}})
			if !hit || !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("step %q hit %v: got %v, want ENOSPC", step, hit, err)
			}
			unchangedAfter(t, fx, before, parentBefore)
		})
	}
}

// TestUnpackArchiveWithoutDirectoryEntries: many zips list only files; the
// directories they imply are made all the same, in place and beside.
func TestUnpackArchiveWithoutDirectoryEntries(t *testing.T) {
	var filesOnly []tEntry
	for _, e := range fakeRelease("5.0.1") {
		if e.Type != tar.TypeDir {
			filesOnly = append(filesOnly, e)
		}
	}
	for _, beside := range []bool{false, true} {
		t.Run(fmt.Sprint("beside=", beside), func(t *testing.T) {
			fx := newInstalledHome(t)
			archive := writeArchive(t, filepath.Dir(fx.v2), "files-only.zip", writeZip(t, filesOnly))
			before := snapshot(t, fx.home)
			plan, err := PlanUnpack(t.Context(), archive, fx.home, UnpackOptions{})
			if err != nil {
				t.Fatal(err)
			}
			calls := 0
			if beside {
				res, err := UnpackBeside(t.Context(), plan, UnpackOptions{})
				if err != nil {
					t.Fatal(err)
				}
				if got := snapshot(t, res.Home)["lib/extra/new.jar"]; got == "" {
					t.Error("lib/extra/new.jar missing beside")
				}
				return
			}
			if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); err != nil {
				t.Fatal(err)
			}
			checkApplied(t, plan, before, snapshot(t, fx.home), releaseSnapshot(t, fakeRelease("5.0.1")))
		})
	}
}

// TestSecondPassFailures covers the path a plan too big to keep its
// content takes: the archive read again, a full disk while writing.
func TestSecondPassFailures(t *testing.T) {
	for _, step := range []string{"extract", "write README.txt", "write lib/gateway.server.jar", "step 0"} {
		for _, beside := range []bool{false, true} {
			t.Run(fmt.Sprint(step, "/beside=", beside), func(t *testing.T) {
				fx := newInstalledHome(t)
				plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{testOnlyNoCache: true})
				if err != nil {
					t.Fatal(err)
				}
				if plan.content != nil {
					t.Fatal("the plan kept its content")
				}
				before, parentBefore := snapshot(t, fx.home), listDir(t, fx.parent)
				calls, hit := 0, false
				opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(s string) error {
					if s == step {
						hit = true
						return syscall.ENOSPC
					}
					return nil
				}}
				if beside {
					_, err = UnpackBeside(t.Context(), plan, opts)
				} else {
					_, err = ApplyUnpack(t.Context(), plan, opts)
				}
				if step == "step 0" && beside {
					if err != nil || hit {
						t.Fatalf("beside has no steps: %v", err)
					}
					return
				}
				if !hit || !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("hit %v: got %v, want ENOSPC", hit, err)
				}
				unchangedAfter(t, fx, before, parentBefore)
			})
		}
	}
}
