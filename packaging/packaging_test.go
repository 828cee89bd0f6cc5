// Package packaging holds what makes guichet an appliance: the systemd
// units, the system user, the settings in /etc/guichet and the nfpm
// configuration of the Debian package (scripts/release.sh, scripts/package.sh).
// Its tests build the release and the package and install them in a
// throwaway root.
package packaging

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
)

// repo is the repository's root.
var repo = func() string { d, _ := filepath.Abs(".."); return d }()

// run runs a command in the repository, failing the test with its output.
func run(t *testing.T, env []string, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = repo
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func need(t *testing.T, cmds ...string) {
	t.Helper()
	for _, c := range cmds {
		if _, err := exec.LookPath(c); err != nil {
			t.Skipf("%s missing: scripts/test-deps.sh installs it", c)
		}
	}
}

// The amd64 release, built once per test run and shared.
var amd64 struct {
	once sync.Once
	dir  string
	err  error
	out  []byte
}

func release(t *testing.T) string {
	t.Helper()
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
		t.Skip("the release is built on linux/amd64")
	}
	amd64.once.Do(func() {
		amd64.dir, amd64.err = os.MkdirTemp("", "guichet-release")
		if amd64.err != nil {
			return
		}
		cmd := exec.Command("scripts/release.sh", amd64.dir, "amd64")
		cmd.Dir = repo
		cmd.Env = append(os.Environ(), "VERSION=1.0.0")
		amd64.out, amd64.err = cmd.CombinedOutput()
	})
	if amd64.err != nil {
		t.Fatalf("release: %v\n%s", amd64.err, amd64.out)
	}
	return amd64.dir
}

func TestMain(m *testing.M) {
	code := m.Run()
	if amd64.dir != "" {
		os.RemoveAll(amd64.dir)
	}
	os.Exit(code)
}

func sameFile(t *testing.T, a, b string) {
	t.Helper()
	x, err := os.ReadFile(a)
	if err != nil {
		t.Fatal(err)
	}
	y, err := os.ReadFile(b)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(x, y) {
		t.Fatalf("%s and %s differ: the build is not reproducible", a, b)
	}
}

// Built twice from the same source — in another directory, to show that
// no path is kept — the release and its package are the same bytes.
func TestReleaseAndPackageAreReproducible(t *testing.T) {
	need(t, "gcc")
	first := release(t)
	second := t.TempDir()
	run(t, []string{"VERSION=1.0.0"}, "scripts/release.sh", second, "amd64")
	sameFile(t, filepath.Join(first, "guichet-linux-amd64"), filepath.Join(second, "guichet-linux-amd64"))
	if v := run(t, nil, filepath.Join(second, "guichet-linux-amd64"), "version"); !strings.Contains(v, "1.0.0") {
		t.Fatalf("guichet version: %q, want 1.0.0", v)
	}

	env := []string{"VERSION=1.0.0", "SOURCE_DATE_EPOCH=1700000000"}
	run(t, env, "scripts/package.sh", first, "amd64")
	run(t, env, "scripts/package.sh", second, "amd64")
	sameFile(t, filepath.Join(first, "guichet_1.0.0_amd64.deb"), filepath.Join(second, "guichet_1.0.0_amd64.deb"))
}

