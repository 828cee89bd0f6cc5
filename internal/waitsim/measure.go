package waitsim

import (
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"time"

	"guichet/hub/api"
	"guichet/hub/queue"
)

// Errors sums up how far a predictor's estimates were from the real waits.
type Errors struct {
	N        int
	MeanWait time.Duration // the real waits' mean
	MAE      time.Duration // mean absolute error
	P90      time.Duration // 90th percentile of the absolute error
	Bias     time.Duration // mean of estimate − real: > 0 announces too long
	// InRange is the share of real waits within the range shown (as
	// api.WaitMinutes rounds it to whole minutes).
	InRange float64
	Unknown int // estimates not given (nobody served the lane then)
}

// Measure compares estimates with real waits: pairs of (estimate, real).
func Measure(pairs []Pair) Errors {
	var out Errors
	var abs []float64
	var sumWait, sumAbs, sumErr float64
	in := 0
	for _, p := range pairs {
		if !p.Est.Known {
			out.Unknown++
			continue
		}
		e := float64(p.Est.Wait - p.Real)
		abs = append(abs, math.Abs(e))
		sumAbs += math.Abs(e)
		sumErr += e
		sumWait += float64(p.Real)
		if InRange(p.Est, p.Real) {
			in++
		}
	}
	out.N = len(abs)
	if out.N == 0 {
		return out
	}
	n := float64(out.N)
	sort.Float64s(abs)
	out.MeanWait = time.Duration(sumWait / n)
	out.MAE = time.Duration(sumAbs / n)
	out.Bias = time.Duration(sumErr / n)
	out.P90 = time.Duration(abs[int(math.Ceil(0.9*n))-1])
	out.InRange = float64(in) / n
	return out
}

// InRange reports whether a real wait falls within the range shown for est.
func InRange(est queue.Estimate, real time.Duration) bool {
	lo, hi := api.WaitMinutes(int(est.Low.Seconds()), int(est.High.Seconds()))
	return real >= time.Duration(lo)*time.Minute && real <= time.Duration(hi)*time.Minute
}

// Pair is an estimate and the real wait it announced.
type Pair struct {
	Est  queue.Estimate
	Real time.Duration
}

// AtIssue are the pairs of predictor p at issue, for service ("" for all).
func (r *Result) AtIssue(p, service string) []Pair {
	var out []Pair
	for _, rec := range r.Records {
		w, ok := rec.Wait()
		if ok && (service == "" || rec.Service == service) {
			out = append(out, Pair{rec.Est[p], w})
		}
	}
	return out
}

// OnThePhone are the pairs of predictor p on the mobile page as time passes:
// every sample of a ticket later called, against its remaining wait.
func (r *Result) OnThePhone(p, service string) []Pair {
	var out []Pair
	for _, s := range r.Samples {
		if s.Rec.CalledAt.IsZero() || service != "" && s.Rec.Service != service {
			continue
		}
		out = append(out, Pair{s.Est[p], s.Rec.CalledAt.Sub(s.At)})
	}
	return out
}

// CloseWhenFull counts, for predictor p, the arrivals close_when_full would
// have refused although they were served before closing, and those it would
// have accepted that were not.
func (r *Result) CloseWhenFull(p string) (arrivals, refusedServed, acceptedUnserved int) {
	closing := func(t time.Time) time.Time {
		y, m, d := t.Date()
		return time.Date(y, m, d, Closing/60, Closing%60, 0, 0, t.Location())
	}
	for _, rec := range r.Records {
		arrivals++
		served := !rec.CalledAt.IsZero() && !rec.CalledAt.After(closing(rec.IssuedAt))
		switch {
		case rec.WouldRefuse[p] && served:
			refusedServed++
		case !rec.WouldRefuse[p] && !served:
			acceptedUnserved++
		}
	}
	return
}

