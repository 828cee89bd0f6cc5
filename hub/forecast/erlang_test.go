package forecast

import (
	"math"
	"testing"
	"time"
)

// Erlang C against values worked out in the textbooks: M/M/1 waits with
// probability ρ; M/M/2 with 2ρ²/(1+ρ); ten erlangs on eleven agents, 0.6821
// (Erlang B tables: B(10, 10) = 0.2146).
func TestErlangCMatchesTextbookValues(t *testing.T) {
	for _, c := range []struct {
		agents int
		load   float64
		want   float64
		tol    float64
	}{
		{1, 0.5, 0.5, 1e-12},
		{1, 0.9, 0.9, 1e-12},
		{2, 1.0, 2 * 0.25 / 1.5, 1e-12},
		{2, 1.6, 2 * 0.64 / 1.8, 1e-12},
		{11, 10, 0.6821, 5e-4},
		{3, 0, 0, 0},
		{3, 3, 1, 0}, // overloaded: everybody waits
	} {
		if got := ErlangC(c.agents, c.load); math.Abs(got-c.want) > c.tol {
			t.Errorf("ErlangC(%d, %g) = %.6f, want %.6f", c.agents, c.load, got, c.want)
		}
	}
}

// The mean wait of M/M/1 is ρ/(1−ρ) service times; the share within a
// target follows 1 − C·e^{−(c−a)t/s}.
func TestMeanWaitAndShareWithinTargetFollowTheFormulas(t *testing.T) {
	w, ok := MeanWait(1, 6, 6*time.Minute) // a = 0.6
	if want := time.Duration(0.6 / 0.4 * float64(6*time.Minute)); !ok || (w-want).Abs() > time.Millisecond {
		t.Errorf("M/M/1 at 0.6: mean wait %v, want %v", w, want)
	}
	got := WithinTarget(1, 6, 6*time.Minute, 6*time.Minute)
	if want := 1 - 0.6*math.Exp(-0.4); math.Abs(got-want) > 1e-12 {
		t.Errorf("within one service time: %.6f, want %.6f", got, want)
	}
	if _, ok := MeanWait(2, 20, 6*time.Minute); ok { // a = 2
		t.Error("a load equal to the agents has a mean wait")
	}
}

// Forty citizens an hour at 6 minutes each is four erlangs: the fewest
// agents serving 80 % within 10 minutes, each one less failing it.
func TestAgentsNeededIsTheFewestThatKeepTheTarget(t *testing.T) {
	n, err := AgentsNeeded(40, 6*time.Minute, 10*time.Minute, 0.8)
	if err != nil {
		t.Fatal(err)
	}
	if WithinTarget(n, 40, 6*time.Minute, 10*time.Minute) < 0.8 || WithinTarget(n-1, 40, 6*time.Minute, 10*time.Minute) >= 0.8 {
		t.Fatalf("%d agents: %.3f within target, and %d: %.3f", n, WithinTarget(n, 40, 6*time.Minute, 10*time.Minute),
			n-1, WithinTarget(n-1, 40, 6*time.Minute, 10*time.Minute))
	}
	if n != 5 {
		t.Errorf("4 erlangs, 80 %% within 10 min of 6-min services: %d agents, want 5", n)
	}
	if n, err := AgentsNeeded(0, 6*time.Minute, 10*time.Minute, 0.8); err != nil || n != 0 {
		t.Errorf("nobody comes: %d, %v", n, err)
	}
	for _, bad := range []struct {
		rate            float64
		service, target time.Duration
		share           float64
	}{{-1, time.Minute, time.Minute, 0.8}, {math.NaN(), time.Minute, time.Minute, 0.8}, {10, 0, time.Minute, 0.8},
		{10, time.Minute, -time.Minute, 0.8}, {10, time.Minute, time.Minute, 1}, {1e9, time.Hour, time.Minute, 0.8}} {
		if _, err := AgentsNeeded(bad.rate, bad.service, bad.target, bad.share); err == nil {
			t.Errorf("AgentsNeeded(%v) accepted", bad)
		}
	}
}
