package httpapi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"

	"guichet/hub/api"
	"guichet/hub/auth"
	"guichet/hub/queue"
)

// Outbox is what the API needs of the hub's connectors outward (cloud's
// Outbox): their state, their dead letters, a replay, the log in
// CloudEvents form and its export.
type Outbox interface {
	Destinations() []api.Destination
	DeadLetters(ctx context.Context, name string, limit int) ([]api.DeadLetter, error)
	Replay(ctx context.Context, name string, seqs []int64) (api.Replayed, error)
	Resume(name string) error
	CloudEvents(ctx context.Context, after int64, limit int) (api.CloudEventsPage, error)
	Export(ctx context.Context, w io.Writer, format string, from, to time.Time) (int, error)
}

// outboxRoutes declares the outbox's routes (see routes).
func (s *Server) outboxRoutes(add func(method, pattern string, access auth.Access, about string, h http.HandlerFunc)) {
	if s.outbox == nil {
		return
	}
	add("GET", "/api/v1/cloudevents", auth.Integration, "the event log in CloudEvents form, to catch up", s.cloudEvents)
	add("GET", "/api/v1/events/export", auth.Integration, "the event log between two dates, CSV or NDJSON", s.exportEvents)
	add("GET", "/api/v1/destinations", auth.Supervisor, "the connectors outward and their state", s.destinations)
	add("GET", "/api/v1/destinations/{name}/dead-letters", auth.Supervisor, "a destination's dead letters", s.deadLetters)
	add("POST", "/api/v1/destinations/{name}/replay", auth.Admin, "send a destination's dead letters again", s.replay)
	add("POST", "/api/v1/destinations/{name}/resume", auth.Admin, "start again a destination stopped by a 410", s.resume)
}

func (s *Server) cloudEvents(w http.ResponseWriter, r *http.Request) {
	after, limit, ok := pageArgs(w, r)
	if !ok {
		return
	}
	p, err := s.outbox.CloudEvents(r.Context(), after, limit)
	if err != nil {
		s.log.Error("read the log as CloudEvents", "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "could not read the log")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// pageArgs reads after (a sequence, 0 if absent) and limit (1 to 1000,
// 100 if absent).
func pageArgs(w http.ResponseWriter, r *http.Request) (after int64, limit int, ok bool) {
	q := r.URL.Query()
	after, err1 := strconv.ParseInt(q.Get("after"), 10, 64)
	if q.Get("after") == "" {
		after, err1 = 0, nil
	}
	limit, err2 := strconv.Atoi(q.Get("limit"))
	if q.Get("limit") == "" {
		limit, err2 = 100, nil
	}
	if err1 != nil || err2 != nil || after < 0 || limit < 1 || limit > 1000 {
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "after must be a sequence number, limit 1 to 1000")
		return 0, 0, false
	}
	return after, limit, true
}

// exportEvents writes the events from from (included) to to (excluded):
// each a day (YYYY-MM-DD, the site's midnight; to's day is included) or an
// RFC 3339 time.
func (s *Server) exportEvents(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var loc *time.Location
	s.hub.Read(func(e *queue.Engine) { loc = e.Site().Location })
	from, err1 := parseWhen(q.Get("from"), loc, false)
	to, err2 := parseWhen(q.Get("to"), loc, true)
	format := q.Get("format")
	if format == "" {
		format = "ndjson"
	}
	switch {
	case err1 != nil || err2 != nil:
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "from and to: a day (2026-12-01) or a time (2026-12-01T08:00:00+01:00)")
		return
	case !to.After(from):
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "to must come after from")
		return
	case format != "csv" && format != "ndjson":
		writeError(w, http.StatusBadRequest, api.CodeInvalid, "format: csv or ndjson")
		return
	}
	ct := map[string]string{"csv": "text/csv; charset=utf-8", "ndjson": "application/x-ndjson"}[format]
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="events-%s-%s.%s"`, from.Format("20060102"), to.Format("20060102"), format))
	w.Header().Set("Cache-Control", "no-store")
	n, err := s.outbox.Export(r.Context(), w, format, from, to)
	if err != nil {
		// The status is sent: the body is cut short, which a client sees.
		s.log.Error("export the event log", "err", err, "written", n)
	}
}

// parseWhen reads a day (its start, or with end the start of the next) or
// an RFC 3339 time.
func parseWhen(v string, loc *time.Location, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, errors.New("missing")
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	d, err := time.ParseInLocation(time.DateOnly, v, loc)
	if err != nil {
		return time.Time{}, err
	}
	if end {
		d = d.AddDate(0, 0, 1)
	}
	return d, nil
}

func (s *Server) destinations(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"destinations": s.outbox.Destinations()})
}

// known answers 404 for a destination the outbox does not have.
func (s *Server) known(w http.ResponseWriter, name string) bool {
	if slices.ContainsFunc(s.outbox.Destinations(), func(d api.Destination) bool { return d.Name == name }) {
		return true
	}
	writeError(w, http.StatusNotFound, api.CodeUnknownDestination, fmt.Sprintf("no destination %q", name))
	return false
}

func (s *Server) deadLetters(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !s.known(w, name) {
		return
	}
	_, limit, ok := pageArgs(w, r)
	if !ok {
		return
	}
	dls, err := s.outbox.DeadLetters(r.Context(), name, limit)
	if err != nil {
		s.log.Error("list dead letters", "destination", name, "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "could not read the dead letters")
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"dead_letters": dls})
}

func (s *Server) replay(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var body struct {
		Seqs []int64 `json:"seqs"` // all if empty
	}
	if !decode(w, r, &body) || !s.known(w, name) {
		return
	}
	res, err := s.outbox.Replay(r.Context(), name, body.Seqs)
	if err != nil {
		s.log.Error("replay dead letters", "destination", name, "err", err)
		writeError(w, http.StatusInternalServerError, api.CodeInternal, "the replay stopped: "+err.Error())
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func (s *Server) resume(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if !decode(w, r, &struct{}{}) || !s.known(w, name) {
		return
	}
	if err := s.outbox.Resume(name); err != nil {
		writeError(w, http.StatusInternalServerError, api.CodeInternal, err.Error())
		return
	}
	for _, d := range s.outbox.Destinations() {
		if d.Name == name {
			writeJSON(w, http.StatusOK, d)
		}
	}
}
