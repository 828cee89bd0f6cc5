package stats

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"time"

	"guichet/hub/queue"
	"guichet/hub/store"
)

// ErrNoSite: Open was given no site, and no earlier Open recorded one.
var ErrNoSite = errors.New("no site: give the site's configuration (a hub that ran with the statistics records it)")

// File is the projection's file in the hub's data directory.
const File = "stats.db"

// schemaVersion is the projection's schema and folding rules. Change it
// whenever either changes: a projection of another version is rebuilt from
// the log at Open.
const schemaVersion = 1

// batch is how many events one catch-up transaction folds.
const batch = 10_000

// Options says what a Projection reads and for which site.
type Options struct {
	Store *store.Store // the hub's store: its event log is read, never written
	// Path of the projection's file; stats.db beside the store's database
	// if empty.
	Path string
	// Site gives the time zone, the services (names, targets) and the agents'
	// names. Nil: the site recorded by the last Open that had one (the hub
	// gives its site when it opens the statistics; guichet stats without
	// --config uses it).
	Site  *queue.Site
	Log   *slog.Logger
	Clock func() time.Time // time.Now if nil
}

// Projection is the statistics' view of the event log: one row per
// finished ticket, in its own SQLite file, and the cursor that says up to
// which event of the log it holds. CatchUp is its one writer (a mutex in
// this process; SQLite's write lock and the cursor read inside the same
// transaction between processes); reports read it concurrently.
type Projection struct {
	// Immutable after Open.
	st    *store.Store
	db    *sql.DB
	path  string
	site  Site
	loc   *time.Location
	log   *slog.Logger
	clock func() time.Time

	cache *cache

	mu     sync.Mutex // the writer: CatchUp
	fold   *fold      // the open tickets as of cursor; nil: reload from the file
	cursor int64
}

// Open opens (or creates) the projection and checks that it is the
// projection of this store's log: the same schema version, the same time
// zone, the same store, and a cursor that points at the same event in the
// log as when it was written. Otherwise it empties it, and the next CatchUp
// rebuilds it from the start of the log. Open does not catch up.
func Open(ctx context.Context, o Options) (*Projection, error) {
	if o.Store == nil {
		return nil, errors.New("stats: no store")
	}
	p := &Projection{st: o.Store, path: o.Path, log: o.Log, clock: o.Clock, cache: newCache()}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	if p.clock == nil {
		p.clock = time.Now
	}
	if p.path == "" {
		p.path = filepath.Join(filepath.Dir(o.Store.Path()), File)
	}
	if err := private(p.path); err != nil {
		return nil, err
	}
	dsn := "file:" + url.PathEscape(p.path) + "?_journal_mode=WAL&_busy_timeout=10000&_txlock=immediate&_synchronous=NORMAL"
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", p.path, err)
	}
	db.SetMaxOpenConns(4)
	p.db = db
	if err := p.init(ctx, o.Site); err != nil {
		db.Close()
		if errors.Is(err, ErrNoSite) {
			return nil, err
		}
		return nil, fmt.Errorf("statistics %s: %w", p.path, err)
	}
	return p, nil
}

// private creates the file 0600: it holds no citizen's data, but the
// agents' work, which is not for everyone on the machine.
func private(path string) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	return f.Close()
}

// Close closes the projection's file.
func (p *Projection) Close() error { return p.db.Close() }

// Site returns the site the statistics are computed for.
func (p *Projection) Site() *Site { return &p.site }

const ticketCols = `day, id, hour, prefix, number, service_in, service, channel, priority, agent, counter, device,
	issued, received, first_called, called, started, ended, outcome, transfers, recalls, offline`

