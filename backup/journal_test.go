package backup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestJournalWrittenAheadOfTheFirstStep reads the journal from disk when
// Apply is about to take its first step: it must already list every step,
// with a way to tell from the disk whether each has happened.
func TestJournalWrittenAheadOfTheFirstStep(t *testing.T) {
	fx := newInstalledHome(t)
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var seen *unpackJournal
	calls := 0
	opts := UnpackOptions{Backup: fakeBackup(&calls), testOnlyFail: func(step string) error {
		if step != "step 0" {
			return nil
		}
		data, err := os.ReadFile(JournalPath(fx.home))
		if err != nil {
			t.Fatal(err)
		}
		seen = new(unpackJournal)
		if err := json.Unmarshal(data, seen); err != nil {
			t.Fatal(err)
		}
		return nil
	}}
	if _, err := ApplyUnpack(t.Context(), plan, opts); err != nil {
		t.Fatal(err)
	}
	if seen == nil {
		t.Fatal("no journal before step 0")
	}
	if seen.State != journalApplying || seen.Backup != "/backups/home-before.tar.gz" || seen.Release != "5.0.1" {
		t.Errorf("journal: state %q backup %q release %q", seen.State, seen.Backup, seen.Release)
	}
	if !strings.HasPrefix(filepath.Base(seen.Staging), ".gwup-staging-gateway-") || filepath.Dir(seen.Staging) != fx.parent {
		t.Errorf("staging %q is not next to the home", seen.Staging)
	}
	// README.txt is replaced: aside, then the release's into place; the new
	// directory lib/extra is made before its file goes in.
	var ops []string
	for _, s := range seen.Steps {
		if s.Check != checkToExists && s.Check != checkFromGone {
			t.Errorf("step %+v has no check", s)
		}
		from, _ := filepath.Rel(fx.parent, s.From)
		to, _ := filepath.Rel(fx.parent, s.To)
		from = strings.Replace(from, filepath.Base(seen.Staging), "STAGING", 1)
		to = strings.Replace(to, filepath.Base(seen.Staging), "STAGING", 1)
		ops = append(ops, s.Op+" "+from+" "+to)
	}
	want := []string{
		"rename gateway/README.txt STAGING/aside/README.txt",
		"rename STAGING/new/README.txt gateway/README.txt",
		"rename STAGING/new/conf/gateway-config.xml gateway/conf/gateway-config.xml.new",
		"mkdir STAGING/dirs/3 gateway/lib/extra",
		"rename STAGING/new/lib/extra/new.jar gateway/lib/extra/new.jar",
		"rename gateway/lib/gateway.server.jar STAGING/aside/lib/gateway.server.jar",
		"rename STAGING/new/lib/gateway.server.jar gateway/lib/gateway.server.jar",
		"rename gateway/.gwup-shipped.json STAGING/aside/.gwup-shipped.json",
		"rename STAGING/new/.gwup-shipped.json gateway/.gwup-shipped.json",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("steps:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}
}

func TestRecoverRefusesBadJournals(t *testing.T) {
	for name, body := range map[string]string{
		"not json":       "{",
		"unknown schema": `{"schema":"gwup/unpack-journal/v0"}`,
		"unknown state":  `{"schema":"` + JournalSchema + `","state":"half"}`,
	} {
		t.Run(name, func(t *testing.T) {
			fx := newInstalledHome(t)
			if err := os.WriteFile(JournalPath(fx.home), []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Recover(t.Context(), fx.home); err == nil {
				t.Error("accepted")
			}
			if _, err := os.Stat(JournalPath(fx.home)); err != nil {
				t.Errorf("the journal must stay for a human to look at: %v", err)
			}
		})
	}
}

func TestRecoverWithoutJournal(t *testing.T) {
	fx := newInstalledHome(t)
	rec, err := Recover(t.Context(), fx.home)
	if err != nil || rec.Action != "none" {
		t.Errorf("got %+v, %v", rec, err)
	}
}

// TestRollbackIsRepeatable: a rollback interrupted half way (here: run
// twice, the second time over a half-undone home) converges.
func TestRollbackIsRepeatable(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	staging := filepath.Join(dir, ".gwup-staging-home-0123456789ab")
	for _, d := range []string{home, filepath.Join(staging, "new"), filepath.Join(staging, "aside")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(home, "a"), "old a")
	write(filepath.Join(staging, "new", "a"), "new a")
	write(filepath.Join(staging, "new", "b"), "new b")
	j := &unpackJournal{Schema: JournalSchema, Home: home, Staging: staging, State: journalApplying, Steps: []journalStep{
		{Op: "rename", From: filepath.Join(home, "a"), To: filepath.Join(staging, "aside", "a"), Check: checkToExists},
		{Op: "rename", From: filepath.Join(staging, "new", "a"), To: filepath.Join(home, "a"), Check: checkFromGone},
		{Op: "mkdir", To: filepath.Join(home, "d"), Check: checkToExists, Mode: 0o755},
		{Op: "rename", From: filepath.Join(staging, "new", "b"), To: filepath.Join(home, "d", "b"), Check: checkFromGone},
	}}
	fsys, err := openParentFS(home)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	for _, s := range j.Steps {
		if err := s.run(fsys); err != nil {
			t.Fatal(err)
		}
	}
	// Undo only the last step by hand, as a rollback killed early would.
	if _, err := j.Steps[3].undo(fsys); err != nil {
		t.Fatal(err)
	}
	if err := j.rollback(); err != nil {
		t.Fatal(err)
	}
	if err := j.rollback(); err != nil {
		t.Fatal(err)
	}
	got := snapshot(t, home)
	if len(got) != 2 || !strings.HasPrefix(got["a"], "file") {
		t.Errorf("home after rollback: %v", got)
	}
	if data, _ := os.ReadFile(filepath.Join(home, "a")); string(data) != "old a" {
		t.Errorf("a: %q", data)
	}
}
