package scan

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"
	"strings"

	"github.com/beevik/etree"
	"github.com/spf13/afero"
	"golang.org/x/text/encoding/charmap"
)

// DefaultMaxConfigSize is the size above which a configuration file is refused
// when [ParseOptions.MaxSize] is 0. The largest real configuration seen is
// 55 KB; 16 MiB leaves room for anything a person writes while keeping a
// hostile or mistaken file (a log renamed .xml, a core dump) out of memory.
const DefaultMaxConfigSize int64 = 16 << 20

// maxElementDepth bounds element nesting; real configurations nest 7 deep.
const maxElementDepth = 256

// ConfigProblemKeys are the keys of the problems [ParseConfig],
// [ReadLaunch] and [ChooseConfig] record. They are stable: scripts and
// --ignore match on them.
//
//	config-missing           the configuration file does not exist
//	config-unreadable        it cannot be read (permissions, a directory, ...)
//	config-too-large         it is bigger than ParseOptions.MaxSize; nothing was read
//	config-empty             it is empty or only white space
//	config-malformed         it is not well-formed XML (file:line:col), binary garbage, unknown encoding
//	config-doctype           it has a DOCTYPE; entities are never expanded nor fetched
//	config-trailing-content  elements or text after the root element
//	config-root-unexpected   the root element is not gateway-config
//	config-namespace-unknown the root namespace is not one the Gateway knows (or is missing)
//	config-namespace-com     a 2014+ namespace spelt xmlns.kaazing.com as the docs printed it: the Gateway rejects it
//	property-unresolved      ${name} has no -D value, no <properties> value and is not built in: the Gateway refuses to start
//	listener-uri-invalid     an accept URI without scheme://
//	listener-port-missing    an accept whose scheme has no default port (tcp, udp, ssl, ...) names none
//	listener-port-invalid    a port that is not a number in 1..65535
//	listener-host-invalid    an IPv6 literal without brackets, or a host that names nothing ("ADD YOUR IP ADDRESS HERE")
//	config-port-conflict     two sockets of one gateway that cannot coexist ("Address already in use")
//	config-none              no configuration file could be chosen (ChooseConfig)
//	config-remote            GATEWAY_CONFIG is a URL, which gwup does not download
//	config-relative          a relative GATEWAY_CONFIG with no known working directory
//	launch-unreadable        a start script exists but cannot be read
//	launch-value-unexpanded  a start-script value uses a variable gwup cannot know ($OPENSHIFT_DIY_IP, `cmd`)
//
// CRLF line ends, a UTF-8 byte order mark and an ISO-8859-1 (or windows-1252,
// ISO-8859-15, US-ASCII) declaration are not problems: the Gateway reads them,
// and the 5.x unix archive itself ships CRLF configuration files.
var ConfigProblemKeys = []string{
	"config-missing", "config-unreadable", "config-too-large", "config-empty",
	"config-malformed", "config-doctype", "config-trailing-content",
	"config-root-unexpected", "config-namespace-unknown", "config-namespace-com",
	"property-unresolved", "listener-uri-invalid", "listener-port-missing",
	"listener-port-invalid", "listener-host-invalid", "config-port-conflict",
	"config-none", "config-remote", "config-relative",
	"launch-unreadable", "launch-value-unexpanded",
}

// ParseOptions are the inputs of a parse that do not come from the file.
type ParseOptions struct {
	// Defines are the -D values (process, start script, gwup --define). They
	// win over <properties> in ${name} substitution, as in the Gateway.
	Defines map[string]string
	// Hostname is the value of the built-in ${hostname}; "" means "localhost"
	// (the machine being scanned may not be the one gwup runs on).
	Hostname string
	// MaxSize refuses bigger files; 0 means DefaultMaxConfigSize.
	MaxSize int64
}

