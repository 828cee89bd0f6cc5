package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
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

// IssueArgs are the arguments of issue_ticket.
type IssueArgs struct {
	Service       string     `json:"service"`
	Channel       string     `json:"channel,omitempty"`
	Priority      string     `json:"priority,omitempty"`
	AppointmentAt *time.Time `json:"appointment_at,omitempty"`
	Lang          string     `json:"lang,omitempty"`
	// A ticket printed from the kiosk's lease while the hub was unreachable:
	// its number, when it was printed, the token of its QR code, and the id
	// of the command it replaces (the request that got no answer in time).
	OfflineNumber int        `json:"offline_number,omitempty"`
	IssuedAt      *time.Time `json:"issued_at,omitempty"`
	Token         string     `json:"token,omitempty"`
	Replaces      string     `json:"replaces,omitempty"`
}

// CheckinArgs are the arguments of checkin: the appointment's code.
type CheckinArgs struct {
	Code string `json:"code"`
	Lang string `json:"lang,omitempty"`
}

// CancelArgs are the arguments of cancel: a kiosk voids a ticket it issued
// but could not print.
type CancelArgs struct {
	Ticket string `json:"ticket"`
	Reason string `json:"reason,omitempty"`
}

// TransferArgs are the arguments of transfer.
type TransferArgs struct {
	Service string `json:"service"`
}

// PauseArgs are the arguments of pause.
type PauseArgs struct {
	Reason string `json:"reason"`
}

// OpenArgs are the arguments of open: the agent logging on.
type OpenArgs struct {
	Agent string `json:"agent"`
}

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
// and arguments of the op's type with no unknown field. It returns the
// command and its decoded arguments (nil for ops without any).
func ParseCommand(payload []byte) (Command, any, *CommandError) {
	var c Command
	if len(payload) > MaxCommandSize {
		return c, nil, badCommand("", CodeTooLarge, "command of %d bytes, at most %d", len(payload), MaxCommandSize)
	}
	if !utf8.Valid(payload) {
		return c, nil, badCommand("", CodeBadRequest, "the payload is not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&c); err != nil {
		// Recover the id if the rest is wrong, so the device can match the reply.
		var probe struct {
			ID string `json:"id"`
		}
		json.Unmarshal(payload, &probe)
		return c, nil, badCommand(safeID(probe.ID), CodeBadRequest, "malformed command: %v", err)
	}
	if dec.More() {
		return c, nil, badCommand(safeID(c.ID), CodeBadRequest, "one JSON object expected")
	}
	if c.ID == "" || len(c.ID) > 64 || strings.ContainsFunc(c.ID, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
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
		ad := json.NewDecoder(bytes.NewReader(raw))
		ad.DisallowUnknownFields()
		if err := ad.Decode(args); err != nil {
			code := CodeBadRequest
			if strings.Contains(err.Error(), "unknown field") {
				code = CodeUnknownField
			}
			return c, nil, badCommand(c.ID, code, "%s args: %v", c.Op, err)
		}
	}
	return c, args, nil
}

// safeID keeps an id only if it is fit to echo back.
func safeID(id string) string {
	if len(id) > 64 || strings.ContainsFunc(id, func(r rune) bool { return r < 0x21 || r > 0x7e }) {
		return ""
	}
	return id
}

// ErrorReply builds a refusal reply.
func ErrorReply(id, code, message string) Reply {
	return Reply{ID: id, OK: false, Error: &Error{Code: code, Message: message}}
}
