package auth

import (
	"net/http"
	"net/netip"
	"strings"
)

// ClientAddr returns the address a request comes from: the connection's
// peer; or, when the peer is a trusted proxy, the nearest address in
// X-Forwarded-For that is not itself a trusted proxy (read from the right:
// what a client writes on the left is not to be believed).
func (s *Service) ClientAddr(r *http.Request) netip.Addr {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return netip.Addr{}
	}
	addr := peer.Addr().Unmap()
	if !s.trusted(addr) {
		return addr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(hops[i]))
		if err != nil {
			return addr // a hop we cannot read: stop at the last one we trust
		}
		if addr = a.Unmap(); !s.trusted(addr) {
			return addr
		}
	}
	return addr
}

// HTTPS reports whether the browser reached the hub over HTTPS: the
// listener has TLS, or a trusted proxy says so (X-Forwarded-Proto).
func (s *Service) HTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && s.trusted(peer.Addr().Unmap()) {
		return strings.EqualFold(strings.TrimSpace(r.Header.Get("X-Forwarded-Proto")), "https")
	}
	return false
}

// Host is the host the browser asked for: Host, or a trusted proxy's
// X-Forwarded-Host.
func (s *Service) Host(r *http.Request) string {
	if peer, err := netip.ParseAddrPort(r.RemoteAddr); err == nil && s.trusted(peer.Addr().Unmap()) {
		if h := strings.TrimSpace(r.Header.Get("X-Forwarded-Host")); h != "" {
			return h
		}
	}
	return r.Host
}

func (s *Service) trusted(a netip.Addr) bool {
	for _, p := range s.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
