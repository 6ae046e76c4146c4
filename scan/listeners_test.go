package scan

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/afero"
)

func TestParseBind(t *testing.T) {
	tests := []struct {
		in      string
		host    string
		port    int
		wantKey string
	}{
		{"8000", "0.0.0.0", 8000, ""},
		{" 8000 ", "0.0.0.0", 8000, ""},
		{"192.168.10.25:443", "192.168.10.25", 443, ""},
		{"gateway.example.com:80", "gateway.example.com", 80, ""},
		{"[::1]:9000", "::1", 9000, ""},
		{"[2001:db8::5]:80", "2001:db8::5", 80, ""},
		{"@eth0:8080", "@eth0", 8080, ""},
		{"[@Local Area Connection]:8080", "@Local Area Connection", 8080, ""},
		{":8000", "0.0.0.0", 8000, ""},
		{"", "", 0, "listener-port-missing"},
		{"localhost", "", 0, "listener-port-missing"},
		{"[::1]", "", 0, "listener-port-missing"},
		{"localhost:", "", 0, "listener-port-invalid"},
		{"localhost:65536", "", 0, "listener-port-invalid"},
		{"localhost:-1", "", 0, "listener-port-invalid"},
		{"localhost:+80", "", 0, "listener-port-invalid"},
		{"0", "", 0, "listener-port-invalid"},
		{"::1:80", "", 0, "listener-host-invalid"},
		{"[::1", "", 0, "listener-host-invalid"},
		{"[::1]x80", "", 0, "listener-host-invalid"},
	}
	for _, tt := range tests {
		host, port, err := parseBind(tt.in)
		gotKey := ""
		if err != nil {
			ae, ok := err.(*addrError)
			if !ok {
				t.Fatalf("parseBind(%q) error %T, want *addrError", tt.in, err)
			}
			gotKey = ae.key
		}
		if gotKey != tt.wantKey || (tt.wantKey == "" && (host != tt.host || port != tt.port)) {
			t.Errorf("parseBind(%q) = %q, %d, %q; want %q, %d, %q", tt.in, host, port, gotKey, tt.host, tt.port, tt.wantKey)
		}
	}
}

func TestParseURIAddress(t *testing.T) {
	tests := []struct {
		in      string
		scheme  string
		host    string
		port    int
		hasPort bool
		wantKey string
	}{
		{"ws://localhost:8000/echo", "ws", "localhost", 8000, true, ""},
		{"ws://localhost/echo", "ws", "localhost", 80, false, ""},
		{"WSS://Example.COM/echo", "wss", "Example.COM", 443, false, ""},
		{"sse+ssl://h/x", "sse+ssl", "h", 443, false, ""},
		{"rtmp://h/app", "rtmp", "h", 1935, false, ""},
		{"http://h?x=1", "http", "h", 80, false, ""},
		{"tls://h:9443", "ssl", "h", 9443, true, ""},
		{"tcp://:7000", "tcp", "0.0.0.0", 7000, true, ""},
		{"udp://[ff02::1]:5000", "udp", "ff02::1", 5000, true, ""},
		{"mcp://224.2.2.44@eth0:54327", "mcp", "224.2.2.44", 54327, true, ""},
		{"jmx://localhost:2020/", "jmx", "localhost", 2020, true, ""},
		{"ws://user@h:81/", "ws", "h", 81, true, ""},
		{"tcp://h", "tcp", "h", 0, false, ""},
		{"h:8000", "", "", 0, false, "listener-uri-invalid"},
		{"://h:1", "", "", 0, false, "listener-uri-invalid"},
		{"ws://h:99999/", "", "", 0, false, "listener-port-invalid"},
		{"ws://fe80::1:80/", "", "", 0, false, "listener-host-invalid"},
	}
	for _, tt := range tests {
		a, err := parseURIAddress(tt.in)
		gotKey := ""
		if err != nil {
			gotKey = err.(*addrError).key
		}
		want := uriAddress{scheme: tt.scheme, host: tt.host, port: tt.port, hasPort: tt.hasPort}
		if gotKey != tt.wantKey || (tt.wantKey == "" && a != want) {
			t.Errorf("parseURIAddress(%q) = %+v, %q; want %+v, %q", tt.in, a, gotKey, want, tt.wantKey)
		}
	}
}

