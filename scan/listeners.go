package scan

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/beevik/etree"
)

// This file turns a parsed configuration into the sockets the Gateway binds.
//
// What binds (the Gateway's behaviour, see kaazing-facts §3):
//   - every service <accept>, at the URI's host:port, or at the port of the
//     scheme (http, ws, sse 80; https, wss, sse+ssl 443; rtmp 1935; every other
//     scheme needs an explicit port);
//   - unless accept-options rebind it. Options are merged one by one: a
//     service's option replaces the same option of <service-defaults>. For an
//     accept of scheme S the scheme's own S.bind (ws.bind, wss.bind, http.bind,
//     https.bind, ssl.bind = tls.bind, udp.bind, wsn.bind, ...) wins over
//     tcp.bind, which applies to every TCP-based accept. That precedence is not
//     verified against the Gateway (kaazing-facts §6): the more specific option
//     is assumed to win, as for every other option pair in the Gateway;
//   - an accept whose transport (http.transport, ssl.transport, tcp.transport,
//     udp.transport in accept-options) is socks... with socks.mode reverse
//     binds nothing: the Enterprise Shield internal gateway dials out instead.
//     Another transport URI (tcp://host:port, a forward socks://) is where the
//     socket is; pipe:// binds no port;
//   - a DMZ gateway whose connect-options have socks.mode reverse and a
//     *.transport socks://host:port listens on that SOCKS port;
//   - management.jmx: the port of <connector.server.address> (default
//     jmx://localhost:2020/), reported on 0.0.0.0 because the RMI registry
//     binds every interface whatever the URI names; 3.x top-level
//     <management><accept>jmx://... likewise;
//   - 3.x/4.x broadcast services' nested <properties><accept>;
//   - <cluster><accept> (tcp) and a multicast <cluster><connect> udp://group:port.
//
// What does not bind: <connect>, <balance>, <notify>, outbound URIs inside
// service <properties>, connect-options other than the reverse SOCKS case.

// serviceRef identifies the service a listener belongs to; index tells
// unnamed 3.x services apart.
type serviceRef struct {
	index int
	name  string
	typ   string
}

// option is one accept-options or connect-options child, after substitution.
type option struct {
	value   string
	raw     string // as written, before substitution
	line    int
	element string // "ws.bind", "service-defaults/ws.bind", ...
}

// options maps an option name (tls.* rewritten to ssl.*) to its value.
type options map[string]option

// overlay returns o with every option of over replacing the same option.
func (o options) overlay(over options) options {
	merged := make(options, len(o)+len(over))
	for k, v := range o {
		merged[k] = v
	}
	for k, v := range over {
		merged[k] = v
	}
	return merged
}

func (p *configParser) readOptions(e *etree.Element, elementPrefix string) options {
	opts := options{}
	if e == nil {
		return opts
	}
	for _, c := range e.ChildElements() {
		name := strings.ToLower(c.Tag)
		// DefaultOptionsContext rewrites tls to ssl in option names.
		if rest, ok := strings.CutPrefix(name, "tls."); ok {
			name = "ssl." + rest
		}
		raw := strings.TrimSpace(c.Text())
		v, _ := p.props.expand(raw)
		opts[name] = option{value: v, raw: raw, line: p.line(c), element: elementPrefix + c.Tag}
	}
	return opts
}

// schemeDefaultPorts are the ports of getSchemePort(); other schemes have none.
var schemeDefaultPorts = map[string]int{
	"http": 80, "ws": 80, "sse": 80,
	"https": 443, "wss": 443, "sse+ssl": 443,
	"rtmp": 1935,
}

