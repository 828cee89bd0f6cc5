// Package packaging holds what makes guichet an appliance: the systemd
// units, the system user, the settings in /etc/guichet and the nfpm
// configurations of the Debian packages guichet-hub and guichet-device
// (scripts/release.sh, scripts/package.sh). Its tests build the release
// and the packages and install them in a throwaway root.
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

// The amd64 release — both flavours: the hub's guichet-linux-amd64 and the
// device's guichet-device-linux-amd64 — built once per test run and shared.
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
	for _, bin := range []string{"guichet-linux-amd64", "guichet-device-linux-amd64"} {
		sameFile(t, filepath.Join(first, bin), filepath.Join(second, bin))
	}
	if v := run(t, nil, filepath.Join(second, "guichet-linux-amd64"), "version"); !strings.Contains(v, "1.0.0 hub") {
		t.Fatalf("guichet version: %q, want 1.0.0 hub", v)
	}
	if v := run(t, nil, filepath.Join(second, "guichet-device-linux-amd64"), "version"); !strings.Contains(v, "1.0.0 device") {
		t.Fatalf("guichet version of the device's build: %q, want 1.0.0 device", v)
	}

	env := []string{"VERSION=1.0.0", "SOURCE_DATE_EPOCH=1700000000"}
	run(t, env, "scripts/package.sh", first, "amd64")
	run(t, env, "scripts/package.sh", second, "amd64")
	for _, deb := range []string{"guichet-hub_1.0.0_amd64.deb", "guichet-device_1.0.0_amd64.deb"} {
		sameFile(t, filepath.Join(first, deb), filepath.Join(second, deb))
	}
}

// The device's build leaves the hub's code out: a hub command is unknown
// to it, and it is much smaller than the hub's.
func TestDeviceBuildHasNoHubCommandsAndIsSmaller(t *testing.T) {
	need(t, "gcc")
	rel := release(t)
	dev, hub := filepath.Join(rel, "guichet-device-linux-amd64"), filepath.Join(rel, "guichet-linux-amd64")
	out, err := exec.Command(dev, "hub", "--config", "x.yaml").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "install guichet-hub") {
		t.Fatalf("the device's build ran the hub command: %v\n%s", err, out)
	}
	if out, err := exec.Command(dev, "printer", "list").CombinedOutput(); err != nil {
		t.Fatalf("the device's build: printer list: %v\n%s", err, out)
	}
	d, _ := os.Stat(dev)
	h, _ := os.Stat(hub)
	if d.Size()*3 > h.Size()*2 {
		t.Fatalf("the device's build is %d bytes, the hub's %d: more than two thirds of it", d.Size(), h.Size())
	}
	t.Logf("amd64: hub %.1f MB, device %.1f MB", float64(h.Size())/1e6, float64(d.Size())/1e6)
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

// hubFiles and deviceFiles are what each package adds to a root: its files,
// the user's entries in etc/ and the data directory (U and G: the user's
// and the group's ids).
var (
	deviceFiles = []string{
		"etc/.pwd.lock -rw------- 0:0", "etc/group -rw-r--r-- 0:0", "etc/gshadow ---------- 0:0",
		"etc/passwd -rw-r--r-- 0:0", "etc/shadow ---------- 0:0",
		"etc/guichet drwxr-x--- 0:G",
		"etc/guichet/counter.env -rw-r----- 0:G", "etc/guichet/display.env -rw-r----- 0:G",
		"etc/guichet/kiosk.env -rw-r----- 0:G", "etc/guichet/screen.env -rw-r----- 0:G",
		"etc/pam.d drwxr-xr-x 0:0", "etc/pam.d/guichet-screen -rw-r--r-- 0:0",
		"usr/bin/guichet -rwxr-xr-x 0:0",
		"usr/lib/systemd/system/guichet-counter.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-display.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-kiosk.service -rw-r--r-- 0:0",
		"usr/lib/systemd/system/guichet-screen.service -rw-r--r-- 0:0",
		"usr/lib/sysusers.d drwxr-xr-x 0:0", "usr/lib/sysusers.d/guichet.conf -rw-r--r-- 0:0",
		"usr/share drwxr-xr-x 0:0", "usr/share/doc drwxr-xr-x 0:0", "usr/share/doc/guichet drwxr-xr-x 0:0",
		"usr/share/doc/guichet/install.md -rw-r--r-- 0:0",
		"var/lib/guichet drwxr-x--- U:G",
	}
	hubFiles = append(slices.Clone(deviceFiles),
		"etc/guichet/guichet.yaml -rw-r----- 0:G", "etc/guichet/hub.env -rw-r----- 0:G",
		"usr/lib/systemd/system/guichet-hub.service -rw-r--r-- 0:0")
	// userFiles are what a purge leaves: the user stays (Debian's policy).
	userFiles = []string{"etc/.pwd.lock -rw------- 0:0", "etc/group -rw-r--r-- 0:0", "etc/gshadow ---------- 0:0",
		"etc/passwd -rw-r--r-- 0:0", "etc/shadow ---------- 0:0"}
)

