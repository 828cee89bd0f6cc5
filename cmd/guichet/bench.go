//go:build !device

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"guichet/hub/config"
	"guichet/internal/bench"
	"guichet/internal/sim"
)

const benchUsage = `Usage:
  guichet bench e2e     [--counters 50] [--calls 20] [--gap 1s-3s]
        counter buttons → MQTT → hub → display device → the board page's DOM
        in headless Chromium: p50, p99, max
  guichet bench display [--hours 1] [--speed 60] [--every 5m]
        the board page in headless Chromium over a simulated day: JS heap,
        DOM nodes, listeners and main-thread CPU, sampled as the day goes
`

func runBench(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errors.New(benchUsage)
	}
	switch args[0] {
	case "e2e":
		return runBenchE2E(ctx, args[1:], out)
	case "display":
		return runBenchDisplay(ctx, args[1:], out)
	}
	return fmt.Errorf("bench %q: unknown\n%s", args[0], benchUsage)
}

// benchSite returns the benches' opener: a demo site in data (a temporary
// directory if empty, removed when closed), its services open around the
// clock; its display makes WAVE files of its announcements if asked.
func benchSite(data string) bench.Opener {
	return func(ctx context.Context, log *slog.Logger, name string, conf []byte, wav bool) (*bench.Site, error) {
		if log == nil {
			log = slog.New(slog.DiscardHandler)
		}
		cleanup := func() {}
		dir := data
		if dir == "" {
			tmp, err := os.MkdirTemp("", "guichet-bench-")
			if err != nil {
				return nil, err
			}
			dir, cleanup = tmp, func() { os.RemoveAll(tmp) }
		}
		cfg, site, err := config.Parse(name, conf)
		if err != nil {
			cleanup()
			return nil, err
		}
		site.Policy.IgnoreHours = true
		sf := soundFlags{voice: "espeak-ng", langs: "fr", volume: 80}
		// A bench's hub is not administered: its admin token (kept in the data
		// directory all the same) is not shown.
		ds, err := openDemo(ctx, log, cfg, site, hubFlags{data: dir, http: "127.0.0.1:0", mqtt: "127.0.0.1:0", out: io.Discard}, &sf, wav)
		if err != nil {
			cleanup()
			return nil, err
		}
		return &bench.Site{HubURL: ds.s.HTTPURL, Token: ds.s.Token, ScreenURL: ds.s.HTTPURL + "/screen/", Desks: ds.desks,
			Simulate: func(speed float64, seed uint64) (*sim.Sim, error) { return ds.simulation(speed, nil, seed) },
			Close:    func() { ds.close(); cleanup() }}, nil
	}
}

func runBenchE2E(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench e2e", flag.ContinueOnError)
	o := bench.E2EOptions{}
	fs.IntVar(&o.Counters, "counters", 50, "counter terminals, each pressing \"next\" at random")
	fs.IntVar(&o.Calls, "calls", 20, "presses per counter")
	gap := fs.String("gap", "1s-3s", "time between two presses of a counter, drawn uniformly in MIN-MAX")
	data := fs.String("data", "", "data directory (default: a temporary one)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed")
	fs.BoolVar(&o.Announce, "announce", false, "the display also synthesises each announcement (espeak-ng, WAVE files), sharing the CPU")
	logLevel := fs.String("log-level", "error", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.MinGap, o.Gap, err = bench.ParseGap(*gap); err != nil {
		return err
	}
	if o.Log, err = newLogger(os.Stderr, *logLevel); err != nil {
		return err
	}
	o.Open = benchSite(*data)
	fmt.Fprintf(out, "bench e2e: %d counters × %d presses of \"next\", every %s, through the embedded broker…\n", o.Counters, o.Calls, *gap)
	r, err := bench.E2E(ctx, o)
	if err != nil {
		return err
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }
	n := len(r.Latencies)
	fmt.Fprintf(out, "counter button → board page DOM: %d calls in %s (%.1f calls/s)\n", n, r.Elapsed.Round(time.Millisecond), float64(n)/r.Elapsed.Seconds())
	fmt.Fprintf(out, "  p50 %s   p99 %s   max %s\n", ms(r.Latencies.Percentile(50)), ms(r.Latencies.Percentile(99)), ms(r.Latencies.Percentile(100)))
	fmt.Fprintf(out, "  presses that called nobody: %d; calls never shown: %d; clock check: within %s\n", r.Failed, len(r.Missing), ms(r.Skew))
	if r.Failed > 0 || len(r.Missing) > 0 {
		return fmt.Errorf("bench e2e: %d presses called nobody, %d calls never shown %v", r.Failed, len(r.Missing), r.Missing)
	}
	return nil
}

func runBenchDisplay(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("bench display", flag.ContinueOnError)
	o := bench.DisplayOptions{}
	fs.Float64Var(&o.Hours, "hours", 1, "simulated hours to play")
	fs.Float64Var(&o.Speed, "speed", 60, "times faster than real time")
	fs.DurationVar(&o.Every, "every", 5*time.Minute, "simulated time between two samples")
	data := fs.String("data", "", "data directory (default: a temporary one)")
	fs.Uint64Var(&o.Seed, "seed", 1, "random seed of the simulated day")
	logLevel := fs.String("log-level", "error", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var err error
	if o.Log, err = newLogger(os.Stderr, *logLevel); err != nil {
		return err
	}
	o.Open = benchSite(*data)
	fmt.Fprintf(out, "bench display: %g simulated hours at ×%g, the board page in headless Chromium\n", o.Hours, o.Speed)
	fmt.Fprintf(out, "%8s %8s %6s %10s %6s %9s %8s\n", "real", "sim", "calls", "heap", "nodes", "listeners", "cpu")
	var prev *bench.DisplaySample
	o.Sample = func(s bench.DisplaySample) {
		cpu := "—"
		if prev != nil && s.At > prev.At {
			cpu = fmt.Sprintf("%.2f%%", 100*float64(s.Task-prev.Task)/float64(s.At-prev.At))
		}
		fmt.Fprintf(out, "%8s %8s %6d %8.2fMB %6.0f %9.0f %8s\n", s.At.Round(time.Second), s.Sim, s.Calls, s.Heap/1e6, s.Nodes, s.Listeners, cpu)
		prev = &s
	}
	samples, err := bench.Display(ctx, o)
	if err != nil {
		return err
	}
	if len(samples) < 2 {
		return errors.New("bench display: too short to compare")
	}
	first, last := samples[0], samples[len(samples)-1]
	fmt.Fprintf(out, "over %s (%d calls): heap %.2f → %.2f MB, DOM nodes %.0f → %.0f, main thread busy %.2f%% of the time\n",
		last.At.Round(time.Second), last.Calls-first.Calls, first.Heap/1e6, last.Heap/1e6, first.Nodes, last.Nodes,
		100*float64(last.Task-first.Task)/float64(last.At-first.At))
	return nil
}
