package link_test

import (
	"sync"
	"testing"
	"time"

	"guichet/firmware/link"
	"guichet/hub/api"
	"guichet/internal/sitetest"
)

// A device's state carries its board's health, and is published again
// when the health changes enough (a board warming up by 3 °C or more), so
// that supervision and its overheating alert see it; a change of a tenth
// of a degree is not worth a publish.
func TestTheStateCarriesTheBoardsHealthAndFollowsIt(t *testing.T) {
	s := sitetest.Start(t, sitetest.Options{})
	secret := s.AddDevice("screen-1", api.RoleDisplay, "")
	var mu sync.Mutex
	temp := 55.0
	o := s.LinkOptions("screen-1", secret, api.RoleDisplay, t.TempDir())
	o.HealthEvery = 20 * time.Millisecond
	o.Health = func() *api.DeviceHealth {
		mu.Lock()
		defer mu.Unlock()
		c := temp
		return &api.DeviceHealth{TempC: &c}
	}
	l, err := link.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tempAtHub := func() float64 {
		st, ok := s.Bus.State("screen-1")
		if !ok || st.Health == nil || st.Health.TempC == nil {
			return -1
		}
		return *st.Health.TempC
	}
	sitetest.Eventually(t, 5*time.Second, "the health in the state", func() bool { return tempAtHub() == 55 })
	mu.Lock()
	temp = 55.5
	mu.Unlock()
	time.Sleep(200 * time.Millisecond) // ten reads of the health: none worth a publish
	if got := tempAtHub(); got != 55 {
		t.Fatalf("the hub has %v °C: a change of half a degree was published", got)
	}
	mu.Lock()
	temp = 82
	mu.Unlock()
	sitetest.Eventually(t, 5*time.Second, "the warmer board published", func() bool { return tempAtHub() == 82 })
}
