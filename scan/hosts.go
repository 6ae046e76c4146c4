package scan

import (
	"bufio"
	"bytes"
	"net/netip"
	"strings"

	"github.com/spf13/afero"
)

// ReadHosts reads /etc/hosts of the scanned root and returns, for every name
// (lower-cased, as resolvers compare names case-insensitively), its addresses
// in file order without duplicates. It is how detect resolves a hostname in an
// accept URI without asking DNS, which would describe the machine gwup runs on
// rather than the sysroot. A missing or unreadable file gives an empty map.
func ReadHosts(fsys afero.Fs) map[string][]string {
	hosts := map[string][]string{}
	data, err := afero.ReadFile(fsys, "/etc/hosts")
	if err != nil {
		return hosts
	}
	return ParseHosts(data)
}

// ParseHosts parses hosts(5) content: an address followed by names, "#"
// starting a comment. Lines whose first field is not an address are skipped.
func ParseHosts(data []byte) map[string][]string {
	hosts := map[string][]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		addr, _, _ := strings.Cut(f[0], "%") // fe80::1%eth0: the zone does not matter for a port clash
		ip, err := netip.ParseAddr(addr)
		if err != nil {
			continue
		}
		addr = ip.Unmap().String()
		for _, name := range f[1:] {
			name = strings.ToLower(name)
			if !hostsContains(hosts[name], addr) {
				hosts[name] = append(hosts[name], addr)
			}
		}
	}
	return hosts
}

func hostsContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
