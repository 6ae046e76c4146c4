package scan_test

import (
	"reflect"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/kaazing-tools/gwup/scan/scantest"
)

// shippedStart is shaped like the community gateway.start (written for gwup):
// GATEWAY_OPTS defaults, a GATEWAY_IDENTIFIER branch, two java lines.
const shippedStart = `-- bin/gateway.start --
#!/bin/bash
PRG="$0"
PRGDIR=` + "`dirname \"$PRG\"`" + `
GW_HOME=` + "`cd \"$PRGDIR/..\" ; pwd`" + `
# You can define various Java system properties by setting GATEWAY_OPTS.
if [ -z "$GATEWAY_OPTS" ]; then
  GATEWAY_OPTS="-Xmx512m"
  GATEWAY_OPTS="$GATEWAY_OPTS -Djava.security.egd=file:/dev/urandom"
fi
JAVA_LIBRARY_PATH="$GW_HOME/lib/sigar"
if [ "$GATEWAY_IDENTIFIER" == "" ]
then
  exec java $GATEWAY_OPTS -Djava.library.path="$JAVA_LIBRARY_PATH" -cp "$GW_HOME/lib/*" org.kaazing.gateway.server.Main $*
else
  exec java $GATEWAY_OPTS -Dorg.kaazing.gateway.server.GATEWAY_IDENTIFIER="$GATEWAY_IDENTIFIER" -cp "$GW_HOME/lib/*" org.kaazing.gateway.server.Main $*
fi
-- bin/gateway.aws.start --
#!/bin/bash
HOSTNAME=` + "`wget -q -O - http://169.254.169.254/latest/meta-data/public-hostname`" + `
[ -z "$GATEWAY_OPTS" ] && GATEWAY_OPTS="-Xmx512m"
exec java $GATEWAY_OPTS -Dgateway.hostname=$HOSTNAME -cp "$GW_HOME/lib/*" org.kaazing.gateway.server.Main $*
`

