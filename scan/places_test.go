package scan_test

import (
	"slices"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

func TestKnownPlaces(t *testing.T) {
	fsys := afero.NewMemMapFs()
	for _, d := range []string{
		"/usr/share/kaazing/jms/5.0", "/usr/share/kaazing/jms/4.0", "/usr/share/kaazing/html5/3.3",
		"/opt", "/srv", "/home", "/kaazing-gateway", "/apps/gw",
		`C:\Program Files (x86)\Kaazing`,
	} {
		if err := fsys.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := afero.WriteFile(fsys, "/usr/share/kaazing/README", nil, 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		goos string
		want []string
	}{
		{"linux", map[string]string{"GATEWAY_HOME": "/apps/gw/", "KAAZING_HOME": "/nope"}, "linux", []string{
			"/apps/gw",
			"/usr/share/kaazing/html5/3.3", "/usr/share/kaazing/jms/4.0", "/usr/share/kaazing/jms/5.0",
			"/opt", "/srv", "/home", "/kaazing-gateway",
		}},
		{"env repeats a place", map[string]string{"KAAZING_HOME": "/opt", "GATEWAY_HOME": "/opt"}, "linux", []string{
			"/opt",
			"/usr/share/kaazing/html5/3.3", "/usr/share/kaazing/jms/4.0", "/usr/share/kaazing/jms/5.0",
			"/srv", "/home", "/kaazing-gateway",
		}},
		{"windows", nil, "windows", []string{
			"/usr/share/kaazing/html5/3.3", "/usr/share/kaazing/jms/4.0", "/usr/share/kaazing/jms/5.0",
			"/opt", "/srv", "/home", "/kaazing-gateway", `C:\Program Files (x86)\Kaazing`,
		}},
	}
	for _, tt := range tests {
		got := scan.KnownPlaces(fsys, func(k string) string { return tt.env[k] }, tt.goos)
		if !slices.Equal(got, tt.want) {
			t.Errorf("%s: KnownPlaces =\n%q\nwant\n%q", tt.name, got, tt.want)
		}
	}
}
