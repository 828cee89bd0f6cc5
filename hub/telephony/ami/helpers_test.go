package ami

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"guichet/internal/logbuf"
)

const fixtureName = "asterisk-22.10.1-queue.txt"

// fixturePath finds the recorded session: shared/ lies beside the
// repository's root (CI puts it beside the clone). A missing fixture fails
// the test: it must never be skipped silently.
func fixturePath(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the package directory: cannot find the repository root")
		}
		dir = parent
	}
	p := filepath.Join(dir, "..", "shared", "fixtures", "ami", fixtureName)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("the recorded Asterisk session is missing (%v); it lives in shared/fixtures/ami beside the repository", err)
	}
	return p
}

// fixLine is one line of the recording: dir is "<<" (Asterisk), ">>" (the
// client) or "##" (a comment).
type fixLine struct {
	dir, text string
}

var fixRE = regexp.MustCompile(`^\s*\d+\.\d+ (<<|>>|##)(?: (.*))?$`)

func loadFixture(t testing.TB) []fixLine {
	t.Helper()
	b, err := os.ReadFile(fixturePath(t))
	if err != nil {
		t.Fatal(err)
	}
	var out []fixLine
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		m := fixRE.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("fixture line %d is not of the recording's format: %q", i+1, l)
		}
		out = append(out, fixLine{m[1], m[2]})
	}
	return out
}

// asteriskBytes returns everything Asterisk sent, as on the wire.
func asteriskBytes(lines []fixLine) []byte {
	var b []byte
	for _, l := range lines {
		if l.dir == "<<" {
			b = append(b, l.text...)
			b = append(b, '\r', '\n')
		}
	}
	return b
}

// asteriskPackets returns the packets Asterisk sent (the greeting apart).
func asteriskPackets(t testing.TB, lines []fixLine) []Packet {
	t.Helper()
	r := NewReader(bytes.NewReader(asteriskBytes(lines)), 0, 0, nil)
	if _, err := r.ReadLine(); err != nil {
		t.Fatal(err)
	}
	var ps []Packet
	for {
		p, err := r.Next()
		if err == io.EOF {
			return ps
		}
		if err != nil {
			t.Fatal(err)
		}
		ps = append(ps, p)
	}
}

var actionIDRE = regexp.MustCompile(`(?m)^ActionID: ([^\r\n]*)`)

// replay serves the recording on one connection: it sends Asterisk's lines,
// and at each of the client's packets reads what the client sent and
// compares it, byte for byte, with the recording, the ActionID apart: the
// client's own ActionIDs replace the recording's in what follows. got
// receives the number of client packets read so far.
func replay(t *testing.T, c net.Conn, lines []fixLine, chunk int, got chan<- int) {
	defer c.Close()
	br := bufio.NewReader(c)
	ids := map[string]string{} // recorded ActionID → the client's
	rewrite := func(s string) string {
		return actionIDRE.ReplaceAllStringFunc(s, func(m string) string {
			if v, ok := ids[strings.TrimPrefix(m, "ActionID: ")]; ok {
				return "ActionID: " + v
			}
			return m
		})
	}
	n := 0
	for i := 0; i < len(lines); {
		var out strings.Builder
		for ; i < len(lines) && lines[i].dir != ">>"; i++ {
			if lines[i].dir == "<<" {
				out.WriteString(rewrite(lines[i].text) + "\r\n")
			}
		}
		if err := writeChunks(c, []byte(out.String()), chunk); err != nil {
			t.Errorf("replay: write: %v", err)
			return
		}
		if i == len(lines) {
			return
		}
		var want strings.Builder
		for ; i < len(lines) && lines[i].dir != "<<"; i++ {
			if lines[i].dir == ">>" {
				want.WriteString(lines[i].text + "\r\n")
				if lines[i].text == "" {
					i++
					break
				}
			}
		}
		gotPkt, err := readRaw(br)
		if err != nil {
			t.Errorf("replay: the client sent nothing where the recording has\n%s(%v)", want.String(), err)
			return
		}
		rec := actionIDRE.FindStringSubmatch(strings.ReplaceAll(want.String(), "\r", ""))
		cli := actionIDRE.FindStringSubmatch(strings.ReplaceAll(gotPkt, "\r", ""))
		if rec == nil || cli == nil {
			t.Errorf("replay: no ActionID in\n%s\nor\n%s", want.String(), gotPkt)
			return
		}
		ids[rec[1]] = cli[1]
		if w := rewrite(want.String()); gotPkt != w {
			t.Errorf("replay: the client sent\n%q\nthe recording has\n%q", gotPkt, w)
		}
		n++
		if got != nil {
			got <- n
		}
	}
}