func TestReadLaunch(t *testing.T) {
	const home = "/opt/gw"
	tests := []struct {
		name     string
		txtar    string
		want     scan.Launch
		problems []string
	}{
		{"shipped scripts set nothing", shippedStart, scan.Launch{}, nil},
		{"no scripts", "-- conf/gateway-config.xml --\n<gateway-config/>\n", scan.Launch{}, nil},
		{"edited GATEWAY_OPTS with export", `-- bin/gateway.start --
export GATEWAY_OPTS="-Xmx1g -DGATEWAY_CONFIG=$GW_HOME/conf/prod.xml -Dgateway.hostname=gw1.example.com \
  -DGATEWAY_LOG_DIRECTORY=/var/log/kaazing"
exec java $GATEWAY_OPTS -cp "$GW_HOME/lib/*" org.kaazing.gateway.server.Main
`, scan.Launch{
			Script: home + "/bin/gateway.start", Config: home + "/conf/prod.xml", LogDir: "/var/log/kaazing",
			Defines: map[string]string{"gateway.hostname": "gw1.example.com"},
		}, nil},
		{"GATEWAY_OPTS only, no java line", `-- bin/gateway.start --
GATEWAY_OPTS='-DGATEWAY_CONFIG_DIRECTORY=${GW_HOME}/conf.d -Dgateway.port=9000'
`, scan.Launch{
			Script: home + "/bin/gateway.start", ConfigDir: home + "/conf.d",
			Defines: map[string]string{"gateway.port": "9000"},
		}, nil},
		{"--config on the java line", `-- bin/gateway.start --
CONF=$GW_HOME/conf/edge.xml
java -cp x com.kaazing.gateway.server.Main --config "$CONF"
`, scan.Launch{Script: home + "/bin/gateway.start", Config: home + "/conf/edge.xml"}, nil},
		{"--config=value and a relative path", `-- bin/gateway.start --
"$JAVA_HOME/bin/java" -cp x org.kaazing.gateway.server.Main --config=conf/relative.xml
`, scan.Launch{Script: home + "/bin/gateway.start", Config: "conf/relative.xml"}, nil},
		{"openshift script with an unknowable -D", shippedStart + `-- bin/gateway.openshift.start --
[ -z "$GATEWAY_OPTS" ] && GATEWAY_OPTS="-Xmx512m"
java $GATEWAY_OPTS -cp "$CP" -Dopenshift.host=$OPENSHIFT_DIY_IP com.kaazing.gateway.server.Main --config "$GW_HOME"/conf/gateway-config-openshift.xml
`, scan.Launch{Script: home + "/bin/gateway.openshift.start", Config: home + "/conf/gateway-config-openshift.xml"},
			[]string{"launch-value-unexpanded"}},
		{"windows script", `-- bin/gateway.start.bat --
@echo off
rem GATEWAY_OPTS may be set before calling this script
cd %~dp0
set GW_HOME=..
if "%GATEWAY_OPTS%" == "" (
    set GATEWAY_OPTS=-Xmx512m -DGATEWAY_CONFIG=%GW_HOME%\conf\win.xml -Dgateway.hostname=winhost
)
java %GATEWAY_OPTS% -cp "%GW_HOME%\lib\*" org.kaazing.gateway.server.WindowsMain %*
`, scan.Launch{
			Script: home + "/bin/gateway.start.bat", Config: home + "/conf/win.xml",
			Defines: map[string]string{"gateway.hostname": "winhost"},
		}, nil},
		{"config from an unknown variable", `-- bin/gateway.start --
exec java -DGATEWAY_CONFIG=$CONFIG_FILE -Dgateway.port=8100 -cp x org.kaazing.gateway.server.Main
`, scan.Launch{Script: home + "/bin/gateway.start", Defines: map[string]string{"gateway.port": "8100"}},
			[]string{"launch-value-unexpanded"}},
		{"only an unknowable config", `-- bin/gateway.start --
exec java -DGATEWAY_CONFIG=$CONFIG_FILE -cp x org.kaazing.gateway.server.Main
`, scan.Launch{}, []string{"launch-value-unexpanded"}},
		{"unreadable script is a directory", "-- bin/gateway.start/x --\n", scan.Launch{}, []string{"launch-unreadable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := scantest.Load(t, []byte(tt.txtar), home)
			got, problems := scan.ReadLaunch(fsys, home)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ReadLaunch =\n %+v\nwant\n %+v", got, tt.want)
			}
			var keys []string
			for _, p := range problems {
				keys = append(keys, p.Key)
				if p.Path == "" {
					t.Errorf("problem without path: %+v", p)
				}
			}
			if !reflect.DeepEqual(keys, tt.problems) {
				t.Errorf("problems = %v, want keys %q", problems, tt.problems)
			}
		})
	}
}

