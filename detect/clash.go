package detect

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	"github.com/kaazing-tools/gwup/scan"
)

// Clash kinds.
const (
	ClashInstalls = "installs" // two installs' configurations bind the same socket
	ClashLive     = "live"     // a socket an install needs is held now by another process
)

// Clash is one socket two parties cannot both bind.
type Clash struct {
	Kind  string `json:"kind"`  // ClashInstalls or ClashLive
	Proto string `json:"proto"` // "tcp" or "udp"
	Port  int    `json:"port"`
	// Homes are the installs involved (one for a live clash), in scan order;
	// a bare configuration file is named by its path.
	Homes []string `json:"homes"`
	// Listeners are the configured listeners involved, in scan order.
	Listeners []Party `json:"listeners"`
	// HeldBy is the live socket of a live clash, with its owner when known.
	HeldBy *scan.Socket `json:"held_by,omitempty"`
	// Possible is set when the addresses may or may not overlap (a hostname
	// /etc/hosts does not resolve, an unresolved ${property}); Reason says why.
	Possible    bool         `json:"possible"`
	Reason      string       `json:"reason,omitempty"`
	Remediation *Remediation `json:"remediation,omitempty"`
}

// Party is a configured listener and the install it belongs to.
type Party struct {
	Home     string        `json:"home"`
	Listener scan.Listener `json:"listener"`
}

// Remediation proposes one concrete change that removes a clash: move Home's
// listener at File:Line from Port to FreePort. FreePort is 0 when no free
// port was found.
type Remediation struct {
	Home     string `json:"home"`
	File     string `json:"file"`
	Line     int    `json:"line"`
	Port     int    `json:"port"`
	FreePort int    `json:"free_port"`
	// Property is set when the port comes from a ${property}: File and
	// Line then point at the property, which is what to change.
	Property string `json:"property,omitempty"`
	Message  string `json:"message"`
}

// overlapVerdict says whether two bind addresses overlap.
type overlapVerdict int

const (
	overlapNo overlapVerdict = iota
	overlapYes
	overlapMaybe
)

// addrSet is a bind address made comparable: a wildcard, a set of literal
// addresses, or a name that could not be resolved.
type addrSet struct {
	wildcard   bool
	addrs      []netip.Addr
	unresolved string // the name, when it could not be resolved
}

// resolveBind classifies a listener host. The rules (pinned in
// clash_test.go):
//   - "", "*", 0.0.0.0 and :: are wildcards. A Java ServerSocket bound to
//     0.0.0.0 on a dual-stack Linux host is an IPv6 socket on ::, which also
//     takes IPv4 (net.ipv6.bindv6only=0), so either wildcard overlaps every
//     address of either family.
//   - localhost is 127.0.0.1 and ::1 (the Gateway binds every address a name
//     resolves to, kaazing-facts §3.3), plus what /etc/hosts says.
//   - a literal address is itself (IPv4-mapped IPv6 counts as IPv4);
//   - any other name is looked up in hosts (lower-cased); failing that it is
//     unresolved, which makes every comparison with it "possible" except
//     with the very same name (one name resolves once on one host).
func resolveBind(host string, hosts map[string][]string) addrSet {
	h := strings.ToLower(strings.TrimSpace(host))
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if i := strings.IndexByte(h, '%'); i >= 0 {
		h = h[:i]
	}
	switch h {
	case "", "*", "0.0.0.0", "::":
		return addrSet{wildcard: true}
	}
	if a, err := netip.ParseAddr(h); err == nil {
		a = a.Unmap()
		if a.IsUnspecified() {
			return addrSet{wildcard: true}
		}
		return addrSet{addrs: []netip.Addr{a}}
	}
	var set addrSet
	if h == "localhost" || strings.HasSuffix(h, ".localhost") {
		set.addrs = append(set.addrs, netip.MustParseAddr("127.0.0.1"), netip.IPv6Loopback())
	}
	for _, s := range hosts[h] {
		if a, err := netip.ParseAddr(s); err == nil {
			a = a.Unmap()
			if a.IsUnspecified() {
				return addrSet{wildcard: true}
			}
			set.addrs = append(set.addrs, a)
		}
	}
	if len(set.addrs) == 0 {
		set.unresolved = h
	}
	return set
}

