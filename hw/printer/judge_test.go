package printer_test

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"guichet/hw/printer"
)

// judged is what judge/judge.js, a third-party ESC/POS parser (npos, with
// iconv-lite for the text), read in a job.
type judged struct {
	Error    *string `json:"error"`
	Commands []struct {
		Name  string `json:"name"`
		Bytes []byte `json:"bytes"`
	} `json:"commands"`
	Lines []string `json:"lines"`
}

// iconvNames are iconv-lite's names of our code pages.
var iconvNames = map[string]string{"wpc1252": "win1252", "pc858": "cp858", "pc850": "cp850", "pc437": "cp437"}

// judge has the third-party parser read job, text in cp.
func judge(t *testing.T, job []byte, cp printer.CodePage) judged {
	t.Helper()
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatal("node is not installed: run make test (scripts/test-deps.sh installs it)")
	}
	if _, err := os.Stat(filepath.Join("judge", "node_modules", "npos")); err != nil {
		t.Fatal("the ESC/POS judge is not installed: run make test (scripts/test-deps.sh runs npm ci in hw/printer/judge)")
	}
	f := filepath.Join(t.TempDir(), "job.bin")
	if err := os.WriteFile(f, job, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("node", filepath.Join("judge", "judge.js"), f, iconvNames[cp.Name])
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("judge: %v\n%s", err, stderr.String())
	}
	var j judged
	if err := json.Unmarshal(out, &j); err != nil {
		t.Fatalf("judge's answer %q: %v", out, err)
	}
	return j
}

// TestAThirdPartyParserReadsEveryModelsJob has npos, a third-party ESC/POS
// parser, read the job Guichet builds for every model: every byte is a
// command it knows with the length it expects, or text; the text decodes
// (with iconv-lite) to the French we meant in the model's code page; the
// code page is selected with the model's command and number; the job cuts
// with GS V 66, with GS V 65 only on a model with a full cut, not at all
// without a cutter; the QR code is GS ( k or an image, as the model needs.
func TestAThirdPartyParserReadsEveryModelsJob(t *testing.T) {
	for _, p := range printer.Profiles() {
		for _, mm := range p.Papers() {
			t.Run(p.ID+"-"+strconv.Itoa(mm), func(t *testing.T) {
				t.Parallel()
				f, err := printer.NewFormat(p, mm, printer.CodePage{})
				if err != nil {
					t.Fatal(err)
				}
				d := printer.NewDoc(f)
				d.Line("Mairie de Villeneuve-lès-Avignon", printer.Style{Bold: true, Justify: printer.Center})
				d.Big("E042", 8)
				d.Line("État civil — Légalisation, 1er étage", printer.Style{})
				d.QR("http://guichet.mairie.local:8080/t/XxyrcyETU1hMsVfYKX5EQg", 6, printer.QRLevelM)
				d.Line("Aucune donnée personnelle n'est liée à ce ticket.", printer.Style{Small: true})
				d.Feed(3)
				d.Cut()
				job, err := d.Bytes()
				if err != nil {
					t.Fatal(err)
				}
				j := judge(t, job, f.CodePage)
				if j.Error != nil {
					t.Fatalf("npos cannot parse the job: %s", *j.Error)
				}
				text := strings.Join(j.Lines, " ")
				want := []string{"Mairie de Villeneuve-lès-Avignon", "E042", "État civil — Légalisation, 1er étage", "Aucune donnée personnelle n'est liée à ce ticket."}
				if f.CodePage.Name != "wpc1252" {
					want[2] = "État civil - Légalisation, 1er étage"
				}
				for _, w := range want {
					if !strings.Contains(text, w) {
						t.Errorf("npos reads %q, no %q", j.Lines, w)
					}
				}
				sel, _ := f.SelectBytes()
				var cuts [][]byte
				var qr, raster bool
				selected := false
				for _, c := range j.Commands {
					switch {
					case bytes.Equal(c.Bytes, sel):
						selected = true
					case c.Name == "GS V":
						cuts = append(cuts, c.Bytes)
					case c.Name == "GS (k":
						qr = true
					case c.Name == "GS v0":
						raster = true
					}
				}
				if !selected {
					t.Errorf("no % x selecting %s", sel, f.CodePage.Name)
				}
				var wantCuts [][]byte
				switch p.Cut {
				case printer.CutFull:
					wantCuts = [][]byte{{0x1d, 'V', 65, 0}}
				case printer.CutPartial:
					wantCuts = [][]byte{{0x1d, 'V', 66, 0}}
				}
				if !slices.EqualFunc(cuts, wantCuts, bytes.Equal) {
					t.Errorf("cuts % x, want % x", cuts, wantCuts)
				}
				if qr != p.QR || raster == p.QR {
					t.Errorf("GS ( k %v, raster image %v; the model draws QR codes: %v", qr, raster, p.QR)
				}
			})
		}
	}
}
