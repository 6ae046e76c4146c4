package scan

import (
	"strings"
	"testing"
)

// FuzzParseScript feeds arbitrary text to the start-script reader as both a
// sh and a cmd script: it must not panic, and every problem must carry a
// known key and the script's path.
func FuzzParseScript(f *testing.F) {
	f.Add([]byte("GATEWAY_OPTS=\"-Xmx512m -DGATEWAY_CONFIG=$GW_HOME/conf/x.xml\"\nexec java $GATEWAY_OPTS -cp x Main --config \"$GW_HOME\"/conf/y.xml\n"))
	f.Add([]byte("set GATEWAY_OPTS=-Dgateway.port=9000\r\njava %GATEWAY_OPTS% -cp \"%GW_HOME%\\lib\\*\" WindowsMain %*\r\n"))
	f.Add([]byte("java -Dx=$UNKNOWN --config \\\n  `pwd`/c.xml '-Dq=a b' \"unterminated\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, bat := range []bool{false, true} {
			l, problems := parseScript(data, "/gw/bin/gateway.start", "/gw", bat)
			for _, p := range problems {
				if !isKnownKey(p.Key) || p.Path != "/gw/bin/gateway.start" {
					t.Errorf("bad problem %+v", p)
				}
			}
			for k := range l.Defines {
				if k == "" || strings.HasPrefix(k, "java.") {
					t.Errorf("bad define name %q", k)
				}
			}
		}
	})
}
