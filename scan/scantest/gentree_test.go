package scantest_test

import (
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
	"github.com/spf13/afero"
)

// listTree returns every path under root, relative, sorted.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var all []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p != root {
			rel, _ := filepath.Rel(root, p)
			all = append(all, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(all)
	return all
}

func TestGenerateServerTree(t *testing.T) {
	const entries = 8_000
	a, b := t.TempDir(), t.TempDir()
	homesA, err := scantest.GenerateServerTree(a, entries, 7)
	if err != nil {
		t.Fatal(err)
	}
	homesB, err := scantest.GenerateServerTree(b, entries, 7)
	if err != nil {
		t.Fatal(err)
	}

	treeA, treeB := listTree(t, a), listTree(t, b)
	if n := len(treeA); n < entries*95/100 || n > entries*105/100 {
		t.Errorf("generated %d entries, want about %d", n, entries)
	}
	if !slices.Equal(treeA, treeB) || len(homesA) != len(homesB) {
		t.Errorf("the same seed gave different trees (%d and %d entries)", len(treeA), len(treeB))
	}
	for _, top := range []string{"usr", "var", "home", "opt"} {
		if !slices.Contains(treeA, top) {
			t.Errorf("no %s/ in the tree", top)
		}
	}

	deepest := 0
	for _, h := range homesA {
		rel, _ := filepath.Rel(a, h)
		deepest = max(deepest, strings.Count(rel, string(filepath.Separator))+1)
	}
	if len(homesA) < 3 || deepest < 12 {
		t.Errorf("homes %q: want several, one at depth 12 or more (deepest %d)", homesA, deepest)
	}

	found, _, err := scan.FindHomes(t.Context(), afero.NewOsFs(), scan.WalkOptions{Roots: []string{a}})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, h := range found {
		got = append(got, h.Path)
	}
	if !slices.Equal(got, homesA) || !slices.IsSorted(homesA) {
		t.Errorf("FindHomes = %q, want the generated homes %q", got, homesA)
	}
}
