//go:build !device

package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"text/tabwriter"

	"guichet/hub/auth"
	"guichet/hub/config"
	"guichet/hub/queue"
	"guichet/hub/store"
)

const accountUsage = `usage:
  guichet account add ID --role agent|supervisor|admin [--name NAME] [--agent AGENT] [--password-stdin] [--data DIR] [--config FILE]
  guichet account list              [--data DIR]
  guichet account passwd ID         [--data DIR]   a temporary password, to change at the next sign-in
  guichet account role ID ROLE      [--data DIR]
  guichet account disable|enable ID [--data DIR]
  guichet account signout ID        [--data DIR]   end every session of the account
They work on the data directory, whether the hub runs or not: a running hub
reads accounts at every request. Without --password-stdin, add draws a
temporary password, shown once. With --config, a data directory that does
not exist yet is made for that site (how a new site gets its first admin).`

// runAccount manages the accounts of the data directory's database.
func runAccount(ctx context.Context, args []string, in io.Reader, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(accountUsage)
	}
	verb, rest := args[0], args[1:]
	var pos []string
	for len(rest) > 0 && rest[0] != "" && rest[0][0] != '-' {
		pos, rest = append(pos, rest[0]), rest[1:]
	}
	fs := flag.NewFlagSet("account "+verb, flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	role := fs.String("role", "", "agent, supervisor or admin")
	name := fs.String("name", "", "the person's name, as pages show it")
	agent := fs.String("agent", "", "the site agent this account is (an agent of the site file)")
	stdin := fs.Bool("password-stdin", false, "read the password from standard input (else a temporary one is drawn)")
	cfgPath := fs.String("config", "", "site configuration: make the data directory if it does not exist yet")
	if err := fs.Parse(rest); err != nil {
		return err
	}
	pos = append(pos, fs.Args()...)
	arg := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	o := store.DirOptions{Log: quiet}
	var agents []queue.Agent
	if *cfgPath != "" {
		_, site, err := config.Load(*cfgPath)
		if err != nil {
			return err
		}
		o.Site, o.Create, agents = site.ID, true, site.Agents
	}
	st, err := store.OpenDir(*data, o)
	if err != nil {
		return err
	}
	defer st.Close()
	a := auth.New(auth.Options{Store: st, Log: quiet})
	if err := a.SyncAgents(agents); err != nil {
		return err
	}
	by := auth.By{Actor: "cli:" + os.Getenv("USER")}
	id := arg(0)
	switch {
	case verb == "add" && id != "":
		r, err := auth.ParseRole(*role)
		if err != nil {
			return err
		}
		n := auth.NewAccount{ID: id, Name: *name, Role: r, Agent: *agent, Temporary: true}
		if *stdin {
			if n.Password, err = readPassword(in); err != nil {
				return err
			}
		}
		tmp, err := a.AddAccount(ctx, by, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Account %s (%s) created.\n", id, r)
		if tmp != "" {
			fmt.Fprintf(out, "Temporary password (shown once; to be changed at the first sign-in): %s\n", tmp)
		}
	case verb == "list":
		as, err := a.Accounts()
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LOGIN\tROLE\tAGENT\tPASSWORD\tDISABLED\tNAME")
		for _, ac := range as {
			pw := "none"
			switch {
			case ac.MustChange:
				pw = "temporary"
			case ac.PasswordHash != "":
				pw = "set"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\t%s\n", ac.ID, ac.Role, dash(ac.Agent), pw, ac.Disabled, ac.Name)
		}
		tw.Flush()
	case verb == "passwd" && id != "":
		pw, err := a.SetPassword(ctx, by, id, "", true)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Account %s has a temporary password; its sessions ended.\nTemporary password (shown once; to be changed at the next sign-in): %s\n", id, pw)
	case verb == "role" && id != "" && arg(1) != "":
		r, err := auth.ParseRole(arg(1))
		if err != nil {
			return err
		}
		if err := a.SetRole(by, id, r); err != nil {
			return err
		}
		fmt.Fprintf(out, "Account %s is now %s.\n", id, r)
	case (verb == "disable" || verb == "enable") && id != "":
		if err := a.SetDisabled(by, id, verb == "disable"); err != nil {
			return err
		}
		fmt.Fprintf(out, "Account %s %sd.\n", id, verb)
	case verb == "signout" && id != "":
		n, err := a.SignOutAccount(by, id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "Account %s signed out (%d sessions ended).\n", id, n)
	default:
		return errors.New(accountUsage)
	}
	return nil
}

// readPassword reads one line: the password, without its line end.
func readPassword(in io.Reader) (string, error) {
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password: %w", err)
	}
	pw := strings.TrimRight(line, "\r\n")
	if pw == "" {
		return "", errors.New("--password-stdin: no password on standard input")
	}
	return pw, nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
