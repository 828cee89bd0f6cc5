package sim

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/runes"
	"golang.org/x/text/transform"
	"golang.org/x/text/unicode/norm"

	"guichet/hub/crm"
)

// The simulated town's citizens: generated French names, mobile numbers
// and e-mail addresses, for the citizen file of the demo. Nothing real.

var familyNames = strings.Fields(`Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent
Simon Michel Lefèbvre Leroy Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine
Rousseau Vincent Muller Lefèvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand
Gauthier Garcia Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval
Denis Dumont Marie Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet
Gaillard Barbier Arnaud Martinez Gérard Roche Renard Schmitt Roy Leroux Colin Vidal Caron Picard Roger
Fabre Aubert Lemoine Renaud Dumas Lacroix Olivier Philippe Bourgeois Pierre Benoît Rey Leclerc Payet
Rolland Leclercq Guillaume Lecomte Lopez Jean Dupuy Guillot Hubert Berger Carpentier Sanchez Dupuis
Moulin Louis Deschamps Huet Vasseur Perez Boucher Fleury Royer Klein Jacquet Adam Paris Poirier Marty
Aubry Guyot Carré Charles Renault Charpentier Ménard Maillard Baron Bertin Bailly Hervé Schneider
Fernandez Le\u00a0Gall Collet Léger Bouvier Julien Prévost Millet Perrot Daniel Le\u00a0Roux Cousin Germain
Breton Besson Langlois Rémy Le\u00a0Goff Pelletier Lévêque Perrier Leblanc Barré Lebrun Marchal Weber
Mallet Hamon Boulanger Jacob Monnier Michaud Rodriguez Guichard Gillet Étienne Grondin Poulain Tessier
Chevallier Collin Chauvin Da\u00a0Silva Bouchet Gay Lemaître Bénard Maréchal Humbert Reynaud Antoine
Hoarau Perret Barthélemy Cordier Pichon Lejeune Gilbert Lamy Delaunay Pasquier Carlier Laporte
D'Artagnan N'Diaye Nguyen Benali Traoré Diallo Haddad Kowalski Da\u00a0Costa Ferreira`)

var firstNames = strings.Fields(`Marie Jean Pierre Michel André Philippe Louis Nathalie Isabelle Jacques
Sylvie Catherine Françoise Christine Monique Anne Alain Bernard Daniel Patrick Nicolas Christophe Martine
Frédéric Laurent Stéphane Valérie Sandrine Éric Céline Julien Camille Léa Manon Chloé Emma Inès Jade
Louise Alice Lina Rose Anna Hugo Lucas Gabriel Léo Raphaël Arthur Adam Jules Maël Nathan Noah Paul
Jean-Pierre Marie-Claire Anne-Sophie Jean-Baptiste Zéphyrine Gaëlle Noëlle Hélène Joël Loïc Anaïs Océane
Mathéo Théo Clémence Aurélie Élodie Émilie Benoît Jérôme Grégoire Agnès Bérénice Félix Zoé Ophélie`)

// person is a generated citizen.
func person(r *rand.Rand) crm.Citizen {
	family := strings.ReplaceAll(familyNames[r.IntN(len(familyNames))], "\u00a0", " ")
	first := firstNames[r.IntN(len(firstNames))]
	birth := time.Date(1935+r.IntN(70), time.Month(1+r.IntN(12)), 1+r.IntN(28), 0, 0, 0, 0, time.UTC)
	c := crm.Citizen{FamilyName: family, FirstNames: first, BirthDate: birth.Format(time.DateOnly),
		Phones: []string{Mobile(r)}, Language: "fr"}
	if r.IntN(3) > 0 {
		c.Email = fmt.Sprintf("%s.%s%d@exemple.fr", ascii(first), ascii(family), r.IntN(100))
	}
	if r.IntN(4) == 0 {
		if home := fmt.Sprintf("01 4%d %02d %02d %02d", r.IntN(10), r.IntN(100), r.IntN(100), r.IntN(100)); validPhone(home) {
			c.Phones = append(c.Phones, home)
		}
	}
	return c
}

// People returns n generated citizens.
func People(seed uint64, n int) []crm.Citizen {
	r := rand.New(rand.NewPCG(seed, 1789))
	out := make([]crm.Citizen, n)
	for i := range out {
		out[i] = person(r)
	}
	return out
}

// Mobile returns a French mobile number of metropolitan France, written
// "06 12 34 56 78": 06 or 07 (0639, 069x are overseas departments').
func Mobile(r *rand.Rand) string {
	for {
		n := fmt.Sprintf("0%d %02d %02d %02d %02d", 6+r.IntN(2), r.IntN(100), r.IntN(100), r.IntN(100), r.IntN(100))
		if e, err := crm.NormalizePhone(n); err == nil && strings.HasPrefix(e, "+33") {
			return n
		}
	}
}

// Rewrite writes a French number another way a telephone system sends it:
// "+33612345678", "0612345678" or as it was.
func Rewrite(r *rand.Rand, number string) string {
	digits := strings.Map(func(c rune) rune {
		if c >= '0' && c <= '9' {
			return c
		}
		return -1
	}, number)
	switch r.IntN(3) {
	case 0:
		return "+33" + strings.TrimPrefix(digits, "0")
	case 1:
		return digits
	}
	return number
}

// ascii folds a name for an e-mail address: "Lefèbvre" → "lefebvre".
func ascii(s string) string {
	t := transform.Chain(norm.NFD, runes.Remove(runes.In(unicode.Mn)), norm.NFC)
	out, _, _ := transform.String(t, s)
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			return r
		case r >= 'A' && r <= 'Z':
			return r + 'a' - 'A'
		}
		return -1
	}, out)
}

func validPhone(s string) bool {
	_, err := crm.NormalizePhone(s)
	return err == nil
}
