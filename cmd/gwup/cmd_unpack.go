package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/afero"
	"github.com/urfave/cli/v2"

	"github.com/kaazing-tools/gwup/backup"
	"github.com/kaazing-tools/gwup/detect"
	"github.com/kaazing-tools/gwup/scan"
)

func unpackCommand() *cli.Command {
	return &cli.Command{
		Name:      "unpack",
		Usage:     "unpack a new release over a home (or beside it) without losing a user-modified file",
		ArgsUsage: "--into HOME | --beside HOME  ARCHIVE",
		Description: `In order: finish or roll back an unpack that was interrupted; read the release
in ARCHIVE and refuse what 'gwup plan' would block (--force overrides what is not
mandatory); refuse while the gateway runs; plan every file, dpkg's way (new ->
install; unchanged by the user -> replace; changed by the user and by the release ->
keep the user's and write the release's as FILE.new, or with --conffiles new install
the release's and keep the user's as FILE.old; added by the user -> keep; no longer
shipped -> leave and report); take a backup and verify it (no verified backup, no
unpack); extract into a staging directory next to the home, refusing unsafe entries;
apply the plan with atomic renames under a journal, so that any failure rolls the
home back exactly; record the shipped files for the next upgrade. --dry-run prints
the plan and touches nothing.

With --beside, the release becomes a new home next to the old one (the installer's
way: jms/4.0 beside jms/3.5), the user's files are copied over, and the port clashes
between the two homes are reported.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "into", Usage: "unpack over `HOME`", TakesFile: true},
			&cli.StringFlag{Name: "beside", Usage: "install as a new home next to `HOME`", TakesFile: true},
			&cli.BoolFlag{Name: "dry-run", Usage: "print the plan, touch nothing"},
			&cli.BoolFlag{Name: "force", Usage: "go ahead despite blockers that are not mandatory"},
			&cli.StringFlag{Name: "conffiles", Value: backup.ConffilesKeep, Usage: "for files changed by the user and the release: `keep` the user's (release's as .new) or install the new (user's as .old)"},
			&cli.StringFlag{Name: "pristine", Usage: "the release `ARCHIVE` the install came from (exact detection of user changes)", TakesFile: true},
			&cli.Int64Flag{Name: "max-bytes", Value: backup.DefaultMaxBytes, Usage: "refuse archives that unpack to more than `N` bytes (> 0)"},
			&cli.StringFlag{Name: "backup-output", Usage: "write the pre-unpack backup to `FILE` (default: next to the home)", TakesFile: true},
			defineFlag, ignoreFlag,
			&cli.BoolFlag{Name: "json", Usage: "print the plan (with --dry-run) or the result as JSON (schema gwup/unpack-plan/v1 for the plan)"},
		},
		Action: runUnpack,
	}
}

func runUnpack(cCtx *cli.Context) error {
	archive, err := oneArg(cCtx, "ARCHIVE", "gwup unpack --into /opt/kaazing-gateway-community-5.0.1 kaazing-community-gateway-5.6.2.tar.gz")
	if err != nil {
		return err
	}
	into, beside := cCtx.String("into"), cCtx.String("beside")
	if (into == "") == (beside == "") {
		return usagef("unpack over a home with --into HOME, or next to it with --beside HOME", "give exactly one of --into and --beside")
	}
	if cCtx.Int64("max-bytes") <= 0 {
		return usagef("give the byte budget as a positive number, e.g. --max-bytes 8589934592", "invalid --max-bytes %d", cCtx.Int64("max-bytes"))
	}
	conffiles := cCtx.String("conffiles")
	if conffiles != backup.ConffilesKeep && conffiles != backup.ConffilesNew {
		return usagef("use --conffiles keep or --conffiles new", "invalid --conffiles %q", conffiles)
	}
	home, err := filepath.Abs(into + beside)
	if err != nil {
		return err
	}
	defines, err := parseDefines(cCtx.StringSlice("define"))
	if err != nil {
		return err
	}
	waivers, err := parseWaivers(cCtx.StringSlice("ignore"))
	if err != nil {
		return err
	}
	ctx, stderr, w := cCtx.Context, cCtx.App.ErrWriter, cCtx.App.Writer
	force, dryRun := cCtx.Bool("force"), cCtx.Bool("dry-run")

	// An unpack that was killed half-way is finished or undone before
	// anything else looks at the home.
	if into != "" && !dryRun {
		rec, err := backup.Recover(ctx, home)
		if err != nil {
			return &hintError{err: err, hint: "an unpack of this home was interrupted and gwup could not finish or undo it; " + backup.JournalPath(home) + " lists every step and the backup taken before it: once the home is as you want it, move the journal away, then 'gwup restore' that backup if needed"}
		}
		if rec.Action != "none" {
			fmt.Fprintf(stderr, "gwup: an interrupted unpack of %s was found (journal %s): %s; its backup is %s\n", rec.Release, rec.Journal, rec.Action, rec.Backup)
			for _, k := range rec.Kept {
				fmt.Fprintf(stderr, "gwup: kept %s: gwup made it, but it now holds files that are not gwup's\n", k)
			}
		}
	}

	in, err := inspectHome(home, defines)
	if err != nil {
		return err
	}
	opts := backup.UnpackOptions{
		Conffiles:      conffiles,
		Pristine:       cCtx.String("pristine"),
		MaxBytes:       cCtx.Int64("max-bytes"),
		GatewayRunning: in.State == scan.StateRunning,
	}
	plan, err := backup.PlanUnpack(ctx, archive, home, opts)
	if errors.Is(err, backup.ErrTooLarge) {
		return &hintError{err: err, hint: "if the archive is a release you trust, raise the budget with --max-bytes"}
	}
	if err != nil {
		return err
	}

	// Refuse what gwup plan would block for this install and this release.
	blocking, mandatory, findings := upgradeBlockers(in, plan.Release.Version, force, waivers)
	if len(findings) > 0 && !cCtx.Bool("json") {
		writeUnpackFindings(w, findings)
	}
	refusal := func() error {
		hint := " (--force overrides them)"
		if len(mandatory) > 0 {
			hint = fmt.Sprintf(" (%s cannot be overridden)", strings.Join(mandatory, ", "))
		}
		return &statusError{code: exitFindings, msg: fmt.Sprintf("refusing to unpack %s %s over %s: blocked by %s%s", plan.Release.Edition, plan.Release.Version, home, strings.Join(blocking, ", "), hint)}
	}
	if dryRun {
		// The plan is shown whatever blocks it; the status says whether
		// the real run would go ahead.
		var err error
		if cCtx.Bool("json") {
			err = writeJSON(w, struct {
				*backup.UnpackPlan
				Findings []detect.Finding `json:"findings"`
				Blockers []string         `json:"blockers"`
			}{plan, orEmpty(findings), orEmpty(blocking)})
		} else {
			err = writePlan(w, plan)
		}
		switch {
		case err != nil:
			return err
		case len(blocking) > 0:
			return refusal()
		case len(plan.Conflicts()) > 0:
			return &statusError{code: exitFindings, msg: "the plan has conflicts: the unpack would refuse (see the lines marked conflict)"}
		}
		return nil
	}
	if len(blocking) > 0 {
		return refusal()
	}
	if in.State == scan.StateRunning && into != "" {
		return &hintError{err: fmt.Errorf("refusing to unpack over %s: its gateway is running (pid %d)", home, in.PID), hint: "stop the gateway first; the upgrade procedure starts by stopping it"}
	}

	fsys := afero.NewOsFs()
	opts.Backup = func(ctx context.Context, plan *backup.UnpackPlan) (string, error) {
		// The backup holds every file the unpack would overwrite with other
		// content and every file the release does not ship: the method
		// "against", with the release as the plan already read it.
		against := shippedOf(plan)
		output := cCtx.String("backup-output")
		if output != "" {
			output, _ = filepath.Abs(output)
		}
		sel, err := backup.Select(ctx, fsys, in, backup.SelectOptions{Against: &against, Skip: []string{output}})
		if err != nil {
			return "", err
		}
		host, _ := os.Hostname()
		res, err := backup.Save(ctx, fsys, sel, backup.Options{Output: output, Gwup: gwupVersion(), Host: host})
		if err != nil {
			return "", fmt.Errorf("backup before unpack: %w", err)
		}
		fmt.Fprintf(stderr, "gwup: backup written and verified: %s (%d files)\n", res.Path, len(res.Manifest.Entries))
		return res.Path, nil
	}

	var res *backup.UnpackResult
	if beside != "" {
		res, err = backup.UnpackBeside(ctx, plan, opts)
	} else {
		res, err = backup.ApplyUnpack(ctx, plan, opts)
	}
	if err != nil {
		return err
	}
	var clashes []detect.Clash
	if beside != "" {
		clashes = besideClashes(in, res.Home, defines)
	}
	if cCtx.Bool("json") {
		return writeJSON(w, struct {
			*backup.UnpackResult
			Clashes []detect.Clash `json:"clashes"`
		}{res, clashes})
	}
	writeUnpackResult(w, res)
	if len(clashes) > 0 {
		fmt.Fprintf(w, "\nPORT CLASHES between the two homes (they cannot run together until one changes):\n")
	}
	for _, c := range clashes {
		writeClash(&errWriter{w: w}, c)
	}
	return nil
}

// upgradeBlockers judges the upgrade of in to release with the same data and
// policy as gwup plan, and returns the keys that block it and the findings
// worth showing. Clashes with other installs are not about this unpack.
func upgradeBlockers(in scan.Install, release string, force bool, waivers []detect.Waiver) (blocking, mandatory []string, shown []detect.Finding) {
	if !detect.KnownRelease(release) {
		f := detect.Finding{Key: detect.KeyPathUnsupported, Severity: detect.SeverityError, Blocker: !force, Forced: force, Home: in.Home,
			Message: fmt.Sprintf("the archive holds release %q, which gwup's upgrade data does not know", release)}
		if force {
			return nil, nil, []detect.Finding{f}
		}
		return []string{f.Key}, nil, []detect.Finding{f}
	}
	a := detect.Analyze(detect.Input{
		Installs: []scan.Install{in},
		Live:     scan.Live{Available: true},
		Target:   release,
		Force:    force,
		Waivers:  waivers,
		Now:      time.Now(),
	})
	for _, f := range a.Findings {
		if f.Key == detect.KeyPortClash || f.Key == detect.KeyPortClashPossible || f.Severity == detect.SeverityInfo {
			continue
		}
		shown = append(shown, f)
		if f.Blocker && !f.Waived {
			blocking = append(blocking, f.Key)
			if f.Mandatory {
				mandatory = append(mandatory, f.Key)
			}
		}
	}
	return blocking, mandatory, shown
}

// orEmpty makes a nil list an empty one, for JSON.
func orEmpty[T any](list []T) []T {
	if list == nil {
		return []T{}
	}
	return list
}

// shippedOf is the release as the plan read it, in the form backup's
// selection compares a home with.
func shippedOf(plan *backup.UnpackPlan) backup.Shipped {
	s := backup.Shipped{Schema: backup.ShippedSchema, Release: plan.Release.Version, Archive: plan.Archive}
	for _, f := range plan.Files {
		if f.Kind == "dir" || f.SHA256 == "" && f.Link == "" {
			continue
		}
		mode := uint32(f.Mode)
		if f.Kind == "symlink" {
			mode |= uint32(os.ModeSymlink)
		}
		s.Files = append(s.Files, backup.ShippedFile{Path: f.Path, Size: f.Size, Mode: mode, SHA256: f.SHA256, Link: f.Link})
	}
	return s
}

// besideClashes scans the old and the new home and returns their clashes.
func besideClashes(old scan.Install, newHome string, defines map[string]string) []detect.Clash {
	fresh, err := inspectHome(newHome, defines)
	if err != nil {
		return nil
	}
	ro := afero.NewReadOnlyFs(afero.NewOsFs())
	return detect.Clashes([]scan.Install{old, fresh}, scan.ReadLive(ro, runtime.GOOS, false), scan.ReadHosts(ro))
}

func writeUnpackFindings(w io.Writer, findings []detect.Finding) {
	ew := &errWriter{w: w}
	for _, f := range findings {
		tag := strings.ToUpper(f.Severity)
		if f.Blocker {
			tag = "BLOCKER"
			if f.Mandatory {
				tag = "BLOCKER (mandatory)"
			}
		}
		if f.Forced {
			tag += ", forced"
		}
		ew.printf("[%s] %s: %s\n", tag, f.Key, f.Message)
		if f.Remediation != "" {
			ew.printf("    fix: %s\n", f.Remediation)
		}
	}
}

func writePlan(w io.Writer, p *backup.UnpackPlan) error {
	ew := &errWriter{w: w}
	ew.printf("plan: unpack %s (%s %s, top folder %s) over %s\n", p.Archive, orDash(p.Release.Edition), p.Release.Version, p.TopFolder, p.Home)
	ew.printf("user changes: %s\nconffiles: %s\n", p.Method, p.Conffiles)
	counts := map[backup.Fate]int{}
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, f := range p.Files {
		counts[f.Fate]++
		if f.Kind == "dir" || f.Fate == backup.FateSame {
			continue
		}
		side := ""
		if f.Side != "" {
			side = "-> " + f.Side
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", f.Fate, f.Path, side, f.Reason)
	}
	tw.Flush()
	ew.printf("totals:")
	for _, fate := range []backup.Fate{backup.FateInstall, backup.FateReplace, backup.FateSame, backup.FateKeepNew, backup.FateNewOld, backup.FateKeep, backup.FateUser, backup.FateObsolete, backup.FateConflict} {
		if counts[fate] > 0 {
			ew.printf(" %s %d", fate, counts[fate])
		}
	}
	ew.printf("\n")
	if c := p.Conflicts(); len(c) > 0 {
		ew.printf("%d conflict(s) block the unpack: see the lines marked conflict\n", len(c))
	}
	return ew.err
}

func writeUnpackResult(w io.Writer, r *backup.UnpackResult) {
	ew := &errWriter{w: w}
	verb := "unpacked over"
	if r.Beside {
		verb = "installed as a new home:"
	}
	ew.printf("%s %s %s %s", r.Release.Edition, r.Release.Version, verb, r.Home)
	if r.Installed != "" {
		ew.printf(" (was %s)", r.Installed)
	}
	ew.printf("\n  %d installed, %d replaced, %d kept (yours), %d of your own files untouched, %d obsolete left\n",
		len(r.Written), len(r.Replaced), len(r.Kept), len(r.UserFiles), len(r.Obsolete))
	for _, s := range r.NewFiles {
		ew.printf("  kept your %s; the release's is %s\n", s.Path, s.Side)
	}
	for _, s := range r.OldFiles {
		ew.printf("  installed the release's %s; yours is %s\n", s.Path, s.Side)
	}
	for _, o := range r.Obsolete {
		ew.printf("  no longer shipped, left in place: %s\n", o)
	}
	for _, m := range r.Merge {
		ew.printf("  merge: %s: %s\n", m.Path, m.Note)
	}
	for _, warn := range r.Warnings {
		ew.printf("  warning: %s\n", warn)
	}
	if r.Backup != "" {
		ew.printf("  backup: %s\n", r.Backup)
	}
	if r.Rollback != "" {
		ew.printf("  to roll back: %s\n", r.Rollback)
		if len(r.Written) > 0 && !r.Beside {
			ew.printf("    then delete the %d files the release added (listed in --json as \"installed\") and %s\n", len(r.Written), filepath.Join(r.Home, backup.ShippedName))
		}
	}
}
