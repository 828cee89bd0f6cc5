package printer

import (
	"bytes"
	_ "embed"
	"fmt"
	"slices"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"
)

// Profile is what one printer model's dialect of ESC/POS needs: the paper
// it takes and how many dots a line has on it, the number ESC t gives each
// code page, how it cuts, whether it draws QR codes itself, whether it
// answers status requests. Profiles are data (profiles/profiles.yaml),
// taken from public printer capability databases; each says where its
// values come from.
type Profile struct {
	ID     string         `yaml:"id"`   // what ?model= names: epson-tm-t20iii
	Name   string         `yaml:"name"` // vendor and model, for people
	DPI    int            `yaml:"dpi"`  // 180 or 203
	Paper  map[int]Media  `yaml:"paper"`
	Tables map[string]int `yaml:"codepages"` // code page name → n of the Select command
	Select string         `yaml:"select"`    // the code page command: SelectESCt or SelectStar
	Cut    Cut            `yaml:"cut"`
	QR     bool           `yaml:"qr"`     // GS ( k: the printer draws QR codes
	Status bool           `yaml:"status"` // DLE EOT: the printer tells paper out, cover open…
	Source string         `yaml:"source"` // where the values come from
}

// Media is a paper width as a model prints on it.
type Media struct {
	Dots    int `yaml:"dots"`    // printable dots per line
	Columns int `yaml:"columns"` // characters of font A (12 dots) per line
}

// Cut is how a model cuts the paper at the end of a ticket.
type Cut string

// Cuts. GS V 66 n is in the command set of every ESC/POS printer with a
// cutter; GS V 65 n is not (several cheap 58 mm printers lack it), so it is
// used only where the model's profile says full.
const (
	CutPartial Cut = "partial" // GS V 66 n: feed n and cut (partial, or full on a full-cut-only cutter)
	CutFull    Cut = "full"    // GS V 65 n: feed n and cut in full
	CutNone    Cut = "none"    // no cutter: feed the ticket past the tear bar
)

// Code page commands.
const (
	SelectESCt = "ESC t"    // ESC t n, ESC/POS
	SelectStar = "ESC GS t" // ESC GS t n, Star's own, also in ESC/POS emulation
)

// preferred are the code pages French prints with, best first: Windows-1252
// has every French letter, « » € – — ’ and œ; PC858 lacks œ, PC850 € too;
// PC437 lacks most capitals with accents.
var preferred = []string{"wpc1252", "pc858", "pc850", "pc437"}

//go:embed profiles/profiles.yaml
var profilesYAML []byte

var (
	profilesOnce sync.Once
	profiles     []Profile
	profilesErr  error
)

// Profiles returns every known printer model, in the data file's order.
func Profiles() []Profile {
	profilesOnce.Do(func() {
		var doc struct {
			Models []Profile `yaml:"models"`
		}
		dec := yaml.NewDecoder(bytes.NewReader(profilesYAML))
		dec.KnownFields(true) // a misspelt field is an error, not a false
		if err := dec.Decode(&doc); err != nil {
			profilesErr = fmt.Errorf("printer profiles: %w", err)
			return
		}
		profiles = doc.Models
	})
	if profilesErr != nil {
		panic(profilesErr) // embedded data: a test reads it on every build
	}
	return slices.Clone(profiles)
}

// ProfileByID returns the model id names (case does not matter); the error
// lists the known models.
func ProfileByID(id string) (Profile, error) {
	all := Profiles()
	for _, p := range all {
		if strings.EqualFold(p.ID, id) {
			return p, nil
		}
	}
	ids := make([]string, len(all))
	for i, p := range all {
		ids[i] = p.ID
	}
	return Profile{}, fmt.Errorf("unknown printer model %q; known models: %s (or none for a generic Epson-compatible printer; guichet printer list describes them)",
		id, strings.Join(ids, ", "))
}

// Generic is the profile used when no model is named: an Epson-compatible
// printer.
func Generic() Profile {
	p, err := ProfileByID("generic")
	if err != nil {
		panic(err) // embedded data: a test checks it is there
	}
	return p
}

