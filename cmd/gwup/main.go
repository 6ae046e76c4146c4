// Command gwup checks a host before a KAAZING Gateway upgrade: it finds every
// Gateway install, says which release each one is and which sockets its
// configuration binds, reports clashes and upgrade blockers, backs up the
// files a user changed and unpacks a new release without losing any of them.
//
// This package is the thin shell around scan, detect and backup: it turns
// flags into options, renders results, and maps errors to exit codes in one
// place (exit.go). Everything it prints follows the rules in output.go.
package main

import (
	"context"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// version is set at link time (-ldflags -X main.version=...); otherwise the
// module version stamped by the go command is used.
var version = ""

func gwupVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

func main() {
	// main only wires the process to run, so that run can use defer and be
	// called from tests with buffers.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run executes one gwup command line and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	app := newApp(stdout, stderr)
	err := app.RunContext(ctx, args)
	return exitCode(ctx, err, stderr)
}
