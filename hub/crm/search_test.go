package crm

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

func TestSearchFindsNamesWhateverTheirWriting(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	jp := f.citizen(t, Citizen{FamilyName: "LEFEBVRE", FirstNames: "Jean-Pierre", BirthDate: "1961-04-02", Phones: []string{"06 12 34 56 78"}})
	anne := f.citizen(t, Citizen{FamilyName: "Lefèvre", FirstNames: "Anne"})
	dart := f.citizen(t, Citizen{FamilyName: "D'Artagnan", FirstNames: "Charles"})
	marie := f.citizen(t, Citizen{FamilyName: "Dupont", BirthName: "Lefebvre-Durand", FirstNames: "Marie", Email: "Marie.Dupont@example.fr"})
	f.citizen(t, Citizen{FamilyName: "Pierre", FirstNames: "Jean"})
	for _, tc := range []struct {
		q     string
		first string
		all   []string // exactly these, in this order, when set
	}{
		{q: "Lefèbvre", first: jp.ID},
		{q: "lefebvre", first: jp.ID},
		{q: "LEFEBVRE jean-pierre", first: jp.ID, all: []string{jp.ID}},
		{q: "Jean Pierre", first: jp.ID},
		{q: "jean-pierre", first: jp.ID},
		{q: "Jeanpierre", all: []string{jp.ID}},
		{q: "Jean-Pierre Lefebvre", all: []string{jp.ID}}, // transposed
		{q: "Lefevre", first: anne.ID},
		{q: "lefèvre anne", all: []string{anne.ID}},
		{q: "D'Artagnan", all: []string{dart.ID}},
		{q: "d’artagnan", all: []string{dart.ID}},
		{q: "dartagnan", all: []string{dart.ID}},
		{q: "Artagnan Charles", all: []string{dart.ID}},
		{q: "durand", all: []string{marie.ID}}, // birth name
		{q: "06.12.34.56.78", all: []string{jp.ID}},
		{q: "+33 6 12 34 56 78", all: []string{jp.ID}},
		{q: "0033612345678", all: []string{jp.ID}},
		{q: "MARIE.DUPONT@EXAMPLE.FR", all: []string{marie.ID}},
		{q: "lefeb", first: jp.ID},
	} {
		ms, err := f.s.Search(ctx, etatCivil, tc.q, 10)
		if err != nil {
			t.Fatalf("%q: %v", tc.q, err)
		}
		var got []string
		for _, m := range ms {
			got = append(got, m.Citizen.ID)
		}
		if tc.all != nil && strings.Join(got, ",") != strings.Join(tc.all, ",") {
			t.Errorf("%q found %v, want %v", tc.q, got, tc.all)
		}
		if tc.first != "" && (len(got) == 0 || got[0] != tc.first) {
			t.Errorf("%q found %v first, want %s", tc.q, got, tc.first)
		}
	}
	if _, err := f.s.Search(ctx, etatCivil, "'-", 10); err == nil {
		t.Error("a search of punctuation only succeeded")
	}
	if _, err := f.s.Search(ctx, etatCivil, `"a" OR NEAR(b`, 10); err != nil {
		t.Errorf("FTS syntax in a search: %v", err)
	}
}

var (
	genFamily = []string{"Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
		"Simon", "Michel", "Lefèbvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard", "Bonnet", "Dupont",
		"Lambert", "Fontaine", "Rousseau", "Vincent", "Müller", "Lefèvre", "Faure", "André", "Mercier", "Blanc", "Guérin",
		"Boyer", "Garnier", "Chevalier", "François", "Legrand", "Gauthier", "Garcia", "Perrin", "Robin", "Clément", "Morin",
		"Nicolas", "Henry", "Roussel", "Mathieu", "Gautier", "Masson", "Marchand", "Duval", "Denis", "Dumont", "Marie",
		"Lemaire", "Noël", "Meyer", "Dufour", "Meunier", "Brun", "Blanchard", "Giraud", "Joly", "Rivière", "Lucas", "Brunet",
		"Gaillard", "Barbier", "Arnaud", "Martinez", "Gérard", "Roche", "Renard", "Schmitt", "Roy", "Leroux", "Colin", "Vidal",
		"Caron", "Picard", "Roger", "Fabre", "Aubert", "Lemoine", "Renaud", "Dumas", "Lacroix", "Olivier", "Philippe", "Bourgeois",
		"Pierre", "Benoît", "Rey", "Leclerc", "Payet", "Rolland", "Leclercq", "Guillaume", "Lecomte", "N'Diaye", "Le Gall", "Nguyễn"}
	genFirst = []string{"Jean", "Marie", "Pierre", "Louise", "Michel", "Nathalie", "Philippe", "Isabelle", "Alain", "Sylvie",
		"Nicolas", "Catherine", "Christophe", "Françoise", "Patrick", "Sandrine", "Stéphane", "Valérie", "Laurent", "Céline",
		"Jean-Pierre", "Marie-Claire", "Anne-Sophie", "Jean-François", "Léa", "Chloé", "Emma", "Lucas", "Hugo", "Inès", "Noé",
		"Zoé", "Théo", "Maëlys", "Loïc", "Gaël", "Hélène", "Jérôme", "Aurélie", "Benoît"}
)

