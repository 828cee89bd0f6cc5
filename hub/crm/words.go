package crm

import (
	"fmt"
	"time"
)

// The export page's words: the codes the file keeps (statuses, sectors,
// kinds of entries, channels, outcomes…), as a citizen reads them, in
// French. A code the table does not know is shown as it is.
var frenchWords = map[string]map[string]string{
	"status": {
		string(StatusReceived): "reçue", string(StatusIncomplete): "pièces demandées", string(StatusInProgress): "en cours d'instruction",
		string(StatusAccepted): "acceptée", string(StatusRejected): "rejetée", string(StatusDone): "terminée", string(StatusCancelled): "annulée",
	},
	"sector": {
		string(SectorAccueil): "Accueil", string(SectorEtatCivil): "État civil", string(SectorElections): "Élections",
		string(SectorSocial): "Social (CCAS)", string(SectorUrbanisme): "Urbanisme", string(SectorPetiteEnfance): "Petite enfance",
		string(SectorVoirie): "Voirie",
	},
	"entry": {
		string(EntryVisit): "Visite", string(EntryCall): "Appel", string(EntryNote): "Note", string(EntryMail): "Courrier ou courriel",
		string(EntryRequest): "Demande", string(EntryMerge): "Fusion de dossiers",
	},
	"channel": {
		ChannelCounter: "au guichet", ChannelLetter: "par courrier", ChannelEmail: "par courriel", ChannelPhone: "par téléphone",
		ChannelPlatform: "par une autre plateforme", "letter": "courrier", "email": "courriel",
	},
	"outcome": {
		"answered": "répondu", "abandoned": "raccroché avant réponse", "transferred": "transféré", "callback": "rappel",
	},
	"wrapup": {
		string(WrapUpInformed): "renseigné", string(WrapUpTransferred): "transféré", string(WrapUpCallBack): "rappel à prévoir",
		string(WrapUpMessage): "message pris", string(WrapUpNothing): "sans suite",
	},
	"role": {
		string(RoleAgent): "agent", string(RoleSupervisor): "superviseur", string(RoleDPO): "délégué à la protection des données",
		string(RoleSystem): "le système",
	},
	"outcome_audit": {"allowed": "permis", "denied": "refusé"},
	"action": {
		"citizen.create": "création du dossier", "citizen.read": "lecture du dossier", "citizen.timeline": "lecture de l'historique",
		"citizen.requests": "lecture des demandes", "citizen.search": "recherche", "citizen.update": "modification de l'identité ou des coordonnées",
		"citizen.duplicates": "recherche de doublons", "citizen.merge": "fusion de dossiers", "citizen.export": "export du dossier",
		"citizen.erase":  "effacement du dossier",
		"timeline.visit": "visite classée", "timeline.call": "appel classé", "timeline.note": "note ajoutée",
		"timeline.mail": "courrier ou courriel classé", "timeline.request": "étape de demande classée",
		"request.open": "enregistrement d'une demande", "request.read": "lecture d'une demande", "request.update": "suite d'une demande",
		"request.ask_documents": "pièces demandées", "request.documents_received": "pièces reçues",
		"request.acknowledge": "accusé de réception", "request.import": "demande reçue d'une autre plateforme",
		"import.resolve": "demande d'une autre plateforme rattachée",
		"call.read":      "lecture de l'appel (numéro)", "call.wrapup": "suite de l'appel", "call.attach": "appel classé",
	},
	"object": {"citizen": "dossier", "request": "demande", "call": "appel", "note": "note"},
}

func frenchWord(table, key string) string {
	if w, ok := frenchWords[table][key]; ok {
		return w
	}
	return key
}

// frenchDuration says a duration in minutes and seconds: "2 min 05 s".
func frenchDuration(d time.Duration) string {
	s := int(d.Round(time.Second).Seconds())
	if s < 60 {
		return fmt.Sprintf("%d s", s)
	}
	return fmt.Sprintf("%d min %02d s", s/60, s%60)
}