// socketClass says which accepts can share one socket: accepts of the same
// class on one host:port share it by path when shared is true (http with ws,
// https with wss); different classes never share (http with https, ws with
// wss, ws with https); a class with shared false (tcp, ssl, udp) is one
// service per socket.
func socketClass(scheme string) (class string, shared bool) {
	switch scheme {
	case "http", "ws", "sse", "wsn", "wse", "wsx", "wsr", "httpx", "httpxe":
		return "http", true
	case "https", "wss", "sse+ssl", "wsn+ssl", "wse+ssl", "wsx+ssl", "wsr+ssl", "httpx+ssl", "httpxe+ssl":
		return "https", true
	case "tcp", "ssl", "udp", "jmx":
		return scheme, false
	}
	// socks (the shared reverse-connectivity listener), rtmp and anything
	// unknown: never flagged rather than flagged wrongly.
	return scheme, true
}

func isUDPScheme(s string) bool { return s == "udp" || s == "mcp" }

// serviceListeners adds the sockets of one <service>.
func (p *configParser) serviceListeners(el *etree.Element, svc serviceRef, accept, connect options) {
	for _, a := range el.SelectElements("accept") {
		p.acceptListener(svc, a, "accept", accept)
	}
	if props := el.SelectElement("properties"); props != nil && strings.EqualFold(svc.typ, "broadcast") {
		// 3.x/4.x broadcast: the back end sends to the nested accept.
		for _, a := range props.SelectElements("accept") {
			p.acceptListener(svc, a, "properties/accept", nil)
		}
	}
	if strings.EqualFold(svc.typ, "management.jmx") {
		p.jmxListener(el, svc)
	}
	p.reverseSocksListener(svc, connect)
}

// acceptListener adds the socket one accept URI binds, if any.
func (p *configParser) acceptListener(svc serviceRef, e *etree.Element, element string, opts options) {
	raw := strings.TrimSpace(e.Text())
	uri, _ := p.props.expand(raw)
	line := p.line(e)
	if uri == "" {
		p.problem("listener-uri-invalid", line, "empty <%s>: the Gateway refuses the file", e.Tag)
		return
	}
	addr, err := parseURIAddress(uri)
	if err != nil {
		p.addrProblem(err, line, "accept %q", uri)
		return
	}
	if addr.scheme == "pipe" {
		return
	}
	l := Listener{
		Proto: "tcp", Service: svc.name, Type: svc.typ, Element: element,
		URI: uri, Scheme: addr.scheme, File: p.path, Line: line,
	}
	if isUDPScheme(addr.scheme) {
		l.Proto = "udp"
	}

	if t, ok := transportFor(addr.scheme, opts); ok {
		p.transportListener(svc, l, t, opts)
		return
	}

	bindName := addr.scheme + ".bind"
	if addr.scheme == "tls" {
		bindName = "ssl.bind"
	}
	bind, hasBind := opts[bindName]
	if !hasBind && l.Proto == "tcp" {
		bind, hasBind = opts["tcp.bind"]
	}
	if hasBind {
		// An unresolved bind (property-unresolved is recorded) still gives
		// its port when only the host is a ${name}; parseBind drops the rest.
		host, port, err := parseBind(bind.value)
		if err != nil {
			p.addrProblem(err, bind.line, "%s %q", bind.element, bind.value)
			return
		}
		l.Host, l.Port, l.Element, l.Line = host, port, bind.element, bind.line
		l.PortFrom = p.portOrigin(bind.raw, port)
		p.addListener(svc, l)
		return
	}

	if err := addr.needPort(); err != nil {
		p.addrProblem(err, line, "accept %q", uri)
		return
	}
	l.Host, l.Port = addr.host, addr.port
	l.PortFrom = p.portOrigin(raw, addr.port)
	p.addListener(svc, l)
}

