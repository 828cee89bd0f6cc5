package stats

import (
	"archive/zip"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// cell is a cell of a converted sheet: its type ("s" shared string, "n"
// number), its value (a shared string's text is filled in), its style.
type cell struct {
	T, V  string
	Style string
}

// readXLSX reads the first sheet of an xlsx file: cells by reference ("B2").
func readXLSX(t *testing.T, path string) map[string]cell {
	t.Helper()
	z, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	read := func(name string, v any) {
		f, err := z.Open(name)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		b, _ := io.ReadAll(f)
		if err := xml.Unmarshal(b, v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	var sst struct {
		SI []struct {
			T string `xml:"t"`
		} `xml:"si"`
	}
	read("xl/sharedStrings.xml", &sst)
	var sheet struct {
		Rows []struct {
			C []struct {
				R string `xml:"r,attr"`
				T string `xml:"t,attr"`
				S string `xml:"s,attr"`
				V string `xml:"v"`
			} `xml:"c"`
		} `xml:"sheetData>row"`
	}
	read("xl/worksheets/sheet1.xml", &sheet)
	out := map[string]cell{}
	for _, r := range sheet.Rows {
		for _, c := range r.C {
			v := c.V
			if c.T == "s" {
				i, _ := strconv.Atoi(c.V)
				v = sst.SI[i].T
			}
			out[c.R] = cell{T: c.T, V: v, Style: c.S}
		}
	}
	return out
}

// convert has LibreOffice Calc open the CSV files as a user of locale
// would (separator, UTF-8, the locale's numbers and dates) and save them as
// xlsx; it returns the xlsx paths.
func convert(t *testing.T, dir, filter string, files ...string) []string {
	t.Helper()
	soffice, err := exec.LookPath("soffice")
	if err != nil {
		t.Fatal("LibreOffice is needed (Debian: libreoffice-calc-nogui; scripts/test-deps.sh installs it)")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Second)
	defer cancel()
	args := []string{"-env:UserInstallation=file://" + filepath.Join(dir, "profile"), "--headless", "--norestore",
		"--infilter=" + filter, "--convert-to", "xlsx", "--outdir", filepath.Join(dir, "out")}
	cmd := exec.CommandContext(ctx, soffice, append(args, files...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("soffice: %v\n%s", err, out)
	}
	var out []string
	for _, f := range files {
		x := filepath.Join(dir, "out", strings.TrimSuffix(filepath.Base(f), ".csv")+".xlsx")
		if _, err := os.Stat(x); err != nil {
			t.Fatalf("LibreOffice made no %s", x)
		}
		out = append(out, x)
	}
	return out
}

// serial is a day as a spreadsheet's date number (days since 1899-12-30).
func serial(day string) string {
	d, _ := time.Parse(time.DateOnly, day)
	return fmt.Sprint(int(d.Sub(time.Date(1899, 12, 30, 0, 0, 0, 0, time.UTC)).Hours() / 24))
}

func checkNumber(t *testing.T, what string, c cell, want float64) {
	t.Helper()
	v, err := strconv.ParseFloat(c.V, 64)
	if c.T != "n" || err != nil || math.Abs(v-want) > 1e-9 {
		t.Errorf("%s: %+v, want the number %v", what, c, want)
	}
}

// TestLibreOfficeOpensTheCSVAsNumbersAndDates converts the hand-built day's
// files with LibreOffice Calc, as a French user opens them (and the English
// file as an English user), and reads the numbers back from the xlsx.
func TestLibreOfficeOpensTheCSVAsNumbersAndDates(t *testing.T) {
	h := newHarness(t)
	handBuiltDay(h)
	p := h.projection()
	q := Query{From: day, To: day}
	dir := t.TempDir()
	write := func(name, kind, lang string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, writeCSV(t, p, q, kind, lang), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	// 59 ';', 34 '"', 76 UTF-8, from line 1, 1036 French (France).
	fr := convert(t, dir, "CSV:59,34,76,1,,1036", write("synthese.csv", KindSummary, "fr"), write("detail.csv", KindDetail, "fr"))
	// 44 ',', 1033 English (USA).
	en := convert(t, dir, "CSV:44,34,76,1,,1033", write("summary-en.csv", KindSummary, "en"))

	sum := readXLSX(t, fr[0])
	// Row 3 is État civil (A comes first): a date, an accented name, a
	// decimal mean, a percentage.
	if sum["B3"].V != "État civil" || sum["S1"].V != "Objectif (min)" {
		t.Errorf("names: B3 %+v, S1 %+v", sum["B3"], sum["S1"])
	}
	checkNumber(t, "date", sum["A3"], mustFloat(serial(day)))
	if sum["A3"].Style == "" || sum["A3"].Style == "0" {
		t.Errorf("the date has no date format: %+v", sum["A3"])
	}
	checkNumber(t, "tickets", sum["C3"], 2)
	checkNumber(t, "mean wait", sum["L3"], 11.5)
	checkNumber(t, "mean service time", sum["O3"], 8.3)
	checkNumber(t, "within target", sum["R3"], 50)
	checkNumber(t, "Accueil's mean wait", sum["L2"], 7.2)

	det := readXLSX(t, fr[1])
	found := false
	for r := 2; r < 20; r++ {
		if det[fmt.Sprintf("C%d", r)].V != "E901" {
			continue
		}
		found = true
		checkNumber(t, "printed at", det[fmt.Sprintf("B%d", r)], (10*60+5)/(24*60.0))
		checkNumber(t, "wait", det[fmt.Sprintf("I%d", r)], 20)
		if det[fmt.Sprintf("D%d", r)].V != "État civil" {
			t.Errorf("service: %+v", det[fmt.Sprintf("D%d", r)])
		}
	}
	if !found {
		t.Errorf("E901 not in the detail")
	}

	esum := readXLSX(t, en[0])
	if esum["B3"].V != "Civil status" {
		t.Errorf("English name: %+v", esum["B3"])
	}
	checkNumber(t, "English date", esum["A3"], mustFloat(serial(day)))
	checkNumber(t, "English mean wait", esum["L3"], 11.5)
}

func mustFloat(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		panic(err)
	}
	return v
}
