package backup

// select.go decides which files of a Gateway home a backup must hold, and
// says why for each one (the dry-run listing is the selection itself).
//
//	sel, err := backup.Select(ctx, fsys, inst, backup.SelectOptions{Pristine: &rel})
//
// Methods, from the most to the least exact (the first that applies wins,
// --all overrides them all):
//
//   - MethodShipped: HOME/.gwup-shipped.json, left by a previous gwup unpack,
//     lists the release as shipped: changed, added and deleted files are known.
//   - MethodPristine: the release archive the install came from (--pristine):
//     same exactness.
//   - MethodAgainst: the new release (--against): every file the unpack would
//     overwrite with different content, plus every file it does not ship.
//   - MethodKnownSet: no reference: the places users are known to change
//     (kaazing-facts.md 1.4): conf/, license/, lib/ext/, lib/spi/, user jars
//     in lib/, web roots other than extras/ welcome/ commandcenter/,
//     error-pages/, bin/.
//   - MethodAll: the whole home.
//
// Whatever the method: log/ and temp/ are left out unless WithLogs; gwup's
// own .gwup-staging* dirs, .gwup-backup-*.tmp files and the Skip paths are
// never included; the configuration file and the keystores it references are
// added when they live outside the home, under "_outside/<absolute path>".
// Symlinks are selected as links, never followed.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

// Method names how a selection knew which files the user changed.
type Method string

const (
	MethodShipped  Method = "shipped"
	MethodPristine Method = "pristine"
	MethodAgainst  Method = "against"
	MethodKnownSet Method = "known-set"
	MethodAll      Method = "all"
)

// OutsidePrefix is the folder, in an archive, of files that live outside the
// home; below it is their absolute path without the leading slash.
const OutsidePrefix = "_outside/"

// SelectOptions chooses the method. Pristine and Against come from
// [ReadRelease]; with neither, and no shipped record in the home, the
// known set is used.
type SelectOptions struct {
	All      bool     // the whole home
	WithLogs bool     // include log/ and temp/
	Pristine *Shipped // the release the install came from
	Against  *Shipped // the release about to be unpacked
	Skip     []string // absolute paths never to include (the backup output)
}

// Selected is one file to back up.
type Selected struct {
	Name   string `json:"name"`   // name in the archive: relative to the home, or OutsidePrefix + absolute path
	Path   string `json:"path"`   // absolute path on the disk
	Reason string `json:"reason"` // why it is included
}

// Unreadable is a file or directory that could not be read; a backup with
// any is incomplete.
type Unreadable struct {
	Path  string `json:"path"`
	Error string `json:"error"`
}

// Selection is the list of files a backup will hold.
type Selection struct {
	Home    string     `json:"home"`
	Release string     `json:"release"`
	Method  Method     `json:"method"`
	Files   []Selected `json:"files"`
	// Deleted are shipped files missing from the home (methods shipped and
	// pristine): there is nothing to save, but the upgrade should know.
	Deleted    []string     `json:"deleted,omitempty"`
	Unreadable []Unreadable `json:"unreadable,omitempty"`
}

// Select walks inst.Home and returns the files to back up. It reads only.
func Select(ctx context.Context, fsys afero.Fs, inst scan.Install, opts SelectOptions) (Selection, error) {
	home := filepath.Clean(inst.Home)
	if inst.Home == "" || !filepath.IsAbs(home) {
		return Selection{}, fmt.Errorf("select %q: home must be an absolute path", inst.Home)
	}
	fi, err := fsys.Stat(home)
	if err != nil {
		return Selection{}, fmt.Errorf("select %s: %w", home, err)
	}
	if !fi.IsDir() {
		return Selection{}, fmt.Errorf("select %s: not a directory", home)
	}
	s := &selector{ctx: ctx, fsys: fsys, home: home, opts: opts, sel: Selection{Home: home, Release: inst.Release}}
	if err := s.chooseMethod(); err != nil {
		return Selection{}, err
	}
	if err := s.walk(); err != nil {
		return Selection{}, err
	}
	s.addReferenced(inst.Config)
	s.addLinkedDirs()
	sort.SliceStable(s.sel.Files, func(i, j int) bool { return s.sel.Files[i].Name < s.sel.Files[j].Name })
	// A file can be reached twice (referenced by the config and inside a
	// symlinked conf/): an archive holds each name once.
	s.sel.Files = slices.CompactFunc(s.sel.Files, func(a, b Selected) bool { return a.Name == b.Name })
	sort.Strings(s.sel.Deleted)
	return s.sel, nil
}

