package console

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"time"

	"guichet/hub/queue"
	"guichet/hub/stats"
)

// statsView is what the statistics page shows: the form, and the report
// of its query with its charts and their tables.
type statsView struct {
	frame
	Q        stats.Query
	Error    string
	Report   *stats.Report
	Charts   []chartView
	Groups   []group
	Services []Ref
	Agents   []Ref
	Query    string // the report's query, for the CSV links
	Today    string
	Format   stats.Format
}

type chartView struct {
	stats.Chart
	Src template.URL // the SVG, as a data: URL (the page computed it already)
}

// group is a table of summaries: per service, agent, channel or day.
type group struct {
	Title, Key string
	Rows       []stats.Summary
}

// statsPage shows the statistics of a day or a range of days, for a
// service, an agent, a channel or all.
func (p *Pages) statsPage(w http.ResponseWriter, r *http.Request) {
	v := statsView{frame: p.frame(r, "stats", "stats_title")}
	l := v.Lang
	v.Format = stats.FormatFor(l)
	p.o.Hub.Read(func(e *queue.Engine) {
		v.Today = e.Day(p.o.Hub.Now())
		for _, s := range e.Site().Services {
			v.Services = append(v.Services, Ref{ID: s.ID, Name: s.Name(l)})
		}
		for i := range e.Site().Agents {
			a := &e.Site().Agents[i]
			v.Agents = append(v.Agents, Ref{ID: a.ID, Name: agentName(a)})
		}
	})
	q := url.Values{}
	for _, k := range []string{"from", "to", "service", "agent", "channel"} {
		if x := r.URL.Query().Get(k); x != "" {
			q.Set(k, x)
		}
	}
	query, err := stats.ParseQuery(q, v.Today)
	v.Q = query
	if err != nil {
		v.Error = T(l, "stats_error", err)
		v.Q = stats.Query{From: q.Get("from"), To: q.Get("to"), Service: q.Get("service"), Agent: q.Get("agent"), Channel: queue.Channel(q.Get("channel"))}
		w.WriteHeader(http.StatusBadRequest)
		p.render(w, "stats.html", v)
		return
	}
	v.Query = q.Encode()
	start := time.Now()
	rep, err := p.o.Stats.Report(r.Context(), query)
	if err != nil {
		if r.Context().Err() == nil {
			p.log.Error("statistics page", "err", err)
		}
		http.Error(w, T(l, "e_unavailable"), http.StatusInternalServerError)
		return
	}
	v.Report = rep
	for _, c := range stats.Charts(rep, p.o.Stats.Site(), l) {
		v.Charts = append(v.Charts, chartView{Chart: c, Src: template.URL("data:image/svg+xml;base64," + base64.StdEncoding.EncodeToString(c.SVG))})
	}
	v.Groups = []group{{T(l, "by_service"), "service", rep.Services}, {T(l, "by_agent"), "agent", rep.Agents},
		{T(l, "by_channel"), "channel", rep.Channels}}
	if len(rep.Days) > 1 {
		v.Groups = append(v.Groups, group{T(l, "by_day"), "day", rep.Days})
	}
	for i := range v.Groups[2].Rows {
		row := &v.Groups[2].Rows[i]
		row.Name = T(l, "ch_"+row.Key)
	}
	for i := range v.Groups[0].Rows {
		row := &v.Groups[0].Rows[i]
		for _, s := range v.Services {
			if s.ID == row.Key {
				row.Name = s.Name
			}
		}
	}
	p.render(w, "stats.html", v)
	p.log.Debug("statistics page", "from", query.From, "to", query.To, "took", time.Since(start).Round(time.Millisecond))
}
