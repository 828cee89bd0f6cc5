package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"testing"
)

// resetBuffer is a log buffer emptied between fuzz inputs.
type resetBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (r *resetBuffer) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.b.Write(p)
}
func (r *resetBuffer) Reset() { r.mu.Lock(); r.b.Reset(); r.mu.Unlock() }
func (r *resetBuffer) Bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.b.Bytes())
}

// FuzzImport: whatever another platform pushes (our JSON or a Lutece GRU
// notification), the import is refused as invalid or too large, with a log
// line that quotes nothing of it; or it is done, once — sent again it
// changes nothing — and the request, the citizen's timeline and the
// pending imports it made can all be written as JSON.
func FuzzImport(f *testing.F) {
	for _, seed := range []string{
		`{"reference":"EC-1","kind":"acte_etat_civil","title":"Copie intégrale","status":"recue","citizen":{"family_name":"MARTIN","first_names":"Louise","email":"louise.martin@example.fr"}}`,
		`{"reference":"PF-1","kind":"place_creche","citizen":{"family_name":"Nouveau","first_names":"Néo","birth_date":"1990-05-06","phones":["06 98 76 54 32"]}}`,
		`{"reference":"PF-2","citizen":{"email":"inconnu@example.fr"}}`,
		`{"reference":"R1","status":"terminee","at":"0000-01-01T00:00:00+01:00","citizen":{"family_name":"Martin","first_names":"Louise"}}`,
		`{"reference":"R2","at":"9999-12-31T23:59:59-23:59","received_at":"9999-12-31T23:59:59Z","citizen":{"family_name":"Martin","first_names":"Louise"}}`,
		`{"reference":"R3","step_no":-1,"max_steps":2000,"citizen":{"family_name":"X"}}`,
		`{"notification":{"date":1706695800000,"demand":{"id":"123","type_id":101,"reference":"Demande d'acte","status_id":14,"max_step":3,"current_step":3,"customer":{"lastname":"Dupont","familyname":"Martin","firstname":"Anne","email":"anne@example.fr","mobilePhone":"0612345678","birthDate":"06/05/1990"}},"mydashboard":{"status_id":11,"status_text":"En cours"}}}`,
		`{"demand":{"id":9,"type_id":"x","customer":{"lastname":"\u00e9","birth_date":"31/02/2000"}},"date":-1}`,
		`{"notification":{"date":9223372036854775807,"demand":{"id":"1","type_id":"1","customer":{"lastname":"A","fixed_phone_number":"+33 1 23"}}}}`,
		"{\"reference\":\"R4\",\"citizen\":{\"family_name\":\"caf\xe9\"}}",
		`{"reference":"R5","citizen":{"family_name":"Martin"},"extra":1}`,
		`[]`, `{`, ``,
	} {
		f.Add([]byte(seed))
	}
	logs := &resetBuffer{}
	fx := newFixtureLog(f, slog.New(slog.NewTextHandler(logs, nil)))
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, body []byte) {
		logs.Reset()
		res, err := fx.s.Import(ctx, system, "fuzz", body)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("import refused with %v", err)
			}
			var probe struct {
				Citizen Identity `json:"citizen"`
			}
			json.Unmarshal(body, &probe)
			for _, personal := range []string{probe.Citizen.FamilyName, probe.Citizen.Email, probe.Citizen.FirstNames} {
				if len(personal) >= 4 && bytes.Contains(logs.Bytes(), []byte(personal)) {
					t.Fatalf("the log of a refused import quotes %q: %s", personal, logs.Bytes())
				}
			}
			return
		}
		switch res.Outcome {
		case ImportCreated, ImportUpdated, ImportUnchanged:
			req, err := fx.s.Request(ctx, dpo, res.Request)
			if err != nil {
				t.Fatalf("imported request %s: %v", res.Request, err)
			}
			if _, err := json.Marshal(req); err != nil {
				t.Fatalf("imported request does not encode: %v", err)
			}
			tl, err := fx.s.Timeline(ctx, dpo, res.Citizen, 0)
			if _, jerr := json.Marshal(tl); err != nil || jerr != nil {
				t.Fatalf("timeline of %s: %v, %v", res.Citizen, err, jerr)
			}
		case ImportPending:
			p, err := fx.s.PendingImports(ctx, dpo)
			if _, jerr := json.Marshal(p); err != nil || jerr != nil {
				t.Fatalf("pending imports: %v, %v", err, jerr)
			}
		default:
			t.Fatalf("outcome %q", res.Outcome)
		}
		again, err := fx.s.Import(ctx, system, "fuzz", body)
		if err != nil || again.Outcome != ImportUnchanged && again.Outcome != ImportPending || again.Request != res.Request && res.Outcome != ImportPending {
			t.Fatalf("sent again: %+v, %v (first %+v)", again, err, res)
		}
	})
}
