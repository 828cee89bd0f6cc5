package admin

import "fmt"

// texts are the pages' words, French first.
var texts = map[string]map[string]string{
	"fr": {
		"admin": "Administration", "skip": "Aller au contenu", "nav": "Sections de l'administration",
		"home": "Site", "services": "Services", "counters": "Guichets", "agents": "Agents", "pauses": "Motifs de pause", "devices": "Appareils", "signout": "Se déconnecter",
		"unavailable": "Le hub n'a pas pu enregistrer la modification : réessayez.", "saved": "Modification enregistrée.",
		"error": "Erreur", "save": "Enregistrer", "add": "Ajouter", "edit": "Modifier", "delete": "Supprimer", "back": "Retour à la liste",
		"settings": "Réglages du site", "site_name": "Nom du site", "info_fr": "Message d'accueil (français)", "info_en": "Message d'accueil (anglais)",
		"public_url": "Adresse publique (QR codes des tickets)", "languages": "Langues (séparées par des virgules, le français d'abord)",
		"message": "Message sur les écrans de la salle d'attente", "message_fr": "Message (français)", "message_en": "Message (anglais)",
		"message_help": "Affiché à côté des temps d'attente ; laissez vide pour le retirer.", "message_save": "Afficher le message",
		"id": "Identifiant", "letter": "Lettre", "name": "Nom", "name_fr": "Nom (français)", "name_en": "Nom (anglais)",
		"sla": "Attente cible (minutes)", "service_time": "Durée de service prévue (minutes)", "weight": "Poids (1 par défaut)",
		"channels": "Canaux", "visit": "Accueil physique", "phone": "Téléphone", "hours": "Horaires d'ouverture",
		"hours_help":   "Par jour, des périodes comme 08:30-12:00 13:30-17:30 ; aucun horaire : toujours ouvert.",
		"closed_dates": "Jours de fermeture (AAAA-MM-JJ, séparés par des espaces)", "state": "État",
		"open_state": "Prend des tickets", "closed_state": "Fermé aux nouveaux tickets",
		"close": "Fermer aux nouveaux tickets", "close_help": "Les tickets déjà pris sont appelés comme avant ; les bornes affichent ce message sur le bouton.",
		"close_fr": "Message des bornes (français)", "close_en": "Message des bornes (anglais)", "reopen": "Rouvrir",
		"new_service": "Nouveau service", "new_counter": "Nouveau guichet", "new_agent": "Nouvel agent",
		"counter_services": "Services servis (aucun : tous ceux de l'agent)", "counter_channels": "Canaux (aucun : accueil physique)",
		"skills": "Compétences", "skills_help": "Niveau 1 (peut aider) à 5 (expert) ; « — » : ne sert pas ce service.", "none": "—",
		"agent_hours":      "Horaires de travail",
		"agent_hours_help": "Par jour, des périodes comme 08:30-12:00 13:00-17:30 (l'écart : la pause déjeuner) ; l'attente estimée en tient compte. Aucun horaire : l'agent compte tel qu'il est.",
		"pauses_help":      "Un motif par ligne ; les consoles des agents les proposent.",
		"role":             "Rôle", "counter": "Guichet", "online": "En ligne", "offline": "Hors ligne", "disabled": "Désactivé", "enabled": "Actif",
		"new_device": "Ajouter un appareil", "disable": "Désactiver", "enable": "Réactiver", "new_secret": "Nouveau secret",
		"device_id_help": "Lettres minuscules, chiffres, « - », « _ » ou « . ».",
		"secret_title":   "Secret de l'appareil %s", "secret_once": "Ce secret n'est affiché qu'une fois : notez-le ou scannez le code avec l'appareil maintenant.",
		"new_enrollment": "Code d'enrôlement", "enrollment_title": "Code d'enrôlement de l'appareil %s",
		"enrollment_once": "Ce code n'est affiché qu'une fois et ne sert qu'une fois. Sur l'appareil, tapez la commande ci-dessous (ou scannez-la) ; elle écrit ses réglages et lui donne un nouveau secret.",
		"enrollment_code": "Code", "enrollment_cmd": "Commande à taper sur l'appareil", "enrollment_expires": "Valable jusqu'au",
		"enrollment_qr_alt": "Code QR de la commande d'enrôlement de l'appareil %s",
		"secret":            "Secret", "enroll_url": "Adresse d'enrôlement", "qr_alt": "Code QR d'enrôlement de l'appareil %s",
		"role_kiosk": "Borne", "role_display": "Écran", "role_counter": "Terminal de guichet", "role_integration": "Intégration",
		"confirm_delete": "Supprimer définitivement ?", "lang_switch": "English", "lang_other": "en", "yes": "oui", "no": "non",
		"list_services": "Liste des services", "list_counters": "Liste des guichets", "list_agents": "Liste des agents", "list_devices": "Liste des appareils",
		"unserved": "Personne ne peut servir ces services (aucun guichet qui les prend avec un agent compétent) : leurs tickets attendraient sans fin. Donnez une compétence à un agent, ou ce service à un guichet.",
		"actions":  "Actions", "exists": "Le service %s existe déjà : modifiez-le depuis la liste.", "exists_counter": "Le guichet %s existe déjà.", "exists_agent": "L'agent %s existe déjà.",
	},
	"en": {
		"admin": "Administration", "skip": "Skip to content", "nav": "Administration sections",
		"home": "Site", "services": "Services", "counters": "Counters", "agents": "Agents", "pauses": "Pause reasons", "devices": "Devices", "signout": "Sign out",
		"unavailable": "The hub could not store the change: try again.", "saved": "Change saved.",
		"error": "Error", "save": "Save", "add": "Add", "edit": "Edit", "delete": "Delete", "back": "Back to the list",
		"settings": "Site settings", "site_name": "Site name", "info_fr": "Welcome message (French)", "info_en": "Welcome message (English)",
		"public_url": "Public address (tickets' QR codes)", "languages": "Languages (comma-separated, French first)",
		"message": "Message on the waiting-room screens", "message_fr": "Message (French)", "message_en": "Message (English)",
		"message_help": "Shown beside the waiting times; leave empty to take it down.", "message_save": "Show the message",
		"id": "Id", "letter": "Letter", "name": "Name", "name_fr": "Name (French)", "name_en": "Name (English)",
		"sla": "Target wait (minutes)", "service_time": "Expected service time (minutes)", "weight": "Weight (1 by default)",
		"channels": "Channels", "visit": "Walk-in", "phone": "Phone", "hours": "Opening hours",
		"hours_help":   "Per day, periods such as 08:30-12:00 13:30-17:30; none at all: always open.",
		"closed_dates": "Closed dates (YYYY-MM-DD, space-separated)", "state": "State",
		"open_state": "Takes tickets", "closed_state": "Closed to new tickets",
		"close": "Close to new tickets", "close_help": "Tickets already taken are called as before; kiosks show this message on the button.",
		"close_fr": "Kiosk message (French)", "close_en": "Kiosk message (English)", "reopen": "Reopen",
		"new_service": "New service", "new_counter": "New counter", "new_agent": "New agent",
		"counter_services": "Services served (none: all the agent's)", "counter_channels": "Channels (none: walk-in)",
		"skills": "Skills", "skills_help": "Level 1 (can help) to 5 (expert); \"—\": does not serve this service.", "none": "—",
		"agent_hours":      "Working hours",
		"agent_hours_help": "Per day, periods such as 08:30-12:00 13:00-17:30 (the gap: lunch); the estimated wait counts on them. None at all: the agent counts as they are.",
		"pauses_help":      "One reason per line; the agents' consoles offer them.",
		"role":             "Role", "counter": "Counter", "online": "Online", "offline": "Offline", "disabled": "Disabled", "enabled": "Enabled",
		"new_device": "Add a device", "disable": "Disable", "enable": "Enable", "new_secret": "New secret",
		"device_id_help": "Lower-case letters, digits, \"-\", \"_\" or \".\".",
		"secret_title":   "Secret of device %s", "secret_once": "This secret is shown once: write it down or scan the code with the device now.",
		"new_enrollment": "Enrollment code", "enrollment_title": "Enrollment code of device %s",
		"enrollment_once": "This code is shown once and works once. On the device, type the command below (or scan it); it writes the device's settings and gives it a new secret.",
		"enrollment_code": "Code", "enrollment_cmd": "Command to type on the device", "enrollment_expires": "Valid until",
		"enrollment_qr_alt": "QR code of the enrollment command of device %s",
		"secret":            "Secret", "enroll_url": "Enrollment address", "qr_alt": "Enrollment QR code of device %s",
		"role_kiosk": "Kiosk", "role_display": "Screen", "role_counter": "Counter terminal", "role_integration": "Integration",
		"confirm_delete": "Delete for good?", "lang_switch": "Français", "lang_other": "fr", "yes": "yes", "no": "no",
		"list_services": "Services", "list_counters": "Counters", "list_agents": "Agents", "list_devices": "Devices",
		"unserved": "Nobody can serve these services (no counter takes them with a skilled agent): their tickets would wait forever. Give an agent a skill, or this service to a counter.",
		"actions":  "Actions", "exists": "Service %s already exists: edit it from the list.", "exists_counter": "Counter %s already exists.", "exists_agent": "Agent %s already exists.",
	},
}

// T returns the text key in lang (French if lang has none), formatted with args.
func T(lang, key string, args ...any) string {
	s, ok := texts[lang][key]
	if !ok {
		s, ok = texts["fr"][key]
	}
	if !ok {
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}
