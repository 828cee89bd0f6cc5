package server_test

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// The recorded Asterisk session (shared/fixtures/ami) played to a hub: a
// small Asterisk that answers the hub's login and lists as the recording's
// Asterisk did, then sends the recorded events.

var fixLine = regexp.MustCompile(`^\s*\d+\.\d+ (<<|>>|##)(?: (.*))?$`)

// recordedAsterisk reads the recording: the greeting, the items of the
// first QueueStatus (the queue and its two members, no call), and every
// event Asterisk sent after it but the items of list responses.
func recordedAsterisk(t testing.TB) (greeting string, members []string, events []string) {
	t.Helper()
	dir, _ := os.Getwd()
	for ; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		if filepath.Dir(dir) == dir {
			t.Fatal("no go.mod above the test")
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "..", "shared", "fixtures", "ami", "asterisk-22.10.1-queue.txt"))
	if err != nil {
		t.Fatalf("the recorded Asterisk session is missing (it lives in shared/fixtures/ami beside the repository): %v", err)
	}
	var packets [][]string
	var cur []string
	for i, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		m := fixLine.FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("fixture line %d: %q", i+1, l)
		}
		if m[1] != "<<" {
			continue
		}
		if greeting == "" {
			greeting = m[2]
			continue
		}
		if m[2] == "" {
			packets = append(packets, cur)
			cur = nil
			continue
		}
		cur = append(cur, m[2])
	}
	lists := map[string]bool{"probe-3": true, "probe-5": true, "probe-6": true, "probe-7": true, "probe-12": true, "probe-16": true}
	started := false
	for _, p := range packets {
		text := strings.Join(p, "\r\n") + "\r\n\r\n"
		event, id := "", ""
		for _, h := range p {
			if v, ok := strings.CutPrefix(h, "Event: "); ok {
				event = v
			}
			if v, ok := strings.CutPrefix(h, "ActionID: "); ok {
				id = v
			}
		}
		switch {
		case id == "probe-3" && (event == "QueueParams" || event == "QueueMember"):
			members = append(members, text)
		case id == "probe-3" && event == "QueueStatusComplete":
			started = true
		case started && event != "" && !lists[id]:
			events = append(events, text)
		}
	}
	return greeting, members, events
}

// asterisk is the small Asterisk: it records the actions the hub sends.
type asterisk struct {
	t       testing.TB
	ln      net.Listener
	replay  chan []string // events to send on the current connection
	mu      sync.Mutex
	actions []string // "QueuePause Local/100@agents/n true hors ligne"
	conns   int
}

func startAsterisk(t testing.TB) *asterisk {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := &asterisk{t: t, ln: ln, replay: make(chan []string, 16)}
	greeting, members, _ := recordedAsterisk(t)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			a.mu.Lock()
			a.conns++
			a.mu.Unlock()
			go a.serve(c, greeting, members)
		}
	}()
	t.Cleanup(func() { ln.Close() })
	return a
}

func (a *asterisk) addr() string { return a.ln.Addr().String() }

func (a *asterisk) pauses() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, s := range a.actions {
		if strings.HasPrefix(s, "QueuePause") {
			out = append(out, s)
		}
	}
	return out
}

func (a *asterisk) serve(c net.Conn, greeting string, members []string) {
	defer c.Close()
	var wmu sync.Mutex
	send := func(s string) {
		wmu.Lock()
		defer wmu.Unlock()
		c.Write([]byte(s))
	}
	send(greeting + "\r\n")
	go func() {
		for evs := range a.replay {
			for _, e := range evs {
				send(e)
			}
		}
	}()
	br := bufio.NewReader(c)
	for {
		h := map[string]string{}
		for {
			l, err := br.ReadString('\n')
			if err != nil {
				return
			}
			l = strings.TrimRight(l, "\r\n")
			if l == "" {
				break
			}
			k, v, _ := strings.Cut(l, ": ")
			h[k] = v
		}
		if len(h) == 0 {
			continue
		}
		id := h["ActionID"]
		reply := func(lines ...string) {
			send("Response: Success\r\nActionID: " + id + "\r\n" + strings.Join(lines, "\r\n") + "\r\n\r\n")
		}
		switch act := h["Action"]; act {
		case "Login":
			reply("Message: Authentication accepted")
		case "QueueStatus":
			reply("EventList: start", "Message: Queue status will follow")
			for _, m := range members {
				send(strings.Replace(m, "ActionID: probe-3", "ActionID: "+id, 1))
			}
			send(fmt.Sprintf("Event: QueueStatusComplete\r\nActionID: %s\r\nEventList: Complete\r\nListItems: %d\r\n\r\n", id, len(members)))
		case "CoreShowChannels":
			reply("EventList: start", "Message: Channels will follow")
			send("Event: CoreShowChannelsComplete\r\nActionID: " + id + "\r\nEventList: Complete\r\nListItems: 0\r\n\r\n")
		case "Ping":
			reply("Ping: Pong")
		default:
			a.mu.Lock()
			a.actions = append(a.actions, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", act, h["Interface"], h["Paused"], h["Reason"])))
			a.mu.Unlock()
			reply("Message: " + act + " done")
		}
	}
}
