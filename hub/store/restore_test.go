package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestASecondHubOnTheSameDirectoryIsRefused(t *testing.T) {
	dir := newSiteDir(t, 3)
	a, err := OpenDir(dir, DirOptions{Site: "s", Exclusive: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, dir, DirOptions{Site: "s", Exclusive: true}, ErrInUse, "two hubs", "pid")
	// What runs beside a hub (device, backup, check) still opens it.
	c, err := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	a.Close()
	b, err := OpenDir(dir, DirOptions{Site: "s", Exclusive: true, Log: quiet})
	if err != nil {
		t.Fatalf("after the first hub stopped: %v", err)
	}
	b.Close()
}

// A hub killed with commits still in its WAL; the backup restored by hand
// beside that WAL would get the WAL's pages applied to it. Restore sets the
// old files aside together.
func TestRestoreSetsTheOldDatabaseAndItsWALAside(t *testing.T) {
	dir := newSiteDir(t, 100)
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := Backup(context.Background(), filepath.Join(dir, DBFile), out); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir, DirOptions{Site: "s", Exclusive: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	appendTickets(t, s, 100, 150) // in the WAL
	if _, err := Restore(dir, out, time.Now()); !errors.Is(err, ErrInUse) {
		t.Fatalf("restore under a running hub: %v, want ErrInUse", err)
	}
	// The hub dies without a checkpoint: keep its files as they are now.
	crashed := filepath.Join(t.TempDir(), "crashed")
	os.Mkdir(crashed, 0o750)
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm", MarkerFile} {
		b, err := os.ReadFile(filepath.Join(dir, f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(crashed, f), b, 0o600)
	}
	s.Close()
	if fi, err := os.Stat(filepath.Join(crashed, DBFile+"-wal")); err != nil || fi.Size() == 0 {
		t.Fatalf("no WAL left by the crash: %v", err)
	}

	info, err := Restore(crashed, out, time.Date(2026, 12, 1, 14, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if info.LastSeq != 100 || info.Aside != filepath.Join(crashed, "replaced-20261201-140000") {
		t.Fatalf("restore: %+v", info)
	}
	for _, f := range []string{DBFile, DBFile + "-wal"} {
		if _, err := os.Stat(filepath.Join(info.Aside, f)); err != nil {
			t.Errorf("%s not set aside: %v", f, err)
		}
	}
	if _, err := os.Stat(filepath.Join(crashed, DBFile+"-wal")); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the old WAL was left beside the restored database")
	}
	if mode(t, filepath.Join(crashed, DBFile)) != 0o600 {
		t.Fatal("restored database not 0600")
	}
	r, err := OpenDir(crashed, DirOptions{Site: "s", Exclusive: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.LastSeq() != 100 {
		t.Fatalf("restored database holds %d events, the backup 100", r.LastSeq())
	}
}

func TestRestoreRefusesAnotherDirectorysBackup(t *testing.T) {
	mine, theirs := newSiteDir(t, 3), newSiteDir(t, 5)
	out := filepath.Join(t.TempDir(), "theirs.db")
	if _, err := Backup(context.Background(), filepath.Join(theirs, DBFile), out); err != nil {
		t.Fatal(err)
	}
	if _, err := Restore(mine, out, time.Now()); !errors.Is(err, ErrForeign) {
		t.Fatalf("restoring another directory's backup: %v, want ErrForeign", err)
	}
	s, err := OpenDir(mine, DirOptions{Site: "s", Log: quiet})
	if err != nil || s.LastSeq() != 3 {
		t.Fatalf("the refused restore changed the directory: %v", err)
	}
	s.Close()
}
