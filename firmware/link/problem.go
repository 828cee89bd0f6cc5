package link

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	paho "github.com/eclipse/paho.mqtt.golang"
	"github.com/eclipse/paho.mqtt.golang/packets"
)

// Problem is why a device cannot work with the hub, as its page, its
// display and its log say it: a person at the device must be able to tell
// a cable from a wrong secret from a wrong site.
type Problem string

// What can keep a device from the hub.
const (
	NoProblem          Problem = ""
	ProblemUnreachable Problem = "unreachable" // no answer at --hub's address
	ProblemCredentials Problem = "credentials" // the broker refuses the device id or secret
	ProblemRefused     Problem = "refused"     // the broker refuses the connection for another reason
	ProblemSite        Problem = "site"        // connected, but the site's topics are refused: is --site the hub's?
)

// Problem says what keeps the link from the hub now; NoProblem once it is
// connected and subscribed, or before its first attempt ends.
func (l *Link) Problem() Problem {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.problem
}

// SiteWait is how long a new session waits for its site's configuration
// before the link says the site is unknown: a broker that takes the
// subscriptions of a site it does not serve (Mosquitto does, and delivers
// nothing) leaves the device connected and empty.
var SiteWait = 10 * time.Second

// awaitSite starts a session's wait for the site's configuration.
func (l *Link) awaitSite() {
	l.mu.Lock()
	l.sessions++
	n := l.sessions
	l.heard = false
	p := l.problem
	l.mu.Unlock()
	if p != ProblemSite {
		l.setProblem(NoProblem, nil)
	}
	time.AfterFunc(SiteWait, func() {
		l.mu.Lock()
		late := l.sessions == n && !l.heard && l.connected
		l.mu.Unlock()
		if late {
			l.setProblem(ProblemSite, fmt.Errorf("no configuration for site %q within %s", l.o.Site, SiteWait))
		}
	})
}

// siteHeard records that the site's configuration came: the site is right.
func (l *Link) siteHeard() {
	l.mu.Lock()
	l.heard = true
	p := l.problem
	l.mu.Unlock()
	if p == ProblemSite {
		l.setProblem(NoProblem, nil)
	}
}

// onNotification classifies paho's connection attempts.
func (l *Link) onNotification(_ paho.Client, n paho.ConnectionNotification) {
	switch n := n.(type) {
	case paho.ConnectionNotificationBrokerFailed:
		l.setProblem(ProblemUnreachable, n.Reason)
	case paho.ConnectionNotificationFailed:
		l.setProblem(classify(n.Reason), n.Reason)
	}
}

// classify names the problem a failed connection attempt shows.
func classify(err error) Problem {
	switch {
	case errors.Is(err, packets.ErrorRefusedBadUsernameOrPassword), errors.Is(err, packets.ErrorRefusedNotAuthorised):
		return ProblemCredentials
	case errors.Is(err, packets.ErrorRefusedIDRejected), errors.Is(err, packets.ErrorRefusedBadProtocolVersion),
		errors.Is(err, packets.ErrorRefusedServerUnavailable):
		return ProblemRefused
	}
	return ProblemUnreachable
}

// setProblem records what keeps the link from the hub; a change is logged
// once (not at every retry) and told to the device's parts.
func (l *Link) setProblem(p Problem, err error) {
	l.mu.Lock()
	changed := l.problem != p
	l.problem = p
	up := l.connected
	fns := append([]func(bool){}, l.onConn...)
	l.mu.Unlock()
	if !changed {
		return
	}
	if p != NoProblem {
		l.log.Error(p.Explain("en", l.o.Broker, l.o.Site), "err", err)
	}
	for _, fn := range fns {
		fn(up)
	}
}

// Explain says the problem in lang ("fr" or "en"), with what to check;
// broker and site, when known, are named.
func (p Problem) Explain(lang, broker, site string) string {
	fr := lang != "en"
	switch p {
	case ProblemUnreachable:
		at := ""
		if broker != "" {
			at = " (" + broker + ")"
		}
		if fr {
			return "Serveur injoignable" + at + " : vérifiez le réseau et l'adresse --hub"
		}
		return "hub unreachable" + at + ": check the network and --hub"
	case ProblemCredentials:
		if fr {
			return "Identifiants refusés par le serveur : vérifiez --device et le secret de l'appareil"
		}
		return "wrong credentials: the hub refuses this device id or secret (check --device and the secret)"
	case ProblemRefused:
		if fr {
			return "Connexion refusée par le serveur"
		}
		return "the hub refuses the connection"
	case ProblemSite:
		if fr {
			return fmt.Sprintf("Site inconnu du serveur : %q (vérifiez --site)", site)
		}
		return fmt.Sprintf("unknown site %q: the hub refuses its topics (check --site)", site)
	}
	return ""
}

// CheckBroker says what is wrong with a --hub address: an MQTT URL
// (tcp://, ssl://, mqtt://, mqtts://, ws://, wss://) with a host and a port.
func CheckBroker(broker string) error {
	example := "tcp://hub.mairie.local:1883 (or ssl://hub.mairie.local:8883 with TLS)"
	u, err := url.Parse(broker)
	if err != nil || u.Host == "" {
		return fmt.Errorf("--hub %q is not an MQTT address such as %s", broker, example)
	}
	switch strings.ToLower(u.Scheme) {
	case "tcp", "mqtt", "ssl", "tls", "mqtts", "ws", "wss":
	case "http", "https":
		return fmt.Errorf("--hub %q is the hub's web address; devices use its MQTT address, such as %s", broker, example)
	default:
		return fmt.Errorf("--hub %q: unknown scheme %q; use an MQTT address such as %s", broker, u.Scheme, example)
	}
	if u.Port() == "" {
		return fmt.Errorf("--hub %q has no port: %s", broker, example)
	}
	return nil
}
