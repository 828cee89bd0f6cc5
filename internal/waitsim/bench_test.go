package waitsim

import (
	"os"
	"strconv"
	"strings"
	"testing"
)

// BenchmarkEstimateAccuracy plays 20 days of every scenario in virtual time
// and prints the table of docs/benchmarks.md: issue 10's estimator (queue
// length), the agents' pace and the one the hub shows (play) side by side,
// and the oracle's noise
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
			all := Measure(results[0].AtIssue(Play, ""))
			b.ReportMetric(all.MAE.Minutes(), "ordinary-MAE-min")
			b.ReportMetric(100*all.InRange, "ordinary-in-range-%")
			b.ReportMetric(Measure(results[0].AtIssue(Oracle, "")).MAE.Minutes(), "ordinary-oracle-MAE-min")
		}
	}
}

// BenchmarkPlayCeiling tells what each part of the oracle's knowledge is
// worth on 10 days of each scenario (oracle.go's ceilings): the MAE at issue
// of the play the hub shows, of the same play knowing the true mean service
// times, then the citizens expected or really to come, and of the oracle's
// futures without arrivals.
//
//	go test -run '^$' -bench PlayCeiling -benchtime 1x -timeout 30m ./internal/waitsim/
func BenchmarkPlayCeiling(b *testing.B) {
	modes := []string{MeanPlay, MeanPlayArrivals, MeanPlayRealArrivals, NoArrivals}
	for i := 0; i < b.N; i++ {
		var sb strings.Builder
		sb.WriteString("| scenario | play (shown) | " + strings.Join(modes, " | ") + " |\n|---|---:|---:|---:|---:|---:|\n")
		for k, sc := range Scenarios() {
			r, err := RunWith(sc, 10, uint64(1000+k), Options{Ceilings: modes})
			if err != nil {
				b.Fatal(err)
			}
			sb.WriteString("| " + sc.Name)
			for _, p := range append([]string{Play}, modes...) {
				e := Measure(r.AtIssue(p, ""))
				sb.WriteString(" | " + strconv.FormatFloat(e.MAE.Minutes(), 'f', 1, 64) + " / " + strconv.FormatFloat(e.Bias.Minutes(), 'f', 1, 64))
			}
			sb.WriteString(" |\n")
		}
		if i == 0 {
			os.Stdout.WriteString("MAE / bias at issue, minutes, all services:\n" + sb.String())
		}
	}
}
