package server

import (
	"path/filepath"

	"guichet/cloud"
	"guichet/hub/queue"
)

// startOutbox opens the dead letters (cloud.db in the data directory) and
// starts the connectors outward: the MQTT bus's events/… and the
// destinations of the site file.
func (s *Server) startOutbox(o Options) error {
	dl, err := cloud.OpenDeadLetters(filepath.Join(o.Data, "cloud.db"), o.Log)
	if err != nil {
		return err
	}
	s.deadLetters = dl
	s.Outbox = cloud.New(cloud.Options{Log: s.Store, Watch: s.Hub.Watch, DeadLetters: dl, Logger: o.Log,
		Site: func() (site cloud.Site) {
			s.Hub.Read(func(e *queue.Engine) { site = cloud.SiteOf(e.Site()) })
			return site
		}})
	var pub cloud.Publisher = s.broker
	if s.external != nil {
		pub = s.external
	}
	if err := s.Outbox.Add(cloud.BusDestination(pub, s.Topics)); err != nil {
		return err
	}
	dests, err := Destinations(o.Config, o.Site.ID, o.Log)
	if err != nil {
		return err
	}
	for _, d := range dests {
		if err := s.Outbox.Add(d); err != nil {
			return err
		}
	}
	s.Outbox.Start()
	return nil
}

// closeOutbox stops the connectors (each writes its cursor) and closes the
// dead letters.
func (s *Server) closeOutbox() error {
	if s.Outbox != nil {
		s.Outbox.Close()
	}
	if s.deadLetters != nil {
		return s.deadLetters.Close()
	}
	return nil
}
