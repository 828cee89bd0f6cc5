package admin

import (
	"net/http"
	"strings"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
)

// homeData is the site's page: its settings and the screens' message.
type homeData struct {
	Settings queue.Settings
	Message  map[string]string
}

func (p *Pages) homeData() homeData {
	var d homeData
	p.o.Hub.Read(func(e *queue.Engine) {
		s := e.Site()
		d = homeData{Settings: queue.Settings{Name: s.Name, Info: s.Info, PublicURL: s.PublicURL, Languages: s.Languages}, Message: s.Message}
	})
	return d
}

func (p *Pages) home(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, "home", page{Title: T(lang(r), "home"), Nav: "home", Data: p.homeData()})
}

// refused shows the page again with the hub's refusal, and what was typed.
func (p *Pages) refused(w http.ResponseWriter, r *http.Request, name, nav, msg string, data any) {
	p.render(w, r, http.StatusUnprocessableEntity, name, page{Title: T(lang(r), nav), Nav: nav, Error: msg, Data: data})
}

func (p *Pages) saveSettings(w http.ResponseWriter, r *http.Request) {
	st := queue.Settings{Name: r.PostFormValue("name"), PublicURL: r.PostFormValue("public_url"),
		Info: map[string]string{"fr": r.PostFormValue("info_fr"), "en": r.PostFormValue("info_en")}}
	for _, l := range strings.FieldsFunc(r.PostFormValue("languages"), func(c rune) bool { return c == ',' || c == ' ' }) {
		st.Languages = append(st.Languages, l)
	}
	if msg, ok := p.do(r, hub.SaveSettings(st)); !ok {
		d := p.homeData()
		d.Settings = st
		p.refused(w, r, "home", "home", msg, d)
		return
	}
	http.Redirect(w, r, "/admin/?ok=1", http.StatusSeeOther)
}

func (p *Pages) saveMessage(w http.ResponseWriter, r *http.Request) {
	m := api.Names{"fr": r.PostFormValue("message_fr"), "en": r.PostFormValue("message_en")}
	if msg, ok := p.do(r, hub.SetBoardMessage(api.BoardMessageArgs{Message: m})); !ok {
		d := p.homeData()
		d.Message = m
		p.refused(w, r, "home", "home", msg, d)
		return
	}
	http.Redirect(w, r, "/admin/?ok=1", http.StatusSeeOther)
}

func (p *Pages) pauses(w http.ResponseWriter, r *http.Request) {
	var reasons []string
	p.o.Hub.Read(func(e *queue.Engine) { reasons = append(reasons, e.Site().PauseReasons...) })
	p.render(w, r, http.StatusOK, "pauses", page{Title: T(lang(r), "pauses"), Nav: "pauses", Data: strings.Join(reasons, "\n")})
}

func (p *Pages) savePauses(w http.ResponseWriter, r *http.Request) {
	text := r.PostFormValue("reasons")
	var reasons []string
	for _, l := range strings.Split(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			reasons = append(reasons, l)
		}
	}
	if msg, ok := p.do(r, hub.SavePauseReasons(reasons)); !ok {
		p.refused(w, r, "pauses", "pauses", msg, text)
		return
	}
	http.Redirect(w, r, "/admin/pauses?ok=1", http.StatusSeeOther)
}
