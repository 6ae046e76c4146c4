package main

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/kaazing-tools/gwup/scan/scantest"
)

func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){
		"gwup": func() { os.Exit(run(context.Background(), os.Args, os.Stdout, os.Stderr)) },
	})
}

// TestScript runs the CLI scripts in testdata/script. Each script is a txtar
// file; $DEMO is the shipped demo server tree.
func TestScript(t *testing.T) {
	demo, err := filepath.Abs(filepath.Join("..", "..", "testdata", "demo"))
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("..", "..", "testdata", "script"),
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		UpdateScripts:       os.Getenv("GWUP_UPDATE") != "",
		Setup: func(e *testscript.Env) error {
			e.Setenv("DEMO", demo)
			return nil
		},
		Condition: func(cond string) (bool, error) {
			switch cond {
			case "root":
				return os.Geteuid() == 0, nil
			}
			return false, errors.New("unknown condition " + cond)
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"mkrelease": mkrelease,
			// exitcode N prog args... runs prog and requires exit status N;
			// the built-in "! exec" only says "not zero", and exit statuses
			// are API.
			"exitcode": func(ts *testscript.TestScript, neg bool, args []string) {
				if neg || len(args) < 2 {
					ts.Fatalf("usage: exitcode N prog [args...]")
				}
				want, err := strconv.Atoi(args[0])
				if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				err = ts.Exec(args[1], args[2:]...)
				got := 0
				if ee, ok := errors.AsType[*exec.ExitError](err); ok {
					got = ee.ExitCode()
				} else if err != nil {
					ts.Fatalf("exitcode: %v", err)
				}
				if got != want {
					ts.Fatalf("%s exited %d, want %d", args[1], got, want)
				}
			},
		},
	})
}

// mkrelease VERSION OUT writes a Community release archive of VERSION, the
// way the 5.x distribution is laid out (kaazing-facts §1.2): one top folder,
// CRLF conf files, a version-bearing lib/gateway.server.jar. OUT's extension
// picks tar.gz or zip. Archives are binary: they are made here, not kept in
// txtar files.
func mkrelease(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 2 {
		ts.Fatalf("usage: mkrelease VERSION OUT.tar.gz|OUT.zip")
	}
	version, out := args[0], ts.MkAbs(args[1])
	top := "kaazing-community-gateway-" + version + "/"
	crlf := func(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }
	files := []struct {
		name string
		mode int64
		body string
	}{
		{"README.txt", 0o644, crlf("Kaazing WebSocket Gateway (Community Edition)\n\nDocumentation:   https://kaazing.com/doc/5.0/\n")},
		{"bin/gateway.start", 0o755, "#!/bin/sh\n# KAAZING Gateway " + version + " start script\nPRGDIR=`dirname \"$0\"`\nGW_HOME=`cd \"$PRGDIR/..\" ; pwd`\nexec java $GATEWAY_OPTS -DGATEWAY_HOME=\"$GW_HOME\" -cp \"$GW_HOME/lib/*\" org.kaazing.gateway.server.Main \"$@\"\n"},
		{"conf/gateway-config.xml", 0o644, crlf("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<gateway-config xmlns=\"http://xmlns.kaazing.org/2016/06/gateway\">\n  <properties>\n    <property><name>gateway.hostname</name><value>localhost</value></property>\n    <property><name>gateway.port</name><value>8000</value></property>\n  </properties>\n  <service>\n    <name>welcome-directory</name>\n    <accept>http://${gateway.hostname}:${gateway.port}/</accept>\n    <type>directory</type>\n    <properties><directory>/welcome</directory></properties>\n  </service>\n  <service>\n    <name>echo</name>\n    <accept>ws://${gateway.hostname}:${gateway.port}/echo</accept>\n    <type>echo</type>\n  </service>\n</gateway-config>\n")},
		{"conf/jaas-config.xml", 0o644, crlf("<jaas-config xmlns=\"http://xmlns.kaazing.com/jaas-config/centurion\"/>\n")},
		{"conf/log4j-config.xml", 0o644, crlf("<log4j:configuration xmlns:log4j=\"http://jakarta.apache.org/log4j/\"/>\n")},
		{"conf/keystore.db", 0o644, "JCEKS keystore of " + version + "\n"},
		{"conf/keystore.pw", 0o644, "ab987c"},
		{"conf/truststore.db", 0o644, "truststore of " + version + "\n"},
		{"error-pages/404.html", 0o644, crlf("<html><body>Not found</body></html>\n")},
		{"web/welcome/index.html", 0o644, crlf("<html><body>Welcome to KAAZING Gateway " + version + "</body></html>\n")},
		{"lib/gateway.server.jar", 0o644, string(scantest.Jar("Implementation-Title: Kaazing Gateway", "Implementation-Version: "+version, "Kaazing-Product: Community.Gateway"))},
		{"lib/log4j-1.2.17.jar", 0o644, string(scantest.Jar("Implementation-Title: log4j", "Implementation-Version: 1.2.17"))},
		{"lib/hazelcast-3.7.4.jar", 0o644, string(scantest.Jar("Implementation-Title: Hazelcast", "Implementation-Version: 3.7.4"))},
	}
	dirs := []string{"", "bin/", "conf/", "error-pages/", "web/", "web/welcome/", "lib/", "log/", "temp/"}
	f, err := os.Create(out)
	ts.Check(err)
	mtime := time.Date(2017, 1, 31, 12, 0, 0, 0, time.UTC)
	if strings.HasSuffix(out, ".zip") {
		zw := zip.NewWriter(f)
		for _, d := range dirs {
			_, err := zw.CreateHeader(&zip.FileHeader{Name: top + d, Modified: mtime})
			ts.Check(err)
		}
		for _, file := range files {
			h := &zip.FileHeader{Name: top + file.name, Method: zip.Deflate, Modified: mtime}
			h.SetMode(os.FileMode(file.mode))
			w, err := zw.CreateHeader(h)
			ts.Check(err)
			_, err = io.WriteString(w, file.body)
			ts.Check(err)
		}
		ts.Check(zw.Close())
	} else {
		gz := gzip.NewWriter(f)
		tw := tar.NewWriter(gz)
		for _, d := range dirs {
			ts.Check(tw.WriteHeader(&tar.Header{Name: top + d, Typeflag: tar.TypeDir, Mode: 0o755, ModTime: mtime}))
		}
		for _, file := range files {
			ts.Check(tw.WriteHeader(&tar.Header{Name: top + file.name, Typeflag: tar.TypeReg, Mode: file.mode, Size: int64(len(file.body)), ModTime: mtime}))
			_, err := io.WriteString(tw, file.body)
			ts.Check(err)
		}
		ts.Check(tw.Close())
		ts.Check(gz.Close())
	}
	ts.Check(f.Close())
}
