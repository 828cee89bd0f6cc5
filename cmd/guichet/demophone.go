//go:build !device

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"guichet/hub/config"
	"guichet/hub/crm"
	"guichet/hub/queue"
	"guichet/internal/sim"
	"guichet/internal/stdwebhook"
)

// The simulated day's telephone system and citizens. The demo's calls come
// from a simulated hosted telephony (sim.Switchboard) that posts signed
// webhooks to the hub at config.WebhookPath, as a town's provider would:
// they wait in the same queue as the visitors, ring the agent whose call
// next picked them, and are logged. Its citizen file holds a few hundred
// generated citizens; some callers are among them, some are not, and
// agents attach some visits to them.

// demoCitizens is how many citizens the simulated day's file holds.
const demoCitizens = 300

// demoPhone is the simulated day's telephony: its site file section, the
// secret it shares with the hub, and the listener of its action URL.
type demoPhone struct {
	tel    *config.TelephonyConf
	secret stdwebhook.Secret
	ln     net.Listener
}

// newDemoPhone sets the simulated telephony up before the hub starts: a
// queue per service that takes calls, every agent a member, the secret in
// a file of the data directory (mode 0600), the action URL on loopback.
func newDemoPhone(site queue.Site, data string, speed float64) (*demoPhone, error) {
	if err := os.MkdirAll(data, 0o750); err != nil {
		return nil, err
	}
	p := &demoPhone{secret: stdwebhook.NewSecret()}
	secretFile := filepath.Join(data, "telephony-webhook.secret")
	if err := os.WriteFile(secretFile, []byte(p.secret.String()+"\n"), 0o600); err != nil {
		return nil, fmt.Errorf("the simulated telephony's secret: %w", err)
	}
	var err error
	if p.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, fmt.Errorf("the simulated telephony's action URL: %w", err)
	}
	p.tel = &config.TelephonyConf{Adapter: "webhook", Queues: map[string]string{}, Members: map[string]string{},
		Webhook: &config.WebhookConf{SecretFile: secretFile, ActionURL: "http://" + p.ln.Addr().String() + "/actions"}}
	// The hub counts waits in real time: a caller who gave up after a
	// simulated minute waited a sixtieth of it at ×60.
	after := config.Duration(max(config.DefaultCallbackAfter/time.Duration(max(speed, 1)), time.Second))
	p.tel.CallbackAfter = &after
	for _, s := range site.Services {
		if s.Takes(queue.Phone) {
			p.tel.Queues["file-"+s.ID] = s.ID
		}
	}
	// The members: the agents the demo seats at a counter that takes calls.
	for id, a := range sim.Staff(&site) {
		if c := counterOf(site, id); a != "" && c != nil && c.Takes(queue.Phone) {
			p.tel.Members["poste-"+a] = a
		}
	}
	return p, nil
}

// start serves the switchboard's action URL and plays its callers'
// patience; its callers' numbers are, one in two, a citizen's of the file
// (written the ways a telephony sends them), else a stranger's, now and
// then withheld.
func (p *demoPhone) start(ctx context.Context, hubURL string, speed float64, seed uint64, citizens []crm.Citizen) *sim.Switchboard {
	queues, agents := map[string]string{}, map[string]string{}
	for q, s := range p.tel.Queues {
		queues[s] = q
	}
	for m, a := range p.tel.Members {
		agents[m] = a
	}
	sw := sim.NewSwitchboard(sim.SwitchboardOptions{HubURL: hubURL + config.WebhookPath, Secret: p.secret, Queues: queues, Agents: agents,
		Speed: speed, Seed: seed, Number: func(r *rand.Rand) string {
			switch x := r.Float64(); {
			case x < 0.05:
				return ""
			case x < 0.55 && len(citizens) > 0:
				c := citizens[r.IntN(len(citizens))]
				return sim.Rewrite(r, c.Phones[0])
			default:
				return sim.Mobile(r)
			}
		}})
	srv := &http.Server{Handler: sw, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(p.ln)
	go sw.Run(ctx)
	go func() {
		<-ctx.Done()
		srv.Close()
	}()
	return sw
}

// seedCitizens fills a new citizen file with generated citizens (once per
// data directory: a marker file says it was done) and returns them.
func (ds *demoSite) seedCitizens(ctx context.Context, seed uint64) ([]crm.Citizen, error) {
	marker := filepath.Join(ds.data, "demo-citizens")
	people := sim.People(seed, demoCitizens)
	if _, err := os.Stat(marker); err == nil {
		return people, nil // the numbers match the file's: same seed
	}
	v := crm.Viewer{ID: "demo", Role: crm.RoleSystem}
	for i, c := range people {
		got, _, err := ds.s.Citizens.CreateCitizen(ctx, v, c)
		if err != nil {
			return nil, fmt.Errorf("demo citizen %d: %w", i, err)
		}
		people[i] = got
	}
	if err := os.WriteFile(marker, []byte(fmt.Sprintf("seed %d\n", seed)), 0o600); err != nil {
		return nil, err
	}
	ds.log.Info("demo: citizen file filled", "citizens", len(people))
	return people, nil
}

// demoFiles is what the simulated agents do with the citizen file and the
// telephony from their console.
type demoFiles struct {
	ds       *demoSite
	mu       sync.Mutex
	r        *rand.Rand
	citizens []crm.Citizen
}

func (f *demoFiles) viewer(counter string) crm.Viewer {
	return crm.Viewer{ID: f.ds.staff[counter], Role: crm.RoleAgent, Addr: "demo-desk-" + counter}
}

// Attach attaches the ticket at counter to a citizen of the file.
func (f *demoFiles) Attach(ctx context.Context, counter, ticket string) error {
	if f == nil {
		return errors.New("no citizen file")
	}
	f.mu.Lock()
	if len(f.citizens) == 0 {
		f.mu.Unlock()
		return errors.New("no citizen in the file")
	}
	c := f.citizens[f.r.IntN(len(f.citizens))]
	f.mu.Unlock()
	return f.ds.s.Citizens.Attach(ctx, f.viewer(counter), ticket, c.ID)
}

// CallBack calls back, from the agent's phone, the caller of the callback
// ticket the counter holds.
func (f *demoFiles) CallBack(ctx context.Context, counter string) error {
	if f == nil || f.ds.s.Calls == nil {
		return errors.New("no telephony")
	}
	_, err := f.ds.s.Calls.CallBack(ctx, f.viewer(counter), counter)
	return err
}

func counterOf(site queue.Site, id string) *queue.Counter {
	for i := range site.Counters {
		if site.Counters[i].ID == id {
			return &site.Counters[i]
		}
	}
	return nil
}
