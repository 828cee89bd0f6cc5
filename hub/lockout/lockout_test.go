package lockout

import (
	"fmt"
	"net/netip"
	"testing"
	"time"
)

type clock struct{ now time.Time }

func (c *clock) Now() time.Time               { return c.now }
func (c *clock) Add(d time.Duration)          { c.now = c.now.Add(d) }
func newLimiter(c *clock, o Options) *Limiter { o.Clock = c.Now; return New(o) }

func TestTenFailuresLockAnAddressOutThenOneAMinute(t *testing.T) {
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(c, Options{})
	locks := 0
	for i := 0; i < 10; i++ {
		if ok, _ := l.Allow("192.0.2.7"); !ok {
			t.Fatalf("refused at failure %d, before the burst was spent", i)
		}
		if l.Fail("192.0.2.7") {
			locks++
		}
	}
	ok, retry := l.Allow("192.0.2.7")
	if ok || retry <= 0 || retry > 6*time.Second || locks != 1 {
		t.Fatalf("after 10 failures: allowed %v, retry %s, %d lockouts reported (want refused, ≤ 6 s, 1)", ok, retry, locks)
	}
	if ok, _ := l.Allow("192.0.2.8"); !ok {
		t.Fatal("another address paid for this one's failures")
	}
	c.Add(retry)
	if ok, _ := l.Allow("192.0.2.7"); !ok {
		t.Fatalf("still refused after Retry-After (%s)", retry)
	}
	l.Fail("192.0.2.7")
	if ok, _ := l.Allow("192.0.2.7"); ok {
		t.Fatal("one failure forgiven, one more made: the address must wait again")
	}
	// Over an hour, at most 10 + 3600/6 guesses.
	tries := 0
	for end := c.now.Add(time.Hour); c.now.Before(end); c.Add(100 * time.Millisecond) {
		if ok, _ := l.Allow("192.0.2.7"); ok {
			tries++
			l.Fail("192.0.2.7")
		}
	}
	if tries > 601 {
		t.Fatalf("%d guesses in an hour, want at most 601", tries)
	}
}

func TestManyAddressesShareOneOverflowBucketAndMemoryIsBounded(t *testing.T) {
	c := &clock{now: time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC)}
	l := newLimiter(c, Options{MaxClients: 100})
	guesses := 0
	for i := 0; i < 5000; i++ {
		a := fmt.Sprintf("10.0.%d.%d", i/256, i%256)
		if ok, _ := l.Allow(a); ok {
			guesses++
			l.Fail(a)
		}
	}
	if n := l.Tracked(); n > 100 {
		t.Fatalf("%d buckets kept, bound 100", n)
	}
	if guesses > 100*10+10 {
		t.Fatalf("5,000 addresses guessed %d times at once; 100 buckets and the overflow allow %d", guesses, 100*10+10)
	}
	// Once forgiven, the buckets make room again.
	c.Add(time.Minute + time.Second)
	if ok, _ := l.Allow("10.99.0.1"); !ok {
		t.Fatal("a new address refused a minute after the storm")
	}
	l.Fail("10.99.0.1")
	if l.Tracked() > 100 {
		t.Fatal("no room made")
	}
}

func TestAnIPv6ClientIsItsSlash64(t *testing.T) {
	a, b := netip.MustParseAddr("2001:db8:1:2::1"), netip.MustParseAddr("2001:db8:1:2:ffff::9")
	if Client(a) != Client(b) || Client(a) == Client(netip.MustParseAddr("2001:db8:1:3::1")) {
		t.Fatalf("%s %s", Client(a), Client(b))
	}
	if Client(netip.MustParseAddr("::ffff:192.0.2.1")) != "192.0.2.1" {
		t.Fatal("an IPv4-mapped address is its IPv4 address")
	}
}
