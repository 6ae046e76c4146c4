package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"text/tabwriter"

	"github.com/spf13/afero"
	"github.com/urfave/cli/v2"

	"github.com/kaazing-tools/gwup/backup"
	"github.com/kaazing-tools/gwup/scan"
)

func backupCommand() *cli.Command {
	return &cli.Command{
		Name:      "backup",
		Usage:     "save the files a user changed in a Gateway home into a private, verified archive",
		ArgsUsage: "HOME",
		Description: `Which files: with a .gwup-shipped.json left by 'gwup unpack', or --pristine (the
release archive the install came from), exactly the files the user changed or added;
with --against (the new release), every file the unpack would overwrite with other
content and every file the new release does not ship; otherwise the files users
modify (conf/, license/, lib/ext/ and user jars, web/base/, error-pages/, bin/) and
the files the configuration and start scripts name outside the home. --all takes the
whole home but log/ and temp/ (--with-logs adds them). --dry-run lists every file
with the reason it is included.

The archive (.tar.gz by default; .zip and .tar.zst by -o's extension) is created
0600 in a 0700 directory next to the home, never inside it, never over an existing
file, and is read back and verified against the manifest and the disk before gwup
says it is done. A file that cannot be read makes the backup incomplete: exit 4.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "output", Aliases: []string{"o"}, Usage: "write the archive to `FILE` (its extension picks the format)", TakesFile: true},
			&cli.BoolFlag{Name: "dry-run", Usage: "list the files and why, write nothing"},
			&cli.BoolFlag{Name: "all", Usage: "the whole home but log/ and temp/"},
			&cli.BoolFlag{Name: "with-logs", Usage: "with --all, add log/ and temp/"},
			&cli.StringFlag{Name: "pristine", Usage: "the release `ARCHIVE` the install came from", TakesFile: true},
			&cli.StringFlag{Name: "against", Usage: "the new release `ARCHIVE` about to be unpacked", TakesFile: true},
			defineFlag,
			&cli.BoolFlag{Name: "json", Usage: "print the selection (with --dry-run) or the written backup and its manifest (schema gwup/backup/v1) as JSON"},
		},
		Action: runBackup,
	}
}

func verifyCommand() *cli.Command {
	return &cli.Command{
		Name:      "verify",
		Usage:     "check a gwup backup against its manifest, and with --against against the disk",
		ArgsUsage: "FILE",
		Description: `Reads every entry of the archive and checks it against the archive's manifest:
every hash, size, mode and link, no entry missing, none extra. With --against HOME,
also compares with the files on the disk. Every difference is named; any makes
verify exit 1.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "against", Usage: "also compare with the files of `HOME` (--against-home: the home in the manifest)", TakesFile: true},
			&cli.BoolFlag{Name: "against-home", Usage: "also compare with the home recorded in the manifest"},
			&cli.BoolFlag{Name: "json", Usage: "print what was read and every difference as JSON (the manifest is schema gwup/backup/v1)"},
		},
		Action: runVerify,
	}
}

func restoreCommand() *cli.Command {
	return &cli.Command{
		Name:      "restore",
		Usage:     "restore a gwup backup into its home",
		ArgsUsage: "FILE",
		Description: `Verifies the archive, then writes its files into the home (the one in the
manifest, or --into): only inside it (absolute names, '..' and links that leave the
home are refused), each file atomically, with its mode and mtime, and verifies what
it wrote. A file on the disk that differs from the backup is not overwritten
without --force. Files that lived outside the home are restored to their original
paths only with --outside. --dry-run shows what would be written.`,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "into", Usage: "restore into `HOME` instead of the manifest's home", TakesFile: true},
			&cli.BoolFlag{Name: "dry-run", Usage: "show what would be written, write nothing"},
			&cli.BoolFlag{Name: "force", Usage: "overwrite files that differ from the backup"},
			&cli.BoolFlag{Name: "outside", Usage: "also restore the files that lived outside the home"},
			&cli.BoolFlag{Name: "json", Usage: "print what was (or would be) written as JSON"},
		},
		Action: runRestore,
	}
}

func oneArg(cCtx *cli.Context, what, example string) (string, error) {
	if err := requireFlagsFirst(cCtx); err != nil {
		return "", err
	}
	if cCtx.NArg() != 1 {
		return "", usagef("for example: "+example, "want one %s, got %d arguments", what, cCtx.NArg())
	}
	return filepath.Abs(cCtx.Args().First())
}

