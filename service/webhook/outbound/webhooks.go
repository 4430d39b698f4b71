package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// WebhookOptions tune the webhook sender.
type WebhookOptions struct {
	Policy webhook.NetworkPolicy
	// Timeout bounds one request, connection to last byte (default 15 s).
	Timeout time.Duration
	// Workers is how many requests this replica has in flight (default 16).
	Workers int
	// PollInterval is how often the outbox is looked at for deliveries
	// written by other transactions and replicas (default 1 s).
	PollInterval time.Duration
	// Lease is how long a claimed delivery is held (default 4×Timeout, at least 1 min).
	Lease time.Duration
	// Jitter spreads a scheduled wait (default ±10 %).
	Jitter     func(time.Duration) time.Duration
	Logger     *slog.Logger
	Registerer prometheus.Registerer
}

func (o *WebhookOptions) defaults() {
	if o.Timeout <= 0 {
		o.Timeout = 15 * time.Second
	}
	if o.Workers < 1 {
		o.Workers = 16
	}
	if o.PollInterval <= 0 {
		o.PollInterval = time.Second
	}
	if o.Lease <= 0 {
		o.Lease = max(4*o.Timeout, time.Minute)
	}
	if o.Jitter == nil {
		o.Jitter = webhook.DefaultJitter
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
}

type webhookMetrics struct {
	deliveries    *prometheus.CounterVec
	latency       prometheus.Histogram
	lag           prometheus.Histogram
	disabled      *prometheus.CounterVec
	disabledNow   prometheus.Gauge
	collectorList []prometheus.Collector
}

func newWebhookMetrics(reg prometheus.Registerer) *webhookMetrics {
	m := &webhookMetrics{
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhook_deliveries_total",
			Help: "Webhook delivery attempts by outcome: delivered, retried (will be sent again), failed (final).",
		}, []string{"outcome"}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_webhook_request_duration_seconds",
			Help:    "Time for one webhook request, connection to the end of the answer's first KiB.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 15},
		}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gateway_webhook_delivery_lag_seconds",
			Help:    "Time from an event entering the outbox to its endpoint accepting it.",
			Buckets: []float64{.01, .05, .1, .5, 1, 5, 30, 300, 1800, 7200, 36000, 100000},
		}),
		disabled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gateway_webhook_endpoints_disabled_total",
			Help: "Webhook endpoints the sender disabled, by reason: gone (HTTP 410), failing (no success for 3 days).",
		}, []string{"reason"}),
		disabledNow: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "gateway_webhook_endpoints_disabled",
			Help: "Webhook endpoints that are disabled now (by the sender or an admin); alert on > 0.",
		}),
	}
	m.collectorList = []prometheus.Collector{m.deliveries, m.latency, m.lag, m.disabled, m.disabledNow}
	if reg != nil {
		reg.MustRegister(m.collectorList...)
	}
	return m
}

// Webhooks owns CRM webhook endpoints and delivers the outbox to them:
// signed per Standard Webhooks, retried on a published schedule, in order
// per subject, claimed with leases so replicas never send one delivery twice
// at once.
type Webhooks struct {
	store   Store
	client  *webhook.Client
	pool    *queue.Pool
	clock   clock.Clock
	jitter  func(time.Duration) time.Duration
	poll    time.Duration
	log     *slog.Logger
	metrics *webhookMetrics
	// attempts group-commits the outcomes of concurrent sends.
	attempts *queue.GroupCommit[model.WebhookAttemptRecord, model.AttemptRecorded]
}

