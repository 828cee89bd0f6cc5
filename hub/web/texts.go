package web

import "fmt"

var texts = map[string]map[string]string{
	"fr": {
		"title":          "Votre ticket",
		"your_number":    "Votre numéro",
		"ahead_0":        "Vous êtes la prochaine personne",
		"ahead_1":        "1 personne avant vous",
		"ahead_n":        "%d personnes avant vous",
		"wait":           "Attente estimée : %s",
		"wait_unknown":   "Attente estimée indisponible pour le moment",
		"called":         "C'est à vous !",
		"go_to":          "Présentez-vous au %s",
		"recalled":       "Rappel : on vous attend",
		"serving":        "Vous êtes reçu au %s",
		"done":           "Merci de votre visite.",
		"noshow":         "Vous avez été appelé sans vous présenter. Adressez-vous à l'accueil.",
		"cancelled":      "Ce ticket a été annulé.",
		"not_found":      "Ce ticket n'est pas ou plus suivi.",
		"not_found_help": "Les tickets sont suivis le jour où ils ont été pris. Adressez-vous à l'accueil en cas de besoin.",
		"live":           "Mise à jour en direct",
		"offline":        "Connexion perdue — nouvelle tentative…",
		"updated":        "Mis à jour à %s",
		"other_lang":     "English",
		"other_code":     "en",
		"keep_page":      "Gardez cette page ouverte : votre téléphone vibrera quand ce sera votre tour.",
		"minutes":        "environ %d min",
		"less_minute":    "moins d'une minute",
		"hours":          "environ %d h %02d",
	},
	"en": {
		"title":          "Your ticket",
		"your_number":    "Your number",
		"ahead_0":        "You are next",
		"ahead_1":        "1 person ahead of you",
		"ahead_n":        "%d people ahead of you",
		"wait":           "Estimated wait: %s",
		"wait_unknown":   "Estimated wait not available right now",
		"called":         "It's your turn!",
		"go_to":          "Please go to %s",
		"recalled":       "Reminder: you are expected",
		"serving":        "You are being served at %s",
		"done":           "Thank you for your visit.",
		"noshow":         "You were called but did not come. Please ask at the desk.",
		"cancelled":      "This ticket was cancelled.",
		"not_found":      "This ticket is not or no longer followed.",
		"not_found_help": "Tickets are followed on the day they were taken. Please ask at the desk if needed.",
		"live":           "Live updates",
		"offline":        "Connection lost — retrying…",
		"updated":        "Updated at %s",
		"other_lang":     "Français",
		"other_code":     "fr",
		"keep_page":      "Keep this page open: your phone will vibrate when it is your turn.",
		"minutes":        "about %d min",
		"less_minute":    "under a minute",
		"hours":          "about %d h %02d",
	},
}

// T returns the text key in lang, French if lang is unknown.
func T(lang, key string, args ...any) string {
	m, ok := texts[lang]
	if !ok {
		m = texts["fr"]
	}
	s, ok := m[key]
	if !ok {
		s = texts["fr"][key]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
