package scantest

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// GenerateServerTree writes a synthetic server filesystem of about entries
// files and directories under dir on the real disk, for benchmarks: usr/ and
// var/ with wide package trees, home/<user>/projects with source and
// node_modules trees, opt/ with deep node_modules-like application trees, all
// files empty but those gwup reads in a home. A few Gateway homes are hidden in it at various depths (one
// about 12 directories below dir); their absolute paths are returned, sorted.
// The same seed gives the same tree. dir must not exist or be empty.
func GenerateServerTree(dir string, entries int, seed int64) ([]string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("generate server tree %s: %w", dir, err)
	}
	g := &treeGen{
		rng:   rand.New(rand.NewPCG(uint64(seed), 0x6777757020747265)),
		files: make(chan fileBatch, 64),
	}
	var wg sync.WaitGroup
	for range 2 * runtime.GOMAXPROCS(0) {
		wg.Go(g.createFiles)
	}

	homes := g.placeHomes(dir)
	budget := max(entries-g.count, 0)
	parts := []struct {
		name  string
		share float64
		style treeStyle
	}{
		{"usr", 0.25, styleSystem},
		{"var", 0.10, styleSystem},
		{"home", 0.30, styleProject},
		{"opt", 0.35, styleModules},
	}
	for _, p := range parts {
		g.fill(filepath.Join(dir, p.name), int(float64(budget)*p.share), 0, p.style)
	}
	close(g.files)
	wg.Wait()
	if err := errors.Join(g.errs...); err != nil {
		return nil, fmt.Errorf("generate server tree %s: %w", dir, err)
	}
	for _, home := range homes {
		if err := fillHome(home); err != nil {
			return nil, fmt.Errorf("generate server tree %s: %w", dir, err)
		}
	}
	return homes, nil
}

// fillHome gives a generated home what gwup reads, so that a scan of the
// tree inspects real homes: version-bearing jars with a manifest and a
// configuration that binds a port.
func fillHome(home string) error {
	version := "5.6.2"
	if i := strings.LastIndex(home, "-"); i >= 0 && strings.Count(home[i+1:], ".") >= 1 {
		version = home[i+1:]
	}
	jars, _ := filepath.Glob(filepath.Join(home, "lib", "*gateway.server.jar"))
	for _, jar := range jars {
		if err := os.WriteFile(jar, Jar("Implementation-Title: Kaazing Gateway", "Implementation-Version: "+version), 0o644); err != nil {
			return err
		}
	}
	config := `<gateway-config xmlns="http://xmlns.kaazing.org/2016/06/gateway">
  <service><name>echo</name><accept>ws://localhost:8000/echo</accept><type>echo</type></service>
</gateway-config>
`
	return os.WriteFile(filepath.Join(home, "conf", "gateway-config.xml"), []byte(config), 0o644)
}

type treeStyle int

const (
	styleSystem  treeStyle = iota // /usr, /var: wide, shallow, many files per dir
	styleProject                  // home/<user>/projects/...: medium depth
	styleModules                  // node_modules: narrow and deep
)

type fileBatch struct {
	dir   string
	names []string
}

type treeGen struct {
	rng   *rand.Rand
	count int // entries planned so far
	files chan fileBatch

	mu   sync.Mutex
	errs []error
}

var (
	words = strings.Fields(`alpha beta core util common config data http json xml net io lang text
		time log test spec api client server model view route auth cache store queue event stream
		parse build tools index main shared types proto crypto codec buffer pool`)
	exts = []string{".js", ".json", ".md", ".ts", ".map", ".d.ts", ".so", ".conf", ".txt", ".py", ".h", ".gz"}
)

func (g *treeGen) word() string { return words[g.rng.IntN(len(words))] }

// dirName names a subdirectory in the style of the tree it is in.
func (g *treeGen) dirName(style treeStyle, depth, i int) string {
	switch {
	case style == styleModules && depth%2 == 1:
		return "node_modules"
	case style == styleModules:
		return fmt.Sprintf("%s-%s%d", g.word(), g.word(), i)
	case style == styleProject && depth == 0:
		return fmt.Sprintf("user%02d", i)
	case style == styleProject && depth == 1:
		return "projects"
	default:
		return fmt.Sprintf("%s%d", g.word(), i)
	}
}