// NewWebhooks builds the service; Run starts sending. clk is the clock of
// schedules, signatures and the endpoint's disable.
func NewWebhooks(store Store, clk clock.Clock, opts WebhookOptions) *Webhooks {
	opts.defaults()
	w := &Webhooks{
		store:   store,
		client:  webhook.NewClient(opts.Policy, opts.Timeout, opts.Workers, clk),
		clock:   clk,
		jitter:  opts.Jitter,
		poll:    opts.PollInterval,
		log:     opts.Logger.With("component", "webhooks"),
		metrics: newWebhookMetrics(opts.Registerer),
	}
	// Attempts that end while another is being recorded share the next
	// transaction.
	w.attempts = queue.NewGroupCommit(opts.Workers, store.RecordWebhookAttempts)
	// The shared pool claims, leases, recovers and hands back; the handler
	// writes the delivery's outcome itself, because a webhook's next attempt
	// follows its own schedule and the answer can disable the endpoint.
	w.pool = queue.NewPool("webhooks", queue.QueueOps{
		Claim: func(ctx context.Context, owner string, lease time.Duration, n int, _ bool) ([]queue.QueueItem, error) {
			rows, err := store.ClaimWebhookDeliveries(ctx, owner, lease, n)
			items := make([]queue.QueueItem, len(rows))
			for i := range rows {
				c := &rows[i]
				items[i] = queue.QueueItem{ID: c.Delivery.ID, CorpID: c.Delivery.CorpID, Type: c.Delivery.EventType,
					Attempts: c.Delivery.Attempts, CreatedAt: c.Delivery.CreatedAt, Value: c}
			}
			return items, err
		},
		Finish: func(ctx context.Context, id uint64, owner, status, reason string) error {
			if status == queue.StatusProcessed {
				return nil // deliver recorded it
			}
			return store.FinishWebhookDelivery(ctx, id, owner, status, reason)
		},
		Retry:          store.RetryWebhookDelivery,
		Release:        store.ReleaseWebhookDeliveries,
		RecoverExpired: store.RecoverExpiredWebhookDeliveries,
		Renew:          store.RenewWebhookDeliveryLeases,
		Handle: func(ctx context.Context, it queue.QueueItem) error {
			return w.deliver(ctx, w.pool.Owner, it.Value.(*model.ClaimedDelivery))
		},
		Count: func(queue.QueueItem, string) {},
	}, clk, queue.NewWake(), queue.PoolOptions{
		Workers: opts.Workers, BatchSize: opts.Workers * 2, SweepInterval: opts.PollInterval, Lease: opts.Lease,
		MaxAttempts: 1000, Logger: opts.Logger, DrainTimeout: opts.Timeout + 5*time.Second,
	})
	return w
}

