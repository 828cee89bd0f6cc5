package main

import (
	"context"
	"flag"
	"fmt"
	"os"

	"guichet/hub/config"
)

func runDemo(ctx context.Context, args []string) error {
	var f hubFlags
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	f.register(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, site, err := config.Parse("sample.yaml", config.Sample)
	if err != nil {
		return err
	}
	site.Policy.IgnoreHours = true // the demo's services are open around the clock
	log, err := newLogger(os.Stderr, f.logLevel)
	if err != nil {
		return err
	}
	h, err := startHub(log, cfg, site, f)
	if err != nil {
		return err
	}
	fmt.Printf(`
Guichet demo — %s
  Hub API        %s/api/v1/   (OpenAPI: %s/api/v1/openapi.json)
  Queue summary  %s/api/v1/queue
  Board          %s/api/v1/board
  MQTT broker    %s
  Admin token    %s
  Data           %s
Try:
  curl -s --json '{"service":"E"}' -H "Authorization: Bearer %s" %s/api/v1/tickets
Press Ctrl-C to stop.
`, site.Name, h.HTTPURL, h.HTTPURL, h.HTTPURL, h.HTTPURL, h.MQTTURL, h.Token, f.data, h.Token, h.HTTPURL)
	<-ctx.Done()
	return h.Close()
}
