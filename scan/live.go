package scan

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/netip"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/afero"
)

// Live state is read from /proc of the scanned filesystem, never from system
// calls, so that a test can hand ReadLive a fake /proc tree in a MemMapFs and
// so that --sysroot really means "look at that root".
//
// # Fakes in a MemMapFs
//
// MemMapFs has no symbolic links. Where the kernel shows a link, a fake tree
// holds a small regular file whose content is the link target instead:
//
//	/proc/1234/cwd      "/opt/kaazing-gateway-community-5.6.2\n"
//	/proc/1234/fd/7     "socket:[23456]"
//
// procReadlink below accepts both, so the same code reads the real /proc and the
// fakes. A regular file is only read in place of a link when it is tiny
// (procMaxFakeLink bytes): on a real /proc a descriptor is always a link, and
// reading through it could read a user's data file.

const procMaxFakeLink = 4096

// Main classes that start a KAAZING Gateway JVM (kaazing-facts §2.4): 5.x unix
// script, 4.x, the Windows script and the Linux installer.
var procMainClasses = map[string]bool{
	"org.kaazing.gateway.server.Main":               true,
	"com.kaazing.gateway.server.Main":               true,
	"org.kaazing.gateway.server.WindowsMain":        true,
	"com.kaazing.gateway.server.WindowsMain":        true,
	"org.kaazing.gateway.server.InstalledLinuxMain": true,
	"com.kaazing.gateway.server.InstalledLinuxMain": true,
}

// ReadLive reads the listening sockets and the running gateway processes of
// the host whose root is fsys. goos is the operating system gwup runs on: only
// Linux has the /proc this reads, and a sysroot without /proc/net/tcp (an
// image, a container layer) has no live state either; both give
// Available=false with the reason.
//
// The owner (PID, command) of a socket is always filled for the sockets of
// gateway processes, which costs one directory per gateway. With owners set,
// the descriptors of every process are read, so that a port held by nginx
// says so; that is slower on busy hosts (gopsutil#784) and needs root to see
// other users' processes.
func ReadLive(fsys afero.Fs, goos string, owners bool) Live {
	if goos != "linux" {
		return Live{Reason: fmt.Sprintf("live state is read from /proc, which %s does not have", goos)}
	}
	if _, err := fsys.Stat("/proc/net/tcp"); err != nil {
		return Live{Reason: "no /proc/net/tcp under the scanned root (not a running Linux system, or /proc not mounted)"}
	}
	live := Live{Available: true, Processes: []Process{}, Sockets: []Socket{}}
	for _, table := range []struct{ file, proto string }{
		{"/proc/net/tcp", "tcp"}, {"/proc/net/tcp6", "tcp"},
		{"/proc/net/udp", "udp"}, {"/proc/net/udp6", "udp"},
	} {
		data, err := afero.ReadFile(fsys, table.file)
		if err != nil {
			continue // tcp6/udp6 are absent on hosts without IPv6
		}
		live.Sockets = append(live.Sockets, ParseNetTable(data, table.proto)...)
	}

	pids := procListPIDs(fsys)
	byInode := make(map[uint64]int, len(live.Sockets))
	for i, s := range live.Sockets {
		if _, dup := byInode[s.Inode]; !dup && s.Inode != 0 {
			byInode[s.Inode] = i
		}
	}
	claim := func(pid int, inodes []uint64) {
		for _, ino := range inodes {
			i, ok := byInode[ino]
			if !ok || live.Sockets[i].PID != 0 {
				continue
			}
			live.Sockets[i].PID = pid
			live.Sockets[i].Command = procComm(fsys, pid)
		}
	}
	gateways := map[int]bool{}
	for _, pid := range pids {
		argv := procCmdline(fsys, pid)
		if len(argv) == 0 {
			continue // kernel thread, or a process that ended while we looked
		}
		proc, ok := procGateway(fsys, pid, argv)
		if !ok {
			continue
		}
		proc.SocketInodes = procSocketInodes(fsys, pid)
		claim(pid, proc.SocketInodes)
		gateways[pid] = true
		live.Processes = append(live.Processes, proc)
	}
	if owners {
		for _, pid := range pids {
			if !gateways[pid] {
				claim(pid, procSocketInodes(fsys, pid))
			}
		}
	}
	sort.SliceStable(live.Sockets, func(i, j int) bool {
		a, b := live.Sockets[i], live.Sockets[j]
		if a.Proto != b.Proto {
			return a.Proto < b.Proto
		}
		if a.Port != b.Port {
			return a.Port < b.Port
		}
		return a.Host < b.Host
	})
	return live
}

// LinkProcess returns the running gateway whose GATEWAY_HOME is home, or nil.
// Paths are compared cleaned; symbolic links are not resolved (the /proc
// fakes cannot have them, and a home reached through a link is rare).
func LinkProcess(live Live, home string) *Process {
	if home == "" {
		return nil
	}
	home = path.Clean(home)
	for i := range live.Processes {
		if live.Processes[i].Home != "" && path.Clean(live.Processes[i].Home) == home {
			return &live.Processes[i]
		}
	}
	return nil
}