// ParsedConfig is what a configuration file says about an install.
//
// Services lists every <service> in document order (3.x ones have no name).
// Listeners holds one entry per accept URI (an accept written twice in one
// service counts once), plus the JMX, cluster, 3.x management/broadcast and
// DMZ reverse-SOCKS sockets; see listeners.go for the rules. A listener's
// Service is the service's <name>, its <type> when it has none, or "cluster"
// / "management". When only the host of an accept is unresolved the listener
// is kept with the ${name} text as host (the port is still known and may
// clash); when its port is unresolved it is left out. Either way the file
// also has a property-unresolved problem.
type ParsedConfig struct {
	Config    Config // Path, Namespace, ReleaseLine, Defines, Referenced; the caller sets Source
	Services  []Service
	Listeners []Listener
	Problems  []Problem
}

// ParseConfig reads and parses the configuration file at path in fsys. It
// never panics and never returns an error: every failure is a [Problem] on
// the result, with one of the [ConfigProblemKeys].
func ParseConfig(fsys afero.Fs, path string, opts ParseOptions) ParsedConfig {
	max := opts.MaxSize
	if max <= 0 {
		max = DefaultMaxConfigSize
	}
	fail := func(key, msg string) ParsedConfig {
		return ParsedConfig{
			Config:   Config{Path: path, Defines: opts.Defines},
			Problems: []Problem{{Key: key, Path: path, Message: msg}},
		}
	}
	info, err := fsys.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("config-missing", fmt.Sprintf("read config %s: file does not exist", path))
	case err != nil:
		return fail("config-unreadable", fmt.Sprintf("read config %s: %v", path, err))
	case info.IsDir():
		return fail("config-unreadable", fmt.Sprintf("read config %s: is a directory", path))
	case info.Size() > max:
		return fail("config-too-large", fmt.Sprintf("read config %s: %d bytes, more than the %d allowed", path, info.Size(), max))
	}
	f, err := fsys.Open(path)
	if err != nil {
		return fail("config-unreadable", fmt.Sprintf("read config %s: %v", path, err))
	}
	defer f.Close()
	// The size may change between Stat and Read (a log being written, a
	// device): read at most one byte more than allowed to notice.
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return fail("config-unreadable", fmt.Sprintf("read config %s: %v", path, err))
	}
	if int64(len(data)) > max {
		return fail("config-too-large", fmt.Sprintf("read config %s: more than the %d bytes allowed", path, max))
	}
	return ParseConfigBytes(data, path, opts)
}

// ParseConfigBytes parses a configuration held in memory; path names it in
// problems and listeners and anchors the relative files it references.
func ParseConfigBytes(data []byte, path string, opts ParseOptions) ParsedConfig {
	p := &configParser{
		path:   path,
		result: ParsedConfig{Config: Config{Path: path, Defines: opts.Defines}},
	}
	p.parse(data, opts)
	return p.result
}

// configParser holds the state of one parse: the tree, the line of each
// element, the property resolver and what has been found so far.
type configParser struct {
	path  string
	lines map[*etree.Element]int
	props *propertyResolver
	// propLines is the line of each top-level <property>'s <value>.
	propLines map[string]int
	result    ParsedConfig
	owners    []int // owners[i] is the serviceRef.index of result.Listeners[i]
	seen      map[listenerKey]bool
}

func (p *configParser) problem(key string, line int, format string, args ...any) {
	p.result.Problems = append(p.result.Problems, Problem{
		Key: key, Path: p.path, Line: line, Message: fmt.Sprintf(format, args...),
	})
}

// line returns the line an element starts on, 0 if unknown.
func (p *configParser) line(e *etree.Element) int { return p.lines[e] }

