package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/afero"
	"github.com/urfave/cli/v2"

	"github.com/kaazing-tools/gwup/detect"
	"github.com/kaazing-tools/gwup/scan"
)

// Flags shared by the commands that look at a host.
var (
	jsonFlag    = &cli.BoolFlag{Name: "json", Usage: "print the versioned JSON report (docs/report.md) instead of text"}
	sysrootFlag = &cli.StringFlag{Name: "sysroot", Usage: "scan `DIR` as if it were / (a mounted image, a container root, a copy of a server)", TakesFile: true}
	defineFlag  = &cli.StringSliceFlag{Name: "define", Aliases: []string{"D"}, Usage: "set a Gateway property `NAME=VALUE` for ${NAME} substitution; wins over every other source (repeatable)"}
	failOnFlag  = &cli.StringFlag{Name: "fail-on", Value: "error", Usage: "exit 3 on findings at or above `LEVEL`: error, warning or never"}
	ignoreFlag  = &cli.StringSliceFlag{Name: "ignore", Usage: "waive findings with `KEY`, or KEY@until=YYYY-MM-DD (repeatable); waived findings stay in the report"}
	walkFlags   = []cli.Flag{
		&cli.StringSliceFlag{Name: "exclude", Usage: "do not enter directories matching `GLOB` (path or base name; repeatable)"},
		&cli.BoolFlag{Name: "one-file-system", Usage: "do not cross into other mounted filesystems"},
		&cli.BoolFlag{Name: "follow-symlinks", Usage: "follow symbolic links to directories (loops are detected)"},
		&cli.BoolFlag{Name: "owners", Usage: "name the process of every listening socket (reads every /proc/PID/fd; slow on busy hosts)"},
	}
)

func scanCommand() *cli.Command {
	return &cli.Command{
		Name:      "scan",
		Usage:     "find every Gateway install, its release, the sockets it binds, clashes and findings",
		ArgsUsage: "[ROOT...]",
		Description: `With no ROOT, gwup looks in the known places ($KAAZING_HOME, $GATEWAY_HOME,
/usr/share/kaazing/*/*, /opt, /usr/local, /srv, /home, /kaazing-gateway) and in the
homes of running gateways. 'gwup scan /' walks the whole filesystem, skipping
pseudo-filesystems (proc, sysfs, ...). With --to, the report includes the upgrade
plan of every install.`,
		Flags:  append([]cli.Flag{jsonFlag, sysrootFlag, defineFlag, failOnFlag, ignoreFlag, &cli.StringFlag{Name: "to", Usage: "also plan the upgrade of every install to `VERSION`"}}, walkFlags...),
		Action: func(cCtx *cli.Context) error { return runHost(cCtx, "scan") },
	}
}

func planCommand() *cli.Command {
	return &cli.Command{
		Name:      "plan",
		Usage:     "say whether the upgrade of each install (or of --from) to --to is supported, and what it means",
		ArgsUsage: "--to VERSION [ROOT...] | --from VERSION --to VERSION",
		Description: `For each install found (as 'gwup scan' finds them), the upgrade path from its
release to --to: the action, the required intermediate stops, the impact on
clients, the instructions, and the blockers (findings that must be fixed first;
mandatory ones cannot be overridden, the others yield to 'gwup unpack --force').
With --from, answers for that release without scanning anything.`,
		Flags: append([]cli.Flag{
			&cli.StringFlag{Name: "to", Usage: "target release `VERSION` (e.g. 5.0.1, 4.0.9)"},
			&cli.StringFlag{Name: "from", Usage: "answer for release `VERSION` without scanning"},
			jsonFlag, sysrootFlag, defineFlag, failOnFlag, ignoreFlag,
		}, walkFlags...),
		Action: func(cCtx *cli.Context) error {
			if cCtx.String("to") == "" {
				return usagef("name the target release: gwup plan --to 5.0.1", "--to is required")
			}
			if cCtx.IsSet("from") {
				return runPlanFrom(cCtx)
			}
			return runHost(cCtx, "plan")
		},
	}
}

func portsCommand() *cli.Command {
	return &cli.Command{
		Name:      "ports",
		Usage:     "list the sockets each configuration or Gateway home binds",
		ArgsUsage: "PATH...",
		Description: `Each PATH is a Gateway home (the configuration it loads is found as the Gateway
finds it) or a configuration file. Lists protocol, address, port, service and the
file:line each socket comes from, and the problems that would stop the Gateway.`,
		Flags:  []cli.Flag{jsonFlag, sysrootFlag, defineFlag, failOnFlag, ignoreFlag},
		Action: runPorts,
	}
}

