package admin

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
)

// serviceForm is a service as its form shows it: durations in minutes,
// hours a line per day.
type serviceForm struct {
	New              bool
	ID               string
	NameFR, NameEN   string
	SLA, ServiceTime string
	Weight           string
	Channels         []queue.Channel
	Days             []dayHours
	ClosedDates      string
	Closed           bool
	CloseFR, CloseEN string
	CanDelete        bool
}

func minutes(d time.Duration) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", d.Minutes()), "0"), ".")
}

func formOf(s *queue.Service, l string) serviceForm {
	f := serviceForm{ID: s.ID, NameFR: s.Names["fr"], NameEN: s.Names["en"], SLA: minutes(s.SLA), ServiceTime: minutes(s.ServiceTime),
		Weight: strconv.FormatFloat(s.Weight, 'f', -1, 64), Channels: s.Channels, ClosedDates: strings.Join(s.Hours.ClosedDates(), " "),
		Closed: s.Closed != nil}
	if s.Closed != nil {
		f.CloseFR, f.CloseEN = s.Closed.Message["fr"], s.Closed.Message["en"]
	}
	f.Days = weekDays(s.Hours, l)
	return f
}

// servicesData is the list of services, and the lanes (a service on a
// channel) nobody can serve: no counter takes them with a skilled agent.
type servicesData struct {
	Services []queue.Service
	Unserved []string
}

func (p *Pages) services(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	var d servicesData
	p.o.Hub.Read(func(e *queue.Engine) {
		site := e.Site()
		for _, s := range site.Services {
			d.Services = append(d.Services, s.Clone())
		}
		for _, ln := range site.Unserved(nil) {
			d.Unserved = append(d.Unserved, fmt.Sprintf("%s — %s (%s)", ln.Service, site.Service(ln.Service).Name(l), T(l, string(ln.Channel))))
		}
	})
	p.render(w, r, http.StatusOK, "services", page{Title: T(l, "services"), Nav: "services", Data: d})
}

func (p *Pages) serviceForm(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	id := r.PathValue("id")
	f := formOf(&queue.Service{Channels: []queue.Channel{queue.Visit}}, l)
	f.New, f.SLA, f.ServiceTime, f.Weight = true, "15", "10", "1"
	if id != "" {
		found := false
		p.o.Hub.Read(func(e *queue.Engine) {
			if s := e.Service(id); s != nil {
				f, found = formOf(s, l), true
			}
		})
		if !found {
			http.NotFound(w, r)
			return
		}
		f.CanDelete = true
	}
	title := T(l, "new_service")
	if !f.New {
		title = f.ID + " — " + f.NameFR
		if l == "en" && f.NameEN != "" {
			title = f.ID + " — " + f.NameEN
		}
	}
	p.render(w, r, http.StatusOK, "service", page{Title: title, Nav: "services", Data: f})
}

// parseMinutes reads minutes ("15", "1.5"); empty is zero.
func parseMinutes(s string) (time.Duration, error) {
	s = strings.TrimSpace(strings.ReplaceAll(s, ",", "."))
	if s == "" {
		return 0, nil
	}
	m, err := strconv.ParseFloat(s, 64)
	if err != nil || m < 0 || m > 24*60 {
		return 0, fmt.Errorf("%.20q", s)
	}
	return time.Duration(m * float64(time.Minute)).Round(time.Second), nil
}

func (p *Pages) saveService(w http.ResponseWriter, r *http.Request) {
	l := lang(r)
	f := serviceForm{New: r.PostFormValue("new") != "", ID: strings.ToUpper(strings.TrimSpace(r.PostFormValue("id"))),
		NameFR: r.PostFormValue("name_fr"), NameEN: r.PostFormValue("name_en"), SLA: r.PostFormValue("sla"),
		ServiceTime: r.PostFormValue("service_time"), Weight: r.PostFormValue("weight"), ClosedDates: r.PostFormValue("closed_dates")}
	for _, c := range r.PostForm["channels"] {
		f.Channels = append(f.Channels, queue.Channel(c))
	}
	days, week, problem := parseWeek(r, l, T(l, "hours"))
	f.Days = days
	sla, err1 := parseMinutes(f.SLA)
	st, err2 := parseMinutes(f.ServiceTime)
	weight, err3 := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(f.Weight), ",", "."), 64)
	if strings.TrimSpace(f.Weight) == "" {
		weight, err3 = 0, nil
	}
	switch {
	case err1 != nil:
		problem = fmt.Sprintf("%s: %v", T(l, "sla"), err1)
	case err2 != nil:
		problem = fmt.Sprintf("%s: %v", T(l, "service_time"), err2)
	case err3 != nil:
		problem = T(l, "weight")
	}
	if problem == "" {
		sv := queue.Service{ID: f.ID, Names: map[string]string{"fr": f.NameFR, "en": f.NameEN}, SLA: sla, ServiceTime: st,
			Weight: weight, Channels: f.Channels, Hours: queue.NewHours(week, strings.Fields(f.ClosedDates))}
		if f.New {
			exists := false
			p.o.Hub.Read(func(e *queue.Engine) { exists = e.Service(f.ID) != nil })
			if exists {
				problem = T(l, "exists", f.ID)
			}
		}
		if problem == "" {
			msg, ok := p.do(r, hub.SaveService(sv))
			if ok {
				http.Redirect(w, r, "/admin/services?ok=1", http.StatusSeeOther)
				return
			}
			problem = msg
		}
	}
	f.CanDelete = !f.New
	p.refused(w, r, "service", "services", problem, f)
}

func (p *Pages) closeService(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	m := api.Names{"fr": r.PostFormValue("close_fr"), "en": r.PostFormValue("close_en")}
	p.serviceAction(w, r, hub.CloseService(id, api.ServiceCloseArgs{Message: m}))
}

func (p *Pages) reopenService(w http.ResponseWriter, r *http.Request) {
	p.serviceAction(w, r, hub.ReopenService(r.PathValue("id")))
}

func (p *Pages) deleteService(w http.ResponseWriter, r *http.Request) {
	p.serviceAction(w, r, hub.RemoveService(r.PathValue("id")))
}

// serviceAction runs an action on a service and goes back to the list, or
// shows the service's form with the refusal.
func (p *Pages) serviceAction(w http.ResponseWriter, r *http.Request, act hub.Action) {
	msg, ok := p.do(r, act)
	if ok {
		http.Redirect(w, r, "/admin/services?ok=1", http.StatusSeeOther)
		return
	}
	var f serviceForm
	found := false
	p.o.Hub.Read(func(e *queue.Engine) {
		if s := e.Service(r.PathValue("id")); s != nil {
			f, found = formOf(s, lang(r)), true
		}
	})
	if !found {
		p.render(w, r, http.StatusNotFound, "services", page{Title: T(lang(r), "services"), Nav: "services", Error: msg, Data: servicesData{}})
		return
	}
	f.CanDelete = true
	p.refused(w, r, "service", "services", msg, f)
}
