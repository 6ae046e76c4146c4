package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"

	"github.com/spf13/afero"
)

// Launch is what an install's start script (or service environment) sets.
type Launch struct {
	Script    string            // the file that set it, "" if none
	Config    string            // GATEWAY_CONFIG / --config value as written (maybe relative)
	ConfigDir string            // GATEWAY_CONFIG_DIRECTORY
	LogDir    string            // GATEWAY_LOG_DIRECTORY
	Defines   map[string]string // other -Dname=value in GATEWAY_OPTS
}

// empty reports whether the launch sets nothing gwup uses.
func (l Launch) empty() bool {
	return l.Config == "" && l.ConfigDir == "" && l.LogDir == "" && len(l.Defines) == 0
}

// maxScriptSize bounds what is read of a start script; shipped ones are 3 KB.
const maxScriptSize = 1 << 20

// ReadLaunch reads how an install's start scripts launch the Gateway.
//
// Scripts read, in this order, the first one that sets anything winning:
// bin/gateway.start (sh), bin/gateway.start.bat (cmd), then — only when they
// choose a configuration (--config, GATEWAY_CONFIG or GATEWAY_CONFIG_DIRECTORY)
// — any other bin/*.start or bin/*.start.bat in name order (for example
// gateway.openshift.start). The shipped gateway.aws.start, which only adds
// -Dgateway.hostname=$HOSTNAME, is therefore not taken for the launch.
//
// What is recognised in a script:
//   - sh: NAME=value, export NAME=value, `[ -z "$X" ] && NAME=value`, with
//     "double", 'single' or bare values; later lines see earlier values;
//   - cmd: set NAME=value and set "NAME=value";
//   - the java command line (java, exec java, "$JAVA_HOME/bin/java", ...): its
//     --config PATH, --config=PATH and -Dname=value words, after expanding
//     the variables above ($GATEWAY_OPTS on the java line is how GATEWAY_OPTS
//     arrives); without a java line, the last GATEWAY_OPTS value.
//
// $GW_HOME, ${GW_HOME} and %GW_HOME% expand to home, $PRGDIR and %~dp0 to
// home/bin; the environment variables the shipped scripts test for emptiness
// (GATEWAY_OPTS, GATEWAY_IDENTIFIER, GATEWAY_FEATURES, FEATURE_OPTS, GW_ID)
// start empty. A value still using another variable ($OPENSHIFT_DIY_IP,
// `cmd`, $(cmd)) cannot be known: it is dropped with launch-value-unexpanded.
// -D options of the JVM itself (java.*, sun.*, jdk.*) and empty values are
// not kept.
//
// Problems of gateway.start and gateway.start.bat are always returned; those
// of the other scripts only for the script chosen, or when one is unreadable.
func ReadLaunch(fsys afero.Fs, home string) (Launch, []Problem) {
	bin := filepath.Join(home, "bin")
	var problems []Problem
	primary := []string{"gateway.start", "gateway.start.bat"}
	for _, name := range primary {
		l, probs, found := readScript(fsys, home, filepath.Join(bin, name))
		if !found {
			continue
		}
		// A value gwup cannot expand in the main scripts matters even when
		// nothing else is set (-DGATEWAY_CONFIG=$CONFIG_FILE): keep it.
		problems = append(problems, probs...)
		if !l.empty() {
			return l, problems
		}
	}
	entries, err := afero.ReadDir(fsys, bin)
	if err != nil {
		return Launch{}, problems
	}
	var others []string
	for _, e := range entries {
		n := e.Name()
		if e.IsDir() || n == primary[0] || n == primary[1] {
			continue
		}
		if strings.HasSuffix(n, ".start") || strings.HasSuffix(n, ".start.bat") {
			others = append(others, n)
		}
	}
	sort.Strings(others)
	for _, name := range others {
		l, probs, _ := readScript(fsys, home, filepath.Join(bin, name))
		if l.Config != "" || l.ConfigDir != "" {
			return l, append(problems, probs...)
		}
		problems = append(problems, keepUnreadable(probs)...)
	}
	return Launch{}, problems
}

func keepUnreadable(probs []Problem) []Problem {
	var out []Problem
	for _, p := range probs {
		if p.Key == "launch-unreadable" {
			out = append(out, p)
		}
	}
	return out
}

