package waitsim

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkEstimateAccuracy plays 20 days of every scenario in virtual time
// and prints the table of docs/benchmarks.md: today's estimator (queue
// length) and the chosen one (pace) side by side, and the oracle's noise
// floor (OracleFutures futures of the day at every ticket's issue).
//
//	go test -run '^$' -bench EstimateAccuracy -benchtime 1x -timeout 30m ./internal/waitsim/

// OracleFutures is how many futures the oracle plays at each issue: its
// median moves by a few seconds between 20 and more.
const OracleFutures = 20

func BenchmarkEstimateAccuracy(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var results []*Result
		for k, sc := range Scenarios() {
			r, err := RunWith(sc, 20, uint64(1000+k), Options{Oracle: OracleFutures})
			if err != nil {
				b.Fatal(err)
			}
			results = append(results, r)
		}
		if i == 0 {
			var sb strings.Builder
			Table(&sb, results)
			os.Stdout.WriteString(sb.String())
			all := Measure(results[0].AtIssue(Pace, ""))
			b.ReportMetric(all.MAE.Minutes(), "ordinary-MAE-min")
			b.ReportMetric(100*all.InRange, "ordinary-in-range-%")
			b.ReportMetric(Measure(results[0].AtIssue(Oracle, "")).MAE.Minutes(), "ordinary-oracle-MAE-min")
		}
	}
}
