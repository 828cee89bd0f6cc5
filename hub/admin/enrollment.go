package admin

import (
	"encoding/base64"
	"html/template"
	"net/http"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"guichet/hub/auth"
	"guichet/hub/queue"
)

// enrollmentData is the page that shows a device's enrollment code, once.
type enrollmentData struct {
	ID, Code, Command, Expires string
	QR                         template.URL // a data: URL of the PNG of Command
}

// EnrollCommand is the command an installer types on a device to enroll
// it with code at the hub reached at hubURL.
func EnrollCommand(hubURL, code string) string {
	return "sudo guichet enroll " + hubURL + " " + code
}

// hubURL is the hub's web address as the administrator's browser reached it.
func hubURL(r *http.Request) string {
	if r.TLS != nil {
		return "https://" + r.Host
	}
	return "http://" + r.Host
}

func (p *Pages) newEnrollment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	code, expires, err := p.o.Devices.IssueEnrollment(id, auth.From(r.Context()).Actor(), 0)
	if err != nil {
		p.deviceRefused(w, r, err, nil)
		return
	}
	loc := time.Local
	p.o.Hub.Read(func(e *queue.Engine) {
		if l := e.Site().Location; l != nil {
			loc = l
		}
	})
	d := enrollmentData{ID: id, Code: code, Command: EnrollCommand(hubURL(r), code), Expires: expires.In(loc).Format("02/01/2006 15:04")}
	png, err := qrcode.Encode(d.Command, qrcode.Medium, 320)
	if err != nil {
		p.log.Error("admin: enrollment QR code", "err", err)
	} else {
		d.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	}
	w.Header().Set("Cache-Control", "no-store")
	p.render(w, r, http.StatusOK, "enrollment", page{Title: T(lang(r), "enrollment_title", id), Nav: "devices", Data: d})
}