// inspectHome reads a home as scan does (read-only), so that backup knows
// its release and the files its configuration names.
func inspectHome(home string, defines map[string]string) (scan.Install, error) {
	ro := afero.NewReadOnlyFs(afero.NewOsFs())
	host, _ := os.Hostname()
	live := scan.ReadLive(ro, runtime.GOOS, false)
	in, err := scan.InspectPath(ro, home, live, scan.Hostname(ro, host), defines)
	if errors.Is(err, scan.ErrNotHome) {
		return in, usagef("name the GATEWAY_HOME, the directory holding bin/, conf/ and lib/", "%v", err)
	}
	if err != nil {
		return in, err
	}
	if in.Home == "" {
		return in, usagef("name the GATEWAY_HOME, the directory holding bin/, conf/ and lib/", "%s is a file, not a Gateway home", home)
	}
	return in, nil
}

func runBackup(cCtx *cli.Context) error {
	home, err := oneArg(cCtx, "HOME", "gwup backup /opt/kaazing-gateway-community-5.0.1")
	if err != nil {
		return err
	}
	defines, err := parseDefines(cCtx.StringSlice("define"))
	if err != nil {
		return err
	}
	in, err := inspectHome(home, defines)
	if err != nil {
		return err
	}
	if cCtx.Bool("with-logs") && !cCtx.Bool("all") {
		return usagef("use --all --with-logs: logs are only taken with the whole home", "--with-logs without --all")
	}
	if o := cCtx.String("output"); o != "" && !backupExtension(o) {
		return usagef("name the archive .tar.gz (or .tgz), .zip or .tar.zst", "-o %s: unknown archive format", o)
	}
	fsys := afero.NewOsFs()
	opts := backup.SelectOptions{All: cCtx.Bool("all"), WithLogs: cCtx.Bool("with-logs")}
	for flag, dst := range map[string]**backup.Shipped{"pristine": &opts.Pristine, "against": &opts.Against} {
		if file := cCtx.String(flag); file != "" {
			rel, err := backup.ReadRelease(cCtx.Context, fsys, file)
			if err != nil {
				return fmt.Errorf("--%s: %w", flag, err)
			}
			*dst = &rel
		}
	}
	output := cCtx.String("output")
	if output != "" {
		if output, err = filepath.Abs(output); err != nil {
			return err
		}
		opts.Skip = []string{output}
	}
	sel, err := backup.Select(cCtx.Context, fsys, in, opts)
	if err != nil {
		return err
	}
	w := cCtx.App.Writer
	if cCtx.Bool("dry-run") {
		if cCtx.Bool("json") {
			return writeJSON(w, sel)
		}
		return writeSelection(w, sel)
	}
	host, _ := os.Hostname()
	res, err := backup.Save(cCtx.Context, fsys, sel, backup.Options{Output: output, Gwup: gwupVersion(), Host: host})
	if err != nil && !errors.Is(err, backup.ErrIncomplete) {
		return err
	}
	if cCtx.Bool("json") {
		if werr := writeJSON(w, res); werr != nil {
			return werr
		}
	} else {
		m := res.Manifest
		fmt.Fprintf(w, "backup of %s (release %s, method %s): %d files, written and verified\n  %s\n", m.Home, orDash(m.Release), m.Method, len(m.Entries), res.Path)
		for _, warn := range res.Warnings {
			fmt.Fprintf(w, "  warning: %s\n", warn)
		}
		fmt.Fprintf(w, "restore with: gwup restore %s\n", res.Path)
	}
	if err != nil {
		return &statusError{code: exitIncomplete, msg: err.Error()}
	}
	return nil
}

// backupExtension reports whether name ends like an archive backup writes.
func backupExtension(name string) bool {
	for _, ext := range []string{".tar.gz", ".tgz", ".zip", ".tar.zst", ".tzst"} {
		if strings.HasSuffix(strings.ToLower(name), ext) {
			return true
		}
	}
	return false
}

