package backup

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestRecoverRefusesATamperedJournal: Recover deletes the staging
// directory and renames the journal's paths; a journal naming anything
// else (another directory to delete, a file outside the home to move)
// is refused with the journal and every file left as they are.
func TestRecoverRefusesATamperedJournal(t *testing.T) {
	fx := newInstalledHome(t)
	victimDir := filepath.Join(t.TempDir(), "precious")
	if err := os.Mkdir(victimDir, 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(victimDir, "data")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(fx.parent, ".gwup-staging-gateway-0123456789ab")
	sibling := filepath.Join(fx.parent, "other-home")
	for name, j := range map[string]unpackJournal{
		"staging elsewhere":       {State: journalPreparing, Staging: victimDir},
		"staging a sibling":       {State: journalCommitted, Staging: sibling},
		"staging the parent":      {State: journalCommitted, Staging: fx.parent},
		"staging of another home": {State: journalPreparing, Staging: filepath.Join(fx.parent, ".gwup-staging-other-0123456789ab")},
		"step from outside":       {State: journalApplying, Staging: staging, Steps: []journalStep{{Op: "rename", From: filepath.Join(staging, "new", "a"), To: victim, Check: checkToExists}}},
		"step into outside":       {State: journalApplying, Staging: staging, Steps: []journalStep{{Op: "rename", From: victim, To: filepath.Join(staging, "aside", "a"), Check: checkToExists}}},
		"step with dot-dot":       {State: journalApplying, Staging: staging, Steps: []journalStep{{Op: "rename", From: fx.home + "/../../precious/data", To: filepath.Join(fx.home, "a"), Check: checkToExists}}},
		"step moving the home":    {State: journalApplying, Staging: staging, Steps: []journalStep{{Op: "rename", From: fx.home, To: filepath.Join(staging, "aside", "home"), Check: checkToExists}}},
		"step of an unknown op":   {State: journalApplying, Staging: staging, Steps: []journalStep{{Op: "unlink", To: filepath.Join(fx.home, "README.txt"), Check: checkToExists}}},
		"journal of another home": {State: journalPreparing, Staging: staging, Home: victimDir},
	} {
		t.Run(name, func(t *testing.T) {
			j.Schema = JournalSchema
			if j.Home == "" {
				j.Home = fx.home
			}
			data, err := json.Marshal(j)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(JournalPath(fx.home), data, 0o600); err != nil {
				t.Fatal(err)
			}
			defer os.Remove(JournalPath(fx.home))
			_, err = Recover(t.Context(), fx.home)
			if err == nil || !strings.Contains(err.Error(), "journal") {
				t.Errorf("got %v, want a refusal naming the journal", err)
			}
			if got, _ := os.ReadFile(victim); string(got) != "keep me" {
				t.Errorf("the file outside the home: %q", got)
			}
			if _, err := os.Stat(JournalPath(fx.home)); err != nil {
				t.Errorf("journal gone: %v", err)
			}
			if _, err := os.Stat(fx.parent); err != nil {
				t.Errorf("parent gone: %v", err)
			}
		})
	}
}

// TestRecoverDoesNotFollowAStagingSymlink: the staging directory the
// journal names, replaced by a symlink, is removed as a link: what it
// points to is left alone.
func TestRecoverDoesNotFollowAStagingSymlink(t *testing.T) {
	fx := newInstalledHome(t)
	victimDir := filepath.Join(t.TempDir(), "precious")
	if err := os.MkdirAll(filepath.Join(victimDir, "sub", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	victim := filepath.Join(victimDir, "sub", "deeper", "data")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(fx.parent, ".gwup-staging-gateway-0123456789ab")
	if err := os.Symlink(victimDir, staging); err != nil {
		t.Fatal(err)
	}
	data, _ := json.Marshal(unpackJournal{Schema: JournalSchema, Home: fx.home, Staging: staging, State: journalPreparing})
	if err := os.WriteFile(JournalPath(fx.home), data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Recover(t.Context(), fx.home); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("the file the symlink pointed to: %q", got)
	}
	if _, err := os.Lstat(staging); err == nil {
		t.Error("the symlink is still there")
	}
}

// TestJournalSaveDoesNotFollowASymlink: a symlink planted at the name the
// journal is written to first (JOURNAL.tmp) is not written through.
func TestJournalSaveDoesNotFollowASymlink(t *testing.T) {
	fx := newInstalledHome(t)
	victim := filepath.Join(t.TempDir(), "victim")
	if err := os.WriteFile(victim, []byte("keep me"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, JournalPath(fx.home)+".tmp"); err != nil {
		t.Fatal(err)
	}
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	calls := 0
	if _, err := ApplyUnpack(t.Context(), plan, UnpackOptions{Backup: fakeBackup(&calls)}); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(victim); string(got) != "keep me" {
		t.Errorf("written through the symlink: %q", got)
	}
}

// FuzzJournalValidate: whatever a journal file holds, validate answers
// without panicking, and a journal it accepts names no path Recover would
// delete or move outside the home and its staging directory.
func FuzzJournalValidate(f *testing.F) {
	home := "/opt/gateway"
	staging := "/opt/.gwup-staging-gateway-0123456789ab"
	seed, _ := json.Marshal(unpackJournal{Schema: JournalSchema, Home: home, Staging: staging, State: journalApplying, Steps: []journalStep{
		{Op: "rename", From: home + "/README.txt", To: staging + "/aside/README.txt", Check: checkToExists},
		{Op: "mkdir", From: staging + "/dirs/1", To: home + "/lib/extra", Check: checkFromGone},
		{Op: "rename", From: home + "/conf/a.xml", To: home + "/conf/a.xml.old", Check: checkMoved},
	}})
	f.Add(seed)
	f.Add([]byte(`{"home":"/opt/gateway","staging":"/opt/.gwup-staging-gateway-0123456789ab/../..","steps":[{"op":"rename","from":"/etc/passwd","to":"/opt/gateway/x","check":"to-exists"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var j unpackJournal
		if json.Unmarshal(data, &j) != nil || j.Home != home {
			return
		}
		if j.validate() != nil {
			return
		}
		inside := func(p string) bool {
			return p == "" || strings.HasPrefix(p, home+"/") || strings.HasPrefix(p, staging[:len(staging)-12])
		}
		if j.Staging != "" && !strings.HasPrefix(j.Staging, "/opt/.gwup-staging-gateway-") {
			t.Errorf("accepted staging %q", j.Staging)
		}
		for _, s := range j.Steps {
			if !inside(s.From) || !inside(s.To) || slices.Contains(strings.Split(s.From+"/"+s.To, "/"), "..") {
				t.Errorf("accepted step %+v", s)
			}
		}
	})
}

// TestRollbackOfANewDirectoryIsRepeatable: a rollback killed between
// removing a directory gwup created and putting its staging twin back is
// finished by the next one, which then reads the step as not done.
func TestRollbackOfANewDirectoryIsRepeatable(t *testing.T) {
	dir := t.TempDir()
	home := filepath.Join(dir, "home")
	staging := filepath.Join(dir, ".gwup-staging-home-0123456789ab")
	from, to := filepath.Join(staging, "dirs", "0"), filepath.Join(home, "d")
	for _, d := range []string{home, from} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	j := &unpackJournal{Schema: JournalSchema, Home: home, Staging: staging, State: journalApplying, Steps: []journalStep{
		{Op: "mkdir", From: from, To: to, Check: checkFromGone, Mode: 0o755},
	}}
	fsys, err := openParentFS(home)
	if err != nil {
		t.Fatal(err)
	}
	defer fsys.Close()
	if err := j.Steps[0].run(fsys); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(to); err != nil { // the rollback killed half way
		t.Fatal(err)
	}
	if err := j.rollback(); err != nil {
		t.Fatal(err)
	}
	if done, err := j.Steps[0].done(fsys); err != nil || done {
		t.Errorf("after the rollback the step reads done=%v, %v", done, err)
	}
	if err := os.Mkdir(to, 0o755); err != nil { // the user's, now
		t.Fatal(err)
	}
	if err := j.rollback(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(to); err != nil {
		t.Errorf("a second rollback removed the user's directory: %v", err)
	}
}
