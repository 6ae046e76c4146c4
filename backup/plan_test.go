package backup

import (
	"errors"
	"maps"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fates maps path -> "fate" or "fate side" for the files of a plan
// (directories left out unless installed).
func fates(plan *UnpackPlan) map[string]string {
	out := map[string]string{}
	for _, f := range plan.Files {
		if f.Kind == kindDir && f.Fate == FateSame {
			continue
		}
		v := string(f.Fate)
		if f.Side != "" {
			v += " " + f.Side
		}
		out[f.Path] = v
	}
	return out
}

func TestPlanFates(t *testing.T) {
	// The user's changes (userEdits): gateway-config.xml edited (the release
	// changed it too), log4j-config.xml edited (the release did not), a
	// lib/ext jar and conf/echo-config.xml added, a log written.
	exact := map[string]string{
		"README.txt":               "replace",
		"bin/gateway.start":        "same",
		"conf/gateway-config.xml":  "keep+new conf/gateway-config.xml.new",
		"conf/log4j-config.xml":    "keep",
		"conf/keystore.pw":         "same",
		"conf/echo-config.xml":     "user",
		"lib/gateway.server.jar":   "replace",
		"lib/log4j-1.2.17.jar":     "same",
		"lib/server.jar":           "same",
		"lib/old.jar":              "obsolete",
		"lib/extra":                "install",
		"lib/extra/new.jar":        "install",
		"lib/ext/login-module.jar": "user",
		"web/base/index.html":      "same",
	}
	withNew := clone(exact)
	withNew["conf/gateway-config.xml"] = "new+old conf/gateway-config.xml.old"
	heuristic := clone(exact)
	heuristic["conf/log4j-config.xml"] = "keep+new conf/log4j-config.xml.new" // cannot know the release left it alone
	heuristic["lib/old.jar"] = "user"                                         // cannot tell obsolete from the user's
	heuristic["lib/log4j-1.2.17.jar"] = "keep+new lib/log4j-1.2.17.jar.new"   // the user's symlink, outside the user-modifiable set
	sideTaken := clone(exact)
	sideTaken["conf/gateway-config.xml"] = "keep+new conf/gateway-config.xml.new.2"
	sideTaken["conf/gateway-config.xml.new"] = "user"

	tests := []struct {
		name    string
		opts    UnpackOptions
		prepare func(t *testing.T, fx fixture) UnpackOptions
		ref     Reference
		want    map[string]string
	}{
		{name: "shipped record", ref: RefShipped, want: exact},
		{name: "conffiles new", opts: UnpackOptions{Conffiles: ConffilesNew}, ref: RefShipped, want: withNew},
		{name: "pristine archive", ref: RefPristine, want: exact, prepare: func(t *testing.T, fx fixture) UnpackOptions {
			removeShipped(t, fx)
			return UnpackOptions{Pristine: fx.v1}
		}},
		{name: "heuristic", ref: RefHeuristic, want: heuristic, prepare: func(t *testing.T, fx fixture) UnpackOptions {
			removeShipped(t, fx)
			jar := filepath.Join(fx.home, "lib/log4j-1.2.17.jar")
			if err := os.Remove(jar); err != nil {
				t.Fatal(err)
			}
			if err := os.Symlink("/opt/shared/log4j.jar", jar); err != nil {
				t.Fatal(err)
			}
			return UnpackOptions{}
		}},
		{name: "side name taken", ref: RefShipped, want: sideTaken, prepare: func(t *testing.T, fx fixture) UnpackOptions {
			if err := os.WriteFile(filepath.Join(fx.home, "conf/gateway-config.xml.new"), []byte("an older .new"), 0o644); err != nil {
				t.Fatal(err)
			}
			return UnpackOptions{}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fx := newInstalledHome(t)
			opts := tt.opts
			if tt.prepare != nil {
				opts = tt.prepare(t, fx)
			}
			plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, opts)
			if err != nil {
				t.Fatal(err)
			}
			if plan.Reference != tt.ref || plan.Method == "" {
				t.Errorf("reference %q (%s), want %q", plan.Reference, plan.Method, tt.ref)
			}
			got := fates(plan)
			for p, w := range tt.want {
				if got[p] != w {
					t.Errorf("%s: got %q, want %q", p, got[p], w)
				}
			}
			for p, g := range got {
				if _, ok := tt.want[p]; !ok {
					t.Errorf("%s: unexpected %q", p, g)
				}
			}
			if plan.Release != (ArchiveRelease{Version: "5.0.1", Edition: "Community", Product: "Community.Gateway", Jar: "lib/gateway.server.jar"}) {
				t.Errorf("release: %+v", plan.Release)
			}
			if plan.TopFolder != "kaazing-gateway-community-5.0.1" || plan.Format != ".tar.gz" {
				t.Errorf("top folder %q, format %q", plan.TopFolder, plan.Format)
			}
		})
	}
}

