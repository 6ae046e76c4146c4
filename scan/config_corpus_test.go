package scan

import (
	"os"
	"path/filepath"
	"reflect"
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
	if configs < 33 {
		t.Errorf("parsed %d gateway configs, the corpus has at least 33", configs)
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

// TestCorpusExpectations pins what a handful of real files must give.
func TestCorpusExpectations(t *testing.T) {
	root := corpusDir(t)
	if root == "" {
		t.Skip("shared corpus not found above the working directory (../../shared/corpus from the repository root)")
	}
	tests := []struct {
		file      string
		defines   map[string]string
		listeners []string // proto addr element, in order
		problems  []string // keys, in order
		release   string
	}{
		// 5.6.2 community default: three services sharing localhost:8000 by path.
		{"kaazing__gateway/tag-5.6.2__distribution__src__main__gateway__conf__gateway-config.xml", nil,
			[]string{"tcp localhost:8000 accept", "tcp localhost:8000 accept", "tcp localhost:8000 accept"}, nil, "5.2.3+"},
		// 5.0.1.52: ${hostname} built in, tcp.bind ${gateway.base.port} in every service.
		{"kaazing__gateway/tag-5.0.1.52__distribution__src__main__gateway__conf__gateway-config-minimal.xml", nil,
			[]string{"tcp 0.0.0.0:8000 tcp.bind", "tcp 0.0.0.0:8000 tcp.bind", "tcp 0.0.0.0:8000 tcp.bind", "tcp 0.0.0.0:8000 tcp.bind"}, nil, "5.0"},
		// EE DMZ sample: public accepts plus the reverse SOCKS listener on 1080, shared by two services.
		{"kaazing__template-simple-chat-app/ee-gateway__conf__samples__enterprise-shield__enterprise-shield-use-case-1-single-dmz-gw.xml", nil,
			[]string{
				"tcp gateway.example.com:8080 accept", "tcp gateway.example.dmz.net:1080 connect-options/http.transport",
				"tcp gateway.example.com:8080 accept", "tcp gateway.example.dmz.net:1080 connect-options/http.transport",
			}, nil, "4.0"},
		// Internal gateways: every accept travels over reverse SOCKS, nothing is bound.
		{"kaazing__template-simple-chat-app/ee-gateway__conf__samples__enterprise-shield__enterprise-shield-use-case-1-single-internal-gw.xml", nil,
			nil, nil, "4.0"},
		{"kaazing__webrtc/gateway__conf__gateway-config-es-udp.xml", nil, nil, nil, "5.1-5.2"},
		// turn.proxy on udp next to https/wss rebound by tcp.bind.
		{"kaazing__webrtc/gateway__conf__gateway-config-udp.xml", nil,
			[]string{"tcp 0.0.0.0:443 tcp.bind", "tcp 0.0.0.0:443 tcp.bind", "udp kaazing.example.com:3478 accept", "tcp 0.0.0.0:443 tcp.bind"}, nil, "5.1-5.2"},
		// The openshift config needs -Dopenshift.host from its start script.
		{"arun-gupta__kaazing-openshift-cartridge/conf__gateway-config-openshift.xml", map[string]string{"openshift.host": "10.1.2.3"},
			[]string{"tcp 10.1.2.3:8001 ws.bind", "tcp 10.1.2.3:8000 http.bind", "tcp 10.1.2.3:8001 http.bind", "tcp 10.1.2.3:8001 ws.bind"}, nil, "4.0"},
		// 3.2-3.3: the top-level <management> jmx accept binds all interfaces.
		{"kaazing__gateway/c65284f4__src__test__resources__gateway__conf__gateway-config-management.xml", nil,
			[]string{"tcp localhost:8000 accept", "tcp 0.0.0.0:2020 management/accept"}, nil, "3.2-3.3"},
		// Cluster sample in a 5.x repository but a 4.0 namespace.
		{"kaazing__gateway/samples__cluster__cluster-member-1-config.xml", nil,
			[]string{
				"tcp 172.19.19.4:8001 tcp.bind", "tcp 172.19.19.4:8001 tcp.bind", "tcp member1.example.com:8001 accept",
				"tcp 172.19.19.4:8001 tcp.bind", "tcp 172.19.19.4:8001 tcp.bind",
				"tcp 172.19.19.4:5942 cluster/accept", "udp 224.2.2.44:44444 cluster/connect",
			}, nil, "4.0"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			got := ParseConfig(afero.NewOsFs(), filepath.Join(root, tt.file), ParseOptions{Defines: tt.defines, Hostname: "gwhost"})
			if g := addrs(got.Listeners); !reflect.DeepEqual(g, tt.listeners) {
				t.Errorf("listeners:\n got %q\nwant %q", g, tt.listeners)
			}
			if g := keys(got.Problems); !reflect.DeepEqual(g, tt.problems) {
				t.Errorf("problems = %v, want keys %q", got.Problems, tt.problems)
			}
			if got.Config.ReleaseLine != tt.release {
				t.Errorf("release line %q, want %q", got.Config.ReleaseLine, tt.release)
			}
		})
	}
}

// checkLines verifies that every listener's line holds the element that
// bound it, which proves the line mapping on real (CRLF, commented) files.
func checkLines(t *testing.T, data []byte, listeners []Listener, services []Service) {
	t.Helper()
	lines := strings.Split(string(data), "\n")
	at := func(n int) string {
		if n < 1 || n > len(lines) {
			return ""
		}
		return lines[n-1]
	}
	for _, l := range listeners {
		tag := l.Element[strings.LastIndex(l.Element, "/")+1:]
		if l.Element == "management.jmx default" {
			tag = "service"
		}
		if !strings.Contains(at(l.Line), "<"+tag) {
			t.Errorf("listener %s %s: line %d is %q, want a <%s>", l.Addr(), l.Element, l.Line, at(l.Line), tag)
		}
	}
	for _, s := range services {
		if !strings.Contains(at(s.Line), "<service") {
			t.Errorf("service %q: line %d is %q", s.Name, s.Line, at(s.Line))
		}
	}
}

func TestCorpusLines(t *testing.T) {
	for _, f := range corpusConfigs(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := ParseConfigBytes(data, f, ParseOptions{})
		checkLines(t, data, got.Listeners, got.Services)
	}
	for _, f := range fixtures(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := ParseConfigBytes(data, f, fixtureOptions)
		checkLines(t, data, got.Listeners, got.Services)
	}
}
