package scan

import (
	"slices"
	"testing"

	"github.com/spf13/afero"
)

func TestLayoutOf(t *testing.T) {
	tests := []struct {
		path string
		want Layout
	}{
		{"/usr/share/kaazing/jms/4.0", LayoutInstaller},
		{"/usr/share/kaazing/html5/3.3", LayoutInstaller},
		{"/usr/share/kaazing/jms", LayoutArchive},         // the edition folder, not a home
		{"/usr/share/kaazing/jms/4.0/sub", LayoutArchive}, // too deep
		{`C:\Program Files\Kaazing\JMS\4.0\Gateway`, LayoutInstaller},
		{`c:\program files (x86)\kaazing\html5\4.0\gateway`, LayoutInstaller},
		{`C:\Program Files\Kaazing\JMS\4.0`, LayoutArchive},
		{"/kaazing-gateway", LayoutDocker},
		{"/opt/kaazing-gateway", LayoutArchive},
		{"/opt/kaazing-community-gateway-5.6.2", LayoutArchive},
	}
	for _, tt := range tests {
		if got := layoutOf(tt.path); got != tt.want {
			t.Errorf("layoutOf(%q) = %q, want %q", tt.path, got, tt.want)
		}
	}
}

func TestIsHome(t *testing.T) {
	tests := []struct {
		name    string
		files   []string // under /h; a trailing slash makes a directory
		want    bool
		markers []string
	}{
		{"5.x unix", []string{"bin/gateway.start", "conf/", "lib/gateway.server.jar"}, true,
			[]string{"bin/gateway.start", "conf/", "lib/gateway.server.jar"}},
		{"both scripts", []string{"bin/gateway.start.bat", "bin/gateway.start", "conf/", "lib/gateway.server.jar"}, true,
			[]string{"bin/gateway.start", "bin/gateway.start.bat", "conf/", "lib/gateway.server.jar"}},
		{"4.x", []string{"bin/gateway.start", "conf/", "lib/com.kaazing.gateway.server.jar"}, true,
			[]string{"bin/gateway.start", "conf/", "lib/com.kaazing.gateway.server.jar"}},
		{"EE", []string{"conf/", "lib/enterprise.gateway.server.jar", "lib/gateway.server.jar"}, true,
			[]string{"conf/", "lib/gateway.server.jar", "lib/enterprise.gateway.server.jar"}},
		{"version jars only", []string{"conf/", "lib/gateway.distribution.version.jar", "lib/com.kaazing.gateway.server.version.jar"}, true,
			[]string{"conf/", "lib/com.kaazing.gateway.server.version.jar", "lib/gateway.distribution.version.jar"}},
		{"start script is a dir", []string{"bin/gateway.start/", "conf/", "lib/gateway.server.jar"}, true,
			[]string{"conf/", "lib/gateway.server.jar"}},
		{"no conf", []string{"bin/gateway.start", "lib/gateway.server.jar"}, false, nil},
		{"conf is a file", []string{"bin/gateway.start", "conf", "lib/gateway.server.jar"}, false, nil},
		{"no server jar", []string{"bin/gateway.start", "conf/", "lib/gateway.transport.jar", "lib/com.kaazing.gateway.jar"}, false, nil},
		{"empty", nil, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := afero.NewMemMapFs()
			if err := fsys.MkdirAll("/h", 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range tt.files {
				p := "/h/" + f
				if p[len(p)-1] == '/' {
					if err := fsys.MkdirAll(p, 0o755); err != nil {
						t.Fatal(err)
					}
					continue
				}
				if err := afero.WriteFile(fsys, p, nil, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			h, ok := IsHome(fsys, "/h")
			if ok != tt.want || !slices.Equal(h.Markers, tt.markers) {
				t.Errorf("IsHome = %+v, %v; want markers %q, %v", h, ok, tt.markers, tt.want)
			}
			if ok && (h.Path != "/h" || h.Layout != LayoutArchive) {
				t.Errorf("IsHome = %+v, want path /h, archive layout", h)
			}
		})
	}
}
