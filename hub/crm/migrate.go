package crm

// The lookups by e-mail and by name key. The indexes are partial (empty
// values are not indexed), and SQLite uses a partial index only when the
// query's own WHERE implies the index's: hence the "!= ”" terms, without
// which every lookup scans the table (TestLookupsUseTheirIndexes).
const (
	qByEmail   = `SELECT n FROM citizens WHERE email = ? AND email != '' AND merged_into = ''`
	qByNameKey = `SELECT n FROM citizens WHERE name_key = ? AND name_key != '' AND merged_into = ''`
)

// migrations are applied in order by internal/privdb; PRAGMA user_version
// records how many ran. Never edit one that has shipped: append a new one.
var migrations = []string{
	// 1: citizens, their phones, the name index, the timeline, requests,
	// imports awaiting an agent, elimination records, settings.
	`CREATE TABLE citizens (
		n                INTEGER PRIMARY KEY, -- the name index's docid
		id               TEXT NOT NULL UNIQUE,
		family_name      TEXT NOT NULL DEFAULT '',
		birth_name       TEXT NOT NULL DEFAULT '',
		first_names      TEXT NOT NULL DEFAULT '',
		birth_date       TEXT NOT NULL DEFAULT '', -- YYYY-MM-DD
		email            TEXT NOT NULL DEFAULT '', -- lower case
		address          TEXT NOT NULL DEFAULT '',
		language         TEXT NOT NULL DEFAULT '',
		sms_consent      INTEGER NOT NULL DEFAULT 0,
		sms_consent_at   INTEGER NOT NULL DEFAULT 0,
		email_consent    INTEGER NOT NULL DEFAULT 0,
		email_consent_at INTEGER NOT NULL DEFAULT 0,
		name_key         TEXT NOT NULL DEFAULT '', -- folded names and birth date: duplicates
		created_at       INTEGER NOT NULL,
		updated_at       INTEGER NOT NULL,
		last_at          INTEGER NOT NULL,         -- the last interaction: retention
		merged_into      TEXT NOT NULL DEFAULT ''  -- set when merged away: the id redirects
	);
	CREATE INDEX citizens_email ON citizens(email) WHERE email != '';
	CREATE INDEX citizens_name_key ON citizens(name_key) WHERE name_key != '';
	CREATE INDEX citizens_last ON citizens(last_at);
	CREATE TABLE phones (
		e164    TEXT NOT NULL,
		citizen INTEGER NOT NULL REFERENCES citizens(n) ON DELETE CASCADE,
		PRIMARY KEY (e164, citizen)
	) WITHOUT ROWID;
	CREATE INDEX phones_citizen ON phones(citizen);
	CREATE VIRTUAL TABLE names USING fts4(family, birth, first, tokenize=unicode61 "remove_diacritics=2", prefix="2,3");
	CREATE TABLE entries (
		id      INTEGER PRIMARY KEY,
		citizen INTEGER NOT NULL REFERENCES citizens(n) ON DELETE CASCADE,
		kind    TEXT NOT NULL,
		sector  TEXT NOT NULL,
		at      INTEGER NOT NULL,
		agent   TEXT NOT NULL DEFAULT '',
		ref     TEXT NOT NULL DEFAULT '', -- ticket id, request id
		body    TEXT NOT NULL DEFAULT '{}'
	);
	CREATE INDEX entries_citizen ON entries(citizen, at);
	CREATE INDEX entries_kind_at ON entries(kind, at);
	CREATE TABLE requests (
		id           TEXT PRIMARY KEY,
		citizen      INTEGER NOT NULL REFERENCES citizens(n) ON DELETE CASCADE,
		kind         TEXT NOT NULL,
		sector       TEXT NOT NULL,
		title        TEXT NOT NULL DEFAULT '',
		channel      TEXT NOT NULL,
		status       TEXT NOT NULL,
		step         TEXT NOT NULL DEFAULT '',
		step_no      INTEGER NOT NULL DEFAULT 0,
		max_steps    INTEGER NOT NULL DEFAULT 0,
		received_at  INTEGER NOT NULL,
		acked_at     INTEGER NOT NULL DEFAULT 0,
		closed_at    INTEGER NOT NULL DEFAULT 0,
		decision_at  INTEGER NOT NULL DEFAULT 0, -- the implicit decision's birth, 0 if none or pending
		suspensions  TEXT NOT NULL DEFAULT '[]',
		source       TEXT NOT NULL DEFAULT '',
		external_ref TEXT NOT NULL DEFAULT '',
		updated_at   INTEGER NOT NULL
	);
	CREATE UNIQUE INDEX requests_external ON requests(source, external_ref) WHERE source != '';
	CREATE INDEX requests_citizen ON requests(citizen);
	CREATE INDEX requests_decision ON requests(decision_at) WHERE closed_at = 0 AND decision_at != 0;
	CREATE TABLE pending_imports (
		id           TEXT PRIMARY KEY,
		source       TEXT NOT NULL,
		external_ref TEXT NOT NULL,
		received_at  INTEGER NOT NULL,
		inbound      TEXT NOT NULL, -- the request as read, JSON
		candidates   TEXT NOT NULL, -- citizen ids, JSON
		UNIQUE (source, external_ref)
	);
	CREATE TABLE eliminations (
		id     INTEGER PRIMARY KEY,
		at     INTEGER NOT NULL,
		actor  TEXT NOT NULL,
		rule   TEXT NOT NULL,
		what   TEXT NOT NULL,
		count  INTEGER NOT NULL
	);
	CREATE TABLE erasures (
		citizen TEXT PRIMARY KEY,
		at      INTEGER NOT NULL,
		actor   TEXT NOT NULL
	);
	CREATE TABLE settings (
		key   TEXT PRIMARY KEY,
		value TEXT NOT NULL
	);`,
	// 2: the calls store: the telephony link's calls with the caller's
	// number (calls.go); the lookup that files a ticket's visit or call once.
	`CREATE TABLE calls (
		ticket       TEXT PRIMARY KEY,          -- the call's phone ticket
		call_id      TEXT NOT NULL,             -- the PBX's id
		number       TEXT NOT NULL DEFAULT '',  -- as the PBX sent it; '' when withheld
		e164         TEXT NOT NULL DEFAULT '',  -- the same, normalised; '' when it is not a number
		queue        TEXT NOT NULL DEFAULT '',
		service      TEXT NOT NULL DEFAULT '',
		display      TEXT NOT NULL DEFAULT '',  -- the ticket's number, "A042"
		joined_at    INTEGER NOT NULL,
		connected_at INTEGER NOT NULL DEFAULT 0,
		ended_at     INTEGER NOT NULL DEFAULT 0, -- 0 while the call is present
		agent        TEXT NOT NULL DEFAULT '',
		outcome      TEXT NOT NULL DEFAULT '',
		wait_ms      INTEGER NOT NULL DEFAULT 0,
		talk_ms      INTEGER NOT NULL DEFAULT 0,
		inferred     INTEGER NOT NULL DEFAULT 0,
		citizen      TEXT NOT NULL DEFAULT '',  -- the file it was filed in
		callback     TEXT NOT NULL DEFAULT ''   -- its callback ticket
	);
	CREATE INDEX calls_open ON calls(joined_at) WHERE ended_at = 0;
	CREATE INDEX calls_ended ON calls(ended_at) WHERE ended_at != 0;
	CREATE INDEX calls_e164 ON calls(e164) WHERE e164 != '';
	CREATE INDEX calls_citizen ON calls(citizen) WHERE citizen != '';
	CREATE INDEX entries_ref ON entries(ref) WHERE ref != '';`,
	// 3: the wrap-up an agent writes after a call (wrapup.go).
	`ALTER TABLE calls ADD COLUMN wrapup TEXT NOT NULL DEFAULT '';      -- the agent's outcome: renseigne, transfere…
	ALTER TABLE calls ADD COLUMN wrapup_note TEXT NOT NULL DEFAULT ''; -- their short note
	ALTER TABLE calls ADD COLUMN wrapup_by TEXT NOT NULL DEFAULT '';   -- the account that wrote it
	ALTER TABLE calls ADD COLUMN wrapup_at INTEGER NOT NULL DEFAULT 0;`,
}
