package scan

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// corpusDir finds the shared corpus of real configurations
// (../../shared/corpus from the repository root) by walking up from the test's
// working directory; "" when it is not there (a checkout outside the
// workspace).
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		candidate := filepath.Join(dir, "..", "..", "shared", "corpus")
		if _, err := os.Stat(filepath.Join(candidate, "INDEX.md")); err == nil {
			return filepath.Clean(candidate)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// corpusConfigs lists every gateway-config file of the corpus (the *.xml files
// that are not jaas or log4j configurations are parsed too: they must fail
// cleanly with config-root-unexpected).
func corpusConfigs(t *testing.T) []string {
	t.Helper()
	root := corpusDir(t)
	if root == "" {
		t.Skip("shared corpus not found above the working directory (../../shared/corpus from the repository root)")
	}
	files, err := filepath.Glob(filepath.Join(root, "*", "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no corpus files in %s: %v", root, err)
	}
	return files
}

func TestCorpusParses(t *testing.T) {
	fsys := afero.NewOsFs()
	configs := 0
	for _, f := range corpusConfigs(t) {
		name := filepath.Base(filepath.Dir(f)) + "/" + filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			got := ParseConfig(fsys, f, ParseOptions{Hostname: "gwhost"})
			isGateway := !strings.Contains(f, "jaas-config") && !strings.Contains(f, "log4j-config")
			if isGateway {
				configs++
				if got.Config.ReleaseLine == "" {
					t.Errorf("no release line for namespace %q", got.Config.Namespace)
				}
			}
			for _, l := range got.Listeners {
				t.Logf("listener %s %s %s/%s %s %s line %d", l.Proto, l.Addr(), l.Service, l.Type, l.Element, l.URI, l.Line)
				if l.Port < 1 || l.Port > 65535 || l.File != f || l.Line < 1 {
					t.Errorf("bad listener %+v", l)
				}
			}
			for _, p := range got.Problems {
				t.Logf("problem %s: %s", p.Key, p)
				if !isKnownKey(p.Key) {
					t.Errorf("problem with unknown key %q", p.Key)
				}
				if isGateway && (p.Key == "config-malformed" || p.Key == "config-empty") {
					t.Errorf("real config does not parse: %s", p)
				}
			}
		})
	}
	if configs != 33 {
		t.Errorf("parsed %d gateway configs, the corpus has 33", configs)
	}
}

func isKnownKey(key string) bool {
	for _, k := range ConfigProblemKeys {
		if k == key {
			return true
		}
	}
	return false
}
