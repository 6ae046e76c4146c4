package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit statuses are API: scripts branch on them. They are documented in the
// help of every command (exitStatusHelp) and each one is covered by a test in
// testdata/script.
const (
	exitOK          = 0   // done, nothing at or above --fail-on
	exitFailure     = 1   // gwup itself failed (bad archive, I/O error, verification failed)
	exitUsage       = 2   // the command line is wrong
	exitFindings    = 3   // findings at or above --fail-on
	exitIncomplete  = 4   // some paths or files could not be read: the answer is incomplete
	exitInterrupted = 130 // SIGINT or SIGTERM
)

const exitStatusHelp = `EXIT STATUS:
   0    ok: nothing at or above --fail-on
   1    gwup failed (I/O error, bad archive, verification failed)
   2    usage error
   3    findings at or above --fail-on (blockers, clashes, ...)
   4    incomplete: some directories or files could not be read or parsed;
        takes precedence over 3, because what was not read may hide more
   130  interrupted`

// usageError is a wrong command line: exit 2, with a hint.
type usageError struct {
	msg, hint string
}

func (e *usageError) Error() string { return e.msg }

func usagef(hint, format string, args ...any) error {
	return &usageError{msg: fmt.Sprintf(format, args...), hint: hint}
}

// statusError carries a non-zero status for an outcome that is not a failure
// of gwup (findings, an incomplete scan): the results have been printed, so
// there is nothing more to say unless msg is set.
type statusError struct {
	code int
	msg  string
}

func (e *statusError) Error() string { return e.msg }

// hintError is a failure with advice on what to do about it.
type hintError struct {
	err  error
	hint string
}

func (e *hintError) Error() string { return e.err.Error() }
func (e *hintError) Unwrap() error { return e.err }

// exitCode is the one mapping from errors to exit statuses. It prints the
// error (and hint) on stderr with the gwup: prefix.
func exitCode(ctx context.Context, err error, stderr io.Writer) int {
	if err == nil {
		return exitOK
	}
	if errors.Is(err, context.Canceled) || ctx.Err() != nil {
		fmt.Fprintln(stderr, "gwup: interrupted")
		return exitInterrupted
	}
	if se, ok := errors.AsType[*statusError](err); ok {
		if se.msg != "" {
			fmt.Fprintf(stderr, "gwup: %s\n", se.msg)
		}
		return se.code
	}
	if ue, ok := errors.AsType[*usageError](err); ok {
		fmt.Fprintf(stderr, "gwup: error: %s\n", ue.msg)
		if ue.hint != "" {
			fmt.Fprintf(stderr, "gwup: hint: %s\n", ue.hint)
		}
		return exitUsage
	}
	fmt.Fprintf(stderr, "gwup: error: %s\n", strings.TrimSpace(err.Error()))
	if he, ok := errors.AsType[*hintError](err); ok && he.hint != "" {
		fmt.Fprintf(stderr, "gwup: hint: %s\n", he.hint)
	}
	return exitFailure
}
