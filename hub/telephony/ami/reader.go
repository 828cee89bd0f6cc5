package ami

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync/atomic"
)

// Bounds of what the reader accepts; a packet beyond them is dropped.
const (
	DefaultMaxPacket  = 64 << 10 // bytes; Asterisk's longest events are a few KiB
	DefaultMaxHeaders = 512
	readBuffer        = 4 << 10 // bufio size: most packets fit in one read
	keepBuffer        = 16 << 10
)

// Reader reads AMI packets from Asterisk. It keeps one packet's bytes at a
// time: a packet longer than MaxPacket bytes or with more than MaxHeaders
// headers, or holding a line that is not "Key: Value", is read to its end,
// dropped, and logged (with its event name, never its values), and reading
// goes on with the next packet. Memory stays bounded whatever comes in: an
// endless packet is discarded as it arrives.
type Reader struct {
	br         *bufio.Reader
	maxPacket  int
	maxHeaders int
	log        *slog.Logger

	buf     []byte // the current packet's lines, line ends removed
	spans   []span // its headers, as offsets into buf
	dropped int
	kept    atomic.Int64 // Retained, as of the last packet
}

type span struct{ ks, ke, vs, ve int32 }

// NewReader returns a reader of r. Zero bounds take the defaults; log may
// be nil.
func NewReader(r io.Reader, maxPacket, maxHeaders int, log *slog.Logger) *Reader {
	if maxPacket <= 0 {
		maxPacket = DefaultMaxPacket
	}
	if maxHeaders <= 0 {
		maxHeaders = DefaultMaxHeaders
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	rd := &Reader{br: bufio.NewReaderSize(r, readBuffer), maxPacket: maxPacket, maxHeaders: maxHeaders, log: log}
	rd.keep()
	return rd
}

// ReadLine reads one line, without its line end: Asterisk's greeting.
func (r *Reader) ReadLine() (string, error) {
	var line []byte
	for {
		frag, err := r.br.ReadSlice('\n')
		if len(line)+len(frag) > r.maxPacket {
			return "", fmt.Errorf("greeting over %d bytes", r.maxPacket)
		}
		line = append(line, frag...)
		if err == nil {
			return string(bytes.TrimRight(line, "\r\n")), nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return "", err
		}
	}
}

// Dropped returns how many packets were dropped so far.
func (r *Reader) Dropped() int { return r.dropped }

// Retained returns the bytes the reader keeps between packets: its read
// buffer and the buffers it reuses for the next packet. It may be called
// while another goroutine reads.
func (r *Reader) Retained() int { return int(r.kept.Load()) }

// keep releases buffers a large packet grew, and records what is kept.
func (r *Reader) keep() {
	if cap(r.buf) > keepBuffer {
		r.buf = nil
	}
	if cap(r.spans) > keepBuffer/16 {
		r.spans = nil
	}
	r.kept.Store(int64(r.br.Size() + cap(r.buf) + cap(r.spans)*16))
}

// Next returns the next packet. Its error is the connection's (io.EOF,
// a reset): a packet cut by it is never returned.
func (r *Reader) Next() (Packet, error) {
	for {
		p, err := r.next()
		if err != nil || p != nil {
			return p, err
		}
	}
}

// next reads one packet; nil, nil when it was dropped or was only blank
// lines.
func (r *Reader) next() (Packet, error) {
	r.buf, r.spans = r.buf[:0], r.spans[:0]
	size := 0
	bad := "" // why the packet is being dropped
	for {
		start, n := len(r.buf), 0
		var first []byte
		for {
			frag, err := r.br.ReadSlice('\n')
			if n == 0 {
				first = frag
			}
			n += len(frag)
			size += len(frag)
			if bad == "" && size > r.maxPacket {
				bad = fmt.Sprintf("over %d bytes", r.maxPacket)
				r.buf = r.buf[:start]
			}
			if bad == "" {
				r.buf = append(r.buf, frag...)
			}
			if err == nil {
				break
			}
			if !errors.Is(err, bufio.ErrBufferFull) {
				if err == io.EOF && (size > 0 || len(r.spans) > 0) {
					err = io.ErrUnexpectedEOF
				}
				return nil, err
			}
		}
		if n <= 2 && (string(first) == "\r\n" || string(first) == "\n") {
			if bad != "" {
				return nil, r.drop(bad)
			}
			if len(r.spans) == 0 { // blank lines between packets
				r.buf, size = r.buf[:0], 0
				continue
			}
			return r.packet(), nil
		}
		if bad != "" {
			continue
		}
		line := bytes.TrimRight(r.buf[start:], "\r\n")
		r.buf = r.buf[:start+len(line)]
		colon := bytes.IndexByte(line, ':')
		switch {
		case colon <= 0:
			bad = "a line that is not a header"
		case len(r.spans) == r.maxHeaders:
			bad = fmt.Sprintf("more than %d headers", r.maxHeaders)
		default:
			vs := start + colon + 1
			if vs < len(r.buf) && r.buf[vs] == ' ' {
				vs++
			}
			r.spans = append(r.spans, span{int32(start), int32(start + colon), int32(vs), int32(len(r.buf))})
		}
	}
}

// packet builds the packet read: one string for all its bytes, one slice
// of headers into it.
func (r *Reader) packet() Packet {
	s := string(r.buf)
	p := make(Packet, len(r.spans))
	for i, sp := range r.spans {
		p[i] = Header{s[sp.ks:sp.ke], s[sp.vs:sp.ve]}
	}
	r.keep()
	return p
}

func (r *Reader) drop(why string) error {
	r.dropped++
	event := ""
	for _, sp := range r.spans {
		if strings.EqualFold(string(r.buf[sp.ks:sp.ke]), "Event") {
			event = string(r.buf[sp.vs:min(sp.ve, sp.vs+64)])
			break
		}
	}
	r.log.Warn("ami: dropped a packet from Asterisk", "why", why, "event", event, "dropped", r.dropped)
	r.keep()
	return nil
}
