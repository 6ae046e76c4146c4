package detect_test

import (
	"fmt"
	"time"

	"github.com/kaazing-tools/gwup/detect"
	"github.com/kaazing-tools/gwup/scan"
)

// A 4.0.9 install serves on 8000 while 5.6.2 is unpacked next to it with the
// same port: the plan is supported, the clash says which file to change.
func ExampleAnalyze() {
	cfg := func(home string, line int) scan.Listener {
		return scan.Listener{Proto: "tcp", Host: "0.0.0.0", Port: 8000, Service: "echo", Type: "echo",
			Element: "accept", URI: "ws://localhost:8000/echo", Scheme: "ws", File: home + "/conf/gateway-config.xml", Line: line}
	}
	res := detect.Analyze(detect.Input{
		Installs: []scan.Install{
			{Home: "/opt/gw-4.0.9", Layout: scan.LayoutInstaller, Release: "4.0.9.383", State: scan.StateRunning,
				Listeners: []scan.Listener{cfg("/opt/gw-4.0.9", 41)}},
			{Home: "/opt/gw-5.6.2", Layout: scan.LayoutArchive, Release: "5.6.2", State: scan.StateStopped,
				Listeners: []scan.Listener{cfg("/opt/gw-5.6.2", 27)}},
		},
		Live:   scan.Live{Available: true},
		Target: "5.6.2",
		Now:    time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC),
	})
	for _, p := range res.Plans {
		fmt.Println(p.Home, p.From, "->", p.To, p.Action)
	}
	for _, f := range res.Findings {
		fmt.Println(f.Severity, f.Key+":", f.Remediation)
	}
	fmt.Println("fail:", detect.ExitFindings(res.Findings, "error"))
	// Output:
	// /opt/gw-4.0.9 4.0.9.383 -> 5.6.2 upgrade
	// /opt/gw-5.6.2 5.6.2 -> 5.6.2 none
	// error port-clash: change tcp/8000 to port 8002 in /opt/gw-5.6.2/conf/gateway-config.xml:27
	// fail: true
}