// readScript reads one start script; found is false when it does not exist.
func readScript(fsys afero.Fs, home, file string) (l Launch, problems []Problem, found bool) {
	info, err := fsys.Stat(file)
	if errors.Is(err, fs.ErrNotExist) {
		return Launch{}, nil, false
	}
	unreadable := func(err error) (Launch, []Problem, bool) {
		return Launch{}, []Problem{{Key: "launch-unreadable", Path: file, Message: fmt.Sprintf("read start script %s: %v", file, err)}}, true
	}
	if err != nil {
		return unreadable(err)
	}
	if info.IsDir() {
		return unreadable(errors.New("is a directory"))
	}
	if info.Size() > maxScriptSize {
		return unreadable(fmt.Errorf("%d bytes, more than %d", info.Size(), maxScriptSize))
	}
	data, err := afero.ReadFile(fsys, file)
	if err != nil {
		return unreadable(err)
	}
	l, problems = parseScript(data, file, home, strings.HasSuffix(file, ".bat"))
	return l, problems, true
}

// shAssign and batAssign match a variable assignment where a command may
// start: NAME=value, export NAME=value, ... && NAME=value; set NAME=value.
var (
	shAssign  = regexp.MustCompile(`(?:^|[;&|]\s*|\bexport\s+)([A-Za-z_][A-Za-z0-9_]*)=("(?:[^"\\]|\\.)*"|'[^']*'|[^\s;&|]*)`)
	batAssign = regexp.MustCompile(`(?i)^\s*(?:@?set)\s+"?([A-Za-z_][A-Za-z0-9_]*)=([^"]*)"?\s*$`)
)

// javaCommand matches a line running java, possibly through exec or a path.
var javaCommand = regexp.MustCompile(`(?i)(?:^|[\s;&|(])(?:exec\s+|nohup\s+|start\s+)*(?:"?[^\s"]*[/\\])?java(?:\.exe)?"?\s`)

// parseScript reads the assignments and java lines of a script.
func parseScript(data []byte, file, home string, bat bool) (Launch, []Problem) {
	vars := map[string]string{
		"GATEWAY_OPTS": "", "GATEWAY_IDENTIFIER": "", "GATEWAY_FEATURES": "",
		"FEATURE_OPTS": "", "GW_ID": "",
	}
	fixed := map[string]string{
		"GW_HOME": home,
		"PRGDIR":  filepath.Join(home, "bin"),
	}
	s := &scriptState{file: file, bat: bat, vars: vars, fixed: fixed}
	var javaLines []scriptLine
	for _, ln := range scriptLines(data, bat) {
		text := ln.text
		if bat {
			if m := batAssign.FindStringSubmatch(text); m != nil {
				s.assign(m[1], s.expand(m[2]))
				continue
			}
		} else {
			for _, m := range shAssign.FindAllStringSubmatch(text, -1) {
				s.assign(m[1], s.expand(unquote(m[2])))
			}
		}
		if javaCommand.MatchString(" " + text + " ") {
			javaLines = append(javaLines, scriptLine{ln.no, s.expand(text)})
		}
	}
	l := Launch{Script: file, Defines: map[string]string{}}
	if len(javaLines) == 0 {
		if opts := vars["GATEWAY_OPTS"]; opts != "" {
			javaLines = []scriptLine{{0, opts}}
		}
	}
	for _, jl := range javaLines {
		s.readOptions(&l, jl)
	}
	if len(l.Defines) == 0 {
		l.Defines = nil
	}
	if l.empty() {
		l.Script = ""
	}
	return l, s.problems
}

type scriptLine struct {
	no   int
	text string
}

// scriptLines returns the non-comment lines of a script, continuation lines
// (backslash for sh, caret for cmd) joined, with their first line number.
func scriptLines(data []byte, bat bool) []scriptLine {
	var out []scriptLine
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 64*1024), maxScriptSize)
	cont := byte('\\')
	if bat {
		cont = '^'
	}
	var pending strings.Builder
	start := 0
	for no := 1; sc.Scan(); no++ {
		line := strings.TrimRight(sc.Text(), "\r")
		if pending.Len() == 0 {
			start = no
		}
		if n := len(line); n > 0 && line[n-1] == cont {
			pending.WriteString(line[:n-1] + " ")
			continue
		}
		pending.WriteString(line)
		text := strings.TrimSpace(pending.String())
		pending.Reset()
		if isScriptComment(text, bat) {
			continue
		}
		out = append(out, scriptLine{start, text})
	}
	if pending.Len() > 0 {
		out = append(out, scriptLine{start, strings.TrimSpace(pending.String())})
	}
	return out
}

