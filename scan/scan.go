package scan

import (
	"context"
	"io/fs"
	"path"
	"runtime"
	"slices"
	"strings"

	"github.com/spf13/afero"
)

// Options configure [Scan].
type Options struct {
	// Roots are the directories to walk, absolute in the scanned filesystem.
	// Empty means the known places (see [KnownPlaces]) plus the homes of the
	// running gateways.
	Roots          []string
	Exclude        []string
	OneFileSystem  bool
	FollowSymlinks bool
	// Defines are --define name=value from gwup's command line: they win
	// over every other source of ${name} values.
	Defines map[string]string
	// Owners makes the live-state reader attribute every listening socket to
	// its process (walks every /proc/PID/fd; slow on busy hosts).
	Owners bool
	// Hostname is the value of ${hostname} when the scanned filesystem has no
	// /etc/hostname (the command passes os.Hostname for the real root).
	Hostname string
	// GOOS is the system the scanned filesystem belongs to ("" = runtime.GOOS).
	GOOS string
	// Getenv reads the environment ($KAAZING_HOME, $GATEWAY_HOME); nil = none.
	Getenv   func(string) string
	Progress func(dirsVisited int)
}

// Result is everything a scan found.
type Result struct {
	Host     string              `json:"host"`
	Installs []Install           `json:"installs"`
	Coverage Coverage            `json:"coverage"`
	Live     Live                `json:"live"`
	Hosts    map[string][]string `json:"-"`
}

// Complete reports whether the scan looked everywhere it meant to and read
// every install it found well enough to list its sockets.
func (r Result) Complete() bool {
	if !r.Coverage.Complete() {
		return false
	}
	for _, in := range r.Installs {
		if !in.Complete() {
			return false
		}
	}
	return true
}

// Scan finds every Gateway install under the roots and inspects each one.
// The returned error is non-nil only when the scan could not run at all, or
// ctx was cancelled; everything else is recorded in the result.
func Scan(ctx context.Context, fsys afero.Fs, opts Options) (Result, error) {
	goos := opts.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	getenv := opts.Getenv
	if getenv == nil {
		getenv = func(string) string { return "" }
	}
	res := Result{
		Host:  Hostname(fsys, opts.Hostname),
		Live:  ReadLive(fsys, goos, opts.Owners),
		Hosts: ReadHosts(fsys),
	}

	roots := opts.Roots
	if len(roots) == 0 {
		roots = KnownPlaces(fsys, getenv, goos)
		for _, p := range res.Live.Processes {
			if p.Home != "" {
				roots = append(roots, p.Home)
			}
		}
	}
	mounts, _ := ReadMounts(fsys, "/proc/self/mountinfo")
	homes, cov, err := FindHomes(ctx, fsys, WalkOptions{
		Roots:          roots,
		Exclude:        opts.Exclude,
		OneFileSystem:  opts.OneFileSystem,
		FollowSymlinks: opts.FollowSymlinks,
		Mounts:         mounts,
		Progress:       opts.Progress,
	})
	res.Coverage = cov
	if err != nil {
		res.Normalize()
		return res, err
	}
	for _, h := range homes {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		res.Installs = append(res.Installs, Inspect(fsys, h, res.Live, res.Host, opts.Defines))
	}
	slices.SortFunc(res.Installs, func(a, b Install) int { return strings.Compare(a.Home, b.Home) })
	res.Normalize()
	return res, nil
}

// Normalize makes the result's lists non-nil, so that JSON shows [] rather
// than null and consumers iterate without checks.
func (r *Result) Normalize() {
	if r.Installs == nil {
		r.Installs = []Install{}
	}
	if r.Coverage.Roots == nil {
		r.Coverage.Roots = []string{}
	}
	if r.Coverage.Unreadable == nil {
		r.Coverage.Unreadable = []Gap{}
	}
	if r.Coverage.Skipped == nil {
		r.Coverage.Skipped = []Gap{}
	}
	if r.Live.Processes == nil {
		r.Live.Processes = []Process{}
	}
	if r.Live.Sockets == nil {
		r.Live.Sockets = []Socket{}
	}
}

