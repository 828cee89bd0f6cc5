package kiosk

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
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

// Refusal is why the kiosk did not print a ticket; Code is a key of the
// kiosk's texts or a code of the hub.
type Refusal struct {
	Code    string
	Message string
}

func (r *Refusal) Error() string { return fmt.Sprintf("%s: %s", r.Code, r.Message) }

func refusal(lang, code string) *Refusal {
	msg := T(lang, code)
	if msg == "" {
		msg = T(lang, "error")
	}
	return &Refusal{Code: code, Message: msg}
}

// hubRefusals are the hub's answers the citizen is told about as such.
var hubRefusals = map[string]string{
	api.CodeServiceClosed: "closed", api.CodeServiceFull: "full", api.CodeUnknownService: "closed",
	api.CodeNoAppointment: "unknown_appointment", api.CodeCheckedIn: "already_checked_in", api.CodeCheckinWindow: "checkin_window",
}

// errLate is a request the hub did not answer within the timeout. It stays
// in the outbox: the hub will still get it, once.
var errLate = errors.New("the hub did not answer in time")

// Issue gives a ticket to the citizen who pressed a service button. This is
// all that happens, in order:
//
//  1. What cannot be printed is refused at once: a printer fault, a closed
//     or full service.
//  2. Offline — the link is down: a number of the kiosk's lease is printed
//     at once (lease.go).
//  3. Online: the request is journaled, sent, and the hub's ticket printed
//     if it comes within the timeout (800 ms).
//  4. Late — the hub did not answer in time: the request still in the
//     outbox becomes a ticket printed from the lease (lease.go).
//
// Every ticket is journaled as printed just before it goes to the printer;
// a ticket that does not print is cancelled at the hub (recover.go).
func (k *Kiosk) Issue(ctx context.Context, p Press) (Result, error) {
	k.printMu.Lock()
	defer k.printMu.Unlock()
	lang := orFrench(p.Lang)
	// 1. Refused at once.
	if why := k.refuse(p.Service); why != "" {
		return Result{}, refusal(lang, why)
	}
	args := api.IssueArgs{Service: p.Service, Lang: lang}
	if p.Priority {
		args.Priority = "priority"
	}
	// 2. Offline.
	if !k.o.Link.Connected() {
		return k.printFromLease(ctx, lang, args, "")
	}
	// 3. Online.
	cmd := link.NewID()
	rep, err := k.askHub(ctx, cmd, api.OpIssueTicket, args)
	if err == nil {
		return k.printHubTicket(ctx, cmd, rep, lang)
	}
	if !errors.Is(err, errLate) {
		k.log.Error("ticket request not sent", "service", p.Service, "err", err)
		return Result{}, refusal(lang, "error")
	}
	// 4. Late.
	k.log.Warn("hub did not answer in time: printing from the lease", "timeout", k.o.Timeout)
	return k.printFromLease(ctx, lang, args, cmd)
}

// CheckIn gives the citizen with an appointment its ticket. A check-in needs
// the hub: there is no offline appointment ticket, and one the hub answers
// too late is cancelled when its answer comes.
func (k *Kiosk) CheckIn(ctx context.Context, code, lang string) (Result, error) {
	k.printMu.Lock()
	defer k.printMu.Unlock()
	lang = orFrench(lang)
	k.mu.Lock()
	fault := k.printerFault()
	k.mu.Unlock()
	if fault || !k.o.Link.Connected() {
		return Result{}, refusal(lang, "unavailable")
	}
	cmd := link.NewID()
	rep, err := k.askHub(ctx, cmd, api.OpCheckin, api.CheckinArgs{Code: code, Lang: lang})
	switch {
	case err == nil:
		return k.printHubTicket(ctx, cmd, rep, lang)
	case errors.Is(err, errLate):
		k.void(cmd) // a late check-in would not be printed: cancel it when it comes
		return Result{}, refusal(lang, "unavailable")
	default:
		k.log.Error("check-in not sent", "err", err)
		return Result{}, refusal(lang, "error")
	}
}

func orFrench(lang string) string {
	if lang == "" {
		return "fr"
	}
	return lang
}

// refuse says why a ticket of service cannot be printed now ("" if it
// can): a printer fault, a service unknown, closed or full.
func (k *Kiosk) refuse(service string) string {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.printerFault() {
		return "unavailable"
	}
	if len(k.config.Services) == 0 {
		return "" // no configuration yet: the hub, or the lease, decides
	}
	for _, s := range k.config.Services {
		switch {
		case s.ID != service:
		case !s.Open && s.Full:
			return "full"
		case !s.Open:
			return "closed"
		default:
			return ""
		}
	}
	return "closed"
}

