package link_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// A device given a wrong secret, a wrong site or an address nobody answers
// at says which, once, in its log and to its parts (its page, its display),
// on both brokers.
func TestALinkSaysWhyItCannotWork(t *testing.T) {
	for _, mosq := range []bool{false, true} {
		name := "embedded"
		if mosq {
			name = "mosquitto"
		}
		t.Run(name, func(t *testing.T) {
			s := sitetest.Start(t, sitetest.Options{Mosquitto: mosq})
			secret := s.AddDevice("kiosk-p", api.RoleKiosk, "")
			open := func(o link.Options) *link.Link {
				l, err := link.Open(o)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { l.Close() })
				return l
			}
			want := func(l *link.Link, p link.Problem) {
				t.Helper()
				deadline := time.Now().Add(15 * time.Second)
				for l.Problem() != p {
					if time.Now().After(deadline) {
						t.Fatalf("problem %q, want %q", l.Problem(), p)
					}
					time.Sleep(20 * time.Millisecond)
				}
				if l.Connected() && p != link.ProblemSite { // Mosquitto takes a wrong site's subscriptions
					t.Fatalf("%s: connected", p)
				}
			}

			wrong := s.LinkOptions("kiosk-p", "not-the-secret-at-all-0123456789", api.RoleKiosk, t.TempDir())
			want(open(wrong), link.ProblemCredentials)
			if strings.Count(s.Logs.String(), "wrong credentials") != 1 {
				t.Fatalf("the problem is logged once, not at every retry:\n%s", s.Logs.String())
			}

			other := s.LinkOptions("kiosk-p", secret, api.RoleKiosk, t.TempDir())
			other.Site = "autre-mairie"
			lo := open(other)
			want(lo, link.ProblemSite)
			lo.Close() // one client id a device: it would take the good link's session

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			addr := ln.Addr().String()
			ln.Close() // nobody answers there now
			away := s.LinkOptions("kiosk-p", secret, api.RoleKiosk, t.TempDir())
			away.Broker = "tcp://" + addr
			want(open(away), link.ProblemUnreachable)

			// The right settings: no problem, connected.
			good := open(s.LinkOptions("kiosk-p", secret, api.RoleKiosk, t.TempDir()))
			sitetest.Eventually(t, 15*time.Second, "connected", good.Connected)
			if p := good.Problem(); p != link.NoProblem {
				t.Fatalf("connected with problem %q", p)
			}
		})
	}
}

func TestCheckBrokerRefusesWhatIsNotAnMQTTAddress(t *testing.T) {
	for _, ok := range []string{"tcp://hub.mairie.local:1883", "ssl://10.0.0.2:8883", "mqtt://hub:1883", "wss://hub:443"} {
		if err := link.CheckBroker(ok); err != nil {
			t.Errorf("%s refused: %v", ok, err)
		}
	}
	for bad, says := range map[string]string{
		"http://hub.mairie.local:8080": "web address",
		"https://hub.mairie.local":     "web address",
		"hub.mairie.local:1883":        "not an MQTT address",
		"tcp://hub.mairie.local":       "no port",
		"ftp://hub:21":                 "unknown scheme",
	} {
		err := link.CheckBroker(bad)
		if err == nil || !strings.Contains(err.Error(), says) || !strings.Contains(err.Error(), "tcp://hub.mairie.local:1883") {
			t.Errorf("%s: %v, want %q and an example", bad, err, says)
		}
	}
}