func TestPropertyResolver(t *testing.T) {
	r := newPropertyResolver(
		map[string]string{"port": "9000", "from.define": "${declared}"},
		map[string]string{"port": "8000", "host": "h", "declared": "d", "loop": "${loop}", "a": "${b}", "b": "B"},
		"")
	tests := []struct {
		in      string
		want    string
		missing []string
	}{
		{"plain", "plain", nil},
		{"${host}:${port}", "h:9000", nil}, // -D wins over <properties>
		{"${hostname}", "localhost", nil},  // built-in, "" means localhost
		{"$${host}", "${host}", nil},       // escape
		{"$$${host}", "$${host}", nil},     // only one '$' is eaten
		{"x${nope}y${host}", "x${nope}yh", []string{"nope"}},
		{"${nope}${nope}", "${nope}${nope}", []string{"nope"}},
		{"${a}", "B", nil},           // a value using another property
		{"${from.define}", "d", nil}, // so may a -D value
		{"${loop}", "${loop}", []string{"loop"}},
		{"${unterminated", "${unterminated", nil},
		{"${}", "${}", []string{""}},
	}
	for _, tt := range tests {
		got, ok := r.expand(tt.in)
		missing := r.unresolved(tt.in)
		if got != tt.want || ok != (len(tt.missing) == 0) || !reflect.DeepEqual(missing, tt.missing) {
			t.Errorf("expand(%q) = %q, %v, missing %q; want %q, missing %q", tt.in, got, ok, missing, tt.want, tt.missing)
		}
	}
	if got, _ := newPropertyResolver(nil, nil, "node7").expand("${hostname}"); got != "node7" {
		t.Errorf("${hostname} = %q, want the Hostname option", got)
	}
}

