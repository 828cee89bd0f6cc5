package virtual

import (
	"context"
	"fmt"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"guichet/hw/printer"
)

// Printer is a virtual printer: it renders each ticket to DIR/NNNNNN.png
// beside the raw bytes of its job (NNNNNN.bin).
type Printer struct {
	dir    string
	format printer.Format

	mu     sync.Mutex
	status printer.Status
	seq    int
	pages  []Page // the last pages printed, newest last
	keep   int    // how many pages Pages keeps (SetKeep)
	onPage func(path string, p Page)
}

// DefaultKeep is how many printed pages a virtual printer keeps in memory
// for Pages, unless SetKeep says otherwise: a page of 80 mm paper is a
// 576-dot-wide grey image, ~0.5 MB.
const DefaultKeep = 50

// New returns a virtual generic printer writing into dir, on paper paperMM
// wide.
func New(dir string, paperMM int) (*Printer, error) {
	return NewFormat(dir, printer.GenericFormat(paperMM))
}

// NewFormat returns a virtual printer of f's model and paper writing into
// dir.
func NewFormat(dir string, f printer.Format) (*Printer, error) {
	if f.Dots() <= 0 {
		return nil, fmt.Errorf("virtual printer: %s takes no %d mm paper", f.Profile.Name, f.PaperMM)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	p := &Printer{dir: dir, format: f, keep: DefaultKeep}
	// Go on numbering after what is already there.
	if m, _ := filepath.Glob(filepath.Join(dir, "*.png")); len(m) > 0 {
		fmt.Sscanf(filepath.Base(m[len(m)-1]), "%06d.png", &p.seq)
	}
	return p, nil
}

// Print renders a job; like a real printer it refuses when not ready.
func (p *Printer) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.status.OK() {
		return fmt.Errorf("%w: %s", printer.ErrNotReady, p.status)
	}
	pages, err := Render(job, p.format)
	if err != nil {
		return fmt.Errorf("virtual printer: %w", err)
	}
	for _, pg := range pages {
		p.seq++
		base := filepath.Join(p.dir, fmt.Sprintf("%06d", p.seq))
		if err := os.WriteFile(base+".bin", job, 0o644); err != nil {
			return err
		}
		f, err := os.Create(base + ".png")
		if err != nil {
			return err
		}
		err = png.Encode(f, pg.Image)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
		if p.keep > 0 {
			p.pages = append(p.pages, pg)
			if len(p.pages) > p.keep {
				p.pages = slices.Delete(p.pages, 0, len(p.pages)-p.keep) // the old pages' images freed
			}
		}
		if p.onPage != nil {
			p.onPage(base+".png", pg)
		}
	}
	return nil
}

// Status returns the status set by SetStatus (ready by default); for a
// model without status, Unknown, as a real one would be read.
func (p *Printer) Status(ctx context.Context) (printer.Status, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.format.Profile.Status {
		return printer.Status{Unknown: true}, nil
	}
	return p.status, nil
}

// SetStatus makes the printer report s: paper out, cover open…
func (p *Printer) SetStatus(s printer.Status) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.status = s
}

// SetKeep sets how many printed pages Pages keeps; 0 keeps none (a
// device: its pages are on disk as PNG, and its memory is the board's).
func (p *Printer) SetKeep(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.keep = max(0, n)
	if len(p.pages) > p.keep {
		p.pages = slices.Delete(p.pages, 0, len(p.pages)-p.keep)
	}
}

// Pages returns the last pages printed, newest last.
func (p *Printer) Pages() []Page {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Page(nil), p.pages...)
}

// OnPage registers fn, called with each page printed and its PNG's path.
func (p *Printer) OnPage(fn func(path string, pg Page)) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onPage = fn
}

// Close does nothing.
func (p *Printer) Close() error { return nil }

// Wire is a printer at the far end of a byte link (a TCP socket, a pty): it
// records every byte received and answers status requests with the status
// set by SetStatus (ready by default) — unless Mute, a model that does not
// answer them.
type Wire struct {
	Mute bool // set before Serve

	mu     sync.Mutex
	got    []byte
	status printer.Status
}

// SetStatus makes the wire answer status requests with s.
func (w *Wire) SetStatus(s printer.Status) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.status = s
}

// Serve reads rw until it closes, answering DLE EOT requests.
func (w *Wire) Serve(rw io.ReadWriter) error {
	buf := make([]byte, 4096)
	var pending []byte
	for {
		n, err := rw.Read(buf)
		if n > 0 {
			w.mu.Lock()
			w.got = append(w.got, buf[:n]...)
			st := printer.StatusBytes(w.status)
			w.mu.Unlock()
			pending = append(pending, buf[:n]...)
			// Answer every complete DLE EOT n: one byte each.
			for i := 0; i+2 < len(pending); i++ {
				if pending[i] == 0x10 && pending[i+1] == 0x04 && pending[i+2] >= 1 && pending[i+2] <= 4 {
					if !w.Mute {
						rw.Write([]byte{st[pending[i+2]-1]})
					}
					i += 2
				}
			}
			if len(pending) > 2 {
				pending = pending[len(pending)-2:]
			}
		}
		if err != nil {
			return err
		}
	}
}

// Bytes returns what was received so far.
func (w *Wire) Bytes() []byte {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]byte(nil), w.got...)
}

// WaitBytes waits until at least n bytes were received.
func (w *Wire) WaitBytes(n int, timeout time.Duration) []byte {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if b := w.Bytes(); len(b) >= n {
			return b
		}
		time.Sleep(5 * time.Millisecond)
	}
	return w.Bytes()
}
