package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"

	"guichet/hub/audit"
	"guichet/hub/auth"
	"guichet/hub/calls"
	"guichet/hub/citizens"
	"guichet/hub/config"
	"guichet/hub/crm"
	"guichet/hub/telephony"
	"guichet/hub/telephony/ami"
	"guichet/hub/telephony/wazo"
	"guichet/hub/telephony/webhook"
)

// The hub's links to the citizen file and to the telephone system. The
// citizen file (crm.db) and the audit log (audit.db) live in the data
// directory beside the event log; they open with the hub and close after
// it has stopped writing. The telephony link runs when the site file has a
// telephony section; a webhook telephony posts to config.WebhookPath on the
// hub's HTTP server (a public route of the route table: the signature, not
// a token, authenticates it). Server.CRM, Server.Audit, Server.Citizens and
// Server.Calls (nil without telephony) are what this file starts.

// openCitizens opens the audit log and the citizen file, sets the
// supervisors' view from the site file, and starts the hub's side of the
// citizen file (the timeline's follower, the daily purge).
func (s *Server) openCitizens(ctx context.Context, o Options) error {
	var err error
	if s.Audit, err = audit.Open(filepath.Join(o.Data, "audit.db"), audit.Options{Log: o.Log}); err != nil {
		return err
	}
	site := o.Config.CRMSite(&o.Site)
	if s.CRM, err = crm.Open(filepath.Join(o.Data, "crm.db"), crm.Options{Site: site, Audit: s.Audit, Log: o.Log}); err != nil {
		return err
	}
	seesAll := o.Config.CRM != nil && o.Config.CRM.SupervisorSeesAll
	if s.CRM.SupervisorSeesAll() != seesAll {
		if err := s.CRM.SetSupervisorSeesAll(ctx, crm.Viewer{ID: "site-file", Role: crm.RoleSystem}, seesAll); err != nil {
			return fmt.Errorf("the supervisors' view: %w", err)
		}
	}
	hour, minute := o.Config.PurgeTime()
	if s.Citizens, err = citizens.New(citizens.Options{Hub: s.Hub, Store: s.CRM, Audit: s.Audit, Sectors: o.Config.SectorOf(&o.Site),
		PurgeHour: hour, PurgeMinute: minute, Log: o.Log}); err != nil {
		return err
	}
	s.links.Go(func() { s.Citizens.Run(ctx) })
	return nil
}

// startTelephony starts the telephony link the site file names (or the
// one Options.Telephony gives) and the bridge that drives the queue with
// it.
func (s *Server) startTelephony(ctx context.Context, o Options) error {
	t := o.Config.Telephony
	if t == nil && o.Telephony == nil {
		return nil
	}
	for _, w := range o.Config.TelephonyWarnings(&o.Site) {
		o.Log.Warn("telephony: " + w)
	}
	link, handler := o.Telephony, http.Handler(nil)
	mapping := telephony.Mapping{}
	callbackAfter, blending := config.DefaultCallbackAfter, calls.Policy
	if t != nil {
		mapping = telephony.Mapping{Queues: t.Queues, Members: t.Members}
		callbackAfter, blending = t.CallbackThreshold(), t.BlendingRule()
	}
	if link == nil {
		var err error
		if link, handler, err = adapter(t, mapping, o); err != nil {
			return fmt.Errorf("telephony: %w", err)
		}
	} else if o.TelephonyMapping != nil {
		mapping = *o.TelephonyMapping
	}
	if handler != nil {
		// Public in the route table: the signature, not an account or a
		// token, authenticates the telephony.
		s.API.Add(auth.Route{Method: "POST", Pattern: config.WebhookPath, Access: auth.Public, Kind: auth.API,
			About: "the telephony's signed webhooks (telephony.adapter webhook)", Handler: handler})
	}
	b, err := calls.New(calls.Options{Hub: s.Hub, Link: link, Mapping: mapping, Store: s.CRM, Sectors: o.Config.SectorOf(&o.Site),
		CallbackAfter: callbackAfter, Blending: blending, Log: o.Log})
	if err != nil {
		return err
	}
	s.Calls = b
	s.links.Go(func() {
		if err := b.Run(ctx); err != nil && !errors.Is(err, context.Canceled) {
			o.Log.Error("telephony: the bridge stopped", "err", err)
		}
	})
	return nil
}

// adapter builds the link the telephony section names, with its secrets
// read from the environment or their files.
func adapter(t *config.TelephonyConf, m telephony.Mapping, o Options) (telephony.Link, http.Handler, error) {
	log := o.Log.With("telephony", t.Adapter)
	switch t.Adapter {
	case "ami":
		secret, err := config.ReadSecret("telephony.ami secret", t.AMI.SecretEnv, t.AMI.SecretFile)
		if err != nil {
			return nil, nil, err
		}
		a, err := ami.New(ami.Config{Addr: t.AMI.Addr, Username: t.AMI.Username, Secret: secret, Mapping: m,
			OriginateContext: t.AMI.OriginateContext, OriginateCallerID: t.AMI.OriginateCallerID, Log: log})
		return a, nil, err
	case "wazo":
		password, err := config.ReadSecret("telephony.wazo password", t.Wazo.PasswordEnv, t.Wazo.PasswordFile)
		if err != nil {
			return nil, nil, err
		}
		a, err := wazo.New(wazo.Config{URL: t.Wazo.URL, Username: t.Wazo.Username, Password: password, Mapping: m,
			Users: t.Wazo.Users, OriginateContext: t.Wazo.OriginateContext, Log: log})
		return a, nil, err
	case "webhook":
		secret, err := config.ReadSecret("telephony.webhook secret", t.Webhook.SecretEnv, t.Webhook.SecretFile)
		if err != nil {
			return nil, nil, err
		}
		prev, err := config.ReadSecret("telephony.webhook previous secret", t.Webhook.PreviousSecretEnv, t.Webhook.PreviousSecretFile)
		if err != nil {
			return nil, nil, err
		}
		// The calls' times at the hub's clock (a simulated day's in the
		// demo); the signatures at the real one.
		a, err := webhook.New(webhook.Config{Secret: secret, PreviousSecret: prev, Mapping: m, ActionURL: t.Webhook.ActionURL, Log: log, Clock: o.Clock})
		return a, a, err
	}
	return nil, nil, fmt.Errorf("unknown adapter %q", t.Adapter)
}

// closeCitizens closes the citizen file and the audit log, once the hub
// stopped writing.
func (s *Server) closeCitizens() error {
	var errs []error
	if s.CRM != nil {
		errs = append(errs, s.CRM.Close())
	}
	if s.Audit != nil {
		errs = append(errs, s.Audit.Close())
	}
	return errors.Join(errs...)
}
