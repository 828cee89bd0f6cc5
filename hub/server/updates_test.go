package server_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"guichet/hub/api"
	"guichet/internal/release"
	"guichet/internal/sitetest"
)

// signed writes a binary and its signature for version and arch in dir.
func signed(t *testing.T, dir string, sec []byte, content, version, arch string) (bin, sig string) {
	t.Helper()
	k, err := release.ParseSecretKey(sec, "")
	if err != nil {
		t.Fatal(err)
	}
	bin = filepath.Join(dir, "guichet-"+version+"-"+arch)
	os.WriteFile(bin, []byte(content), 0o755)
	s, _, err := release.Sign(k, bytes.NewReader([]byte(content)), release.Manifest{Version: version, Arch: arch})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(bin+".minisig", s, 0o644)
	return bin, bin + ".minisig"
}

// getAs asks path as a device (HTTP Basic), or with no credentials when id is "".
func getAs(t *testing.T, s *sitetest.Site, id, secret, path string) (int, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", s.HTTPURL+path, nil)
	if id != "" {
		req.SetBasicAuth(id, secret)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, b
}

func TestDevicesGetTheNewestSignedBundleOfTheirArch(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("kiosk-1", "kiosk", "")
	pub, sec, _ := release.GenerateKey("")
	k, _ := release.ParsePublicKey(pub)
	if err := s.Updates.SetKey(k, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	for _, v := range []string{"v1.2.0", "v1.10.0", "v1.9.0"} {
		if _, err := s.Updates.Publish(signed(t, dir, sec, "binary "+v, v, "arm64")); err != nil {
			t.Fatal(err)
		}
	}
	st, b := getAs(t, s, "kiosk-1", secret, "/api/v1/updates/arm64")
	var m api.UpdateManifest
	if st != 200 || json.Unmarshal(b, &m) != nil {
		t.Fatalf("%d %s", st, b)
	}
	if m.Version != "v1.10.0" || m.Arch != "arm64" || m.Download != "/api/v1/updates/arm64/v1.10.0" {
		t.Fatalf("manifest %+v", m)
	}
	if got, err := release.Verify(k, bytes.NewReader([]byte("binary v1.10.0")), []byte(m.Signature)); err != nil || got.Version != "v1.10.0" {
		t.Fatalf("the served signature: %+v %v", got, err)
	}
	if st, b := getAs(t, s, "kiosk-1", secret, m.Download); st != 200 || string(b) != "binary v1.10.0" {
		t.Fatalf("binary: %d %q", st, b)
	}
	if st, b := getAs(t, s, "kiosk-1", secret, "/api/v1/updates/armv7"); st != 404 || !bytes.Contains(b, []byte(api.CodeNoUpdate)) {
		t.Fatalf("another arch: %d %s", st, b)
	}
	// Enrollment gives the key.
	st, b, _ = enroll(t, s, issueCode(t, s, "kiosk-1").Code)
	var e api.Enrollment
	if st != 200 || json.Unmarshal(b, &e) != nil || e.UpdateKey != string(pub) {
		t.Fatalf("enrollment's update key %q (want %q)", e.UpdateKey, pub)
	}
}

func TestUpdateRoutesRefuseWhoIsNoDevice(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("kiosk-1", "kiosk", "")
	pub, sec, _ := release.GenerateKey("")
	k, _ := release.ParsePublicKey(pub)
	s.Updates.SetKey(k, false)
	if _, err := s.Updates.Publish(signed(t, t.TempDir(), sec, "binary", "v1.1.0", "arm64")); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, id, secret string }{
		{"nobody", "", ""}, {"a wrong secret", "kiosk-1", secret + "x"}, {"an unknown device", "kiosk-9", secret},
	} {
		for _, path := range []string{"/api/v1/updates/arm64", "/api/v1/updates/arm64/v1.1.0"} {
			if st, _ := getAs(t, s, c.id, c.secret, path); st != 401 {
				t.Errorf("%s on %s: %d, want 401", c.name, path, st)
			}
		}
	}
	s.Must("POST", "/api/v1/devices/kiosk-1/disable", "", 200, nil)
	if st, _ := getAs(t, s, "kiosk-1", secret, "/api/v1/updates/arm64"); st != 401 {
		t.Errorf("a disabled device: %d, want 401", st)
	}
	// A device's secret opens nothing else.
	if st, _ := getAs(t, s, "kiosk-1", secret, "/api/v1/devices"); st != 401 {
		t.Errorf("a device's secret on an admin route: %d, want 401", st)
	}
}

func TestPublishRefusesABundleOfAnotherKeyTamperedOrTheHubsBuild(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	pub, sec, _ := release.GenerateKey("")
	_, other, _ := release.GenerateKey("")
	k, _ := release.ParsePublicKey(pub)
	s.Updates.SetKey(k, false)
	dir := t.TempDir()
	_, err := s.Updates.Publish(signed(t, dir, other, "binary", "v1.1.0", "arm64"))
	if release.Reason(err) != release.ReasonOtherKey {
		t.Fatalf("another key: %v", err)
	}
	bin, sig := signed(t, dir, sec, "binary", "v1.2.0", "arm64")
	os.WriteFile(bin, []byte("binarY"), 0o755)
	if _, err := s.Updates.Publish(bin, sig); release.Reason(err) != release.ReasonBadSignature {
		t.Fatalf("tampered: %v", err)
	}
	if _, ok, _ := s.Updates.Newest("arm64"); ok {
		t.Fatal("a refused bundle is served")
	}
	// The hub's build, or one signed before the flavours, is no bundle for devices.
	hb := filepath.Join(dir, "guichet-linux-arm64")
	os.WriteFile(hb, []byte("hub binary"), 0o755)
	hk, _ := release.ParseSecretKey(sec, "")
	hs, _, _ := release.Sign(hk, bytes.NewReader([]byte("hub binary")), release.Manifest{Version: "v1.3.0", Arch: "arm64", Flavour: release.FlavourHub})
	os.WriteFile(hb+".minisig", hs, 0o644)
	if _, err := s.Updates.Publish(hb, hb+".minisig"); release.Reason(err) != release.ReasonWrongFlavour {
		t.Fatalf("the hub's build published: %v", err)
	}
	if _, ok, _ := s.Updates.Newest("arm64"); ok {
		t.Fatal("a refused bundle is served")
	}
	k2, _ := release.ParsePublicKey(mustPub(t))
	if err := s.Updates.SetKey(k2, false); err == nil {
		t.Fatal("the hub's key replaced without --replace-key")
	}
}

func mustPub(t *testing.T) []byte {
	pub, _, err := release.GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	return pub
}
