package signin

import "fmt"

// texts are the pages' words, French first.
var texts = map[string]map[string]string{
	"fr": {
		"title":             "Connexion",
		"heading":           "Connexion à Guichet",
		"login":             "Identifiant",
		"password":          "Mot de passe",
		"submit":            "Se connecter",
		"or":                "ou",
		"sso_with":          "Se connecter avec %s",
		"wrong":             "Identifiant ou mot de passe incorrect.",
		"locked":            "Trop de tentatives. Réessayez dans %s secondes.",
		"busy":              "Trop de connexions en même temps. Réessayez dans un instant.",
		"error":             "Une erreur est survenue. Réessayez ; si cela continue, prévenez le service informatique.",
		"stale_form":        "Ce formulaire a expiré. Saisissez à nouveau vos identifiants.",
		"expired":           "Votre session a expiré. Connectez-vous à nouveau.",
		"signed_out":        "Vous êtes déconnecté.",
		"sso_failed":        "La connexion par l'annuaire de la mairie n'a pas abouti. Réessayez, ou utilisez votre mot de passe.",
		"signed_in_as":      "Connecté en tant que %s.",
		"forgot":            "Mot de passe oublié ? Le service informatique vous en donne un provisoire.",
		"other_lang":        "English",
		"other_code":        "en",
		"pw_title":          "Changer de mot de passe",
		"current":           "Mot de passe actuel",
		"new":               "Nouveau mot de passe",
		"again":             "Nouveau mot de passe, à nouveau",
		"rule":              "Au moins 12 caractères. Une phrase de quelques mots inhabituels convient bien ; évitez les mots courants, les suites (1234, abcd) et les répétitions.",
		"change":            "Changer le mot de passe",
		"must_change":       "Votre mot de passe est provisoire : choisissez le vôtre pour continuer.",
		"no_local_password": "Vous êtes connecté par l'annuaire de la mairie : votre mot de passe se change là-bas.",
		"mismatch":          "Les deux saisies du nouveau mot de passe diffèrent.",
		"wrong_current":     "Le mot de passe actuel est incorrect.",
		"weak":              "Ce mot de passe est trop facile à deviner ou trop court. Au moins 12 caractères, sans mot courant ni suite.",
		"sign_out":          "Se déconnecter",
		"sign_out_all":      "Se déconnecter partout",
		"home":              "Accueil",
	},
	"en": {
		"title":             "Sign in",
		"heading":           "Sign in to Guichet",
		"login":             "Login",
		"password":          "Password",
		"submit":            "Sign in",
		"or":                "or",
		"sso_with":          "Sign in with %s",
		"wrong":             "Wrong login or password.",
		"locked":            "Too many attempts. Try again in %s seconds.",
		"busy":              "Too many sign-ins at once. Try again in a moment.",
		"error":             "Something went wrong. Try again; if it goes on, tell IT.",
		"stale_form":        "This form expired. Enter your login and password again.",
		"expired":           "Your session expired. Sign in again.",
		"signed_out":        "You are signed out.",
		"sso_failed":        "Signing in through the town's directory did not work. Try again, or use your password.",
		"signed_in_as":      "Signed in as %s.",
		"forgot":            "Forgot your password? IT gives you a temporary one.",
		"other_lang":        "Français",
		"other_code":        "fr",
		"pw_title":          "Change password",
		"current":           "Current password",
		"new":               "New password",
		"again":             "New password, again",
		"rule":              "At least 12 characters. A phrase of a few unusual words works well; avoid common words, sequences (1234, abcd) and repeats.",
		"change":            "Change password",
		"must_change":       "Your password is temporary: choose your own to go on.",
		"no_local_password": "You signed in through the town's directory: change your password there.",
		"mismatch":          "The two new passwords differ.",
		"wrong_current":     "The current password is wrong.",
		"weak":              "This password is too easy to guess or too short. At least 12 characters, no common word or sequence.",
		"sign_out":          "Sign out",
		"sign_out_all":      "Sign out everywhere",
		"home":              "Home",
	},
}

// T returns the text of key in lang (French if missing), formatted with args.
func T(lang, key string, args ...any) string {
	s, ok := texts[lang][key]
	if !ok {
		s = texts["fr"][key]
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