// packages builds, once per test run, the hub's and the device's packages
// of the amd64 release as 1.0.0, and as 1.1.0 (the same binaries) in
// another folder: it returns the two folders.
var packages struct {
	once   sync.Once
	v1, v2 string
	err    error
	out    string
}

func packaged(t *testing.T) (v1, v2 string) {
	t.Helper()
	rel := release(t)
	packages.once.Do(func() {
		packages.v1 = rel
		packages.v2 = filepath.Join(rel, "v1.1.0")
		if packages.err = os.MkdirAll(packages.v2, 0o755); packages.err != nil {
			return
		}
		for _, bin := range []string{"guichet-linux-amd64", "guichet-device-linux-amd64"} {
			if packages.err = os.Link(filepath.Join(rel, bin), filepath.Join(packages.v2, bin)); packages.err != nil {
				return
			}
		}
		for dir, v := range map[string]string{packages.v1: "1.0.0", packages.v2: "1.1.0"} {
			cmd := exec.Command("scripts/package.sh", dir, "amd64")
			cmd.Dir = repo
			cmd.Env = append(os.Environ(), "VERSION="+v)
			out, err := cmd.CombinedOutput()
			if err != nil {
				packages.err, packages.out = err, string(out)
				return
			}
		}
	})
	if packages.err != nil {
		t.Fatalf("package: %v\n%s", packages.err, packages.out)
	}
	return packages.v1, packages.v2
}

