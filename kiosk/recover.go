package kiosk

import (
	"encoding/json"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
)

// A ticket the hub issued and the kiosk did not print — the printer failed,
// or the kiosk died between the hub's answer and the print — is cancelled
// at the hub, so that nobody waits for a ticket nobody holds. Its id may
// not be known yet (the hub's answer is on its way): the journal then marks
// it voidWanted, and onReply cancels it when the answer brings the id.

const (
	// keptReplies is how many of the hub's recent answers the kiosk keeps,
	// for a press that finds its request answered after its timeout.
	keptReplies = 256
	// replyGrace is how long a press waits for an answer on its way.
	replyGrace = 200 * time.Millisecond
)

// recover settles what a crash left in the journal, before any press.
func (k *Kiosk) recover() {
	entries, err := k.j.unsettled()
	if err != nil {
		k.log.Error("journal: what a crash left could not be read", "err", err)
		return
	}
	for _, e := range entries {
		switch {
		case e.Void == voidSent: // its cancel is in the outbox already
		case e.Ticket != "": // issued, never printed
			k.log.Warn("voiding a ticket left unprinted", "service", e.Service, "number", e.Number)
			k.sendVoid(e.Ticket)
		case k.pending(e.Cmd): // asked, not yet answered: cancelled when the answer comes
			if err := k.j.markVoid(e.Cmd); err != nil {
				k.log.Error("journal: a ticket left unprinted not marked to cancel", "err", err)
			}
		default: // never sent, or refused: nothing to cancel
			k.forget(e.Cmd)
		}
	}
	k.mu.Lock()
	before := k.o.Clock().In(k.loc).AddDate(0, 0, -2).Format(time.DateOnly)
	k.mu.Unlock()
	if err := k.j.purge(before); err != nil {
		k.log.Warn("journal purge", "err", err)
	}
}

// pending reports whether the command cmd is in the outbox, unanswered.
func (k *Kiosk) pending(cmd string) bool {
	for _, e := range k.o.Link.PendingEntries() {
		if e.ID == cmd {
			return true
		}
	}
	return false
}

// void cancels at the hub the ticket of cmd, which was not printed: now if
// its id is known, or when the hub's answer brings it.
func (k *Kiosk) void(cmd string) {
	if err := k.j.markVoid(cmd); err != nil {
		k.log.Error("journal: unprinted ticket not marked to cancel", "err", err)
	}
	e, err := k.j.get(cmd)
	if err != nil {
		k.log.Error("journal: unprinted ticket not read", "err", err)
	}
	if e != nil && e.Ticket != "" {
		k.sendVoid(e.Ticket)
		return
	}
	if rep, ok := k.waitReply(cmd); ok {
		if t, ok := replyTicket(rep); ok {
			k.sendVoid(t.ID)
		}
	}
}

// sendVoid puts the cancel of ticket in the outbox, and journals it sent.
func (k *Kiosk) sendVoid(ticket string) {
	if err := k.o.Link.Enqueue(link.NewID(), api.OpCancel, api.CancelArgs{Ticket: ticket, Reason: "ticket not printed"}); err != nil {
		k.log.Error("void ticket", "ticket", ticket, "err", err)
		return
	}
	if err := k.j.voidSent(ticket); err != nil {
		k.log.Error("journal: cancel not recorded as sent", "ticket", ticket, "err", err)
	}
}

// onReply hears every answer of the hub to the kiosk's commands, including
// those sent before a reboot: it records the ticket's id in the journal and
// cancels the ticket if the journal wants it cancelled.
func (k *Kiosk) onReply(e link.Entry, rep api.Reply) {
	k.mu.Lock()
	k.replies[e.ID] = rep
	if len(k.replies) > keptReplies {
		for id := range k.replies { // the oldest are long settled: any half goes
			delete(k.replies, id)
			if len(k.replies) <= keptReplies/2 {
				break
			}
		}
	}
	k.mu.Unlock()
	k.replied.Notify()
	if e.Op != api.OpIssueTicket && e.Op != api.OpCheckin {
		return
	}
	t, ok := replyTicket(rep)
	if !ok {
		if rep.Error != nil && e.Op == api.OpIssueTicket {
			k.log.Error("the hub refused a ticket this kiosk printed", "code", rep.Error.Code, "err", rep.Error.Message)
		}
		return
	}
	j, err := k.j.issued(e.ID, t.ID)
	if err != nil {
		k.log.Error("journal: the hub's ticket id not recorded", "ticket", t.ID, "err", err)
		return
	}
	if j != nil && j.Void == voidWanted {
		k.sendVoid(t.ID)
	}
}

// replyTicket returns the ticket of a positive answer.
func replyTicket(rep api.Reply) (api.Ticket, bool) {
	var t api.Ticket
	if !rep.OK || json.Unmarshal(rep.Result, &t) != nil || t.ID == "" {
		return api.Ticket{}, false
	}
	return t, true
}

// waitReply returns the hub's answer to cmd, waiting a little for it if it
// is on its way (the link hands it to the waiting press before onReply
// records it).
func (k *Kiosk) waitReply(cmd string) (api.Reply, bool) {
	changed, stop := k.replied.Watch()
	defer stop()
	timeout := time.NewTimer(replyGrace)
	defer timeout.Stop()
	for {
		k.mu.Lock()
		r, ok := k.replies[cmd]
		k.mu.Unlock()
		if ok {
			return r, true
		}
		select {
		case <-changed:
		case <-timeout.C:
			return api.Reply{}, false
		}
	}
}

// forget removes from the journal a request or a reserved number that was
// neither printed nor sent (a printed one stays).
func (k *Kiosk) forget(cmd string) {
	if err := k.j.release(cmd); err != nil {
		k.log.Error("journal: unused entry not removed", "err", err)
	}
}
