package web

import (
	"net/http"

	"guichet/hub"
	"guichet/hub/api"
	"guichet/hub/queue"
	"guichet/internal/boardpage"
)

// board is the hub's own board: /display, for smart TVs and signage
// players (a Xibo web-page widget pointing at /display/).
type board struct{ p *Pages }

func (b board) View(lang string) boardpage.View {
	var cfg api.SiteConfig
	var bd api.Board
	var q api.Queue
	now := b.p.hub.Now()
	b.p.hub.Read(func(e *queue.Engine) {
		s := e.Site()
		cfg.Site = api.SiteInfo{ID: s.ID, Name: s.Name, Timezone: s.Location.String(), Info: s.Info, Message: s.Message,
			Clock: b.p.hub.SimClock()}
		bd, q = hub.BoardView(e), hub.QueueView(e, now)
	})
	return boardpage.Build(lang, cfg, bd, q, true)
}

func (b board) Watch() (<-chan struct{}, func()) { return b.p.hub.Watch() }

func (p *Pages) registerDisplay(page func(pattern, about string, h http.Handler)) {
	page("/display/", "the waiting-room board, served by the hub", http.StripPrefix("/display", boardpage.Handler(board{p}, p.log)))
	page("/display", "to /display/", http.RedirectHandler("/display/", http.StatusMovedPermanently))
}
