package store

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

func TestCheckPassesASoundDirectory(t *testing.T) {
	dir := newSiteDir(t, 50)
	s, _ := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	e, _ := queue.New(site())
	s.Load(e)
	snap := e.Snapshot()
	s.SaveSnapshot(s.LastSeq(), &snap)
	appendTickets(t, s, 50, 60)
	s.Close()
	st := site()
	r, err := Check(dir, &st)
	if err != nil || !r.OK() {
		t.Fatalf("sound directory: %+v, %v", r.Problems, err)
	}
	if r.Events != 60 || r.LastSeq != 60 || len(r.Snapshots) != 1 || r.Identity.Site != "s" || r.Marker == nil {
		t.Fatalf("report %+v", r)
	}
}

func TestCheckFindsASnapshotThatDoesNotMatchTheLog(t *testing.T) {
	dir := newSiteDir(t, 20)
	s, _ := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	e, _ := queue.New(site())
	s.Load(e)
	snap := e.Snapshot()
	snap.Tickets = snap.Tickets[1:] // a ticket the log holds is not in the snapshot
	s.SaveSnapshot(s.LastSeq(), &snap)
	s.Close()
	st := site()
	r, err := Check(dir, &st)
	if err != nil || r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), "does not match the log") {
		t.Fatalf("a snapshot missing a ticket: %+v, %v", r.Problems, err)
	}
}

func TestCheckFindsDamagedPagesAndAForeignDatabase(t *testing.T) {
	dir := newSiteDir(t, 2000)
	damage(t, filepath.Join(dir, DBFile))
	r, err := Check(dir, nil)
	if err != nil || r.OK() || !strings.Contains(r.Problems[0], "integrity check") {
		t.Fatalf("damaged: %+v, %v", r.Problems, err)
	}

	mine, theirs := newSiteDir(t, 1), newSiteDir(t, 1)
	if err := copyFile(filepath.Join(theirs, DBFile), filepath.Join(mine, DBFile)); err != nil {
		t.Fatal(err)
	}
	if r, _ := Check(mine, nil); r.OK() || !strings.Contains(strings.Join(r.Problems, "\n"), "another data directory") {
		t.Fatalf("foreign: %+v", r.Problems)
	}
}

func copyFile(from, to string) error {
	_, err := Backup(context.Background(), from, to+".tmp")
	if err != nil {
		return err
	}
	return renameOver(to+".tmp", to)
}

// A backup taken while a writer commits holds every event committed before
// it started, and is one state of the database (its last event's
// predecessors all there, its integrity check passing).
func TestABackupTakenUnderWritesHoldsEveryEventCommittedBeforeIt(t *testing.T) {
	dir := newSiteDir(t, 0)
	s, err := OpenDir(dir, DirOptions{Site: "s", Log: quiet})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var committed atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i += 10 {
			select {
			case <-stop:
				return
			default:
			}
			e, _ := queue.New(site())
			var recs []*Record
			for k := i; k < i+10; k++ {
				evs, _ := e.Issue(queue.By{At: time.Now()}, queue.IssueRequest{ID: fmt.Sprintf("t%06d", k), Args: api.IssueArgs{Service: "A", Force: true}})
				recs = append(recs, &Record{Events: evs})
			}
			if err := s.Append(recs); err != nil {
				t.Error(err)
				return
			}
			committed.Store(s.LastSeq())
		}
	}()
	for deadline := time.Now().Add(10 * time.Second); committed.Load() < 500; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d events committed after 10 s", committed.Load())
		}
	}
	before := committed.Load()
	out := filepath.Join(t.TempDir(), "b.db")
	info, err := Backup(context.Background(), filepath.Join(dir, DBFile), out)
	close(stop)
	wg.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if info.LastSeq < before {
		t.Fatalf("backup ends at event %d; %d were committed before it started", info.LastSeq, before)
	}
	restored := filepath.Join(t.TempDir(), "data")
	if err := renameOver(out, filepath.Join(mkdir(t, restored), DBFile)); err != nil {
		t.Fatal(err)
	}
	st := site()
	r, err := Check(restored, &st)
	if err != nil || !r.OK() || r.Events != info.LastSeq {
		t.Fatalf("restored backup: %+v (%d events, backup said %d), %v", r.Problems, r.Events, info.LastSeq, err)
	}
	b, _ := json.Marshal(r.Identity)
	if r.Identity.StoreID == "" {
		t.Fatalf("identity %s", b)
	}
}

func mkdir(t *testing.T, dir string) string {
	t.Helper()
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	return dir
}

func renameOver(from, to string) error { return os.Rename(from, to) }