var schema = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS tickets (
	day TEXT NOT NULL, id TEXT NOT NULL, hour INTEGER NOT NULL,
	prefix TEXT NOT NULL, number INTEGER NOT NULL,
	service_in TEXT NOT NULL, service TEXT NOT NULL, channel TEXT NOT NULL, priority TEXT NOT NULL,
	agent TEXT NOT NULL, counter TEXT NOT NULL, device TEXT NOT NULL,
	issued INTEGER NOT NULL, received INTEGER NOT NULL, first_called INTEGER NOT NULL,
	called INTEGER NOT NULL, started INTEGER NOT NULL, ended INTEGER NOT NULL,
	outcome TEXT NOT NULL, transfers INTEGER NOT NULL, recalls INTEGER NOT NULL, offline INTEGER NOT NULL,
	PRIMARY KEY (day, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS open (
	day TEXT NOT NULL, id TEXT NOT NULL, hour INTEGER NOT NULL,
	prefix TEXT NOT NULL, number INTEGER NOT NULL,
	service_in TEXT NOT NULL, service TEXT NOT NULL, channel TEXT NOT NULL, priority TEXT NOT NULL,
	agent TEXT NOT NULL, counter TEXT NOT NULL, device TEXT NOT NULL,
	issued INTEGER NOT NULL, received INTEGER NOT NULL, first_called INTEGER NOT NULL,
	called INTEGER NOT NULL, started INTEGER NOT NULL, ended INTEGER NOT NULL,
	outcome TEXT NOT NULL, transfers INTEGER NOT NULL, recalls INTEGER NOT NULL, offline INTEGER NOT NULL,
	waiting INTEGER NOT NULL,
	PRIMARY KEY (id)
) WITHOUT ROWID;`

// init brings the file to this version's schema, records or reads the
// site, and empties the projection if it is not the projection of this log.
func (p *Projection) init(ctx context.Context, site *queue.Site) error {
	tx, err := p.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var v int
	if err := tx.QueryRow(`PRAGMA user_version`).Scan(&v); err != nil {
		return err
	}
	if v != 0 && v != schemaVersion {
		p.log.Info("statistics: projection of another version, rebuilding it", "was", v, "now", schemaVersion)
		if _, err := tx.Exec(`DROP TABLE IF EXISTS tickets; DROP TABLE IF EXISTS open; DROP TABLE IF EXISTS meta;`); err != nil {
			return err
		}
	}
	if _, err := tx.Exec(schema + fmt.Sprintf(`PRAGMA user_version = %d;`, schemaVersion)); err != nil {
		return fmt.Errorf("schema: %w", err)
	}
	m := metaTx{tx}
	if site != nil {
		p.site = siteOf(site)
		b, err := json.Marshal(p.site)
		if err != nil {
			return err
		}
		if err := m.set("site", string(b)); err != nil {
			return err
		}
	} else {
		s, err := m.get("site")
		if err != nil {
			return err
		}
		if s == "" {
			return ErrNoSite
		}
		if err := json.Unmarshal([]byte(s), &p.site); err != nil {
			return fmt.Errorf("recorded site: %w", err)
		}
	}
	if p.loc, err = time.LoadLocation(p.site.Zone); err != nil {
		return fmt.Errorf("time zone %q: %w", p.site.Zone, err)
	}
	why, err := p.stale(ctx, m)
	if err != nil {
		return err
	}
	if why != "" {
		p.log.Info("statistics: rebuilding the projection from the log", "why", why)
		if _, err := tx.Exec(`DELETE FROM tickets; DELETE FROM open; DELETE FROM meta WHERE key IN ('cursor', 'cursor_event')`); err != nil {
			return err
		}
		id, err := p.st.Identity()
		if err != nil {
			return err
		}
		if err := m.set("store_id", id.StoreID); err != nil {
			return err
		}
		if err := m.set("zone", p.site.Zone); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// stale says why the projection is not that of the store's log ("" if it is).
func (p *Projection) stale(ctx context.Context, m metaTx) (string, error) {
	id, err := p.st.Identity()
	if err != nil {
		return "", err
	}
	cur, err := m.cursor()
	if err != nil {
		return "", err
	}
	storeID, err := m.get("store_id")
	if err != nil {
		return "", err
	}
	zone, err := m.get("zone")
	if err != nil {
		return "", err
	}
	switch {
	case storeID != id.StoreID:
		return "new, or the projection of another database", nil
	case zone != p.site.Zone:
		return fmt.Sprintf("the site's time zone changed from %s to %s", zone, p.site.Zone), nil
	case cur == 0:
		return "", nil
	case cur > p.st.LastSeq():
		return "the log is shorter than the projection (a backup was restored)", nil
	}
	evs, err := p.st.Events(ctx, cur-1, 1)
	if err != nil {
		return "", err
	}
	fp, err := m.get("cursor_event")
	if err != nil {
		return "", err
	}
	if len(evs) == 0 || evs[0].Seq != cur || fingerprint(&evs[0]) != fp {
		return "the log's event at the cursor is not the one folded (a backup was restored)", nil
	}
	return "", nil
}

// fingerprint identifies an event of the log, to notice a log that was
// replaced under the projection's cursor.
func fingerprint(ev *queue.Event) string {
	return fmt.Sprintf("%d %d %s %s", ev.Seq, ev.At.UnixMilli(), ev.Type, ev.Ticket)
}

// CatchUp folds the events of the log the projection has not read yet and
// returns how many it folded. Reports call it first, so they are up to
// date; the hub may also call it after each change (Run).
func (p *Projection) CatchUp(ctx context.Context) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.fold != nil && p.cursor == p.st.LastSeq() {
		return 0, nil // nothing new in the log since this process last folded it
	}
	total := 0
	for {
		n, err := p.step(ctx)
		total += n
		if err != nil {
			p.fold = nil // reload the open tickets from the file next time
			return total, fmt.Errorf("statistics: catch up with the log: %w", err)
		}
		if n < batch {
			return total, nil
		}
	}
}

// Run catches up whenever changed is signalled, until ctx ends. After the
// first catch-up it loads the last MaxDays days into memory, so that the
// first report a supervisor asks for is as quick as the next.
func (p *Projection) Run(ctx context.Context, changed <-chan struct{}) {
	if _, err := p.CatchUp(ctx); err != nil && ctx.Err() == nil {
		p.log.Warn("statistics", "err", err)
	}
	today := p.clock().In(p.loc)
	q := Query{From: today.AddDate(0, 0, 1-MaxDays).Format(time.DateOnly), To: today.Format(time.DateOnly)}
	if days, err := q.dayList(); err == nil {
		start := time.Now()
		if _, err := p.warm(ctx, days); err != nil && ctx.Err() == nil {
			p.log.Warn("statistics: load the last days", "err", err)
		}
		p.log.Debug("statistics: last days loaded", "days", len(days), "took", time.Since(start).Round(time.Millisecond))
	}
	for {
		if _, err := p.CatchUp(ctx); err != nil && ctx.Err() == nil {
			p.log.Warn("statistics", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		}
	}
}

// step folds up to batch events in one transaction: the rows of the
// tickets that ended, the open tickets that changed, the cursor.
func (p *Projection) step(ctx context.Context) (int, error) {
	tx, err := p.db.BeginTx(ctx, nil) // BEGIN IMMEDIATE: one writer across processes
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	m := metaTx{tx}
	cur, err := m.cursor()
	if err != nil {
		return 0, err
	}
	var ended []*Ticket
	if p.fold == nil || p.cursor != cur {
		// First time, or another process (guichet stats) moved the cursor:
		// its rows are not in the cache.
		if p.fold, err = p.loadOpen(tx); err != nil {
			return 0, err
		}
		p.cursor = cur
		p.cache.drop(nil)
	}
	p.fold.done = func(t *Ticket) { ended = append(ended, t) }
	evs, err := p.st.Events(ctx, cur, batch)
	if err != nil || len(evs) == 0 {
		return 0, err
	}
	for i := range evs {
		p.fold.apply(&evs[i])
	}
	if err := p.write(tx, ended); err != nil {
		return 0, err
	}
	last := &evs[len(evs)-1]
	if err := m.set("cursor", fmt.Sprint(last.Seq)); err != nil {
		return 0, err
	}
	if err := m.set("cursor_event", fingerprint(last)); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	p.cursor = last.Seq
	if len(ended) > 0 {
		days := map[string]bool{}
		for _, t := range ended {
			days[t.Day] = true
		}
		p.cache.drop(days)
	}
	return len(evs), nil
}

// write stores the tickets that ended and the open tickets that changed.
func (p *Projection) write(tx *sql.Tx, ended []*Ticket) error {
	ins, err := tx.Prepare(`INSERT OR REPLACE INTO tickets(` + ticketCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	for _, t := range ended {
		if _, err := ins.Exec(t.values()...); err != nil {
			return fmt.Errorf("ticket %s: %w", t.ID, err)
		}
	}
	up, err := tx.Prepare(`INSERT OR REPLACE INTO open(` + ticketCols + `, waiting) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
	if err != nil {
		return err
	}
	defer up.Close()
	del, err := tx.Prepare(`DELETE FROM open WHERE id = ?`)
	if err != nil {
		return err
	}
	defer del.Close()
	for id := range p.fold.changed {
		if t := p.fold.open[id]; t != nil {
			_, err = up.Exec(append(t.values(), t.waiting)...)
		} else {
			_, err = del.Exec(id)
		}
		if err != nil {
			return fmt.Errorf("open ticket %s: %w", id, err)
		}
	}
	clear(p.fold.changed)
	return nil
}

func (p *Projection) loadOpen(tx *sql.Tx) (*fold, error) {
	f := newFold(p.loc, nil)
	rows, err := tx.Query(`SELECT ` + ticketCols + `, waiting FROM open`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		t := &Ticket{}
		if err := rows.Scan(append(t.dests(), &t.waiting)...); err != nil {
			return nil, err
		}
		t.fromScan()
		f.open[t.ID] = t
	}
	return f, rows.Err()
}

// Cursor returns the sequence of the last event of the log folded.
func (p *Projection) Cursor(ctx context.Context) (int64, error) {
	var s string
	err := p.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'cursor'`).Scan(&s)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	var n int64
	_, err = fmt.Sscan(s, &n)
	return n, err
}

type metaTx struct{ tx *sql.Tx }

func (m metaTx) get(key string) (string, error) {
	var v string
	err := m.tx.QueryRow(`SELECT value FROM meta WHERE key = ?`, key).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return v, err
}

func (m metaTx) set(key, value string) error {
	_, err := m.tx.Exec(`INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value`, key, value)
	return err
}

func (m metaTx) cursor() (int64, error) {
	s, err := m.get("cursor")
	if err != nil || s == "" {
		return 0, err
	}
	var n int64
	if _, err := fmt.Sscan(s, &n); err != nil {
		return 0, fmt.Errorf("cursor %q: %w", s, err)
	}
	return n, nil
}
