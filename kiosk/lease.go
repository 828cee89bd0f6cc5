package kiosk

import (
	"context"
	"slices"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
)

// printFromLease prints a ticket with a number of the kiosk's lease: blocks
// of numbers the hub leased to this kiosk in advance and never hands out
// itself. It is called when the link is down (late is ""), or when the hub
// did not answer the request late within the timeout.
//
// The number is journaled before the ticket prints, so none is printed
// twice, even across a crash. The ticket reaches the hub through the
// outbox, with its own idempotency id, whenever the link is back. A late
// request is replaced by the offline ticket atomically in the outbox, so
// the hub issues one of the two, never both; if the hub answered it
// meanwhile, the hub's ticket is printed instead.
func (k *Kiosk) printFromLease(ctx context.Context, lang string, args api.IssueArgs, late string) (Result, error) {
	now := k.o.Clock()
	k.mu.Lock()
	loc, day := k.loc, now.In(k.loc).Format(time.DateOnly)
	candidates := k.leasedNumbers(args.Service, day)
	name := k.serviceName(args.Service, lang)
	wait, low, high := k.estimatedWait(args.Service)
	k.mu.Unlock()

	cmd := link.NewID()
	n, err := k.j.reserve(cmd, args.Service, day, candidates)
	if err != nil {
		k.log.Error("no offline number", "service", args.Service, "day", day, "err", err)
		if late != "" {
			k.void(late)
		}
		return Result{}, refusal(lang, "unavailable")
	}
	args.OfflineNumber, args.IssuedAt, args.Token = n, &now, newToken()
	if late == "" {
		if err := k.o.Link.Enqueue(cmd, api.OpIssueTicket, args); err != nil {
			k.log.Error("outbox: offline ticket not journaled: not printed", "service", args.Service, "err", err)
			k.forget(cmd)
			return Result{}, refusal(lang, "error")
		}
	} else {
		args.Replaces = late
		replaced, err := k.o.Link.Replace(late, cmd, api.OpIssueTicket, args)
		if err != nil {
			k.log.Error("outbox: late request not replaced: not printed", "service", args.Service, "err", err)
			k.forget(cmd)
			k.void(late)
			return Result{}, refusal(lang, "error")
		}
		if !replaced {
			// The hub answered meanwhile: print its ticket, free the number.
			k.forget(cmd)
			if rep, ok := k.waitReply(late); ok {
				return k.printHubTicket(ctx, late, rep, lang)
			}
			k.log.Error("the hub answered the late request, but its answer is gone", "service", args.Service)
			return Result{}, refusal(lang, "error")
		}
		k.forget(late) // the request is gone: the offline ticket stands for it
	}
	info := TicketInfo{Number: api.FormatNumber(args.Service, n), Service: name, Priority: args.Priority,
		IssuedAt: now.In(loc), Wait: wait, WaitLow: low, WaitHigh: high, URL: k.ticketURL(args.Token), Lang: lang}
	return k.print(ctx, cmd, info, true)
}

// leasedNumbers returns the numbers of service on day that the kiosk's
// lease holds and the hub has not seen used; under mu.
func (k *Kiosk) leasedNumbers(service, day string) []int {
	var out []int
	for _, b := range k.leases.Blocks {
		if b.Service != service || b.Day != day {
			continue
		}
		for n := b.From; n <= b.To; n++ {
			if !slices.Contains(b.Used, n) {
				out = append(out, n)
			}
		}
	}
	return out
}

// serviceName is the name of service in lang, its id if unknown; under mu.
func (k *Kiosk) serviceName(service, lang string) string {
	for _, s := range k.config.Services {
		if s.ID == service {
			return pick(s.Name, lang)
		}
	}
	return service
}

// estimatedWait is the hub's last estimate for service, nil if none, and
// its range (zero if the hub sent none); under mu.
func (k *Kiosk) estimatedWait(service string) (wait *time.Duration, low, high time.Duration) {
	for _, s := range k.queue.Services {
		if s.Service == service && s.EstimatedWait != nil {
			w := time.Duration(*s.EstimatedWait) * time.Second
			if s.EstimatedWaitMin != nil && s.EstimatedWaitMax != nil {
				low, high = time.Duration(*s.EstimatedWaitMin)*time.Second, time.Duration(*s.EstimatedWaitMax)*time.Second
			}
			return &w, low, high
		}
	}
	return nil, 0, 0
}
