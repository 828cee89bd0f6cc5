package hub

import (
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"time"

	"github.com/google/uuid"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// The actions every transport offers. Their names are the MQTT ops; each
// takes the operation's one request type of hub/api, as the transport
// decoded it (the HTTP body or the MQTT args), and adds what the hub
// assigns: ids, tokens, the device that asked. The engine checks and
// bounds the rest.

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

// IssueTicket issues a ticket for device ("" for the HTTP API); its result
// is the ticket with its position.
func IssueTicket(a api.IssueArgs, device string) Action {
	req := &queue.IssueRequest{Args: a, ID: NewTicketID(), Token: NewToken(), Device: device}
	return issueAction(req)
}

func issueAction(req *queue.IssueRequest) Action {
	return Action{
		Name: api.OpIssueTicket,
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Issue(by, *req) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(req.ID)
			return TicketView(e, now, t)
		},
	}
}

// Replacing is the request a ticket printed offline stands for: the
// kiosk's request that got no answer in time (IssueArgs.Replaces).
type Replacing struct {
	Key        string                   // its idempotency key
	Superseded []byte                   // the reply it gets if it never ran (refused: superseded)
	TicketOf   func(body []byte) string // the ticket its stored reply names, "" if none
}

// IssueOffline issues a ticket a kiosk printed offline that stands for the
// request r: if the hub did issue that request's ticket, the engine cancels
// it (the citizen holds the printed one); if it did not, the request will
// never be done.
func IssueOffline(a api.IssueArgs, device string, r Replacing) Action {
	req := &queue.IssueRequest{Args: a, ID: NewTicketID(), Token: NewToken(), Device: device}
	act := issueAction(req)
	act.Supersedes, act.Superseded = r.Key, r.Superseded
	act.Prior = func(prior Reply) {
		req.Replaces = ""
		if prior.Done() && prior.Body != nil {
			req.Replaces = r.TicketOf(prior.Body)
		}
	}
	return act
}

// CheckIn issues the ticket of an appointment, for device ("" for the HTTP API).
func CheckIn(a api.CheckinArgs, device string) Action {
	req := queue.CheckinRequest{Args: a, ID: NewTicketID(), Token: NewToken(), Device: device}
	return Action{
		Name: api.OpCheckin,
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CheckIn(by, req) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(req.ID)
			return TicketView(e, now, t)
		},
	}
}

// BookAppointment records an appointment from the booking platform.
func BookAppointment(a api.AppointmentArgs) Action {
	return Action{
		Name: "book_appointment",
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.BookAppointment(by, a) },
		View: func(e *queue.Engine, _ time.Time, _ []queue.Event) any { ap, _ := e.Appointment(a.Code); return ap },
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
func VoidTicket(a api.CancelArgs, device string) Action {
	return Action{
		Name: "void",
		Run: func(e *queue.Engine, by queue.By) ([]queue.Event, error) {
			if t, ok := e.Ticket(a.Ticket); ok && t.Device != device {
				return nil, queue.Refuse(queue.ErrForbidden, "a kiosk may void only the tickets it issued")
			}
			return e.Cancel(by, a)
		},
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(a.Ticket)
			return TicketView(e, now, t)
		},
	}
}

// CancelTicket takes a waiting or called ticket out of the queue.
func CancelTicket(a api.CancelArgs) Action {
	return Action{
		Name: api.OpCancel,
		Run:  func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Cancel(by, a) },
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any {
			t, _ := e.Ticket(a.Ticket)
			return TicketView(e, now, t)
		},
	}
}

// CounterAction builds the counter operation op at counter; its result is
// the counter. args are the op's arguments as api.NewArgs makes them:
// *api.OpenArgs for open, *api.TransferArgs for transfer, *api.PauseArgs for
// pause, nil for the others.
func CounterAction(op, counter string, args any) (Action, error) {
	var run func(e *queue.Engine, by queue.By) ([]queue.Event, error)
	switch a := args.(type) {
	case *api.OpenArgs:
		if op == api.OpOpen {
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.OpenCounter(by, counter, *a) }
		}
	case *api.TransferArgs:
		if op == api.OpTransfer {
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Transfer(by, counter, *a) }
		}
	case *api.PauseArgs:
		if op == api.OpPause {
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Pause(by, counter, *a) }
		}
	case nil:
		switch op {
		case api.OpClose:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CloseCounter(by, counter) }
		case api.OpCallNext:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.CallNext(by, counter) }
		case api.OpRecall:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Recall(by, counter) }
		case api.OpStart:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Start(by, counter) }
		case api.OpFinish:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Finish(by, counter) }
		case api.OpNoShow:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.NoShow(by, counter) }
		case api.OpResume:
			run = func(e *queue.Engine, by queue.By) ([]queue.Event, error) { return e.Resume(by, counter) }
		}
	}
	if run == nil {
		return Action{}, fmt.Errorf("no counter operation %q with arguments %T", op, args)
	}
	return Action{
		Name: op,
		Run:  run,
		View: func(e *queue.Engine, now time.Time, _ []queue.Event) any { return CounterView(e, now, counter) },
	}, nil
}
