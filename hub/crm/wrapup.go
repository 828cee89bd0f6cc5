package crm

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"guichet/hub/audit"
)

// The wrap-up of a call: after hanging up, the agent who took it says what
// came of it — one of a fixed list of outcomes — and may add a short note.
// It is kept on the call's record and, when the call is filed in a
// citizen's timeline, on its entry there (an entry filed later, by the
// call's end or by an agent attaching its ticket, carries it too). The
// agent who took the call writes it, a supervisor (or the DPO) for any
// call; writing it again replaces it. The note is personal data: it is
// stored, exported and erased with the call, never logged nor audited
// (the audit says the outcome only).

// WrapUp is what came of a call, as the agent who took it says.
type WrapUp string

// The outcomes an agent chooses from.
const (
	WrapUpInformed    WrapUp = "renseigne"        // the caller got their answer
	WrapUpTransferred WrapUp = "transfere"        // put through to a service or a person
	WrapUpCallBack    WrapUp = "rappel_a_prevoir" // someone must call back
	WrapUpMessage     WrapUp = "message_pris"     // a message taken for someone
	WrapUpNothing     WrapUp = "sans_suite"       // nothing to follow (a wrong number…)
)

// WrapUps are the outcomes, in the order a page offers them.
var WrapUps = []WrapUp{WrapUpInformed, WrapUpTransferred, WrapUpCallBack, WrapUpMessage, WrapUpNothing}

// MaxWrapUpNote bounds a wrap-up's note, in characters.
const MaxWrapUpNote = 500

// Valid tells whether w is one of WrapUps.
func (w WrapUp) Valid() bool {
	for _, x := range WrapUps {
		if w == x {
			return true
		}
	}
	return false
}

// WrapUpCall writes the wrap-up of the call of ticket: outcome w and a
// note (at most MaxWrapUpNote characters). agent is the site agent v is
// ("" for an account that is none): an agent wraps up the calls they took
// only; a supervisor or the DPO any. A call nobody took yet, or one the
// agent did not take, is not found (its existence stays private). The
// answer is the call's record.
func (s *Store) WrapUpCall(ctx context.Context, v Viewer, agent, ticket string, w WrapUp, note string) (CallRecord, error) {
	if err := s.checkViewer(v); err != nil {
		return CallRecord{}, err
	}
	if !w.Valid() {
		return CallRecord{}, fmt.Errorf("%w: outcome %q is not one of %s", ErrInvalid, w, wrapUpList())
	}
	note, err := text("note", note, MaxWrapUpNote)
	if err != nil {
		return CallRecord{}, err
	}
	rec, err := s.readCall(ctx, s.db.R, ticket)
	if errors.Is(err, ErrCallUnknown) {
		return CallRecord{}, s.deny(ctx, v, "call.wrapup", "call", ticket, "no such record")
	}
	if err != nil {
		return CallRecord{}, err
	}
	switch {
	case rec.Agent == "":
		return CallRecord{}, s.deny(ctx, v, "call.wrapup", "call", ticket, "not taken")
	case v.Role == RoleAgent && (agent == "" || agent != rec.Agent):
		return CallRecord{}, s.deny(ctx, v, "call.wrapup", "call", ticket, "another agent's call")
	case v.Role != RoleAgent && v.Role != RoleSupervisor && v.Role != RoleDPO:
		return CallRecord{}, s.deny(ctx, v, "call.wrapup", "call", ticket, "role")
	}
	if err := s.record(ctx, v, "call.wrapup", "call", ticket, audit.Allowed, "wrapup="+string(w)); err != nil {
		return CallRecord{}, err
	}
	now := s.clock().UTC()
	err = s.write(ctx, "call.wrapup", func(tx *sql.Tx) error {
		if _, err := tx.Exec(`UPDATE calls SET wrapup = ?, wrapup_note = ?, wrapup_by = ?, wrapup_at = ? WHERE ticket = ?`,
			string(w), note, v.ID, ms(now), ticket); err != nil {
			return err
		}
		return wrapEntry(tx, ticket, w, note)
	})
	if err != nil {
		return CallRecord{}, fmt.Errorf("wrap up the call of %s: %w", ticket, err)
	}
	return s.readCall(ctx, s.db.R, ticket)
}

// wrapEntry writes the wrap-up on the timeline entry of ticket's call, if
// it is filed.
func wrapEntry(tx *sql.Tx, ticket string, w WrapUp, note string) error {
	var id int64
	var body []byte
	err := tx.QueryRow(`SELECT id, body FROM entries WHERE ref = ? AND ref != '' AND kind = ?`, ticket, string(EntryCall)).Scan(&id, &body)
	if errors.Is(err, sql.ErrNoRows) {
		return nil // not filed (yet): its filing carries the wrap-up
	}
	if err != nil {
		return err
	}
	var c Call
	if err := json.Unmarshal(body, &c); err != nil {
		return fmt.Errorf("entry %d: %w", id, err)
	}
	c.WrapUp, c.WrapUpNote = w, note
	if body, err = json.Marshal(c); err != nil {
		return err
	}
	_, err = tx.Exec(`UPDATE entries SET body = ? WHERE id = ?`, body, id)
	return err
}

func wrapUpList() string {
	s := make([]string, len(WrapUps))
	for i, w := range WrapUps {
		s[i] = string(w)
	}
	return strings.Join(s, ", ")
}
