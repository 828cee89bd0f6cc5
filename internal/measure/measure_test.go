package measure

import (
	"testing"
	"time"
)

func TestPercentileNearestRank(t *testing.T) {
	var l Latencies
	for i := 1; i <= 100; i++ {
		l = append(l, time.Duration(i)*time.Millisecond)
	}
	if l.Percentile(50) != 50*time.Millisecond || l.Percentile(99) != 99*time.Millisecond || l.Percentile(100) != 100*time.Millisecond {
		t.Fatalf("p50 %s p99 %s max %s", l.Percentile(50), l.Percentile(99), l.Percentile(100))
	}
	if (Latencies{}).Percentile(99) != 0 {
		t.Fatal("empty")
	}
	if RSS() <= 0 {
		t.Fatal("no resident memory read from /proc")
	}
}
