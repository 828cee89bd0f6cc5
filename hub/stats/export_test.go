package stats

// The year of bench_test.go, for the statistics page's benchmark
// (page_bench_test.go, in package stats_test: hub/console imports
// hub/stats).
var (
	YearData  = yearData
	BenchSite = benchSite
)