// overlap decides whether binds on hosts a and b (same proto and port) clash,
// with the reason when it cannot tell.
func overlap(a, b string, hosts map[string][]string) (overlapVerdict, string) {
	sa, sb := resolveBind(a, hosts), resolveBind(b, hosts)
	if sa.wildcard || sb.wildcard {
		return overlapYes, ""
	}
	if sa.unresolved != "" || sb.unresolved != "" {
		if sa.unresolved != "" && sa.unresolved == sb.unresolved {
			return overlapYes, ""
		}
		name := sa.unresolved
		if name == "" {
			name = sb.unresolved
		}
		if strings.Contains(name, "${") {
			return overlapMaybe, fmt.Sprintf("host %s has an unresolved property", name)
		}
		return overlapMaybe, fmt.Sprintf("host %s is not in /etc/hosts; it overlaps if it resolves to the other address", name)
	}
	for _, x := range sa.addrs {
		for _, y := range sb.addrs {
			if x == y {
				return overlapYes, ""
			}
		}
	}
	return overlapNo, ""
}

// isJMX reports whether a listener is a JMX connector. Its RMI registry binds
// every interface whatever host the URI names (JmxManagementService calls
// LocateRegistry.createRegistry(port)), so it counts as a wildcard.
func isJMX(l scan.Listener) bool {
	return l.Type == "management.jmx" || strings.EqualFold(l.Scheme, "jmx")
}

func bindHost(l scan.Listener) string {
	if isJMX(l) {
		return "0.0.0.0"
	}
	return l.Host
}

// installName names an install in reports: its home, or the configuration
// file of a bare config.
func installName(in scan.Install) string {
	if in.Home != "" || in.Config == nil {
		return in.Home
	}
	return in.Config.Path
}

// Clashes finds every socket that two installs would both bind, and every
// socket an install needs that another process holds now. It is pure:
// hosts is /etc/hosts of the scanned root (scan.ReadHosts), live its live
// state (scan.ReadLive; Available=false simply adds no live clashes).
//
// Listeners of one install never clash with each other here: inside one
// gateway services share host:port by path (kaazing-facts §3.6).
//
// A live socket is the install's own when its inode is among the sockets of
// the install's running gateway (scan.LinkProcess). When that gateway's
// descriptors could not be read (it has no socket inodes: another user's
// process and gwup not root), a socket with no known owner is taken to be the
// gateway's own, so that scanning a running gateway without root does not
// report the gateway against itself. A live socket held by another scanned
// install that configures the same port is left to the install-vs-install
// clash, to report it once.
func Clashes(installs []scan.Install, live scan.Live, hosts map[string][]string) []Clash {
	var clashes []Clash
	for i := 0; i < len(installs); i++ {
		for j := i + 1; j < len(installs); j++ {
			clashes = append(clashes, pairClashes(installs[i], installs[j], hosts)...)
		}
	}
	if live.Available {
		for _, in := range installs {
			clashes = append(clashes, liveClashes(in, installs, live, hosts)...)
		}
	}
	remediate(clashes, installs, live)
	if clashes == nil {
		clashes = []Clash{} // JSON [] rather than null
	}
	return clashes
}

// proto normalises a protocol name: lower case, "" meaning tcp (every
// Gateway scheme but udp:// is carried over TCP).
func proto(p string) string {
	p = strings.ToLower(strings.TrimSpace(p))
	if p == "" {
		return "tcp"
	}
	return p
}

type protoPort struct {
	proto string
	port  int
}

