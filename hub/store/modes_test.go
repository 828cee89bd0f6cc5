package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

// The database holds every ticket of the site (and, later, citizens): it is
// the admin token's equal, 0600 whatever the umask, and so are the WAL and
// shared-memory files SQLite creates beside it.
func TestANewDatabaseAndItsWALArePrivate(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "guichet.db")
	s, err := Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Append([]*Record{{Reply: &Reply{Key: "k", Status: 200, Body: []byte("{}")}}}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s has mode %v, want 0600", filepath.Base(p), m)
		}
	}
}

func TestADatabaseReadableByOthersIsMadePrivate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "guichet.db")
	s, err := Open(path, quiet)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if err := os.WriteFile(p, nil, 0o644); err != nil && !os.IsExist(err) {
			t.Fatal(err)
		}
		os.Chmod(p, 0o644)
	}
	if s, err = Open(path, quiet); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		if m := mode(t, p); m != 0o600 {
			t.Errorf("%s left at mode %v, want 0600", filepath.Base(p), m)
		}
	}
}
