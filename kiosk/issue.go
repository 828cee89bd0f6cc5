package kiosk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"slices"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
)

// Press is a citizen asking for a ticket.
type Press struct {
	Service  string
	Priority bool // priority public
	Lang     string
}

// Result is the ticket printed.
type Result struct {
	Number  string        `json:"number"`
	Service string        `json:"service"`
	Offline bool          `json:"offline"` // printed from the lease
	Ahead   *int          `json:"ahead,omitempty"`
	Wait    time.Duration `json:"-"`
	Message string        `json:"message"`
}

// hubRefusals are the hub's answers the citizen is told about as such.
var hubRefusals = map[string]string{
	api.CodeServiceClosed: "closed", api.CodeServiceFull: "full", api.CodeUnknownService: "closed",
	api.CodeNoAppointment: "unknown_appointment", api.CodeCheckedIn: "already_checked_in", api.CodeCheckinWindow: "checkin_window",
}

// Issue gives the citizen a ticket: from the hub if it answers within the
// timeout, else from the kiosk's leased numbers.
func (k *Kiosk) Issue(ctx context.Context, p Press) (Result, error) {
	k.printMu.Lock()
	defer k.printMu.Unlock()
	if p.Lang == "" {
		p.Lang = "fr"
	}
	k.mu.Lock()
	unavailable := k.statusOK && !k.status.OK()
	known := len(k.config.Services) > 0
	var svc *api.Service
	for i := range k.config.Services {
		if k.config.Services[i].ID == p.Service {
			s := k.config.Services[i]
			svc = &s
		}
	}
	k.mu.Unlock()
	switch {
	case unavailable:
		return Result{}, refusal(p.Lang, "unavailable")
	case svc == nil && known:
		return Result{}, refusal(p.Lang, "closed")
	case svc != nil && !svc.Open:
		code := "closed"
		if svc.Full {
			code = "full"
		}
		return Result{}, refusal(p.Lang, code)
	}
	args := api.IssueArgs{Service: p.Service, Lang: p.Lang}
	if p.Priority {
		args.Priority = "priority"
	}
	return k.issue(ctx, api.OpIssueTicket, args, p.Lang, func(off *api.IssueArgs) bool { *off = args; return true })
}

// CheckIn gives the citizen with an appointment its ticket. A check-in needs
// the hub: there is no offline appointment ticket.
func (k *Kiosk) CheckIn(ctx context.Context, code, lang string) (Result, error) {
	k.printMu.Lock()
	defer k.printMu.Unlock()
	if lang == "" {
		lang = "fr"
	}
	k.mu.Lock()
	unavailable := k.statusOK && !k.status.OK()
	k.mu.Unlock()
	if unavailable {
		return Result{}, refusal(lang, "unavailable")
	}
	return k.issue(ctx, api.OpCheckin, api.CheckinArgs{Code: code, Lang: lang}, lang, nil)
}

// issue asks the hub, falls back on the lease when offline allows it
// (offline fills the offline request's arguments), and prints.
func (k *Kiosk) issue(ctx context.Context, op string, args any, lang string, offline func(*api.IssueArgs) bool) (Result, error) {
	id := link.NewID()
	sent := false
	if k.o.Link.Connected() {
		k.mu.Lock()
		day := k.o.Clock().In(k.loc).Format(time.DateOnly)
		k.mu.Unlock()
		if err := k.j.intend(id, day); err != nil {
			k.log.Error("journal", "err", err)
			return Result{}, refusal(lang, "error")
		}
		c, cancel := context.WithTimeout(ctx, k.o.Timeout)
		rep, err := k.o.Link.SendID(c, id, op, args)
		cancel()
		sent = true
		if err == nil {
			return k.printReply(ctx, id, rep, lang)
		}
		if offline == nil {
			k.void(id) // a late check-in would not be printed: cancel it when it comes
			return Result{}, refusal(lang, "unavailable")
		}
		k.log.Warn("hub did not answer in time: printing from the lease", "timeout", k.o.Timeout)
	}
	if offline == nil {
		return Result{}, refusal(lang, "unavailable")
	}
	if !sent {
		k.j.release(id)
	}
	var off api.IssueArgs
	offline(&off)
	return k.printOffline(ctx, id, sent, off, lang)
}

