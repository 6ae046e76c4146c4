package scan

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/spf13/afero"
)

// fixtureDir holds the configuration fixtures written for gwup and their
// golden results (*.golden.json, rewritten with GWUP_UPDATE=1).
const fixtureDir = "../testdata/configs"

// fixtureConfDir is where the golden test places every fixture, so that the
// golden files do not depend on where the repository is checked out.
const fixtureConfDir = "/opt/kaazing/gateway/conf"

// fixtureOptions are the inputs every fixture is parsed with.
var fixtureOptions = ParseOptions{
	Defines:  map[string]string{"override.port": "9100"},
	Hostname: "gwhost",
}

// golden is what a fixture's golden file records.
type golden struct {
	Namespace   string     `json:"namespace"`
	ReleaseLine string     `json:"release_line"`
	Referenced  []string   `json:"referenced,omitempty"`
	Services    []Service  `json:"services"`
	Listeners   []Listener `json:"listeners"`
	Problems    []Problem  `json:"problems"`
}

func fixtures(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(fixtureDir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s: %v", fixtureDir, err)
	}
	return files
}

// parseFixture parses a fixture as if it were at fixtureConfDir/<name>.
func parseFixture(t testing.TB, file string, opts ParseOptions) ParsedConfig {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	fsys := afero.NewMemMapFs()
	path := fixtureConfDir + "/" + filepath.Base(file)
	if err := afero.WriteFile(fsys, path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return ParseConfig(fsys, path, opts)
}

func TestParseConfigGolden(t *testing.T) {
	update := os.Getenv("GWUP_UPDATE") == "1"
	for _, file := range fixtures(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".xml")
		t.Run(name, func(t *testing.T) {
			got := parseFixture(t, file, fixtureOptions)
			g := golden{
				Namespace: got.Config.Namespace, ReleaseLine: got.Config.ReleaseLine,
				Referenced: got.Config.Referenced, Services: got.Services,
				Listeners: got.Listeners, Problems: got.Problems,
			}
			for _, p := range got.Problems {
				if !isKnownKey(p.Key) {
					t.Errorf("problem key %q is not in ConfigProblemKeys", p.Key)
				}
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(g); err != nil {
				t.Fatal(err)
			}
			data := buf.Bytes()
			goldenFile := filepath.Join(fixtureDir, name+".golden.json")
			if update {
				if err := os.WriteFile(goldenFile, data, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(goldenFile)
			if err != nil {
				t.Fatalf("%v (run with GWUP_UPDATE=1 to create it)", err)
			}
			if !bytes.Equal(data, want) {
				t.Errorf("result differs from %s (GWUP_UPDATE=1 rewrites it)\ngot:\n%s", goldenFile, data)
			}
		})
	}
}

// addrs renders listeners compactly for table tests: "tcp 0.0.0.0:8080 ws.bind".
func addrs(ls []Listener) []string {
	var out []string
	for _, l := range ls {
		out = append(out, l.Proto+" "+l.Addr()+" "+l.Element)
	}
	return out
}

func keys(ps []Problem) []string {
	var out []string
	for _, p := range ps {
		out = append(out, p.Key)
	}
	return out
}

// TestFixtureExpectations states, independently of the golden files, the
// rule each fixture is there to prove.
func TestFixtureExpectations(t *testing.T) {
	tests := []struct {
		fixture   string
		listeners []string // nil: not checked
		problems  []string // exact keys, in order
	}{
		{"shipped-defaults", []string{
			"tcp localhost:8000 accept", "tcp localhost:8000 accept", "tcp localhost:8000 accept",
		}, nil},
		{"binds", []string{
			"tcp 0.0.0.0:8080 service-defaults/ws.bind",   // ws.bind from service-defaults
			"tcp 10.0.0.5:8443 service-defaults/wss.bind", // wss (no port in URI) rebound
			"tcp 10.0.0.5:8800 tcp.bind",                  // http under tcp.bind
			"tcp 0.0.0.0:8080 service-defaults/ws.bind",   // ws: the scheme bind wins over tcp.bind
			"tcp 10.0.0.5:8800 tcp.bind",                  // tcp:// under tcp.bind
			"tcp [::1]:9101 ws.bind",                      // [v6]:port
			"tcp @eth0:9102 http.bind",                    // @iface:port
			"tcp @eth1:9443 tls.bind",                     // tls.bind is ssl.bind
			"tcp 0.0.0.0:9444 https.bind",                 // https.bind host:port
			"udp public.example.com:3478 accept",          // tcp.bind does not touch udp
			"udp [2001:db8::1]:3479 accept",               // bracketed v6 in a URI
		}, []string{"config-port-conflict"}}, // tcp.bind puts http and tcp:// on one socket
		{"properties", []string{
			"tcp gwhost:9100 accept",           // -D beats <properties>; ${hostname} built in
			"tcp localhost:9200 accept",        // a value using another property
			"tcp localhost:9300 accept",        // $${x} is no reference
			"tcp ${missing.host}:9400 accept",  // port known, host not: kept
			"tcp ${missing.host}:9501 ws.bind", // the same for a bind
		}, []string{"property-unresolved", "property-unresolved", "property-unresolved"}},
		{"cluster-jmx", []string{
			"tcp 192.0.2.10:8001 ws.bind", "tcp 192.0.2.10:8001 ws.bind",
			"tcp 0.0.0.0:2021 properties/connector.server.address",
			"tcp 0.0.0.0:2020 management.jmx default",
			"tcp 192.0.2.10:5942 cluster/accept",
			"udp 224.2.2.44:54327 cluster/connect",
		}, nil},
		{"legacy-3x", []string{
			"tcp localhost:8000 accept", "tcp localhost:9000 accept",
			"udp localhost:50505 properties/accept",
			"tcp localhost:8000 accept", "tcp localhost:9000 accept",
			"tcp 10.1.1.1:5941 cluster/accept",
			"udp 224.2.2.44:54327 cluster/connect",
			"tcp 0.0.0.0:2020 management/accept",
		}, nil},
		{"shield-internal", []string{
			"tcp 127.0.0.1:8181 accept-options/tcp.transport",
		}, nil},
		{"shield-dmz", []string{
			"tcp public.example.com:8080 accept",
			"tcp dmz.example.net:1080 connect-options/http.transport",
			"tcp public.example.com:8080 accept",
			"tcp dmz.example.net:1080 connect-options/http.transport",
			"tcp public.example.com:8080 accept",
		}, nil},
		{"conflicts", nil, []string{"config-port-conflict", "config-port-conflict", "config-port-conflict"}},
		{"commented", []string{"tcp localhost:8000 accept"}, nil},
		{"crlf-bom", []string{"tcp localhost:8000 accept"}, nil},
		{"latin1", []string{"tcp localhost:8000 accept"}, nil},
		{"malformed", nil, []string{"config-malformed"}},
		{"empty", nil, []string{"config-empty"}},
		{"doctype", nil, []string{"config-doctype", "config-malformed"}},
		{"doctype-unused", []string{"tcp localhost:8000 accept"}, []string{"config-doctype"}},
		{"trailing", []string{"tcp localhost:8000 accept"}, []string{"config-trailing-content"}},
		{"ports-bad", []string{"tcp ADD YOUR IP ADDRESS HERE:8080 accept"}, []string{
			"listener-port-invalid", "listener-port-invalid", "listener-port-invalid",
			"listener-host-invalid", "listener-port-missing", "listener-port-missing",
			"listener-uri-invalid", "listener-uri-invalid", "listener-host-invalid",
			"listener-port-missing", "listener-host-invalid",
		}},
		{"namespace-com", []string{"tcp localhost:8000 accept"}, []string{"config-namespace-com"}},
		{"namespace-unknown", []string{"tcp localhost:8000 accept"}, []string{"config-namespace-unknown"}},
		{"root-wrong", nil, []string{"config-root-unexpected"}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got := parseFixture(t, filepath.Join(fixtureDir, tt.fixture+".xml"), fixtureOptions)
			if tt.listeners != nil || len(got.Listeners) == 0 {
				if g := addrs(got.Listeners); !reflect.DeepEqual(g, tt.listeners) {
					t.Errorf("listeners:\n got %q\nwant %q", g, tt.listeners)
				}
			}
			if g := keys(got.Problems); !reflect.DeepEqual(g, tt.problems) {
				t.Errorf("problems:\n got %q\nwant %q\n%v", g, tt.problems, got.Problems)
			}
			for _, p := range got.Problems {
				if p.Path == "" || (p.Line == 0 && p.Key != "config-empty") {
					t.Errorf("problem without file:line: %+v", p)
				}
			}
		})
	}
}