// tree lists the files under root, with their mode and owner, skipping
// dpkg's own database.
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if rel == "var/lib/dpkg" {
			return fs.SkipDir
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		out = append(out, rel+" "+info.Mode().String()+" "+owner(info))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// dpkg runs dpkg on the throwaway root: the maintainer scripts run on this
// machine with DPKG_ROOT set, and must honour it.
func dpkg(t *testing.T, root string, args ...string) string {
	t.Helper()
	return run(t, nil, "dpkg", append([]string{"--root=" + root, "--force-script-chrootless", "--force-depends",
		"--log=/dev/null", "--no-triggers"}, args...)...)
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// The package installed, upgraded and purged in a throwaway root (dpkg
// --root): the files, the user and its groups, the units systemd accepts,
// the settings an upgrade keeps, and a purge that leaves only the user.
func TestPackageInstallsUpgradesAndPurgesCleanly(t *testing.T) {
	need(t, "gcc", "dpkg", "systemd-analyze", "systemd-sysusers")
	if os.Getuid() != 0 {
		t.Skip("dpkg --root sets owners: run as root (CI's container is)")
	}
	rel := release(t)
	run(t, []string{"VERSION=1.0.0"}, "scripts/package.sh", rel, "amd64")
	v2 := t.TempDir()
	if err := os.Link(filepath.Join(rel, "guichet-linux-amd64"), filepath.Join(v2, "guichet-linux-amd64")); err != nil {
		t.Fatal(err)
	}
	run(t, []string{"VERSION=1.1.0"}, "scripts/package.sh", v2, "amd64")

	root := t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc", "usr/bin", "usr/lib/systemd"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	// systemd's own units (for systemd-analyze verify --root), and the
	// screen's programs, as on a Pi with cage and chromium.
	run(t, nil, "cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/"))
	for _, p := range []string{"usr/bin/cage", "usr/bin/chromium"} {
		os.WriteFile(filepath.Join(root, p), []byte("#!/bin/sh\n"), 0o755)
	}
	before := tree(t, root)

	dpkg(t, root, "-i", filepath.Join(rel, "guichet_1.0.0_amd64.deb"))
	passwd := readFile(t, filepath.Join(root, "etc/passwd"))
	if !strings.Contains(passwd, "guichet:x:") || !strings.Contains(passwd, ":/usr/sbin/nologin") {
		t.Fatalf("no system user guichet without a login:\n%s", passwd)
	}
	group := readFile(t, filepath.Join(root, "etc/group"))
	for _, g := range []string{"gpio", "lp", "dialout", "audio", "video"} {
		if !strings.Contains(group, "\n"+g+":") && !strings.HasPrefix(group, g+":") || !strings.Contains(group, ":guichet\n") {
			t.Fatalf("guichet not in group %s:\n%s", g, group)
		}
	}
	installed := tree(t, root)
	var added []string
	for _, f := range installed {
		if !slices.Contains(before, f) {
			added = append(added, f)
		}
	}
	// Exactly these, and the user's entries in etc/.
	want := []string{
		"etc/.pwd.lock -rw------- 0:0", "etc/group -rw-r--r-- 0:0", "etc/gshadow ---------- 0:0",
		"etc/passwd -rw-r--r-- 0:0", "etc/shadow ---------- 0:0",
		"etc/guichet drwxr-x--- 0:G",
		"etc/guichet/counter.env -rw-r----- 0:G", "etc/guichet/display.env -rw-r----- 0:G",
		"etc/guichet/guichet.yaml -rw-r----- 0:G", "etc/guichet/hub.env -rw-r----- 0:G",
		"etc/guichet/kiosk.env -rw-r----- 0:G", "etc/guichet/screen.env -rw-r----- 0:G",
		"etc/pam.d drwxr-xr-x 0:0", "etc/pam.d/guichet-screen -rw-r--r-- 0:0",
		"usr/bin/guichet -rwxr-xr-x 0:0",
		"usr/lib/systemd/system/guichet-counter.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-display.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-hub.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-kiosk.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-screen.service -rw-r--r-- 0:0",
		"usr/lib/sysusers.d drwxr-xr-x 0:0", "usr/lib/sysusers.d/guichet.conf -rw-r--r-- 0:0",
		"usr/share drwxr-xr-x 0:0", "usr/share/doc drwxr-xr-x 0:0", "usr/share/doc/guichet drwxr-xr-x 0:0",
		"usr/share/doc/guichet/install.md -rw-r--r-- 0:0",
		"var/lib/guichet drwxr-x--- U:G",
	}
	for i := range want {
		want[i] = idsOf(want[i], passwd)
	}
	slices.Sort(want)
	if !slices.Equal(added, want) {
		t.Errorf("the package added:\n%s\nwant:\n%s", strings.Join(added, "\n"), strings.Join(want, "\n"))
	}
	units, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/guichet-*.service"))
	if out, err := exec.Command("systemd-analyze", append([]string{"verify", "--root=" + root}, units...)...).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}

	// The installer's settings survive an upgrade (conffiles).
	env := filepath.Join(root, "etc/guichet/kiosk.env")
	os.WriteFile(env, []byte("GUICHET_ARGS=\"--device kiosk-hall\"\n"), 0o640)
	dpkg(t, root, "--force-confold", "-i", filepath.Join(v2, "guichet_1.1.0_amd64.deb"))
	if s := readFile(t, env); !strings.Contains(s, "kiosk-hall") {
		t.Fatalf("the upgrade replaced the installer's kiosk.env:\n%s", s)
	}
	if s := dpkg(t, root, "-s", "guichet"); !strings.Contains(s, "Version: 1.1.0") {
		t.Fatalf("after the upgrade:\n%s", s)
	}

	// Data written by the services, then a purge: only the user remains.
	os.WriteFile(filepath.Join(root, "var/lib/guichet/kiosk.db"), []byte("x"), 0o600)
	dpkg(t, root, "--purge", "guichet")
	var left []string
	for _, f := range tree(t, root) {
		if !slices.Contains(before, f) {
			left = append(left, f)
		}
	}
	keep := []string{"etc/.pwd.lock -rw------- 0:0", "etc/group -rw-r--r-- 0:0", "etc/gshadow ---------- 0:0",
		"etc/passwd -rw-r--r-- 0:0", "etc/shadow ---------- 0:0"}
	if !slices.Equal(left, keep) {
		t.Errorf("left after purge:\n%s\nwant only the user's files:\n%s", strings.Join(left, "\n"), strings.Join(keep, "\n"))
	}
	if !strings.Contains(readFile(t, filepath.Join(root, "etc/passwd")), "guichet:x:") {
		t.Error("the purge removed the user: Debian's policy keeps it")
	}
}

// idsOf puts the user's and the group's numeric ids for U and G.
func idsOf(s, passwd string) string {
	for _, line := range strings.Split(passwd, "\n") {
		if f := strings.Split(line, ":"); len(f) > 3 && f[0] == "guichet" {
			s = strings.Replace(s, " U:", " "+f[2]+":", 1)
			s = strings.Replace(s, ":G", ":"+f[3], 1)
		}
	}
	return s
}