// printReply prints what the hub answered.
func (k *Kiosk) printReply(ctx context.Context, cmd string, rep api.Reply, lang string) (Result, error) {
	if !rep.OK {
		code := hubRefusals[rep.Error.Code]
		if code == "" {
			k.log.Warn("ticket refused", "code", rep.Error.Code, "err", rep.Error.Message)
			code = "error"
		}
		return Result{}, refusal(lang, code)
	}
	var t api.Ticket
	if err := json.Unmarshal(rep.Result, &t); err != nil {
		return Result{}, refusal(lang, "error")
	}
	k.mu.Lock()
	loc := k.loc
	k.mu.Unlock()
	info := TicketInfo{Number: t.Number, Service: pick(t.ServiceName, lang), Priority: t.Priority,
		IssuedAt: t.IssuedAt.In(loc), Ahead: t.Ahead, URL: k.ticketURL(t.Token), Lang: lang}
	if t.AppointmentAt != nil {
		info.AppointmentAt = t.AppointmentAt.In(loc)
	}
	if t.EstimatedWait != nil {
		w := time.Duration(*t.EstimatedWait) * time.Second
		info.Wait = &w
	}
	_, n, _ := api.ParseNumber(t.Number)
	if err := k.j.online(cmd, t.ID, t.Service, t.IssuedAt.In(loc).Format(time.DateOnly), n); err != nil {
		k.log.Error("journal", "err", err)
	}
	return k.print(ctx, cmd, info, false)
}

// printOffline prints a ticket from the lease. If the request was sent, the
// offline ticket replaces it: the hub will not issue both.
func (k *Kiosk) printOffline(ctx context.Context, cmd string, sent bool, off api.IssueArgs, lang string) (Result, error) {
	now := k.o.Clock()
	k.mu.Lock()
	loc, day := k.loc, now.In(k.loc).Format(time.DateOnly)
	var candidates []int
	for _, b := range k.leases.Blocks {
		if b.Service == off.Service && b.Day == day {
			for n := b.From; n <= b.To; n++ {
				if !slices.Contains(b.Used, n) {
					candidates = append(candidates, n)
				}
			}
		}
	}
	name, wait := off.Service, (*time.Duration)(nil)
	for _, s := range k.config.Services {
		if s.ID == off.Service {
			name = pick(s.Name, lang)
		}
	}
	for _, s := range k.queue.Services {
		if s.Service == off.Service && s.EstimatedWait != nil {
			w := time.Duration(*s.EstimatedWait) * time.Second
			wait = &w
		}
	}
	k.mu.Unlock()
	offID := link.NewID()
	n, err := k.j.reserve(offID, off.Service, day, candidates)
	if err != nil {
		k.log.Error("no offline number", "service", off.Service, "day", day, "err", err)
		if sent {
			k.void(cmd)
		}
		return Result{}, refusal(lang, "unavailable")
	}
	off.OfflineNumber, off.IssuedAt, off.Token = n, &now, newToken()
	if sent {
		off.Replaces = cmd
		replaced, err := k.o.Link.Replace(cmd, offID, api.OpIssueTicket, off)
		if err != nil {
			k.j.release(offID)
			return Result{}, refusal(lang, "error")
		}
		if !replaced {
			// The hub answered meanwhile: print its ticket, free the number.
			k.j.release(offID)
			if rep, ok := k.reply(cmd); ok {
				return k.printReply(ctx, cmd, rep, lang)
			}
			return Result{}, refusal(lang, "error")
		}
		k.j.release(cmd) // the request is gone: the offline ticket stands for it
	} else if err := k.o.Link.Enqueue(offID, api.OpIssueTicket, off); err != nil {
		k.j.release(offID)
		return Result{}, refusal(lang, "error")
	}
	info := TicketInfo{Number: api.FormatNumber(off.Service, n), Service: name, Priority: off.Priority,
		IssuedAt: now.In(loc), Wait: wait, URL: k.ticketURL(off.Token), Lang: lang}
	return k.print(ctx, offID, info, true)
}

// print prints a ticket recorded in the journal as cmd; a ticket that does
// not print is voided at the hub.
func (k *Kiosk) print(ctx context.Context, cmd string, info TicketInfo, offline bool) (Result, error) {
	k.mu.Lock()
	layout := k.o.Layout
	layout.Site = k.siteName()
	k.mu.Unlock()
	// Recorded as printed before it prints: a crash between the two must
	// never void a ticket a citizen holds (the worst it leaves is a ticket
	// nobody holds, which ends as a no-show).
	if err := k.j.printed(cmd); err != nil {
		k.log.Error("journal", "err", err)
	}
	job, err := layout.Ticket(info)
	if err == nil {
		err = k.o.Printer.Print(ctx, job)
	}
	if err != nil {
		k.log.Error("ticket not printed: voiding it", "number", info.Number, "err", err)
		k.void(cmd)
		go k.pollPrinter(context.Background())
		return Result{}, refusal(info.Lang, "unavailable")
	}
	k.log.Info("ticket printed", "number", info.Number, "offline", offline)
	r := Result{Number: info.Number, Service: info.Service, Offline: offline, Ahead: info.Ahead,
		Message: T(info.Lang, "printed", info.Number)}
	if info.Wait != nil {
		r.Wait = *info.Wait
	}
	return r, nil
}

