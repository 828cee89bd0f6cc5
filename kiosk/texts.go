package kiosk

import (
	"fmt"
	"time"
)

// Words the kiosk prints and shows, French first.
var texts = map[string]map[string]string{
	"fr": {
		"your_number":         "Votre numéro",
		"ahead_0":             "Vous êtes la prochaine personne",
		"ahead_1":             "1 personne avant vous",
		"ahead_n":             "%d personnes avant vous",
		"wait":                "Attente estimée : %s",
		"wait_unknown":        "Attente estimée : indisponible",
		"follow":              "Suivez votre attente sur votre téléphone",
		"privacy":             "Aucune donnée personnelle n'est liée à ce ticket.",
		"priority":            "Public prioritaire",
		"appointment":         "Rendez-vous à %s",
		"less_minute":         "moins d'une minute",
		"minutes":             "environ %d min",
		"hours":               "environ %d h %02d",
		"unavailable":         "Tickets momentanément indisponibles — adressez-vous à l'accueil",
		"closed":              "Fermé",
		"full":                "Complet pour aujourd'hui",
		"printed":             "Votre ticket %s est imprimé",
		"choose":              "Choisissez votre démarche",
		"checkin":             "J'ai un rendez-vous",
		"code":                "Code du rendez-vous",
		"validate":            "Valider",
		"offline":             "Hors connexion : vos tickets restent valables",
		"take_ticket":         "Prenez votre ticket",
		"error":               "Un problème est survenu — adressez-vous à l'accueil",
		"unknown_appointment": "Ce code de rendez-vous est inconnu — adressez-vous à l'accueil",
		"already_checked_in":  "Ce rendez-vous est déjà enregistré",
		"checkin_window":      "Trop tôt ou trop tard pour ce rendez-vous — adressez-vous à l'accueil",
		"priority_on":         "Public prioritaire : choisissez votre démarche",
		"scan":                "Scannez le QR code de votre convocation ou tapez le code",
		"back":                "Retour",
		"prev":                "Démarches précédentes",
		"next":                "Autres démarches",
		"language":            "English",
	},
	"en": {
		"your_number":         "Your number",
		"ahead_0":             "You are next",
		"ahead_1":             "1 person ahead of you",
		"ahead_n":             "%d people ahead of you",
		"wait":                "Estimated wait: %s",
		"wait_unknown":        "Estimated wait: not available",
		"follow":              "Follow your wait on your phone",
		"privacy":             "No personal data is linked to this ticket.",
		"priority":            "Priority",
		"appointment":         "Appointment at %s",
		"less_minute":         "under a minute",
		"minutes":             "about %d min",
		"hours":               "about %d h %02d",
		"unavailable":         "Tickets temporarily unavailable — please ask at the desk",
		"closed":              "Closed",
		"full":                "Full for today",
		"printed":             "Your ticket %s is printing",
		"choose":              "Choose what you came for",
		"checkin":             "I have an appointment",
		"code":                "Appointment code",
		"validate":            "Confirm",
		"offline":             "Offline: your tickets remain valid",
		"take_ticket":         "Take your ticket",
		"error":               "Something went wrong — please ask at the desk",
		"unknown_appointment": "This appointment code is unknown — please ask at the desk",
		"already_checked_in":  "This appointment is already checked in",
		"checkin_window":      "Too early or too late for this appointment — please ask at the desk",
		"priority_on":         "Priority: choose what you came for",
		"scan":                "Scan the QR code of your appointment or type the code",
		"back":                "Back",
		"prev":                "Previous services",
		"next":                "More services",
		"language":            "Français",
	},
}

// T returns the text key in lang (French if lang is unknown).
func T(lang, key string, args ...any) string {
	m, ok := texts[lang]
	if !ok {
		m = texts["fr"]
	}
	s := m[key]
	if s == "" {
		s = texts["fr"][key]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// Ahead says how many people are before the citizen.
func Ahead(lang string, n int) string {
	switch n {
	case 0:
		return T(lang, "ahead_0")
	case 1:
		return T(lang, "ahead_1")
	}
	return T(lang, "ahead_n", n)
}

// Wait says an estimated wait.
func Wait(lang string, d time.Duration) string {
	switch m := int(d.Round(time.Minute) / time.Minute); {
	case d < time.Minute:
		return T(lang, "less_minute")
	case m < 60:
		return T(lang, "minutes", m)
	default:
		return T(lang, "hours", m/60, m%60)
	}
}

var (
	frDays   = []string{"dimanche", "lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi"}
	frMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
)

// Clock writes a time of day: "10 h 05", "10:05".
func Clock(lang string, t time.Time) string {
	if lang == "en" {
		return t.Format("15:04")
	}
	return fmt.Sprintf("%d\u00a0h\u00a0%02d", t.Hour(), t.Minute())
}

// Date writes a date and time the way the citizen reads it.
func Date(lang string, t time.Time) string {
	if lang == "en" {
		return t.Format("Monday 2 January 2006, 15:04")
	}
	// Non-breaking spaces keep "à 10 h 05" on one line.
	return fmt.Sprintf("%s %d %s %d à\u00a0%s", frDays[t.Weekday()], t.Day(), frMonths[t.Month()-1], t.Year(), Clock(lang, t))
}
