//go:build !device

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"

	"guichet/hub/audit"
)

const auditUsage = `usage:
  guichet audit verify [--data DIR]    check the audit log's hash chain (audit.db)
It reads the chain from its first entry and names the first entry that was
altered, inserted or removed. Note the head hash it prints somewhere else: a
later run whose chain does not pass through it shows a truncated tail.`

// runAudit checks the audit log of the data directory.
func runAudit(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "verify" {
		return errors.New(auditUsage)
	}
	fs := flag.NewFlagSet("audit verify", flag.ContinueOnError)
	data := fs.String("data", "data", "data directory of the hub")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	r, err := audit.VerifyFile(ctx, filepath.Join(*data, "audit.db"), audit.Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	if !r.OK() {
		fmt.Fprintf(out, "Journal d'audit ALTÉRÉ / audit log BROKEN at entry %d: %s\n", r.Broken, r.Reason)
		return fmt.Errorf("audit log broken at entry %d", r.Broken)
	}
	fmt.Fprintf(out, "Journal d'audit intègre / audit log OK: %d entries (%d to %d)\nhead %s\n", r.Entries, r.First, r.Last, r.Head)
	return nil
}