// pairClashes compares every listener of a with every listener of b and
// groups the overlaps by proto and port.
func pairClashes(a, b scan.Install, hosts map[string][]string) []Clash {
	byPort := map[protoPort]*Clash{}
	var order []protoPort
	add := func(c *Clash, home string, l scan.Listener) {
		if !containsParty(c.Listeners, home, l) {
			c.Listeners = append(c.Listeners, Party{Home: home, Listener: l})
		}
	}
	nameA, nameB := installName(a), installName(b)
	for _, la := range a.Listeners {
		for _, lb := range b.Listeners {
			if la.Port <= 0 || la.Port != lb.Port || proto(la.Proto) != proto(lb.Proto) {
				continue
			}
			verdict, reason := overlap(bindHost(la), bindHost(lb), hosts)
			if verdict == overlapNo {
				continue
			}
			pp := protoPort{proto(la.Proto), la.Port}
			c := byPort[pp]
			if c == nil {
				c = &Clash{Kind: ClashInstalls, Proto: pp.proto, Port: pp.port, Homes: []string{nameA, nameB}, Possible: true}
				byPort[pp] = c
				order = append(order, pp)
			}
			if verdict == overlapYes {
				c.Possible, c.Reason = false, ""
			} else if c.Possible && c.Reason == "" {
				c.Reason = reason
			}
			add(c, nameA, la)
			add(c, nameB, lb)
		}
	}
	out := make([]Clash, 0, len(order))
	for _, pp := range order {
		c := byPort[pp]
		sortParties(c.Listeners, []string{nameA, nameB})
		out = append(out, *c)
	}
	return out
}

func sortParties(ps []Party, homes []string) {
	rank := map[string]int{}
	for i, h := range homes {
		rank[h] = i
	}
	sort.SliceStable(ps, func(i, j int) bool { return rank[ps[i].Home] < rank[ps[j].Home] })
}

// liveClashes finds the live sockets, not the install's own, that sit on a
// socket the install's configuration binds.
func liveClashes(in scan.Install, installs []scan.Install, live scan.Live, hosts map[string][]string) []Clash {
	name := installName(in)
	own := map[uint64]bool{}
	ownPID := in.PID
	unreadable := false
	if p := findProcess(in, live); p != nil {
		ownPID = p.PID
		for _, ino := range p.SocketInodes {
			own[ino] = true
		}
		unreadable = len(p.SocketInodes) == 0
	}
	var out []Clash
	index := map[string]int{}
	for _, l := range in.Listeners {
		for _, s := range live.Sockets {
			if l.Port <= 0 || s.Port != l.Port || proto(s.Proto) != proto(l.Proto) {
				continue
			}
			switch {
			case own[s.Inode], ownPID != 0 && s.PID == ownPID, unreadable && s.PID == 0:
				continue
			case heldByOtherInstall(s, in, installs, live):
				continue
			}
			verdict, reason := overlap(bindHost(l), s.Host, hosts)
			if verdict == overlapNo {
				continue
			}
			// One clash per holder: nginx on 0.0.0.0:80 and [::]:80 is one clash.
			key := fmt.Sprintf("%s|%d|%d", s.Proto, s.Port, s.PID)
			i, ok := index[key]
			if !ok {
				sock := s
				out = append(out, Clash{Kind: ClashLive, Proto: proto(l.Proto), Port: l.Port,
					Homes: []string{name}, HeldBy: &sock, Possible: true})
				i = len(out) - 1
				index[key] = i
			}
			c := &out[i]
			if verdict == overlapYes {
				c.Possible, c.Reason = false, ""
			} else if c.Possible && c.Reason == "" {
				c.Reason = reason
			}
			if !containsParty(c.Listeners, name, l) {
				c.Listeners = append(c.Listeners, Party{Home: name, Listener: l})
			}
		}
	}
	return out
}

func containsParty(ps []Party, home string, l scan.Listener) bool {
	for _, p := range ps {
		if p.Home == home && p.Listener == l {
			return true
		}
	}
	return false
}

