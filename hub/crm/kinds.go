package crm

import (
	"fmt"
	"time"
)

// Sector is a part of the town's services whose records the others do not
// see: the CNIL's guidance for local authorities forbids one file read by
// every service.
type Sector string

// The sectors of a town hall.
const (
	SectorAccueil       Sector = "accueil"        // general reception: contact history
	SectorEtatCivil     Sector = "etat_civil"     // civil status, citizenship, population
	SectorElections     Sector = "elections"      // electoral roll
	SectorSocial        Sector = "social"         // the CCAS: social aid
	SectorUrbanisme     Sector = "urbanisme"      // planning permissions
	SectorPetiteEnfance Sector = "petite_enfance" // crèches, childminders
	SectorVoirie        Sector = "voirie"         // public highway, occupation of the public domain
)

// Office is the service handling a kind of request, as the acknowledgement
// must name it (CRPA R112-5 2°: "la désignation, l'adresse postale et, le
// cas échéant, électronique, ainsi que le numéro de téléphone du service
// chargé du dossier").
type Office struct {
	Name    string `json:"name" yaml:"name"`
	Address string `json:"address" yaml:"address"` // postal address, lines separated by "\n"
	Email   string `json:"email,omitempty" yaml:"email,omitempty"`
	Phone   string `json:"phone" yaml:"phone"`
}

// Kind is a kind of request the town handles: site data.
type Kind struct {
	ID     string `json:"id" yaml:"id"`
	Label  string `json:"label" yaml:"label"` // in French: it is printed on the acknowledgement
	Sector Sector `json:"sector" yaml:"sector"`
	Regime Regime `json:"regime" yaml:"regime"`
	Delay  Delay  `json:"delay" yaml:"delay"`
	// Ack says whether the town acknowledges receipt: CRPA R112-4 exempts
	// requests decided within 15 days in the citizen's favour and requests
	// for a document the town only checks the conditions of.
	Ack   bool   `json:"ack" yaml:"ack"`
	Basis string `json:"basis,omitempty" yaml:"basis,omitempty"` // the text that sets regime and delay, printed
	// External are the other platforms' names for this kind, as
	// "source:type": a Lutece GRU demand type 12 from the platform named
	// "teleservices" is "teleservices:12".
	External []string `json:"external,omitempty" yaml:"external,omitempty"`
}

// KindExternal is the kind of a request imported from another platform
// whose type no kind names: no implicit decision is computed for it (the
// platform that instructs it knows its regime).
const KindExternal = "externe"

// Site is what the citizen file needs to know of the town: site data that
// the site file fills; DefaultSite gives a town hall's defaults.
type Site struct {
	Town     string            `json:"town" yaml:"town"` // "Mairie de Vincennes"
	Location *time.Location    `json:"-" yaml:"-"`       // Europe/Paris
	Offices  map[Sector]Office `json:"offices" yaml:"offices"`
	Kinds    []Kind            `json:"kinds" yaml:"kinds"`
	// Retention of each kind of data; DefaultRetention if zero.
	Retention Retention `json:"retention" yaml:"retention"`
}

// DefaultKinds are the kinds of requests of a French town hall, with the
// regime and delay the texts give them. A site changes or adds to them.
func DefaultKinds() []Kind {
	return []Kind{
		{ID: "acte_etat_civil", Label: "Demande d'acte d'état civil (copie intégrale, extrait)", Sector: SectorEtatCivil,
			Regime: RegimeAcceptance, Delay: Delay{Months: 2}, Ack: false,
			Basis: "CRPA L231-1 ; accusé de réception non délivré (CRPA R112-4 2°)"},
		{ID: "attestation_accueil", Label: "Validation d'une attestation d'accueil", Sector: SectorEtatCivil,
			Regime: RegimeRejection, Delay: Delay{Months: 1}, Ack: true,
			Basis: "CESEDA, partie réglementaire : le silence gardé plus d'un mois par le maire vaut rejet"},
		{ID: "inscription_liste_electorale", Label: "Inscription sur la liste électorale", Sector: SectorElections,
			Regime: RegimeRejection, Delay: Delay{Days: 5}, Ack: true,
			Basis: "Code électoral L18 : le maire statue dans les cinq jours"},
		{ID: "certificat_urbanisme_information", Label: "Certificat d'urbanisme d'information", Sector: SectorUrbanisme,
			Regime: RegimeAcceptance, Delay: Delay{Months: 1}, Ack: true,
			Basis: "Code de l'urbanisme L410-1, R410-9 : certificat tacite au terme d'un mois"},
		{ID: "certificat_urbanisme_operationnel", Label: "Certificat d'urbanisme opérationnel", Sector: SectorUrbanisme,
			Regime: RegimeAcceptance, Delay: Delay{Months: 2}, Ack: true,
			Basis: "Code de l'urbanisme L410-1, R410-9 : certificat tacite au terme de deux mois"},
		{ID: "declaration_prealable", Label: "Déclaration préalable de travaux", Sector: SectorUrbanisme,
			Regime: RegimeAcceptance, Delay: Delay{Months: 1}, Ack: true,
			Basis: "Code de l'urbanisme R423-23 : non-opposition tacite au terme d'un mois"},
		{ID: "aide_sociale_facultative", Label: "Demande d'aide sociale facultative (CCAS)", Sector: SectorSocial,
			Regime: RegimeRejection, Delay: Delay{Months: 2}, Ack: true,
			Basis: "CRPA L231-4 3° : demande à caractère financier"},
		{ID: "domiciliation", Label: "Demande d'élection de domicile (domiciliation)", Sector: SectorSocial,
			Regime: RegimeRejection, Delay: Delay{Months: 2}, Ack: true,
			Basis: "CRPA L231-4"},
		{ID: "place_creche", Label: "Demande de place en établissement d'accueil du jeune enfant", Sector: SectorPetiteEnfance,
			Regime: RegimeRejection, Delay: Delay{Months: 2}, Ack: true,
			Basis: "CRPA L231-4 2° : demande hors procédure prévue par un texte"},
		{ID: "occupation_domaine_public", Label: "Permis de stationnement / occupation du domaine public", Sector: SectorVoirie,
			Regime: RegimeRejection, Delay: Delay{Months: 2}, Ack: true,
			Basis: "CG3P L2122-1-1 et décret d'exceptions : le silence vaut rejet"},
		{ID: "reclamation", Label: "Réclamation ou recours gracieux", Sector: SectorAccueil,
			Regime: RegimeRejection, Delay: Delay{Months: 2}, Ack: true,
			Basis: "CRPA L231-4 2° : réclamation ou recours administratif"},
		{ID: "autre", Label: "Autre demande", Sector: SectorAccueil,
			Regime: RegimeAcceptance, Delay: Delay{Months: 2}, Ack: true, Basis: "CRPA L231-1"},
		{ID: KindExternal, Label: "Demande faite sur une autre plateforme", Sector: SectorAccueil,
			Regime: RegimeNone, Ack: false},
	}
}

// DefaultSite is a town hall with the default kinds, retention and offices
// named after their sector; the site file gives the real addresses.
func DefaultSite(town string) Site {
	loc, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		loc = time.UTC
	}
	offices := map[Sector]Office{}
	for s, name := range map[Sector]string{SectorAccueil: "Accueil", SectorEtatCivil: "Service de l'état civil",
		SectorElections: "Service des élections", SectorSocial: "Centre communal d'action sociale (CCAS)",
		SectorUrbanisme: "Service de l'urbanisme", SectorPetiteEnfance: "Service de la petite enfance",
		SectorVoirie: "Service de la voirie"} {
		offices[s] = Office{Name: name}
	}
	return Site{Town: town, Location: loc, Offices: offices, Kinds: DefaultKinds(), Retention: DefaultRetention()}
}

func (s *Site) check() error {
	if s.Location == nil {
		return fmt.Errorf("site: no time zone")
	}
	seen := map[string]bool{}
	for _, k := range s.Kinds {
		if k.ID == "" || seen[k.ID] {
			return fmt.Errorf("site: kind %q: empty or repeated id", k.ID)
		}
		seen[k.ID] = true
		if k.Sector == "" {
			return fmt.Errorf("site: kind %s: no sector", k.ID)
		}
		switch k.Regime {
		case RegimeAcceptance, RegimeRejection, RegimeNone:
		default:
			return fmt.Errorf("site: kind %s: regime %q is not acceptation, rejet or aucun", k.ID, k.Regime)
		}
	}
	return nil
}

// external returns the kind another platform's type names, or KindExternal.
func (s *Site) external(source, typ string) Kind {
	name := source + ":" + typ
	for _, k := range s.Kinds {
		if contains(k.External, name) || k.ID == typ {
			return k
		}
	}
	k, _ := s.kind(KindExternal)
	return k
}

func (s *Site) kind(id string) (Kind, bool) {
	for _, k := range s.Kinds {
		if k.ID == id {
			return k, true
		}
	}
	return Kind{}, false
}

// KindsFor returns the kinds of request v may register: those of the
// sectors v sees, in the site file's order, the platforms' KindExternal
// left out (it is for imported requests).
func (s *Store) KindsFor(v Viewer) []Kind {
	var out []Kind
	for _, k := range s.site.Kinds {
		if k.ID != KindExternal && s.sees(v, k.Sector) {
			out = append(out, k)
		}
	}
	return out
}

// OnDay returns the time a request received on day (YYYY-MM-DD, a civil
// day in loc) is registered at: now when day is today, noon of that day
// when it is past. A day ahead of today, or no day, is refused.
func OnDay(day string, loc *time.Location, now time.Time) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not a day (YYYY-MM-DD)", ErrInvalid, day)
	}
	today := now.In(loc).Format(time.DateOnly)
	switch {
	case day == today:
		return now, nil
	case day > today:
		return time.Time{}, fmt.Errorf("%w: day %s is after today", ErrInvalid, day)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 12, 0, 0, 0, loc), nil
}

// DueDay returns the time a deadline set for day (YYYY-MM-DD, a civil
// day in loc) stands for: the end of that day. A day that is not after
// today is refused: missing pieces are asked for by a day to come.
func DueDay(day string, loc *time.Location, now time.Time) (time.Time, error) {
	d, err := time.ParseInLocation(time.DateOnly, day, loc)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %q is not a day (YYYY-MM-DD)", ErrInvalid, day)
	}
	if day <= now.In(loc).Format(time.DateOnly) {
		return time.Time{}, fmt.Errorf("%w: the day for the documents must be after today", ErrInvalid)
	}
	return time.Date(d.Year(), d.Month(), d.Day(), 23, 59, 0, 0, loc), nil
}
