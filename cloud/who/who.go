// Package who reads what the hub knows of a person from the free-text
// citizen field an agent or a form typed ("Jean Dupont, 06 01 02 03 04,
// jean@example.fr"), for the CRM connectors (suitecrm, lutece). It logs
// nothing.
package who

import (
	"regexp"
	"strings"

	"guichet/hub/crm"
)

// Who is what the hub knows of the person a ticket served: from the
// free-text citizen field an agent or a form typed ("Jean Dupont, 06 01 02
// 03 04, jean@example.fr").
type Who struct {
	Phone     string // E.164, "+33601020304"; empty if none
	Email     string
	FirstName string
	LastName  string
}

var (
	emailRe = regexp.MustCompile(`[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}`)
	phoneRe = regexp.MustCompile(`\+?[0-9][0-9 .\-/()]{7,}[0-9]`)
)

// Parse reads a free-text citizen field.
func Parse(text string) Who {
	var w Who
	rest := text
	if m := emailRe.FindString(rest); m != "" {
		w.Email = strings.ToLower(m)
		rest = strings.Replace(rest, m, " ", 1)
	}
	for _, m := range phoneRe.FindAllString(rest, -1) {
		if p, err := crm.NormalizePhone(m); err == nil {
			w.Phone = p
			rest = strings.Replace(rest, m, " ", 1)
			break
		}
	}
	words := strings.FieldsFunc(rest, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\t' || r == '\n' })
	switch len(words) {
	case 0:
	case 1:
		w.LastName = words[0]
	default:
		w.FirstName, w.LastName = words[0], strings.Join(words[1:], " ")
	}
	return w
}

// PhoneWritings are the ways a CRM's users commonly write a French number
// (SuiteCRM keeps phone fields as typed, and its API filters by equality
// only): E.164, national, spaced, dotted, dashed, international spaced.
func PhoneWritings(e164 string) []string {
	out := []string{e164}
	if !strings.HasPrefix(e164, "+33") || len(e164) != 12 {
		return out
	}
	n := "0" + e164[3:] // 0601020304
	pairs := func(sep string) string {
		var b strings.Builder
		for i := 0; i < len(n); i += 2 {
			if i > 0 {
				b.WriteString(sep)
			}
			b.WriteString(n[i : i+2])
		}
		return b.String()
	}
	intl := "+33 " + n[1:2]
	for i := 2; i < len(n); i += 2 {
		intl += " " + n[i:i+2]
	}
	return append(out, n, pairs(" "), pairs("."), pairs("-"), intl, "0033"+e164[3:])
}

// SamePhone reports whether a CRM's phone field is the number e164.
func SamePhone(field, e164 string) bool {
	if field == "" {
		return false
	}
	p, err := crm.NormalizePhone(field)
	return err == nil && p == e164
}