// hostOptions are the settings common to the commands that read a host.
type hostOptions struct {
	sysroot string
	fsys    afero.Fs
	defines map[string]string
	failOn  string
	waivers []detect.Waiver
	json    bool
}

func readHostOptions(cCtx *cli.Context) (hostOptions, error) {
	if err := requireFlagsFirst(cCtx); err != nil {
		return hostOptions{}, err
	}
	o := hostOptions{failOn: cCtx.String("fail-on"), json: cCtx.Bool("json")}
	switch o.failOn {
	case "error", "warning", "never":
	default:
		return o, usagef("use --fail-on error, warning or never", "invalid --fail-on %q", o.failOn)
	}
	defines, err := parseDefines(cCtx.StringSlice("define"))
	if err != nil {
		return o, err
	}
	o.defines = defines
	if o.waivers, err = parseWaivers(cCtx.StringSlice("ignore")); err != nil {
		return o, err
	}
	o.fsys = afero.NewReadOnlyFs(afero.NewOsFs())
	if dir := cCtx.String("sysroot"); dir != "" {
		abs, err := filepath.Abs(dir)
		if err != nil {
			return o, err
		}
		fi, err := os.Stat(abs)
		if err != nil || !fi.IsDir() {
			return o, usagef("--sysroot names the directory to scan as if it were /", "--sysroot %s: not a directory", dir)
		}
		o.sysroot = abs
		// BasePathFs re-roots the paths; it is not a security boundary, and
		// needs none here: scan only reads.
		o.fsys = afero.NewReadOnlyFs(afero.NewBasePathFs(afero.NewOsFs(), abs))
	}
	return o, nil
}

func parseDefines(list []string) (map[string]string, error) {
	defs := map[string]string{}
	for _, d := range list {
		name, value, ok := strings.Cut(d, "=")
		if !ok || name == "" {
			return nil, usagef("write --define NAME=VALUE", "invalid --define %q", d)
		}
		defs[name] = value
	}
	return defs, nil
}

func parseWaivers(list []string) ([]detect.Waiver, error) {
	var waivers []detect.Waiver
	for _, s := range list {
		w, err := detect.ParseWaiver(s)
		if err != nil {
			return nil, usagef("write --ignore KEY or --ignore KEY@until=2027-01-31", "%v", err)
		}
		waivers = append(waivers, w)
	}
	return waivers, nil
}

// rootPath turns a ROOT or PATH argument into a path in the scanned
// filesystem: relative to the working directory on the real root, and
// absolute inside the sysroot otherwise.
func (o hostOptions) rootPath(arg string) (string, error) {
	if o.sysroot != "" {
		return filepath.Join("/", arg), nil
	}
	return filepath.Abs(arg)
}

func (o hostOptions) hostname() string {
	if o.sysroot != "" {
		return ""
	}
	h, _ := os.Hostname()
	return h
}

// runHost is scan and plan: walk, inspect, analyse, render.
func runHost(cCtx *cli.Context, command string) error {
	o, err := readHostOptions(cCtx)
	if err != nil {
		return err
	}
	target := cCtx.String("to")
	if target != "" && !detect.KnownRelease(target) {
		return usagef("name a KAAZING Gateway release, e.g. --to 5.0.1 or --to 4.0.9", "unknown target release %q", target)
	}
	var roots []string
	for _, a := range cCtx.Args().Slice() {
		p, err := o.rootPath(a)
		if err != nil {
			return err
		}
		roots = append(roots, p)
	}
	progress := newProgress(cCtx.App.ErrWriter)
	res, err := scan.Scan(cCtx.Context, o.fsys, scan.Options{
		Roots:          roots,
		Exclude:        cCtx.StringSlice("exclude"),
		OneFileSystem:  cCtx.Bool("one-file-system"),
		FollowSymlinks: cCtx.Bool("follow-symlinks"),
		Defines:        o.defines,
		Owners:         cCtx.Bool("owners"),
		Hostname:       o.hostname(),
		GOOS:           runtime.GOOS,
		Getenv:         o.getenv,
		Progress:       progress.dirs,
	})
	progress.done()
	if err != nil {
		return err
	}
	analysis := detect.Analyze(detect.Input{
		Installs: res.Installs,
		Live:     res.Live,
		Hosts:    res.Hosts,
		Target:   target,
		Waivers:  o.waivers,
		Now:      time.Now(),
	})
	rep := newReport(command, o, res, analysis, target)
	return render(cCtx, o, rep)
}

