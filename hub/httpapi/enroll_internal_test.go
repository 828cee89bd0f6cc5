package httpapi

import "testing"

// A broker on every interface or on the hub's loopback is named to a
// device by the host it reached the API at; a named broker is kept.
func TestAnEnrolledDeviceIsGivenABrokerItCanReach(t *testing.T) {
	for _, c := range []struct{ broker, host, want string }{
		{"tcp://[::]:1883", "hub.mairie.local:8443", "tcp://hub.mairie.local:1883"},
		{"tcp://0.0.0.0:1883", "hub.mairie.local", "tcp://hub.mairie.local:1883"},
		{"tcp://127.0.0.1:1883", "192.0.2.7:8080", "tcp://192.0.2.7:1883"},
		{"tcp://localhost:1883", "[2001:db8::1]:8443", "tcp://[2001:db8::1]:1883"},
		{"ssl://:8883", "hub", "ssl://hub:8883"},
		{"tcp://mqtt.mairie.local:1883", "hub.mairie.local", "tcp://mqtt.mairie.local:1883"},
	} {
		if got := reachable(c.broker, c.host); got != c.want {
			t.Errorf("reachable(%q, %q) = %q, want %q", c.broker, c.host, got, c.want)
		}
	}
}