func (p *configParser) parse(data []byte, opts ParseOptions) {
	max := opts.MaxSize
	if max <= 0 {
		max = DefaultMaxConfigSize
	}
	if int64(len(data)) > max {
		p.problem("config-too-large", 0, "config is %d bytes, more than the %d allowed", len(data), max)
		return
	}
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	if len(bytes.TrimSpace(data)) == 0 {
		p.problem("config-empty", 0, "config file is empty")
		return
	}
	starts, ok := p.checkWellFormed(data)
	if !ok {
		return
	}

	doc := etree.NewDocument()
	doc.ReadSettings.CharsetReader = charsetReader
	doc.ReadSettings.MaxDepth = maxElementDepth
	if err := doc.ReadFromBytes(data); err != nil {
		// checkWellFormed stops at trailing content, which etree still reads:
		// broken XML after the root ends up here.
		line := 0
		var se *xml.SyntaxError
		if errors.As(err, &se) {
			line = se.Line
		}
		p.problem("config-malformed", line, "malformed XML: %v", err)
		return
	}
	root := doc.Root()
	if root == nil {
		p.problem("config-empty", 0, "config has no root element")
		return
	}
	p.mapLines(root, starts)

	if root.Tag != "gateway-config" {
		p.problem("config-root-unexpected", p.line(root), "root element is <%s>, not <gateway-config>: not a Gateway configuration", root.FullTag())
		return
	}
	p.readNamespace(root)
	p.props = newPropertyResolver(opts.Defines, topLevelProperties(root), opts.Hostname)
	p.propLines = map[string]int{}
	for _, ps := range root.SelectElements("properties") {
		for _, prop := range ps.SelectElements("property") {
			if name, value := prop.SelectElement("name"), prop.SelectElement("value"); name != nil && value != nil {
				p.propLines[strings.TrimSpace(name.Text())] = p.line(value)
			}
		}
	}
	p.reportUnresolved(root)
	p.readServices(root)
	p.readReferenced(root)
	p.checkSharedSockets()
}

// checkWellFormed makes the pass etree cannot: it records the line each
// element starts on (etree keeps none), checks that end tags match (etree's
// error for that has no position), and reports a DOCTYPE and any content
// after the root. It returns the start line of every element in document
// order, and false when the file is not well-formed (the problem is recorded).
func (p *configParser) checkWellFormed(data []byte) (starts []int, ok bool) {
	d := xml.NewDecoder(bytes.NewReader(data))
	d.CharsetReader = charsetReader
	var stack []xml.Name
	rootDone, sawDoctype := false, false
	for {
		line, col := d.InputPos()
		tok, err := d.RawToken()
		if err == io.EOF {
			break
		}
		if err != nil {
			var se *xml.SyntaxError
			eline, ecol := d.InputPos()
			msg := err.Error()
			if errors.As(err, &se) {
				msg, eline = se.Msg, se.Line
			}
			p.result.Problems = append(p.result.Problems, Problem{
				Key: "config-malformed", Path: p.path, Line: eline, Column: ecol,
				Message: "malformed XML: " + msg,
			})
			return nil, false
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if rootDone {
				p.problem("config-trailing-content", line, "element <%s> after the root element: the Gateway rejects the file", t.Name.Local)
				return starts, true
			}
			if len(stack) >= maxElementDepth {
				p.malformed(line, col, "elements nested more than %d deep", maxElementDepth)
				return nil, false
			}
			stack = append(stack, t.Name)
			starts = append(starts, line)
		case xml.EndElement:
			if len(stack) == 0 {
				p.malformed(line, col, "unexpected end tag </%s>", t.Name.Local)
				return nil, false
			}
			open := stack[len(stack)-1]
			if open != t.Name {
				p.malformed(line, col, "element <%s> closed by </%s>", qname(open), qname(t.Name))
				return nil, false
			}
			stack = stack[:len(stack)-1]
			rootDone = len(stack) == 0
		case xml.CharData:
			if len(stack) == 0 && len(bytes.TrimSpace(t)) > 0 {
				// Report the line of the text, not of the white space before it.
				lead := t[:len(t)-len(bytes.TrimLeft(t, " \t\r\n"))]
				line += bytes.Count(lead, []byte("\n"))
				if rootDone {
					p.problem("config-trailing-content", line, "text after the root element: the Gateway rejects the file")
					return starts, true
				}
				p.malformed(line, col, "text before the root element")
				return nil, false
			}
		case xml.Directive:
			if !sawDoctype && bytes.HasPrefix(bytes.TrimSpace(t), []byte("DOCTYPE")) {
				sawDoctype = true
				p.problem("config-doctype", line, "DOCTYPE declaration: gwup neither expands its entities nor fetches it")
			}
		}
	}
	if len(stack) > 0 {
		line, col := d.InputPos()
		p.malformed(line, col, "unexpected end of file: <%s> is not closed", qname(stack[len(stack)-1]))
		return nil, false
	}
	if len(starts) == 0 {
		p.problem("config-empty", 0, "config has no root element")
		return nil, false
	}
	return starts, true
}

