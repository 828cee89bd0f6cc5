package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// MaxCommandSize is the largest command payload the hub accepts.
const MaxCommandSize = 16 << 10

// The ops a device may send on cmd/{device}.
const (
	OpIssueTicket = "issue_ticket"
	OpCheckin     = "checkin"
	OpCallNext    = "call_next"
	OpRecall      = "recall"
	OpStart       = "start"
	OpFinish      = "finish"
	OpNoShow      = "no_show"
	OpTransfer    = "transfer"
	OpPause       = "pause"
	OpResume      = "resume"
	OpOpen        = "open"
	OpClose       = "close"
	OpCancel      = "cancel"
)

// Command is a device's request: {"id", "op", "args"}. The id is the
// idempotency key: the same id twice does the work once.
type Command struct {
	ID   string          `json:"id"`
	Op   string          `json:"op"`
	Args json.RawMessage `json:"args,omitempty"`
}

// Reply is the hub's answer on reply/{device}.
type Reply struct {
	ID     string          `json:"id"`
	OK     bool            `json:"ok"`
	Result json.RawMessage `json:"result,omitempty"`
	Error  *Error          `json:"error,omitempty"`
}

// The requests. Each operation has one type, whatever carries it: the
// arguments of an MQTT op are the body of the HTTP request doing the same
// (POST /api/v1/tickets takes IssueArgs, /counters/{id}/transfer takes
// TransferArgs…), and the queue engine takes them as they were decoded,
// with what the hub assigns beside them (hub/queue's IssueRequest). There
// used to be three structs per operation (the MQTT args, the HTTP body, the
// hub's arguments) copied field by field, and a field added to one could be
// dropped by the next; now a field is added, documented and bounded once.
// A field only one transport takes says so; the other refuses it
// (CheckMQTT, CheckHTTP).

// IssueArgs are the arguments of issue_ticket and the body of
// POST /api/v1/tickets.
type IssueArgs struct {
	Service       string     `json:"service"`
	Channel       string     `json:"channel,omitempty"`  // visit (default) or phone
	Priority      string     `json:"priority,omitempty"` // none (default), priority or appointment
	AppointmentAt *time.Time `json:"appointment_at,omitempty"`
	Lang          string     `json:"lang,omitempty"`

	// HTTP only (staff): the citizen's id in the town's records, and force
	// to issue even outside opening hours or when the service is full.
	Citizen string `json:"citizen,omitempty"`
	Force   bool   `json:"force,omitempty"`

	// MQTT only: a ticket printed from the kiosk's lease while the hub was
	// unreachable: its number, when it was printed, the token of its QR
	// code, and the id of the command it replaces (the request that got no
	// answer in time).
	OfflineNumber int        `json:"offline_number,omitempty"`
	IssuedAt      *time.Time `json:"issued_at,omitempty"`
	Token         string     `json:"token,omitempty"`
	Replaces      string     `json:"replaces,omitempty"`
}

// CheckMQTT refuses the fields a device may not send: citizen and force
// are for staff, over HTTP. token must be 22 characters of base64url (128
// random bits, as the hub makes them) and replaces a command id.
func (a *IssueArgs) CheckMQTT() *Error {
	switch {
	case a.Citizen != "":
		return &Error{Code: CodeUnknownField, Message: `unknown field "citizen": only staff set it, over HTTP`}
	case a.Force:
		return &Error{Code: CodeUnknownField, Message: `unknown field "force": only staff set it, over HTTP`}
	case a.Token != "" && !tokenRe.MatchString(a.Token):
		return &Error{Code: CodeInvalid, Message: "a ticket token is 22 characters of base64url (128 random bits)"}
	case a.Replaces != "" && !ValidCommandID(a.Replaces):
		return &Error{Code: CodeInvalid, Message: "replaces must be a command id: 1 to 64 printable ASCII characters"}
	}
	return nil
}