type selector struct {
	ctx  context.Context
	fsys afero.Fs
	home string
	opts SelectOptions
	sel  Selection
	ref  map[string]ShippedFile // the reference release, by path, for shipped/pristine/against
	seen map[string]bool        // reference paths found in the home
}

func (s *selector) chooseMethod() error {
	switch {
	case s.opts.All:
		s.sel.Method = MethodAll
	case s.opts.Pristine != nil:
		s.sel.Method, s.ref = MethodPristine, shippedIndex(s.opts.Pristine)
	case s.opts.Against != nil:
		s.sel.Method, s.ref = MethodAgainst, shippedIndex(s.opts.Against)
	default:
		rec, err := readShippedRecord(s.fsys, s.home)
		switch {
		case err == nil:
			s.sel.Method, s.ref = MethodShipped, shippedIndex(&rec)
		case errors.Is(err, fs.ErrNotExist):
			s.sel.Method = MethodKnownSet
		default:
			return fmt.Errorf("select %s: %w", s.home, err)
		}
	}
	s.seen = map[string]bool{}
	return nil
}

// readShippedRecord reads HOME/.gwup-shipped.json; fs.ErrNotExist when absent.
func readShippedRecord(fsys afero.Fs, home string) (Shipped, error) {
	name := filepath.Join(home, ShippedName)
	data, err := afero.ReadFile(fsys, name)
	if err != nil {
		return Shipped{}, fmt.Errorf("read %s: %w", name, err)
	}
	var rec Shipped
	if err := json.Unmarshal(data, &rec); err != nil {
		return Shipped{}, fmt.Errorf("read %s: %w", name, err)
	}
	if rec.Schema != ShippedSchema {
		return Shipped{}, fmt.Errorf("read %s: schema %q, want %q", name, rec.Schema, ShippedSchema)
	}
	return rec, nil
}

// skipped reports whether rel (slash, relative to the home) is never backed
// up, or left out by default.
func (s *selector) skipped(rel string, abs string, isDir bool) bool {
	base := path.Base(rel)
	if isDir && strings.HasPrefix(base, ".gwup-staging") {
		return true
	}
	if !isDir && strings.HasPrefix(base, ".gwup-backup-") && strings.HasSuffix(base, ".tmp") {
		return true
	}
	if rel == ShippedName {
		return true // the record describes the old release; unpack writes a new one
	}
	for _, p := range s.opts.Skip {
		if filepath.Clean(p) == abs {
			return true
		}
	}
	if !s.opts.WithLogs && isDir && (rel == "log" || rel == "temp") {
		return true
	}
	return false
}

