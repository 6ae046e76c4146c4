package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/urfave/cli/v2"
)

func newApp(stdout, stderr io.Writer) *cli.App {
	app := &cli.App{
		Name:    "gwup",
		Usage:   "check a host before a KAAZING Gateway upgrade, and upgrade it safely",
		Version: gwupVersion(),
		Description: `gwup finds every KAAZING Gateway installation on a host, tells which release each
one is and which sockets its configuration binds, reports port clashes between
installs, says whether the upgrade path to a target release is supported, backs up
the files a user changed and unpacks a new release without losing any of them.

Flags go before arguments. Results go to stdout (--json for the versioned report
described in docs/report.md); diagnostics go to stderr, prefixed "gwup:".

` + exitStatusHelp,
		Writer:               stdout,
		ErrWriter:            stderr,
		EnableBashCompletion: true,
		Suggest:              true,
		// Errors are printed and mapped to exit statuses in exit.go, never
		// inside the library (which would call os.Exit from under us).
		ExitErrHandler: func(*cli.Context, error) {},
		OnUsageError:   onUsageError,
		Commands: []*cli.Command{
			scanCommand(),
			portsCommand(),
			planCommand(),
			backupCommand(),
			verifyCommand(),
			restoreCommand(),
			unpackCommand(),
		},
	}
	for _, c := range app.Commands {
		// OnUsageError is not inherited by subcommands.
		c.OnUsageError = onUsageError
		c.Description = strings.TrimSpace(c.Description) + "\n\n" + exitStatusHelp
	}
	return app
}

func onUsageError(cCtx *cli.Context, err error, _ bool) error {
	name := "gwup"
	if cCtx.Command != nil && cCtx.Command.Name != "" {
		name += " " + cCtx.Command.Name
	}
	return usagef(fmt.Sprintf("run '%s --help'", name), "%v", err)
}

// requireFlagsFirst rejects a flag written after the arguments: the flag
// package would take it as an argument, and an operator would believe it
// applied.
func requireFlagsFirst(cCtx *cli.Context) error {
	for _, a := range cCtx.Args().Slice() {
		if strings.HasPrefix(a, "-") && a != "-" {
			return usagef(fmt.Sprintf("write flags before arguments: gwup %s %s ...", cCtx.Command.Name, a),
				"flag %q after the arguments", a)
		}
	}
	return nil
}
