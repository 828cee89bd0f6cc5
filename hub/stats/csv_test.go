package stats

import (
	"bytes"
	"context"
	"encoding/csv"
	"math"
	"strconv"
	"strings"
	"testing"
)

// readCSV parses a file WriteCSV wrote in format f, checking its BOM and
// line ends.
func readCSV(t *testing.T, b []byte, f Format) [][]string {
	t.Helper()
	if !bytes.HasPrefix(b, []byte("\ufeff")) {
		t.Fatalf("no byte-order mark: %q", b[:min(len(b), 10)])
	}
	if !bytes.Contains(b, []byte("\r\n")) || bytes.Count(b, []byte("\n")) != bytes.Count(b, []byte("\r\n")) {
		t.Errorf("line ends are not all CRLF")
	}
	r := csv.NewReader(bytes.NewReader(b[3:]))
	r.Comma = f.Comma
	recs, err := r.ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

func writeCSV(t *testing.T, p *Projection, q Query, kind, lang string) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := p.WriteCSV(context.Background(), &buf, q, kind, lang); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestTheSummaryCSVRoundTrips(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	p := h.projection()
	q := Query{From: day, To: day}
	r := h.report(p, q)
	for _, lang := range []string{"fr", "en"} {
		f := FormatFor(lang)
		recs := readCSV(t, writeCSV(t, p, q, KindSummary, lang), f)
		if strings.Join(recs[0], "|") != strings.Join(SummaryHeader[lang], "|") {
			t.Errorf("%s header: %v", lang, recs[0])
		}
		if len(recs) != 1+len(r.Services) {
			t.Fatalf("%s: %d rows for %d services", lang, len(recs)-1, len(r.Services))
		}
		for i, s := range r.Services {
			rec := recs[i+1]
			wantDate := map[string]string{"fr": "05/11/2026", "en": "2026-11-05"}[lang]
			if rec[0] != wantDate || rec[1] != h.site.Service(s.Key).Name(lang) {
				t.Errorf("%s row %d: %q %q", lang, i, rec[0], rec[1])
			}
			ints := []int{s.Tickets, s.Visits, s.Phone, s.Served, s.NoShows, s.Cancelled, s.Abandoned, s.TransfersOut, s.TransfersIn}
			for j, want := range ints {
				if got, err := strconv.Atoi(rec[2+j]); err != nil || got != want {
					t.Errorf("%s %s %s: %q, want %d", lang, s.Key, recs[0][2+j], rec[2+j], want)
				}
			}
			share := *s.Share * 100
			nums := []float64{s.Wait.Mean / 60, s.Wait.Median / 60, s.Wait.P90 / 60,
				s.ServiceTime.Mean / 60, s.ServiceTime.Median / 60, s.ServiceTime.P90 / 60, share,
				h.site.Service(s.Key).SLA.Minutes()}
			for j, want := range nums {
				got, err := f.ParseNum(rec[11+j])
				if err != nil || math.Abs(got-want) > 0.05 {
					t.Errorf("%s %s %s: %q, want %.2f", lang, s.Key, recs[0][11+j], rec[11+j], want)
				}
			}
		}
	}
	// The decimals are written as a French spreadsheet reads them.
	fr := string(writeCSV(t, p, q, KindSummary, "fr"))
	if !strings.Contains(fr, "État civil;2;2;0;3;0;0;0;0;1;11,5;3,0;20,0;8,3;10,0;10,0;50,0;15,0") {
		t.Errorf("État civil's row is not as worked out by hand:\n%s", fr)
	}
}

func TestTheDetailCSVRoundTrips(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	p := h.projection()
	q := Query{From: day, To: day}
	r := h.report(p, q)
	for _, lang := range []string{"fr", "en"} {
		f := FormatFor(lang)
		recs := readCSV(t, writeCSV(t, p, q, KindDetail, lang), f)
		if len(recs) != 1+r.Total.Tickets+r.Total.Voided {
			t.Fatalf("%s: %d rows, want %d", lang, len(recs)-1, r.Total.Tickets+r.Total.Voided)
		}
		var waits, times []float64
		outcomes := map[string]int{}
		for _, rec := range recs[1:] {
			if rec[10] == outcomeWords[lang][Voided] {
				continue
			}
			outcomes[rec[10]]++
			for col, into := range map[int]*[]float64{8: &waits, 9: &times} {
				if v, err := f.ParseNum(rec[col]); err != nil {
					t.Fatalf("%s: %q: %v", lang, rec[col], err)
				} else if !math.IsNaN(v) {
					*into = append(*into, v)
				}
			}
		}
		mean := func(v []float64) float64 {
			s := 0.0
			for _, x := range v {
				s += x
			}
			return s / float64(len(v))
		}
		if len(waits) != r.Total.Wait.N || math.Abs(mean(waits)-r.Total.Wait.Mean/60) > 0.05 {
			t.Errorf("%s: waits %v: mean %.2f, report %.2f", lang, waits, mean(waits), r.Total.Wait.Mean/60)
		}
		if len(times) != r.Total.ServiceTime.N || math.Abs(mean(times)-r.Total.ServiceTime.Mean/60) > 0.05 {
			t.Errorf("%s: service times %v: mean %.2f, report %.2f", lang, times, mean(times), r.Total.ServiceTime.Mean/60)
		}
		w := outcomeWords[lang]
		if outcomes[w[Served]] != r.Total.Served || outcomes[w[NoShow]] != r.Total.NoShows ||
			outcomes[w[Abandoned]] != r.Total.Abandoned || outcomes[w[Cancelled]]+outcomes[w[Abandoned]] != r.Total.Cancelled {
			t.Errorf("%s outcomes %v, report %+v", lang, outcomes, r.Total.Counts)
		}
	}
	fr := string(writeCSV(t, p, q, KindDetail, "fr"))
	// The offline ticket: printed at 10:05, called 10:25, served 10:30.
	if !strings.Contains(fr, "05/11/2026;10:05;E901;État civil;État civil;visite;10:25;10:30;20,0;5,0;servi;Bob Durand;Guichet 2;0;0;oui;non") {
		t.Errorf("the offline ticket's row is not as worked out by hand:\n%s", fr)
	}
}

func TestANameThatLooksLikeAFormulaStaysText(t *testing.T) {
	if got := text("=HYPERLINK(\"x\")"); got != "'=HYPERLINK(\"x\")" {
		t.Errorf("%q", got)
	}
	if got := text("État civil"); got != "État civil" {
		t.Errorf("%q", got)
	}
}
