package scan_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/kaazing-tools/gwup/scan"
	"github.com/spf13/afero"
)

func TestReadMounts(t *testing.T) {
	got, err := scan.ReadMounts(afero.NewOsFs(), "../testdata/walk/mountinfo.txt")
	if err != nil {
		t.Fatal(err)
	}
	want := []scan.Mount{
		{ID: 22, Parent: 28, Point: "/sys", FSType: "sysfs", Source: "sysfs"},
		{ID: 23, Parent: 28, Point: "/proc", FSType: "proc", Source: "proc"},
		{ID: 24, Parent: 28, Point: "/dev", FSType: "devtmpfs", Source: "udev"},
		{ID: 25, Parent: 24, Point: "/dev/pts", FSType: "devpts", Source: "devpts"},
		{ID: 26, Parent: 28, Point: "/run", FSType: "tmpfs", Source: "tmpfs"},
		{ID: 28, Parent: 1, Point: "/", FSType: "ext4", Source: "/dev/vda1"},
		{ID: 29, Parent: 22, Point: "/sys/kernel/security", FSType: "securityfs", Source: "securityfs"},
		{ID: 30, Parent: 22, Point: "/sys/fs/cgroup", FSType: "cgroup2", Source: "cgroup2"},
		{ID: 41, Parent: 23, Point: "/proc/sys/fs/binfmt_misc", FSType: "autofs", Source: "systemd-1"},
		{ID: 87, Parent: 28, Point: "/data", FSType: "xfs", Source: "/dev/vdb1"},
		{ID: 88, Parent: 28, Point: `/mnt/my backup\disk`, FSType: "ext4", Source: "/dev/sdc1"},
		{ID: 90, Parent: 28, Point: "/mnt/nfs", FSType: "nfs4", Source: "server:/exports"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadMounts =\n%+v\nwant\n%+v", got, want)
	}
}

func TestReadMountsBadLines(t *testing.T) {
	fsys := afero.NewMemMapFs()
	content := strings.Join([]string{
		"28 1 252:1 / / rw,relatime shared:1 - ext4 /dev/vda1 rw",
		"garbage",
		"x 1 252:1 / /a rw - ext4 /dev/vda2 rw", // bad id
		"29 1 252:1 / /b rw shared:1 ext4 /dev/vda3 rw", // no separator
		"30 1 252:1 / relative rw - ext4 /dev/vda4 rw",  // not absolute
		"",
		"31 28 0:50 / /c rw - tmpfs", // no source: tolerated
	}, "\n")
	if err := afero.WriteFile(fsys, "/mountinfo", []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := scan.ReadMounts(fsys, "/mountinfo")
	if err == nil || strings.Count(err.Error(), "/mountinfo:") != 4 {
		t.Errorf("err = %v, want the 4 bad lines reported", err)
	}
	want := []scan.Mount{
		{ID: 28, Parent: 1, Point: "/", FSType: "ext4", Source: "/dev/vda1"},
		{ID: 31, Parent: 28, Point: "/c", FSType: "tmpfs"},
	}
	if !slices.Equal(got, want) {
		t.Errorf("ReadMounts = %+v, want %+v", got, want)
	}

	if _, err := scan.ReadMounts(fsys, "/no/such/file"); err == nil {
		t.Error("ReadMounts of a missing file: nil error")
	}
}

// The real mount table of this machine parses without error and has a root.
func TestReadMountsSelf(t *testing.T) {
	if _, err := os.Stat("/proc/self/mountinfo"); err != nil {
		t.Skip("no /proc/self/mountinfo here")
	}
	mounts, err := scan.ReadMounts(afero.NewOsFs(), "/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(mounts, func(m scan.Mount) bool { return m.Point == "/" }) {
		t.Errorf("no mount at / in %+v", mounts)
	}
}

func FuzzReadMounts(f *testing.F) {
	seed, err := os.ReadFile("../testdata/walk/mountinfo.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(seed)
	for _, line := range strings.Split(string(seed), "\n") {
		f.Add([]byte(line))
	}
	f.Add([]byte(`1 2 3 \ /\04 \0400 - - - -`))
	f.Fuzz(func(t *testing.T, data []byte) {
		fsys := afero.NewMemMapFs()
		if err := afero.WriteFile(fsys, "/mountinfo", data, 0o644); err != nil {
			t.Fatal(err)
		}
		mounts, _ := scan.ReadMounts(fsys, "/mountinfo")
		for _, m := range mounts {
			if !strings.HasPrefix(m.Point, "/") || m.FSType == "" {
				t.Errorf("mount %+v: want an absolute point and a type", m)
			}
		}
	})
}
