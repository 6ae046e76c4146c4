package scan

import (
	"bytes"
	"maps"
	"strings"
	"testing"
)

func TestFolderRelease(t *testing.T) {
	tests := []struct {
		home        string
		wantVersion string // "" for no evidence
		wantEdition string
	}{
		{"/opt/kaazing-gateway-community-5.0.1", "5.0.1", "Community"},
		{"/opt/kaazing-gateway-community-5.0.1.52", "5.0.1.52", "Community"},
		{"/opt/kaazing-community-gateway-5.6.2", "5.6.2", "Community"},
		{"/opt/kaazing-enterprise-gateway-5.7.3", "5.7.3", "Enterprise"},
		{"/home/u/kaazing-websocket-gateway-jms-4.0.7", "4.0.7", "JMS"},
		{"/home/u/kaazing-websocket-gateway-html5-3.5.11", "3.5.11", "HTML5"},
		{"/home/u/Kaazing-WebSocket-Gateway-XMPP-3.3", "3.3", "XMPP"},
		{"/opt/kaazing-websocket-gateway-full-4.0.9", "4.0.9", ""},
		{"/opt/kaazing-community-edition-gateway-5.0.0-unix-base", "5.0.0", "Community"},
		{"/opt/kaazing-gateway-community-5.0.0-unix", "5.0.0", "Community"},
		{"/opt/kaazing-community-gateway-5.6.0-RC001", "5.6.0-RC001", "Community"},
		{"/usr/share/kaazing/jms/4.0", "4.0", "JMS"},
		{"/usr/share/kaazing/html5/3.3", "3.3", "HTML5"},
		{"/usr/share/kaazing/community/5.0.1", "5.0.1", "Community"},
		{`C:\Program Files\Kaazing\JMS\4.0\Gateway`, "4.0", "JMS"},
		{`C:\Program Files (x86)\Kaazing\HTML5\3.5\Gateway`, "3.5", "HTML5"},
		{"/mnt/c/Program Files/Kaazing/JMS/4.0/Gateway", "4.0", "JMS"},
		// Not release folders.
		{"/kaazing-gateway", "", ""},
		{"/opt/kaazing-gateway-community-5.0.x", "", ""},
		{"/opt/kaazing-tools-1.2", "", ""},
		{"/opt/gateway-5.6.2", "", ""},
		{"/opt/kaazing-gateway-5.6.2-backup", "", ""},
		{"/opt/kaazing/gateway", "", ""},
		{"/usr/share/kaazing/jms/latest", "", ""},
		{"/", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		e, ok := folderRelease(tt.home)
		if ok != (tt.wantVersion != "") || e.Version != tt.wantVersion || e.Edition != tt.wantEdition {
			t.Errorf("folderRelease(%q) = %q %q %v, want %q %q", tt.home, e.Version, e.Edition, ok, tt.wantVersion, tt.wantEdition)
		}
		if ok && (e.Kind != EvidenceFolder || e.Path != tt.home || e.Detail == "") {
			t.Errorf("folderRelease(%q) = %+v, want folder-name evidence on the home with a detail", tt.home, e)
		}
	}
}

func TestParseManifest(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want map[string]string
	}{
		{"CRLF", "Manifest-Version: 1.0\r\nImplementation-Version: 5.6.2\r\n\r\n", map[string]string{"Manifest-Version": "1.0", "Implementation-Version": "5.6.2"}},
		{"LF", "Implementation-Version: 5.6.2\nKaazing-Product: jms\n", map[string]string{"Implementation-Version": "5.6.2", "Kaazing-Product": "jms"}},
		{"CR only", "Implementation-Version: 5.6.2\rKaazing-Product: jms", map[string]string{"Implementation-Version": "5.6.2", "Kaazing-Product": "jms"}},
		{"continuation", "Implementation-Title: Kaazing WebSocket Gateway - JM\r\n S Edition\r\nImplementation-Version: 4.0.\r\n 7.596\r\n", map[string]string{"Implementation-Title": "Kaazing WebSocket Gateway - JMS Edition", "Implementation-Version": "4.0.7.596"}},
		{"continuation keeps its second space", "Implementation-Title: Kaazing\n  Gateway\n", map[string]string{"Implementation-Title": "Kaazing Gateway"}},
		{"only the main section", "Implementation-Version: 5.6.2\n\nName: org/kaazing/\nImplementation-Version: 1.0\n", map[string]string{"Implementation-Version": "5.6.2"}},
		{"byte order mark", "\ufeffImplementation-Version: 5.6.2\n", map[string]string{"Implementation-Version": "5.6.2"}},
		{"malformed lines skipped", " orphan\nno colon\nbad name: x\nImplementation-Version: 5.6.2\n", map[string]string{"Implementation-Version": "5.6.2"}},
		{"empty value", "Implementation-Version:\n", map[string]string{"Implementation-Version": ""}},
		{"empty", "", map[string]string{}},
	}
	for _, tt := range tests {
		if got := parseManifest([]byte(tt.in)); !maps.Equal(got, tt.want) {
			t.Errorf("%s: parseManifest(%q) = %v, want %v", tt.name, tt.in, got, tt.want)
		}
	}
}

func TestEditionFromManifest(t *testing.T) {
	tests := []struct {
		attrs map[string]string
		want  string
	}{
		{map[string]string{attrProduct: "jms"}, "JMS"},
		{map[string]string{attrProduct: "Community.Gateway", attrTitle: "Kaazing Gateway"}, "Community"},
		{map[string]string{attrProduct: "Enterprise.Gateway"}, "Enterprise"},
		{map[string]string{attrTitle: "Kaazing WebSocket Gateway - JMS Edition"}, "JMS"},
		{map[string]string{attrTitle: "Kaazing Websocket Gateway - HTML5 Edition"}, "HTML5"},
		{map[string]string{attrTitle: "Kaazing Community Gateway"}, "Community"},
		{map[string]string{attrTitle: "Kaazing Gateway"}, ""},
		{map[string]string{attrTitle: "Kaazing WebSocket Gateway (Development)"}, ""},
		{map[string]string{attrProduct: "something.else"}, ""},
		{map[string]string{}, ""},
	}
	for _, tt := range tests {
		if got := editionFromManifest(tt.attrs); got != tt.want {
			t.Errorf("editionFromManifest(%v) = %q, want %q", tt.attrs, got, tt.want)
		}
	}
}

func TestReadmeEvidence(t *testing.T) {
	tests := []struct {
		in          string
		wantVersion string
		wantEdition string
		wantLine    int // 0: no evidence
	}{
		{"Welcome to Kaazing WebSocket Gateway Release 4.0\n\n", "4.0", "", 1},
		{"# Welcome to KAAZING Gateway Release 5.0\n\n   KAAZING Gateway is", "5.0", "", 1},
		{"Welcome to Kaazing WebSocket Gateway Release ${product.version}\n", "", "", 0},
		{"Kaazing WebSocket Gateway (Community Edition)\n\nDocumentation:   https://kaazing.com/doc/5.0/\n", "", "Community", 1},
		{"Kaazing WebSocket Gateway (Enterprise Edition)\r\nRelease notes:   https://kaazing.com/releases/kwg\r\n", "", "Enterprise", 1},
		{"\n\n==========\nWelcome to Kaazing WebSocket Gateway - HTML5 Edition Release 3.5.\n", "3.5", "HTML5", 4},
		{"Place your license file into this directory, and restart the gateway for it to take affect.\n", "", "", 0},
		{"", "", "", 0},
	}
	for _, tt := range tests {
		e, ok := readmeEvidence(strings.NewReader(tt.in), "/gw/README.txt")
		if ok != (tt.wantLine != 0) || e.Version != tt.wantVersion || e.Edition != tt.wantEdition || e.Line != tt.wantLine {
			t.Errorf("readmeEvidence(%q) = %q %q line %d %v, want %q %q line %d", tt.in, e.Version, e.Edition, e.Line, ok, tt.wantVersion, tt.wantEdition, tt.wantLine)
		}
	}
}

func TestParseRange(t *testing.T) {
	tests := []struct{ in, lo, hi string }{
		{"4.0", "4.0", "4.0"},
		{"5.1-5.2", "5.1", "5.2"},
		{"5.2.3-5.6.2", "5.2.3", "5.6.2"},
		{"5.6.0-RC001", "5.6.0-RC001", "5.6.0-RC001"},
		{"5.2.3+", "5.2.3", ""},
		{"pre-3.0", "", "3.0"},
		{"5.2-5.1", "", ""},
		{"pre-", "", ""},
		{"+", "", ""},
		{"dragonfire", "", ""},
		{"", "", ""},
	}
	for _, tt := range tests {
		lo, hi, ok := parseRange(tt.in)
		if ok != (tt.lo != "" || tt.hi != "") || lo.String() != tt.lo || hi.String() != tt.hi {
			t.Errorf("parseRange(%q) = %s, %s, %v, want %q, %q", tt.in, lo, hi, ok, tt.lo, tt.hi)
		}
	}
}

// FuzzParseManifest checks that no manifest panics the parser and that
// every attribute name it returns is a plain name.
func FuzzParseManifest(f *testing.F) {
	f.Add([]byte("Manifest-Version: 1.0\r\nImplementation-Version: 4.0.\r\n 7.596\r\n\r\n"))
	f.Add([]byte("\ufeffa: b\rc: d\n e\n\nf: g"))
	f.Add([]byte(" \r\n:\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for name := range parseManifest(data) {
			if name == "" || strings.ContainsAny(name, " \t\r\n:") {
				t.Fatalf("parseManifest(%q) returned attribute name %q", data, name)
			}
		}
	})
}

// FuzzBannerDirections reads the same log backwards in tiny blocks and
// forwards as a stream: both must find the same newest banner, whatever
// the block boundaries cut.
func FuzzBannerDirections(f *testing.F) {
	f.Add([]byte("INFO  Kaazing Gateway (5.0.0.15)\nINFO  Starting\n"), uint8(3))
	f.Add([]byte("x\r\nINFO  Kaazing Gateway (5.6.1)\r\nINFO  Kaazing Gateway (5.6.2)"), uint8(1))
	f.Add([]byte("Kaazing Gateway (4.0)\n\n\nKaazing WebSocket Gateway - JMS Edition (4.0.7.596)\n"), uint8(7))
	f.Fuzz(func(t *testing.T, data []byte, block uint8) {
		// Tiny blocks copy the carried line start on every block: keep
		// inputs small so that each run stays fast.
		if len(data) > 4096 {
			data = data[:4096]
		}
		blockSize := int(block%64) + 1
		back, backLine, backOK, err := readBanner(bytes.NewReader(data), int64(len(data)), 1<<30, blockSize)
		if err != nil {
			t.Fatal(err)
		}
		fwd, fwdLine, fwdOK, err := readBannerForward(bytes.NewReader(data), 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		if back != fwd || backLine != fwdLine || backOK != fwdOK {
			t.Fatalf("block %d: backwards %q %q %v, forwards %q %q %v", blockSize, back, backLine, backOK, fwd, fwdLine, fwdOK)
		}
	})
}
