package main

// Output rules (every command follows them):
//   - Results go to stdout: readable text by default, or with --json one
//     versioned document (schema "gwup/report/v1", docs/report.md).
//   - Diagnostics go to stderr, one line each, prefixed "gwup:"; errors are
//     "gwup: error: ..." followed by "gwup: hint: ..." when there is advice.
//   - Progress goes to stderr, and only when stderr is a terminal.
//   - The exit status says how it went (exit.go); printing never decides it.

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/kaazing-tools/gwup/detect"
	"github.com/kaazing-tools/gwup/scan"
)

// reportSchema versions the JSON document; a change that removes or changes
// the meaning of a field needs a new version.
const reportSchema = "gwup/report/v1"

// report is the JSON document of scan, ports and plan (docs/report.md).
type report struct {
	Schema      string           `json:"schema"`
	GwupVersion string           `json:"gwup_version"`
	Command     string           `json:"command"`
	Generated   string           `json:"generated"`
	Host        string           `json:"host"`
	Sysroot     string           `json:"sysroot,omitempty"`
	Target      string           `json:"target,omitempty"`
	Complete    bool             `json:"complete"`
	Installs    []scan.Install   `json:"installs"`
	Clashes     []detect.Clash   `json:"clashes"`
	Findings    []detect.Finding `json:"findings"`
	Plans       []detect.Plan    `json:"plans"`
	Live        *scan.Live       `json:"live,omitempty"`
	Coverage    *scan.Coverage   `json:"coverage,omitempty"`

	failOn string
}

func newReport(command string, o hostOptions, res scan.Result, a detect.Result, target string) *report {
	r := &report{
		Schema:      reportSchema,
		GwupVersion: gwupVersion(),
		Command:     command,
		Generated:   time.Now().UTC().Format(time.RFC3339),
		Host:        res.Host,
		Sysroot:     o.sysroot,
		Target:      target,
		Complete:    res.Complete(),
		Installs:    res.Installs,
		Clashes:     a.Clashes,
		Findings:    a.Findings,
		Plans:       a.Plans,
		Live:        &res.Live,
		Coverage:    &res.Coverage,
		failOn:      o.failOn,
	}
	r.fillEmpty()
	return r
}

// planOnlyReport is the report of 'gwup plan --from': no host, no installs.
func planOnlyReport(a detect.Result) *report {
	r := &report{
		Schema:      reportSchema,
		GwupVersion: gwupVersion(),
		Command:     "plan",
		Generated:   time.Now().UTC().Format(time.RFC3339),
		Complete:    true,
		Findings:    a.Findings,
		Plans:       a.Plans,
	}
	if len(a.Plans) > 0 {
		r.Target = a.Plans[0].To
	}
	r.fillEmpty()
	return r
}

// fillEmpty makes lists [] rather than null, so that consumers can iterate
// without checks.
func (r *report) fillEmpty() {
	if r.Installs == nil {
		r.Installs = []scan.Install{}
	}
	if r.Clashes == nil {
		r.Clashes = []detect.Clash{}
	}
	if r.Findings == nil {
		r.Findings = []detect.Finding{}
	}
	if r.Plans == nil {
		r.Plans = []detect.Plan{}
	}
	for i := range r.Findings {
		if r.Findings[i].Evidence == nil {
			r.Findings[i].Evidence = []detect.Location{}
		}
	}
}

// status is the exit status the report calls for: incomplete wins over
// findings (what was not read may hide more), findings over ok.
func (r *report) status() error {
	if !r.Complete {
		return &statusError{code: exitIncomplete, msg: "incomplete: some paths could not be read or parsed (see problems and coverage)"}
	}
	if detect.ExitFindings(r.Findings, r.failOn) {
		return &statusError{code: exitFindings}
	}
	return nil
}

func render(cCtx *cli.Context, o hostOptions, r *report) error {
	r.failOn = o.failOn
	w := cCtx.App.Writer
	if o.json {
		if err := writeJSON(w, r); err != nil {
			return err
		}
	} else if err := writeText(w, r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return r.status()
}

// progress prints a counter of visited directories on a terminal's stderr,
// at most ten times a second, and nothing at all elsewhere.
type progress struct {
	w    io.Writer
	on   bool
	mu   sync.Mutex
	last time.Time
	n    int
}

func newProgress(w io.Writer) *progress {
	p := &progress{w: w}
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			p.on = true
		}
	}
	return p
}

func (p *progress) dirs(n int) {
	if !p.on {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n = n
	if time.Since(p.last) < 100*time.Millisecond {
		return
	}
	p.last = time.Now()
	fmt.Fprintf(p.w, "\rgwup: scanning: %d directories", n)
}

func (p *progress) done() {
	if p.on && !p.last.IsZero() {
		fmt.Fprintf(p.w, "\rgwup: scanned %d directories\n", p.n)
	}
}

// writeJSON prints v as indented JSON, the form of every --json output.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}