// void cancels at the hub a ticket that was not printed — now if its id is
// known, or when the hub's reply brings it.
func (k *Kiosk) void(cmd string) {
	if err := k.j.void(cmd); err != nil {
		k.log.Error("journal", "err", err)
	}
	e, err := k.j.get(cmd)
	if err == nil && e != nil && e.Ticket != "" {
		k.sendVoid(e.Ticket)
		return
	}
	if rep, ok := k.reply(cmd); ok {
		k.voidReply(rep)
	}
}

func (k *Kiosk) sendVoid(ticket string) {
	if err := k.o.Link.Enqueue(link.NewID(), api.OpCancel, api.CancelArgs{Ticket: ticket, Reason: "ticket not printed"}); err != nil {
		k.log.Error("void ticket", "ticket", ticket, "err", err)
		return
	}
	if err := k.j.voidSent(ticket); err != nil {
		k.log.Error("journal", "err", err)
	}
}

func (k *Kiosk) voidReply(rep api.Reply) {
	var t api.Ticket
	if rep.OK && json.Unmarshal(rep.Result, &t) == nil && t.ID != "" {
		k.sendVoid(t.ID)
	}
}

// onReply records the hub's answers: the ticket ids of the journal, and
// voids the tickets marked so.
func (k *Kiosk) onReply(e link.Entry, rep api.Reply) {
	k.mu.Lock()
	k.replies[e.ID] = rep
	if len(k.replies) > 256 {
		for id := range k.replies {
			delete(k.replies, id)
			if len(k.replies) <= 128 {
				break
			}
		}
	}
	k.mu.Unlock()
	if e.Op != api.OpIssueTicket && e.Op != api.OpCheckin {
		return
	}
	var t api.Ticket
	if !rep.OK || json.Unmarshal(rep.Result, &t) != nil {
		if rep.Error != nil && e.Op == api.OpIssueTicket {
			k.log.Error("the hub refused a ticket this kiosk printed", "code", rep.Error.Code, "err", rep.Error.Message)
		}
		return
	}
	j, err := k.j.issued(e.ID, t.ID)
	if err == nil && j != nil && j.Void == 1 {
		k.sendVoid(t.ID)
	}
}

// reply waits briefly for the reply to cmd (it may be on its way).
func (k *Kiosk) reply(cmd string) (api.Reply, bool) {
	for i := 0; i < 20; i++ {
		k.mu.Lock()
		r, ok := k.replies[cmd]
		k.mu.Unlock()
		if ok {
			return r, true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return api.Reply{}, false
}

// recover settles what a crash left: a ticket issued but not sent to the
// printer is voided (now, or when the hub's reply brings its id); a request
// never sent, or a reserved number never used, is forgotten.
func (k *Kiosk) recover() {
	entries, err := k.j.unprinted()
	if err != nil {
		k.log.Error("journal", "err", err)
		return
	}
	for _, e := range entries {
		switch {
		case e.Void == 2:
		case e.Ticket != "":
			k.log.Warn("voiding a ticket left unprinted", "service", e.Service, "number", e.Number)
			k.sendVoid(e.Ticket)
		case k.pending(e.Cmd):
			k.j.void(e.Cmd) // voided when the reply comes
		default:
			k.j.release(e.Cmd)
		}
	}
	if err := k.j.purge(time.Now().AddDate(0, 0, -2).Format(time.DateOnly)); err != nil {
		k.log.Warn("journal purge", "err", err)
	}
}

func (k *Kiosk) pending(cmd string) bool {
	for _, e := range k.o.Link.PendingEntries() {
		if e.ID == cmd {
			return true
		}
	}
	return false
}

func (k *Kiosk) ticketURL(token string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.config.Site.PublicURL == "" || token == "" {
		return ""
	}
	return k.config.Site.PublicURL + "/t/" + token
}

func newToken() string {
	b := make([]byte, 16)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}
