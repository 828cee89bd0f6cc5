package update

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"guichet/internal/release"
)

// countingTransport counts the requests that would leave the device.
type countingTransport struct{ n atomic.Int32 }

func (c *countingTransport) RoundTrip(*http.Request) (*http.Response, error) {
	c.n.Add(1)
	return nil, http.ErrHandlerTimeout
}

func TestCheckerRefusesPlainHTTPToAnotherMachineAndSendsNoSecret(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	for _, hub := range []string{"http://hub.mairie.local", "http://192.168.1.10:8080", "ftp://hub"} {
		tr := &countingTransport{}
		c := &Checker{Device: d, Hub: hub, DeviceID: "kiosk-1", Secret: "s3cret", Client: &http.Client{Transport: tr}}
		for range 2 {
			_, err := c.Check(context.Background())
			wantReason(t, err, release.ReasonInsecure)
		}
		if tr.n.Load() != 0 {
			t.Fatalf("%s: %d requests sent (with the device's secret in clear)", hub, tr.n.Load())
		}
		if s := d.Status(); s.State != StateFailed || s.Reason != release.ReasonInsecure {
			t.Fatalf("%s: status %+v", hub, s)
		}
	}
}

func TestCheckerAsksAHubOnLoopbackOverHTTP(t *testing.T) {
	k := newKeys(t)
	d := newDevice(t, k, "v1.0.0")
	var asked atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		asked.Add(1)
		http.NotFound(w, r)
	}))
	defer srv.Close()
	c := &Checker{Device: d, Hub: srv.URL, DeviceID: "kiosk-1", Secret: "s3cret"}
	if ok, err := c.Check(context.Background()); ok || err != nil || asked.Load() != 1 {
		t.Fatalf("check: %v %v, %d requests", ok, err, asked.Load())
	}
}
