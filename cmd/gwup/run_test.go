package main

import (
	"bytes"
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
)

// failingWriter is a stdout that cannot be written, like a closed pipe or a
// full disk.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("no space left on device") }

// TestRunExitStatus covers every exit status through run itself, including
// the two that scripts cannot provoke: a failed write (1) and an interrupt
// (130).
func TestRunExitStatus(t *testing.T) {
	demo := filepath.Join("..", "..", "testdata", "demo")
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		args   []string
		stdout interface{ Write([]byte) (int, error) }
		want   int
		stderr string // "" means stderr must be empty
	}{
		{"ok", context.Background(), []string{"plan", "--from", "4.0.9", "--to", "5.0.1"}, nil, exitOK, ""},
		{"usage", context.Background(), []string{"scan", "--nope"}, nil, exitUsage, "gwup: error: flag provided but not defined"},
		{"findings", context.Background(), []string{"scan", "--sysroot", demo}, nil, exitFindings, ""},
		{"findings waived", context.Background(), []string{"scan", "--ignore", "port-clash", "--sysroot", demo}, nil, exitOK, ""},
		{"incomplete", context.Background(), []string{"ports", filepath.Join(demo, "nowhere.xml")}, nil, exitIncomplete, "gwup: incomplete"},
		{"write failure", context.Background(), []string{"plan", "--from", "4.0.9", "--to", "5.0.1"}, failingWriter{}, exitFailure, "gwup: error: write report: no space left on device"},
		{"interrupted", cancelled, []string{"scan", "--sysroot", demo}, nil, exitInterrupted, "gwup: interrupted"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			var stdout interface{ Write([]byte) (int, error) } = &out
			if tt.stdout != nil {
				stdout = tt.stdout
			}
			got := run(tt.ctx, append([]string{"gwup"}, tt.args...), stdout, &errOut)
			if got != tt.want {
				t.Errorf("run(%q) = %d, want %d\nstdout:\n%s\nstderr:\n%s", tt.args, got, tt.want, out.String(), errOut.String())
			}
			if tt.stderr == "" && errOut.Len() > 0 {
				t.Errorf("stderr = %q, want it empty", errOut.String())
			}
			if !strings.Contains(errOut.String(), tt.stderr) {
				t.Errorf("stderr = %q, want it to contain %q", errOut.String(), tt.stderr)
			}
		})
	}
}