func TestChooseConfig(t *testing.T) {
	const home = "/opt/gw"
	const both = `-- conf/gateway-config.xml --
<gateway-config/>
-- conf/gateway-config-minimal.xml --
<gateway-config/>
-- elsewhere/conf/gateway-config.xml --
<gateway-config/>
`
	const minimalOnly = "-- conf/gateway-config-minimal.xml --\n<gateway-config/>\n"
	launch := scan.Launch{
		Script: home + "/bin/gateway.start", Config: home + "/conf/from-script.xml",
		Defines: map[string]string{"a": "launch", "b": "launch", "c": "launch"},
	}
	proc := &scan.Process{
		PID: 42, Cwd: "/srv/run", Config: "custom.xml",
		Defines: map[string]string{"b": "process", "c": "process"},
	}
	tests := []struct {
		name     string
		txtar    string
		proc     *scan.Process
		launch   scan.Launch
		cli      map[string]string
		path     string
		source   scan.ConfigSource
		defines  map[string]string
		problems []string
	}{
		// A running process ignores the start script (it may have been
		// edited since): its argv holds what applied.
		{"process wins, relative to its cwd; cli > process; launch ignored", both, proc, launch, map[string]string{"c": "cli"},
			"/srv/run/custom.xml", scan.SourceProcess, map[string]string{"b": "process", "c": "cli"}, nil},
		{"running process without --config uses the default, not the script's", both, &scan.Process{PID: 3}, launch, nil,
			home + "/conf/gateway-config.xml", scan.SourceDefault, nil, nil},
		{"process -DGATEWAY_CONFIG when Config is empty", both,
			&scan.Process{PID: 1, Defines: map[string]string{"GATEWAY_CONFIG": "/etc/kaazing/gw.xml"}}, scan.Launch{}, nil,
			"/etc/kaazing/gw.xml", scan.SourceProcess, map[string]string{"GATEWAY_CONFIG": "/etc/kaazing/gw.xml"}, nil},
		{"relative process config without cwd", both, &scan.Process{PID: 7, Config: "x.xml"}, scan.Launch{}, nil,
			home + "/x.xml", scan.SourceProcess, nil, []string{"config-relative"}},
		{"start script next", both, nil, launch, nil,
			home + "/conf/from-script.xml", scan.SourceStartScript, map[string]string{"a": "launch", "b": "launch", "c": "launch"}, nil},
		{"relative start-script config is under home", both, nil, scan.Launch{Script: home + "/bin/gateway.start", Config: "conf/rel.xml"}, nil,
			home + "/conf/rel.xml", scan.SourceStartScript, nil, nil},
		{"relative .bat config is under bin", both, nil, scan.Launch{Script: home + "/bin/gateway.start.bat", Config: "../conf/rel.xml"}, nil,
			home + "/conf/rel.xml", scan.SourceStartScript, nil, nil},
		{"default", both, nil, scan.Launch{}, nil,
			home + "/conf/gateway-config.xml", scan.SourceDefault, nil, nil},
		{"config directory from the launch", both, nil, scan.Launch{ConfigDir: home + "/elsewhere/conf"}, nil,
			home + "/elsewhere/conf/gateway-config.xml", scan.SourceDefault, nil, nil},
		{"config directory from the process beats the launch's", both,
			&scan.Process{PID: 3, Defines: map[string]string{"GATEWAY_CONFIG_DIRECTORY": home + "/elsewhere/conf"}},
			scan.Launch{ConfigDir: "/nonexistent"}, nil,
			home + "/elsewhere/conf/gateway-config.xml", scan.SourceDefault,
			map[string]string{"GATEWAY_CONFIG_DIRECTORY": home + "/elsewhere/conf"}, nil},
		{"minimal when no gateway-config.xml", minimalOnly, nil, scan.Launch{}, nil,
			home + "/conf/gateway-config-minimal.xml", scan.SourceMinimal, nil, nil},
		{"URL config falls back to the default", both, &scan.Process{PID: 5, Config: "http://cfg.example.com/gw.xml"}, scan.Launch{}, nil,
			home + "/conf/gateway-config.xml", scan.SourceDefault, nil, []string{"config-remote"}},
		{"nothing", "-- bin/gateway.start --\n", nil, scan.Launch{}, map[string]string{"x": "1"},
			"", "", map[string]string{"x": "1"}, []string{"config-none"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fsys := scantest.Load(t, []byte(tt.txtar), home)
			path, source, defines, problems := scan.ChooseConfig(fsys, home, tt.proc, tt.launch, tt.cli)
			if path != tt.path || source != tt.source || !reflect.DeepEqual(defines, tt.defines) {
				t.Errorf("ChooseConfig = %q, %q, %v; want %q, %q, %v", path, source, defines, tt.path, tt.source, tt.defines)
			}
			var keys []string
			for _, p := range problems {
				keys = append(keys, p.Key)
			}
			if !reflect.DeepEqual(keys, tt.problems) {
				t.Errorf("problems = %v, want keys %q", problems, tt.problems)
			}
		})
	}
}