// Run sends deliveries until ctx is cancelled, then finishes the requests in
// flight and hands back the rest.
func (w *Webhooks) Run(ctx context.Context) error {
	done := make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(30 * time.Second)
		defer t.Stop()
		for {
			w.refreshDisabled(ctx)
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	w.pool.Run(ctx)
	<-done
	return nil
}

// Notify wakes the sender after deliveries were written in this process.
func (w *Webhooks) Notify() { w.pool.Notify() }

// SetNetworkPolicy replaces the network policy of new endpoints and of
// every later connection.
func (w *Webhooks) SetNetworkPolicy(p webhook.NetworkPolicy) { w.client.Policy.Store(&p) }

func (w *Webhooks) refreshDisabled(ctx context.Context) {
	if n, err := w.store.CountDisabledWebhookEndpoints(ctx); err == nil {
		w.metrics.disabledNow.Set(float64(n))
	}
}

// --- endpoints -----------------------------------------------------------------

// WebhookEndpointSpec is an endpoint as an admin writes it; nil fields are
// left as they are on update.
type WebhookEndpointSpec struct {
	URL         *string   `json:"url"`
	Description *string   `json:"description"`
	EventTypes  *[]string `json:"event_types"`
	Enabled     *bool     `json:"enabled"`
	// Version pins the payload schema version (create only; default the
	// current one).
	Version *int `json:"version"`
}

// WebhookEndpoint is an endpoint as the API shows it. The secret is shown
// only when it is made (create, rotate-secret).
type WebhookEndpoint struct {
	ID             uint64          `json:"id"`
	CorpID         string          `json:"corp_id"`
	URL            string          `json:"url"`
	Description    string          `json:"description"`
	EventTypes     []string        `json:"event_types"`
	Version        int             `json:"version"`
	Enabled        bool            `json:"enabled"`
	DisabledAt     *wire.Timestamp `json:"disabled_at,omitempty"`
	DisabledReason string          `json:"disabled_reason,omitempty"`
	// DisabledReasonMessage is DisabledReason as a message.
	DisabledReasonMessage   *explain.Message `json:"disabled_reason_message,omitempty"`
	FailingSince            *wire.Timestamp  `json:"failing_since,omitempty"`
	PreviousSecretExpiresAt *wire.Timestamp  `json:"previous_secret_expires_at,omitempty"`
	CreatedBy               string           `json:"created_by,omitempty"`
	CreatedAt               wire.Timestamp   `json:"created_at"`
	UpdatedAt               wire.Timestamp   `json:"updated_at"`
	Secret                  string           `json:"secret,omitempty"`
}

func (w *Webhooks) view(e *model.WebhookEndpoint) *WebhookEndpoint {
	v := &WebhookEndpoint{ID: e.ID, CorpID: e.CorpID, URL: e.URL, Description: e.Description, EventTypes: e.Types(),
		Version: e.Version, Enabled: e.Enabled, DisabledAt: wire.AtPtr(e.DisabledAt), DisabledReason: e.DisabledReason, DisabledReasonMessage: explain.Failure(e.DisabledReason),
		FailingSince: wire.AtPtr(e.FailingSince), CreatedBy: e.CreatedBy, CreatedAt: wire.At(e.CreatedAt), UpdatedAt: wire.At(e.UpdatedAt)}
	if v.EventTypes == nil {
		v.EventTypes = []string{}
	}
	if e.PreviousSecretUntil != nil && w.clock.Now().Before(*e.PreviousSecretUntil) {
		v.PreviousSecretExpiresAt = wire.AtPtr(e.PreviousSecretUntil)
	}
	return v
}

func validateEventTypes(types []string) (string, error) {
	seen := map[string]bool{}
	out := []string{}
	for _, t := range types {
		if !webhook.ValidWebhookEventType(t) {
			return "", &apierr.ValidationError{Field: "event_types", Reason: fmt.Sprintf("unknown event type %q; known: %s", t, strings.Join(webhook.WebhookEventTypes, ", "))}
		}
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	b, _ := json.Marshal(out)
	return string(b), nil
}

func (w *Webhooks) applySpec(ctx context.Context, e *model.WebhookEndpoint, s WebhookEndpointSpec) error {
	if s.URL != nil {
		u := strings.TrimSpace(*s.URL)
		if err := webhook.CheckURL(ctx, *w.client.Policy.Load(), u); err != nil {
			return err
		}
		e.URL = u
	}
	if s.Description != nil {
		if len(*s.Description) > 512 {
			return &apierr.ValidationError{Field: "description", Reason: "must be at most 512 bytes"}
		}
		e.Description = *s.Description
	}
	if s.EventTypes != nil {
		types, err := validateEventTypes(*s.EventTypes)
		if err != nil {
			return err
		}
		e.EventTypes = types
	}
	if s.Enabled != nil {
		e.Enabled = *s.Enabled
	}
	if s.Version != nil {
		if err := webhook.CheckVersion(*s.Version); err != nil {
			return err
		}
		e.Version = *s.Version
	}
	return nil
}

// CreateEndpoint validates and stores an endpoint and returns it with its
// secret, which is never shown again.
func (w *Webhooks) CreateEndpoint(ctx context.Context, corpID, createdBy string, s WebhookEndpointSpec) (*WebhookEndpoint, error) {
	if s.URL == nil {
		return nil, &apierr.ValidationError{Field: "url", Reason: "is required"}
	}
	e := &model.WebhookEndpoint{CorpID: corpID, EventTypes: "[]", Version: webhook.WebhookVersion, Enabled: true, Secret: webhook.NewSecret(),
		CreatedBy: createdBy}
	if err := w.applySpec(ctx, e, s); err != nil {
		return nil, err
	}
	if err := w.store.CreateWebhookEndpoint(ctx, e); err != nil {
		return nil, err
	}
	v := w.view(e)
	v.Secret = e.Secret
	return v, nil
}

// ListEndpoints returns a corp's endpoints.
func (w *Webhooks) ListEndpoints(ctx context.Context, corpID string) ([]*WebhookEndpoint, error) {
	eps, err := w.store.ListWebhookEndpoints(ctx, corpID)
	if err != nil {
		return nil, err
	}
	out := make([]*WebhookEndpoint, len(eps))
	for i := range eps {
		out[i] = w.view(&eps[i])
	}
	return out, nil
}

// GetEndpoint returns one endpoint.
func (w *Webhooks) GetEndpoint(ctx context.Context, corpID string, id uint64) (*WebhookEndpoint, error) {
	e, err := w.store.WebhookEndpoint(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	return w.view(e), nil
}

// UpdateEndpoint changes the fields the spec sets. Disabling fails the
// endpoint's pending deliveries; enabling clears why it was disabled.
func (w *Webhooks) UpdateEndpoint(ctx context.Context, corpID string, id uint64, s WebhookEndpointSpec) (*WebhookEndpoint, error) {
	if s.Version != nil {
		// A receiver is written against one version: a new version is a
		// new endpoint, made beside the old one.
		return nil, &apierr.ValidationError{Field: "version", Reason: "is fixed when the endpoint is made; make a new endpoint for another version"}
	}
	// Validate (and resolve the URL) before the row lock is taken.
	var probe model.WebhookEndpoint
	if err := w.applySpec(ctx, &probe, s); err != nil {
		return nil, err
	}
	e, err := w.store.UpdateWebhookEndpoint(ctx, corpID, id, func(e *model.WebhookEndpoint) error {
		if s.URL != nil {
			e.URL = probe.URL
		}
		if s.Description != nil {
			e.Description = probe.Description
		}
		if s.EventTypes != nil {
			e.EventTypes = probe.EventTypes
		}
		if s.Enabled != nil {
			e.Enabled = *s.Enabled
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return w.view(e), nil
}

// DeleteEndpoint removes an endpoint; its pending deliveries fail.
func (w *Webhooks) DeleteEndpoint(ctx context.Context, corpID string, id uint64) error {
	return w.store.DeleteWebhookEndpoint(ctx, corpID, id)
}

// SecretGrace is how long a rotated-out secret keeps signing.
const SecretGrace = 24 * time.Hour

// RotateSecret gives an endpoint a new secret and keeps signing with the old
// one for SecretGrace, so the CRM can switch without losing a delivery.
func (w *Webhooks) RotateSecret(ctx context.Context, corpID string, id uint64) (*WebhookEndpoint, error) {
	secret := webhook.NewSecret()
	until := w.clock.Now().Add(SecretGrace).UTC()
	e, err := w.store.UpdateWebhookEndpoint(ctx, corpID, id, func(e *model.WebhookEndpoint) error {
		e.PreviousSecret, e.PreviousSecretUntil, e.Secret = e.Secret, &until, secret
		return nil
	})
	if err != nil {
		return nil, err
	}
	v := w.view(e)
	v.Secret = secret
	return v, nil
}

// --- deliveries --------------------------------------------------------------

// Delivery statuses an admin may filter by.
var deliveryStatuses = []string{model.StatusPending, model.StatusProcessing, model.DeliveryDelivered, model.StatusFailed}

// CheckDeliveryQuery validates a query's status and event type.
func CheckDeliveryQuery(f DeliveryQuery) error {
	if f.Status != "" && !slices.Contains(deliveryStatuses, f.Status) {
		return &apierr.ValidationError{Field: "status", Reason: "must be one of " + strings.Join(deliveryStatuses, ", ")}
	}
	if f.EventType != "" && !webhook.ValidWebhookEventType(f.EventType) {
		return &apierr.ValidationError{Field: "type", Reason: "unknown event type"}
	}
	return nil
}

// WebhookDelivery is one event on its way to one endpoint, with every
// attempt, as the API shows it.
type WebhookDelivery struct {
	ID           uint64 `json:"id"`
	CorpID       string `json:"corp_id"`
	EndpointID   uint64 `json:"endpoint_id"`
	EventType    string `json:"event_type"`
	Subject      string `json:"subject,omitempty"`
	Status       string `json:"status"`
	AttemptsMade int    `json:"attempts_made"`
	Error        string `json:"error,omitempty"`
	// ErrorMessage is Error as a message (see ExplainFailure).
	ErrorMessage   *explain.Message `json:"error_message,omitempty"`
	LastStatusCode int              `json:"last_status_code,omitempty"`
	// NextAttemptAt is when a pending delivery is due.
	NextAttemptAt *wire.Timestamp  `json:"next_attempt_at,omitempty"`
	CreatedAt     wire.Timestamp   `json:"created_at"`
	FinishedAt    *wire.Timestamp  `json:"finished_at,omitempty"`
	WebhookID     string           `json:"webhook_id"`
	Attempts      []WebhookAttempt `json:"attempts"`
	// Payload is the exact body every attempt sends (one delivery only).
	Payload json.RawMessage `json:"payload,omitempty"`
}

// WebhookAttempt is one request of a delivery and what came back.
type WebhookAttempt struct {
	Attempt    int            `json:"attempt"`
	At         wire.Timestamp `json:"at"`
	StatusCode int            `json:"status_code"`
	LatencyMS  int64          `json:"latency_ms"`
	Response   string         `json:"response,omitempty"`
	Error      string         `json:"error,omitempty"`
	// ErrorMessage is Error as a message (see ExplainFailure).
	ErrorMessage *explain.Message `json:"error_message,omitempty"`
}

func viewDelivery(d *model.DeliveryWithAttempts) WebhookDelivery {
	v := WebhookDelivery{ID: d.ID, CorpID: d.CorpID, EndpointID: d.EndpointID, EventType: d.EventType, Subject: d.Subject,
		Status: d.Status, AttemptsMade: d.WebhookDelivery.Attempts, Error: d.Error, ErrorMessage: explain.Failure(d.Error), LastStatusCode: d.LastStatusCode,
		CreatedAt: wire.At(d.CreatedAt), FinishedAt: wire.AtPtr(d.ProcessedAt), WebhookID: d.WebhookID, Attempts: []WebhookAttempt{}}
	if d.Status == model.StatusPending {
		v.NextAttemptAt = wire.AtPtr(&d.AvailableAt)
	}
	for _, a := range d.Attempts {
		v.Attempts = append(v.Attempts, WebhookAttempt{Attempt: a.Attempt, At: wire.At(a.At), StatusCode: a.StatusCode,
			LatencyMS: a.LatencyMS, Response: a.Response, Error: a.Error, ErrorMessage: explain.Failure(a.Error)})
	}
	return v
}

// ListDeliveries returns deliveries newest first, each with its attempts.
func (w *Webhooks) ListDeliveries(ctx context.Context, f DeliveryQuery) ([]WebhookDelivery, error) {
	if err := CheckDeliveryQuery(f); err != nil {
		return nil, err
	}
	ds, err := w.store.ListWebhookDeliveries(ctx, f.filter())
	if err != nil {
		return nil, err
	}
	out := make([]WebhookDelivery, len(ds))
	for i := range ds {
		out[i] = viewDelivery(&ds[i])
	}
	return out, nil
}

// GetDelivery returns one delivery with its attempts and payload.
func (w *Webhooks) GetDelivery(ctx context.Context, corpID string, id uint64) (*WebhookDelivery, error) {
	d, m, err := w.store.WebhookDelivery(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	v := viewDelivery(d)
	v.Payload = json.RawMessage(m.Body)
	return &v, nil
}

// Replay errors, rendered as 409.
var (
	ErrEndpointDisabled = model.ErrEndpointDisabled
	ErrDeliveryInFlight = model.ErrDeliveryInFlight
)

// Replay sends a delivered or failed delivery again (same webhook-id, same
// body, a fresh retry schedule); a pending one is made due now.
func (w *Webhooks) Replay(ctx context.Context, corpID string, id uint64) error {
	if err := w.store.ReplayWebhookDelivery(ctx, corpID, id); err != nil {
		return err
	}
	w.Notify()
	return nil
}

// ReplayMatching replays every finished delivery matching f whose endpoint
// is enabled. Without a status it replays the failed ones.
func (w *Webhooks) ReplayMatching(ctx context.Context, f DeliveryQuery) (int64, error) {
	if f.Status == "" {
		f.Status = model.StatusFailed
	}
	if f.Status != model.StatusFailed && f.Status != model.DeliveryDelivered {
		return 0, &apierr.ValidationError{Field: "status", Reason: "only failed or delivered deliveries can be replayed"}
	}
	if err := CheckDeliveryQuery(f); err != nil {
		return 0, err
	}
	n, err := w.store.ReplayWebhookDeliveries(ctx, f.filter())
	if n > 0 {
		w.Notify()
	}
	return n, err
}

// IsReplayConflict reports a replay refused because of the delivery's or
// endpoint's state.
func IsReplayConflict(err error) bool {
	return errors.Is(err, ErrEndpointDisabled) || errors.Is(err, ErrDeliveryInFlight)
}

// --- the test event ------------------------------------------------------------

// WebhookTestResult is what an endpoint answered to a test event.
type WebhookTestResult struct {
	// WebhookID is the test event's webhook-id (a new one each time).
	WebhookID string         `json:"webhook_id"`
	At        wire.Timestamp `json:"at"`
	// OK is a 2xx answer: the endpoint verified the signature and took it.
	OK bool `json:"ok"`
	// StatusCode is 0 when no answer came.
	StatusCode int    `json:"status_code"`
	LatencyMS  int64  `json:"latency_ms"`
	Response   string `json:"response,omitempty"`
	Error      string `json:"error,omitempty"`
	// ErrorMessage is Error as a message (see ExplainFailure).
	ErrorMessage *explain.Message `json:"error_message,omitempty"`
	// Payload is the exact body sent.
	Payload json.RawMessage `json:"payload"`
}

// SendTest sends one signed webhook.test event to an endpoint now, signed
// as its deliveries are (both secrets while a rotation's grace lasts), and
// returns the answer. A disabled endpoint is sent to as well, so it can be
// checked before it is enabled again; nothing is recorded as a delivery.
func (w *Webhooks) SendTest(ctx context.Context, corpID string, id uint64) (*WebhookTestResult, error) {
	e, err := w.store.WebhookEndpoint(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	now := w.clock.Now()
	msgID := model.NewWebhookMsgID(now)
	body, err := webhook.TestBody(msgID, now)
	if err != nil {
		return nil, err
	}
	res := w.client.Post(ctx, e.URL, validSecrets(e, now), msgID, now, body)
	out := &WebhookTestResult{WebhookID: msgID, At: wire.At(now), OK: res.OK(), StatusCode: res.StatusCode,
		LatencyMS: res.Latency.Milliseconds(), Response: res.Response, Payload: body}
	if !out.OK {
		out.Error = res.Describe()
		out.ErrorMessage = explain.Failure(out.Error)
	}
	return out, nil
}

// SendTestWebhook sends one signed webhook.test event to url, under the same
// network policy and timeout as real deliveries.
func SendTestWebhook(ctx context.Context, p webhook.NetworkPolicy, timeout time.Duration, url, secret string, clk clock.Clock) (webhook.AttemptResult, []byte, error) {
	now := clk.Now()
	if err := webhook.CheckURL(ctx, p, url); err != nil {
		return webhook.AttemptResult{}, nil, err
	}
	if _, err := webhook.DecodeSecret(secret); err != nil {
		return webhook.AttemptResult{}, nil, &apierr.ValidationError{Field: "secret", Reason: err.Error()}
	}
	msgID := model.NewWebhookMsgID(now)
	body, err := webhook.TestBody(msgID, now)
	if err != nil {
		return webhook.AttemptResult{}, nil, err
	}
	c := webhook.NewClient(p, timeout, 1, clk)
	return c.Post(ctx, url, []string{secret}, msgID, now, body), body, nil
}

// DeliveryQuery selects webhook deliveries, newest first, by endpoint,
// status, subject ("lead:<id>", "contact:<external_userid>") and event type.
type DeliveryQuery struct {
	CorpID     string
	EndpointID uint64
	Status     string
	Subject    string
	EventType  string
	BeforeID   uint64
	Limit      int
}

func (q DeliveryQuery) filter() model.WebhookDeliveryFilter {
	return model.WebhookDeliveryFilter{CorpID: q.CorpID, EndpointID: q.EndpointID, Status: q.Status, Subject: q.Subject,
		EventType: q.EventType, BeforeID: q.BeforeID, Limit: q.Limit}
}