// findProcess returns the running gateway of an install: by PID when scan
// linked one, else by home.
func findProcess(in scan.Install, live scan.Live) *scan.Process {
	if in.PID != 0 {
		for i := range live.Processes {
			if live.Processes[i].PID == in.PID {
				return &live.Processes[i]
			}
		}
	}
	return scan.LinkProcess(live, in.Home)
}

// heldByOtherInstall reports whether socket s belongs to the running gateway
// of another scanned install that configures the same proto and port.
func heldByOtherInstall(s scan.Socket, self scan.Install, installs []scan.Install, live scan.Live) bool {
	for _, other := range installs {
		if other.Home == self.Home && installName(other) == installName(self) {
			continue
		}
		p := findProcess(other, live)
		if p == nil || !(s.PID == p.PID || containsInode(p.SocketInodes, s.Inode)) {
			continue
		}
		for _, l := range other.Listeners {
			if l.Port == s.Port && proto(l.Proto) == proto(s.Proto) {
				return true
			}
		}
	}
	return false
}

func containsInode(list []uint64, ino uint64) bool {
	for _, x := range list {
		if x == ino && ino != 0 {
			return true
		}
	}
	return false
}

// avoidPorts are never proposed as a free port: KAAZING defaults and samples
// (kaazing-facts §3.4: 8000/8001 base and extras, 9000/9001 secure twins,
// 2020 JMX, 8080/8081 cluster examples, 5672 AMQP, 61616 ActiveMQ, 1080/1443
// SOCKS, 5941/5942 cluster, 3478 TURN, 54327 Hazelcast multicast) and the
// neighbours a Java host usually runs (8005/8009/8443 Tomcat, 8888, 9090,
// 9092 Kafka, 9200/9300 Elasticsearch). Ports in Linux's default ephemeral
// range (32768-60999) are skipped too: an outgoing connection may take one at
// any time. Privileged ports (<1024) are proposed only for a privileged port.
var avoidPorts = map[int]bool{
	1080: true, 1443: true, 2020: true, 3478: true, 5672: true, 5941: true, 5942: true,
	8000: true, 8001: true, 8005: true, 8009: true, 8080: true, 8081: true, 8443: true,
	8888: true, 9000: true, 9001: true, 9090: true, 9092: true, 9200: true, 9300: true,
	54327: true, 61616: true,
}

const (
	ephemeralLow  = 32768
	ephemeralHigh = 60999
)

// freePort returns the first port above port, of proto, that no install
// listener, no live socket and no earlier proposal uses, skipping avoidPorts
// and the ephemeral range; 0 when there is none.
func freePort(proto string, port int, used map[protoPort]bool) int {
	for p := port + 1; p <= 65535; p++ {
		switch {
		case p < 1024 && port >= 1024, avoidPorts[p], p >= ephemeralLow && p <= ephemeralHigh:
			continue
		case used[protoPort{proto, p}]:
			continue
		}
		return p
	}
	return 0
}

