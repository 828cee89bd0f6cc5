package queue

import (
	"slices"
	"time"
)

// The range's calibration: what the engine learns, from the log alone, of
// how far its own estimates fell from the real waits, so that the range
// shown ("entre 10 et 20 min") holds about 80 % of real waits wherever the
// estimate is biased or spread in ways the gamma law of rule 5 does not
// know (agents leaving for lunch, a policy that moves agents between
// services, many no-shows).
//
//   - At a ticket's issue the engine notes the wait it estimated then (the
//     one the ticket printed).
//   - At the ticket's first call, the ratio of its real wait to that
//     estimate joins the recent ratios of its lane (service and channel) and
//     of the estimate's size (CalibrationBuckets): the last CalibrationSize
//     of them are kept.
//   - Once a lane's bucket holds CalibrationMin ratios, the range of an
//     estimate of that size is the estimate times their 10th and 90th
//     percentiles; before, rule 5's gamma law decides.
//
// A ticket's own wait never calibrates its own range: only tickets already
// called count, so the range is always a forecast from the past (held-out
// by construction). An estimate of zero (an agent free now takes the
// ticket) keeps its range from zero to RangeFloor. A snapshot does not keep
// the ratios: after a restart they are learnt again, like the paces.

// CalibrationSize is how many recent ratios a lane's bucket keeps, and
// CalibrationMin how many it needs before they set the range.
const (
	CalibrationSize = 300
	CalibrationMin  = 40
)

// CalibrationBuckets are the upper bounds of the estimates' sizes whose
// ratios are learnt apart: a short wait is spread wider, relatively, than
// a long one. The last bucket takes every longer estimate.
var CalibrationBuckets = []time.Duration{5 * time.Minute, 12 * time.Minute, 25 * time.Minute}

// calibKey is a lane and the size bucket of an estimate.
type calibKey struct {
	lane   Lane
	bucket int
}

// ratios are a bucket's recent ratios of real wait to estimate, in a ring,
// and the same kept sorted (updated as they come: the estimate only reads
// them, readers share the engine).
type ratios struct {
	ring   []float64
	next   int
	sorted []float64
}

// add puts x in the ring, in place of the oldest when it is full, and in
// the sorted copy.
func (r *ratios) add(x float64) {
	if len(r.ring) < CalibrationSize {
		r.ring = append(r.ring, x)
	} else {
		old := r.ring[r.next]
		r.ring[r.next] = x
		r.next = (r.next + 1) % CalibrationSize
		i, _ := slices.BinarySearch(r.sorted, old)
		r.sorted = slices.Delete(r.sorted, i, i+1)
	}
	i, _ := slices.BinarySearch(r.sorted, x)
	r.sorted = slices.Insert(r.sorted, i, x)
}

func bucketOf(wait time.Duration) int {
	for i, b := range CalibrationBuckets {
		if wait < b {
			return i
		}
	}
	return len(CalibrationBuckets)
}

// noteIssued keeps the estimate of ticket t at its issue, the wait it
// printed. Not learnt from: a ticket printed offline (it reaches the hub
// later than its place in the queue, so its estimate here is not the one
// it printed, and its wait would count from before it) and an appointment
// (its wait is its slot's, not the queue's).
func (e *Engine) noteIssued(t *Ticket, at time.Time) {
	if t == nil || t.State != Waiting || t.ByPBX || !t.IssuedAt.Equal(at) || t.Priority == PriorityAppointment {
		return
	}
	_, est := e.estimateWith(Shown, at, t.ID, false)
	if est.Known && est.Wait > 0 {
		e.issueEst[t.ID] = est.Wait
	}
	// The answer to the issue asks for the same estimate at once: keep it.
	e.atIssue = issued{id: t.ID, at: at, applied: e.applied, est: est}
}

// issued is the estimate noteIssued made of a ticket, before calibration,
// at which moment and engine state.
type issued struct {
	id      string
	at      time.Time
	applied int64
	est     Estimate
}

// noteCalled learns the ratio of ticket t's real wait to its estimate at
// issue, at its first call at.
func (e *Engine) noteCalled(t *Ticket, at time.Time) {
	est, ok := e.issueEst[t.ID]
	if !ok {
		return
	}
	delete(e.issueEst, t.ID)
	k := calibKey{Lane{t.Service, t.Channel}, bucketOf(est)}
	r := e.calib[k]
	if r == nil {
		r = &ratios{}
		e.calib[k] = r
	}
	r.add(float64(at.Sub(t.IssuedAt)) / float64(est))
}

// TailAtIssue and TailLater are the percentiles of the learnt ratios that
// bound the range (TailAtIssue to 1 − TailAtIssue): at issue (the ticket,
// the screen, a new ticket's estimate), and later (the mobile page of a
// ticket waiting for a while). They are not 10 % because the range shown is
// not the ratios' range: it is rounded outwards to whole minutes and never
// below "moins de 5 min" (api.WaitMinutes), which widens a short range a
// great deal; and a later estimate, with less time left, is more spread
// than the ratios learnt at issue say (a transfer or a no-show ahead is a
// larger share of what is left). Both were chosen on simulated days so
// that the range shown holds about 80 % of real waits, at issue and on the
// mobile page (docs/benchmarks.md).
const (
	TailAtIssue = 0.15
	TailLater   = 0.09
)

// calibrated gives est, on lane l, the range its bucket's ratios have
// learnt, when they are enough; est as it is otherwise. later is an
// estimate made after the ticket's issue.
func (e *Engine) calibrated(l Lane, est Estimate, later bool) Estimate {
	if !est.Known || est.Wait <= 0 {
		return est
	}
	r := e.calib[calibKey{l, bucketOf(est.Wait)}]
	if r == nil || len(r.ring) < CalibrationMin {
		return est
	}
	tail := TailAtIssue
	if later {
		tail = TailLater
	}
	lo, hi := quantile(r.sorted, tail), quantile(r.sorted, 1-tail)
	w := float64(est.Wait)
	// The range is shown in whole minutes rounded outwards (api.WaitMinutes):
	// half a minute in on each side makes the range shown the percentiles
	// rounded to the nearest minute, not widened by a minute.
	est.Low = min(time.Duration(lo*w).Round(time.Second)+time.Minute/2, est.Wait)
	est.High = max(time.Duration(hi*w).Round(time.Second)-time.Minute/2, RangeFloor, est.Wait)
	return est
}

// quantile is the p-quantile of sorted values, interpolated between ranks.
func quantile(sorted []float64, p float64) float64 {
	x := p * float64(len(sorted)-1)
	i := int(x)
	if i+1 >= len(sorted) {
		return sorted[len(sorted)-1]
	}
	f := x - float64(i)
	return sorted[i]*(1-f) + sorted[i+1]*f
}
