package store

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"guichet/hub/queue"
	"guichet/internal/fulldisk"
)

// newSiteDir makes a data directory with a database of site "s" holding n
// tickets, closed.
func newSiteDir(t *testing.T, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "data")
	s, err := OpenDir(dir, DirOptions{Site: "s", Create: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	appendTickets(t, s, 0, n)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return dir
}

// appendTickets appends tickets from..to-1, 100 a commit.
func appendTickets(t testing.TB, s *Store, from, to int) {
	t.Helper()
	e, _ := queue.New(site())
	at := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC)
	var recs []*Record
	for i := from; i < to; i++ {
		recs = append(recs, &Record{Events: issueTB(t, e, fmt.Sprintf("t%06d", i), at)})
		if len(recs) == 100 || i == to-1 {
			if err := s.Append(recs); err != nil {
				t.Fatal(err)
			}
			recs = recs[:0]
		}
	}
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return b
}

func mustRefuse(t *testing.T, dir string, o DirOptions, want error, says ...string) {
	t.Helper()
	o.Log = quiet
	s, err := OpenDir(dir, o)
	if err == nil {
		s.Close()
		t.Fatalf("opened; want %v", want)
	}
	if !errors.Is(err, want) {
		t.Fatalf("refused with %v; want %v", err, want)
	}
	for _, w := range says {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("the refusal does not say %q: %v", w, err)
		}
	}
}

func TestADataDirectoryReopensWithItsMarker(t *testing.T) {
	dir := newSiteDir(t, 3)
	m, err := ReadMarker(dir)
	if err != nil || m == nil || len(m.StoreID) != 32 || m.Site != "s" {
		t.Fatalf("marker %+v, %v", m, err)
	}
	if mode(t, filepath.Join(dir, MarkerFile)) != 0o600 {
		t.Errorf("marker mode %v", mode(t, filepath.Join(dir, MarkerFile)))
	}
	s, err := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if id, _ := s.Identity(); id != *m || s.LastSeq() != 3 {
		t.Fatalf("reopened %+v with %d events; marker %+v", id, s.LastSeq(), m)
	}
}

func TestADeletedDatabaseIsRefusedNotStartedAfresh(t *testing.T) {
	dir := newSiteDir(t, 3)
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	mustRefuse(t, dir, DirOptions{Site: "s", Create: true}, ErrNoDatabase, "is missing", "Restore the last backup", MarkerFile)
	if _, err := os.Stat(filepath.Join(dir, DBFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the refusal left a database behind: %v", err)
	}
}

func TestAnEmptiedDatabaseIsRefused(t *testing.T) {
	dir := newSiteDir(t, 3)
	if err := os.Truncate(filepath.Join(dir, DBFile), 0); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, dir, DirOptions{Site: "s"}, ErrNoDatabase, "is empty")
	if len(fileBytes(t, filepath.Join(dir, DBFile))) != 0 {
		t.Fatal("the refusal wrote into the empty file")
	}
}

