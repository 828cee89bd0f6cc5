//go:build !device

package main

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"guichet/internal/bench"
)

// The end-to-end bench sees every call on the page, with a latency that
// is a real one: after the press, and within seconds (a wrong clock or
// the wrong event would give minutes or a negative figure; the speed
// itself is the benchmark's to report, on a machine that may be loaded).
func TestBenchE2EMeasuresEveryCall(t *testing.T) {
	r, err := bench.E2E(t.Context(), bench.E2EOptions{Open: benchSite(""), Counters: 3, Calls: 4, MinGap: 750 * time.Millisecond, Gap: 200 * time.Millisecond, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if r.Failed != 0 || len(r.Missing) != 0 {
		t.Fatalf("%d presses called nobody; calls never shown: %v", r.Failed, r.Missing)
	}
	if len(r.Latencies) != 12 {
		t.Fatalf("%d calls measured, want 12", len(r.Latencies))
	}
	for _, l := range r.Latencies {
		if l < -time.Millisecond || l > 5*time.Second { // the page's clock counts whole milliseconds
			t.Errorf("press → page in %v", l)
		}
	}
	if r.Skew > 5*time.Millisecond+time.Millisecond {
		t.Errorf("the browser's clock is %v off the process's: the figures would be wrong", r.Skew)
	}
}

func TestBenchRefusesBadSettings(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"nope"},
		{"e2e", "--counters", "0"},
		{"e2e", "--gap", "3s-1s"},
		{"e2e", "--gap", "100ms-1s"},
		{"e2e", "--gap", "soon"},
		{"display", "--hours", "0"},
		{"display", "--speed", "0.5"},
	} {
		var out bytes.Buffer
		if err := runBench(t.Context(), args, &out); err == nil {
			t.Errorf("guichet bench %s: accepted", strings.Join(args, " "))
		}
	}
}

// The display bench samples the page as the simulated day goes.
func TestBenchDisplaySamplesThePage(t *testing.T) {
	var seen int
	s, err := bench.Display(t.Context(), bench.DisplayOptions{Open: benchSite(""), Hours: 0.25, Speed: 300, Every: 3 * time.Minute, Seed: 5,
		Sample: func(bench.DisplaySample) { seen++ }})
	if err != nil {
		t.Fatal(err)
	}
	if len(s) != 6 || seen != 6 {
		t.Fatalf("%d samples (%d reported), want 6: every 3 min over 15 min", len(s), seen)
	}
	for i, x := range s {
		if x.Heap <= 0 || x.Nodes < 20 || x.Listeners < 1 {
			t.Errorf("sample %d: heap %v, nodes %v, listeners %v", i, x.Heap, x.Nodes, x.Listeners)
		}
		if i > 0 && (x.Task < s[i-1].Task || x.Calls < s[i-1].Calls || x.At <= s[i-1].At) {
			t.Errorf("sample %d goes back in time: %+v after %+v", i, x, s[i-1])
		}
	}
	// At ×300 a real second is five simulated minutes: the first sample,
	// taken as the day starts at 08:30, may read a few minutes later on a
	// loaded machine (08:35 seen at a load of 16 on two cores); the samples
	// then span the five sampling periods that follow it.
	minutes := func(hm string) int {
		var h, m int
		fmt.Sscanf(hm, "%d:%d", &h, &m)
		return h*60 + m
	}
	first, last := minutes(s[0].Sim), minutes(s[5].Sim)
	if first < 8*60+30 || first > 8*60+40 || last-first < 12 {
		t.Errorf("simulated times %s … %s, want from 08:30 (a few minutes late at most) over five periods of 3 minutes", s[0].Sim, s[5].Sim)
	}
}
