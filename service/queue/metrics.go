package queue

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Metrics are the gateway's Prometheus collectors, registered on a registry
// owned by main (no global registry).
type Metrics struct {
	CallbackRequests *prometheus.CounterVec
	CallbackLatency  *prometheus.HistogramVec
	Events           *prometheus.CounterVec
	EventLatency     *prometheus.HistogramVec
	Jobs             *prometheus.CounterVec
}

// Callback results for gateway_callback_requests_total.
const (
	ResultAccepted     = "accepted"
	ResultDuplicate    = "duplicate"
	ResultBadSignature = "bad_signature"
	ResultBadRequest   = "bad_request"
	ResultUnknownCorp  = "unknown_corp"
	ResultStoreError   = "store_error"
	ResultBusy         = "busy"
	ResultVerified     = "url_verified"
)

// NewMetrics creates and registers the collectors.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		CallbackRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_callback_requests_total",
			Help: "WeCom callback requests by corp and result.",
		}, []string{"corp", "result"}),
		CallbackLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_callback_duration_seconds",
			Help:    "Time from receiving a WeCom callback to acknowledging it.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}, []string{"method"}),
		Events: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_events_total",
			Help: "Stored WeCom events by type and final outcome (processed, ignored, failed, retried).",
		}, []string{"type", "outcome"}),
		EventLatency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "gateway_event_processing_seconds",
			Help:    "Time from storing an event to finishing it.",
			Buckets: []float64{.001, .005, .01, .05, .1, .5, 1, 5, 20, 60},
		}, []string{"type"}),
		Jobs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_jobs_total",
			Help: "Side-effect jobs by kind and outcome (processed, ignored, failed, retried).",
		}, []string{"kind", "outcome"}),
	}
	reg.MustRegister(m.CallbackRequests, m.CallbackLatency, m.Events, m.EventLatency, m.Jobs)
	return m
}

// StatementCounter reports what the store has sent to the database.
type StatementCounter interface {
	Statements() model.StatementCounts
}

// dbCollector exposes the store's own counts as counters, read at scrape
// time: gateway_db_transactions_total and gateway_db_statements_total{op}.
type dbCollector struct {
	store      StatementCounter
	txDesc     *prometheus.Desc
	statements *prometheus.Desc
}

// RegisterDBMetrics registers the store's transaction and statement counts.
func RegisterDBMetrics(reg prometheus.Registerer, store StatementCounter) {
	reg.MustRegister(&dbCollector{
		store: store,
		txDesc: prometheus.NewDesc("gateway_db_transactions_total",
			"Database transactions begun by this process, and writes sent outside one (each commits on its own).", nil, nil),
		statements: prometheus.NewDesc("gateway_db_statements_total",
			"Statements this process sent to the database, by op (select, insert, update, delete, other).", []string{"op"}, nil),
	})
}

func (c *dbCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.txDesc
	ch <- c.statements
}

func (c *dbCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.store.Statements()
	ch <- prometheus.MustNewConstMetric(c.txDesc, prometheus.CounterValue, float64(n.Transactions))
	for _, op := range model.StatementOps {
		ch <- prometheus.MustNewConstMetric(c.statements, prometheus.CounterValue, float64(n.Statements[op]), op)
	}
}

// RegisterWeComMetrics registers gateway_wecom_api_held_seconds{corp,api}:
// how long each API of each corp is still held after WeCom answered 45009
// or 45033 (0: not held), whichever replica was answered, read at scrape
// time from the clients.
func RegisterWeComMetrics(reg prometheus.Registerer, clients map[string]*wecom.Client) {
	reg.MustRegister(&holdCollector{clients: clients,
		desc: prometheus.NewDesc("gateway_wecom_api_held_seconds",
			"Seconds until the rate-limit hold of a WeCom API ends after a 45009/45033 answered to any replica (0: not held).",
			[]string{"corp", "api"}, nil)})
}

type holdCollector struct {
	clients map[string]*wecom.Client
	desc    *prometheus.Desc
}

func (c *holdCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *holdCollector) Collect(ch chan<- prometheus.Metric) {
	for corp, cl := range c.clients {
		for _, s := range cl.Budgets() {
			ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, s.HeldFor.Seconds(), corp, s.API)
		}
	}
}
