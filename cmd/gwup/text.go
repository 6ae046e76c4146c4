package main

import (
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/kaazing-tools/gwup/detect"
	"github.com/kaazing-tools/gwup/scan"
)

// writeText renders a report for a person: a table of installs, the
// details of each, then what needs attention in Leapp's order (blockers,
// errors, warnings, each with what to do), and what was not looked at.
func writeText(w io.Writer, r *report) error {
	tw := &errWriter{w: w}
	if r.Command != "plan" || len(r.Installs) > 0 || r.Coverage != nil {
		writeHeader(tw, r)
		writeInstalls(tw, r)
	}
	writePlans(tw, r)
	writeClashes(tw, r)
	writeFindings(tw, r)
	writeCoverage(tw, r)
	return tw.err
}

// errWriter keeps the first write error so that rendering code stays
// readable; writeText returns it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

func (e *errWriter) printf(format string, args ...any) { fmt.Fprintf(e, format, args...) }

func writeHeader(w *errWriter, r *report) {
	host := r.Host
	if host == "" {
		host = "this host"
	}
	w.printf("gwup %s: %s of %s", r.GwupVersion, r.Command, host)
	if r.Sysroot != "" {
		w.printf(" (sysroot %s; paths are inside it)", r.Sysroot)
	}
	w.printf("\n\n")
}

func writeInstalls(w *errWriter, r *report) {
	if len(r.Installs) == 0 {
		if r.Coverage != nil && !r.Coverage.Complete() {
			w.printf("No Gateway install found in what could be read; %d path(s) could not be read (see below).\n\n", len(r.Coverage.Unreadable))
		} else {
			w.printf("No Gateway install found.\n\n")
		}
		return
	}
	w.printf("INSTALLS (%d)\n", len(r.Installs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "HOME\tLAYOUT\tRELEASE\tEDITION\tSTATE\tLISTENERS")
	for _, in := range r.Installs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\n", orDash(homeOf(in)), in.Layout, orDash(in.Release), orDash(in.Edition), stateText(in), len(in.Listeners))
	}
	tw.Flush()
	if r.Command != "plan" {
		// plan is about the path; scan and ports show what each install is.
		for _, in := range r.Installs {
			w.printf("\n%s\n", homeOf(in))
			writeInstall(w, in)
		}
	}
	w.printf("\n")
}

func homeOf(in scan.Install) string {
	if in.Home == "" && in.Config != nil {
		return in.Config.Path
	}
	return in.Home
}

func stateText(in scan.Install) string {
	if in.State == scan.StateRunning {
		return fmt.Sprintf("running (pid %d)", in.PID)
	}
	return string(in.State)
}

func writeInstall(w *errWriter, in scan.Install) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, ev := range in.Evidence {
		label := ""
		if i == 0 {
			label = "evidence"
		}
		detail := rel(in.Home, ev.Path)
		if ev.Line > 0 {
			detail = fmt.Sprintf("%s:%d", detail, ev.Line)
		}
		if ev.Detail != "" {
			detail += "  " + quoteDetail(ev.Detail)
		}
		fmt.Fprintf(tw, "  %-9s\t%s\t%s\t%s\n", label, ev.Kind, orDash(ev.Version), detail)
	}
	if len(in.Evidence) == 0 {
		fmt.Fprintf(tw, "  %-9s\tnone\t\t\n", "evidence")
	}
	tw.Flush()
	if c := in.Config; c != nil {
		w.printf("  config     %s (%s), namespace %s", rel(in.Home, c.Path), c.Source, orDash(c.Namespace))
		if c.ReleaseLine != "" {
			w.printf(" (release line %s)", c.ReleaseLine)
		}
		w.printf("\n")
	} else if in.Home != "" {
		w.printf("  config     none found\n")
	}
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for i, l := range in.Listeners {
		label := ""
		if i == 0 {
			label = "listens"
		}
		fmt.Fprintf(tw, "  %-9s\t%s\t%s\t%s\t%s\t%s\t%s:%d\n", label, l.Proto, l.Addr(), l.Service, l.Type, l.URI, rel(in.Home, l.File), l.Line)
	}
	tw.Flush()
	if len(in.Listeners) == 0 && in.Config != nil {
		w.printf("  listens    nothing\n")
	}
	for i, p := range in.Problems {
		label := ""
		if i == 0 {
			label = "problems"
		}
		p.Path = rel(in.Home, p.Path)
		w.printf("  %-9s  %s: %s\n", label, p.Key, p.String())
	}
}

