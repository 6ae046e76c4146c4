package scan

import (
	"strings"

	"github.com/beevik/etree"
)

// maxPropertyDepth bounds the expansion of values that themselves contain
// ${...}, so that a property defined in terms of itself stays unresolved
// instead of looping.
const maxPropertyDepth = 8

// maxExpandedLen bounds the text one expansion may produce. Properties that
// each use another several times grow exponentially (the "billion laughs"
// of ${}); past this size the reference is left unresolved.
const maxExpandedLen = 64 << 10

// propertyResolver resolves ${name} in the Gateway's order
// (ConfigParameter.resolveAndReplace): the -D values first, then the
// top-level <properties>, then the built-in ${hostname}. $${name} is an
// escape that stands for the literal text ${name}. ${name:default} and
// environment variables, which the javadoc advertises, are not implemented by
// the Gateway and are not here either.
type propertyResolver struct {
	defines  map[string]string
	declared map[string]string
	hostname string
}

func newPropertyResolver(defines, declared map[string]string, hostname string) *propertyResolver {
	if hostname == "" {
		hostname = "localhost"
	}
	return &propertyResolver{defines: defines, declared: declared, hostname: hostname}
}

func (r *propertyResolver) lookup(name string) (string, bool) {
	if v, ok := r.defines[name]; ok {
		return v, true
	}
	if v, ok := r.declared[name]; ok {
		return v, true
	}
	if name == "hostname" {
		return r.hostname, true
	}
	return "", false
}

// expand substitutes every ${name} in s. An unresolved reference is left as
// written and ok is false.
func (r *propertyResolver) expand(s string) (out string, ok bool) {
	budget := maxExpandedLen
	out, missing := r.expandDepth(s, 0, nil, &budget)
	return out, len(missing) == 0
}

// unresolved lists the names in s that have no value, in order of appearance.
func (r *propertyResolver) unresolved(s string) []string {
	budget := maxExpandedLen
	_, missing := r.expandDepth(s, 0, nil, &budget)
	return missing
}

func (r *propertyResolver) expandDepth(s string, depth int, missing []string, budget *int) (string, []string) {
	if !strings.Contains(s, "${") {
		return s, missing
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			b.WriteString(s)
			break
		}
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 {
			// "${" without "}" is plain text to the Gateway as well.
			b.WriteString(s)
			break
		}
		ref := s[i : i+2+end+1] // "${name}"
		name := s[i+2 : i+2+end]
		if i > 0 && s[i-1] == '$' {
			// $${name}: the escape. Drop one '$' and keep the reference as text.
			b.WriteString(s[:i-1])
			b.WriteString(ref)
			s = s[i+len(ref):]
			continue
		}
		b.WriteString(s[:i])
		v, found := r.lookup(name)
		if found && depth < maxPropertyDepth && len(v) <= *budget {
			*budget -= len(v)
			v, missing = r.expandDepth(v, depth+1, missing, budget)
			b.WriteString(v)
		} else {
			missing = appendOnce(missing, name)
			b.WriteString(ref)
		}
		s = s[i+len(ref):]
	}
	return b.String(), missing
}

func appendOnce(list []string, s string) []string {
	for _, x := range list {
		if x == s {
			return list
		}
	}
	return append(list, s)
}

// topLevelProperties reads <gateway-config><properties><property>. Services
// have their own <properties> with unrelated content, so only the root's
// direct child counts. When a name is declared twice the last one wins.
func topLevelProperties(root *etree.Element) map[string]string {
	props := map[string]string{}
	for _, ps := range root.SelectElements("properties") {
		for _, prop := range ps.SelectElements("property") {
			name, _ := childText(prop, "name")
			value, _ := childText(prop, "value")
			if name != "" {
				props[name] = value
			}
		}
	}
	return props
}
