package stats

import (
	"math/rand/v2"
	"slices"
	"testing"
)

// TestPercentilesAreTheNearestRankOfTheSortedValues checks the
// quickselect against a sort, on random, sorted, reversed and constant sets.
func TestPercentilesAreTheNearestRankOfTheSortedValues(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := 1; n < 300; n++ {
		for kind := range 4 {
			v := make([]int64, n)
			for i := range v {
				switch kind {
				case 0:
					v[i] = rng.Int64N(50)
				case 1:
					v[i] = int64(i)
				case 2:
					v[i] = int64(n - i)
				case 3:
					v[i] = 7
				}
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			d := dist(v, nil)
			if d.Median != float64(sorted[rankIndex(n, 0.5)])/1000 || d.P90 != float64(sorted[rankIndex(n, 0.9)])/1000 {
				t.Fatalf("n %d kind %d: median %v p90 %v, sorted %v", n, kind, d.Median, d.P90, sorted)
			}
		}
	}
	// The ranks: of 4 values the median is the 2nd, of 10 the 90th percentile the 9th.
	if rankIndex(4, 0.5) != 1 || rankIndex(10, 0.9) != 8 || rankIndex(1, 0.9) != 0 {
		t.Errorf("ranks %d %d %d", rankIndex(4, 0.5), rankIndex(10, 0.9), rankIndex(1, 0.9))
	}
}
