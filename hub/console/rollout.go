package console

import (
	"fmt"
	"sync"
	"time"

	"guichet/hub/api"
	"guichet/internal/release"
)

// rolloutEvery is how long the newest published version is kept before
// the update shelf is read again (the view is made at every change).
const rolloutEvery = 30 * time.Second

// Rollout is how far the newest update has gone among the devices.
type Rollout struct {
	Newest     string `json:"newest"`      // the newest version published (any architecture)
	Devices    int    `json:"devices"`     // devices enabled that published a state
	OnNewest   int    `json:"on_newest"`   // running it
	Trial      int    `json:"trial"`       // trying a new version now
	RolledBack int    `json:"rolled_back"` // whose last update was rolled back
	Failed     int    `json:"failed"`      // whose last update was refused or failed
	Text       string `json:"text"`        // the line above the devices, in the page's language
}

// newestCache keeps the shelf's newest version a while.
type newestCache struct {
	mu      sync.Mutex
	at      time.Time
	version string
}

func (c *newestCache) get(now time.Time, read func() string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.at.IsZero() || now.Sub(c.at) >= rolloutEvery || now.Before(c.at) {
		c.version, c.at = read(), now
	}
	return c.version
}

// rollout counts the devices' versions and update states against the
// newest version published; nil without an update shelf or anything on it.
func (p *Pages) rollout(now time.Time, rows []DeviceRow, states map[string]*api.DeviceUpdate, lang string) *Rollout {
	if p.o.NewestUpdate == nil {
		return nil
	}
	newest := p.newest.get(now, p.o.NewestUpdate)
	if newest == "" {
		return nil
	}
	r := &Rollout{Newest: newest}
	for _, d := range rows {
		if d.Disabled || !d.Seen || d.Role == api.RoleIntegration {
			continue
		}
		r.Devices++
		if release.Compare(d.Version, newest) >= 0 {
			r.OnNewest++
		}
		if u := states[d.ID]; u != nil {
			switch u.State {
			case api.UpdateTrial:
				r.Trial++
			case api.UpdateRolledBack:
				r.RolledBack++
			case api.UpdateFailed:
				r.Failed++
			}
		}
	}
	if lang == "en" {
		r.Text = fmt.Sprintf("Update %s: %d of %d devices run it, %d on trial, %d rolled back, %d failed.", newest, r.OnNewest, r.Devices, r.Trial, r.RolledBack, r.Failed)
	} else {
		r.Text = fmt.Sprintf("Mise à jour %s : %d appareils sur %d l'exécutent, %d en essai, %d annulées, %d en échec.", newest, r.OnNewest, r.Devices, r.Trial, r.RolledBack, r.Failed)
	}
	return r
}

// updateReasons are the release.Reasons in words: French, English.
var updateReasons = map[string][2]string{
	release.ReasonBadSignature: {"signature invalide", "bad signature"},
	release.ReasonOtherKey:     {"signée par une autre clé", "signed by another key"},
	release.ReasonOldVersion:   {"version plus ancienne", "older version"},
	release.ReasonWrongArch:    {"autre architecture", "other architecture"},
	release.ReasonBadVersion:   {"déjà annulée", "rolled back before"},
	release.ReasonTooOld:       {"version trop ancienne pour cette mise à jour", "too old for this update"},
	release.ReasonDownload:     {"téléchargement impossible", "download failed"},
	release.ReasonDisk:         {"écriture impossible", "could not write"},
	release.ReasonUnhealthy:    {"pas en bonne santé à temps", "not healthy in time"},
	release.ReasonWrongVersion: {"le binaire n'est pas la version signée", "the binary is not the signed version"},
	release.ReasonOffline:      {"hub injoignable pendant l'essai, nouvel essai plus tard", "hub unreachable during the trial, tried again later"},
	release.ReasonInsecure:     {"adresse du hub en http, secret non envoyé", "hub address is plain http, secret not sent"},
}

// updateText says a device's update state in lang: "" when idle.
func updateText(u *api.DeviceUpdate, lang string) string {
	if u == nil {
		return ""
	}
	en := lang == "en"
	why := func() string {
		r, ok := updateReasons[u.Reason]
		if !ok {
			return u.Reason
		}
		if en {
			return r[1]
		}
		return r[0]
	}
	pick := func(fr, e string) string {
		if en {
			return e
		}
		return fr
	}
	switch u.State {
	case api.UpdateDownloading:
		return pick("téléchargement de ", "downloading ") + u.Version
	case api.UpdateTrial:
		return pick("essai de ", "trying ") + u.Version
	case api.UpdateRolledBack:
		return pick("annulée : ", "rolled back: ") + u.Version + " (" + why() + ")"
	case api.UpdateFailed:
		return pick("refusée : ", "refused: ") + u.Version + " (" + why() + ")"
	}
	return ""
}
