package waitsim

import (
	"os"
	"strings"
	"testing"
)

// BenchmarkEstimateAccuracy plays 20 days of every scenario in virtual time
// and prints the table of docs/benchmarks.md: today's estimator (queue
// length) and the chosen one (pace) side by side.
//
//	go test -run '^$' -bench EstimateAccuracy -benchtime 1x ./internal/waitsim/
func BenchmarkEstimateAccuracy(b *testing.B) {
	for i := 0; i < b.N; i++ {
		var results []*Result
		for k, sc := range Scenarios() {
			r, err := Run(sc, 20, uint64(1000+k))
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
		}
	}
}