// portOrigin finds the ${property} of raw whose value is port: the place to
// edit to move the socket. It returns nil when the port is written out.
func (p *configParser) portOrigin(raw string, port int) *PortOrigin {
	want := strconv.Itoa(port)
	for rest := raw; ; {
		i := strings.Index(rest, "${")
		if i < 0 {
			return nil
		}
		if i > 0 && rest[i-1] == '$' { // $${x} is the literal text ${x}
			rest = rest[i+2:]
			continue
		}
		end := strings.IndexByte(rest[i:], '}')
		if end < 0 {
			return nil
		}
		name := rest[i+2 : i+end]
		rest = rest[i+end+1:]
		if v, ok := p.props.defines[name]; ok {
			if strings.TrimSpace(v) == want {
				return &PortOrigin{Property: name, Source: "define"}
			}
			continue
		}
		if v, ok := p.props.declared[name]; ok && strings.TrimSpace(v) == want {
			return &PortOrigin{Property: name, Source: "properties", File: p.path, Line: p.propLines[name]}
		}
	}
}

// transportFor returns the accept-options transport that replaces the
// bottom of an accept's protocol stack, the outermost one first.
func transportFor(scheme string, opts options) (option, bool) {
	var names []string
	switch cls, _ := socketClass(scheme); {
	case isUDPScheme(scheme):
		names = []string{"udp.transport"}
	case cls == "http":
		names = []string{"http.transport", "tcp.transport"}
	case cls == "https":
		names = []string{"http.transport", "ssl.transport", "tcp.transport"}
	case scheme == "ssl" || scheme == "tls":
		names = []string{"ssl.transport", "tcp.transport"}
	default:
		names = []string{"tcp.transport"}
	}
	for _, n := range names {
		if o, ok := opts[n]; ok && o.value != "" {
			return o, true
		}
	}
	return option{}, false
}

// transportListener handles an accept whose transport is replaced.
func (p *configParser) transportListener(svc serviceRef, l Listener, t option, opts options) {
	taddr, err := parseURIAddress(t.value)
	if err != nil {
		p.addrProblem(err, t.line, "%s %q", t.element, t.value)
		return
	}
	if strings.HasPrefix(taddr.scheme, "socks") && strings.EqualFold(opts["socks.mode"].value, "reverse") {
		return // Enterprise Shield internal gateway: it connects out, binds nothing
	}
	if taddr.scheme == "pipe" {
		return
	}
	if err := taddr.needPort(); err != nil {
		p.addrProblem(err, t.line, "%s %q", t.element, t.value)
		return
	}
	l.Host, l.Port, l.Line = taddr.host, taddr.port, t.line
	l.Element = optionElement("accept-options/", t.element)
	p.addListener(svc, l)
}