// CheckHTTP refuses the fields of a ticket printed offline: only a kiosk
// brings one, over MQTT.
func (a *IssueArgs) CheckHTTP() *Error {
	for _, f := range []struct {
		name string
		set  bool
	}{{"offline_number", a.OfflineNumber != 0}, {"issued_at", a.IssuedAt != nil}, {"token", a.Token != ""}, {"replaces", a.Replaces != ""}} {
		if f.set {
			return &Error{Code: CodeUnknownField, Message: fmt.Sprintf("unknown field %q: only a kiosk brings it, over MQTT, with a ticket printed offline", f.name)}
		}
	}
	return nil
}

// CheckinArgs are the arguments of checkin: the appointment's code. Over
// HTTP (POST /api/v1/appointments/{code}/checkin) the code is in the path.
type CheckinArgs struct {
	Code string `json:"code"`
	Lang string `json:"lang,omitempty"`
}

// CancelArgs are the arguments of cancel: a kiosk voids a ticket it issued
// but could not print. Over HTTP (POST /api/v1/tickets/{id}/cancel) the
// ticket is in the path.
type CancelArgs struct {
	Ticket string `json:"ticket"`
	Reason string `json:"reason,omitempty"`
}

// TransferArgs are the arguments of transfer: to another service, or to a
// named agent (in the ticket's service, or in Service), with a note shown
// as text to whoever calls the ticket next. A ticket transferred to an
// agent waits for that agent alone while they are signed in, for a while
// (the policy's transfer_hold), then for its service again.
type TransferArgs struct {
	Service string `json:"service,omitempty"`
	Agent   string `json:"agent,omitempty"`
	Note    string `json:"note,omitempty"`
}

// TicketTransferArgs transfer a waiting or called ticket named by its id
// (a supervisor's transfer, HTTP only: POST /api/v1/tickets/{id}/transfer,
// where the ticket is the path's).
type TicketTransferArgs struct {
	Ticket string `json:"ticket,omitempty"`
	TransferArgs
}

// AgentPauseArgs pause an agent wherever they are signed in (a
// supervisor's, HTTP only: POST /api/v1/agents/{id}/pause).
type AgentPauseArgs struct {
	Reason string `json:"reason"`
}

// ServiceCloseArgs close a service to new tickets, with a message for the
// kiosks by language (HTTP only: POST /api/v1/services/{id}/close).
type ServiceCloseArgs struct {
	Message Names `json:"message,omitempty"`
}

// BoardMessageArgs put a message on the waiting-room screens, by language;
// an empty message takes it down (HTTP only: PUT /api/v1/board/message).
type BoardMessageArgs struct {
	Message Names `json:"message"`
}

// PauseArgs are the arguments of pause.
type PauseArgs struct {
	Reason string `json:"reason"`
}

// OpenArgs are the arguments of open: the agent logging on.
type OpenArgs struct {
	Agent string `json:"agent"`
}

// AppointmentArgs book an appointment (HTTP only: POST
// /api/v1/appointments, from the town's booking platform).
type AppointmentArgs struct {
	Code    string    `json:"code"`
	Service string    `json:"service"`
	At      time.Time `json:"at"`
	Citizen string    `json:"citizen,omitempty"`
}

var tokenRe = regexp.MustCompile(`^[A-Za-z0-9_-]{22}$`)

// argTypes gives each op its argument type (nil: takes none).
var argTypes = map[string]func() any{
	OpIssueTicket: func() any { return &IssueArgs{} },
	OpCheckin:     func() any { return &CheckinArgs{} },
	OpCallNext:    nil, OpRecall: nil, OpStart: nil, OpFinish: nil, OpNoShow: nil, OpResume: nil, OpClose: nil,
	OpTransfer: func() any { return &TransferArgs{} },
	OpPause:    func() any { return &PauseArgs{} },
	OpOpen:     func() any { return &OpenArgs{} },
	OpCancel:   func() any { return &CancelArgs{} },
}