// fill makes dir with some files and spreads the rest of budget over
// subdirectories.
func (g *treeGen) fill(dir string, budget, depth int, style treeStyle) {
	if err := os.Mkdir(dir, 0o755); err != nil && !os.IsExist(err) {
		g.fail(err)
		return
	}
	g.count++
	budget--
	if budget <= 0 {
		return
	}
	maxDepth, fanout, perDir := 8, 8, 24
	switch style {
	case styleProject:
		maxDepth, fanout, perDir = 10, 5, 12
	case styleModules:
		maxDepth, fanout, perDir = 16, 4, 8
	}
	nFiles := min(budget, 1+g.rng.IntN(perDir))
	if depth >= maxDepth || budget < 4 {
		nFiles = budget
	}
	names := make([]string, nFiles)
	for i := range names {
		names[i] = fmt.Sprintf("%s_%d%s", g.word(), i, exts[g.rng.IntN(len(exts))])
	}
	g.files <- fileBatch{dir: dir, names: names}
	g.count += nFiles
	budget -= nFiles
	if budget <= 0 {
		return
	}
	nSub := min(budget, 1+g.rng.IntN(fanout))
	if style == styleModules && depth%2 == 1 || style == styleProject && depth == 1 {
		nSub = 1 // node_modules/, projects/: one directory holding many
	}
	weights := make([]float64, nSub)
	var total float64
	for i := range weights {
		weights[i] = 0.2 + g.rng.Float64()
		total += weights[i]
	}
	left := budget
	for i := range nSub {
		share := int(float64(budget) * weights[i] / total)
		if i == nSub-1 {
			share = left
		}
		left -= share
		if share > 0 {
			g.fill(filepath.Join(dir, g.dirName(style, depth, i)), share, depth+1, style)
		}
	}
}

// placeHomes writes the Gateway homes and returns their paths, sorted.
func (g *treeGen) placeHomes(dir string) []string {
	rels := []string{
		"opt/kaazing-gateway-community-5.6.2",
		"srv/gateways/kaazing-websocket-gateway-jms-4.0.9",
		"usr/share/kaazing/jms/4.0",
		"var/lib/docker/overlay2/3f9c2a/diff/kaazing-gateway",
		// depth 12
		"home/user07/projects/chat/deploy/stage/eu-west/2019/old/backup/copy/kaazing-enterprise-gateway-5.8.22",
	}
	var homes []string
	for _, rel := range rels {
		home := filepath.Join(dir, filepath.FromSlash(rel))
		for _, sub := range []string{"bin", "conf", "lib", "web/base", "log", "temp"} {
			if err := os.MkdirAll(filepath.Join(home, sub), 0o755); err != nil {
				g.fail(err)
			}
		}
		g.count += strings.Count(rel, "/") + 8
		lib := []string{"gateway.server.jar", "gateway.transport.http.jar", "gateway.transport.wsn.jar",
			"log4j-1.2.17.jar", "slf4j-api-1.7.21.jar", "hazelcast-3.7.4.jar", "mina.netty.jar"}
		if strings.Contains(rel, "jms-4.0") || strings.Contains(rel, "jms/4.0") {
			lib[0] = "com.kaazing.gateway.server.jar"
		}
		if strings.Contains(rel, "enterprise") {
			lib = append(lib, "enterprise.gateway.server.jar")
		}
		batches := []fileBatch{
			{filepath.Join(home, "bin"), []string{"gateway.start", "gateway.start.bat"}},
			{filepath.Join(home, "conf"), []string{"gateway-config.xml", "jaas-config.xml", "log4j-config.xml", "keystore.db", "keystore.pw"}},
			{filepath.Join(home, "lib"), lib},
			{home, []string{"README.txt", "LICENSE.txt", "NOTICE.txt"}},
		}
		for _, b := range batches {
			g.files <- b
			g.count += len(b.names)
		}
		homes = append(homes, home)
	}
	slices.Sort(homes)
	return homes
}

// createFiles is one file-creating worker.
func (g *treeGen) createFiles() {
	for b := range g.files {
		for _, n := range b.names {
			f, err := os.OpenFile(filepath.Join(b.dir, n), os.O_CREATE|os.O_WRONLY, 0o644)
			if err != nil {
				g.fail(err)
				continue
			}
			f.Close()
		}
	}
}

func (g *treeGen) fail(err error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.errs) < 10 {
		g.errs = append(g.errs, err)
	}
}

// CachedServerTree returns a tree made by [GenerateServerTree] with the given
// number of entries under os.TempDir() (gwup-bench-tree-<entries>) and its
// homes, generating it on the first call only: benchmarks of several
// packages share it, and a million entries take seconds to write.
func CachedServerTree(entries int) (root string, homes []string, err error) {
	root = filepath.Join(os.TempDir(), fmt.Sprintf("gwup-bench-tree-%d", entries))
	done := root + ".homes"
	if data, err := os.ReadFile(done); err == nil {
		return root, strings.Fields(string(data)), nil
	}
	if err := os.RemoveAll(root); err != nil {
		return "", nil, err
	}
	if homes, err = GenerateServerTree(root, entries, 1); err != nil {
		return "", nil, err
	}
	// Written last: a tree whose generation was interrupted is made anew.
	if err := os.WriteFile(done, []byte(strings.Join(homes, "\n")+"\n"), 0o644); err != nil {
		return "", nil, err
	}
	return root, homes, nil
}
