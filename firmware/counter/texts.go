package counter

import (
	"guichet/firmware/link"
	"guichet/hub/api"
)

// texts are the desk display's words in one language.
type texts struct {
	counter, offline, waitingHub, closed, closedShort, called, serving, recall string
	paused, pausedShort, free, toSend, wrong                                   string
	refusals                                                                   map[string][2]string // code → line, four characters
	problems                                                                   map[link.Problem]string
	other                                                                      [2]string
}

func textsFor(lang string) texts {
	if lang == "en" {
		return texts{counter: "Desk", offline: "offline", waitingHub: "Waiting for the hub", closed: "Desk closed", closedShort: "SHUT",
			called: "Called", serving: "At the desk", recall: "recall", paused: "Paused", pausedShort: "PAUS", free: "Free",
			toSend: "%d to send when back", wrong: "Registered as desk %s!",
			refusals: map[string][2]string{
				api.CodeQueueEmpty:    {"Nobody waiting", "NONE"},
				api.CodeCounterClosed: {"Desk closed", "SHUT"},
				api.CodeNoTicket:      {"No ticket held", "NONE"},
				api.CodeAgentPaused:   {"Paused: resume first", "PAUS"},
				api.CodeInvalid:       {"Refused", "ERR "},
			},
			other: [2]string{"Refused by the hub", "ERR "},
			problems: map[link.Problem]string{link.ProblemUnreachable: "Hub unreachable", link.ProblemCredentials: "Wrong credentials",
				link.ProblemRefused: "Refused by the hub", link.ProblemSite: "Unknown site"}}
	}
	return texts{counter: "Guichet", offline: "hors ligne", waitingHub: "En attente du serveur", closed: "Guichet fermé", closedShort: "FERM",
		called: "Appelé", serving: "Au guichet", recall: "rappel", paused: "En pause", pausedShort: "PAUS", free: "Libre",
		toSend: "%d à envoyer au retour", wrong: "Enregistré au guichet %s !",
		refusals: map[string][2]string{
			api.CodeQueueEmpty:    {"Personne en attente", "VIDE"},
			api.CodeCounterClosed: {"Guichet fermé", "FERM"},
			api.CodeNoTicket:      {"Aucun ticket en cours", "AUCU"},
			api.CodeAgentPaused:   {"En pause : reprenez d'abord", "PAUS"},
			api.CodeInvalid:       {"Refusé", "ERR "},
		},
		other: [2]string{"Refusé par le serveur", "ERR "},
		problems: map[link.Problem]string{link.ProblemUnreachable: "Serveur injoignable", link.ProblemCredentials: "Identifiants refusés",
			link.ProblemRefused: "Refusé par le serveur", link.ProblemSite: "Site inconnu"}}
}

func (x texts) refusal(code string) (line, short string) {
	if r, ok := x.refusals[code]; ok {
		return r[0], r[1]
	}
	return x.other[0], x.other[1]
}
