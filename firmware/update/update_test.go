package update

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"guichet/internal/release"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"aead.dev/minisign"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

type keys struct {
	pub minisign.PublicKey
	sec minisign.PrivateKey
}

func newKeys(t *testing.T) keys {
	t.Helper()
	pb, sb, err := release.GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	pub, err := release.ParsePublicKey(pb)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := release.ParseSecretKey(sb, "")
	if err != nil {
		t.Fatal(err)
	}
	return keys{pub, sec}
}

// bundle signs binary as version for arch.
func bundle(t *testing.T, k keys, binary []byte, version, arch string) []byte {
	t.Helper()
	sig, _, err := release.Sign(k.sec, bytes.NewReader(binary), release.Manifest{Version: version, Arch: arch})
	if err != nil {
		t.Fatal(err)
	}
	return sig
}

func newDevice(t *testing.T, k keys, version string) *Device {
	return &Device{Dir: filepath.Join(t.TempDir(), "update"), Key: k.pub, Arch: "arm64", Version: version, Log: quiet()}
}

// up and down are a trial's health: connected and turning, or neither.
func up() Health   { return Health{Connected: true, Turning: true} }
func down() Health { return Health{} }

// launchPath runs the launcher and returns the file it would run ("": the
// packaged binary).
func launchPath(t *testing.T, d *Device) (string, error) {
	t.Helper()
	f, err := d.Launch()
	if f == nil {
		return "", err
	}
	defer f.Close()
	return f.Name(), err
}

func wantReason(t *testing.T, err error, reason string) {
	t.Helper()
	if err == nil || release.Reason(err) != reason {
		t.Fatalf("want a refusal %q, got %v", reason, err)
	}
}

