package cloud

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"time"

	"guichet/hub/api"
)

// Export formats.
const (
	CSV    = "csv"
	NDJSON = "ndjson"
)

// CSVColumns are the columns of the CSV export, named as the events' JSON
// fields.
var CSVColumns = []string{"id", "seq", "type", "at", "day", "ticket", "number", "service", "service_name", "from",
	"channel", "priority", "issued_at", "appointment_at", "counter", "counter_name", "agent", "agent_name",
	"device", "actor", "reason", "recall"}

// Export writes the events that happened from from (included) to to
// (excluded) to w, as a public destination gets them (no personal data):
// NDJSON, one CloudEvent a line; or CSV, a header then one event a row,
// times with the site's offset. It returns how many events it wrote.
func (o *Outbox) Export(ctx context.Context, w io.Writer, format string, from, to time.Time) (int, error) {
	if format != CSV && format != NDJSON {
		return 0, fmt.Errorf("format %q: csv or ndjson", format)
	}
	m := NewMapper(o.opts.Site(), o.opts.Log, Public)
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := csv.NewWriter(bw)
	if format == CSV {
		if err := cw.Write(CSVColumns); err != nil {
			return 0, err
		}
	}
	n := 0
	var after int64
	for {
		evs, err := o.opts.Log.EventsBetween(ctx, from, to, after, page)
		if err != nil {
			return n, err
		}
		for _, ev := range evs {
			after = ev.Seq
			if Personal(ev) {
				continue
			}
			ce, d, err := m.cloudEvent(ctx, ev)
			if err != nil {
				return n, err
			}
			if format == NDJSON {
				b, err := json.Marshal(ce)
				if err != nil {
					return n, err
				}
				bw.Write(b)
				if err := bw.WriteByte('\n'); err != nil {
					return n, err
				}
			} else if err := cw.Write(csvRow(ce.ID, d)); err != nil {
				return n, err
			}
			n++
		}
		if len(evs) < page {
			break
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, err
	}
	return n, bw.Flush()
}

func csvRow(id string, d api.EventData) []string {
	tm := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	recall := ""
	if d.Recall > 0 {
		recall = strconv.Itoa(d.Recall)
	}
	return []string{id, strconv.FormatInt(d.Seq, 10), d.Type, d.At.Format(time.RFC3339Nano), d.Day, d.Ticket, d.Number,
		d.Service, d.ServiceName, d.From, d.Channel, d.Priority, tm(d.IssuedAt), tm(d.AppointmentAt), d.Counter,
		d.CounterName, d.Agent, d.AgentName, d.Device, d.Actor, d.Reason, recall}
}