// generate files n citizens with random common names, in big transactions;
// it returns their names, by row number.
func generate(t testing.TB, s *Store, n int, seed uint64) map[int64][3]string {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	out := make(map[int64][3]string, n)
	now := s.clock().UTC()
	for done := 0; done < n; {
		chunk := min(20_000, n-done)
		err := s.write(context.Background(), "generate", func(tx *sql.Tx) error {
			for i := range chunk {
				c := Citizen{ID: fmt.Sprintf("c-gen-%07d", done+i), FamilyName: genFamily[rng.IntN(len(genFamily))],
					FirstNames: genFirst[rng.IntN(len(genFirst))], CreatedAt: now, UpdatedAt: now, LastAt: now,
					BirthDate: time.Date(1930+rng.IntN(80), time.Month(1+rng.IntN(12)), 1+rng.IntN(28), 0, 0, 0, 0, time.UTC).Format(time.DateOnly)}
				if rng.IntN(4) == 0 {
					c.BirthName = genFamily[rng.IntN(len(genFamily))]
				}
				if rng.IntN(2) == 0 {
					c.Phones = []string{fmt.Sprintf("+336%08d", rng.IntN(100_000_000))}
				}
				num, err := insertCitizen(tx, &c)
				if err != nil {
					return err
				}
				out[num] = [3]string{c.FamilyName, c.BirthName, c.FirstNames}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		done += chunk
	}
	return out
}

// expected is what the ranking rule in Search's comment says a name query
// returns, computed by brute force over the generated names.
func expected(names map[int64][3]string, q string) map[int64]int {
	out := map[int64]int{}
	words := fold(q)
	for n, nm := range names {
		fam, birth, first := strings.Fields(searchText(nm[0])), strings.Fields(searchText(nm[1])), strings.Fields(searchText(nm[2]))
		ok := true
		for _, w := range words {
			if wordScore(w, fam, birth, first) == 0 {
				ok = false
			}
		}
		if ok {
			out[n] = score(words, fam, birth, first)
		}
	}
	return out
}

func TestSearchAmong200000CitizensFindsTheExpectedOnes(t *testing.T) {
	if testing.Short() {
		t.Skip("200,000 citizens: not in -short")
	}
	f := newFixture(t)
	ctx := context.Background()
	names := generate(t, f.s, 200_000, 7)
	// Planted: the one person the desk looks for, among thousands of homonyms.
	dart := f.citizen(t, Citizen{FamilyName: "D'Artagnan-Lupin", FirstNames: "Marie-Clémence", Phones: []string{"0690 12 34 56"}})
	for _, q := range []string{"Lefebvre Jean-Pierre", "jean pierre lefèbvre", "Nguyen Maelys", "N'Diaye Zoé", "le gall theo", "Müller Noé",
		"Martinez Maëlys", "Payet Anne-Sophie"} {
		want := expected(names, q)
		if len(want) > 200 || len(want) == 0 {
			t.Fatalf("%q: %d expected results: choose another query", q, len(want))
		}
		ms, err := f.s.Search(ctx, etatCivil, q, 200)
		if err != nil {
			t.Fatal(err)
		}
		if len(ms) != len(want) {
			t.Fatalf("%q: %d results, want %d", q, len(ms), len(want))
		}
		prev := 1 << 30
		for _, m := range ms {
			var n int64
			fmt.Sscanf(m.Citizen.ID, "c-gen-%d", &n)
			n++ // row numbers start at 1, ids at 0
			if sc, ok := want[n]; !ok || sc != m.Score {
				t.Fatalf("%q: %s (score %d) not expected (%v, %d)", q, m.Citizen.ID, m.Score, ok, sc)
			}
			if m.Score > prev {
				t.Fatalf("%q: results not ranked", q)
			}
			prev = m.Score
		}
	}
	for _, q := range []string{"dartagnan lupin", "Marie-Clémence D'Artagnan-Lupin", "artagnan clemence", "06 90 12 34 56"} {
		ms, err := f.s.Search(ctx, etatCivil, q, 5)
		if err != nil || len(ms) == 0 || ms[0].Citizen.ID != dart.ID {
			t.Fatalf("%q: %+v, %v", q, ms, err)
		}
	}
}