func TestCompareOrdersSemver(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"v1.2.0", "v1.10.0", -1}, {"v1.2.0", "1.2.0", 0}, {"v2.0.0", "v1.99.99", 1},
		{"v1.3.0-rc.1", "v1.3.0", -1}, {"v1.3.0-rc.2", "v1.3.0-rc.10", -1}, {"v1.3.0-alpha", "v1.3.0-rc.1", -1},
		{"dev", "v0.0.1", -1}, {"", "v1.0.0", -1}, {"dev", "", 0},
	} {
		if got := release.Compare(c.a, c.b); got != c.want {
			t.Errorf("release.Compare(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestVersionsBetweenTagsAreNoReleases(t *testing.T) {
	for _, v := range []string{"dev", "380eca1", "v1.2.0-5-g380eca1", "v1.2.0-dirty", "v1.2", "v01.2.3"} {
		if release.ValidVersion(v) == nil {
			t.Errorf("%q accepted as a release version", v)
		}
	}
	if err := release.ValidVersion("v1.5.0-rc.1"); err != nil {
		t.Error(err)
	}
}

func TestSignedBundleInstallsAndGoesOnTrial(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v1.1.0")
	m, err := d.Install(bytes.NewReader(bin), bundle(t, k, bin, "v1.1.0", "arm64"))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "v1.1.0" || d.link("current") != "v1.1.0" || d.link("prev") != "" {
		t.Fatalf("manifest %+v, current %q, prev %q", m, d.link("current"), d.link("prev"))
	}
	if got, _ := os.ReadFile(filepath.Join(d.Dir, "current", BinaryName)); !bytes.Equal(got, bin) {
		t.Fatalf("installed binary %q", got)
	}
	if s := d.Status(); s.State != StateTrial || s.Version != "v1.1.0" {
		t.Fatalf("status %+v", s)
	}
}

func TestTamperedBinaryIsRefused(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v1.1.0")
	sig := bundle(t, k, bin, "v1.1.0", "arm64")
	bad := bytes.Clone(bin)
	bad[3] ^= 1
	_, err := d.Install(bytes.NewReader(bad), sig)
	wantReason(t, err, release.ReasonBadSignature)
	if d.link("current") != "" {
		t.Fatal("a refused bundle was swapped in")
	}
	if s := d.Status(); s.State != StateFailed || s.Reason != release.ReasonBadSignature {
		t.Fatalf("status %+v", s)
	}
}

func TestTamperedManifestIsRefused(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v1.1.0")
	sig := bundle(t, k, bin, "v1.1.0", "arm64")
	// The version raised in the trusted comment: the signature covers it.
	forged := bytes.Replace(sig, []byte("version=v1.1.0"), []byte("version=v9.1.0"), 1)
	if bytes.Equal(forged, sig) {
		t.Fatal("no trusted comment to forge")
	}
	_, err := d.Install(bytes.NewReader(bin), forged)
	wantReason(t, err, release.ReasonBadSignature)
}

func TestBundleSignedByAnotherKeyIsRefused(t *testing.T) {
	k, other := newKeys(t), newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v1.1.0")
	_, err := d.Install(bytes.NewReader(bin), bundle(t, other, bin, "v1.1.0", "arm64"))
	wantReason(t, err, release.ReasonOtherKey)
}

func TestOlderOrEqualVersionIsRefused(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.2.0")
	for _, v := range []string{"v1.1.0", "v1.2.0", "v1.2.0-rc.1"} {
		bin := []byte("#!binary " + v)
		_, err := d.Install(bytes.NewReader(bin), bundle(t, k, bin, v, "arm64"))
		wantReason(t, err, release.ReasonOldVersion)
	}
}

func TestVersionBelowTheHighestEverInstalledIsRefused(t *testing.T) {
	// The device runs its packaged v1.0.0, but v1.3.0 was installed and
	// healthy once: v1.2.0, signed and newer than the package, is a
	// rollback attack.
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	st := State{Highest: "v1.3.0"}
	os.MkdirAll(d.Dir, 0o750)
	if err := st.save(d.Dir); err != nil {
		t.Fatal(err)
	}
	bin := []byte("#!binary v1.2.0")
	_, err := d.Install(bytes.NewReader(bin), bundle(t, k, bin, "v1.2.0", "arm64"))
	wantReason(t, err, release.ReasonOldVersion)
}

func TestWrongArchIsRefused(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v1.1.0")
	_, err := d.Install(bytes.NewReader(bin), bundle(t, k, bin, "v1.1.0", "armv7"))
	wantReason(t, err, release.ReasonWrongArch)
}

// The hub's build is never installed on a device, nor a bundle signed
// before the flavours (a whole binary, its manifest names none): refused as
// a wrong architecture is.
func TestHubBuildBundleIsRefusedLikeAWrongArch(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v1.1.0 of the hub")
	sig, _, err := release.Sign(k.sec, bytes.NewReader(bin), release.Manifest{Version: "v1.1.0", Arch: "arm64", Flavour: release.FlavourHub})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Install(bytes.NewReader(bin), sig)
	wantReason(t, err, release.ReasonWrongFlavour)

	// Signed as before the split: no flavour= in the trusted comment.
	old := release.Manifest{Version: "v1.2.0", Arch: "arm64", SHA256: sha256hex(bin), Size: int64(len(bin))}
	r := minisign.NewReader(bytes.NewReader(bin))
	io.Copy(io.Discard, r)
	sig = r.SignWithComments(k.sec, old.Comment(), "")
	if strings.Contains(old.Comment(), "flavour") {
		t.Fatalf("the old manifest names a flavour: %s", old.Comment())
	}
	_, err = d.Install(bytes.NewReader(bin), sig)
	wantReason(t, err, release.ReasonWrongFlavour)
	if st, _ := d.State(); st.Trial != nil || st.Highest != "" {
		t.Fatalf("a refused bundle was installed: %+v", st)
	}

	// The device's build of the same version goes in.
	sig = bundle(t, k, bin, "v1.1.0", "arm64")
	if _, err := d.Install(bytes.NewReader(bin), sig); err != nil {
		t.Fatalf("the device's build: %v", err)
	}
}

func TestDeviceBelowMinVersionIsRefused(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := []byte("#!binary v2.0.0")
	sig, _, err := release.Sign(k.sec, bytes.NewReader(bin), release.Manifest{Version: "v2.0.0", Arch: "arm64", MinVersion: "v1.5.0"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Install(bytes.NewReader(bin), sig)
	wantReason(t, err, release.ReasonTooOld)
}

// launchTrial installs version as a trial on d and returns its binary.
func launchTrial(t *testing.T, d *Device, k keys, version string) []byte {
	t.Helper()
	bin := []byte("#!binary " + version)
	if _, err := d.Install(bytes.NewReader(bin), bundle(t, k, bin, version, "arm64")); err != nil {
		t.Fatal(err)
	}
	return bin
}

// started installs version as a trial on d and starts it once (the
// launcher runs it); the Device returned is that binary running, built as
// built.
func started(t *testing.T, d *Device, k keys, version, built string) *Device {
	t.Helper()
	launchTrial(t, d, k, version)
	if _, err := launchPath(t, d); err != nil {
		t.Fatal(err)
	}
	running := *d
	running.Version = built
	return &running
}

func TestTrialThatStartsAgainWithoutCommittingIsRolledBackAndNeverRetried(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	launchTrial(t, d, k, "v1.1.0")
	// First start of the trial: the launcher runs it.
	path, err := launchPath(t, d)
	if err != nil || path != filepath.Join(d.Dir, "v1.1.0", BinaryName) {
		t.Fatalf("first start: %q, %v", path, err)
	}
	// It crashed (or hung, or missed its deadline): the next start rolls back.
	path, err = launchPath(t, d)
	if err != nil || path != "" {
		t.Fatalf("second start: %q, %v (want the packaged binary)", path, err)
	}
	if s := d.Status(); s.State != StateRolledBack || s.Version != "v1.1.0" || s.Reason != release.ReasonUnhealthy {
		t.Fatalf("status %+v", s)
	}
	bin := []byte("#!binary v1.1.0")
	_, err = d.Install(bytes.NewReader(bin), bundle(t, k, bin, "v1.1.0", "arm64"))
	wantReason(t, err, release.ReasonBadVersion)
}

func TestRollbackReturnsToThePreviousInstalledVersion(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	v11 := started(t, d, k, "v1.1.0", "v1.1.0")
	if err := v11.WatchTrial(context.Background(), up, time.Millisecond, time.Second); err != nil {
		t.Fatal(err)
	}
	launchTrial(t, v11, k, "v1.2.0")
	launchPath(t, d) // v1.2.0's first start
	path, err := launchPath(t, d)
	if err != nil || path != filepath.Join(d.Dir, "v1.1.0", BinaryName) {
		t.Fatalf("after roll-back: %q, %v (want v1.1.0)", path, err)
	}
	st, _ := d.State()
	if st.Highest != "v1.1.0" || !st.IsBad("v1.2.0") {
		t.Fatalf("state %+v", st)
	}
}

func TestTrialNotHealthyByItsDeadlineFails(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	v11 := started(t, d, k, "v1.1.0", "v1.1.0")
	err := v11.WatchTrial(context.Background(), down, time.Millisecond, 20*time.Millisecond)
	wantReason(t, err, release.ReasonUnhealthy)
	if path, _ := launchPath(t, d); path != "" {
		t.Fatalf("the unhealthy trial runs again: %q", path)
	}
}

func TestHealthyTrialRaisesTheFloor(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	v11 := started(t, d, k, "v1.1.0", "v1.1.0")
	if err := v11.WatchTrial(context.Background(), up, time.Millisecond, time.Second); err != nil {
		t.Fatal(err)
	}
	st, _ := d.State()
	if st.Highest != "v1.1.0" || st.Trial != nil || st.Last.State != StateIdle {
		t.Fatalf("state %+v", st)
	}
	// Every later start runs it, without a trial.
	for range 3 {
		if path, _ := launchPath(t, d); path != filepath.Join(d.Dir, "v1.1.0", BinaryName) {
			t.Fatalf("launch %q", path)
		}
	}
}

func TestSwapInterruptedByAPowerCutRunsThePrevious(t *testing.T) {
	// The power went out after the trial was recorded, before current
	// was switched: the launcher runs what current says and forgets the
	// trial, without marking the version bad.
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	launchTrial(t, d, k, "v1.1.0")
	if err := d.setLink("current", ""); err != nil {
		t.Fatal(err)
	}
	path, err := launchPath(t, d)
	if err != nil || path != "" {
		t.Fatalf("%q, %v", path, err)
	}
	st, _ := d.State()
	if st.Trial != nil || st.IsBad("v1.1.0") {
		t.Fatalf("state %+v", st)
	}
}

func TestRollbackInterruptedByAPowerCutIsFinishedAtTheNextStart(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	launchTrial(t, d, k, "v1.1.0")
	launchPath(t, d)
	// The roll-back's first step (the version marked bad) was written,
	// then the power went out.
	st, _ := d.State()
	st.markBad("v1.1.0")
	st.save(d.Dir)
	if path, err := launchPath(t, d); err != nil || path != "" {
		t.Fatalf("%q, %v", path, err)
	}
	if s := d.Status(); s.State != StateRolledBack {
		t.Fatalf("status %+v", s)
	}
}

func TestInstalledBinaryChangedOnDiskIsNotRun(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	launchTrial(t, d, k, "v1.1.0")
	if err := os.WriteFile(filepath.Join(d.Dir, "v1.1.0", BinaryName), []byte("#!evil"), 0o750); err != nil {
		t.Fatal(err)
	}
	if path, err := launchPath(t, d); err != nil || path != "" {
		t.Fatalf("a binary that no longer verifies is run: %q, %v", path, err)
	}
}

func TestStateThatDoesNotParseIsAnError(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	os.MkdirAll(d.Dir, 0o750)
	os.WriteFile(filepath.Join(d.Dir, "state.json"), []byte("{"), 0o640)
	if _, err := launchPath(t, d); err == nil {
		t.Fatal("a corrupt state (the floor lost) is taken as empty")
	}
}

// The outside judge: Debian's minisign.

func minisignCLI(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("minisign")
	if err != nil {
		t.Fatal("minisign missing: scripts/test-deps.sh installs it")
	}
	return p
}

func TestBundleSignedWithMinisignCLIVerifies(t *testing.T) {
	cli := minisignCLI(t)
	dir := t.TempDir()
	pubFile, secFile, bin := filepath.Join(dir, "k.pub"), filepath.Join(dir, "k.key"), filepath.Join(dir, "guichet")
	if out, err := exec.Command(cli, "-G", "-W", "-p", pubFile, "-s", secFile).CombinedOutput(); err != nil {
		t.Fatalf("minisign -G: %v\n%s", err, out)
	}
	content := []byte("#!binary signed by the minisign tool")
	os.WriteFile(bin, content, 0o755)
	m := release.Manifest{Version: "v1.1.0", Arch: "arm64", SHA256: sha256hex(content), Size: int64(len(content)), Flavour: release.FlavourDevice}
	if out, err := exec.Command(cli, "-S", "-s", secFile, "-m", bin, "-t", m.Comment()).CombinedOutput(); err != nil {
		t.Fatalf("minisign -S: %v\n%s", err, out)
	}
	pub, err := release.ReadPublicKey(pubFile)
	if err != nil {
		t.Fatal(err)
	}
	got, err := release.VerifyFile(pub, bin, bin+".minisig")
	if err != nil || got != m {
		t.Fatalf("%+v, %v", got, err)
	}
	// And a device installs it.
	d := &Device{Dir: filepath.Join(dir, "update"), Key: pub, Arch: "arm64", Version: "v1.0.0", Log: quiet()}
	sig, _ := os.ReadFile(bin + ".minisig")
	if _, err := d.Install(bytes.NewReader(content), sig); err != nil {
		t.Fatal(err)
	}
}

func TestOurSignatureVerifiesWithMinisignCLI(t *testing.T) {
	cli := minisignCLI(t)
	k := newKeys(t)
	dir := t.TempDir()
	bin := filepath.Join(dir, "guichet")
	content := []byte("#!binary signed by guichet release sign")
	os.WriteFile(bin, content, 0o755)
	sig := bundle(t, k, content, "v1.1.0", "arm64")
	os.WriteFile(bin+".minisig", sig, 0o644)
	os.WriteFile(filepath.Join(dir, "k.pub"), []byte(release.PublicKeyText(k.pub)), 0o644)
	out, err := exec.Command(cli, "-V", "-p", filepath.Join(dir, "k.pub"), "-m", bin).CombinedOutput()
	if err != nil {
		t.Fatalf("minisign -V refuses our signature: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "Trusted comment: guichet-update version=v1.1.0 arch=arm64 sha256="+sha256hex(content)) {
		t.Fatalf("minisign -V shows:\n%s", out)
	}
	// And refuses it on a changed binary.
	os.WriteFile(bin, append(content, '!'), 0o755)
	if out, err := exec.Command(cli, "-V", "-p", filepath.Join(dir, "k.pub"), "-m", bin).CombinedOutput(); err == nil {
		t.Fatalf("minisign -V accepts a changed binary:\n%s", out)
	}
}

func TestReasonOfAnotherErrorIsDownload(t *testing.T) {
	if release.Reason(errors.New("connection reset")) != release.ReasonDownload {
		t.Fatal()
	}
}

func sha256hex(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}

func TestTrialVersionChangedOnDiskIsRolledBackToThePrevious(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	v11 := started(t, d, k, "v1.1.0", "v1.1.0")
	if err := v11.WatchTrial(context.Background(), up, time.Millisecond, time.Second); err != nil {
		t.Fatal(err)
	}
	launchTrial(t, v11, k, "v1.2.0")
	os.WriteFile(filepath.Join(d.Dir, "v1.2.0", BinaryName), []byte("#!evil"), 0o750)
	path, err := launchPath(t, d)
	if err != nil || path != filepath.Join(d.Dir, "v1.1.0", BinaryName) {
		t.Fatalf("%q, %v: want v1.1.0 back", path, err)
	}
	if st, _ := d.State(); !st.IsBad("v1.2.0") || st.Trial != nil {
		t.Fatalf("state %+v", st)
	}
}

func TestTrialOfAnotherVersionThanTheBinaryIsRolledBackAtOnce(t *testing.T) {
	// v1.1.0 was signed from a binary built as v1.0.5: the launcher runs
	// it, and it must not leave the trial pending (no deadline would ever
	// apply, no update would be checked again).
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	running := started(t, d, k, "v1.1.0", "v1.0.5")
	err := running.WatchTrial(context.Background(), up, time.Millisecond, time.Second)
	wantReason(t, err, release.ReasonWrongVersion)
	st, _ := d.State()
	if st.Trial != nil || !st.IsBad("v1.1.0") || d.link("current") != "" {
		t.Fatalf("state %+v, current %q", st, d.link("current"))
	}
	if s := d.Status(); s.State != StateRolledBack || s.Reason != release.ReasonWrongVersion {
		t.Fatalf("status %+v", s)
	}
}

func TestLaunchThatRunsThePackagedBinarySettlesTheTrial(t *testing.T) {
	// The package was upgraded to v1.2.0 while v1.1.0 was on trial: the
	// launcher runs the packaged binary, and the trial is not left pending.
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	launchTrial(t, d, k, "v1.1.0")
	pkg := *d
	pkg.Version = "v1.2.0"
	if path, err := launchPath(t, &pkg); err != nil || path != "" {
		t.Fatalf("%q, %v (want the packaged binary)", path, err)
	}
	st, _ := d.State()
	if st.Trial != nil {
		t.Fatalf("a trial is left pending for a binary that does not run: %+v", st.Trial)
	}
	if err := pkg.WatchTrial(context.Background(), down, time.Millisecond, time.Millisecond); err != nil {
		t.Fatalf("the packaged binary's watch: %v", err)
	}
}

func TestLaunchedFileIsTheOneVerifiedEvenIfThePathIsSwapped(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	bin := launchTrial(t, d, k, "v1.1.0")
	f, err := d.Launch()
	if err != nil || f == nil {
		t.Fatalf("launch: %v, %v", f, err)
	}
	defer f.Close()
	// Another process swaps the path after the launcher checked it.
	path := filepath.Join(d.Dir, "v1.1.0", BinaryName)
	evil := path + ".evil"
	if err := os.WriteFile(evil, []byte("#!evil"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(evil, path); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(ExecPath(f))
	if err != nil || !bytes.Equal(got, bin) {
		t.Fatalf("what runs is %q (%v), not the verified %q", got, err, bin)
	}
}

func TestTrialThatNeverReachesTheHubIsRetriedLaterAtMostThreeTimes(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	d.Now = func() time.Time { return now }
	bin := []byte("#!binary v1.1.0")
	sig := bundle(t, k, bin, "v1.1.0", "arm64")
	offline := func() Health { return Health{Turning: true} }
	for try := 1; try <= MaxOfflineTries; try++ {
		if _, err := d.Install(bytes.NewReader(bin), sig); err != nil {
			t.Fatalf("try %d: %v", try, err)
		}
		launchPath(t, d)
		v11 := *d
		v11.Version = "v1.1.0"
		err := v11.WatchTrial(context.Background(), offline, time.Millisecond, 5*time.Millisecond)
		wantReason(t, err, release.ReasonOffline)
		if path, _ := launchPath(t, d); path != "" {
			t.Fatalf("try %d: after the roll-back the launcher runs %q", try, path)
		}
		st, _ := d.State()
		if s := d.Status(); s.State != StateRolledBack || s.Reason != release.ReasonOffline {
			t.Fatalf("try %d: status %+v", try, s)
		}
		if try == MaxOfflineTries {
			if !st.IsBad("v1.1.0") {
				t.Fatalf("tried %d times, not marked bad: %+v", try, st)
			}
			_, err := d.Install(bytes.NewReader(bin), sig)
			wantReason(t, err, release.ReasonBadVersion)
			return
		}
		if st.IsBad("v1.1.0") || st.Retry == nil || st.Retry.Tries != try {
			t.Fatalf("try %d: a version that only never reached the hub: %+v", try, st)
		}
		// Not again at once: after a while.
		_, err = d.Install(bytes.NewReader(bin), sig)
		wantReason(t, err, release.ReasonOffline)
		now = now.Add(time.Duration(try)*OfflineBackoff + time.Minute)
	}
}

func TestTrialWhoseLoopDoesNotTurnIsMarkedBad(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	v11 := started(t, d, k, "v1.1.0", "v1.1.0")
	stuck := func() Health { return Health{Connected: true} }
	err := v11.WatchTrial(context.Background(), stuck, time.Millisecond, 5*time.Millisecond)
	wantReason(t, err, release.ReasonUnhealthy)
	launchPath(t, d)
	if st, _ := d.State(); !st.IsBad("v1.1.0") {
		t.Fatalf("state %+v", st)
	}
}
