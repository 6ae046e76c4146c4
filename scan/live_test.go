package scan_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/spf13/afero"
)

// loadProc loads a fake /proc tree from a txtar fixture, turning the
// one-argument-per-line cmdline files into the NUL-separated form of the kernel.
func loadProc(t *testing.T, file string) afero.Fs {
	t.Helper()
	fsys := scantest.LoadFile(t, file, "/")
	matches, err := afero.Glob(fsys, "/proc/*/cmdline")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range matches {
		data, err := afero.ReadFile(fsys, m)
		if err != nil {
			t.Fatal(err)
		}
		data = bytes.ReplaceAll(data, []byte("\n"), []byte{0})
		if err := afero.WriteFile(fsys, m, data, 0o444); err != nil {
			t.Fatal(err)
		}
	}
	return fsys
}

func TestReadLiveSockets(t *testing.T) {
	live := scan.ReadLive(loadProc(t, "../testdata/proc/host.txtar"), "linux", false)
	if !live.Available {
		t.Fatalf("Available = false (%s), want true", live.Reason)
	}
	type sock struct {
		Proto, Host string
		Port        int
		Inode       uint64
		PID         int
		Command     string
	}
	var got []sock
	for _, s := range live.Sockets {
		got = append(got, sock{s.Proto, s.Host, s.Port, s.Inode, s.PID, s.Command})
	}
	// Sorted by proto, port, host. Without --owners only the gateway's own
	// sockets have an owner; nginx's 8000 and pid 3000's 8080 do not.
	want := []sock{
		{"tcp", "0.0.0.0", 22, 20001, 0, ""},
		{"tcp", "::1", 631, 20002, 0, ""},
		{"tcp", "::", 2020, 31003, 1234, "java"},
		{"tcp", "0.0.0.0", 8000, 31001, 0, ""},
		{"tcp", "::", 8001, 31002, 1234, "java"},
		{"tcp", "127.0.0.1", 8010, 41001, 0, ""},
		{"tcp", "2001:db8::10", 8080, 51001, 0, ""},
		{"tcp", "127.0.0.1", 9000, 31004, 1234, "java"}, // ::ffff:127.0.0.1 reported as IPv4
		{"udp", "0.0.0.0", 3478, 31010, 1234, "java"},
		{"udp", "::", 5353, 20100, 0, ""},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("sockets:\n got %v\nwant %v", got, want)
	}
}

func TestReadLiveOwners(t *testing.T) {
	live := scan.ReadLive(loadProc(t, "../testdata/proc/host.txtar"), "linux", true)
	owners := map[int]string{}
	for _, s := range live.Sockets {
		if s.PID != 0 {
			owners[s.Port] = s.Command
		}
	}
	want := map[int]string{22: "sshd", 8000: "nginx", 2020: "java", 8001: "java", 8080: "java", 9000: "java", 3478: "java"}
	if !reflect.DeepEqual(owners, want) {
		t.Errorf("owners by port = %v, want %v", owners, want)
	}
}

func TestReadLiveProcesses(t *testing.T) {
	live := scan.ReadLive(loadProc(t, "../testdata/proc/host.txtar"), "linux", false)
	type proc struct {
		PID                int
		Home, Cwd, Config  string
		Inodes             []uint64
		HostnameDefine     string
		DefineCount, Argvs int
	}
	var got []proc
	for _, p := range live.Processes {
		got = append(got, proc{p.PID, p.Home, p.Cwd, p.Config, p.SocketInodes, p.Defines["gateway.hostname"], len(p.Defines), len(p.Argv)})
	}
	want := []proc{
		{1234, "/opt/kaazing/kaazing-community-gateway-5.6.2", "/opt/kaazing/kaazing-community-gateway-5.6.2",
			"/opt/kaazing/kaazing-community-gateway-5.6.2/conf/custom.xml", []uint64{31002, 31003, 31004, 31010}, "gw.example.com", 3, 11},
		{2000, "/usr/share/kaazing/jms/4.0", "/", "/etc/kaazing/conf/gateway-config.xml", nil, "", 4, 9},
		{4000, "/usr/share/kaazing/html5/3.3", "/usr/share/kaazing/html5/3.3", "", nil, "", 0, 4},
		{5000, "/opt/gw5", "", "/etc/gw5.xml", nil, "", 0, 6},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("processes:\n got %+v\nwant %+v", got, want)
	}
	if v, ok := live.Processes[1].Defines["EMPTY"]; !ok || v != "" {
		t.Errorf("-DEMPTY= gives %q, %v; want an empty define", v, ok)
	}
}

func TestReadLiveUnavailable(t *testing.T) {
	tests := []struct {
		name, goos string
		fsys       afero.Fs
		reason     string
	}{
		{"not linux", "darwin", loadProc(t, "../testdata/proc/host.txtar"), "darwin"},
		{"no proc", "linux", afero.NewMemMapFs(), "/proc/net/tcp"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			live := scan.ReadLive(tt.fsys, tt.goos, true)
			if live.Available || !strings.Contains(live.Reason, tt.reason) {
				t.Errorf("ReadLive = available %v reason %q, want unavailable mentioning %q", live.Available, live.Reason, tt.reason)
			}
		})
	}
}

