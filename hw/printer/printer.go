// Package printer drives ESC/POS receipt printers: the Printer interface,
// the documents we print (built on hennedo/escpos, with our own bytes where
// it gets them wrong), French text through a printer code page, real-time
// status (DLE EOT), and transports over USB, serial and TCP. The virtual
// printer beside it (printer/virtual) renders the same bytes to PNG.
package printer

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Printer prints ESC/POS jobs and tells its state.
type Printer interface {
	// Print sends one job: the bytes of one or more tickets.
	Print(ctx context.Context, job []byte) error
	// Status asks the printer for its real-time status.
	Status(ctx context.Context) (Status, error)
	// Close releases the printer.
	Close() error
}

// Status is a printer's real-time state, as DLE EOT reports it.
type Status struct {
	Offline   bool `json:"offline,omitempty"`
	CoverOpen bool `json:"cover_open,omitempty"`
	PaperLow  bool `json:"paper_low,omitempty"` // near end: tell the supervisor
	PaperOut  bool `json:"paper_out,omitempty"`
	Error     bool `json:"error,omitempty"` // cutter jam, overheating…
	// Unknown: the model does not answer status requests; it is taken as
	// ready, and paper out shows only on the paper.
	Unknown bool `json:"unknown,omitempty"`
}

// OK reports whether the printer can print.
func (s Status) OK() bool { return !s.Offline && !s.CoverOpen && !s.PaperOut && !s.Error }

func (s Status) String() string {
	var parts []string
	for _, f := range []struct {
		on   bool
		name string
	}{{s.Offline, "offline"}, {s.CoverOpen, "cover open"}, {s.PaperOut, "paper out"}, {s.PaperLow, "paper low"}, {s.Error, "error"}} {
		if f.on {
			parts = append(parts, f.name)
		}
	}
	if s.Unknown {
		parts = append(parts, "not reported by this model")
	}
	if len(parts) == 0 {
		return "ok"
	}
	return strings.Join(parts, ", ")
}

// ErrNotReady is returned by Print when the printer cannot print.
var ErrNotReady = errors.New("printer not ready")

// The DLE EOT requests and the bits of their answers (Epson ESC/POS).
const (
	dle, eot = 0x10, 0x04

	eotPrinter = 1 // bit 3: offline
	eotOffline = 2 // bit 2: cover open; bit 5: stopped for paper end; bit 6: error
	eotError   = 3 // bits 2, 3, 5, 6: errors
	eotPaper   = 4 // bits 2–3: paper near end; bits 5–6: paper end
)

// StatusRequests are the four DLE EOT requests, in the order StatusFrom
// takes their answers.
var StatusRequests = [][]byte{{dle, eot, eotPrinter}, {dle, eot, eotOffline}, {dle, eot, eotError}, {dle, eot, eotPaper}}

// StatusFrom reads the answers to the four DLE EOT requests. A printer
// goes offline when its cover is open or its paper out: Offline is set
// only when it gives no such reason, and PaperLow only while paper is left.
func StatusFrom(printer, offline, errs, paper byte) Status {
	s := Status{
		CoverOpen: offline&0x04 != 0,
		PaperOut:  paper&0x60 != 0 || offline&0x20 != 0,
		Error:     offline&0x40 != 0 || errs&0x6C != 0,
	}
	s.PaperLow = paper&0x0C != 0 && !s.PaperOut
	s.Offline = printer&0x08 != 0 && !s.CoverOpen && !s.PaperOut && !s.Error
	return s
}

// StatusBytes is what a printer in status s answers to the four DLE EOT
// requests (bits 1 and 4 are always set).
func StatusBytes(s Status) [4]byte {
	b := [4]byte{0x12, 0x12, 0x12, 0x12}
	if s.Offline || s.CoverOpen || s.PaperOut || s.Error {
		b[0] |= 0x08
	}
	if s.CoverOpen {
		b[1] |= 0x04
	}
	if s.PaperOut {
		b[1] |= 0x20
		b[3] |= 0x60
	}
	if s.Error {
		b[1] |= 0x40
		b[2] |= 0x40
	}
	if s.PaperLow || s.PaperOut {
		b[3] |= 0x0C
	}
	return b
}

// Spec is a printer as the --printer flag names it:
//
//	usb:/dev/usb/lp0
//	serial:/dev/ttyUSB0?baud=19200
//	tcp:192.0.2.10:9100
//	virtual:DIR
//
// with options ?model=ID (a known model, see Profiles; generic if none),
// paper=80|58 (mm; the model's widest if none), codepage=wpc1252|pc858|
// pc850|pc437 (the model's best for French if none) and status=off (do not
// ask the printer for its state: for a printer that never answers).
type Spec struct {
	Kind   string // usb, serial, tcp, virtual
	Addr   string // device path, host:port or directory
	Baud   int
	Format Format // the model, its paper and code page
}

// ParseSpec reads a printer spec.
func ParseSpec(s string) (Spec, error) {
	kind, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Spec{}, fmt.Errorf("printer %q: write usb:/dev/usb/lp0, serial:/dev/ttyUSB0?baud=19200, tcp:HOST:9100 or virtual:DIR", s)
	}
	addr, query, _ := strings.Cut(rest, "?")
	q, err := url.ParseQuery(query)
	if err != nil {
		return Spec{}, fmt.Errorf("printer %q: %w", s, err)
	}
	for k := range q {
		switch k {
		case "baud", "model", "paper", "codepage", "status":
		default:
			return Spec{}, fmt.Errorf("printer %q: unknown option %q (model, paper, codepage, status, baud)", s, k)
		}
	}
	sp := Spec{Kind: kind, Addr: addr, Baud: 19200}
	switch kind {
	case "usb", "serial", "tcp", "virtual":
	default:
		return Spec{}, fmt.Errorf("printer %q: unknown kind %q (usb, serial, tcp or virtual)", s, kind)
	}
	if b := q.Get("baud"); b != "" {
		if sp.Baud, err = strconv.Atoi(b); err != nil || sp.Baud <= 0 {
			return Spec{}, fmt.Errorf("printer %q: baud %q", s, b)
		}
	}
	prof := Generic()
	if m := q.Get("model"); m != "" {
		if prof, err = ProfileByID(m); err != nil {
			return Spec{}, fmt.Errorf("printer %q: %w", s, err)
		}
	}
	switch st := q.Get("status"); st {
	case "", "on":
	case "off":
		prof.Status = false
	default:
		return Spec{}, fmt.Errorf("printer %q: status must be on or off", s)
	}
	var cp CodePage
	if c := q.Get("codepage"); c != "" {
		if cp, err = CodePageByName(c); err != nil {
			return Spec{}, fmt.Errorf("printer %q: %w", s, err)
		}
	}
	paper := 0
	if p := q.Get("paper"); p != "" {
		if paper, err = strconv.Atoi(p); err != nil || (paper != 80 && paper != 58) {
			return Spec{}, fmt.Errorf("printer %q: paper must be 80 or 58 (mm)", s)
		}
	}
	if sp.Format, err = NewFormat(prof, paper, cp); err != nil {
		return Spec{}, fmt.Errorf("printer %q: %w", s, err)
	}
	if kind == "tcp" && !strings.Contains(addr, ":") {
		sp.Addr += ":9100"
	}
	return sp, nil
}