func isScriptComment(text string, bat bool) bool {
	if text == "" {
		return true
	}
	if !bat {
		return strings.HasPrefix(text, "#")
	}
	lower := strings.ToLower(text)
	return strings.HasPrefix(lower, "rem ") || lower == "rem" || strings.HasPrefix(lower, "@rem") || strings.HasPrefix(lower, "::")
}

func unquote(v string) string {
	if len(v) >= 2 && (v[0] == '"' && v[len(v)-1] == '"' || v[0] == '\'' && v[len(v)-1] == '\'') {
		return v[1 : len(v)-1]
	}
	return v
}

type scriptState struct {
	file     string
	bat      bool
	vars     map[string]string
	fixed    map[string]string
	problems []Problem
}

func (s *scriptState) assign(name, value string) {
	if _, ok := s.fixed[name]; ok {
		return // GW_HOME is the install gwup is looking at, whatever the script computes
	}
	s.vars[name] = value
}

var (
	shVar  = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)`)
	batVar = regexp.MustCompile(`%([A-Za-z_][A-Za-z0-9_]*)%|!([A-Za-z_][A-Za-z0-9_]*)!`)
)

// expand substitutes the variables the script has set; unknown ones stay.
func (s *scriptState) expand(v string) string {
	re := shVar
	if s.bat {
		re = batVar
		v = strings.ReplaceAll(v, "%~dp0", s.fixed["PRGDIR"]+`\`)
	}
	return re.ReplaceAllStringFunc(v, func(m string) string {
		sub := re.FindStringSubmatch(m)
		name := sub[1] + sub[2]
		if val, ok := s.fixed[name]; ok {
			return val
		}
		if val, ok := s.vars[name]; ok {
			return val
		}
		return m
	})
}

// unexpanded reports whether a value still depends on something gwup cannot know.
func (s *scriptState) unexpanded(v string) bool {
	if s.bat {
		return batVar.MatchString(v) || strings.Contains(v, "%~")
	}
	return shVar.MatchString(v) || strings.Contains(v, "`") || strings.Contains(v, "$(")
}

