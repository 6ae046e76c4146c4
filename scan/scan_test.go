package scan_test

import (
	"context"
	"strings"
	"testing"

	"github.com/spf13/afero"

	"github.com/kaazing-tools/gwup/scan"
)

// TestScanRunningHost is the whole of scan on one host: the running gateway
// is linked to its home, loads the config its command line names (relative
// to its working directory) with its -D values, and the other home is found
// under a deeper root.
func TestScanRunningHost(t *testing.T) {
	fsys := loadProc(t, "../testdata/host/running.txtar")
	res, err := scan.Scan(context.Background(), afero.NewReadOnlyFs(fsys), scan.Options{GOOS: "linux", Roots: []string{"/opt"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Host != "web-7" || !res.Live.Available {
		t.Fatalf("host %q, live %+v", res.Host, res.Live)
	}
	if len(res.Installs) != 2 {
		t.Fatalf("installs = %d, want 2: %+v", len(res.Installs), res.Installs)
	}
	running, old := res.Installs[0], res.Installs[1]
	if running.Home != "/opt/kaazing-community-gateway-5.6.2" || old.Home != "/opt/old/kaazing-gateway-community-5.0.1" {
		t.Fatalf("homes %q, %q: want them sorted", running.Home, old.Home)
	}
	if running.State != scan.StateRunning || running.PID != 1234 {
		t.Errorf("running: state %s pid %d, want running 1234", running.State, running.PID)
	}
	if old.State != scan.StateStopped {
		t.Errorf("old: state %s, want stopped", old.State)
	}
	c := running.Config
	if c == nil || c.Path != "/opt/kaazing-community-gateway-5.6.2/conf/live.xml" || c.Source != scan.SourceProcess {
		t.Fatalf("config = %+v, want conf/live.xml from the process", c)
	}
	if len(running.Listeners) != 1 {
		t.Fatalf("listeners = %+v", running.Listeners)
	}
	l := running.Listeners[0]
	if l.Host != "gw.example.com" || l.Port != 9001 || l.Service != "echo" || l.Line != 4 {
		t.Errorf("listener = %+v, want gw.example.com:9001 echo at line 4", l)
	}
	if running.Release != "5.6.2" || running.Edition != "Community" {
		t.Errorf("release %q edition %q", running.Release, running.Edition)
	}
	if old.Release != "5.0.1.55" || len(old.Listeners) != 1 || old.Listeners[0].Port != 8080 {
		t.Errorf("old = %s %+v", old.Release, old.Listeners)
	}
	if !res.Complete() {
		t.Errorf("scan incomplete: %+v %+v", res.Coverage, res.Installs)
	}
}

// TestScanIncomplete: an install whose config cannot be parsed makes the
// result incomplete, and says where.
func TestScanIncomplete(t *testing.T) {
	fsys := loadProc(t, "../testdata/host/running.txtar")
	if err := afero.WriteFile(fsys, "/opt/old/kaazing-gateway-community-5.0.1/conf/gateway-config.xml", []byte("<gateway-config xmlns=\"http://xmlns.kaazing.org/2014/09/gateway\">\n<service>\n</gateway-config>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := scan.Scan(context.Background(), fsys, scan.Options{GOOS: "linux", Roots: []string{"/opt"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Complete() {
		t.Fatalf("complete with a malformed config")
	}
	var keys []string
	for _, p := range res.Installs[1].Problems {
		keys = append(keys, p.Key)
	}
	if !strings.Contains(strings.Join(keys, " "), "config-malformed") {
		t.Errorf("problems %v, want config-malformed", keys)
	}
}
