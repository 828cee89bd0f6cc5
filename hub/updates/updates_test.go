package updates

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"guichet/internal/release"
)

// shelfWith is a shelf trusting a new key, and a binary signed as v1.4.0
// for arm64 beside it.
func shelfWith(t *testing.T) (Shelf, string) {
	t.Helper()
	pb, sb, err := release.GenerateKey("")
	if err != nil {
		t.Fatal(err)
	}
	pub, _ := release.ParsePublicKey(pb)
	sec, _ := release.ParseSecretKey(sb, "")
	dir := t.TempDir()
	s := Shelf{Dir: filepath.Join(dir, "updates")}
	if err := s.SetKey(pub, false); err != nil {
		t.Fatal(err)
	}
	bin := []byte("#!binary v1.4.0")
	sig, _, err := release.Sign(sec, bytes.NewReader(bin), release.Manifest{Version: "v1.4.0", Arch: "arm64"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "guichet-linux-arm64")
	os.WriteFile(path, bin, 0o755)
	os.WriteFile(path+".minisig", sig, 0o644)
	return s, path
}

func TestPublishedTwiceAtOnceTheBundleIsWholeAndBothSucceed(t *testing.T) {
	s, bin := shelfWith(t)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			_, err := s.Publish(bin, bin+".minisig")
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("publish: %v", err)
		}
	}
	b, ok, err := s.Get("arm64", "v1.4.0")
	if err != nil || !ok {
		t.Fatalf("get: %v %v", ok, err)
	}
	key, _ := s.Key()
	if _, err := release.VerifyFile(key, b.Binary, filepath.Join(filepath.Dir(b.Binary), release.SigName)); err != nil {
		t.Fatalf("the bundle on the shelf: %v", err)
	}
	ents, _ := os.ReadDir(filepath.Join(s.Dir, "arm64"))
	if len(ents) != 1 {
		t.Fatalf("left on the shelf: %v", ents)
	}
}

func TestSetKeyIsNotStoppedByALeftoverTemporaryFile(t *testing.T) {
	s, _ := shelfWith(t)
	// A crash of an older write left its temporary file behind, read-only.
	os.Remove(filepath.Join(s.Dir, KeyFile))
	if err := os.Mkdir(filepath.Join(s.Dir, KeyFile+".tmp"), 0o500); err != nil {
		t.Fatal(err)
	}
	pb, _, _ := release.GenerateKey("")
	pub, _ := release.ParsePublicKey(pb)
	if err := s.SetKey(pub, true); err != nil {
		t.Fatalf("set key: %v", err)
	}
	if fi, err := os.Stat(filepath.Join(s.Dir, KeyFile)); err != nil || fi.Mode().Perm() != 0o644 {
		t.Fatalf("key file: %v %v", fi, err)
	}
}