// readOptions picks --config and -D words out of an expanded java line.
func (s *scriptState) readOptions(l *Launch, jl scriptLine) {
	words := shellWords(jl.text)
	for i := 0; i < len(words); i++ {
		w := words[i]
		var name, value string
		switch {
		case w == "--config" && i+1 < len(words):
			name, value = "GATEWAY_CONFIG", words[i+1]
			i++
		case strings.HasPrefix(w, "--config="):
			name, value = "GATEWAY_CONFIG", strings.TrimPrefix(w, "--config=")
		case strings.HasPrefix(w, "-D") && len(w) > 2:
			var ok bool
			name, value, ok = strings.Cut(w[2:], "=")
			// An empty value comes from a variable the shipped scripts leave
			// empty (-D...GATEWAY_IDENTIFIER="$GATEWAY_IDENTIFIER").
			if !ok || value == "" || !propertyName.MatchString(name) || jvmProperty(name) {
				continue
			}
		default:
			continue
		}
		if s.unexpanded(value) {
			s.problems = append(s.problems, Problem{
				Key: "launch-value-unexpanded", Path: s.file, Line: jl.no,
				Message: fmt.Sprintf("%s=%s uses a variable gwup cannot know: ignored", name, value),
			})
			continue
		}
		isPath := name == "GATEWAY_CONFIG" || name == "GATEWAY_CONFIG_DIRECTORY" || name == "GATEWAY_LOG_DIRECTORY"
		if s.bat && isPath {
			// %GW_HOME%\conf\x.xml: home is a slash path here.
			value = filepath.FromSlash(strings.ReplaceAll(value, `\`, "/"))
		}
		switch name {
		case "GATEWAY_CONFIG":
			l.Config = value
		case "GATEWAY_CONFIG_DIRECTORY":
			l.ConfigDir = value
		case "GATEWAY_LOG_DIRECTORY":
			l.LogDir = value
		default:
			l.Defines[name] = value
		}
	}
}

// propertyName is what a -D name looks like in practice.
var propertyName = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9_.\-]*$`)

func jvmProperty(name string) bool {
	for _, p := range []string{"java.", "sun.", "jdk.", "com.sun."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// shellWords splits a command line into words, honouring "double" and
// 'single' quotes (enough for java lines; no globbing, no escapes beyond \").
func shellWords(line string) []string {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '"' || r == '\'':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words
}

// ChooseConfig decides which configuration file an install loads, in the
// Gateway's order (GatewayImpl.launch):
//  1. the running process's --config / -DGATEWAY_CONFIG (proc may be nil);
//     a relative value is relative to the process's working directory;
//  2. the start script's (launch.Config); a relative value is taken relative
//     to home, or to home/bin for a .bat script (which does cd %~dp0);
//  3. <config dir>/gateway-config.xml, then gateway-config-minimal.xml, where
//     the config dir is the process's -DGATEWAY_CONFIG_DIRECTORY, else the
//     launch's, else home/conf.
//
// A URL value (the Gateway downloads it) is reported as config-remote and the
// default order is used. The defines returned are merged with this
// precedence, highest first: cli (gwup --define: the operator typed it), the
// process's -D values, the launch's. When nothing is found path is "" and a
// config-none problem is returned.
func ChooseConfig(fsys afero.Fs, home string, proc *Process, launch Launch, cli map[string]string) (path string, source ConfigSource, defines map[string]string, problems []Problem) {
	defines = map[string]string{}
	if proc != nil {
		// A running gateway's command line is the truth: the start script
		// may have been edited since it started, and what it set then is
		// in the argv anyway.
		launch.Config, launch.Defines = "", nil
	}
	for k, v := range launch.Defines {
		defines[k] = v
	}
	var procConfig, procDir, cwd string
	if proc != nil {
		for k, v := range proc.Defines {
			defines[k] = v
		}
		procConfig, cwd = proc.Config, proc.Cwd
		if procConfig == "" {
			procConfig = proc.Defines["GATEWAY_CONFIG"]
		}
		procDir = proc.Defines["GATEWAY_CONFIG_DIRECTORY"]
	}
	for k, v := range cli {
		defines[k] = v
	}
	if len(defines) == 0 {
		defines = nil
	}

	remote := func(v, from string) bool {
		if strings.Contains(v, "://") {
			problems = append(problems, Problem{Key: "config-remote", Path: from,
				Message: fmt.Sprintf("GATEWAY_CONFIG %q is a URL the Gateway downloads; gwup reads the default configuration instead", v)})
			return true
		}
		return false
	}
	if procConfig != "" && !remote(procConfig, "") {
		p := procConfig
		if !isAbs(p) {
			if cwd == "" {
				problems = append(problems, Problem{Key: "config-relative",
					Message: fmt.Sprintf("process %d loads %q relative to a working directory gwup could not read; assumed relative to %s", proc.PID, p, home)})
				cwd = home
			}
			p = filepath.Join(cwd, p)
		}
		return filepath.Clean(p), SourceProcess, defines, problems
	}
	if launch.Config != "" && !remote(launch.Config, launch.Script) {
		p := launch.Config
		if !isAbs(p) {
			base := home
			if strings.HasSuffix(launch.Script, ".bat") {
				base = filepath.Join(home, "bin")
			}
			p = filepath.Join(base, p)
		}
		return filepath.Clean(p), SourceStartScript, defines, problems
	}
	dir := filepath.Join(home, "conf")
	switch {
	case procDir != "":
		dir = procDir
		if !isAbs(dir) && cwd != "" {
			dir = filepath.Join(cwd, dir)
		}
	case launch.ConfigDir != "":
		dir = launch.ConfigDir
		if !isAbs(dir) {
			dir = filepath.Join(home, dir)
		}
	}
	for _, c := range []struct {
		name   string
		source ConfigSource
	}{{"gateway-config.xml", SourceDefault}, {"gateway-config-minimal.xml", SourceMinimal}} {
		p := filepath.Join(dir, c.name)
		if info, err := fsys.Stat(p); err == nil && !info.IsDir() {
			return p, c.source, defines, problems
		}
	}
	problems = append(problems, Problem{Key: "config-none", Path: dir,
		Message: fmt.Sprintf("no gateway-config.xml or gateway-config-minimal.xml in %s: the Gateway does not start (\"no default readable config file could be found\")", dir)})
	return "", "", defines, problems
}

// isAbs accepts both OS and slash paths, so that a Windows path read from a
// .bat script or a Unix path in a test is recognised everywhere.
func isAbs(p string) bool {
	return filepath.IsAbs(p) || path.IsAbs(filepath.ToSlash(p))
}