// ParseNetTable parses one /proc/net/{tcp,tcp6,udp,udp6} table and returns its
// listening sockets, labelled with proto ("tcp" or "udp"). TCP sockets listen
// in state 0A (LISTEN); a UDP socket "listens" when it is unconnected: state
// 07 with a zero remote address. Malformed lines are skipped: the kernel
// writes this file, a damaged copy in a sysroot must not stop a scan.
func ParseNetTable(data []byte, proto string) []Socket {
	var out []Socket
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ...
		if len(f) < 10 || !strings.HasSuffix(f[0], ":") {
			continue // the header line, or junk
		}
		host, port, ok := procDecodeAddr(f[1])
		if !ok {
			continue
		}
		remHost, remPort, ok := procDecodeAddr(f[2])
		if !ok {
			continue
		}
		switch {
		case proto == "tcp" && f[3] == "0A":
		case proto == "udp" && f[3] == "07" && remPort == 0 && remHost.IsUnspecified():
		default:
			continue
		}
		inode, err := strconv.ParseUint(f[9], 10, 64)
		if err != nil {
			continue
		}
		out = append(out, Socket{Proto: proto, Host: host.String(), Port: port, Inode: inode})
	}
	return out
}

// procDecodeAddr decodes "0100007F:1F40" (IPv4) or a 32-hex-digit IPv6 address and
// a port. The kernel prints each 32-bit word of the address in host byte
// order, which is little-endian on every platform gwup runs on, and the port
// in plain hex. IPv4-mapped IPv6 addresses (a Java socket bound to an IPv4
// address) are reported as the IPv4 address.
func procDecodeAddr(s string) (netip.Addr, int, bool) {
	hexAddr, hexPort, ok := strings.Cut(s, ":")
	if !ok {
		return netip.Addr{}, 0, false
	}
	port, err := strconv.ParseUint(hexPort, 16, 16)
	if err != nil {
		return netip.Addr{}, 0, false
	}
	raw, err := hex.DecodeString(hexAddr)
	if err != nil || (len(raw) != 4 && len(raw) != 16) {
		return netip.Addr{}, 0, false
	}
	for w := 0; w+4 <= len(raw); w += 4 { // little-endian words → network order
		raw[w], raw[w+1], raw[w+2], raw[w+3] = raw[w+3], raw[w+2], raw[w+1], raw[w]
	}
	addr, _ := netip.AddrFromSlice(raw)
	return addr.Unmap(), int(port), true
}

// procListPIDs returns the numeric entries of /proc, in ascending order.
func procListPIDs(fsys afero.Fs) []int {
	dir, err := fsys.Open("/proc")
	if err != nil {
		return nil
	}
	defer dir.Close()
	names, _ := dir.Readdirnames(-1) // a partial list is still worth reading
	var pids []int
	for _, n := range names {
		if pid, err := strconv.Atoi(n); err == nil && pid > 0 {
			pids = append(pids, pid)
		}
	}
	sort.Ints(pids)
	return pids
}

func procPath(pid int, elem ...string) string {
	return path.Join(append([]string{"/proc", strconv.Itoa(pid)}, elem...)...)
}

// procCmdline splits /proc/PID/cmdline, whose arguments end in NUL bytes.
func procCmdline(fsys afero.Fs, pid int) []string {
	data, err := afero.ReadFile(fsys, procPath(pid, "cmdline"))
	if err != nil || len(data) == 0 {
		return nil
	}
	data = bytes.TrimRight(data, "\x00")
	return strings.Split(string(data), "\x00")
}

// procComm returns the short command name of a process ("" if unreadable).
func procComm(fsys afero.Fs, pid int) string {
	data, err := afero.ReadFile(fsys, procPath(pid, "comm"))
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(data))
}

// procSocketInodes returns the socket inodes among the open descriptors of pid.
// Unreadable descriptors (another user's process without root) give none.
func procSocketInodes(fsys afero.Fs, pid int) []uint64 {
	dir, err := fsys.Open(procPath(pid, "fd"))
	if err != nil {
		return nil
	}
	names, _ := dir.Readdirnames(-1)
	dir.Close()
	sort.Strings(names)
	var inodes []uint64
	for _, n := range names {
		target, err := procReadlink(fsys, procPath(pid, "fd", n))
		if err != nil {
			continue
		}
		rest, ok := strings.CutPrefix(target, "socket:[")
		if !ok || !strings.HasSuffix(rest, "]") {
			continue
		}
		if ino, err := strconv.ParseUint(strings.TrimSuffix(rest, "]"), 10, 64); err == nil {
			inodes = append(inodes, ino)
		}
	}
	return inodes
}