func TestNamespaceReleaseLine(t *testing.T) {
	tests := []struct {
		uri   string
		line  string
		known bool
	}{
		{"http://xmlns.kaazing.org/gateway-config/battlestar", "pre-3.0", true},
		{"http://xmlns.kaazing.com/gateway-config/dragonfire", "pre-3.0", true},
		{"http://xmlns.kaazing.com/gateway-config/excalibur", "3.0-3.2", true},
		{"http://xmlns.kaazing.com/2012/03/gateway", "3.2-3.3", true},
		{"http://xmlns.kaazing.com/2012/08/gateway", "3.5", true},
		{"http://xmlns.kaazing.com/2012/09/gateway", "4.0", true},
		{"http://xmlns.kaazing.org/2014/09/gateway", "5.0", true},
		{"http://xmlns.kaazing.org/2015/11/gateway", "5.1-5.2", true},
		{"http://xmlns.kaazing.org/2016/06/gateway", "5.2.3+", true},
		{"HTTP://XMLNS.KAAZING.ORG/2016/06/GATEWAY", "5.2.3+", true}, // equalsIgnoreCase
		{" http://xmlns.kaazing.org/2016/06/gateway ", "5.2.3+", true},
		{"http://xmlns.kaazing.com/2014/09/gateway", "5.0", false}, // the docs' .com spelling
		{"http://xmlns.kaazing.com/2016/06/gateway", "5.2.3+", false},
		{"http://xmlns.kaazing.org/2012/09/gateway", "", false}, // no .org twin before 2014
		{"http://xmlns.kaazing.com/jaas-config/centurion", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		line, known := NamespaceReleaseLine(tt.uri)
		if line != tt.line || known != tt.known {
			t.Errorf("NamespaceReleaseLine(%q) = %q, %v; want %q, %v", tt.uri, line, known, tt.line, tt.known)
		}
	}
}

func TestParseConfigFileProblems(t *testing.T) {
	fsys := afero.NewMemMapFs()
	mustWrite := func(name string, data []byte) {
		t.Helper()
		if err := afero.WriteFile(fsys, name, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	big := bytes.Repeat([]byte("<!-- padding -->\n"), 100)
	mustWrite("/conf/big.xml", big)
	garbage := make([]byte, 4096)
	rand.New(rand.NewSource(1)).Read(garbage)
	mustWrite("/conf/garbage.xml", garbage)
	mustWrite("/conf/blank.xml", []byte("  \r\n\t\n"))
	mustWrite("/conf/comment-only.xml", []byte("<?xml version=\"1.0\"?>\n<!-- nothing -->\n"))
	mustWrite("/conf/ebcdic.xml", []byte("<?xml version=\"1.0\" encoding=\"EBCDIC-US\"?>\n<gateway-config/>\n"))
	mustWrite("/conf/unclosed.xml", []byte("<gateway-config xmlns=\"http://xmlns.kaazing.org/2016/06/gateway\">\n<service>\n"))
	mustWrite("/conf/deep.xml", []byte(strings.Repeat("<a>", 5000)))
	if err := fsys.MkdirAll("/conf/dir.xml", 0o755); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		path    string
		maxSize int64
		key     string
	}{
		{"/conf/missing.xml", 0, "config-missing"},
		{"/conf/dir.xml", 0, "config-unreadable"},
		{"/conf/big.xml", 1000, "config-too-large"},
		{"/conf/garbage.xml", 0, "config-malformed"},
		{"/conf/blank.xml", 0, "config-empty"},
		{"/conf/comment-only.xml", 0, "config-empty"},
		{"/conf/ebcdic.xml", 0, "config-malformed"},
		{"/conf/unclosed.xml", 0, "config-malformed"},
		{"/conf/deep.xml", 0, "config-malformed"},
	}
	for _, tt := range tests {
		got := ParseConfig(fsys, tt.path, ParseOptions{MaxSize: tt.maxSize})
		if len(got.Problems) != 1 || got.Problems[0].Key != tt.key || got.Problems[0].Path != tt.path {
			t.Errorf("ParseConfig(%s) problems = %v, want one %s", tt.path, got.Problems, tt.key)
		}
		if len(got.Listeners) != 0 || got.Config.Path != tt.path {
			t.Errorf("ParseConfig(%s) = %+v, want no listeners and the path", tt.path, got)
		}
	}
	// ParseConfigBytes applies the limit too.
	if got := ParseConfigBytes(big, "/x.xml", ParseOptions{MaxSize: 10}); len(got.Problems) != 1 || got.Problems[0].Key != "config-too-large" {
		t.Errorf("ParseConfigBytes over MaxSize: %v", got.Problems)
	}
}

func TestMalformedPosition(t *testing.T) {
	data := []byte("<gateway-config xmlns=\"http://xmlns.kaazing.org/2016/06/gateway\">\n  <service>\n    <name>x</name\n  </service>\n</gateway-config>\n")
	got := ParseConfigBytes(data, "/c.xml", ParseOptions{})
	if len(got.Problems) != 1 {
		t.Fatalf("problems = %v", got.Problems)
	}
	p := got.Problems[0]
	if p.Key != "config-malformed" || p.Line < 3 || p.Line > 4 || !strings.HasPrefix(p.String(), "/c.xml:") {
		t.Errorf("problem = %+v (%s), want config-malformed on line 3 or 4", p, p)
	}
}

func TestReferencedFiles(t *testing.T) {
	data := []byte(`<gateway-config xmlns="http://xmlns.kaazing.com/2012/09/gateway">
  <properties><property><name>store.dir</name><value>/etc/kaazing</value></property></properties>
  <security>
    <keystore><file>${store.dir}/mykeystore.db</file><password-file>mykeystore.pw</password-file></keystore>
    <truststore><file>../shared/truststore.db</file></truststore>
    <realm><name>r</name>
      <login-module><type>file</type><options><file>jaas-config.xml</file></options></login-module>
      <login-module><type>ldap</type><options><file>not-a-file-option</file></options></login-module>
    </realm>
  </security>
</gateway-config>`)
	got := ParseConfigBytes(data, "/srv/gw/conf/gateway-config.xml", ParseOptions{})
	want := []string{
		filepath.FromSlash("/etc/kaazing/mykeystore.db"),
		filepath.FromSlash("/srv/gw/conf/mykeystore.pw"),
		filepath.FromSlash("/srv/gw/shared/truststore.db"),
		filepath.FromSlash("/srv/gw/conf/jaas-config.xml"),
	}
	if !reflect.DeepEqual(got.Config.Referenced, want) {
		t.Errorf("Referenced = %q, want %q", got.Config.Referenced, want)
	}
}

// TestEveryProblemHasKeyAndLine runs every fixture and checks the problem
// contract the CLI relies on.
func TestEveryProblemHasKeyAndLine(t *testing.T) {
	for _, f := range fixtures(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got := ParseConfigBytes(data, f, fixtureOptions)
		for _, p := range got.Problems {
			if !isKnownKey(p.Key) || p.Path != f || p.Message == "" {
				t.Errorf("%s: bad problem %+v", f, p)
			}
		}
		for _, l := range got.Listeners {
			if l.File != f || l.Line < 1 || l.Port < 1 || l.Port > 65535 || (l.Proto != "tcp" && l.Proto != "udp") {
				t.Errorf("%s: bad listener %+v", f, l)
			}
		}
	}
}

func FuzzParseConfig(f *testing.F) {
	for _, file := range fixtures(f) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		got := ParseConfigBytes(data, "/fuzz/gateway-config.xml", ParseOptions{Hostname: "h", Defines: map[string]string{"gateway.port": "8000"}})
		for _, p := range got.Problems {
			if !isKnownKey(p.Key) || p.Message == "" {
				t.Errorf("problem without a known key: %+v", p)
			}
		}
		for _, l := range got.Listeners {
			if l.Port < 1 || l.Port > 65535 || l.Line < 1 {
				t.Errorf("bad listener %+v", l)
			}
		}
	})
}

