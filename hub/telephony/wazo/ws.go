package wazo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// wsConn is one websocketd connection. Its frames, as websocketd's
// protocol (version 2) has them: the server's {"op", "code", "data"} and
// the client's {"op", "data"}.
type wsConn struct {
	c       *websocket.Conn
	timeout time.Duration

	wmu sync.Mutex // gorilla allows one writer at a time
}

type frame struct {
	Op   string          `json:"op"`
	Code int             `json:"code"`
	Data json.RawMessage `json:"data"`
	// Event is where websocket.md's prose puts an event's body; the server
	// (session.py, encode_event) sends it in data. Both are read.
	Event json.RawMessage `json:"event"`
}

// Close codes websocketd uses (websocket.md, "Status Code").
const (
	closeNoToken       = 4001
	closeAuthFailed    = 4002
	closeAuthExpired   = 4003
	closeProtocolError = 4004
)

// dial opens the websocket with the token in X-Auth-Token (websocketd
// reads it from there as from the ?token= of the documentation, and a
// header stays out of proxies' access logs) and protocol version 2.
func (a *Adapter) dial(ctx context.Context, token string) (*wsConn, error) {
	u := *a.base
	switch u.Scheme {
	case "https":
		u.Scheme = "wss"
	default:
		u.Scheme = "ws"
	}
	u.Path = "/api/websocketd/"
	u.RawQuery = "version=2"
	h := http.Header{}
	h.Set("X-Auth-Token", token)
	c, resp, err := a.cfg.Dialer.DialContext(ctx, u.String(), h)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("websocketd: %s: %w", resp.Status, err)
		}
		return nil, fmt.Errorf("websocketd: %w", err)
	}
	c.SetReadLimit(a.cfg.MaxFrame)
	w := &wsConn{c: c, timeout: a.cfg.ReadTimeout}
	c.SetPingHandler(func(data string) error {
		w.extend()
		w.wmu.Lock()
		defer w.wmu.Unlock()
		return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(5*time.Second))
	})
	w.extend()
	return w, nil
}

func (w *wsConn) extend() {
	w.c.SetReadDeadline(time.Now().Add(w.timeout))
}

func (w *wsConn) close() { w.c.Close() }

// send writes a client message.
func (w *wsConn) send(op string, data any) error {
	m := map[string]any{"op": op}
	if data != nil {
		m["data"] = data
	}
	b, err := json.Marshal(m)
	if err != nil {
		return err
	}
	w.wmu.Lock()
	defer w.wmu.Unlock()
	w.c.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return w.c.WriteMessage(websocket.TextMessage, b)
}

// read returns the next frame's bytes.
func (w *wsConn) read() ([]byte, error) {
	for {
		typ, b, err := w.c.ReadMessage()
		if err != nil {
			return nil, describeClose(err)
		}
		w.extend()
		if typ == websocket.TextMessage {
			return b, nil
		}
	}
}

// expect reads frames until one of op arrives, during the handshake (no
// event comes before start).
func (w *wsConn) expect(op string) (frame, error) {
	b, err := w.read()
	if err != nil {
		return frame{}, err
	}
	var f frame
	if err := json.Unmarshal(b, &f); err != nil {
		return frame{}, fmt.Errorf("websocketd: a frame that is not JSON during the handshake")
	}
	if f.Op != op || f.Code != 0 {
		return frame{}, fmt.Errorf("websocketd: got op %q code %d, want %q", f.Op, f.Code, op)
	}
	return f, nil
}

// handshake runs websocketd's protocol up to the event stream: its init,
// a subscribe for each event name (each answered), then start.
func (w *wsConn) handshake(names []string) error {
	f, err := w.expect("init")
	if err != nil {
		return err
	}
	var init struct {
		Version int `json:"version"`
	}
	if json.Unmarshal(f.Data, &init); init.Version != 2 {
		return fmt.Errorf("websocketd speaks protocol version %d, want 2", init.Version)
	}
	for _, name := range names {
		if err := w.send("subscribe", map[string]string{"event_name": name}); err != nil {
			return err
		}
		if _, err := w.expect("subscribe"); err != nil {
			return err
		}
	}
	if err := w.send("start", nil); err != nil {
		return err
	}
	_, err = w.expect("start")
	return err
}

// describeClose names websocketd's close codes.
func describeClose(err error) error {
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return err
	}
	switch ce.Code {
	case closeNoToken:
		return fmt.Errorf("websocketd closed the connection: no token (4001)")
	case closeAuthFailed:
		return fmt.Errorf("%w: websocketd closed the connection: authentication failed (4002)", errAuth)
	case closeAuthExpired:
		return fmt.Errorf("websocketd closed the connection: the token expired (4003)")
	case closeProtocolError:
		return fmt.Errorf("websocketd closed the connection: protocol error (4004)")
	}
	return err
}
