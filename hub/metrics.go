package hub

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"guichet/hub/queue"
)

// Metrics are the hub's Prometheus metrics, in a registry of their own.
type Metrics struct {
	Registry     *prometheus.Registry
	ops          *prometheus.CounterVec
	commitSize   prometheus.Histogram
	commitTime   prometheus.Histogram
	batchLatency prometheus.Histogram
	writable     prometheus.Gauge
}

func newMetrics(h *Hub) *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		ops: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "guichet_operations_total", Help: "Operations on the queue, by operation and result code.",
		}, []string{"op", "result"}),
		commitSize: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "guichet_commit_operations", Help: "Operations made durable by one commit (group commit).",
			Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512},
		}),
		commitTime: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "guichet_commit_seconds", Help: "Time to make a batch of events durable.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		batchLatency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "guichet_batch_seconds", Help: "Time from taking a batch of operations to answering them.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2, 16),
		}),
		writable: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "guichet_store_writable", Help: "1 while the database takes writes, 0 while the hub refuses operations because it does not (a full disk).",
		}),
	}
	m.writable.Set(1)
	m.Registry.MustRegister(m.ops, m.commitSize, m.commitTime, m.batchLatency, m.writable,
		prometheus.NewGoCollector(), prometheus.NewProcessCollector(prometheus.ProcessCollectorOpts{}),
		&queueCollector{h: h})
	return m
}

func (m *Metrics) observeOp(op string, err error) {
	result := "ok"
	var qe *queue.Error
	switch {
	case errors.As(err, &qe):
		result = qe.Code
	case errors.Is(err, ErrUnavailable):
		result = "unavailable"
	case err != nil:
		result = "error"
	}
	m.ops.WithLabelValues(op, result).Inc()
}

func (m *Metrics) observeCommit(n int, d time.Duration) {
	m.commitSize.Observe(float64(n))
	m.commitTime.Observe(d.Seconds())
}

// queueCollector reads the live queue at scrape time.
type queueCollector struct{ h *Hub }

var (
	waitingDesc = prometheus.NewDesc("guichet_waiting_tickets", "Tickets waiting, by service and channel.", []string{"service", "channel"}, nil)
	longestDesc = prometheus.NewDesc("guichet_longest_wait_seconds", "Longest current wait, by service.", []string{"service"}, nil)
	agentsDesc  = prometheus.NewDesc("guichet_agents", "Agents, by state.", []string{"state"}, nil)
	eventsDesc  = prometheus.NewDesc("guichet_events_total", "Events in the log.", nil, nil)
)

func (c *queueCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- waitingDesc
	ch <- longestDesc
	ch <- agentsDesc
	ch <- eventsDesc
}

func (c *queueCollector) Collect(ch chan<- prometheus.Metric) {
	now := c.h.Now()
	c.h.Read(func(e *queue.Engine) {
		for _, s := range e.Summary(now) {
			ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(s.Waiting-s.WaitingPhone), s.Service, "visit")
			ch <- prometheus.MustNewConstMetric(waitingDesc, prometheus.GaugeValue, float64(s.WaitingPhone), s.Service, "phone")
			ch <- prometheus.MustNewConstMetric(longestDesc, prometheus.GaugeValue, s.LongestWait.Seconds(), s.Service)
		}
		states := map[queue.AgentState]int{}
		for _, a := range e.Agents() {
			states[a.State]++
		}
		for _, s := range []queue.AgentState{queue.AgentOffline, queue.AgentAvailable, queue.AgentServing, queue.AgentPaused, queue.AgentWrapUp} {
			ch <- prometheus.MustNewConstMetric(agentsDesc, prometheus.GaugeValue, float64(states[s]), string(s))
		}
	})
	ch <- prometheus.MustNewConstMetric(eventsDesc, prometheus.CounterValue, float64(c.h.st.LastSeq()))
}