func BenchmarkParseConfig(b *testing.B) {
	data, err := os.ReadFile(filepath.Join(fixtureDir, "shipped-defaults.xml"))
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		got := ParseConfigBytes(data, "/opt/kaazing/gateway/conf/gateway-config.xml", ParseOptions{})
		if len(got.Listeners) != 3 {
			b.Fatalf("listeners = %d", len(got.Listeners))
		}
	}
}

// TestPropertyBomb checks that properties using each other many times (an
// exponential expansion) stay bounded in time and size.
func TestPropertyBomb(t *testing.T) {
	var b strings.Builder
	b.WriteString(`<gateway-config xmlns="http://xmlns.kaazing.org/2016/06/gateway"><properties>`)
	b.WriteString(`<property><name>p0</name><value>xxxxxxxxxx</value></property>`)
	for i := 1; i <= 8; i++ {
		b.WriteString(fmt.Sprintf(`<property><name>p%d</name><value>%s</value></property>`, i, strings.Repeat(fmt.Sprintf("${p%d}", i-1), 20)))
	}
	b.WriteString(`</properties><service><name>${p8}</name><accept>ws://h:1/${p8}</accept><type>echo</type></service></gateway-config>`)
	start := time.Now()
	got := ParseConfigBytes([]byte(b.String()), "/bomb.xml", ParseOptions{})
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("took %v", d)
	}
	if len(got.Services) != 1 || len(got.Services[0].Name) > 2*maxExpandedLen {
		t.Errorf("service name of %d bytes", len(got.Services[0].Name))
	}
	if k := keys(got.Problems); len(k) == 0 || k[0] != "property-unresolved" {
		t.Errorf("problems = %q, want property-unresolved for the bomb", k)
	}
}

func TestParseConfigPermissionDenied(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: a mode 000 file is still readable")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway-config.xml")
	if err := os.WriteFile(path, []byte("<gateway-config/>"), 0o000); err != nil {
		t.Fatal(err)
	}
	got := ParseConfig(afero.NewOsFs(), path, ParseOptions{})
	if k := keys(got.Problems); !reflect.DeepEqual(k, []string{"config-unreadable"}) {
		t.Errorf("problems = %v, want config-unreadable", got.Problems)
	}
}

// TestParseConfigOsFs reads a real file through the OS filesystem, CRLF and
// all, to make sure nothing depends on MemMapFs.
func TestParseConfigOsFs(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "gateway-config.xml")
	data, err := os.ReadFile(filepath.Join(fixtureDir, "crlf-bom.xml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	got := ParseConfig(afero.NewReadOnlyFs(afero.NewOsFs()), path, ParseOptions{})
	if a := addrs(got.Listeners); !reflect.DeepEqual(a, []string{"tcp localhost:8000 accept"}) || len(got.Problems) != 0 {
		t.Errorf("got %q, problems %v", a, got.Problems)
	}
}

func TestTrailingGarbage(t *testing.T) {
	data := []byte("<gateway-config xmlns=\"http://xmlns.kaazing.org/2016/06/gateway\">\n<service><accept>ws://h:1/</accept></service>\n</gateway-config>\ngarbage <")
	got := ParseConfigBytes(data, "/t.xml", ParseOptions{})
	if k := keys(got.Problems); !reflect.DeepEqual(k, []string{"config-trailing-content", "config-malformed"}) {
		t.Fatalf("problems = %v", got.Problems)
	}
	for _, p := range got.Problems {
		if p.Line != 4 {
			t.Errorf("problem %v: want line 4", p)
		}
	}
}