func (p *configParser) malformed(line, col int, format string, args ...any) {
	p.result.Problems = append(p.result.Problems, Problem{
		Key: "config-malformed", Path: p.path, Line: line, Column: col,
		Message: "malformed XML: " + fmt.Sprintf(format, args...),
	})
}

func qname(n xml.Name) string {
	if n.Space != "" {
		return n.Space + ":" + n.Local
	}
	return n.Local
}

// mapLines pairs the elements of the tree, in document order, with the start
// lines checkWellFormed recorded in the same order: both come from RawToken.
func (p *configParser) mapLines(root *etree.Element, starts []int) {
	p.lines = make(map[*etree.Element]int, len(starts))
	i := 0
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		if i < len(starts) {
			p.lines[e] = starts[i]
		}
		i++
		for _, c := range e.ChildElements() {
			walk(c)
		}
	}
	walk(root)
}

// charsetReader decodes the single-byte encodings a hand-edited configuration
// may declare. UTF-8 needs no conversion; anything else is refused (the
// decoder reports it and the file gets config-malformed).
func charsetReader(label string, input io.Reader) (io.Reader, error) {
	switch strings.ToLower(strings.TrimSpace(label)) {
	case "utf-8", "utf8", "us-ascii", "ascii":
		return input, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1", "l1", "iso_8859-1":
		return charmap.ISO8859_1.NewDecoder().Reader(input), nil
	case "iso-8859-15", "iso8859-15", "latin9":
		return charmap.ISO8859_15.NewDecoder().Reader(input), nil
	case "windows-1252", "cp1252":
		return charmap.Windows1252.NewDecoder().Reader(input), nil
	}
	return nil, fmt.Errorf("unsupported encoding %q", label)
}

// readNamespace records the root namespace and the release line it implies.
func (p *configParser) readNamespace(root *etree.Element) {
	uri := root.NamespaceURI()
	cfg := &p.result.Config
	cfg.Namespace = uri
	line, known := NamespaceReleaseLine(uri)
	cfg.ReleaseLine = line
	switch {
	case known:
	case line != "":
		p.problem("config-namespace-com", p.line(root), "namespace %q is spelt with xmlns.kaazing.com as the documentation printed it; the Gateway only accepts xmlns.kaazing.org", uri)
	case uri == "":
		p.problem("config-namespace-unknown", p.line(root), "<gateway-config> has no namespace: the Gateway refuses it")
	default:
		p.problem("config-namespace-unknown", p.line(root), "unknown namespace %q: the Gateway fails with \"Unknown/unsupported XML namespace URI\"", uri)
	}
}

// childText returns the trimmed character data of the first child named tag,
// and that child.
func childText(e *etree.Element, tag string) (string, *etree.Element) {
	c := e.SelectElement(tag)
	if c == nil {
		return "", nil
	}
	return strings.TrimSpace(c.Text()), c
}

