package scan

import "strings"

// gatewayNamespaces are the gateway-config root namespaces the Gateway knows
// (GatewayConfigNamespace.fromURI, plus the 2009 "battlestar" one), keyed by
// the lower-cased URI because the Gateway compares them with equalsIgnoreCase.
// The value is the release line the namespace implies.
var gatewayNamespaces = map[string]string{
	// Battlestar is the 2009 product numbered "8.12", older than 3.0: it is
	// reported as pre-3.0 so that a version comparison never ranks it above 5.x.
	"http://xmlns.kaazing.org/gateway-config/battlestar": "pre-3.0",
	"http://xmlns.kaazing.com/gateway-config/dragonfire": "pre-3.0",
	"http://xmlns.kaazing.com/gateway-config/excalibur":  "3.0-3.2",
	"http://xmlns.kaazing.com/2012/03/gateway":           "3.2-3.3",
	"http://xmlns.kaazing.com/2012/08/gateway":           "3.5",
	"http://xmlns.kaazing.com/2012/09/gateway":           "4.0",
	"http://xmlns.kaazing.org/2014/09/gateway":           "5.0",
	"http://xmlns.kaazing.org/2015/11/gateway":           "5.1-5.2",
	"http://xmlns.kaazing.org/2016/06/gateway":           "5.2.3+",
}

// NamespaceReleaseLine returns the release line a gateway-config namespace
// implies ("4.0", "5.1-5.2", ...) and whether the Gateway accepts that URI.
// The comparison ignores case, as the Gateway's does.
//
// The documentation printed the 2014+ namespaces with xmlns.kaazing.com
// instead of xmlns.kaazing.org; the Gateway rejects those. For such a URI the
// line of its .org twin is returned with known == false, so a caller can both
// date the file and flag it.
func NamespaceReleaseLine(uri string) (line string, known bool) {
	u := strings.ToLower(strings.TrimSpace(uri))
	if line, ok := gatewayNamespaces[u]; ok {
		return line, true
	}
	if twin, ok := orgTwin(u); ok {
		return gatewayNamespaces[twin], false
	}
	return "", false
}

// orgTwin maps a lower-cased ".com/2014+" URI to the .org URI the Gateway
// knows, if it has one.
func orgTwin(lowerURI string) (string, bool) {
	const com, org = "http://xmlns.kaazing.com/", "http://xmlns.kaazing.org/"
	rest, ok := strings.CutPrefix(lowerURI, com)
	if !ok {
		return "", false
	}
	twin := org + rest
	if _, ok := gatewayNamespaces[twin]; ok && !strings.HasPrefix(rest, "gateway-config/") {
		return twin, true
	}
	return "", false
}