func removeShipped(t *testing.T, fx fixture) {
	t.Helper()
	if err := os.Remove(filepath.Join(fx.home, ShippedName)); err != nil {
		t.Fatal(err)
	}
}

func clone(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// TestPlanUserSymlinkedDirectory: log -> elsewhere is the user's choice and
// is kept; a release file beneath such a link would be written through it
// and is a conflict.
func TestPlanUserSymlinkedDirectory(t *testing.T) {
	fx := newInstalledHome(t)
	elsewhere := t.TempDir()
	for _, dir := range []string{"log", "web/base"} {
		if err := os.RemoveAll(filepath.Join(fx.home, dir)); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(elsewhere, filepath.Join(fx.home, dir)); err != nil {
			t.Fatal(err)
		}
	}
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := fates(plan)
	for p, want := range map[string]string{"web/base/index.html": "conflict", "log": ""} {
		if got[p] != want {
			t.Errorf("%s: got %q, want %q", p, got[p], want)
		}
	}
	for _, f := range plan.Files {
		if f.Path == "log" && (f.Fate != FateSame || !strings.Contains(f.Reason, "symlink")) {
			t.Errorf("log: %+v", f)
		}
	}
}

func TestPlanRefusesBadInput(t *testing.T) {
	fx := newInstalledHome(t)
	if _, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{Conffiles: "ask"}); err == nil {
		t.Error("unknown conffiles policy accepted")
	}
	if _, err := PlanUnpack(t.Context(), fx.v2, filepath.Join(fx.home, "README.txt"), UnpackOptions{}); err == nil {
		t.Error("a file accepted as home")
	}
	inside := writeArchive(t, fx.home, "v2.tar.gz", writeTar(t, fakeRelease("5.0.1"), true))
	if _, err := PlanUnpack(t.Context(), inside, fx.home, UnpackOptions{}); err == nil || !strings.Contains(err.Error(), "inside the home") {
		t.Errorf("archive inside the home: got %v", err)
	}
	if err := os.WriteFile(filepath.Join(fx.home, ShippedName), []byte(`{"schema":"other"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{}); err == nil {
		t.Error("a shipped record with an unknown schema accepted")
	}
}

func TestUserModifiable(t *testing.T) {
	for p, want := range map[string]bool{
		"conf/gateway-config.xml": true, "license/license.txt": true, "lib/ext/x.jar": true,
		"web/base/index.html": true, "error-pages/404.html": true, "bin/gateway.start": true,
		"bin/tools/encrypt-credentials.jar": false, "lib/gateway.server.jar": false,
		"web/extras/demo/x.html": false, "README.txt": false, "confx": false,
	} {
		if got := UserModifiable(p); got != want {
			t.Errorf("UserModifiable(%q) = %v, want %v", p, got, want)
		}
	}
}

func TestPlanEntryBudgetAndSummary(t *testing.T) {
	fx := newInstalledHome(t)
	if _, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{MaxEntries: 5}); !errors.Is(err, ErrTooLarge) {
		t.Errorf("entry budget: got %v, want ErrTooLarge", err)
	}
	plan, err := PlanUnpack(t.Context(), fx.v2, fx.home, UnpackOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := map[Fate]int{FateReplace: 2, FateSame: 5, FateKeepNew: 1, FateKeep: 1, FateUser: 2, FateObsolete: 1, FateInstall: 1}
	if got := plan.Summary(); !maps.Equal(got, want) {
		t.Errorf("summary: got %v, want %v", got, want)
	}
}
