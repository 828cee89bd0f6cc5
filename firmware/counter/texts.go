package counter

// texts are the desk display's words in one language.
type texts struct {
	counter, offline, waitingHub, closed, closedShort, called, serving, recall string
	paused, pausedShort, free, toSend, wrong                                   string
	refusals                                                                   map[string][2]string // code → line, four characters
	other                                                                      [2]string
}

func textsFor(lang string) texts {
	if lang == "en" {
		return texts{counter: "Desk", offline: "offline", waitingHub: "Waiting for the hub", closed: "Desk closed", closedShort: "SHUT",
			called: "Called", serving: "At the desk", recall: "recall", paused: "Paused", pausedShort: "PAUS", free: "Free",
			toSend: "%d to send when back", wrong: "Registered as desk %s!",
			refusals: map[string][2]string{
				"queue_empty":       {"Nobody waiting", "NONE"},
				"counter_closed":    {"Desk closed", "SHUT"},
				"no_current_ticket": {"No ticket held", "NONE"},
				"agent_paused":      {"Paused: resume first", "PAUS"},
				"invalid_argument":  {"Refused", "ERR "},
			},
			other: [2]string{"Refused by the hub", "ERR "}}
	}
	return texts{counter: "Guichet", offline: "hors ligne", waitingHub: "En attente du serveur", closed: "Guichet fermé", closedShort: "FERM",
		called: "Appelé", serving: "Au guichet", recall: "rappel", paused: "En pause", pausedShort: "PAUS", free: "Libre",
		toSend: "%d à envoyer au retour", wrong: "Enregistré au guichet %s !",
		refusals: map[string][2]string{
			"queue_empty":       {"Personne en attente", "VIDE"},
			"counter_closed":    {"Guichet fermé", "FERM"},
			"no_current_ticket": {"Aucun ticket en cours", "AUCU"},
			"agent_paused":      {"En pause : reprenez d'abord", "PAUS"},
			"invalid_argument":  {"Refusé", "ERR "},
		},
		other: [2]string{"Refusé par le serveur", "ERR "}}
}

func (x texts) refusal(code string) (line, short string) {
	if r, ok := x.refusals[code]; ok {
		return r[0], r[1]
	}
	return x.other[0], x.other[1]
}
