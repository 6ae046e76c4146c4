package scantest

import (
	"archive/zip"
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
)

// demoJars are the jar files of the demo server tree (testdata/demo). They are
// committed, tiny, and rebuilt by GWUP_UPDATE=1 go test ./scan/scantest: each
// holds only the MANIFEST.MF that the real release's jar carries (see
// kaazing-facts §2.4), which is all gwup reads of a jar.
var demoJars = map[string][]string{
	"usr/share/kaazing/jms/4.0/lib/com.kaazing.gateway.server.jar": {
		"Implementation-Title: Kaazing WebSocket Gateway - Server",
	},
	"usr/share/kaazing/jms/4.0/lib/com.kaazing.gateway.jms.assembly.version.jar": {
		"Implementation-Title: Kaazing WebSocket Gateway - JMS Edition",
		"Implementation-Version: 4.0.9.383",
		"Kaazing-Product: jms",
		"Kaazing-Dependencies: jms.spi",
	},
	"usr/share/kaazing/jms/4.0/lib/log4j-1.2.14.jar": {
		"Implementation-Title: log4j",
		"Implementation-Version: 1.2.14",
	},
	// The 5.0.1 install was patched (its jars say .55) but not restarted:
	// its log still shows the .52 banner.
	"opt/kaazing-gateway-community-5.0.1/lib/gateway.server.jar": {
		"Implementation-Title: Kaazing Gateway",
		"Implementation-Version: 5.0.1.55",
		"Kaazing-Product: Community.Gateway",
	},
	"opt/kaazing-gateway-community-5.0.1/lib/hazelcast-1.9.4.8.jar": {
		"Implementation-Title: Hazelcast",
		"Implementation-Version: 1.9.4.8",
	},
	"srv/kaazing-enterprise-gateway-5.7.3/lib/gateway.server.jar": {
		"Implementation-Title: Kaazing Gateway",
		"Implementation-Version: 5.7.3",
		"Kaazing-Product: Community.Gateway",
	},
	"srv/kaazing-enterprise-gateway-5.7.3/lib/enterprise.gateway.server.jar": {
		"Implementation-Title: Kaazing WebSocket Gateway (Enterprise Edition)",
		"Implementation-Version: 5.7.3",
		"Kaazing-Product: Enterprise.Gateway",
	},
	"srv/kaazing-enterprise-gateway-5.7.3/lib/ext/tibjms.jar": {
		"Implementation-Title: TIBCO EMS client",
		"Implementation-Version: 8.4.0",
	},
}

func TestDemoJars(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	for name, attrs := range demoJars {
		path := filepath.Join(demo, filepath.FromSlash(name))
		want := Jar(attrs...)
		if os.Getenv("GWUP_UPDATE") != "" {
			if err := os.WriteFile(path, want, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (run GWUP_UPDATE=1 go test ./scan/scantest to build the demo jars)", err)
		}
		if manifest(t, got) != manifest(t, want) {
			t.Errorf("%s: manifest differs from demoJars; run GWUP_UPDATE=1 go test ./scan/scantest", name)
		}
	}
}

func manifest(t *testing.T, jar []byte) string {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(jar), int64(len(jar)))
	if err != nil {
		t.Fatal(err)
	}
	f, err := zr.Open("META-INF/MANIFEST.MF")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
