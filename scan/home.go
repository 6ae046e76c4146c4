package scan

import (
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/spf13/afero"
)

// Home is a GATEWAY_HOME found on the disk: the directory a Gateway runs
// from. Markers are the slash-separated paths, relative to Path, that made it
// a home, in a fixed order: "bin/gateway.start", "bin/gateway.start.bat",
// "conf/", then the lib/ jars found. A home without any bin/ marker is still a
// home (conf/ plus a server jar are enough): its Markers say so.
type Home struct {
	Path    string   `json:"path"`
	Layout  Layout   `json:"layout"`
	Markers []string `json:"markers"`
}

// startScripts are the bin/ markers; a home has at least one of them in
// every shipped release, but a damaged or trimmed copy may have neither.
var startScripts = []string{"gateway.start", "gateway.start.bat"}

// serverJars are the jars that hold the Gateway's main class: 5.x community,
// 5.x Enterprise Edition and 4.x. Their names carry no version (the assembly
// renames them ${artifactId}.jar).
var serverJars = []string{"gateway.server.jar", "enterprise.gateway.server.jar", "com.kaazing.gateway.server.jar"}

// isVersionJar reports whether a lib/ file name is one of the version-bearing
// jars (gateway.distribution.version.jar, com.kaazing.gateway.*.version.jar):
// they ship only in a Gateway's lib/, so they also mark a home.
func isVersionJar(name string) bool {
	if name == "gateway.distribution.version.jar" {
		return true
	}
	return strings.HasPrefix(name, "com.kaazing.gateway.") && strings.HasSuffix(name, ".version.jar")
}

// IsHome reports whether dir is a GATEWAY_HOME: a conf/ directory and a lib/
// directory holding a server jar or a version jar. bin/gateway.start[.bat] is
// recorded when present but not required.
func IsHome(fsys afero.Fs, dir string) (Home, bool) {
	if !isDir(fsys, filepath.Join(dir, "conf")) {
		return Home{}, false
	}
	jars := homeJars(fsys, filepath.Join(dir, "lib"))
	if len(jars) == 0 {
		return Home{}, false
	}
	h := Home{Path: dir, Layout: layoutOf(dir)}
	for _, s := range startScripts {
		if isRegular(fsys, filepath.Join(dir, "bin", s)) {
			h.Markers = append(h.Markers, "bin/"+s)
		}
	}
	h.Markers = append(h.Markers, "conf/")
	for _, j := range jars {
		h.Markers = append(h.Markers, "lib/"+j)
	}
	return h, true
}

// homeJars returns the marker jars found in lib: the server jars in the order
// of serverJars, then the version jars in directory-name order. It reads the
// names of lib once instead of probing for each pattern.
func homeJars(fsys afero.Fs, lib string) []string {
	f, err := fsys.Open(lib)
	if err != nil {
		return nil
	}
	defer f.Close()
	seen := map[string]bool{}
	var versions []string
	for {
		names, err := f.Readdirnames(1024)
		for _, n := range names {
			seen[n] = true
			if isVersionJar(n) {
				versions = append(versions, n)
			}
		}
		if err != nil || len(names) == 0 {
			break
		}
	}
	var jars []string
	for _, j := range serverJars {
		if seen[j] {
			jars = append(jars, j)
		}
	}
	slices.Sort(versions)
	return append(jars, versions...)
}

func isDir(fsys afero.Fs, name string) bool {
	fi, err := fsys.Stat(name)
	return err == nil && fi.IsDir()
}

func isRegular(fsys afero.Fs, name string) bool {
	fi, err := fsys.Stat(name)
	return err == nil && fi.Mode().IsRegular()
}

var (
	// installerLinux is the Debian installer's home, /usr/share/kaazing/<edition>/<version>.
	installerLinux = regexp.MustCompile(`^/usr/share/kaazing/[^/]+/[^/]+$`)
	// installerWindows is the Windows installer's home,
	// C:\Program Files[ (x86)]\Kaazing\<edition>\<version>\Gateway; Windows
	// paths are case-insensitive, so is the match.
	installerWindows = regexp.MustCompile(`(?i)^([a-z]:)?[/\\]program files( \(x86\))?[/\\]kaazing[/\\][^/\\]+[/\\][^/\\]+[/\\]gateway$`)
)

// layoutOf says how the home at path was installed, from its path alone.
func layoutOf(path string) Layout {
	slashed := strings.ReplaceAll(path, `\`, "/")
	switch {
	case installerLinux.MatchString(slashed), installerWindows.MatchString(path):
		return LayoutInstaller
	case slashed == "/kaazing-gateway":
		return LayoutDocker
	default:
		return LayoutArchive
	}
}