func TestLinkProcess(t *testing.T) {
	live := scan.ReadLive(loadProc(t, "../testdata/proc/host.txtar"), "linux", false)
	tests := []struct {
		home    string
		wantPID int
	}{
		{"/opt/kaazing/kaazing-community-gateway-5.6.2", 1234},
		{"/opt/kaazing/kaazing-community-gateway-5.6.2/", 1234},
		{"/usr/share/kaazing/jms/4.0", 2000},
		{"/usr/share/kaazing/jms/5.0", 0},
		{"", 0},
	}
	for _, tt := range tests {
		p := scan.LinkProcess(live, tt.home)
		got := 0
		if p != nil {
			got = p.PID
		}
		if got != tt.wantPID {
			t.Errorf("LinkProcess(%q) = pid %d, want %d", tt.home, got, tt.wantPID)
		}
	}
}

func TestParseNetTableIPv6Words(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"00000000000000000000000001000000", "::1"},
		{"B80D0120000000000000000010000000", "2001:db8::10"},
		{"000080FE00000000FF005002EEEF11FE", "fe80::250:ff:fe11:efee"},
		{"0000000000000000FFFF00000A00000A", "10.0.0.10"},
	}
	for _, tt := range tests {
		line := "  0: " + tt.addr + ":0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 7 1\n"
		got := scan.ParseNetTable([]byte(line), "tcp")
		if len(got) != 1 || got[0].Host != tt.want || got[0].Port != 80 || got[0].Inode != 7 {
			t.Errorf("ParseNetTable(%s) = %+v, want host %s port 80 inode 7", tt.addr, got, tt.want)
		}
	}
}

// TestReadLiveOsFsLinks runs the readlink path on a real directory with real
// symbolic links, as /proc has them.
func TestReadLiveOsFsLinks(t *testing.T) {
	root := t.TempDir()
	for _, d := range []string{"proc/net", "proc/77/fd", "gw/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	files := map[string]string{
		"proc/net/tcp":              "  sl  local_address rem_address   st\n   0: 00000000:1F40 00000000:0000 0A 00000000:00000000 00:00000000 00000000 0 0 999 1\n",
		"proc/77/cmdline":           "java\x00-cp\x00lib/*\x00org.kaazing.gateway.server.Main\x00",
		"proc/77/comm":              "java\n",
		"gw/lib/gateway.server.jar": "x",
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(root, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The link target is the absolute path seen inside the root.
	if err := os.Symlink("/gw", filepath.Join(root, "proc/77/cwd")); err != nil {
		t.Skipf("symlinks not available: %v", err)
	}
	if err := os.Symlink("socket:[999]", filepath.Join(root, "proc/77/fd/5")); err != nil {
		t.Fatal(err)
	}
	fsys := afero.NewBasePathFs(afero.NewOsFs(), root)
	live := scan.ReadLive(fsys, "linux", false)
	if len(live.Processes) != 1 || live.Processes[0].Cwd != "/gw" || live.Processes[0].Home != "/gw" {
		t.Fatalf("processes = %+v, want one gateway with cwd and home /gw", live.Processes)
	}
	if len(live.Sockets) != 1 || live.Sockets[0].PID != 77 || live.Sockets[0].Command != "java" {
		t.Errorf("sockets = %+v, want 8000 owned by 77 java", live.Sockets)
	}
}

func TestReadHosts(t *testing.T) {
	fsys := afero.NewMemMapFs()
	hosts := "# static table\n127.0.0.1\tlocalhost\n::1 localhost ip6-localhost\n" +
		"10.0.0.5 GW.Example.com gw   # the gateway\n10.0.0.6 gw\n10.0.0.5 gw\nfe80::1%eth0 link\nnot-an-ip name\n::ffff:10.1.1.1 mapped\n"
	if err := afero.WriteFile(fsys, "/etc/hosts", []byte(hosts), 0o644); err != nil {
		t.Fatal(err)
	}
	got := scan.ReadHosts(fsys)
	want := map[string][]string{
		"localhost":      {"127.0.0.1", "::1"},
		"ip6-localhost":  {"::1"},
		"gw.example.com": {"10.0.0.5"},
		"gw":             {"10.0.0.5", "10.0.0.6"},
		"link":           {"fe80::1"},
		"mapped":         {"10.1.1.1"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadHosts =\n %v\nwant\n %v", got, want)
	}
	if got := scan.ReadHosts(afero.NewMemMapFs()); got == nil || len(got) != 0 {
		t.Errorf("ReadHosts(no file) = %v, want an empty map", got)
	}
}

func FuzzParseNetTable(f *testing.F) {
	data, err := os.ReadFile("../testdata/proc/host.txtar")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(data)
	f.Add([]byte("  0: 0100007F:1F40 00000000:0000 0A 0:0 0:0 0 0 0 12\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, s := range scan.ParseNetTable(data, "tcp") {
			if s.Port < 0 || s.Port > 65535 || s.Host == "" {
				t.Fatalf("bad socket %+v", s)
			}
		}
		scan.ParseHosts(data)
	})
}
