package printer

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"go.bug.st/serial"
)

// conn is a byte link to a printer: writes, and reads with a deadline.
type conn interface {
	io.Writer
	readByte(timeout time.Duration) (byte, error)
	discard() // drops bytes received but not read, before a status request
	io.Closer
}

// ESCPOS is a printer reached over a byte link (USB, serial or TCP).
type ESCPOS struct {
	mu     sync.Mutex // one job or status request at a time
	c      conn
	name   string
	reply  time.Duration
	status bool // the model answers DLE EOT
}

// Open opens the printer sp names. A virtual printer is opened by
// printer/virtual; Open refuses it.
func Open(sp Spec) (*ESCPOS, error) {
	var c conn
	var err error
	switch sp.Kind {
	case "usb":
		c, err = openFile(sp.Addr)
	case "serial":
		c, err = openSerial(sp.Addr, sp.Baud)
	case "tcp":
		c, err = dialTCP(sp.Addr)
	default:
		return nil, fmt.Errorf("printer kind %q is not a byte link", sp.Kind)
	}
	if err != nil {
		return nil, fmt.Errorf("open printer %s:%s: %w", sp.Kind, sp.Addr, err)
	}
	return &ESCPOS{c: c, name: sp.Kind + ":" + sp.Addr, reply: 500 * time.Millisecond, status: sp.Format.Profile.Status}, nil
}

// Print sends a job.
func (p *ESCPOS) Print(ctx context.Context, job []byte) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.c.Write(job); err != nil {
		return fmt.Errorf("print on %s: %w", p.name, err)
	}
	return nil
}

// Status sends the four DLE EOT requests and reads their answers. A
// printer that does not answer is offline. A model whose profile says it
// has no status is not asked: it is taken as ready (Status.Unknown), or a
// kiosk would refuse every ticket on a printer that prints.
func (p *ESCPOS) Status(ctx context.Context) (Status, error) {
	if !p.status {
		return Status{Unknown: true}, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	var ans [4]byte
	p.c.discard()
	for i, req := range StatusRequests {
		if _, err := p.c.Write(req); err != nil {
			return Status{Offline: true}, fmt.Errorf("status of %s: %w", p.name, err)
		}
		b, err := p.c.readByte(p.reply)
		if err != nil {
			return Status{Offline: true}, fmt.Errorf("status of %s: %w", p.name, err)
		}
		ans[i] = b
	}
	return StatusFrom(ans[0], ans[1], ans[2], ans[3]), nil
}

// Close closes the link.
func (p *ESCPOS) Close() error { return p.c.Close() }

var errNoAnswer = errors.New("no answer")

// fileConn is a USB printer-class device (/dev/usb/lp0). Reads block until
// the printer answers, so they run in a goroutine the deadline abandons.
type fileConn struct {
	f       *os.File
	answers chan byte
}

func openFile(path string) (*fileConn, error) {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return nil, err
	}
	c := &fileConn{f: f, answers: make(chan byte, 16)}
	go func() {
		buf := make([]byte, 16)
		for {
			n, err := f.Read(buf)
			for _, b := range buf[:n] {
				select {
				case c.answers <- b:
				default:
				}
			}
			if err != nil && !errors.Is(err, io.EOF) {
				return
			}
			if n == 0 {
				time.Sleep(20 * time.Millisecond)
			}
		}
	}()
	return c, nil
}

func (c *fileConn) Write(b []byte) (int, error) { return c.f.Write(b) }
func (c *fileConn) Close() error                { return c.f.Close() }

func (c *fileConn) discard() {
	for {
		select {
		case <-c.answers:
		default:
			return
		}
	}
}

func (c *fileConn) readByte(timeout time.Duration) (byte, error) {
	select {
	case b := <-c.answers:
		return b, nil
	case <-time.After(timeout):
		return 0, errNoAnswer
	}
}

// serialConn is a printer on a serial port. go.bug.st/serial returns
// (0, nil) when a read times out.
type serialConn struct{ p serial.Port }

func openSerial(path string, baud int) (*serialConn, error) {
	p, err := serial.Open(path, &serial.Mode{BaudRate: baud, DataBits: 8, Parity: serial.NoParity, StopBits: serial.OneStopBit})
	if err != nil {
		return nil, err
	}
	return &serialConn{p: p}, nil
}

func (c *serialConn) Write(b []byte) (int, error) { return c.p.Write(b) }
func (c *serialConn) Close() error                { return c.p.Close() }

func (c *serialConn) discard() { c.p.ResetInputBuffer() }

func (c *serialConn) readByte(timeout time.Duration) (byte, error) {
	if err := c.p.SetReadTimeout(timeout); err != nil {
		return 0, err
	}
	var b [1]byte
	n, err := c.p.Read(b[:])
	if err != nil {
		return 0, err
	}
	if n == 0 {
		return 0, errNoAnswer
	}
	return b[0], nil
}

// tcpConn is a network printer (port 9100). It reconnects after an error.
type tcpConn struct {
	addr string
	c    net.Conn
}

func dialTCP(addr string) (*tcpConn, error) {
	t := &tcpConn{addr: addr}
	return t, t.dial()
}

func (t *tcpConn) dial() error {
	c, err := net.DialTimeout("tcp", t.addr, 3*time.Second)
	if err != nil {
		return err
	}
	t.c = c
	return nil
}

func (t *tcpConn) Write(b []byte) (int, error) {
	if t.c == nil {
		if err := t.dial(); err != nil {
			return 0, err
		}
	}
	t.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	n, err := t.c.Write(b)
	if err != nil {
		t.c.Close()
		t.c = nil
	}
	return n, err
}

func (t *tcpConn) discard() {}

func (t *tcpConn) readByte(timeout time.Duration) (byte, error) {
	if t.c == nil {
		return 0, errNoAnswer
	}
	t.c.SetReadDeadline(time.Now().Add(timeout))
	var b [1]byte
	if _, err := io.ReadFull(t.c, b[:]); err != nil {
		t.c.Close()
		t.c = nil
		return 0, err
	}
	return b[0], nil
}

func (t *tcpConn) Close() error {
	if t.c == nil {
		return nil
	}
	return t.c.Close()
}
