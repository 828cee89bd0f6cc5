package crm

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/go-pdf/fpdf"

	"guichet/hub/audit"
)

// The acknowledgement of receipt ("accusé de réception"), CRPA L112-3: "Toute
// demande adressée à l'administration fait l'objet d'un accusé de
// réception", except the requests R112-4 lists (a decision in the citizen's
// favour within fifteen days; a document the town only checks the
// conditions of: Kind.Ack false). Its mentions, CRPA R112-5:
//
//	"L'accusé de réception prévu par l'article L. 112-3 comporte les mentions
//	suivantes :
//	1° La date de réception de la demande et la date à laquelle, à défaut
//	d'une décision expresse, celle-ci sera réputée acceptée ou rejetée ;
//	2° La désignation, l'adresse postale et, le cas échéant, électronique,
//	ainsi que le numéro de téléphone du service chargé du dossier ;
//	3° Le cas échéant, les informations mentionnées à l'article L. 114-5,
//	dans les conditions prévues par cet article.
//	Il indique si la demande est susceptible de donner lieu à une décision
//	implicite de rejet ou à une décision implicite d'acceptation. Dans le
//	premier cas, l'accusé de réception mentionne les délais et les voies de
//	recours à l'encontre de la décision. Dans le second cas, il mentionne la
//	possibilité offerte au demandeur de se voir délivrer l'attestation
//	prévue à l'article L. 232-3."
//
// Ack.Paragraphs writes each of them; the printable page and the PDF both
// print those paragraphs, so they cannot say different things.

// Ack is an acknowledgement of receipt, ready to print.
type Ack struct {
	Town      string   `json:"town"`
	Reference string   `json:"reference"`
	Kind      string   `json:"kind"` // the kind's label, and the request's title when it has its own
	To        string   `json:"to"`   // the citizen's name
	Address   []string `json:"address,omitempty"`
	Issued    string   `json:"issued"` // the day it is written, in French
	// Paragraphs are the body, in order: receipt, service, implicit
	// decision, appeals or attestation, missing documents.
	Paragraphs []string `json:"paragraphs"`
	Footer     string   `json:"footer"`
}

// Acknowledge writes the acknowledgement of receipt of a request, and
// records that it was issued (the first time).
func (s *Store) Acknowledge(ctx context.Context, v Viewer, id string) (Ack, error) {
	r, err := s.Request(ctx, v, id)
	if err != nil {
		return Ack{}, err
	}
	k, ok := s.site.kind(r.Kind)
	if !ok {
		return Ack{}, fmt.Errorf("acknowledge %s: unknown kind %s", id, r.Kind)
	}
	n, _, err := s.resolve(ctx, s.db.R, r.Citizen)
	if err != nil {
		return Ack{}, fmt.Errorf("acknowledge %s: %w", id, err)
	}
	c, err := loadCitizen(s.db.R, n)
	if err != nil {
		return Ack{}, fmt.Errorf("acknowledge %s: %w", id, err)
	}
	now := s.clock().UTC()
	if r.AckedAt.IsZero() {
		if err := s.record(ctx, v, "request.acknowledge", "request", id, audit.Allowed, ""); err != nil {
			return Ack{}, err
		}
		err := s.write(ctx, "acknowledge", func(tx *sql.Tx) error {
			_, err := tx.Exec(`UPDATE requests SET acked_at = ? WHERE id = ? AND acked_at = 0`, ms(now), id)
			return err
		})
		if err != nil {
			return Ack{}, fmt.Errorf("acknowledge %s: %w", id, err)
		}
		r.AckedAt = now
	}
	return s.ack(r, k, c, now), nil
}

