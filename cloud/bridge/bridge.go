// Package bridge forwards the hub's events to a central MQTT broker — a
// town's or an agglomeration's Mosquitto, EMQX or VerneMQ cluster where
// many sites meet — as CloudEvents at QoS 1 on the site's own topics
// (guichet/v1/{site}/events/{type}, after an optional prefix), with the
// hub's own credentials and TLS.
//
// It is a destination of cloud's outbox, not an MQTT bridge of the local
// broker: the events come from the log, from the bridge's durable cursor,
// and the cursor moves only once the central broker acknowledged them
// (PUBACK). A cut, a restart of the central broker or of the hub loses
// nothing; what was in flight is sent again (a consumer de-duplicates by
// the CloudEvent id).
package bridge

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"

	"guichet/cloud"
	"guichet/hub/api"
	"guichet/internal/pahostore"
)

// Options configures a bridge.
type Options struct {
	URL      string // tcp://central:1883, ssl://central:8883
	Username string
	Password string
	TLS      *tls.Config // with an ssl:// URL; the system's store if nil
	ClientID string      // "guichet-{site}" if empty: the central broker knows the site by it
	Topics   api.Topics  // the site's
	Prefix   string      // put before the site's topics, "agglo/"
	Timeout  time.Duration
	Log      *slog.Logger
}

// Bridge is the hub's client on the central broker.
type Bridge struct {
	client  paho.Client
	topics  api.Topics
	prefix  string
	timeout time.Duration
	host    string
}

// New returns a bridge and starts connecting (in the background: a
// central broker that is down does not stop the hub).
func New(o Options) (*Bridge, error) {
	u, err := url.Parse(o.URL)
	if err != nil || u.Host == "" {
		return nil, errors.New("bridge: the URL must be tcp://host:port or ssl://host:port")
	}
	switch u.Scheme {
	case "mqtt":
		u.Scheme = "tcp"
	case "mqtts", "tls":
		u.Scheme = "ssl"
	}
	if o.ClientID == "" {
		o.ClientID = "guichet-" + o.Topics.Site
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
	log := o.Log.With("destination", "bridge", "broker", u.Host)
	opts := paho.NewClientOptions().AddBroker(u.String()).SetClientID(o.ClientID).
		SetUsername(o.Username).SetPassword(o.Password).
		// The cursor resends what was not acknowledged: paho keeps nothing.
		SetCleanSession(true).SetStore(pahostore.Null{}).SetOrderMatters(false).
		SetAutoReconnect(true).SetConnectRetry(true).SetConnectRetryInterval(time.Second).SetMaxReconnectInterval(30 * time.Second).
		SetKeepAlive(20 * time.Second).SetConnectTimeout(o.Timeout).SetWriteTimeout(o.Timeout).
		SetOnConnectHandler(func(paho.Client) { log.Info("connected to the central broker") }).
		SetConnectionLostHandler(func(_ paho.Client, err error) { log.Warn("central broker connection lost", "err", err) })
	if u.Scheme == "ssl" {
		t := o.TLS
		if t == nil {
			t = &tls.Config{MinVersion: tls.VersionTLS12}
		}
		opts.SetTLSConfig(t)
	}
	b := &Bridge{client: paho.NewClient(opts), topics: o.Topics, prefix: o.Prefix, timeout: o.Timeout, host: u.Host}
	b.client.Connect() // retried until Close
	return b, nil
}

// Topic is where an event of type typ goes on the central broker.
func (b *Bridge) Topic(typ string) string { return b.prefix + b.topics.Event(typ) }

// Send publishes evs at QoS 1 and waits for every acknowledgement.
func (b *Bridge) Send(ctx context.Context, evs []cloud.Event) error {
	if !b.client.IsConnectionOpen() {
		return fmt.Errorf("%s: not connected", b.host)
	}
	toks := make([]paho.Token, len(evs))
	for i, ev := range evs {
		toks[i] = b.client.Publish(b.Topic(ev.Type), 1, false, ev.JSON)
	}
	deadline := time.NewTimer(b.timeout)
	defer deadline.Stop()
	for i, t := range toks {
		select {
		case <-t.Done():
			if err := t.Error(); err != nil {
				return fmt.Errorf("%s: publish event %d: %w", b.host, evs[i].Seq, err)
			}
		case <-deadline.C:
			return fmt.Errorf("%s: event %d not acknowledged within %s", b.host, evs[i].Seq, b.timeout)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// Close disconnects.
func (b *Bridge) Close() error {
	b.client.Disconnect(250)
	return nil
}

// ParseTopicPrefix checks a prefix: MQTT topic levels without wildcards,
// ending with "/".
func ParseTopicPrefix(p string) (string, error) {
	if p == "" {
		return "", nil
	}
	if strings.ContainsAny(p, "+#\x00") {
		return "", errors.New("bridge: a topic prefix holds no wildcard")
	}
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p, nil
}