// reverseSocksListener adds the SOCKS port a DMZ gateway listens on for the
// internal gateway's reverse connections.
func (p *configParser) reverseSocksListener(svc serviceRef, connect options) {
	if !strings.EqualFold(connect["socks.mode"].value, "reverse") {
		return
	}
	names := make([]string, 0, len(connect))
	for n := range connect {
		if strings.HasSuffix(n, ".transport") && n != "socks.transport" {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	for _, n := range names {
		t := connect[n]
		if !strings.HasPrefix(strings.ToLower(t.value), "socks") {
			continue
		}
		addr, err := parseURIAddress(t.value)
		if err == nil {
			err = addr.needPort()
		}
		if err != nil {
			p.addrProblem(err, t.line, "%s %q", t.element, t.value)
			continue
		}
		element := optionElement("connect-options/", t.element)
		p.addListener(svc, Listener{
			Proto: "tcp", Host: addr.host, Port: addr.port, Service: svc.name, Type: svc.typ,
			Element: element, URI: t.value, Scheme: addr.scheme, File: p.path, Line: t.line,
		})
	}
}

// optionElement names an option element for Listener.Element:
// "accept-options/http.transport", "service-defaults/accept-options/...".
func optionElement(parent, element string) string {
	if rest, ok := strings.CutPrefix(element, "service-defaults/"); ok {
		return "service-defaults/" + parent + rest
	}
	return parent + element
}

// defaultJMXAddress is what management.jmx binds without connector.server.address.
const defaultJMXAddress = "jmx://localhost:2020/"

// jmxListener adds the RMI registry port of a management.jmx service.
func (p *configParser) jmxListener(el *etree.Element, svc serviceRef) {
	uri, line, element := defaultJMXAddress, p.line(el), "management.jmx default"
	if props := el.SelectElement("properties"); props != nil {
		if c := props.SelectElement("connector.server.address"); c != nil {
			// Unresolved or not, the port decides (the host is ignored).
			v, _ := p.props.expand(strings.TrimSpace(c.Text()))
			uri, line, element = v, p.line(c), "properties/connector.server.address"
		}
	}
	p.jmxURIListener(svc, uri, line, element)
}

func (p *configParser) jmxURIListener(svc serviceRef, uri string, line int, element string) {
	addr, err := parseURIAddress(uri)
	if err == nil {
		err = addr.needPort()
	}
	if err != nil {
		p.addrProblem(err, line, "%s %q", element, uri)
		return
	}
	p.addListener(svc, Listener{
		Proto: "tcp", Host: "0.0.0.0", Port: addr.port, Service: svc.name, Type: svc.typ,
		Element: element, URI: uri, Scheme: addr.scheme, File: p.path, Line: line,
	})
}

// managementListeners handles the 3.x top-level <management><accept>jmx://.
func (p *configParser) managementListeners(m *etree.Element) {
	svc := serviceRef{index: -1, name: "management", typ: "management"}
	for _, a := range m.SelectElements("accept") {
		uri, _ := p.props.expand(strings.TrimSpace(a.Text()))
		if uri == "" {
			continue
		}
		if strings.HasPrefix(strings.ToLower(uri), "jmx:") {
			p.jmxURIListener(svc, uri, p.line(a), "management/accept")
		} else {
			p.acceptListener(svc, a, "management/accept", nil)
		}
	}
}

// clusterListeners adds the cluster member's listener (tcp accept) and the
// multicast group it joins (udp connect).
func (p *configParser) clusterListeners(c *etree.Element) {
	svc := serviceRef{index: -2, name: "cluster", typ: "cluster"}
	for _, a := range c.SelectElements("accept") {
		p.acceptListener(svc, a, "cluster/accept", nil)
	}
	for _, cn := range c.SelectElements("connect") {
		uri, _ := p.props.expand(strings.TrimSpace(cn.Text()))
		if uri == "" {
			continue
		}
		addr, err := parseURIAddress(uri)
		if err != nil {
			p.addrProblem(err, p.line(cn), "cluster connect %q", uri)
			continue
		}
		if !isUDPScheme(addr.scheme) {
			continue // tcp:// peers and aws:// discovery are outbound
		}
		if err := addr.needPort(); err != nil {
			p.addrProblem(err, p.line(cn), "cluster connect %q", uri)
			continue
		}
		p.addListener(svc, Listener{
			Proto: "udp", Host: addr.host, Port: addr.port, Service: svc.name, Type: svc.typ,
			Element: "cluster/connect", URI: uri, Scheme: addr.scheme, File: p.path, Line: p.line(cn),
		})
	}
}

// validHost reports whether a host could name an address: a host name, an
// IPv4 or IPv6 literal, a zone, an "@interface", or a ${...} left unresolved.
func validHost(h string) bool {
	if h == "" {
		return false
	}
	if strings.HasPrefix(h, "@") {
		return len(h) > 1 // Windows interface names have spaces
	}
	for _, r := range h {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune("-._:%@${}", r):
		default:
			return false
		}
	}
	return true
}

// addListener appends l unless the same service already has the same socket
// for the same URI (an accept written twice).
func (p *configParser) addListener(svc serviceRef, l Listener) {
	key := listenerKey{svc.index, l.Proto, l.Host, l.Port, l.URI, l.Element}
	if p.seen == nil {
		p.seen = map[listenerKey]bool{}
	}
	if p.seen[key] {
		return
	}
	p.seen[key] = true
	if !validHost(l.Host) {
		// Kept: the port is still the one the operator meant to use.
		p.problem("listener-host-invalid", l.Line, "%s %q: host %q is not a host name or address: the Gateway cannot resolve it", l.Element, l.URI, l.Host)
	}
	p.result.Listeners = append(p.result.Listeners, l)
	p.owners = append(p.owners, svc.index)
}

// listenerKey identifies a listener for deduplication: one per service,
// socket, URI and binding element.
type listenerKey struct {
	service int
	proto   string
	host    string
	port    int
	uri     string
	element string
}

// isWildcard reports whether host means every interface.
func isWildcard(host string) bool {
	return host == "0.0.0.0" || host == "::" || host == "" || host == "*"
}

// checkSharedSockets flags sockets that one gateway cannot bind twice:
// two path-less (tcp, ssl, udp, jmx) services on one host:port, or
// incompatible protocols on one socket (http with https, ws with wss, ...).
// A wildcard and a specific address on the same port overlap at the OS
// level, so an incompatible pair there is flagged too; compatible ones are
// not (whether the Gateway merges them is unverified).
func (p *configParser) checkSharedSockets() {
	// Whether two listeners collide depends only on their protocol, port,
	// host, socket class and (for path-less classes) owning service, so each
	// listener is compared with one representative of every such
	// combination seen before it: linear however many accepts share a port.
	type rep struct {
		proto string
		port  int
		host  string
		class string
		owner int
	}
	type protoPort struct {
		proto string
		port  int
	}
	reps := map[protoPort][]int{}
	seen := map[rep]bool{}
	ls := p.result.Listeners
	for j, b := range ls {
		cb, _ := socketClass(b.Scheme)
		k := protoPort{b.Proto, b.Port}
		for _, i := range reps[k] {
			a := ls[i]
			sameHost := strings.EqualFold(a.Host, b.Host)
			if !sameHost && !isWildcard(a.Host) && !isWildcard(b.Host) {
				continue
			}
			ca, sharedA := socketClass(a.Scheme)
			var why string
			switch {
			case ca != cb:
				why = fmt.Sprintf("%s and %s cannot share a socket", a.Scheme, b.Scheme)
			case !sharedA && sameHost && p.owners[i] != p.owners[j]:
				why = fmt.Sprintf("two %s services cannot share a socket (%s has no path to tell them apart)", a.Scheme, a.Scheme)
			default:
				continue
			}
			p.problem("config-port-conflict", b.Line,
				"%s %s: service %q (%s at %s, %s:%d) and service %q (%s at %s, %s:%d): %s; the Gateway fails with \"Address already in use\"",
				b.Proto, b.Addr(), b.Service, b.URI, b.Addr(), b.File, b.Line, a.Service, a.URI, a.Addr(), a.File, a.Line, why)
			break
		}
		r := rep{b.Proto, b.Port, strings.ToLower(b.Host), cb, p.owners[j]}
		if !seen[r] {
			seen[r] = true
			reps[k] = append(reps[k], j)
		}
	}
}

// uriAddress is the socket part of a URI.
type uriAddress struct {
	scheme  string
	host    string
	port    int
	hasPort bool
}

// addrError is a bad address, with the problem key that says how it is bad.
type addrError struct {
	key string
	msg string
}

func (e *addrError) Error() string { return e.msg }

// errUnresolvedAddr marks an address still holding ${...}: the problem is
// already recorded as property-unresolved.
var errUnresolvedAddr = &addrError{key: "", msg: "unresolved property"}

func (p *configParser) addrProblem(err error, line int, format string, args ...any) {
	ae, ok := err.(*addrError)
	if !ok || ae.key == "" {
		return
	}
	p.problem(ae.key, line, "%s: %s", fmt.Sprintf(format, args...), ae.msg)
}

func (a uriAddress) needPort() error {
	if a.hasPort {
		return nil
	}
	if _, ok := schemeDefaultPorts[a.scheme]; ok {
		return nil
	}
	return &addrError{key: "listener-port-missing", msg: fmt.Sprintf("%s:// has no default port and none is given", a.scheme)}
}

// parseURIAddress reads scheme://host[:port][/path] as the Gateway does. The
// host is kept as written (lower case is not forced; brackets of an IPv6
// literal are removed); an empty host means every interface. For mcp:// (3.x
// multicast, group@device:port) the host is the group.
func parseURIAddress(uri string) (uriAddress, error) {
	i := strings.Index(uri, "://")
	if i <= 0 {
		return uriAddress{}, &addrError{key: "listener-uri-invalid", msg: "not a scheme://host:port URI"}
	}
	a := uriAddress{scheme: strings.ToLower(uri[:i])}
	if a.scheme == "tls" {
		a.scheme = "ssl" // DefaultOptionsContext rewrites tls:// to ssl://
	}
	rest := uri[i+3:]
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		rest = rest[:j]
	}
	if at := strings.LastIndexByte(rest, '@'); at > 0 {
		if a.scheme == "mcp" {
			// group@device:port: the port follows the device.
			group, device := rest[:at], rest[at+1:]
			_, port, _ := strings.Cut(device, ":")
			rest = group + ":" + port
			if port == "" {
				rest = group
			}
		} else if !strings.HasPrefix(rest, "[@") {
			rest = rest[at+1:] // user info
		}
	}
	host, portText, hasPort, err := splitHostPort(rest)
	if err != nil {
		return uriAddress{}, err
	}
	a.host = host
	if a.host == "" {
		a.host = "0.0.0.0"
	}
	if hasPort {
		port, err := parsePort(portText)
		if err != nil {
			return uriAddress{}, err
		}
		a.port, a.hasPort = port, true
	} else if port, ok := schemeDefaultPorts[a.scheme]; ok {
		a.port = port
	}
	return a, nil
}

