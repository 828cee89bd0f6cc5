package stats

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// ErrBadQuery wraps what is wrong with a request's parameters.
var ErrBadQuery = errors.New("bad statistics query")

// ParseQuery reads a query from URL parameters: from and to (AAAA-MM-JJ,
// the site's local days, inclusive; both today when absent, one when the
// other is absent), service, agent, channel (visit or phone).
func ParseQuery(v url.Values, today string) (Query, error) {
	for k, vs := range v {
		if len(vs) > 1 {
			return Query{}, fmt.Errorf("%w: %s given %d times", ErrBadQuery, k, len(vs))
		}
	}
	q := Query{From: v.Get("from"), To: v.Get("to"), Service: v.Get("service"), Agent: v.Get("agent"), Channel: queue.Channel(v.Get("channel"))}
	switch {
	case q.From == "" && q.To == "":
		q.From, q.To = today, today
	case q.From == "":
		q.From = q.To
	case q.To == "":
		q.To = q.From
	}
	if err := q.Check(); err != nil {
		return Query{}, fmt.Errorf("%w: %w", ErrBadQuery, err)
	}
	return q, nil
}

// Handlers serve the statistics over HTTP. The console mounts them where it
// wants, behind its role checks; Mux mounts them at their usual paths.
type Handlers struct {
	// JSON: the report and its charts' tables. ?from=&to=&service=&agent=&channel=&lang=
	JSON http.Handler
	// CSV: ?…&kind=summary|detail&lang=fr|en (summary and French by default).
	CSV http.Handler
	// Chart: the chart named by the path's last element, "<name>.svg".
	Chart http.Handler
}

// Handlers returns the projection's HTTP handlers.
func (p *Projection) Handlers() Handlers {
	return Handlers{
		JSON:  http.HandlerFunc(p.serveJSON),
		CSV:   http.HandlerFunc(p.serveCSV),
		Chart: http.HandlerFunc(p.serveChart),
	}
}

// Mux mounts the handlers at GET /api/v1/stats, GET /api/v1/stats.csv and
// GET /supervision/stats/{chart}.svg, without any access check: the
// console puts its own in front.
func (h Handlers) Mux() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/stats", h.JSON)
	mux.Handle("GET /api/v1/stats.csv", h.CSV)
	mux.Handle("GET /supervision/stats/{chart}", h.Chart)
	return mux
}

// request reads what every handler takes: the query and the language.
func (p *Projection) request(w http.ResponseWriter, r *http.Request) (Query, string, bool) {
	v := r.URL.Query()
	lang := v.Get("lang")
	v.Del("lang")
	extra := ""
	for k := range v {
		switch k {
		case "from", "to", "service", "agent", "channel", "kind":
		default:
			extra = k
		}
	}
	kind := v.Get("kind")
	v.Del("kind")
	today := p.clock().In(p.loc).Format(time.DateOnly)
	q, err := ParseQuery(v, today)
	switch {
	case err != nil:
	case extra != "":
		err = fmt.Errorf("%w: unknown parameter %q", ErrBadQuery, extra)
	case lang != "" && lang != "fr" && lang != "en":
		err = fmt.Errorf("%w: lang: %q is neither fr nor en", ErrBadQuery, lang)
	case kind != "" && kind != KindDetail && kind != KindSummary:
		err = fmt.Errorf("%w: kind: %q is neither %s nor %s", ErrBadQuery, kind, KindSummary, KindDetail)
	}
	if err != nil {
		p.log.Info("statistics: refused", "path", r.URL.Path, "err", err)
		writeError(w, http.StatusBadRequest, api.CodeInvalid, err.Error())
		return Query{}, "", false
	}
	if lang == "" {
		lang = "fr"
	}
	return q, lang, true
}

func (p *Projection) failed(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	p.log.Error("statistics", "path", r.URL.Path, "err", err)
	writeError(w, http.StatusInternalServerError, api.CodeInternal, "the statistics could not be computed: see the hub's log")
}

// JSONReport is what the JSON handler answers.
type JSONReport struct {
	*Report
	Charts []Chart `json:"charts"`
}

func (p *Projection) serveJSON(w http.ResponseWriter, r *http.Request) {
	q, lang, ok := p.request(w, r)
	if !ok {
		return
	}
	rep, err := p.Report(r.Context(), q)
	if err != nil {
		p.failed(w, r, err)
		return
	}
	b, err := json.Marshal(JSONReport{Report: rep, Charts: Charts(rep, &p.site, lang)})
	if err != nil {
		p.failed(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(append(b, '\n'))
}

func (p *Projection) serveCSV(w http.ResponseWriter, r *http.Request) {
	q, lang, ok := p.request(w, r)
	if !ok {
		return
	}
	kind := r.URL.Query().Get("kind")
	if kind == "" {
		kind = KindSummary
	}
	// Written to memory first: an error midway is a 500, not half a file.
	var buf bytes.Buffer
	if err := p.WriteCSV(r.Context(), &buf, q, kind, lang); err != nil {
		p.failed(w, r, err)
		return
	}
	name := map[string]string{KindSummary + "fr": "synthese", KindDetail + "fr": "detail", KindSummary + "en": "summary", KindDetail + "en": "detail"}[kind+lang]
	file := fmt.Sprintf("%s-%s-%s", tr(FormatFor(lang), "statistiques", "statistics"), name, q.From)
	if q.To != q.From {
		file += "-" + q.To
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s.csv"`, file))
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (p *Projection) serveChart(w http.ResponseWriter, r *http.Request) {
	name, ok := strings.CutSuffix(path.Base(r.URL.Path), ".svg")
	if !ok || !contains(ChartNames, name) {
		writeError(w, http.StatusNotFound, api.CodeNotFound, fmt.Sprintf("no chart %q: %s", path.Base(r.URL.Path), strings.Join(ChartNames, ".svg, ")+".svg"))
		return
	}
	q, lang, ok := p.request(w, r)
	if !ok {
		return
	}
	rep, err := p.Report(r.Context(), q)
	if err != nil {
		p.failed(w, r, err)
		return
	}
	c, _ := ChartByName(rep, &p.site, lang, name)
	w.Header().Set("Content-Type", "image/svg+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	w.Write(c.SVG)
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

func writeError(w http.ResponseWriter, status int, code, msg string) {
	b, _ := json.Marshal(api.ErrorBody{Error: api.Error{Code: code, Message: msg}})
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
}