// newRoot makes a throwaway root for dpkg --root, with systemd's own units
// (for systemd-analyze verify --root) and the screen's programs, as on a Pi
// with cage and chromium. It returns the root and the files it holds.
func newRoot(t *testing.T) (root string, before []string) {
	t.Helper()
	need(t, "gcc", "dpkg", "systemd-analyze", "systemd-sysusers")
	if os.Getuid() != 0 {
		t.Skip("dpkg --root sets owners: run as root (CI's container is)")
	}
	root = t.TempDir()
	for _, d := range []string{"var/lib/dpkg/info", "var/lib/dpkg/updates", "var/lib/dpkg/triggers", "etc", "usr/bin", "usr/lib/systemd"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	for _, f := range []string{"var/lib/dpkg/status", "var/lib/dpkg/available"} {
		os.WriteFile(filepath.Join(root, f), nil, 0o644)
	}
	run(t, nil, "cp", "-a", "/usr/lib/systemd/system", filepath.Join(root, "usr/lib/systemd/"))
	for _, p := range []string{"usr/bin/cage", "usr/bin/chromium"} {
		os.WriteFile(filepath.Join(root, p), []byte("#!/bin/sh\n"), 0o755)
	}
	return root, tree(t, root)
}

// added lists the files of root that were not in before.
func added(t *testing.T, root string, before []string) []string {
	t.Helper()
	var out []string
	for _, f := range tree(t, root) {
		if !slices.Contains(before, f) {
			out = append(out, f)
		}
	}
	return out
}

// wantAdded checks that exactly want (with the user's ids put in) was added.
func wantAdded(t *testing.T, root string, before, want []string, when string) {
	t.Helper()
	passwd := readFile(t, filepath.Join(root, "etc/passwd"))
	want = slices.Clone(want)
	for i := range want {
		want[i] = idsOf(want[i], passwd)
	}
	slices.Sort(want)
	if got := added(t, root, before); !slices.Equal(got, want) {
		t.Errorf("%s, the root has:\n%s\nwant:\n%s", when, strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// verifyUnits runs systemd-analyze verify on every unit of guichet in root.
func verifyUnits(t *testing.T, root string, want int) {
	t.Helper()
	units, _ := filepath.Glob(filepath.Join(root, "usr/lib/systemd/system/guichet-*.service"))
	if len(units) != want {
		t.Fatalf("%d units, want %d: %v", len(units), want, units)
	}
	if out, err := exec.Command("systemd-analyze", append([]string{"verify", "--root=" + root}, units...)...).CombinedOutput(); err != nil || len(out) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// Each package installed, upgraded and purged in a throwaway root (dpkg
// --root): the files, the user and its groups, the units systemd accepts,
// the settings an upgrade keeps, and a purge that leaves only the user.
func TestPackagesInstallUpgradeAndPurgeCleanly(t *testing.T) {
	for _, c := range []struct {
		pkg   string
		files []string
		units int
	}{{"guichet-hub", hubFiles, 5}, {"guichet-device", deviceFiles, 4}} {
		t.Run(c.pkg, func(t *testing.T) {
			root, before := newRoot(t)
			v1, v2 := packaged(t)
			dpkg(t, root, "-i", filepath.Join(v1, c.pkg+"_1.0.0_amd64.deb"))
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
			wantAdded(t, root, before, c.files, "installed")
			verifyUnits(t, root, c.units)
			flavour := strings.TrimPrefix(c.pkg, "guichet-")
			if v := run(t, nil, filepath.Join(root, "usr/bin/guichet"), "version"); !strings.Contains(v, "1.0.0 "+flavour) {
				t.Fatalf("the installed binary: %q, want the %s's build", v, flavour)
			}

			// The installer's settings survive an upgrade (conffiles).
			env := filepath.Join(root, "etc/guichet/kiosk.env")
			os.WriteFile(env, []byte("GUICHET_ARGS=\"--device kiosk-hall\"\n"), 0o640)
			dpkg(t, root, "--force-confold", "-i", filepath.Join(v2, c.pkg+"_1.1.0_amd64.deb"))
			if s := readFile(t, env); !strings.Contains(s, "kiosk-hall") {
				t.Fatalf("the upgrade replaced the installer's kiosk.env:\n%s", s)
			}
			if s := dpkg(t, root, "-s", c.pkg); !strings.Contains(s, "Version: 1.1.0") {
				t.Fatalf("after the upgrade:\n%s", s)
			}

			// Data written by the services, then a purge: only the user remains.
			os.WriteFile(filepath.Join(root, "var/lib/guichet/kiosk.db"), []byte("x"), 0o600)
			dpkg(t, root, "--purge", c.pkg)
			if left := added(t, root, before); !slices.Equal(left, userFiles) {
				t.Errorf("left after purge:\n%s\nwant only the user's files:\n%s", strings.Join(left, "\n"), strings.Join(userFiles, "\n"))
			}
			if !strings.Contains(readFile(t, filepath.Join(root, "etc/passwd")), "guichet:x:") {
				t.Error("the purge removed the user: Debian's policy keeps it")
			}
		})
	}
}

// A board with guichet-device becomes a hub that also drives its screen:
// guichet-hub takes the device package's place (one /usr/bin/guichet, one
// set of units), the installer's settings and the data stay; the device
// package cannot come back over the hub; purging the hub leaves the user.
func TestHubPackageTakesTheDevicePackagesPlace(t *testing.T) {
	root, before := newRoot(t)
	v1, _ := packaged(t)
	dpkg(t, root, "-i", filepath.Join(v1, "guichet-device_1.0.0_amd64.deb"))
	env := filepath.Join(root, "etc/guichet/kiosk.env")
	os.WriteFile(env, []byte("GUICHET_ARGS=\"--device kiosk-hall\"\n"), 0o640)
	os.WriteFile(filepath.Join(root, "var/lib/guichet/kiosk.db"), []byte("x"), 0o600)

	dpkg(t, root, "--force-confold", "-i", filepath.Join(v1, "guichet-hub_1.0.0_amd64.deb"))
	if s := readFile(t, env); !strings.Contains(s, "kiosk-hall") {
		t.Fatalf("guichet-hub replaced the installer's kiosk.env:\n%s", s)
	}
	if s := readFile(t, filepath.Join(root, "var/lib/guichet/kiosk.db")); s != "x" {
		t.Fatalf("the kiosk's data: %q", s)
	}
	if v := run(t, nil, filepath.Join(root, "usr/bin/guichet"), "version"); !strings.Contains(v, "hub") {
		t.Fatalf("/usr/bin/guichet after guichet-hub: %q", v)
	}
	status := readFile(t, filepath.Join(root, "var/lib/dpkg/status"))
	for _, st := range strings.Split(status, "\n\n") {
		// Removed: at most its conffiles' record (config-files), now guichet-hub's.
		if strings.Contains(st, "Package: guichet-device\n") && !strings.Contains(st, " config-files\n") && !strings.Contains(st, " not-installed\n") {
			t.Fatalf("guichet-device still installed next to guichet-hub:\n%s", st)
		}
	}
	verifyUnits(t, root, 5)
	wantAdded(t, root, before, append(slices.Clone(hubFiles), "var/lib/guichet/kiosk.db -rw------- 0:0"), "guichet-hub over guichet-device")

	// The device package does not take the hub's binary away.
	cmd := exec.Command("dpkg", "--root="+root, "--force-script-chrootless", "--log=/dev/null", "--no-triggers",
		"-i", filepath.Join(v1, "guichet-device_1.0.0_amd64.deb"))
	if out, err := cmd.CombinedOutput(); err == nil || !strings.Contains(string(out), "conflict") {
		t.Fatalf("guichet-device installed over guichet-hub: %v\n%s", err, out)
	}
	if v := run(t, nil, filepath.Join(root, "usr/bin/guichet"), "version"); !strings.Contains(v, "hub") {
		t.Fatalf("/usr/bin/guichet after a refused guichet-device: %q", v)
	}

	dpkg(t, root, "--purge", "guichet-hub", "guichet-device")
	if left := added(t, root, before); !slices.Equal(left, userFiles) {
		t.Errorf("left after purge:\n%s\nwant only the user's files:\n%s", strings.Join(left, "\n"), strings.Join(userFiles, "\n"))
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
