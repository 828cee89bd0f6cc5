package privdb

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var schema = []string{`CREATE TABLE t (x TEXT);`}

func TestFileIsPrivateWithSecureDelete(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	// A file left readable by someone else's umask is tightened at open.
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	db, err := Open(path, schema, quiet)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.W.Exec(`INSERT INTO t VALUES ('x')`); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		st, err := os.Stat(p)
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v, %v; want mode 0600", filepath.Base(p), st.Mode().Perm(), err)
		}
	}
	for _, c := range []struct {
		name string
		q    string
		want string
	}{{"secure_delete", `PRAGMA secure_delete`, "1"}, {"journal_mode", `PRAGMA journal_mode`, "wal"}, {"synchronous", `PRAGMA synchronous`, "2"}} {
		var got string
		if err := db.W.QueryRow(c.q).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s = %q, %v; want %q", c.name, got, err, c.want)
		}
		if err := db.R.QueryRow(c.q).Scan(&got); err != nil || (c.name == "secure_delete" && got != c.want) {
			t.Errorf("reader %s = %q, %v", c.name, got, err)
		}
	}
}

func TestNewerSchemaIsRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "p.db")
	db, err := Open(path, append(schema, `CREATE TABLE u (y TEXT);`), quiet)
	if err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := Open(path, schema, quiet); err == nil || !strings.Contains(err.Error(), "newer than this build") {
		t.Fatalf("older build opened a newer file: %v", err)
	}
}
