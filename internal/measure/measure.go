// Package measure turns samples into the figures benchmarks report:
// percentiles of latencies, rates, resident memory.
package measure

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Latencies collects durations.
type Latencies []time.Duration

// Percentile returns the p-th percentile (0 < p ≤ 100), nearest rank.
func (l Latencies) Percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(float64(len(s))*p/100+0.5) - 1
	return s[min(max(i, 0), len(s)-1)]
}

// Report adds p50, p99 and max (in milliseconds) to a benchmark's output,
// with prefix before each unit ("call-next-" → call-next-p99-ms).
func (l Latencies) Report(b *testing.B, prefix string) {
	ms := func(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
	b.ReportMetric(ms(l.Percentile(50)), prefix+"p50-ms")
	b.ReportMetric(ms(l.Percentile(99)), prefix+"p99-ms")
	b.ReportMetric(ms(l.Percentile(100)), prefix+"max-ms")
}

// RSS returns the process's resident memory in bytes, from /proc.
func RSS() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}