// Services lists the services of the records, sorted.
func (r *Result) Services() []string {
	seen := map[string]bool{}
	for _, rec := range r.Records {
		seen[rec.Service] = true
	}
	out := make([]string, 0, len(seen))
	for s := range seen {
		out = append(out, s)
	}
	slices.Sort(out)
	return out
}

// Table writes the benchmark's table for results: per scenario and service,
// issue 10's estimator (queue length), issue 14's first (pace) and the one
// the hub shows (play) side by side with the oracle's noise floor, at issue
// and on the mobile page; then the history-based predictors; then
// close_when_full. The range ("in range") is the one shown, the play's: the
// hub learns its calibration from the estimate it shows.
func Table(w io.Writer, results []*Result) {
	m := func(d time.Duration) string { return fmt.Sprintf("%.1f", d.Minutes()) }
	fmt.Fprintln(w, "At issue (minutes; MAE / P90 / bias; range = share of real waits within the range shown; oracle = the noise floor, oracle.go):")
	fmt.Fprintln(w, "| scenario | service | tickets | mean wait | queue-length | pace | play (shown) | in range | oracle |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|---:|")
	three := func(e Errors) string { return fmt.Sprintf("%s / %s / %s", m(e.MAE), m(e.P90), m(e.Bias)) }
	for _, r := range results {
		for _, svc := range append(r.Services(), "") {
			q, p, y, o := Measure(r.AtIssue(QueueLength, svc)), Measure(r.AtIssue(Pace, svc)), Measure(r.AtIssue(Play, svc)), Measure(r.AtIssue(Oracle, svc))
			name := svc
			if svc == "" {
				name = "all"
			}
			ora := "–"
			if o.N > 0 {
				ora = three(o)
			}
			fmt.Fprintf(w, "| %s | %s | %d | %s | %s | %s | %s | %.0f %% | %s |\n", r.Scenario.Name, name, y.N, m(y.MeanWait),
				three(q), three(p), three(y), 100*y.InRange, ora)
		}
	}
	fmt.Fprintln(w, "\nOn the mobile page, every 5 minutes of a ticket's wait (minutes; MAE / P90 / bias):")
	fmt.Fprintln(w, "| scenario | samples | queue-length | pace | play (shown) | in range |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|")
	for _, r := range results {
		q, p, y := Measure(r.OnThePhone(QueueLength, "")), Measure(r.OnThePhone(Pace, "")), Measure(r.OnThePhone(Play, ""))
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %.0f %% |\n", r.Scenario.Name, y.N, three(q), three(p), three(y), 100*y.InRange)
	}
	fmt.Fprintln(w, "\nEvery predictor at issue, all services (MAE / bias, minutes):")
	fmt.Fprintln(w, "| scenario | queue-length | LES | HOL | pace | play | oracle |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|")
	for _, r := range results {
		fmt.Fprintf(w, "| %s |", r.Scenario.Name)
		for _, p := range []string{QueueLength, LES, HOL, Pace, Play, Oracle} {
			e := Measure(r.AtIssue(p, ""))
			fmt.Fprintf(w, " %s / %s |", m(e.MAE), m(e.Bias))
		}
		fmt.Fprintln(w)
	}
	for _, r := range results {
		if !r.Scenario.CloseWhenFull {
			continue
		}
		fmt.Fprintf(w, "\nclose_when_full on %q (every arrival accepted, its decision recorded):\n", r.Scenario.Name)
		fmt.Fprintln(w, "| predictor | arrivals | refused but would have been served | accepted but not served before closing |")
		fmt.Fprintln(w, "|---|---:|---:|---:|")
		for _, p := range []string{QueueLength, Pace, Play} {
			n, rs, au := r.CloseWhenFull(p)
			fmt.Fprintf(w, "| %s | %d | %d (%.1f %%) | %d (%.1f %%) |\n", p, n, rs, 100*float64(rs)/float64(n), au, 100*float64(au)/float64(n))
		}
	}
}
