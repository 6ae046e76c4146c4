package scan

import (
	"fmt"
)

// Layout says how an install was put on the disk; it decides where its files
// are and how an upgrade is expected to happen.
type Layout string

const (
	// LayoutInstaller is a Debian/Windows installer home such as
	// /usr/share/kaazing/jms/4.0: releases live in parallel homes.
	LayoutInstaller Layout = "installer"
	// LayoutArchive is an unpacked release archive, anywhere on the disk.
	LayoutArchive Layout = "archive"
	// LayoutDocker is the home of the kaazing/gateway images, /kaazing-gateway.
	LayoutDocker Layout = "docker"
	// LayoutConfig is a bare configuration file given on the command line,
	// with no home around it.
	LayoutConfig Layout = "config"
)

// EvidenceKind names where a release number was read from. The kinds are
// listed from the most to the least reliable.
type EvidenceKind string

const (
	EvidenceManifest  EvidenceKind = "manifest"    // META-INF/MANIFEST.MF of the version-bearing jar
	EvidenceLogBanner EvidenceKind = "log-banner"  // newest "Kaazing ... Gateway (x.y.z)" line in the logs
	EvidenceFolder    EvidenceKind = "folder-name" // kaazing-gateway-community-5.0.1, jms/4.0, ...
	EvidenceReadme    EvidenceKind = "readme"      // README.txt / README.md (major.minor at best)
	EvidenceNamespace EvidenceKind = "namespace"   // gateway-config namespace (release line only)
)

// Evidence is one piece of information about an install's release. Every
// piece found is kept, so an operator can see why gwup says what it says.
type Evidence struct {
	Kind    EvidenceKind `json:"kind"`
	Path    string       `json:"path"`
	Line    int          `json:"line,omitempty"`
	Version string       `json:"version"`           // as found: "4.0.9.383", "5.0", "develop-SNAPSHOT"
	Edition string       `json:"edition,omitempty"` // JMS, HTML5, Community, Enterprise, ...
	Detail  string       `json:"detail,omitempty"`  // the line or attribute it came from
}

// Problem is something wrong or suspicious found while reading an install.
// Key is stable (scripts and --ignore match on it); Path, Line and Column say
// where, when known.
type Problem struct {
	Key     string `json:"key"`
	Path    string `json:"path,omitempty"`
	Line    int    `json:"line,omitempty"`
	Column  int    `json:"column,omitempty"`
	Message string `json:"message"`
}

// String renders the problem the way compilers do: "file:line:col: message".
func (p Problem) String() string {
	where := p.Path
	if where != "" && p.Line > 0 {
		where = fmt.Sprintf("%s:%d", where, p.Line)
		if p.Column > 0 {
			where = fmt.Sprintf("%s:%d", where, p.Column)
		}
	}
	if where == "" {
		return p.Message
	}
	return where + ": " + p.Message
}

// Listener is one socket a Gateway binds when it starts, and where in which
// file that comes from.
type Listener struct {
	Proto   string `json:"proto"`            // "tcp" or "udp"
	Host    string `json:"host"`             // as configured after substitution; "0.0.0.0" for a port-only bind
	Port    int    `json:"port"`             // 1..65535
	Service string `json:"service"`          // <service><name>, or "cluster", "management"
	Type    string `json:"type"`             // <service><type>: echo, proxy, management.jmx, ...
	Element string `json:"element"`          // what bound it: "accept", "ws.bind", "cluster/accept", ...
	URI     string `json:"uri"`              // the accept URI after substitution
	Scheme  string `json:"scheme,omitempty"` // ws, wss, http, tcp, udp, jmx, ...
	File    string `json:"file"`
	Line    int    `json:"line"`
	// PortFrom says where the port number is set when it comes from a
	// ${property}: that, not File:Line, is what an operator edits to move
	// the socket. Nil when the port is written literally.
	PortFrom *PortOrigin `json:"port_from,omitempty"`
}

// PortOrigin is the property that sets a listener's port.
type PortOrigin struct {
	Property string `json:"property"`
	// Source is "properties" (a <property> of the file, at File:Line) or
	// "define" (a -D value of the process, start script or --define).
	Source string `json:"source"`
	File   string `json:"file,omitempty"`
	Line   int    `json:"line,omitempty"`
}

// Addr is host:port as the socket is bound ("[::1]:80" for IPv6).
func (l Listener) Addr() string {
	if len(l.Host) > 0 && containsColon(l.Host) {
		return fmt.Sprintf("[%s]:%d", l.Host, l.Port)
	}
	return fmt.Sprintf("%s:%d", l.Host, l.Port)
}

func containsColon(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == ':' {
			return true
		}
	}
	return false
}

// ConfigSource says what decided which configuration file an install loads.
type ConfigSource string