func (s *Store) ack(r Request, k Kind, c Citizen, now time.Time) Ack {
	loc := s.site.Location
	day := func(t time.Time) string { return frenchDateIn(t, loc) }
	o := s.site.Offices[k.Sector]
	if o.Name == "" {
		o.Name = string(k.Sector)
	}
	label := k.Label
	if r.Title != "" && r.Title != k.Label {
		label += " : " + r.Title // what the agent wrote it is about
	}
	a := Ack{Town: s.site.Town, Reference: r.ID, Kind: label, To: strings.TrimSpace(c.FirstNames + " " + c.FamilyName),
		Issued: day(r.AckedAt)}
	if c.Address != "" {
		a.Address = strings.Split(c.Address, "\n")
	}
	p := func(f string, args ...any) { a.Paragraphs = append(a.Paragraphs, fmt.Sprintf(f, args...)) }
	// R112-5 1°, first half.
	p("Votre demande « %s » a été reçue le %s. Elle est enregistrée sous la référence %s.", k.Label, day(r.ReceivedAt), r.ID)
	// R112-5 2°.
	svc := "Service chargé du dossier : " + o.Name
	if o.Address != "" {
		svc += ", " + strings.ReplaceAll(o.Address, "\n", ", ")
	}
	if o.Phone != "" {
		svc += ", téléphone " + o.Phone
	}
	if o.Email != "" {
		svc += ", courriel " + o.Email
	}
	p("%s.", svc)
	// R112-5 1°, second half, and the regime with its consequences.
	im := r.Implicit
	basis := ""
	if k.Basis != "" {
		basis = " (" + k.Basis + ")"
	}
	switch {
	case im.Regime == RegimeNone:
		p("Cette demande ne donne pas lieu à une décision implicite : le service vous répondra expressément.")
	case im.Pending:
		p("Cette demande est susceptible de donner lieu à une décision implicite d'acceptation%s. Votre dossier étant incomplet, le délai au terme duquel, à défaut de décision expresse, elle sera réputée acceptée ne court qu'à compter de la réception des pièces manquantes (article L. 114-5 du code des relations entre le public et l'administration).", basis)
	case im.Regime == RegimeAcceptance:
		p("Cette demande est susceptible de donner lieu à une décision implicite d'acceptation%s : à défaut de décision expresse, elle sera réputée acceptée à l'issue du %s.", basis, day(im.Day))
	case im.Regime == RegimeRejection:
		p("Cette demande est susceptible de donner lieu à une décision implicite de rejet%s : à défaut de décision expresse, elle sera réputée rejetée à l'issue du %s.", basis, day(im.Day))
	}
	switch im.Regime {
	case RegimeAcceptance:
		p("En cas de décision implicite d'acceptation, vous pourrez demander au service la délivrance de l'attestation prévue à l'article L. 232-3 du code des relations entre le public et l'administration.")
	case RegimeRejection:
		p("Délais et voies de recours : une décision implicite de rejet peut être contestée devant le tribunal administratif dans un délai de deux mois à compter de la date à laquelle elle est née (article R. 421-2 du code de justice administrative). Dans le même délai, vous pouvez former un recours gracieux auprès du maire ; le tribunal administratif peut aussi être saisi par l'application Télérecours citoyens (www.telerecours.fr).")
	}
	// R112-5 3°: the information L114-5 requires, when pieces are missing.
	for _, sp := range r.Suspensions {
		if !sp.Received.IsZero() {
			continue
		}
		p("Pièces et informations manquantes : %s. Elles doivent parvenir au service au plus tard le %s.", sp.Pieces, day(sp.Due))
		switch im.Regime {
		case RegimeAcceptance:
			p("Le délai au terme duquel votre demande sera réputée acceptée ne court qu'à compter de la réception de ces pièces et informations (article L. 114-5 du code des relations entre le public et l'administration).")
		case RegimeRejection:
			p("Le délai au terme duquel votre demande sera réputée rejetée est suspendu pendant le délai imparti pour produire ces pièces et informations ; leur production avant l'expiration de ce délai met fin à cette suspension (article L. 114-5 du code des relations entre le public et l'administration). La date indiquée ci-dessus suppose qu'elles parviennent le dernier jour.")
		}
	}
	a.Footer = fmt.Sprintf("Accusé de réception délivré le %s en application des articles L. 112-3 et R. 112-5 du code des relations entre le public et l'administration.", day(a.issuedAt(r, now)))
	return a
}