// CodePage returns the code page French prints best with on this model.
func (p Profile) CodePage() CodePage {
	for _, name := range preferred {
		if _, ok := p.Tables[name]; ok {
			cp, _ := CodePageByName(name)
			return cp
		}
	}
	return PC437 // a profile without any: its test fails
}

// CodePageAt returns the code page ESC t n selects on this model (false if
// the model has none at n that Guichet knows).
func (p Profile) CodePageAt(n byte) (CodePage, bool) {
	for name, x := range p.Tables {
		if x == int(n) {
			if cp, err := CodePageByName(name); err == nil {
				return cp, true
			}
		}
	}
	return CodePage{}, false
}

// Papers returns the paper widths the model takes, widest first.
func (p Profile) Papers() []int {
	var w []int
	for mm := range p.Paper {
		w = append(w, mm)
	}
	slices.Sort(w)
	slices.Reverse(w)
	return w
}

// Format is what a job is built for: a printer model, the paper in it and
// the code page its text is sent in.
type Format struct {
	Profile  Profile
	PaperMM  int
	CodePage CodePage
}

// GenericFormat is the generic profile on paperMM (80 or 58) paper, in
// Windows-1252.
func GenericFormat(paperMM int) Format {
	return Format{Profile: Generic(), PaperMM: paperMM, CodePage: WPC1252}
}

// NewFormat checks that the model takes paperMM paper (0: its widest) and
// has code page cp (zero: the best it has for French).
func NewFormat(p Profile, paperMM int, cp CodePage) (Format, error) {
	if paperMM == 0 {
		paperMM = p.Papers()[0]
	}
	if _, ok := p.Paper[paperMM]; !ok {
		return Format{}, fmt.Errorf("%s takes %s mm paper, not %d mm", p.Name, joinInts(p.Papers(), " or "), paperMM)
	}
	if cp.Name == "" {
		cp = p.CodePage()
	}
	if _, ok := p.Tables[cp.Name]; !ok {
		return Format{}, fmt.Errorf("%s has no code page %s (it has %s)", p.Name, cp.Name, strings.Join(p.codePageNames(), ", "))
	}
	return Format{Profile: p, PaperMM: paperMM, CodePage: cp}, nil
}

func (p Profile) codePageNames() []string {
	var names []string
	for _, n := range preferred {
		if _, ok := p.Tables[n]; ok {
			names = append(names, n)
		}
	}
	return names
}

// Dots is the number of dots of a printed line.
func (f Format) Dots() int { return f.Profile.Paper[f.PaperMM].Dots }

// TextDots is the width text may take: font A's columns, within the dots.
func (f Format) TextDots() int {
	m := f.Profile.Paper[f.PaperMM]
	return min(m.Dots, 12*m.Columns)
}

// Table is n of the command that selects the format's code page.
func (f Format) Table() (byte, error) {
	n, ok := f.Profile.Tables[f.CodePage.Name]
	if !ok || n < 0 || n > 255 {
		return 0, fmt.Errorf("%s has no code page %s", f.Profile.Name, f.CodePage.Name)
	}
	return byte(n), nil
}

// SelectBytes is the command that selects the format's code page.
func (f Format) SelectBytes() ([]byte, error) {
	n, err := f.Table()
	if err != nil {
		return nil, err
	}
	if f.Profile.Select == SelectStar {
		return []byte{0x1b, 0x1d, 't', n}, nil
	}
	return []byte{0x1b, 't', n}, nil
}

// String describes the format for logs and the test page.
func (f Format) String() string {
	n, _ := f.Table()
	return fmt.Sprintf("%s (%s), %d mm, %d dots at %d dpi, %s (%s %d), cut %s, QR %s, status %s",
		f.Profile.Name, f.Profile.ID, f.PaperMM, f.Dots(), f.Profile.DPI, f.CodePage.Name, f.Profile.Select, n,
		f.Profile.Cut, yesNo(f.Profile.QR, "GS ( k", "raster image"), yesNo(f.Profile.Status, "DLE EOT", "not reported"))
}

func yesNo(b bool, yes, no string) string {
	if b {
		return yes
	}
	return no
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return strings.Join(s, sep)
}
