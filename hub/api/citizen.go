package api

import "regexp"

// A ticket's citizen field (IssueArgs.Citizen, Ticket.Citizen on the
// wire) holds one of two things, told apart by their form:
//
//   - the id of a file of the hub's citizen file: "c-" and 16 letters a-z
//     or digits 2-7 (crm's ids). Only an agent's attachment sets it
//     (POST /api/v1/tickets/{id}/citizen: the citizen file checks the
//     agent's rights and audits it); the hub then files the visit or the
//     call in that file.
//   - anything else: what the town's own records call the citizen, typed
//     at issue or at booking for the town's CRM connectors. The hub never
//     looks it up.
//
// So that the two cannot be mistaken, the form of a file's id is
// reserved: a ticket issued or an appointment booked with a citizen of
// that form is refused (a kiosk or a connector cannot file visits in a
// citizen's file without an agent), and an attachment takes nothing else.
// The field stays one field on the wire: splitting it would change the
// MQTT contract every device and connector speaks (DESIGN.md) for what
// this rule already guarantees.

var citizenIDRe = regexp.MustCompile(`^c-[a-z2-7]{16}$`)

// IsCitizenID reports whether s has the form of the id of a file of the
// citizen file.
func IsCitizenID(s string) bool { return citizenIDRe.MatchString(s) }
