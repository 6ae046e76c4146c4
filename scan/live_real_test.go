package scan_test

import (
	"net"
	"os"
	"os/exec"
	"runtime"
	"testing"
	"time"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

// realProc skips unless this is Linux with a readable /proc/net/tcp.
func realProc(tb testing.TB) afero.Fs {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skip("live state is Linux-only")
	}
	if _, err := os.Stat("/proc/net/tcp"); err != nil {
		tb.Skipf("no /proc/net/tcp: %v", err)
	}
	return afero.NewReadOnlyFs(afero.NewOsFs())
}

// TestReadLiveRealListener opens a real listening socket and finds it, with
// this process as its owner, in the real /proc.
func TestReadLiveRealListener(t *testing.T) {
	fsys := realProc(t)
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen: %v", err)
	}
	defer ln.Close()
	port := ln.Addr().(*net.TCPAddr).Port
	udp, err := net.ListenPacket("udp4", "127.0.0.1:0")
	if err != nil {
		t.Skipf("cannot listen on udp: %v", err)
	}
	defer udp.Close()
	udpPort := udp.LocalAddr().(*net.UDPAddr).Port

	live := scan.ReadLive(fsys, runtime.GOOS, true)
	if !live.Available {
		t.Fatalf("live state unavailable: %s", live.Reason)
	}
	found := map[string]bool{}
	for _, s := range live.Sockets {
		if s.Host == "127.0.0.1" && (s.Proto == "tcp" && s.Port == port || s.Proto == "udp" && s.Port == udpPort) {
			found[s.Proto] = true
			if s.PID != os.Getpid() || s.Command == "" {
				t.Errorf("%s/%d owned by pid %d %q, want this test (pid %d)", s.Proto, s.Port, s.PID, s.Command, os.Getpid())
			}
		}
	}
	if !found["tcp"] || !found["udp"] {
		t.Errorf("listeners tcp/%d udp/%d not all found (found %v) among %d sockets", port, udpPort, found, len(live.Sockets))
	}
}

// BenchmarkReadLiveVsSS times ReadLive with every owner against
// "ss -tulnp", which reads the same kernel tables through netlink and also
// walks /proc/*/fd for owners, and reports gwup's time as a ratio of ss's.
func BenchmarkReadLiveVsSS(b *testing.B) {
	fsys := realProc(b)
	ss, err := exec.LookPath("ss")
	if err != nil {
		b.Skip("ss not installed")
	}
	var gwup, tool time.Duration
	for i := 0; i < b.N; i++ {
		t0 := time.Now()
		scan.ReadLive(fsys, runtime.GOOS, true)
		gwup += time.Since(t0)
		t0 = time.Now()
		if err := exec.Command(ss, "-tulnp").Run(); err != nil {
			b.Fatalf("ss: %v", err)
		}
		tool += time.Since(t0)
	}
	b.ReportMetric(float64(gwup.Microseconds())/float64(b.N), "gwup-µs/op")
	b.ReportMetric(float64(tool.Microseconds())/float64(b.N), "ss-µs/op")
	b.ReportMetric(float64(gwup)/float64(tool), "gwup/ss")
}
