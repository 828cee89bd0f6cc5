package server

import (
	"encoding/pem"

	"guichet/hub/httpapi"
	"guichet/hub/lockout"
)

// enrollment is what an enrolled device is told of the hub's brokers: their
// URLs and, with the TLS listener, the certificate at the top of its chain
// (the CA a device trusts it with; a self-signed certificate is its own).
func (s *Server) enrollment(o Options) httpapi.Enrollment {
	e := httpapi.Enrollment{Limiter: lockout.New(lockout.Options{Clock: o.AuthClock})}
	if o.MQTTURL == "" && o.MQTTTLS != "" && o.TLS != nil && len(o.TLS.Certificates) > 0 {
		chain := o.TLS.Certificates[0].Certificate
		if len(chain) > 0 {
			e.MQTTURLs = append(e.MQTTURLs, "ssl://"+o.MQTTTLS)
			e.CAPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: chain[len(chain)-1]})
		}
	}
	e.MQTTURLs = append(e.MQTTURLs, s.MQTTURL)
	return e
}

// newestUpdate is the newest version on the update shelf, any
// architecture; "" when none.
func (s *Server) newestUpdate() string {
	if s.Updates == nil {
		return ""
	}
	return s.Updates.NewestVersion()
}