func (a Ack) issuedAt(r Request, now time.Time) time.Time {
	if !r.AckedAt.IsZero() {
		return r.AckedAt
	}
	return now
}

// frenchDateIn writes a day as French letters do: "31 mars 2027", "1er avril 2027".
func frenchDateIn(t time.Time, loc *time.Location) string {
	t = t.In(loc)
	d := fmt.Sprint(t.Day())
	if t.Day() == 1 {
		d = "1er"
	}
	return fmt.Sprintf("%s %s %d", d, monthsFR[t.Month()-1], t.Year())
}

// WriteAckHTML writes the acknowledgement as a printable page.
func WriteAckHTML(w io.Writer, a Ack) error {
	return pages.ExecuteTemplate(w, "ack.html", a)
}

// fontDirs are where Debian's fonts-dejavu-core puts DejaVu Sans.
var fontDirs = []string{"/usr/share/fonts/truetype/dejavu", "/usr/share/fonts/dejavu", "/usr/local/share/fonts"}

// WriteAckPDF writes the acknowledgement as a PDF (A4).
//
// French text needs more than the PDF core fonts' default encoding. fpdf
// offers two ways: AddUTF8Font with a TrueType font it embeds (subset), or
// its cp1252 translator with the core Helvetica. Names of citizens are not
// all in cp1252 (Łukasz, Nguyễn), so the PDF embeds DejaVu Sans, from
// Debian's fonts-dejavu-core, which covers Latin, Greek and Cyrillic; on a
// machine without it, it falls back to Helvetica through the cp1252
// translator, where French itself (é è à ç œ « » €) is still right and
// other letters print as ".".
func WriteAckPDF(w io.Writer, a Ack) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetMargins(20, 20, 20)
	family, tr := "Helvetica", pdf.UnicodeTranslatorFromDescriptor("")
	if regular, err := readFont("DejaVuSans.ttf"); err == nil {
		bold, err := readFont("DejaVuSans-Bold.ttf")
		if err != nil {
			bold = regular
		}
		pdf.AddUTF8FontFromBytes("DejaVu", "", regular)
		pdf.AddUTF8FontFromBytes("DejaVu", "B", bold)
		family, tr = "DejaVu", func(s string) string { return s }
	}
	pdf.SetTitle(tr("Accusé de réception "+a.Reference), family == "DejaVu")
	pdf.SetCreator("Guichet", false)
	pdf.AddPage()
	pdf.SetFont(family, "B", 13)
	pdf.MultiCell(0, 6, tr(a.Town), "", "L", false)
	pdf.Ln(4)
	pdf.SetFont(family, "", 10.5)
	for _, l := range append([]string{a.To}, a.Address...) {
		pdf.CellFormat(0, 5, tr(l), "", 1, "R", false, 0, "")
	}
	pdf.Ln(6)
	pdf.SetFont(family, "B", 15)
	pdf.MultiCell(0, 8, tr("Accusé de réception"), "", "L", false)
	pdf.SetFont(family, "", 10.5)
	pdf.MultiCell(0, 5, tr("Objet : "+a.Kind+" — référence "+a.Reference), "", "L", false)
	pdf.Ln(3)
	for _, para := range a.Paragraphs {
		pdf.MultiCell(0, 5, tr(para), "", "J", false)
		pdf.Ln(2)
	}
	pdf.Ln(4)
	pdf.SetFont(family, "", 9)
	pdf.MultiCell(0, 4.5, tr(a.Footer), "", "L", false)
	if err := pdf.Error(); err != nil {
		return fmt.Errorf("acknowledgement PDF: %w", err)
	}
	return pdf.Output(w)
}

func readFont(name string) ([]byte, error) {
	var last error
	for _, d := range fontDirs {
		b, err := os.ReadFile(d + "/" + name)
		if err == nil {
			return b, nil
		}
		last = err
	}
	return nil, last
}