// splitHostPort splits host[:port], [v6][:port], @iface[:port] and
// [@iface][:port].
func splitHostPort(s string) (host, port string, hasPort bool, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", false, &addrError{key: "listener-host-invalid", msg: "IPv6 address without closing bracket"}
		}
		host, rest := s[1:end], s[end+1:]
		if rest == "" {
			return host, "", false, nil
		}
		if !strings.HasPrefix(rest, ":") {
			return "", "", false, &addrError{key: "listener-host-invalid", msg: fmt.Sprintf("unexpected %q after the bracketed address", rest)}
		}
		return host, rest[1:], true, nil
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", false, nil
	case 1:
		h, p, _ := strings.Cut(s, ":")
		return h, p, true, nil
	}
	return "", "", false, &addrError{key: "listener-host-invalid", msg: "IPv6 address without brackets (write [addr]:port)"}
}

func parsePort(s string) (int, error) {
	if strings.Contains(s, "${") {
		return 0, errUnresolvedAddr
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > 65535 || strings.HasPrefix(s, "+") {
		return 0, &addrError{key: "listener-port-invalid", msg: fmt.Sprintf("port %q is not a number in 1..65535", s)}
	}
	return n, nil
}

// parseBind reads a *.bind value (ResolutionUtils.parseBindAddress): "port",
// "host:port", "[v6]:port", "@iface:port" or "[@iface]:port". A port alone
// binds the wildcard address 0.0.0.0. An interface is kept as "@name": gwup
// cannot resolve it to an address.
func parseBind(v string) (host string, port int, err error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return "", 0, &addrError{key: "listener-port-missing", msg: "empty bind value"}
	}
	if !strings.ContainsAny(v, ":[") {
		if strings.Trim(v, "0123456789") != "" && !strings.Contains(v, "${") {
			return "", 0, &addrError{key: "listener-port-missing", msg: "a bind needs a port ([host:]port)"}
		}
		port, err := parsePort(v)
		return "0.0.0.0", port, err
	}
	h, p, hasPort, err := splitHostPort(v)
	if err != nil {
		return "", 0, err
	}
	if !hasPort {
		return "", 0, &addrError{key: "listener-port-missing", msg: "a bind needs a port"}
	}
	if h == "" {
		h = "0.0.0.0"
	}
	port, err = parsePort(p)
	return h, port, err
}
