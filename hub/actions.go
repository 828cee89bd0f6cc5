package hub

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"

	"guichet/hub/queue"
)

// The actions every transport offers. Their names are the MQTT ops.

// IssueArgs asks for a ticket.
type IssueArgs struct {
	Token         string // a kiosk's offline ticket brings the token it printed
	Service       string
	Channel       string
	Priority      string
	AppointmentAt time.Time
	Citizen       string
	Lang          string
	Device        string
	Force         bool
	OfflineNumber int
	IssuedAt      time.Time
}

// NewTicketID returns a new global ticket id (UUIDv7: sortable by time).
func NewTicketID() string { return uuid.Must(uuid.NewV7()).String() }

// NewToken returns an unguessable token (128 random bits).
func NewToken() string {
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// IssueTicket issues a ticket; its result is the ticket with its position.
func IssueTicket(a IssueArgs) Action {
	tok := a.Token
	if tok == "" || a.OfflineNumber == 0 {
		tok = NewToken()
	}
	req := queue.IssueRequest{
		ID: NewTicketID(), Token: tok, Service: a.Service, Channel: queue.Channel(a.Channel),
		Priority: queue.Priority(a.Priority), AppointmentAt: a.AppointmentAt, Device: a.Device,
		Citizen: a.Citizen, Lang: a.Lang, Force: a.Force, OfflineNumber: a.OfflineNumber, IssuedAt: a.IssuedAt,
	}
	return Action{
		Name: "issue_ticket",
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Issue(by, req) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(req.ID)
			return TicketView(e, now, t)
		},
	}
}

// CheckIn issues the ticket of an appointment.
func CheckIn(code, device, lang string) Action {
	req := queue.IssueRequest{ID: NewTicketID(), Token: NewToken(), Device: device, Lang: lang}
	return Action{
		Name: "checkin",
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CheckIn(by, code, req) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(req.ID)
			return TicketView(e, now, t)
		},
	}
}

// BookAppointment records an appointment from the booking platform.
func BookAppointment(code, service string, at time.Time, citizen string) Action {
	return Action{
		Name: "book_appointment",
		Run: func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
			return e.BookAppointment(by, code, service, at, citizen)
		},
		View: func(e *queue.Engine, _ time.Time, _ []queue.Event) any { a, _ := e.Appointment(code); return a },
	}
}

// CancelAppointment removes an appointment not checked in.
func CancelAppointment(code string) Action {
	return Action{
		Name: "cancel_appointment",
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CancelAppointment(by, code) },
		View: func(*queue.Engine, time.Time, []queue.Event) any {
			return map[string]string{"code": code, "state": "cancelled"}
		},
	}
}

// GrantLease reserves a block of numbers for a kiosk.
func GrantLease(device, service, day string, size int) Action {
	return Action{
		Name: "grant_lease",
		Run: func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
			return e.GrantLease(by, device, service, day, size)
		},
	}
}

// VoidTicket cancels a ticket its own kiosk could not print.
func VoidTicket(device, id, reason string) Action {
	return Action{
		Name: "void",
		Run: func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
			if t, ok := e.Ticket(id); ok && t.Device != device {
				return nil, queue.Refuse(queue.ErrForbidden, "a kiosk may void only the tickets it issued")
			}
			return e.Cancel(by, id, reason)
		},
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(id)
			return TicketView(e, now, t)
		},
	}
}

// CancelTicket takes a waiting or called ticket out of the queue.
func CancelTicket(id, reason string) Action {
	return Action{
		Name: "cancel",
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Cancel(by, id, reason) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(id)
			return TicketView(e, now, t)
		},
	}
}

// CounterArgs are the arguments of counter operations.
type CounterArgs struct {
	Agent   string // open
	Service string // transfer
	Reason  string // pause
}

// CounterOps are the operations on a counter, by name.
var CounterOps = []string{"open", "close", "call_next", "recall", "start", "finish", "no_show", "transfer", "pause", "resume"}

// CounterAction builds the counter operation op; its result is the counter.
func CounterAction(op, counter string, a CounterArgs) (Action, error) {
	var run func(e *queue.Engine, by queue.By) ([]queue.Event, error)
	switch op {
	case "open":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.OpenCounter(by, counter, a.Agent) }
	case "close":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CloseCounter(by, counter) }
	case "call_next":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CallNext(by, counter) }
	case "recall":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Recall(by, counter) }
	case "start":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Start(by, counter) }
	case "finish":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Finish(by, counter) }
	case "no_show":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.NoShow(by, counter) }
	case "transfer":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Transfer(by, counter, a.Service) }
	case "pause":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Pause(by, counter, a.Reason) }
	case "resume":
		run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Resume(by, counter) }
	default:
		return Action{}, fmt.Errorf("unknown counter operation %q", op)
	}
	return Action{
		Name: op,
		Run:  run,
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any { return CounterView(e, now, counter) },
	}, nil
}
