package crm

import (
	"errors"
	"slices"
)

// Role is what an account may do in the citizen file.
type Role string

// Roles.
const (
	RoleAgent      Role = "agent"      // front office: contact history, and the records of their sectors
	RoleSupervisor Role = "supervisor" // an agent, plus every sector when the site allows it
	RoleDPO        Role = "dpo"        // the data protection officer: export, erasure, purge, every sector
	RoleSystem     Role = "system"     // the hub itself, feeding the timeline from the event log and imports
)

// Viewer is who reads or changes the file, from where. Every method takes
// one, so that the layers above cannot forget rights or the audit.
type Viewer struct {
	ID      string   // account id (never a name: it goes to the audit log)
	Role    Role     //
	Sectors []Sector // the sectors of the services they work for
	Addr    string   // where from: IP address, device id
}

// ErrNotFound is returned for a record that does not exist and for one the
// viewer may not see: the same error, so that the existence of a record in
// another sector does not leak.
var ErrNotFound = errors.New("not found")

// ErrForbidden is returned for an action the viewer's role does not allow
// at all (an agent asking for a purge), where nothing leaks by saying so.
var ErrForbidden = errors.New("forbidden")

// The rights, in one place:
//
//   - Who the citizen is (names, birth date, phones, e-mail, address,
//     consents) and the contact history (visits, calls: sector-free facts
//     that let any agent greet the person) are seen by every role.
//   - Records of a sector (notes, letters and e-mails, requests and their
//     steps) are seen by the agents of that sector only. The supervisor
//     sees every sector when the site's setting SupervisorSeesAll is on —
//     a setting whose changes are audited. The DPO and the system see all.
//   - Only the DPO erases; the DPO and the system (the hub's daily job)
//     purge, export and read the elimination records; imports come from the
//     system alone.
//
// A denied read answers ErrNotFound and is audited as denied.

// seesAll tells whether v sees the records of every sector.
func (s *Store) seesAll(v Viewer) bool {
	switch v.Role {
	case RoleDPO, RoleSystem:
		return true
	case RoleSupervisor:
		return s.SupervisorSeesAll()
	}
	return false
}

// sees tells whether v sees the records of sector sec.
func (s *Store) sees(v Viewer, sec Sector) bool {
	return s.seesAll(v) || slices.Contains(v.Sectors, sec)
}

// contactKind tells whether entries of kind k are the contact history, which every role sees.
func contactKind(k EntryKind) bool { return k == EntryVisit || k == EntryCall || k == EntryMerge }

func (v Viewer) known() bool {
	switch v.Role {
	case RoleAgent, RoleSupervisor, RoleDPO, RoleSystem:
		return v.ID != ""
	}
	return false
}
