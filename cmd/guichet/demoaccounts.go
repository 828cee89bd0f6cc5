//go:build !device

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"guichet/hub/auth"
	"guichet/hub/queue"
)

// demoAccount is a sample account the demo prints, with its password.
type demoAccount struct {
	login, role, where, password string
}

// demoAccounts gives the demo's sample accounts passwords drawn at this
// start: the agent of every seated counter (their accounts come from the
// site file), a supervisor, an admin, and the data protection officer
// (an agent's account the sample site file's crm.dpo names). They are real passwords, not
// temporary ones: a visitor signs in at once.
func demoAccounts(ctx context.Context, a *auth.Service, site *queue.Site, staff map[string]string) ([]demoAccount, error) {
	by := auth.By{Actor: "demo"}
	var out []demoAccount
	for _, c := range site.Counters {
		ag := staff[c.ID]
		if ag == "" {
			continue
		}
		pw := auth.TemporaryPassword()
		if _, err := a.SetPassword(ctx, by, ag, pw, false); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", ag, err)
		}
		out = append(out, demoAccount{login: ag, role: "agent", where: c.Name, password: pw})
	}
	for _, x := range []struct {
		login, name string
		role        auth.Role
		label       string
	}{{"superviseur", "Responsable de l'accueil", auth.RoleSupervisor, "superviseur"}, {"admin", "Service informatique", auth.RoleAdmin, "administrateur"},
		{"dpo", "Délégué à la protection des données", auth.RoleAgent, "DPO (dossier citoyen : export, effacement, purge)"}} {
		if _, err := a.AddAccount(ctx, by, auth.NewAccount{ID: x.login, Name: x.name, Role: x.role}); err != nil && !errors.Is(err, auth.ErrAccountExists) {
			return nil, fmt.Errorf("demo account %s: %w", x.login, err)
		}
		if err := a.SetRole(by, x.login, x.role); err != nil {
			return nil, err
		}
		pw := auth.TemporaryPassword()
		if _, err := a.SetPassword(ctx, by, x.login, pw, false); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", x.login, err)
		}
		out = append(out, demoAccount{login: x.login, role: x.label, password: pw})
	}
	slices.SortStableFunc(out, func(x, y demoAccount) int { return rank(x.role) - rank(y.role) })
	return out, nil
}

func rank(role string) int {
	switch role {
	case "superviseur":
		return 1
	case "administrateur":
		return 2
	case "DPO (dossier citoyen : export, effacement, purge)":
		return 3
	}
	return 0
}

// printDemoAccounts writes the banner's "Comptes de démonstration".
func printDemoAccounts(w io.Writer, base string, accts []demoAccount) {
	fmt.Fprintf(w, "Comptes de démonstration (mots de passe tirés à ce démarrage) — connexion : %s/login\n", base)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	for _, a := range accts {
		role := a.role
		if a.where != "" {
			role += " (" + a.where + ")"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", a.login, role, a.password)
	}
	tw.Flush()
}
