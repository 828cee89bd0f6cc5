package hub

import (
	"encoding/json"
	"errors"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/hub/store"
)

// Outcome is how an operation ended, in the domain's words, whatever the
// transport: done (Code empty), or refused with a code of the wire contract
// (api.Code…) and a message for people. Transports turn it into what they
// speak — the MQTT reply's ok, the HTTP API's status — each in one place.
type Outcome struct {
	Code    string
	Message string
}

// Done reports whether the operation was done.
func (o Outcome) Done() bool { return o.Code == "" }

// Encoder turns an outcome, and for a done operation its result as JSON,
// into the body the transport sends and, for idempotent operations,
// stores. The body of a refusal carries {"error": {"code": …}} (api.Reply
// and api.ErrorBody both do): a replay reads the code back from it.
type Encoder func(o Outcome, result json.RawMessage) []byte

// Reply is what an operation answered.
type Reply struct {
	Outcome
	Body     []byte
	Events   []queue.Event // empty for a refusal or a replay
	Replayed bool          // the idempotency key was seen before: this is the first reply
}

// outcome is how Run ended: done with the view of what it did as JSON, or
// the refusal. A result that cannot be encoded is a bug (what the engine
// accepts, every view encodes): logged, and answered internal.
func (h *Hub) outcome(act Action, evs []queue.Event, err error, now time.Time) (Outcome, json.RawMessage) {
	var qe *queue.Error
	switch {
	case errors.As(err, &qe):
		return Outcome{Code: qe.Code, Message: qe.Message}, nil
	case err != nil:
		h.log.Error("operation failed", "op", act.Name, "err", err)
		return Outcome{Code: api.CodeInternal, Message: "internal error"}, nil
	case act.View == nil:
		return Outcome{}, json.RawMessage("null")
	}
	res, merr := json.Marshal(act.View(h.eng, now, evs))
	if merr != nil {
		h.log.Error("result not encodable", "op", act.Name, "events", len(evs), "err", merr)
		return Outcome{Code: api.CodeInternal, Message: "internal error"}, nil
	}
	return Outcome{}, res
}

// The replies table keeps each reply's outcome in its status column: 0
// done, 1 refused (the code is in the body). Databases of older builds
// hold the HTTP-like status they stored then: 2xx done, any other refused.
const (
	statusDone    = 0
	statusRefused = 1
)

func storedStatus(o Outcome) int {
	if o.Done() {
		return statusDone
	}
	return statusRefused
}

// storedReply reads a stored reply back.
func storedReply(r *store.Reply) Reply {
	rep := Reply{Body: r.Body}
	if r.Status == statusDone || r.Status >= 200 && r.Status < 300 {
		return rep
	}
	var b struct {
		Error *api.Error `json:"error"`
	}
	if json.Unmarshal(r.Body, &b) == nil && b.Error != nil && b.Error.Code != "" {
		rep.Outcome = Outcome{Code: b.Error.Code, Message: b.Error.Message}
	} else {
		rep.Outcome = Outcome{Code: api.CodeInternal, Message: "internal error"}
	}
	return rep
}