func TestAFreshDatabaseInPlaceOfTheSitesIsRefused(t *testing.T) {
	dir := newSiteDir(t, 3)
	path := filepath.Join(dir, DBFile)
	os.Remove(path)
	db, _ := sql.Open("sqlite3", path) // someone "repairs" it with the sqlite3 shell
	if _, err := db.Exec(`CREATE TABLE x(y)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	mustRefuse(t, dir, DirOptions{Site: "s"}, ErrNoDatabase, "no events")
}

func TestTheDatabaseOfAnotherDirectoryIsRefused(t *testing.T) {
	mine, theirs := newSiteDir(t, 3), newSiteDir(t, 5)
	foreign := fileBytes(t, filepath.Join(theirs, DBFile))
	if err := os.WriteFile(filepath.Join(mine, DBFile), foreign, 0o600); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, mine, DirOptions{Site: "s"}, ErrForeign, "another", "store id")
	if !bytes.Equal(fileBytes(t, filepath.Join(mine, DBFile)), foreign) {
		t.Fatal("the refused database was changed")
	}
}

func TestTheDatabaseOfAnotherSiteIsRefused(t *testing.T) {
	dir := newSiteDir(t, 3)
	mustRefuse(t, dir, DirOptions{Site: "other"}, ErrOtherSite, `site "s"`, `site "other"`)
	// A command that does not know the site (device add without --config) opens it.
	s, err := OpenDir(dir, DirOptions{Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
}

// damage overwrites a page in the middle of the database file.
func damage(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	fi, _ := f.Stat()
	page := fi.Size() / 4096 / 2
	if page < 2 {
		t.Fatalf("database of %d bytes: too small to damage a page in the middle", fi.Size())
	}
	if _, err := f.WriteAt(bytes.Repeat([]byte{0x5a}, 4096), page*4096); err != nil {
		t.Fatal(err)
	}
}

func TestDamagedPagesAreFoundAtOpen(t *testing.T) {
	dir := newSiteDir(t, 2000)
	damage(t, filepath.Join(dir, DBFile))
	mustRefuse(t, dir, DirOptions{Site: "s"}, ErrDamaged, "quick check", "guichet store check --data "+dir)
}

func TestNotADatabaseIsRefusedAsDamaged(t *testing.T) {
	dir := newSiteDir(t, 3)
	if err := os.WriteFile(filepath.Join(dir, DBFile), bytes.Repeat([]byte("not sqlite "), 1000), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRefuse(t, dir, DirOptions{Site: "s"}, ErrDamaged)
}

func TestASnapshotAheadOfTheLogIsRefused(t *testing.T) {
	dir := newSiteDir(t, 10)
	s, err := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	e, _ := queue.New(site())
	s.Load(e)
	snap := e.Snapshot()
	if err := s.SaveSnapshot(10, &snap); err != nil {
		t.Fatal(err)
	}
	if _, err := s.w.Exec(`DELETE FROM events WHERE seq > 6`); err != nil { // the log lost its tail
		t.Fatal(err)
	}
	s.Close()
	mustRefuse(t, dir, DirOptions{Site: "s"}, ErrDamaged, "snapshot", "event 10", "ends at event 6")
}

func TestABackupRestoredIntoItsDirectoryIsAccepted(t *testing.T) {
	dir := newSiteDir(t, 3)
	out := filepath.Join(t.TempDir(), "backup.db")
	info, err := Backup(context.Background(), filepath.Join(dir, DBFile), out)
	if err != nil {
		t.Fatal(err)
	}
	if mode(t, out) != 0o600 {
		t.Errorf("the backup has mode %v, want 0600", mode(t, out))
	}
	m, _ := ReadMarker(dir)
	if info.LastSeq != 3 || info.StoreID != m.StoreID || info.Site != "s" {
		t.Fatalf("backup %+v; marker %+v", info, m)
	}
	// The disk dies: the database is lost; the backup is put in its place.
	for _, f := range []string{DBFile, DBFile + "-wal", DBFile + "-shm"} {
		os.Remove(filepath.Join(dir, f))
	}
	if err := os.WriteFile(filepath.Join(dir, DBFile), fileBytes(t, out), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	if err != nil {
		t.Fatalf("the directory's own backup refused: %v", err)
	}
	defer s.Close()
	if s.LastSeq() != 3 {
		t.Fatalf("restored %d events, want 3", s.LastSeq())
	}
}

func TestABackupRestoredIntoANewDirectoryIsAdopted(t *testing.T) {
	dir := newSiteDir(t, 3)
	out := filepath.Join(t.TempDir(), "backup.db")
	if _, err := Backup(context.Background(), filepath.Join(dir, DBFile), out); err != nil {
		t.Fatal(err)
	}
	if _, err := Backup(context.Background(), filepath.Join(dir, DBFile), out); err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("a second backup onto the first: %v, want a refusal", err)
	}
	fresh := filepath.Join(t.TempDir(), "data")
	os.Mkdir(fresh, 0o750)
	if err := os.WriteFile(filepath.Join(fresh, DBFile), fileBytes(t, out), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := OpenDir(fresh, DirOptions{Site: "s", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	a, _ := ReadMarker(dir)
	b, _ := ReadMarker(fresh)
	if b == nil || *a != *b {
		t.Fatalf("new directory's marker %+v, want the original's %+v", b, a)
	}
}

// A database from before markers (schema 2) is adopted: given a store id,
// its directory given a marker, nothing lost.
func TestADatabaseFromBeforeMarkersIsAdopted(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	os.Mkdir(dir, 0o750)
	s, err := Open(filepath.Join(dir, DBFile), quiet)
	if err != nil {
		t.Fatal(err)
	}
	appendTickets(t, s, 0, 5)
	for _, table := range []string{"meta", "tokens", "sessions", "accounts"} { // the tables of later migrations
		s.w.Exec(`DROP TABLE ` + table)
	}
	s.w.Exec(`PRAGMA user_version = 2`)
	s.Close()
	if s, err = OpenDir(dir, DirOptions{Site: "s", Log: quiet}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	id, _ := s.Identity()
	m, _ := ReadMarker(dir)
	if s.LastSeq() != 5 || id.StoreID == "" || m == nil || m.StoreID != id.StoreID || m.Site != "s" {
		t.Fatalf("adopted with %d events, identity %+v, marker %+v", s.LastSeq(), id, m)
	}
}

func TestAMissingDataDirectoryIsCreatedOnlyWhenAsked(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "typo")
	mustRefuse(t, dir, DirOptions{}, os.ErrNotExist)
	if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a refused directory was created")
	}
}

func TestAReadOnlyDataDirectoryIsRefusedAtOnce(t *testing.T) {
	mnt := fulldisk.Mount(t, 8<<20)
	dir := filepath.Join(mnt, "data")
	s, err := OpenDir(dir, DirOptions{Site: "s", Create: true, Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if err := syscall.Mount("", mnt, "", syscall.MS_REMOUNT|syscall.MS_RDONLY, ""); err != nil {
		t.Skipf("remount read-only: %v", err)
	}
	mustRefuse(t, dir, DirOptions{Site: "s"}, ErrReadOnly, "not writable", "read-write")
}

// The demo's simulated day goes on from a kept directory's last event: read
// from the log without a hub, zero for a directory without a database.
func TestLastEventAtReadsTheLogsLastTime(t *testing.T) {
	if at, err := LastEventAt(t.TempDir()); err != nil || !at.IsZero() {
		t.Fatalf("an empty directory: %v, %v", at, err)
	}
	dir := newSiteDir(t, 3)
	at, err := LastEventAt(dir)
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Date(2026, 11, 17, 9, 0, 0, 0, time.UTC); !at.Equal(want) {
		t.Fatalf("last event at %v, want %v", at, want)
	}
}
