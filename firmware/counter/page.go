package counter

import (
	"bytes"
	_ "embed"
	"fmt"
	"html/template"
	"image/png"
	"log/slog"
	"net/http"
	"time"

	"guichet/hw/deskscreen"
	"guichet/internal/live"
)

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("desks").Parse(pageHTML))

// DeskPage serves the virtual counter terminals of the demo: each desk's
// display as its OLED would show it, its LED, and its buttons, which press
// the virtual pins.
type DeskPage struct {
	desks []*Virtual
	byID  map[string]*Virtual
	log   *slog.Logger
	mux   *http.ServeMux
}

// NewDeskPage returns the page of desks. It serves "/" (the page),
// "/events" (the desks' states, as server-sent events),
// "/{counter}/screen.png" and POST "/{counter}/press/{button}".
func NewDeskPage(desks []*Virtual, log *slog.Logger) *DeskPage {
	p := &DeskPage{desks: desks, byID: map[string]*Virtual{}, log: log, mux: http.NewServeMux()}
	for _, d := range desks {
		p.byID[d.o.Counter] = d
	}
	p.mux.HandleFunc("GET /{$}", p.page)
	p.mux.HandleFunc("GET /events", p.events)
	p.mux.HandleFunc("GET /{counter}/screen.png", p.screen)
	p.mux.HandleFunc("POST /{counter}/press/{button}", p.press)
	return p
}

type deskView struct {
	Counter string `json:"id"`
	Name    string `json:"name"`
	State
}

func (p *DeskPage) views() []deskView {
	out := make([]deskView, 0, len(p.desks))
	for _, d := range p.desks {
		st := d.State()
		name := st.Counter.Name
		if name == "" {
			name = d.o.Counter
		}
		out = append(out, deskView{Counter: d.o.Counter, Name: name, State: st})
	}
	return out
}

var buttonLabels = map[string][2]string{ // fr, en
	Next: {"Suivant", "Next"}, Recall: {"Rappel", "Recall"}, NoShow: {"Absent", "No-show"},
	Finish: {"Terminé", "Finish"}, Pause: {"Pause / reprise", "Pause / resume"},
}

// ServeHTTP implements http.Handler.
func (p *DeskPage) ServeHTTP(w http.ResponseWriter, r *http.Request) { p.mux.ServeHTTP(w, r) }

func (p *DeskPage) page(w http.ResponseWriter, r *http.Request) {
	lang := 0
	if r.URL.Query().Get("lang") == "en" {
		lang = 1
	}
	type button struct{ ID, Label, Key string }
	var buttons []button
	for i, b := range Buttons {
		buttons = append(buttons, button{b, buttonLabels[b][lang], fmt.Sprint(i + 1)})
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	views := p.views()
	single := "" // a terminal's own page is titled with its counter
	if len(views) == 1 {
		single = views[0].Name
	}
	err := pageTmpl.Execute(w, map[string]any{"Desks": views, "Buttons": buttons, "EN": lang == 1, "Single": single})
	if err != nil {
		p.log.Error("render desks page", "err", err)
	}
}

func (p *DeskPage) screen(w http.ResponseWriter, r *http.Request) {
	d := p.byID[r.PathValue("counter")]
	if d == nil {
		http.NotFound(w, r)
		return
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, deskscreen.Render(d.State().Frame, 128, 64)); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}

func (p *DeskPage) press(w http.ResponseWriter, r *http.Request) {
	// Only this page may press: another site open in the same browser may not.
	if !live.SameOrigin(r) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	d := p.byID[r.PathValue("counter")]
	if d == nil {
		http.NotFound(w, r)
		return
	}
	if err := d.Tap(r.PathValue("button")); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// events streams the desks each time one of them shows something new (and
// every few seconds, for what the display does not show).
func (p *DeskPage) events(w http.ResponseWriter, r *http.Request) {
	changes := make(chan struct{}, 1)
	for _, d := range p.desks {
		c, stop := d.Watch()
		defer stop()
		go func() {
			for {
				select {
				case <-r.Context().Done():
					return
				case <-c:
					select {
					case changes <- struct{}{}:
					default:
					}
				}
			}
		}()
	}
	live.Stream(w, r, changes, 5*time.Second, func() any { return p.views() })
}
