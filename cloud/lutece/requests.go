package lutece

import (
	"encoding/json"
	"fmt"
	"strconv"

	"guichet/hub/api"
	"guichet/hub/crm"
)

// requestStatus maps a request's status (hub/crm) to GRU's generic status
// (grubusiness EnumGenericStatus) and the words the dashboard shows.
var requestStatus = map[string]struct {
	id   int
	text string
}{
	"recue":      {crm.LuteceInProgress, "Demande reçue"},
	"en_cours":   {crm.LuteceInProgress, "En cours d'instruction"},
	"incomplete": {luteceToComplete, "Pièces manquantes demandées"},
	"acceptee":   {crm.LuteceDone, "Demande acceptée"},
	"rejetee":    {crm.LuteceDone, "Demande rejetée"},
	"terminee":   {crm.LuteceDone, "Demande terminée"},
	"annulee":    {crm.LuteceCancelled, "Demande annulée"},
}

// luteceToComplete is GRU's "à compléter".
const luteceToComplete = 13

// requestNotification maps request.registered and request.status_changed:
// the demand's id is the request's, its type the request's kind, its
// reference the request's id, its status and steps the request's; the
// customer is the citizen's opaque id in the citizen file, nothing more.
func requestNotification(d api.EventData) (crm.LuteceNotification, bool) {
	r := d.Request
	if (d.Type != "request.registered" && d.Type != "request.status_changed") || r.Origin == "lutece" {
		return crm.LuteceNotification{}, false
	}
	st, ok := requestStatus[r.Status]
	if !ok {
		st.id, st.text = crm.LuteceInProgress, r.Status
	}
	status := st.id
	text := st.text
	if r.Step != "" {
		text += " — " + r.Step
	}
	id, _ := json.Marshal(r.ID)
	typ, _ := json.Marshal(r.Kind)
	subject := fmt.Sprintf("Demande %s n° %s", r.Kind, r.ID)
	n := crm.LuteceNotification{
		Date:       json.Number(strconv.FormatInt(d.At.UnixMilli(), 10)),
		Demand:     &crm.LuteceDemand{ID: id, TypeID: typ, Reference: r.ID, StatusID: &status, MaxStep: r.MaxSteps, CurrentStep: r.StepNo},
		Backoffice: &crm.LuteceBackoffice{Message: subject, StatusText: text},
		Dashboard:  &crm.LuteceDashboard{StatusID: &status, StatusText: text, Subject: subject},
	}
	if d.Citizen != "" {
		n.Demand.Customer = &crm.LuteceCustomer{ID: d.Citizen}
	}
	return n, true
}
