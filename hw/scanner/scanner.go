// Package scanner reads a barcode or QR code scanner on a serial port (a USB
// scanner in CDC-ACM mode shows as /dev/ttyACM0): one code per line.
package scanner

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"go.bug.st/serial"
)

// MaxCode is the longest code accepted; longer lines are dropped.
const MaxCode = 64

// Scanner is a scanner on a serial port.
type Scanner struct {
	Path string
	Baud int
	Log  *slog.Logger
}

// Parse reads "serial:/dev/ttyACM0?baud=9600".
func Parse(spec string) (*Scanner, error) {
	rest, ok := strings.CutPrefix(spec, "serial:")
	if !ok || rest == "" {
		return nil, fmt.Errorf("scanner %q: write serial:/dev/ttyACM0?baud=9600", spec)
	}
	path, query, _ := strings.Cut(rest, "?")
	s := &Scanner{Path: path, Baud: 9600}
	if b, ok := strings.CutPrefix(query, "baud="); ok {
		n, err := strconv.Atoi(b)
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("scanner %q: baud %q", spec, b)
		}
		s.Baud = n
	}
	return s, nil
}

// Clean keeps what a code may hold: printable characters (letters, marks,
// digits, punctuation, symbols, the ASCII space), without the line's ends,
// at most MaxCode bytes of them. Control and format characters (escape
// sequences, zero-width and bidirectional marks) are dropped; a line that
// is not UTF-8 is a misread, refused.
func Clean(line string) (string, bool) {
	if !utf8.ValidString(line) {
		return "", false
	}
	code := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r == ' ' || unicode.IsPrint(r) {
			return r
		}
		return -1
	}, line))
	if code == "" || len(code) > MaxCode {
		return "", false
	}
	return code, true
}

// Run sends each code read to codes until ctx ends; it opens the port
// again after an error (the scanner unplugged and plugged back).
func (s *Scanner) Run(ctx context.Context, codes chan<- string) {
	for ctx.Err() == nil {
		if err := s.read(ctx, codes); err != nil && ctx.Err() == nil {
			s.Log.Warn("scanner", "path", s.Path, "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(2 * time.Second):
			}
		}
	}
}

func (s *Scanner) read(ctx context.Context, codes chan<- string) error {
	p, err := serial.Open(s.Path, &serial.Mode{BaudRate: s.Baud})
	if err != nil {
		return err
	}
	defer p.Close()
	go func() { <-ctx.Done(); p.Close() }()
	r := bufio.NewReaderSize(p, 256)
	for {
		line, err := r.ReadString('\n')
		if err != nil && (ctx.Err() != nil || len(line) == 0) {
			return err
		}
		if strings.HasSuffix(line, "\n") {
			code, ok := Clean(line)
			if !ok {
				s.Log.Warn("scanner: unreadable code dropped", "bytes", len(line))
				continue
			}
			select {
			case codes <- code:
			case <-ctx.Done():
				return nil
			}
		}
	}
}