// NewArgs returns a new value of op's argument type (a pointer: *IssueArgs
// for issue_ticket…), nil for an op that takes none; known is false for
// an op that does not exist.
func NewArgs(op string) (args any, known bool) {
	newArgs, known := argTypes[op]
	if newArgs == nil {
		return nil, known
	}
	return newArgs(), true
}

// ValidCommandID reports whether id can be a command's id: 1 to 64
// printable ASCII characters.
func ValidCommandID(id string) bool {
	return id != "" && len(id) <= 64 && !strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e })
}

// CommandError is why a command could not even be read. ID is the
// command's id when it could be read, so the reply can carry it.
type CommandError struct {
	ID string
	Error
}

func (e *CommandError) Err() error { return fmt.Errorf("%s: %s", e.Code, e.Message) }

func badCommand(id, code, format string, args ...any) *CommandError {
	return &CommandError{ID: id, Error: Error{Code: code, Message: fmt.Sprintf(format, args...)}}
}

// ParseCommand reads and checks a command payload: size, JSON, id, known op,
// and arguments of the op's type with no unknown field and valid Unicode
// text (see Decode). It returns the command and its decoded arguments (nil
// for ops without any).
func ParseCommand(payload []byte) (Command, any, *CommandError) {
	var c Command
	if len(payload) > MaxCommandSize {
		return c, nil, badCommand(CommandID(payload), CodeTooLarge, "command of %d bytes, at most %d", len(payload), MaxCommandSize)
	}
	if err := Decode(payload, &c); err != nil {
		// Recover the id if the rest is wrong, so the device can match the reply.
		id := safeID(c.ID)
		if id == "" {
			id = CommandID(payload)
		}
		code := err.Code
		if code == CodeUnknownField {
			code = CodeBadRequest // of the envelope, not of the op's arguments
		}
		return c, nil, badCommand(id, code, "malformed command: %s", strings.TrimPrefix(err.Message, "malformed JSON: "))
	}
	if !ValidCommandID(c.ID) {
		return c, nil, badCommand(safeID(c.ID), CodeBadRequest, "id must be 1 to 64 printable ASCII characters")
	}
	newArgs, known := argTypes[c.Op]
	if !known {
		return c, nil, badCommand(c.ID, CodeUnknownOp, "unknown op %q", c.Op)
	}
	raw := bytes.TrimSpace(c.Args)
	if newArgs == nil {
		if len(raw) > 0 && !bytes.Equal(raw, []byte("{}")) && !bytes.Equal(raw, []byte("null")) {
			return c, nil, badCommand(c.ID, CodeBadRequest, "%s takes no arguments", c.Op)
		}
		return c, nil, nil
	}
	args := newArgs()
	if len(raw) > 0 {
		if err := Decode(raw, args); err != nil {
			return c, nil, badCommand(c.ID, err.Code, "%s args: %s", c.Op, err.Message)
		}
	}
	if ia, ok := args.(*IssueArgs); ok {
		if err := ia.CheckMQTT(); err != nil {
			return c, nil, badCommand(c.ID, err.Code, "%s args: %s", c.Op, err.Message)
		}
	}
	return c, args, nil
}

// CommandID reads the id of a command that will not be run, so that its
// refusal reaches the device as the answer to it (a device keeps a command
// until it is answered); "" if there is none fit to echo. A payload is read
// only up to maxProbe bytes: the brokers pass none larger.
func CommandID(payload []byte) string {
	const maxProbe = 1 << 20
	if len(payload) > maxProbe {
		return ""
	}
	var probe struct {
		ID string `json:"id"`
	}
	json.Unmarshal(payload, &probe)
	return safeID(probe.ID)
}

// safeID keeps an id only if it is fit to echo back.
func safeID(id string) string {
	if !ValidCommandID(id) {
		return ""
	}
	return id
}

// ErrorReply builds a refusal reply.
func ErrorReply(id, code, message string) Reply {
	return Reply{ID: id, OK: false, Error: &Error{Code: code, Message: message}}
}