// readServices records every <service> and the sockets of the configuration.
func (p *configParser) readServices(root *etree.Element) {
	defaults := root.SelectElement("service-defaults")
	var defAccept, defConnect options
	if defaults != nil {
		defAccept = p.readOptions(defaults.SelectElement("accept-options"), "service-defaults/")
		defConnect = p.readOptions(defaults.SelectElement("connect-options"), "service-defaults/")
	}
	for i, el := range root.SelectElements("service") {
		name, _ := childText(el, "name")
		typ, _ := childText(el, "type")
		name, _ = p.props.expand(name)
		typ, _ = p.props.expand(typ)
		p.result.Services = append(p.result.Services, Service{Name: name, Type: typ, File: p.path, Line: p.line(el)})
		svc := serviceRef{index: i, name: name, typ: typ}
		if svc.name == "" {
			// 3.x services have no <name>; the type is what the log shows.
			svc.name = typ
		}
		accept := defAccept.overlay(p.readOptions(el.SelectElement("accept-options"), ""))
		connect := defConnect.overlay(p.readOptions(el.SelectElement("connect-options"), ""))
		p.serviceListeners(el, svc, accept, connect)
	}
	if c := root.SelectElement("cluster"); c != nil {
		p.clusterListeners(c)
	}
	for _, m := range root.SelectElements("management") {
		p.managementListeners(m)
	}
}

// readReferenced lists the keystore, truststore and password files of
// <security>, and the jaas-config.xml of file login modules, resolved against
// the configuration's directory as the Gateway does.
func (p *configParser) readReferenced(root *etree.Element) {
	sec := root.SelectElement("security")
	if sec == nil {
		return
	}
	seen := map[string]bool{}
	add := func(e *etree.Element) {
		if e == nil {
			return
		}
		v, ok := p.props.expand(strings.TrimSpace(e.Text()))
		if !ok || v == "" {
			return
		}
		if !filepath.IsAbs(v) && !strings.HasPrefix(v, "/") {
			v = filepath.Join(filepath.Dir(p.path), filepath.FromSlash(v))
		}
		v = filepath.Clean(v)
		if !seen[v] {
			seen[v] = true
			p.result.Config.Referenced = append(p.result.Config.Referenced, v)
		}
	}
	for _, store := range []string{"keystore", "truststore"} {
		for _, s := range sec.SelectElements(store) {
			add(s.SelectElement("file"))
			add(s.SelectElement("password-file"))
		}
	}
	for _, lm := range sec.FindElementsPath(loginModulesPath) {
		if t, _ := childText(lm, "type"); strings.EqualFold(t, "file") {
			if o := lm.SelectElement("options"); o != nil {
				add(o.SelectElement("file"))
			}
		}
	}
}

// loginModulesPath finds login modules in both layouts: 3.x/4.x
// realm/login-module and 5.x realm/authentication/login-modules/login-module.
var loginModulesPath = etree.MustCompilePath(".//login-module")

// reportUnresolved records every ${name} the Gateway could not resolve, once
// per name and line, in element text and attributes (comments do not count).
func (p *configParser) reportUnresolved(root *etree.Element) {
	type at struct {
		name string
		line int
	}
	seen := map[at]bool{}
	report := func(s string, e *etree.Element) {
		if !strings.Contains(s, "${") {
			return
		}
		for _, name := range p.props.unresolved(s) {
			k := at{name, p.line(e)}
			if seen[k] {
				continue
			}
			seen[k] = true
			p.problem("property-unresolved", k.line, "property ${%s} has no value (no -D%s, no <property> in <properties>): the Gateway refuses to start", name, name)
		}
	}
	var walk func(e *etree.Element)
	walk = func(e *etree.Element) {
		for _, a := range e.Attr {
			report(a.Value, e)
		}
		for _, tok := range e.Child {
			switch t := tok.(type) {
			case *etree.CharData:
				report(t.Data, e)
			case *etree.Element:
				walk(t)
			}
		}
	}
	walk(root)
}
