package scan

import (
	"bufio"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/afero"
)

// Mount is one line of /proc/self/mountinfo: a filesystem mounted at Point.
// ID and Parent are the kernel's mount IDs; FSType is "ext4", "proc", ...;
// Source is what was mounted ("/dev/sda1", "proc", "tmpfs").
type Mount struct {
	ID, Parent int
	Point      string
	FSType     string
	Source     string
}

// pseudoFSTypes are the mount types that hold no installs: kernel views,
// control filesystems and automount triggers. Walking them is at best a waste
// (sysfs has hundreds of thousands of entries) and at worst hangs or has side
// effects (reading some of them blocks, autofs mounts what it is asked for).
// tmpfs and overlay are real data (containers, /run, /tmp) and are walked.
var pseudoFSTypes = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true,
	"cgroup": true, "cgroup2": true, "securityfs": true, "debugfs": true,
	"tracefs": true, "pstore": true, "bpf": true, "mqueue": true,
	"hugetlbfs": true, "configfs": true, "fusectl": true, "binfmt_misc": true,
	"autofs": true, "nsfs": true, "rpc_pipefs": true, "efivarfs": true,
	"selinuxfs": true,
}

// IsPseudoFS reports whether a mount type is one FindHomes never walks.
func IsPseudoFS(fstype string) bool { return pseudoFSTypes[fstype] }

// ReadMounts reads a file in the /proc/self/mountinfo format from fsys.
// Lines that cannot be parsed are skipped and reported together in the error;
// the mounts of the good lines are returned even then, so a caller may choose
// to use them. A file that cannot be read gives no mounts and its error.
func ReadMounts(fsys afero.Fs, mountinfo string) ([]Mount, error) {
	f, err := fsys.Open(mountinfo)
	if err != nil {
		return nil, fmt.Errorf("read mounts %s: %w", mountinfo, err)
	}
	defer f.Close()

	var mounts []Mount
	var bad []error
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		m, err := parseMountinfoLine(line)
		if err != nil {
			bad = append(bad, fmt.Errorf("%s:%d: %w", mountinfo, n, err))
			continue
		}
		mounts = append(mounts, m)
	}
	if err := sc.Err(); err != nil {
		bad = append(bad, fmt.Errorf("read mounts %s: %w", mountinfo, err))
	}
	return mounts, errors.Join(bad...)
}

// parseMountinfoLine parses one mountinfo line:
//
//	36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw,errors=continue
//	(1)(2)(3)   (4)   (5)         (6)       (7)     (8) (9)   (10)      (11)
//
// Field 7 is zero or more optional fields ended by the "-" separator (8).
func parseMountinfoLine(line string) (Mount, error) {
	fields := strings.Fields(line)
	sep := -1
	for i := 6; i < len(fields); i++ {
		if fields[i] == "-" {
			sep = i
			break
		}
	}
	if sep < 0 || sep+1 >= len(fields) {
		return Mount{}, fmt.Errorf("parse mountinfo line: want mount fields, a \"-\" separator and a filesystem type, got %q", line)
	}
	id, err := strconv.Atoi(fields[0])
	if err != nil {
		return Mount{}, fmt.Errorf("parse mountinfo line: mount id %q: %w", fields[0], err)
	}
	parent, err := strconv.Atoi(fields[1])
	if err != nil {
		return Mount{}, fmt.Errorf("parse mountinfo line: parent id %q: %w", fields[1], err)
	}
	m := Mount{
		ID:     id,
		Parent: parent,
		Point:  unescapeMountinfo(fields[4]),
		FSType: unescapeMountinfo(fields[sep+1]),
	}
	if sep+2 < len(fields) {
		m.Source = unescapeMountinfo(fields[sep+2])
	}
	if !strings.HasPrefix(m.Point, "/") {
		return Mount{}, fmt.Errorf("parse mountinfo line: mount point %q is not absolute", m.Point)
	}
	return m, nil
}

// unescapeMountinfo undoes the kernel's octal escapes (\040 space, \011 tab,
// \012 newline, \134 backslash) in a mountinfo field. Anything that is not a
// valid three-digit octal escape is kept as is.
func unescapeMountinfo(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && isOctal(s[i+2]) && isOctal(s[i+3]) {
			v := (s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0')
			b.WriteByte(v)
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }
