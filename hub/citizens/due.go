package citizens

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"guichet/hub/crm"
)

// DueRequest is a request of the supervision's list of implicit decisions
// to come, in words: its kind's label, the office handling it and, when
// asked for, the citizen's name.
type DueRequest struct {
	crm.Request
	KindLabel string `json:"kind_label"`
	Office    string `json:"office"` // the service handling it (the acknowledgement's)
	// CitizenName is the citizen's first names and family name, read
	// (and audited) only when the list is asked for with names; empty
	// when the viewer may not read the file.
	CitizenName string `json:"citizen_name,omitempty"`
}

// DueList is DueWithin in words. With names, each citizen's name is read
// through the citizen file, which checks v's rights and audits the read
// (once per citizen); the list holds only requests of sectors v sees.
func (s *Service) DueList(ctx context.Context, v crm.Viewer, d time.Duration, names bool) ([]DueRequest, error) {
	reqs, err := s.crm.DueWithin(ctx, v, d)
	if err != nil {
		return nil, err
	}
	site := s.crm.Site()
	kinds := map[string]crm.Kind{}
	for _, k := range site.Kinds {
		kinds[k.ID] = k
	}
	read := map[string]string{}
	out := make([]DueRequest, 0, len(reqs))
	for _, r := range reqs {
		dr := DueRequest{Request: r, KindLabel: r.Kind, Office: string(r.Sector)}
		if k, ok := kinds[r.Kind]; ok {
			dr.KindLabel = k.Label
		}
		if o := site.Offices[r.Sector]; o.Name != "" {
			dr.Office = o.Name
		}
		if names {
			name, ok := read[r.Citizen]
			if !ok {
				c, err := s.crm.Citizen(ctx, v, r.Citizen)
				switch {
				case errors.Is(err, crm.ErrNotFound):
				case err != nil:
					return nil, fmt.Errorf("due requests: the name of %s: %w", r.ID, err)
				default:
					name = strings.TrimSpace(c.FirstNames + " " + c.FamilyName)
				}
				read[r.Citizen] = name
			}
			dr.CitizenName = name
		}
		out = append(out, dr)
	}
	return out, nil
}