const (
	SourceProcess     ConfigSource = "process"      // --config / -DGATEWAY_CONFIG of a running gateway
	SourceStartScript ConfigSource = "start-script" // GATEWAY_OPTS / GATEWAY_CONFIG set in bin/gateway.start or a service env
	SourceDefault     ConfigSource = "default"      // conf/gateway-config.xml
	SourceMinimal     ConfigSource = "minimal"      // conf/gateway-config-minimal.xml
	SourceArgument    ConfigSource = "argument"     // a file named on gwup's command line
)

// Config is the configuration an install loads.
type Config struct {
	Path        string       `json:"path"`
	Namespace   string       `json:"namespace"`
	ReleaseLine string       `json:"release_line"` // "4.0", "5.0", "5.1-5.2", ... implied by the namespace
	Source      ConfigSource `json:"source"`
	// Defines are the -Dname=value properties in force (process, start script,
	// gwup --define), which win over <properties> in ${name} substitution.
	Defines map[string]string `json:"defines,omitempty"`
	// Referenced are the files outside the config that it names (keystores,
	// truststores, password files), resolved to absolute paths: backup saves them.
	Referenced []string `json:"referenced"`
}

// State is whether an install's gateway is running now.
type State string

const (
	StateRunning State = "running"
	StateStopped State = "stopped"
	StateUnknown State = "unknown" // live state could not be read (not Linux, no /proc, a sysroot without one)
)

// Install is one KAAZING Gateway installation found on the filesystem.
type Install struct {
	Home      string     `json:"home"` // absolute; "" for a bare config file
	Layout    Layout     `json:"layout"`
	Release   string     `json:"release"` // the best version string, "" if unknown
	Edition   string     `json:"edition"` // JMS, HTML5, Community, Enterprise, "" if unknown
	Evidence  []Evidence `json:"evidence"`
	Config    *Config    `json:"config,omitempty"`
	Services  []Service  `json:"services"`
	Listeners []Listener `json:"listeners"`
	State     State      `json:"state"`
	PID       int        `json:"pid,omitempty"`
	Problems  []Problem  `json:"problems"`
}

// Gap is a place the scan could not look into, or chose not to.
type Gap struct {
	Path   string `json:"path"`
	Reason string `json:"reason"`
}

// Coverage says what the scan looked at and what it could not, so that "no
// install found" and "could not look" never read the same.
type Coverage struct {
	Roots       []string `json:"roots"`
	DirsVisited int      `json:"dirs_visited"`
	Unreadable  []Gap    `json:"unreadable"` // could not be read: the scan is incomplete
	Skipped     []Gap    `json:"skipped"`    // not looked into on purpose: pseudo-filesystems, excludes, other filesystems, symlinks
}

// Complete reports whether every place the scan meant to look at was read.
func (c Coverage) Complete() bool { return len(c.Unreadable) == 0 }

// Service is one <service> of a configuration, kept so that analyses can ask
// which service types an install uses (a target release may have removed some).
type Service struct {
	Name string `json:"name"`
	Type string `json:"type"`
	File string `json:"file"`
	Line int    `json:"line"`
}

// Process is a running gateway JVM, read from /proc/PID.
type Process struct {
	PID  int      `json:"pid"`
	Argv []string `json:"argv"`
	Cwd  string   `json:"cwd,omitempty"`
	// Home is the GATEWAY_HOME the process runs from: -DGATEWAY_HOME, or the
	// parent of the lib/ directory its classpath names.
	Home string `json:"home,omitempty"`
	// Config is the configuration it was started with (--config or
	// -DGATEWAY_CONFIG), made absolute against Cwd; "" when it uses the default.
	Config string `json:"config,omitempty"`
	// Defines holds every -Dname=value of its command line.
	Defines map[string]string `json:"defines,omitempty"`
	// SocketInodes are the socket inodes among its open file descriptors.
	SocketInodes []uint64 `json:"-"`
}

// Socket is a listening socket of the host, read from /proc/net.
type Socket struct {
	Proto string `json:"proto"` // "tcp" or "udp"
	Host  string `json:"host"`  // "0.0.0.0", "::", "127.0.0.1", ...
	Port  int    `json:"port"`
	Inode uint64 `json:"-"`
	// PID and Command name the owner when it is known (always for gateway
	// processes, for every process with --owners); 0 and "" otherwise.
	PID     int    `json:"pid,omitempty"`
	Command string `json:"command,omitempty"`
}

// Live is what is running on the host now.
type Live struct {
	Available bool      `json:"available"`
	Reason    string    `json:"reason,omitempty"` // why not available
	Processes []Process `json:"processes"`
	Sockets   []Socket  `json:"sockets"`
}
