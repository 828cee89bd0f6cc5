package server

import (
	"crypto/tls"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"guichet/cloud"
	"guichet/cloud/bridge"
	"guichet/cloud/lutece"
	"guichet/cloud/suitecrm"
	"guichet/cloud/webhook"
	"guichet/hub/api"
	"guichet/hub/config"
	"guichet/internal/stdwebhook"
)

// Destinations builds the site file's destinations, reading their secrets
// from the environment or their files. An error names the destination and
// what is missing, never a secret.
func Destinations(c *config.Config, site string, log *slog.Logger) ([]cloud.DestinationOptions, error) {
	var out []cloud.DestinationOptions
	for _, d := range c.Destinations {
		o := cloud.DestinationOptions{Name: d.Name, Kind: d.Type, Types: d.Types, Purpose: cloud.Public,
			DeadLetterAfter: d.DeadLetterAfter.Or(0), MaxBackoff: d.MaxBackoff.Or(0)}
		if d.CRM {
			o.Purpose = cloud.CRM
		}
		var err error
		switch d.Type {
		case config.DestWebhook:
			err = webhookDest(&o, d)
		case config.DestBridge:
			err = bridgeDest(&o, d, site, log)
		case config.DestSuiteCRM:
			err = suitecrmDest(&o, d)
		case config.DestLutece:
			err = luteceDest(&o, d)
		default:
			err = fmt.Errorf("type %q not supported by this build", d.Type)
		}
		if err != nil {
			return nil, fmt.Errorf("destination %s: %w", d.Name, err)
		}
		out = append(out, o)
		log.Info("destination configured", "destination", d.Name, "type", d.Type, "crm", o.Purpose == cloud.CRM, "types", d.Types)
	}
	return out, nil
}

func webhookDest(o *cloud.DestinationOptions, d config.DestinationConf) error {
	text, err := secretOf(d.SecretEnv, d.SecretFile)
	if err != nil {
		return err
	}
	secret, err := stdwebhook.ParseSecret(text)
	if err != nil {
		return fmt.Errorf("secret: %w", err)
	}
	wo := webhook.Options{URL: d.URL, Secret: secret, Batched: d.Mode == "batched", Timeout: d.Timeout.Or(10 * time.Second)}
	if d.CAFile != "" {
		if wo.RootCAs, err = webhook.LoadCA(d.CAFile); err != nil {
			return err
		}
	}
	w, err := webhook.New(wo)
	if err != nil {
		return err
	}
	batch := d.Batch
	if batch == 0 {
		batch = 100
	}
	o.Dest, o.Batch = w, w.Batch(batch)
	return nil
}

func bridgeDest(o *cloud.DestinationOptions, d config.DestinationConf, site string, log *slog.Logger) error {
	bo := bridge.Options{URL: d.URL, Username: d.Username, Topics: api.Topics{Site: site}, Timeout: d.Timeout.Or(10 * time.Second), Log: log}
	var err error
	if d.Username != "" {
		if bo.Password, err = secretOf(d.PasswordEnv, d.PasswordFile); err != nil {
			return err
		}
	}
	if bo.Prefix, err = bridge.ParseTopicPrefix(d.TopicPrefix); err != nil {
		return err
	}
	if d.CAFile != "" {
		pool, err := webhook.LoadCA(d.CAFile)
		if err != nil {
			return err
		}
		bo.TLS = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	b, err := bridge.New(bo)
	if err != nil {
		return err
	}
	o.Dest, o.Batch = b, 100
	return nil
}

func suitecrmDest(o *cloud.DestinationOptions, d config.DestinationConf) error {
	secret, err := secretOf(d.ClientSecretEnv, d.ClientSecretFile)
	if err != nil {
		return err
	}
	so := suitecrm.Options{URL: d.URL, ClientID: d.ClientID, ClientSecret: secret, Record: d.Record,
		CreateContacts: d.CreateContacts, Timeout: d.Timeout.Or(10 * time.Second)}
	if d.CAFile != "" {
		if so.RootCAs, err = webhook.LoadCA(d.CAFile); err != nil {
			return err
		}
	}
	c, err := suitecrm.New(so)
	if err != nil {
		return err
	}
	// The CRM's purpose: it finds the contact by the citizen field.
	o.Dest, o.Batch, o.Purpose = c, 1, cloud.CRM
	if len(o.Types) == 0 {
		o.Types = []string{"ticket.served"}
	}
	return nil
}

func luteceDest(o *cloud.DestinationOptions, d config.DestinationConf) error {
	lo := lutece.Options{URL: d.URL, DemandType: d.DemandType, Timeout: d.Timeout.Or(10 * time.Second)}
	var err error
	if d.TokenEnv != "" || d.TokenFile != "" {
		if lo.Token, err = secretOf(d.TokenEnv, d.TokenFile); err != nil {
			return err
		}
	}
	if d.CAFile != "" {
		if lo.RootCAs, err = webhook.LoadCA(d.CAFile); err != nil {
			return err
		}
	}
	l, err := lutece.New(lo)
	if err != nil {
		return err
	}
	o.Dest, o.Batch, o.Purpose = l, 1, cloud.CRM
	if len(o.Types) == 0 {
		o.Types = lutece.Types
	}
	return nil
}

// secretOf reads a secret from the environment variable env or the file.
func secretOf(env, file string) (string, error) {
	if env != "" {
		v := strings.TrimSpace(os.Getenv(env))
		if v == "" {
			return "", fmt.Errorf("the environment variable %s is empty or not set", env)
		}
		return v, nil
	}
	b, err := os.ReadFile(file)
	if err != nil {
		return "", fmt.Errorf("read the secret's file: %w", err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("the secret's file %s is empty", file)
	}
	return v, nil
}