// procReadlink reads a symbolic link through afero.LinkReader when the filesystem
// has it, and otherwise (or when name is not a link) reads the content of a
// tiny regular file standing in for the link; see the package comment on
// fakes above.
func procReadlink(fsys afero.Fs, name string) (string, error) {
	if lr, ok := fsys.(afero.LinkReader); ok {
		target, err := lr.ReadlinkIfPossible(name)
		if err == nil {
			return target, nil
		}
		if !errors.Is(err, afero.ErrNoReadlink) && !procIsFakeLink(fsys, name) {
			return "", err
		}
	}
	if !procIsFakeLink(fsys, name) {
		return "", &fs.PathError{Op: "readlink", Path: name, Err: fs.ErrInvalid}
	}
	data, err := afero.ReadFile(fsys, name)
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(data)), nil
}

// procIsFakeLink reports whether name is a regular file small enough to be a
// fake link, without following a final symbolic link.
func procIsFakeLink(fsys afero.Fs, name string) bool {
	var info fs.FileInfo
	var err error
	if ls, ok := fsys.(afero.Lstater); ok {
		info, _, err = ls.LstatIfPossible(name)
	} else {
		info, err = fsys.Stat(name)
	}
	return err == nil && info.Mode().IsRegular() && info.Size() <= procMaxFakeLink
}

// procGateway recognises a gateway JVM from its command line and fills
// what the command line says: home, configuration, -D properties.
func procGateway(fsys afero.Fs, pid int, argv []string) (Process, bool) {
	proc := Process{PID: pid, Argv: argv, Defines: map[string]string{}}
	isGateway := false
	var classpath []string
	var config string
	afterMain := false // arguments after the main class are the gateway's own (--config), not the JVM's
	for i := 0; i < len(argv); i++ {
		arg := argv[i]
		switch {
		case afterMain:
			if arg == "--config" && i+1 < len(argv) {
				i++
				config = argv[i]
			} else if v, ok := strings.CutPrefix(arg, "--config="); ok {
				config = v
			}
		case procMainClasses[arg]:
			isGateway, afterMain = true, true
		case (arg == "-cp" || arg == "-classpath" || arg == "--class-path") && i+1 < len(argv):
			i++
			classpath = append(classpath, strings.Split(argv[i], ":")...)
		case strings.HasPrefix(arg, "-D"):
			name, value, _ := strings.Cut(arg[2:], "=")
			if name != "" {
				proc.Defines[name] = value
			}
		}
	}
	if !isGateway && len(classpath) == 0 {
		return Process{}, false // most processes: not even a JVM with a classpath
	}
	if cwd, err := procReadlink(fsys, procPath(pid, "cwd")); err == nil && path.IsAbs(cwd) {
		proc.Cwd = cwd
	}
	libHome := ""
	for _, entry := range classpath {
		dir := path.Dir(entry) // "/opt/gw/lib/*" → "/opt/gw/lib"; "/opt/gw/lib/gateway.server.jar" likewise
		if path.Base(entry) == "lib" {
			dir = entry
		}
		if path.Base(dir) != "lib" {
			continue
		}
		dir = procAbs(dir, proc.Cwd)
		if !path.IsAbs(dir) {
			continue
		}
		if procLibHoldsServerJar(fsys, dir) || strings.Contains(path.Base(entry), "gateway.server") {
			isGateway = true
			libHome = path.Dir(dir)
			break
		}
		if libHome == "" {
			libHome = path.Dir(dir) // a lib/ we cannot read: still the best guess for home
		}
	}
	if !isGateway {
		return Process{}, false
	}
	if home := proc.Defines["GATEWAY_HOME"]; home != "" {
		proc.Home = path.Clean(procAbs(home, proc.Cwd))
	} else {
		proc.Home = libHome
	}
	if config == "" {
		config = proc.Defines["GATEWAY_CONFIG"]
	}
	if config != "" {
		if strings.Contains(config, "://") {
			proc.Config = config // a URL: the gateway downloads it (kaazing-facts §4)
		} else {
			proc.Config = path.Clean(procAbs(config, proc.Cwd))
		}
	}
	if len(proc.Defines) == 0 {
		proc.Defines = nil
	}
	return proc, true
}

// procAbs makes p absolute against dir, as the JVM's new File(p) does
// against the process's working directory. It stays relative when dir is "".
func procAbs(p, dir string) string {
	if path.IsAbs(p) || dir == "" {
		return p
	}
	return path.Join(dir, p)
}

// procLibHoldsServerJar reports whether dir holds gateway.server.jar,
// com.kaazing.gateway.server.jar or enterprise.gateway.server.jar.
func procLibHoldsServerJar(fsys afero.Fs, dir string) bool {
	for _, name := range []string{"gateway.server.jar", "com.kaazing.gateway.server.jar", "enterprise.gateway.server.jar"} {
		if _, err := fsys.Stat(path.Join(dir, name)); err == nil {
			return true
		}
	}
	return false
}