// getenv reads $KAAZING_HOME and $GATEWAY_HOME; inside a sysroot the
// environment of this shell says nothing about the image, so it is ignored.
func (o hostOptions) getenv(name string) string {
	if o.sysroot != "" {
		return ""
	}
	return os.Getenv(name)
}

func runPorts(cCtx *cli.Context) error {
	o, err := readHostOptions(cCtx)
	if err != nil {
		return err
	}
	if cCtx.NArg() == 0 {
		return usagef("name a Gateway home or a gateway-config.xml: gwup ports /opt/kaazing-gateway-community-5.0.1", "no PATH given")
	}
	live := scan.ReadLive(o.fsys, runtime.GOOS, false)
	host := scan.Hostname(o.fsys, o.hostname())
	res := scan.Result{Host: host, Live: live, Hosts: scan.ReadHosts(o.fsys)}
	res.Normalize()
	for _, a := range cCtx.Args().Slice() {
		p, err := o.rootPath(a)
		if err != nil {
			return err
		}
		res.Coverage.Roots = append(res.Coverage.Roots, p)
		in, err := scan.InspectPath(o.fsys, p, live, host, o.defines)
		if errors.Is(err, scan.ErrNotHome) {
			return usagef("name a Gateway home (holding bin/, conf/ and lib/) or a configuration file", "%v", err)
		}
		if err != nil {
			res.Coverage.Unreadable = append(res.Coverage.Unreadable, scan.Gap{Path: p, Reason: err.Error()})
			fmt.Fprintf(cCtx.App.ErrWriter, "gwup: %v\n", err)
			continue
		}
		res.Installs = append(res.Installs, in)
	}
	analysis := detect.Analyze(detect.Input{Installs: res.Installs, Live: res.Live, Hosts: res.Hosts, Waivers: o.waivers, Now: time.Now()})
	rep := newReport("ports", o, res, analysis, "")
	return render(cCtx, o, rep)
}

func runPlanFrom(cCtx *cli.Context) error {
	if err := requireFlagsFirst(cCtx); err != nil {
		return err
	}
	if cCtx.NArg() > 0 {
		return usagef("--from answers for a release without scanning: drop the ROOT arguments", "ROOT given with --from")
	}
	for _, name := range []string{"sysroot", "define", "exclude", "one-file-system", "follow-symlinks", "owners"} {
		if cCtx.IsSet(name) {
			return usagef("--from answers for a release without looking at a host: drop --"+name, "--%s given with --from", name)
		}
	}
	switch cCtx.String("fail-on") {
	case "error", "warning", "never":
	default:
		return usagef("use --fail-on error, warning or never", "invalid --fail-on %q", cCtx.String("fail-on"))
	}
	from, to := cCtx.String("from"), cCtx.String("to")
	if !detect.KnownRelease(to) {
		return usagef("name a KAAZING Gateway release, e.g. --to 5.0.1 or --to 4.0.9", "unknown target release %q", to)
	}
	if _, err := scan.ParseVersion(from); err != nil {
		return usagef("versions look like 4.0.9, 4.0.9.383 or 5.6.2", "invalid --from: %v", err)
	}
	if _, err := detect.PlanUpgrade(from, to); err != nil {
		return usagef("versions look like 4.0.9, 4.0.9.383 or 5.6.2", "%v", err)
	}
	waivers, err := parseWaivers(cCtx.StringSlice("ignore"))
	if err != nil {
		return err
	}
	// The release is judged as an install of it would be, so that --from
	// gives the same blockers as a scan; only what needs a host is left out.
	a := detect.Analyze(detect.Input{
		Installs: []scan.Install{{Release: from, State: scan.StateStopped}},
		Live:     scan.Live{Available: true},
		Target:   to,
		Waivers:  waivers,
		Now:      time.Now(),
	})
	o := hostOptions{json: cCtx.Bool("json"), failOn: cCtx.String("fail-on")}
	rep := planOnlyReport(a)
	return render(cCtx, o, rep)
}