func writeSelection(w io.Writer, sel backup.Selection) error {
	ew := &errWriter{w: w}
	ew.printf("backup of %s (release %s) would hold %d files; method %s\n", sel.Home, orDash(sel.Release), len(sel.Files), sel.Method)
	tw := tabwriter.NewWriter(ew, 0, 0, 2, ' ', 0)
	for _, f := range sel.Files {
		fmt.Fprintf(tw, "  %s\t%s\n", f.Name, f.Reason)
	}
	tw.Flush()
	for _, d := range sel.Deleted {
		ew.printf("  deleted by the user (nothing to save): %s\n", d)
	}
	for _, u := range sel.Unreadable {
		ew.printf("  cannot be read: %v\n", u)
	}
	return ew.err
}

func runVerify(cCtx *cli.Context) error {
	archive, err := oneArg(cCtx, "FILE", "gwup verify /opt/gwup-backups/gwup-backup-5.0.1.55-host-20261128T050000Z.tar.gz")
	if err != nil {
		return err
	}
	opts := backup.VerifyOptions{Against: cCtx.Bool("against-home") || cCtx.IsSet("against")}
	if h := cCtx.String("against"); h != "" {
		if opts.Home, err = filepath.Abs(h); err != nil {
			return err
		}
	}
	rep, err := backup.Verify(cCtx.Context, afero.NewReadOnlyFs(afero.NewOsFs()), archive, opts)
	w := cCtx.App.Writer
	read := rep.Manifest.Schema != "" // the manifest was read: there is something to show
	if cCtx.Bool("json") && read {
		if werr := writeJSON(w, rep); werr != nil {
			return werr
		}
	} else if read {
		m := rep.Manifest
		fmt.Fprintf(w, "%s: backup of %s (release %s, method %s, %d entries)\n", archive, orDash(m.Home), orDash(m.Release), m.Method, len(m.Entries))
		for _, d := range rep.Differences {
			fmt.Fprintf(w, "  %s\n", d)
		}
		if err == nil && len(rep.Differences) == 0 {
			what := "its manifest"
			if opts.Against {
				what += " and the disk"
			}
			fmt.Fprintf(w, "  ok: every entry matches %s\n", what)
		}
	}
	if errors.Is(err, backup.ErrNoManifest) {
		return &hintError{err: err, hint: "gwup verifies only archives written by gwup backup"}
	}
	return err
}

func runRestore(cCtx *cli.Context) error {
	archive, err := oneArg(cCtx, "FILE", "gwup restore --dry-run /opt/gwup-backups/gwup-backup-....tar.gz")
	if err != nil {
		return err
	}
	opts := backup.RestoreOptions{DryRun: cCtx.Bool("dry-run"), Force: cCtx.Bool("force"), Outside: cCtx.Bool("outside")}
	if into := cCtx.String("into"); into != "" {
		if opts.Into, err = filepath.Abs(into); err != nil {
			return err
		}
	}
	res, err := backup.Restore(cCtx.Context, afero.NewOsFs(), archive, opts)
	w := cCtx.App.Writer
	read := res.Manifest.Schema != "" // the archive was read: there is a plan to show
	if cCtx.Bool("json") && read {
		if werr := writeJSON(w, res); werr != nil {
			return werr
		}
	} else if read && res.Into != "" {
		verb := "restored"
		switch {
		case res.DryRun:
			verb = "would restore"
		case err != nil:
			verb = "refused to restore"
		}
		fmt.Fprintf(w, "%s %s into %s\n", verb, archive, res.Into)
		if res.CreatedHome {
			fmt.Fprintf(w, "  %s did not exist: created\n", res.Into)
		}
		for _, p := range res.Outside {
			fmt.Fprintf(w, "  outside the home: %s\n", p)
		}
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		for _, it := range res.Items {
			fmt.Fprintf(tw, "  %s\t%s\t%s\n", it.Action, it.Target, it.Detail)
		}
		tw.Flush()
		if !res.DryRun && err == nil {
			fmt.Fprintf(w, "%d files written and verified\n", res.Written)
		}
	}
	switch {
	case errors.Is(err, backup.ErrRestoreConflict):
		return &hintError{err: err, hint: "look at the files marked above; rerun with --force to overwrite them, or --dry-run to see the plan"}
	case errors.Is(err, backup.ErrNoManifest):
		return &hintError{err: err, hint: "gwup restores only archives written by gwup backup"}
	}
	return err
}