func writePlans(w *errWriter, r *report) {
	if len(r.Plans) == 0 {
		return
	}
	w.printf("UPGRADE PLAN to %s\n", r.Target)
	for _, p := range r.Plans {
		who := p.Home
		if who == "" {
			who = "release " + p.From
		}
		w.printf("  %s: %s -> %s: %s\n", who, orDash(p.From), p.To, p.Action)
		if len(p.Stops) > 0 {
			w.printf("      stops: %s (upgrade to each in turn)\n", strings.Join(p.Stops, ", "))
		}
		if p.ClientImpact != "" {
			w.printf("      clients: %s\n", p.ClientImpact)
		}
		if p.Instructions != "" {
			w.printf("      instructions: %s\n", p.Instructions)
		}
		if len(p.Blockers) > 0 {
			w.printf("      blocked by: %s\n", strings.Join(p.Blockers, ", "))
		}
	}
	w.printf("\n")
}

func writeClashes(w *errWriter, r *report) {
	if len(r.Clashes) == 0 {
		return
	}
	w.printf("PORT CLASHES (%d)\n", len(r.Clashes))
	for _, c := range r.Clashes {
		writeClash(w, c)
	}
	w.printf("\n")
}

func writeFindings(w *errWriter, r *report) {
	if len(r.Findings) == 0 {
		if r.Command != "plan" || len(r.Installs) > 0 {
			w.printf("No findings.\n")
		}
		return
	}
	w.printf("FINDINGS (%d; blockers first)\n", len(r.Findings))
	for _, f := range r.Findings {
		tag := strings.ToUpper(f.Severity)
		if f.Blocker {
			tag = "BLOCKER"
			if f.Mandatory {
				tag = "BLOCKER (mandatory)"
			}
		}
		if f.Waived {
			tag += ", waived"
		}
		w.printf("  [%s] %s", tag, f.Key)
		if f.Home != "" {
			w.printf("  %s", f.Home)
		}
		w.printf("\n      %s\n", f.Message)
		for _, loc := range f.Evidence {
			w.printf("      at %s\n", locationText(loc))
		}
		if f.Remediation != "" {
			w.printf("      fix: %s\n", f.Remediation)
		}
	}
}

func writeCoverage(w *errWriter, r *report) {
	c := r.Coverage
	if c == nil {
		return
	}
	roots := ""
	if len(c.Roots) > 0 && len(c.Roots) <= 8 {
		roots = " (" + strings.Join(c.Roots, ", ") + ")"
	}
	w.printf("\nCoverage: %d root(s)%s, %d directories visited, %d unreadable, %d skipped.\n", len(c.Roots), roots, c.DirsVisited, len(c.Unreadable), len(c.Skipped))
	for _, g := range c.Unreadable {
		w.printf("  could not read %s: %s\n", g.Path, g.Reason)
	}
	if r.Live != nil && !r.Live.Available {
		w.printf("Live state not available: %s.\n", r.Live.Reason)
	}
}

// rel shortens a path inside the home for display; other paths stay whole.
func rel(home, p string) string {
	if home == "" || p == "" {
		return p
	}
	if r, err := filepath.Rel(home, p); err == nil && filepath.IsLocal(r) {
		return r
	}
	return p
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func quoteDetail(s string) string {
	s = strings.TrimSpace(s)
	if r := []rune(s); len(r) > 100 {
		s = string(r[:97]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

func writeClash(w *errWriter, c detect.Clash) {
	kind := "clash"
	if c.Possible {
		kind = "possible clash"
	}
	w.printf("  %s %d: %s\n", c.Proto, c.Port, kind)
	for _, p := range c.Listeners {
		l := p.Listener
		w.printf("      %s  %s %q (%s) at %s:%d\n", orDash(p.Home), l.Addr(), l.Service, l.Type, l.File, l.Line)
	}
	if c.HeldBy != nil {
		owner := "a process gwup cannot name (try --owners)"
		if c.HeldBy.PID != 0 {
			owner = fmt.Sprintf("%s (pid %d)", orDash(c.HeldBy.Command), c.HeldBy.PID)
		}
		w.printf("      held now by %s on %s:%d\n", owner, c.HeldBy.Host, c.HeldBy.Port)
	}
	if c.Reason != "" {
		w.printf("      why: %s\n", c.Reason)
	}
	if m := c.Remediation; m != nil {
		w.printf("      fix: %s\n", m.Message)
	}
}

func locationText(l detect.Location) string {
	if l.Line > 0 {
		return fmt.Sprintf("%s:%d", l.File, l.Line)
	}
	return l.File
}