func writeChunks(c net.Conn, b []byte, chunk int) error {
	if chunk <= 0 {
		_, err := c.Write(b)
		return err
	}
	for len(b) > 0 {
		n := min(chunk, len(b))
		if _, err := c.Write(b[:n]); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// readRaw reads one packet as the client wrote it.
func readRaw(br *bufio.Reader) (string, error) {
	var b strings.Builder
	for {
		l, err := br.ReadString('\n')
		b.WriteString(l)
		if err != nil {
			return b.String(), err
		}
		if l == "\r\n" {
			return b.String(), nil
		}
	}
}

// listen starts a TCP server on loopback that hands each connection to
// serve, in order; it stops with the test.
func listen(t *testing.T, serve func(n int, c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for n := 1; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				serve(n, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// srv is the Asterisk side of a scripted connection.
type srv struct {
	t *testing.T
	c net.Conn
	r *Reader
}

func newSrv(t *testing.T, c net.Conn) *srv {
	return &srv{t: t, c: c, r: NewReader(c, 0, 0, nil)}
}

func (s *srv) send(text string) {
	if _, err := io.WriteString(s.c, strings.ReplaceAll(text, "\n", "\r\n")); err != nil {
		s.t.Logf("srv: write: %v", err)
	}
}

// read returns the client's next action; nil once the client is gone.
func (s *srv) read() Packet {
	p, err := s.r.Next()
	if err != nil {
		return nil
	}
	return p
}

// expect reads the client's next action and checks its name.
func (s *srv) expect(action string) Packet {
	p := s.read()
	if p == nil {
		s.t.Errorf("srv: the client left before %s", action)
		return nil
	}
	if got := p.Get("Action"); got != action {
		s.t.Errorf("srv: the client sent %s, want %s", got, action)
	}
	return p
}

func (s *srv) reply(req Packet, lines ...string) {
	s.send(fmt.Sprintf("Response: Success\nActionID: %s\n%s\n", req.Get("ActionID"), joinLines(lines)))
}

// login greets the client and accepts its Login.
func (s *srv) login() {
	s.send("Asterisk Call Manager/11.0.0\n")
	if req := s.expect("Login"); req != nil {
		s.reply(req, "Message: Authentication accepted")
	}
}

// list answers a list action with these items (each "Event: …" lines) and
// its Complete event.
func (s *srv) list(req Packet, complete string, items ...string) {
	id := req.Get("ActionID")
	var b strings.Builder
	fmt.Fprintf(&b, "Response: Success\nActionID: %s\nEventList: start\nMessage: will follow\n\n", id)
	for _, it := range items {
		fmt.Fprintf(&b, "%s\nActionID: %s\n\n", strings.TrimRight(it, "\n"), id)
	}
	fmt.Fprintf(&b, "Event: %s\nActionID: %s\nEventList: Complete\nListItems: %d\n\n", complete, id, len(items))
	s.send(b.String())
}

// resync answers the adapter's QueueStatus and CoreShowChannels.
func (s *srv) resync(status []string, channels []string) {
	if req := s.expect("QueueStatus"); req != nil {
		s.list(req, "QueueStatusComplete", status...)
	}
	if req := s.expect("CoreShowChannels"); req != nil {
		s.list(req, "CoreShowChannelsComplete", channels...)
	}
}

func joinLines(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}

// testLog returns a logger writing to a buffer the test can read.
func testLog() (*slog.Logger, *logbuf.Buffer) {
	var b logbuf.Buffer
	return slog.New(slog.NewTextHandler(&b, &slog.HandlerOptions{Level: slog.LevelDebug})), &b
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}