// askHub journals a request — should the kiosk die before it prints, the
// ticket the hub issues for it is cancelled — sends it, and waits at most
// the timeout for the hub's answer (errLate if none came).
func (k *Kiosk) askHub(ctx context.Context, cmd, op string, args any) (api.Reply, error) {
	k.mu.Lock()
	day := k.today()
	k.mu.Unlock()
	if err := k.j.intend(cmd, day); err != nil {
		return api.Reply{}, fmt.Errorf("journal the request: %w", err)
	}
	c, cancel := context.WithTimeout(ctx, k.o.Timeout)
	defer cancel()
	rep, err := k.o.Link.SendID(c, cmd, op, args)
	switch {
	case err == nil:
		return rep, nil
	case c.Err() != nil:
		return api.Reply{}, errLate
	default: // not in the outbox: the hub will never hear of it
		k.forget(cmd)
		return api.Reply{}, fmt.Errorf("send %s: %w", op, err)
	}
}

// printHubTicket prints the ticket the hub answered with request cmd, or
// tells the citizen why the hub refused it.
func (k *Kiosk) printHubTicket(ctx context.Context, cmd string, rep api.Reply, lang string) (Result, error) {
	if !rep.OK {
		k.forget(cmd) // nothing was issued
		code := hubRefusals[rep.Error.Code]
		if code == "" {
			k.log.Warn("ticket refused", "code", rep.Error.Code, "err", rep.Error.Message)
			code = "error"
		}
		return Result{}, refusal(lang, code)
	}
	var t api.Ticket
	if err := json.Unmarshal(rep.Result, &t); err != nil || t.ID == "" {
		k.log.Error("the hub's ticket is unreadable: not printed", "err", err)
		return Result{}, refusal(lang, "error")
	}
	k.mu.Lock()
	loc := k.loc
	k.mu.Unlock()
	_, n, _ := api.ParseNumber(t.Number)
	if err := k.j.online(cmd, t.ID, t.Service, t.IssuedAt.In(loc).Format(time.DateOnly), n); err != nil {
		k.log.Error("journal: the hub's ticket not recorded: cancelling it", "number", t.Number, "err", err)
		k.sendVoid(t.ID)
		return Result{}, refusal(lang, "error")
	}
	info := TicketInfo{Number: t.Number, Service: pick(t.ServiceName, lang), Priority: t.Priority,
		IssuedAt: t.IssuedAt.In(loc), Ahead: t.Ahead, URL: k.ticketURL(t.Token), Lang: lang}
	if t.AppointmentAt != nil {
		info.AppointmentAt = t.AppointmentAt.In(loc)
	}
	if t.EstimatedWait != nil {
		w := time.Duration(*t.EstimatedWait) * time.Second
		info.Wait = &w
		if t.EstimatedWaitMin != nil && t.EstimatedWaitMax != nil {
			info.WaitLow, info.WaitHigh = time.Duration(*t.EstimatedWaitMin)*time.Second, time.Duration(*t.EstimatedWaitMax)*time.Second
		}
	}
	return k.print(ctx, cmd, info, false)
}

// print prints the ticket journaled as cmd. It is journaled as printed
// first: a crash between the two must never cancel a ticket a citizen holds
// (the worst it leaves is a ticket nobody holds, which ends as a no-show).
// A ticket that does not print is cancelled at the hub, and Run reads the
// printer's status at once.
func (k *Kiosk) print(ctx context.Context, cmd string, info TicketInfo, offline bool) (Result, error) {
	k.mu.Lock()
	layout := k.o.Layout
	layout.Site = k.siteName()
	k.mu.Unlock()
	if err := k.j.printed(cmd); err != nil {
		k.log.Error("journal: ticket not recorded as printed: not printing it", "number", info.Number, "err", err)
		k.void(cmd)
		return Result{}, refusal(info.Lang, "error")
	}
	job, err := layout.Ticket(info)
	if err == nil {
		err = k.o.Printer.Print(ctx, job)
	}
	if err != nil {
		k.log.Error("ticket not printed: voiding it", "number", info.Number, "err", err)
		k.void(cmd)
		k.checkPrinter()
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

// today is the site's date now; under mu.
func (k *Kiosk) today() string { return k.o.Clock().In(k.loc).Format(time.DateOnly) }

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