// Inspect reads one home: its release with the evidence, the configuration it
// loads and the sockets that configuration binds, and whether it runs now.
func Inspect(fsys afero.Fs, h Home, live Live, hostname string, cli map[string]string) Install {
	in := Install{Home: h.Path, Layout: h.Layout, State: StateUnknown}
	proc := LinkProcess(live, h.Path)
	if live.Available {
		in.State = StateStopped
		if proc != nil {
			in.State, in.PID = StateRunning, proc.PID
		}
	}

	launch, probs := ReadLaunch(fsys, h.Path)
	in.Problems = append(in.Problems, probs...)
	// Logs: home/log, plus GATEWAY_LOG_DIRECTORY as the start script or the
	// running process sets it (a relative one is relative to the process's
	// working directory). /var/log/kaazing is not read: installer homes of
	// several releases share it, so its banner says nothing about one home.
	var logDirs []string
	if launch.LogDir != "" {
		logDirs = append(logDirs, launch.LogDir)
	}
	if proc != nil {
		for _, d := range LogDirs(h.Layout, proc.Defines) {
			if d == installerLogDir {
				continue
			}
			if !path.IsAbs(d) && proc.Cwd != "" {
				d = path.Join(proc.Cwd, d)
			}
			logDirs = append(logDirs, d)
		}
	}
	evidence, probs := ReadRelease(fsys, h.Path, logDirs)
	in.Problems = append(in.Problems, probs...)

	cfgPath, source, defines, probs := ChooseConfig(fsys, h.Path, proc, launch, cli)
	in.Problems = append(in.Problems, probs...)
	if cfgPath != "" {
		parsed := ParseConfig(fsys, cfgPath, ParseOptions{Defines: defines, Hostname: hostname})
		cfg := parsed.Config
		cfg.Source = source
		in.Config = &cfg
		in.Services, in.Listeners = parsed.Services, parsed.Listeners
		in.Problems = append(in.Problems, parsed.Problems...)
		if cfg.ReleaseLine != "" {
			evidence = append(evidence, Evidence{Kind: EvidenceNamespace, Path: cfg.Path, Version: cfg.ReleaseLine, Detail: cfg.Namespace})
		}
	}
	release, edition, probs := BestRelease(evidence)
	in.Release, in.Edition, in.Evidence = release, edition, evidence
	in.Problems = append(in.Problems, probs...)
	normalize(&in)
	return in
}

// InspectPath inspects what a user named on the command line: a home, or a
// bare configuration file (reported as an install with an empty home).
func InspectPath(fsys afero.Fs, p string, live Live, hostname string, cli map[string]string) (Install, error) {
	fi, err := fsys.Stat(p)
	if err != nil {
		return Install{}, err
	}
	if fi.IsDir() {
		h, ok := IsHome(fsys, p)
		if !ok {
			return Install{}, &fs.PathError{Op: "inspect", Path: p, Err: ErrNotHome}
		}
		return Inspect(fsys, h, live, hostname, cli), nil
	}
	parsed := ParseConfig(fsys, p, ParseOptions{Defines: cli, Hostname: hostname})
	cfg := parsed.Config
	cfg.Source = SourceArgument
	in := Install{Layout: LayoutConfig, State: StateUnknown, Config: &cfg,
		Services: parsed.Services, Listeners: parsed.Listeners, Problems: parsed.Problems}
	if cfg.ReleaseLine != "" {
		in.Evidence = []Evidence{{Kind: EvidenceNamespace, Path: cfg.Path, Version: cfg.ReleaseLine, Detail: cfg.Namespace}}
		in.Release, in.Edition, _ = BestRelease(in.Evidence)
	}
	normalize(&in)
	return in, nil
}

type notHomeError struct{}

func (notHomeError) Error() string {
	return "not a Gateway home (no bin/gateway.start, conf/ and lib/ with a gateway server jar) nor a configuration file"
}

// ErrNotHome is returned by [InspectPath] for a directory that is not a
// Gateway home.
var ErrNotHome error = notHomeError{}

// normalize makes slices non-nil so that JSON shows [] rather than null.
func normalize(in *Install) {
	if in.Config != nil && in.Config.Referenced == nil {
		in.Config.Referenced = []string{}
	}
	if in.Evidence == nil {
		in.Evidence = []Evidence{}
	}
	if in.Services == nil {
		in.Services = []Service{}
	}
	if in.Listeners == nil {
		in.Listeners = []Listener{}
	}
	if in.Problems == nil {
		in.Problems = []Problem{}
	}
}

// incompleteKeys are the problems that leave an install's sockets or
// release not fully known: the scan is then incomplete (exit status 4).
var incompleteKeys = map[string]bool{
	"config-missing": true, "config-unreadable": true, "config-too-large": true,
	"config-empty": true, "config-malformed": true, "config-doctype": true,
	"config-trailing-content": true, "config-root-unexpected": true,
	"config-namespace-unknown": true, "config-none": true, "config-remote": true,
	"property-unresolved": true, "listener-uri-invalid": true,
	"listener-port-missing": true, "listener-port-invalid": true,
	"listener-host-invalid": true,
	KeyJarUnreadable:        true, KeyLogUnreadable: true,
}

// Complete reports whether nothing kept gwup from reading the install.
func (in Install) Complete() bool {
	for _, p := range in.Problems {
		if incompleteKeys[p.Key] {
			return false
		}
	}
	return true
}

// Hostname is the scanned system's host name, from its /etc/hostname, or
// fallback when it has none.
func Hostname(fsys afero.Fs, fallback string) string {
	b, err := afero.ReadFile(fsys, "/etc/hostname")
	if err == nil {
		if h := strings.TrimSpace(string(b)); h != "" {
			return h
		}
	}
	return fallback
}
