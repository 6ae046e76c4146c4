package scan

import (
	"path/filepath"
	"slices"

	"github.com/spf13/afero"
)

// KnownPlaces returns the directories where Gateway homes are usually found,
// for a quick scan that does not walk the whole disk (the advice Trivy's
// maintainers give for huge roots: read the known static paths first).
// In order: $KAAZING_HOME, $GATEWAY_HOME, the installer homes
// /usr/share/kaazing/*/*, /opt, /usr/local, /srv, /home, /kaazing-gateway (the
// Docker images' home) and, when goos is "windows", the installer folders
// under C:\Program Files and C:\Program Files (x86). Environment values are
// paths inside fsys. Only directories that exist are returned, each once.
func KnownPlaces(fsys afero.Fs, getenv func(string) string, goos string) []string {
	var candidates []string
	for _, v := range []string{"KAAZING_HOME", "GATEWAY_HOME"} {
		if p := getenv(v); p != "" {
			candidates = append(candidates, filepath.Clean(p))
		}
	}
	if installs, err := afero.Glob(fsys, "/usr/share/kaazing/*/*"); err == nil {
		slices.Sort(installs)
		candidates = append(candidates, installs...)
	}
	candidates = append(candidates, "/opt", "/usr/local", "/srv", "/home", "/kaazing-gateway")
	if goos == "windows" {
		candidates = append(candidates, `C:\Program Files\Kaazing`, `C:\Program Files (x86)\Kaazing`)
	}

	var places []string
	seen := map[string]bool{}
	for _, c := range candidates {
		if seen[c] || !isDir(fsys, c) {
			continue
		}
		seen[c] = true
		places = append(places, c)
	}
	return places
}