// remediate proposes a change for every clash. Which install moves:
//  1. in a live clash, the install (the other process is not gwup's to move);
//  2. otherwise the install that is not running (moving a running gateway
//     means a restart and breaks its clients);
//  3. if both are running or both are not, the one with the newer release
//     (usually the release being installed next to the one in service; an
//     unknown release counts as the oldest);
//  4. then the later one in scan order.
//
// Proposed ports are reserved as they are handed out, so two proposals never
// name the same port.
func remediate(clashes []Clash, installs []scan.Install, live scan.Live) {
	used := map[protoPort]bool{}
	for _, in := range installs {
		for _, l := range in.Listeners {
			used[protoPort{proto(l.Proto), l.Port}] = true
		}
	}
	for _, s := range live.Sockets {
		used[protoPort{proto(s.Proto), s.Port}] = true
	}
	byName := map[string]scan.Install{}
	for _, in := range installs {
		if _, dup := byName[installName(in)]; !dup {
			byName[installName(in)] = in
		}
	}
	// An install that clashes on one port with several others moves once:
	// every clash names the same new port for it.
	type move struct {
		home  string
		proto string
		port  int
	}
	proposed := map[move]int{}
	for i := range clashes {
		c := &clashes[i]
		mover := c.Homes[len(c.Homes)-1]
		if c.Kind == ClashInstalls && len(c.Homes) == 2 {
			mover = chooseMover(byName[c.Homes[0]], byName[c.Homes[1]], c.Homes, live)
		}
		var at *scan.Listener
		count := 0
		for k := range c.Listeners {
			if c.Listeners[k].Home == mover {
				if at == nil {
					at = &c.Listeners[k].Listener
				}
				count++
			}
		}
		if at == nil {
			continue
		}
		free, again := proposed[move{mover, c.Proto, c.Port}]
		if !again {
			free = freePort(c.Proto, c.Port, used)
			if free != 0 {
				used[protoPort{c.Proto, free}] = true
			}
			proposed[move{mover, c.Proto, c.Port}] = free
		}
		r := &Remediation{Home: mover, File: at.File, Line: at.Line, Port: c.Port, FreePort: free}
		where := at.File
		if at.Line > 0 {
			where = fmt.Sprintf("%s:%d", at.File, at.Line)
		}
		target := fmt.Sprintf("port %d", free)
		value := strconv.Itoa(free)
		if free == 0 {
			target, value = "a free port", "a free port"
		}
		r.Message = fmt.Sprintf("change %s/%d to %s in %s", c.Proto, c.Port, target, where)
		// A port set by a ${property} moves where the property is set: the
		// accept or bind itself only names it.
		if o := at.PortFrom; o != nil && o.Source == "properties" && o.File != "" {
			r.Property, r.File, r.Line = o.Property, o.File, o.Line
			r.Message = fmt.Sprintf("set property %s to %s in %s:%d (it sets %s/%d for every listener that uses it)", o.Property, value, o.File, o.Line, c.Proto, c.Port)
			count = 1
		} else if at.Element == "management.jmx default" {
			// The service names no address: the fix is to give it one.
			r.Message = fmt.Sprintf("give the management.jmx service at %s its own address: <properties><connector.server.address>jmx://localhost:%s/</connector.server.address></properties>", where, value)
			count = 1
		} else if o != nil && o.Source == "define" {
			r.Property = o.Property
			r.Message = fmt.Sprintf("set -D%s=%s where the gateway is started (GATEWAY_OPTS in its start script or service), or change %s", o.Property, value, where)
			count = 1
		}
		if count > 1 {
			others := "listener"
			if count-1 > 1 {
				others = "listeners"
			}
			r.Message += fmt.Sprintf(" and the %d other %s of %s on that port", count-1, others, mover)
		}
		if c.Kind == ClashLive {
			r.Message = fmt.Sprintf("stop %s, or %s", ownerText(c.HeldBy), r.Message)
		}
		c.Remediation = r
	}
}

func chooseMover(a, b scan.Install, names []string, live scan.Live) string {
	runA, runB := isRunning(a, live), isRunning(b, live)
	if runA != runB {
		if runA {
			return names[1]
		}
		return names[0]
	}
	ra, okA := parseRelease(a.Release)
	rb, okB := parseRelease(b.Release)
	switch {
	case okA && !okB:
		return names[0]
	case okA && okB && ra.compare(rb) > 0:
		return names[0]
	}
	return names[1]
}

func isRunning(in scan.Install, live scan.Live) bool {
	return in.State == scan.StateRunning || findProcess(in, live) != nil
}

// ownerText names the holder of a live socket.
func ownerText(s *scan.Socket) string {
	if s == nil {
		return "the process holding the port"
	}
	switch {
	case s.Command != "" && s.PID != 0:
		return fmt.Sprintf("%s (pid %d)", s.Command, s.PID)
	case s.PID != 0:
		return fmt.Sprintf("pid %d", s.PID)
	}
	return "the process holding the port (run as root with --owners to name it)"
}
