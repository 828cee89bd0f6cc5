package kiosk

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"time"

	"guichet/internal/live"
)

//go:embed page.html
var pageHTML string

var pageTmpl = template.Must(template.New("kiosk").Funcs(template.FuncMap{
	"t": func(lang, key string, args ...any) string { return T(lang, key, args...) },
	"other": func(lang string) string {
		if lang == "en" {
			return "fr"
		}
		return "en"
	},
	"inc": func(i int) int { return i + 1 },
}).Parse(pageHTML))

// Page serves the kiosk's touchscreen page, for a browser in kiosk mode on
// the device itself.
type Page struct {
	k   *Kiosk
	log *slog.Logger
}

// NewPage returns the touchscreen page of k.
func NewPage(k *Kiosk) *Page { return &Page{k: k, log: k.log} }

// ServeHTTP serves the page, its live state and the presses.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	switch {
	case r.Method == http.MethodGet && r.URL.Path == "/":
		p.page(w, r, nil, nil)
	case r.Method == http.MethodGet && r.URL.Path == "/events":
		p.events(w, r)
	case r.Method == http.MethodPost && (r.URL.Path == "/press" || r.URL.Path == "/checkin"):
		p.press(w, r)
	default:
		http.NotFound(w, r)
	}
}

func pageLang(r *http.Request) string {
	if r.URL.Query().Get("lang") == "en" || r.FormValue("lang") == "en" {
		return "en"
	}
	return "fr"
}

func (p *Page) page(w http.ResponseWriter, r *http.Request, res *Result, refused *Refusal) {
	lang := pageLang(r)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	data := map[string]any{"Lang": lang, "V": p.k.View(lang), "Result": res, "Refused": refused}
	if err := pageTmpl.Execute(w, data); err != nil {
		p.log.Error("render kiosk page", "err", err)
	}
}

// press issues a ticket: JSON for the page's script, HTML for a plain form.
func (p *Page) press(w http.ResponseWriter, r *http.Request) {
	// Only this page may press: a page from elsewhere in the same browser
	// may not print tickets.
	if !live.SameOrigin(r) {
		http.Error(w, "forbidden", http.StatusForbidden)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4<<10)
	if err := r.ParseForm(); err != nil {
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	lang := pageLang(r)
	ctx, cancel := context.WithTimeout(r.Context(), 30*time.Second)
	defer cancel()
	var res Result
	var err error
	if r.URL.Path == "/checkin" {
		res, err = p.k.CheckIn(ctx, r.FormValue("code"), lang)
	} else {
		res, err = p.k.Issue(ctx, Press{Service: r.FormValue("service"), Priority: r.FormValue("priority") == "1", Lang: lang})
	}
	var ref *Refusal
	if err != nil && !errors.As(err, &ref) {
		ref = refusal(lang, "error")
	}
	if r.Header.Get("Accept") == "application/json" {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		if ref != nil {
			w.WriteHeader(http.StatusConflict)
			json.NewEncoder(w).Encode(map[string]string{"code": ref.Code, "message": ref.Message})
			return
		}
		json.NewEncoder(w).Encode(res)
		return
	}
	if ref != nil {
		p.page(w, r, nil, ref)
		return
	}
	p.page(w, r, &res, nil)
}

// events streams the kiosk's view whenever it changes.
func (p *Page) events(w http.ResponseWriter, r *http.Request) {
	lang := pageLang(r)
	changes, cancel := p.k.Watch()
	defer cancel()
	live.Stream(w, r, changes, 5*time.Second, func() any { return p.k.View(lang) })
}