func (s *selector) walk() error {
	// The trailing separator makes a symlinked home (/opt/kaazing/current)
	// walked as the directory it points to; nothing below it is followed.
	err := afero.Walk(s.fsys, s.home+string(filepath.Separator), func(abs string, info fs.FileInfo, err error) error {
		if cerr := s.ctx.Err(); cerr != nil {
			return cerr
		}
		rel, rerr := filepath.Rel(s.home, abs)
		if rerr != nil {
			return rerr
		}
		rel = filepath.ToSlash(rel)
		if err != nil {
			s.sel.Unreadable = append(s.sel.Unreadable, Unreadable{Path: abs, Error: err.Error()})
			if info != nil && info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if rel == "." {
			return nil
		}
		if s.skipped(rel, abs, info.IsDir()) {
			if info.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if info.IsDir() {
			return nil
		}
		if !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
			return nil // sockets, fifos, devices
		}
		if reason := s.reason(rel, abs, info); reason != "" {
			s.sel.Files = append(s.sel.Files, Selected{Name: rel, Path: abs, Reason: reason})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("select %s: %w", s.home, err)
	}
	if s.sel.Method == MethodShipped || s.sel.Method == MethodPristine {
		for p := range s.ref {
			if !s.seen[p] && !s.excludedByDefault(p) {
				s.sel.Deleted = append(s.sel.Deleted, p)
			}
		}
	}
	return nil
}

// excludedByDefault reports whether a reference path lies in a folder the
// walk skipped on purpose, so its absence is not a deletion.
func (s *selector) excludedByDefault(p string) bool {
	if !s.opts.WithLogs && (strings.HasPrefix(p, "log/") || strings.HasPrefix(p, "temp/")) {
		return true
	}
	return false
}

// reason says why the file rel is backed up, "" when it is not.
func (s *selector) reason(rel, abs string, info fs.FileInfo) string {
	switch s.sel.Method {
	case MethodAll:
		if strings.HasPrefix(rel, "log/") || strings.HasPrefix(rel, "temp/") {
			return "runtime data (--with-logs)"
		}
		return "whole home (--all)"
	case MethodKnownSet:
		return knownSetReason(rel)
	}
	ref, ok := s.ref[rel]
	if ok {
		s.seen[rel] = true
	}
	from := map[Method]string{MethodShipped: "shipped record", MethodPristine: "pristine release", MethodAgainst: "new release"}[s.sel.Method]
	if !ok {
		if s.sel.Method == MethodAgainst {
			return "not shipped by the new release"
		}
		return "added since install (not in the " + from + ")"
	}
	same, err := s.sameAs(abs, info, ref)
	if err != nil {
		// Cannot compare: keep it, the archive step will record it if it
		// stays unreadable.
		return "could not compare with the " + from + ": " + err.Error()
	}
	if same {
		return ""
	}
	if s.sel.Method == MethodAgainst {
		return "differs from the new release (the unpack would overwrite it)"
	}
	return "changed since install (differs from the " + from + ")"
}

// sameAs compares a file on disk with a reference entry: type, link target,
// size and sha256. Permission bits are not compared, as dpkg does not: an
// unpack under another umask would make every file look changed.
func (s *selector) sameAs(abs string, info fs.FileInfo, ref ShippedFile) (bool, error) {
	refMode := fs.FileMode(ref.Mode)
	if info.Mode()&fs.ModeSymlink != 0 || ref.Link != "" {
		if info.Mode()&fs.ModeSymlink == 0 || refMode&fs.ModeSymlink == 0 && ref.Link == "" {
			return false, nil
		}
		target, err := readlink(s.fsys, abs)
		if err != nil {
			return false, err
		}
		return target == ref.Link, nil
	}
	if info.Size() != ref.Size {
		return false, nil
	}
	sum, _, err := hashFile(s.fsys, abs)
	if err != nil {
		return false, err
	}
	return sum == ref.SHA256, nil
}

// shippedJarPrefixes are the name prefixes of the jars Kaazing releases ship
// in lib/ (Kaazing's own modules and the third-party jars seen in 4.x and
// 5.x trees). A jar in lib/ named otherwise is taken to be the user's. The
// heuristic cannot be exact: a user's replacement of a shipped jar (same
// name) is missed, and a third-party jar not listed here is saved needlessly
// (harmless). The exact methods (shipped, pristine, against) have no such gap.
var shippedJarPrefixes = []string{
	"gateway.", "com.kaazing.", "org.kaazing.", "enterprise.", "mina.", "kaazing",
	"hazelcast-", "log4j-", "slf4j-", "sigar", "snmp4j", "netty", "bcprov", "bcpkix",
	"commons-", "jsr", "antlr", "xmlbeans", "stax", "jetty", "jackson-", "guava",
	"javax.", "jms-", "geronimo", "activemq", "json", "jaxb", "xerces", "xml-apis",
}

// knownSetReason is the reason a file is in the known set, "" when not.
func knownSetReason(rel string) string {
	dir, rest, _ := strings.Cut(rel, "/")
	switch dir {
	case "conf":
		return "configuration (conf/)"
	case "license":
		return "licence (license/)"
	case "error-pages":
		return "error pages (error-pages/)"
	case "bin":
		return "start scripts (bin/)"
	case "lib":
		switch {
		case strings.HasPrefix(rest, "ext/"):
			return "user libraries (lib/ext/)"
		case strings.HasPrefix(rest, "spi/"):
			return "user extensions (lib/spi/)"
		case !strings.Contains(rest, "/") && strings.HasSuffix(rest, ".jar") && !isShippedJarName(rest):
			return "user jar in lib/ (not named like a shipped jar)"
		}
	case "web":
		root, _, nested := strings.Cut(rest, "/")
		if !nested {
			if rest == "README.txt" {
				return ""
			}
			return "web root file (web/)"
		}
		switch root {
		case "extras", "welcome", "commandcenter":
			return ""
		}
		return "user web root (web/" + root + "/)"
	}
	return ""
}

func isShippedJarName(name string) bool {
	for _, p := range shippedJarPrefixes {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// addReferenced adds the configuration file and the files it references
// (keystores, password files). Outside the home they are always added, under
// OutsidePrefix: an upgrade does not touch them, but a restore on a new host
// needs them. Inside the home the known set adds them too, wherever they
// are (the exact methods already compared them).
func (s *selector) addReferenced(cfg *scan.Config) {
	if cfg == nil {
		return
	}
	add := func(p, reason string) {
		if p == "" || !filepath.IsAbs(p) {
			return
		}
		p = filepath.Clean(p)
		inside := isInside(s.home, p)
		if inside && s.sel.Method != MethodKnownSet {
			return
		}
		for _, f := range s.sel.Files {
			if f.Path == p {
				return
			}
		}
		info, err := lstat(s.fsys, p)
		if err != nil {
			s.sel.Unreadable = append(s.sel.Unreadable, Unreadable{Path: p, Error: err.Error()})
			return
		}
		if !info.Mode().IsRegular() && info.Mode()&fs.ModeSymlink == 0 {
			return
		}
		name := outsideName(p)
		if inside {
			rel, _ := filepath.Rel(s.home, p)
			name = filepath.ToSlash(rel)
		} else {
			reason += ", outside the home"
		}
		s.sel.Files = append(s.sel.Files, Selected{Name: name, Path: p, Reason: reason})
	}
	add(cfg.Path, "the configuration the install loads")
	for _, r := range cfg.Referenced {
		add(r, "referenced by the configuration")
	}
}

// linkedDirs are the folders users change whose content must be saved even
// when the folder is a symlink (a Docker volume, conf/ -> /etc/kaazing).
var linkedDirs = []string{"conf", "license", "lib/ext", "web/base", "error-pages", "bin"}

// addLinkedDirs saves the content of user folders that are symlinks to a
// directory outside the home, under OutsidePrefix + their real path: the
// walk records the link itself and does not follow it.
func (s *selector) addLinkedDirs() {
	for _, d := range linkedDirs {
		p := filepath.Join(s.home, filepath.FromSlash(d))
		info, err := lstat(s.fsys, p)
		if err != nil || info.Mode()&fs.ModeSymlink == 0 {
			continue
		}
		target, err := readlink(s.fsys, p)
		if err != nil {
			s.sel.Unreadable = append(s.sel.Unreadable, Unreadable{Path: p, Error: err.Error()})
			continue
		}
		if !filepath.IsAbs(target) {
			target = filepath.Join(filepath.Dir(p), target)
		}
		target = filepath.Clean(target)
		if isInside(s.home, target) {
			continue // its content is walked where it really is
		}
		_ = afero.Walk(s.fsys, target, func(abs string, fi fs.FileInfo, err error) error {
			if err != nil {
				s.sel.Unreadable = append(s.sel.Unreadable, Unreadable{Path: abs, Error: err.Error()})
				return nil
			}
			if fi.Mode().IsRegular() || fi.Mode()&fs.ModeSymlink != 0 {
				s.sel.Files = append(s.sel.Files, Selected{Name: outsideName(abs), Path: abs, Reason: d + "/ is a symlink to " + target})
			}
			return nil
		})
	}
}

// outsideName is the archive name of the absolute path p.
func outsideName(p string) string {
	return OutsidePrefix + strings.TrimPrefix(filepath.ToSlash(p), "/")
}
