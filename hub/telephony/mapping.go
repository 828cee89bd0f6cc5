package telephony

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// Mapping is the site's data that ties the PBX to the hub: which PBX queue
// feeds which service, which PBX queue member is which agent. Calls in
// queues it does not name are ignored; members it does not name still take
// calls, reported with an empty agent.
type Mapping struct {
	Queues  map[string]string // PBX queue → service id
	Members map[string]string // PBX member (Asterisk: interface, "PJSIP/101") → agent id
}

// Validate reports every problem of the mapping at once: no queue, an empty
// or badly spaced name, a control character (a CR or LF would let a name
// inject a header into the PBX protocol), an agent mapped from two members
// (pausing an agent must pause one member).
func (m Mapping) Validate() error {
	var errs []error
	if len(m.Queues) == 0 {
		errs = append(errs, errors.New("no PBX queue is mapped to a service"))
	}
	for _, q := range sortedKeys(m.Queues) {
		if err := checkName("queue", q); err != nil {
			errs = append(errs, err)
		}
		if err := checkName(fmt.Sprintf("service of queue %q", q), m.Queues[q]); err != nil {
			errs = append(errs, err)
		}
	}
	byAgent := map[string]string{}
	for _, mem := range sortedKeys(m.Members) {
		agent := m.Members[mem]
		if err := checkName("member", mem); err != nil {
			errs = append(errs, err)
		}
		if err := checkName(fmt.Sprintf("agent of member %q", mem), agent); err != nil {
			errs = append(errs, err)
			continue
		}
		if other, dup := byAgent[agent]; dup {
			errs = append(errs, fmt.Errorf("agent %q is mapped from two members, %q and %q", agent, other, mem))
			continue
		}
		byAgent[agent] = mem
	}
	return errors.Join(errs...)
}

// Service returns the service a PBX queue feeds.
func (m Mapping) Service(queue string) (string, bool) {
	s, ok := m.Queues[queue]
	return s, ok
}

// Agent returns the agent a PBX member is; "" when not mapped.
func (m Mapping) Agent(member string) string {
	return m.Members[member]
}

// Member returns the PBX member of an agent.
func (m Mapping) Member(agent string) (string, bool) {
	for mem, a := range m.Members {
		if a == agent {
			return mem, true
		}
	}
	return "", false
}

func checkName(what, s string) error {
	if s == "" {
		return fmt.Errorf("%s is empty", what)
	}
	if strings.TrimSpace(s) != s {
		return fmt.Errorf("%s %q starts or ends with a space", what, s)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return fmt.Errorf("%s %q holds a control character", what, s)
	}
	return nil
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
