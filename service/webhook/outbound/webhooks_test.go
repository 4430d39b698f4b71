package outbound

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/servicetest"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

func noJitter(d time.Duration) time.Duration { return d }

// --- a sender against a real database and a real receiver ----------------------

type receipt struct {
	ID, Timestamp, Signature string
	Body                     []byte
	Type                     string
	Seq                      int
}

// receiver is a CRM over HTTP; answer decides each response (nil: 204).
type receiver struct {
	srv    *httptest.Server
	mu     sync.Mutex
	got    []receipt
	answer func(n int, r receipt, w http.ResponseWriter) bool
}

func newReceiver(t *testing.T) *receiver {
	rc := &receiver{}
	rc.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var p struct {
			Type string `json:"type"`
			Data struct {
				Seq int `json:"seq"`
			} `json:"data"`
		}
		_ = json.Unmarshal(body, &p)
		rec := receipt{ID: r.Header.Get("webhook-id"), Timestamp: r.Header.Get("webhook-timestamp"),
			Signature: r.Header.Get("webhook-signature"), Body: body, Type: p.Type, Seq: p.Data.Seq}
		rc.mu.Lock()
		rc.got = append(rc.got, rec)
		n := len(rc.got)
		answer := rc.answer
		rc.mu.Unlock()
		if answer != nil && answer(n, rec, w) {
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.srv.Close)
	return rc
}

func (rc *receiver) receipts() []receipt {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]receipt(nil), rc.got...)
}

func (rc *receiver) setAnswer(f func(n int, r receipt, w http.ResponseWriter) bool) {
	rc.mu.Lock()
	rc.answer = f
	rc.mu.Unlock()
}

type senderEnv struct {
	t     *testing.T
	st    *model.Store
	clock *modeltest.Clock
	w     *Webhooks
	reg   *prometheus.Registry
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

func startSender(t *testing.T, st *model.Store, clock *modeltest.Clock, policy webhook.NetworkPolicy) *senderEnv {
	reg := prometheus.NewRegistry()
	w := NewWebhooks(st, clock, WebhookOptions{Policy: policy, Jitter: noJitter, PollInterval: 20 * time.Millisecond,
		Workers: 4, Timeout: 2 * time.Second, Logger: quiet, Registerer: reg})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = w.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return &senderEnv{t: t, st: st, clock: clock, w: w, reg: reg}
}

var open = webhook.NetworkPolicy{AllowHTTP: true, AllowPrivateNetworks: true}

func eachSender(t *testing.T, fn func(t *testing.T, e *senderEnv)) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			clock := modeltest.NewClock(time.Now().UTC().Truncate(time.Second))
			st := modeltest.Open(t, d, clock)
			fn(t, startSender(t, st, clock, open))
		})
	}
}

func (e *senderEnv) endpoint(url string, types ...string) *WebhookEndpoint {
	e.t.Helper()
	spec := WebhookEndpointSpec{URL: &url}
	if types != nil {
		spec.EventTypes = &types
	}
	ep, err := e.w.CreateEndpoint(context.Background(), "ww1", "test", spec)
	if err != nil {
		e.t.Fatal(err)
	}
	return ep
}

// testEvent is an event of corp ww1 carrying data.
func testEvent(typ, subject string, data any) model.OutboxEvent {
	return webhook.NewEvent("ww1", typ, subject, time.Time{}, func(model.OutboxReader, int) (any, error) { return data, nil })
}

func (e *senderEnv) emit(typ, subject string, seq int) {
	e.t.Helper()
	err := e.st.EmitWebhookNow(context.Background(), testEvent(typ, subject, map[string]any{"seq": seq}))
	if err != nil {
		e.t.Fatal(err)
	}
	e.w.Notify()
}

// advance moves the clock and wakes the sender.
func (e *senderEnv) advance(d time.Duration) {
	e.clock.Advance(d)
	e.w.Notify()
}

func (e *senderEnv) deliveries(f model.WebhookDeliveryFilter) []model.DeliveryWithAttempts {
	e.t.Helper()
	ds, err := e.st.ListWebhookDeliveries(context.Background(), f)
	if err != nil {
		e.t.Fatal(err)
	}
	return ds
}

// settle waits until the sender has looked at the outbox twice since it was
// called (the first look may have begun before the clock moved) and holds
// nothing in flight: whatever was due has been sent, and nothing else was.
func (e *senderEnv) settle() {
	e.t.Helper()
	from := e.w.pool.Looks.Load()
	servicetest.Eventually(e.t, "the sender to look at the outbox", func() bool {
		if e.w.pool.Looks.Load() < from+2 {
			e.w.Notify()
			return false
		}
		return e.w.pool.InFlight.Load() == 0
	})
}

// only waits until the one delivery has status after at least n attempts.
func (e *senderEnv) only(status string, n ...int) model.DeliveryWithAttempts {
	e.t.Helper()
	atLeast := 1
	if len(n) > 0 {
		atLeast = n[0]
	}
	var ds []model.DeliveryWithAttempts
	servicetest.Eventually(e.t, fmt.Sprintf("delivery %s after %d attempts", status, atLeast), func() bool {
		ds = e.deliveries(model.WebhookDeliveryFilter{})
		// The delivery and its attempts are two reads: a delivery read
		// before an attempt's commit and its attempts after it disagree.
		return len(ds) == 1 && ds[0].Status == status && len(ds[0].Attempts) >= atLeast && ds[0].WebhookDelivery.Attempts == len(ds[0].Attempts)
	})
	return ds[0]
}

func (e *senderEnv) verify(secret string, r receipt, checkTime bool) {
	e.t.Helper()
	wh, err := standardwebhooks.NewWebhook(secret)
	if err != nil {
		e.t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", r.ID)
	h.Set("webhook-timestamp", r.Timestamp)
	h.Set("webhook-signature", r.Signature)
	if checkTime {
		err = wh.Verify(r.Body, h)
	} else {
		err = wh.VerifyIgnoringTimestamp(r.Body, h)
	}
	if err != nil {
		e.t.Fatalf("signature of %s does not verify: %v", r.ID, err)
	}
}

func (e *senderEnv) metric(name string, labels ...string) float64 {
	e.t.Helper()
	mfs, err := e.reg.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue next
				}
			}
			switch {
			case m.GetCounter() != nil:
				return m.GetCounter().GetValue()
			case m.GetGauge() != nil:
				return m.GetGauge().GetValue()
			case m.GetHistogram() != nil:
				return float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	return 0
}

func TestWebhookDeliveredSignedAndRecorded(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusOK)
			io.WriteString(w, `{"ok":true}`+strings.Repeat("x", 3000))
			return true
		})
		ep := e.endpoint(rc.srv.URL + "/hook")
		if !strings.HasPrefix(ep.Secret, "whsec_") {
			t.Fatalf("secret not returned on create: %+v", ep)
		}
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		d := e.only(model.DeliveryDelivered)
		got := rc.receipts()
		if len(got) != 1 || got[0].ID != d.WebhookID || got[0].Type != webhook.EventLeadCreated {
			t.Fatalf("receipts = %+v", got)
		}
		e.verify(ep.Secret, got[0], true)
		if got[0].Timestamp != fmt.Sprint(e.clock.Now().Unix()) {
			t.Fatalf("webhook-timestamp = %s", got[0].Timestamp)
		}
		// The envelope: the event id (the webhook-id), type, payload
		// version, the change's time in UTC with milliseconds, and data.
		want := fmt.Sprintf(`{"id":%q,"type":"lead.created","version":1,"timestamp":%q,"data":{"seq":1}}`, got[0].ID,
			e.clock.Now().UTC().Format("2006-01-02T15:04:05.000Z"))
		if string(got[0].Body) != want {
			t.Fatalf("body = %s\nwant %s", got[0].Body, want)
		}
		if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 200 || len(d.Attempts[0].Response) != 1024 ||
			!strings.HasPrefix(d.Attempts[0].Response, `{"ok":true}`) || d.LastStatusCode != 200 {
			t.Fatalf("delivery = %+v", d)
		}
		// The sender counts once the outcome it recorded is committed.
		servicetest.Eventually(t, "metrics counted", func() bool {
			return e.metric("gateway_webhook_deliveries_total", "outcome", "delivered") == 1 &&
				e.metric("gateway_webhook_request_duration_seconds") == 1 && e.metric("gateway_webhook_delivery_lag_seconds") == 1
		})
		// The secret is not shown again.
		v, _ := e.w.GetEndpoint(context.Background(), "ww1", ep.ID)
		if v.Secret != "" {
			t.Fatal("secret shown on read")
		}
	})
}

func TestWebhookReceiverDownThenUpFollowsTheSchedule(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		up := false
		var mu sync.Mutex
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool {
			mu.Lock()
			defer mu.Unlock()
			if up {
				return false
			}
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, "database unavailable")
			return true
		})
		ep := e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadQualified, "lead:7", 1)
		for i, wait := range webhook.RetrySchedule[:4] {
			d := e.only(model.StatusPending, i+1)
			if due := d.AvailableAt.Sub(e.clock.Now()); due < wait-time.Millisecond || due > wait+time.Millisecond {
				t.Fatalf("after attempt %d next is due in %v, want %v", i+1, due, wait)
			}
			if d.Error != "HTTP 500" || d.Attempts[i].Response != "database unavailable" {
				t.Fatalf("delivery = %+v", d)
			}
			// Not a moment early.
			e.advance(wait - time.Second)
			e.settle()
			if n := len(rc.receipts()); n != i+1 {
				t.Fatalf("attempt %d sent before it was due (%d requests)", i+2, n)
			}
			if i == 3 {
				mu.Lock()
				up = true
				mu.Unlock()
			}
			e.advance(time.Second)
			servicetest.Eventually(t, "next attempt", func() bool { return len(rc.receipts()) == i+2 })
		}
		d := e.only(model.DeliveryDelivered, 5)
		got := rc.receipts()
		for _, r := range got {
			if r.ID != got[0].ID || string(r.Body) != string(got[0].Body) {
				t.Fatal("webhook-id or body changed between attempts")
			}
			e.verify(ep.Secret, r, false)
		}
		if len(d.Attempts) != 5 || d.Attempts[4].StatusCode != 204 || d.Attempts[0].StatusCode != 500 {
			t.Fatalf("attempts = %+v", d.Attempts)
		}
		// A success clears the endpoint's failing mark.
		v, _ := e.w.GetEndpoint(context.Background(), "ww1", ep.ID)
		if v.FailingSince != nil || !v.Enabled {
			t.Fatalf("endpoint = %+v", v)
		}
	})
}

// The sender's clock walks the whole retry schedule (5 s … 10 h): each
// attempt goes when it is due and not a second before, with the same
// webhook-id; after the 8th the delivery fails for good. No sleeping: the
// test moves the clock and waits until the sender has looked.
func TestWebhookGivesUpAfterTheLastScheduledAttempt(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool { w.WriteHeader(http.StatusBadRequest); return true })
		e.endpoint(rc.srv.URL)
		start := e.clock.Now()
		e.emit(webhook.EventContactAdded, "contact:a", 1)
		var total time.Duration
		for i, wait := range webhook.RetrySchedule {
			d := e.only(model.StatusPending, i+1)
			if len(d.Attempts) != i+1 {
				t.Fatalf("%d attempts after %v, want %d", len(d.Attempts), total, i+1)
			}
			if due := d.AvailableAt.Sub(e.clock.Now()); due != wait {
				t.Fatalf("after attempt %d the next is due in %v, want %v", i+1, due, wait)
			}
			e.advance(wait - time.Second)
			e.settle()
			if n := len(rc.receipts()); n != i+1 {
				t.Fatalf("attempt %d went a second early (%d requests)", i+2, n)
			}
			e.advance(time.Second)
			total += wait
		}
		d := e.only(model.StatusFailed)
		if len(d.Attempts) != 8 || d.Error != "gave up after 8 attempts: HTTP 400" {
			t.Fatalf("delivery = %+v", d)
		}
		if total != 5*time.Second+5*time.Minute+30*time.Minute+2*time.Hour+5*time.Hour+10*time.Hour+10*time.Hour ||
			!e.clock.Now().Equal(start.Add(total)) {
			t.Fatalf("walked %v", total)
		}
		got := rc.receipts()
		for _, r := range got {
			if r.ID != got[0].ID {
				t.Fatal("webhook-id changed between attempts")
			}
		}
		servicetest.Eventually(t, "outcomes counted", func() bool {
			return e.metric("gateway_webhook_deliveries_total", "outcome", "failed") == 1 &&
				e.metric("gateway_webhook_deliveries_total", "outcome", "retried") == 7
		})
	})
}

func TestWebhook410DisablesTheEndpoint(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool { w.WriteHeader(http.StatusGone); return true })
		ep := e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		e.emit(webhook.EventLeadStageChanged, "lead:1", 2) // waits behind the first, then fails with the endpoint
		servicetest.Eventually(t, "both failed", func() bool {
			n, _ := e.st.CountWebhookDeliveries(context.Background(), model.StatusFailed)
			return n == 2
		})
		if n := len(rc.receipts()); n != 1 {
			t.Fatalf("%d requests after a 410", n)
		}
		v, _ := e.w.GetEndpoint(context.Background(), "ww1", ep.ID)
		if v.Enabled || v.DisabledAt == nil || !strings.Contains(v.DisabledReason, "410") {
			t.Fatalf("endpoint = %+v", v)
		}
		ds := e.deliveries(model.WebhookDeliveryFilter{})
		if !strings.Contains(ds[0].Error, "endpoint disabled") || !strings.Contains(ds[1].Error, "410") {
			t.Fatalf("deliveries = %+v", ds)
		}
		servicetest.Eventually(t, "disable visible in metrics", func() bool {
			return e.metric("gateway_webhook_endpoints_disabled_total", "reason", "gone") == 1 && e.metric("gateway_webhook_endpoints_disabled") == 1
		})
		if err := e.w.Replay(context.Background(), "ww1", ds[0].ID); !errors.Is(err, ErrEndpointDisabled) {
			t.Fatalf("replay to a disabled endpoint: %v", err)
		}
		// New events are not even queued for it.
		e.emit(webhook.EventLeadCreated, "lead:2", 3)
		if n, _ := e.st.CountWebhookDeliveries(context.Background(), ""); n != 2 {
			t.Fatalf("deliveries = %d", n)
		}
	})
}

// A receiver's Retry-After (seconds or an HTTP date) is honoured, up to
// 24 h: asking for 100 h parks the delivery for exactly 24 h.
func TestWebhookRetryAfterIsHonoured(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		rc.setAnswer(func(n int, _ receipt, w http.ResponseWriter) bool {
			switch n {
			case 1:
				w.Header().Set("Retry-After", "120")
				w.WriteHeader(http.StatusTooManyRequests)
			case 2:
				w.Header().Set("Retry-After", e.clock.Now().Add(3*time.Hour).Format(http.TimeFormat))
				w.WriteHeader(http.StatusServiceUnavailable)
			case 3:
				w.Header().Set("Retry-After", fmt.Sprint((100 * time.Hour).Seconds()))
				w.WriteHeader(http.StatusServiceUnavailable)
			default:
				return false
			}
			return true
		})
		e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		d := e.only(model.StatusPending)
		if due := d.AvailableAt.Sub(e.clock.Now()); due != 120*time.Second {
			t.Fatalf("429 Retry-After 120: next in %v", due)
		}
		e.advance(119 * time.Second)
		e.settle()
		if len(rc.receipts()) != 1 {
			t.Fatal("sent before Retry-After")
		}
		e.advance(time.Second)
		servicetest.Eventually(t, "second attempt", func() bool {
			d = e.deliveries(model.WebhookDeliveryFilter{})[0]
			return len(d.Attempts) == 2 && d.Status == model.StatusPending
		})
		// The sender's clock is on a whole second, as HTTP dates are.
		if due := d.AvailableAt.Sub(e.clock.Now()); due != 3*time.Hour {
			t.Fatalf("503 with a date 3 h ahead: next in %v", due)
		}
		e.advance(3 * time.Hour)
		servicetest.Eventually(t, "third attempt", func() bool {
			d = e.deliveries(model.WebhookDeliveryFilter{})[0]
			return len(d.Attempts) == 3 && d.Status == model.StatusPending
		})
		if due := d.AvailableAt.Sub(e.clock.Now()); due != 24*time.Hour {
			t.Fatalf("Retry-After 100 h: next in %v, want 24h (the cap)", due)
		}
		e.advance(24*time.Hour - time.Second)
		e.settle()
		if n := len(rc.receipts()); n != 3 {
			t.Fatalf("sent %d times before the capped Retry-After", n)
		}
		e.advance(time.Second)
		e.only(model.DeliveryDelivered, 4)
	})
}

func TestWebhookRedirectIsAFailure(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		target := newReceiver(t)
		rc := newReceiver(t)
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool {
			w.Header().Set("Location", target.srv.URL)
			w.WriteHeader(http.StatusTemporaryRedirect)
			return true
		})
		e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		d := e.only(model.StatusPending)
		if len(d.Attempts) != 1 || d.Attempts[0].StatusCode != 307 || !strings.Contains(d.Error, "redirect") {
			t.Fatalf("delivery = %+v", d)
		}
		if len(target.receipts()) != 0 {
			t.Fatal("the redirect was followed")
		}
	})
}

func TestWebhookOrderPerSubject(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		rc.setAnswer(func(n int, r receipt, w http.ResponseWriter) bool {
			if r.Seq == 1 && n == 1 { // the first event of lead:1 fails once
				w.WriteHeader(http.StatusBadGateway)
				return true
			}
			return false
		})
		e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		servicetest.Eventually(t, "first attempt", func() bool { return len(rc.receipts()) == 1 })
		e.emit(webhook.EventLeadStageChanged, "lead:1", 2)
		e.emit(webhook.EventLeadQualified, "lead:1", 3)
		e.emit(webhook.EventLeadCreated, "lead:2", 4) // another subject is not held up
		servicetest.Eventually(t, "lead:2 delivered", func() bool { return len(rc.receipts()) == 2 })
		e.settle()
		got := rc.receipts()
		if len(got) != 2 || got[1].Seq != 4 {
			t.Fatalf("lead:1's later events overtook its first: %+v", got)
		}
		e.advance(5 * time.Second)
		servicetest.Eventually(t, "all delivered", func() bool { return len(rc.receipts()) == 5 })
		var seqs []int
		for _, r := range rc.receipts() {
			seqs = append(seqs, r.Seq)
		}
		if fmt.Sprint(seqs) != "[1 4 1 2 3]" {
			t.Fatalf("order = %v", seqs)
		}
	})
}

func TestWebhookReplayOneAndByFilter(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		ctx := context.Background()
		rc := newReceiver(t)
		ep := e.endpoint(rc.srv.URL)
		other := e.endpoint(rc.srv.URL+"/other", webhook.EventContactAdded)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		servicetest.Eventually(t, "delivered", func() bool { return len(rc.receipts()) == 1 })
		d := e.only(model.DeliveryDelivered)

		if err := e.w.Replay(ctx, "ww1", d.ID); err != nil {
			t.Fatal(err)
		}
		servicetest.Eventually(t, "replayed", func() bool { return len(rc.receipts()) == 2 })
		got := rc.receipts()
		if got[1].ID != got[0].ID || string(got[1].Body) != string(got[0].Body) {
			t.Fatal("a replay must resend the same message")
		}
		d = e.only(model.DeliveryDelivered, 2)
		if len(d.Attempts) != 2 {
			t.Fatalf("attempts = %+v", d.Attempts)
		}
		if err := e.w.Replay(ctx, "ww2", d.ID); !errors.Is(err, model.ErrNotFound) {
			t.Fatalf("another corp's replay: %v", err)
		}

		for i := 0; i < 3; i++ {
			e.emit(webhook.EventContactAdded, fmt.Sprint("contact:", i), 10+i)
		}
		servicetest.Eventually(t, "both endpoints", func() bool { return len(rc.receipts()) == 8 })
		if _, err := e.w.ReplayMatching(ctx, DeliveryQuery{CorpID: "ww1", Status: model.StatusPending}); err == nil {
			t.Fatal("pending deliveries cannot be replayed in bulk")
		}
		servicetest.Eventually(t, "settled", func() bool {
			n, _ := e.st.CountWebhookDeliveries(ctx, model.DeliveryDelivered)
			return n == 7
		})
		n, err := e.w.ReplayMatching(ctx, DeliveryQuery{CorpID: "ww1", EndpointID: other.ID, Status: model.DeliveryDelivered})
		if err != nil || n != 3 {
			t.Fatalf("replayed %d, %v", n, err)
		}
		servicetest.Eventually(t, "bulk replay", func() bool { return len(rc.receipts()) == 11 })
		if n, _ := e.st.CountWebhookDeliveries(ctx, ""); n != 7 {
			t.Fatalf("a replay must not add deliveries: %d", n)
		}
		_ = ep
	})
}

func TestWebhookDisabledEndpointsPendingDeliveriesFailAndReplay(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		ctx := context.Background()
		rc := newReceiver(t)
		var mu sync.Mutex
		down := true
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool {
			mu.Lock()
			defer mu.Unlock()
			if down {
				w.WriteHeader(http.StatusInternalServerError)
			}
			return down
		})
		ep := e.endpoint(rc.srv.URL)
		for i := 0; i < 3; i++ {
			e.emit(webhook.EventContactLost, fmt.Sprint("contact:", i), i)
		}
		servicetest.Eventually(t, "first attempts", func() bool { return len(rc.receipts()) == 3 })
		servicetest.Eventually(t, "requeued", func() bool {
			n, _ := e.st.CountWebhookDeliveries(ctx, model.StatusPending)
			return n == 3
		})
		off, on := false, true
		v, err := e.w.UpdateEndpoint(ctx, "ww1", ep.ID, WebhookEndpointSpec{Enabled: &off})
		if err != nil || v.DisabledReason != "disabled by an admin" {
			t.Fatalf("%+v %v", v, err)
		}
		if n, _ := e.st.CountWebhookDeliveries(ctx, model.StatusFailed); n != 3 {
			t.Fatalf("failed = %d", n)
		}
		mu.Lock()
		down = false
		mu.Unlock()
		if _, err := e.w.UpdateEndpoint(ctx, "ww1", ep.ID, WebhookEndpointSpec{Enabled: &on}); err != nil {
			t.Fatal(err)
		}
		n, err := e.w.ReplayMatching(ctx, DeliveryQuery{CorpID: "ww1", EndpointID: ep.ID})
		if err != nil || n != 3 {
			t.Fatalf("replayed %d, %v", n, err)
		}
		servicetest.Eventually(t, "delivered", func() bool {
			n, _ := e.st.CountWebhookDeliveries(ctx, model.DeliveryDelivered)
			return n == 3
		})
	})
}

func TestWebhookEndpointFailingThreeDaysIsDisabled(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		ctx := context.Background()
		rc := newReceiver(t)
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		})
		ep := e.endpoint(rc.srv.URL)
		start := e.clock.Now()
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		e.only(model.StatusPending)
		v, _ := e.w.GetEndpoint(ctx, "ww1", ep.ID)
		if v.FailingSince == nil || !v.FailingSince.Equal(start) {
			t.Fatalf("failing_since = %v, want %v", v.FailingSince, start)
		}
		// Still failing a second short of 3 days: not yet.
		e.clock.Advance(webhook.DisableAfter - time.Second)
		e.emit(webhook.EventLeadCreated, "lead:2", 2)
		servicetest.Eventually(t, "attempt a second before 3 days", func() bool { return len(rc.receipts()) == 3 }) // lead:1's retry is due too
		e.settle()
		if v, _ := e.w.GetEndpoint(ctx, "ww1", ep.ID); !v.Enabled {
			t.Fatal("disabled before 3 days")
		}
		e.clock.Advance(time.Second)
		e.emit(webhook.EventLeadCreated, "lead:3", 3)
		servicetest.Eventually(t, "disabled", func() bool {
			v, _ := e.w.GetEndpoint(ctx, "ww1", ep.ID)
			return !v.Enabled
		})
		v, _ = e.w.GetEndpoint(ctx, "ww1", ep.ID)
		if !strings.Contains(v.DisabledReason, "failing without a success since") {
			t.Fatalf("reason = %q", v.DisabledReason)
		}
		servicetest.Eventually(t, "all failed", func() bool {
			n, _ := e.st.CountWebhookDeliveries(ctx, model.StatusFailed)
			return n == 3
		})
		servicetest.Eventually(t, "disable counted", func() bool {
			return e.metric("gateway_webhook_endpoints_disabled_total", "reason", "failing") == 1
		})
	})
}

func TestWebhookSecretRotationKeepsTheOldOneFor24h(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		ctx := context.Background()
		rc := newReceiver(t)
		ep := e.endpoint(rc.srv.URL)
		rot, err := e.w.RotateSecret(ctx, "ww1", ep.ID)
		if err != nil || rot.Secret == "" || rot.Secret == ep.Secret || rot.PreviousSecretExpiresAt == nil {
			t.Fatalf("%+v %v", rot, err)
		}
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		servicetest.Eventually(t, "first", func() bool { return len(rc.receipts()) == 1 })
		r := rc.receipts()[0]
		if len(strings.Split(r.Signature, " ")) != 2 {
			t.Fatalf("signature = %q", r.Signature)
		}
		e.verify(ep.Secret, r, true)
		e.verify(rot.Secret, r, true)

		e.advance(SecretGrace + time.Second)
		e.emit(webhook.EventLeadCreated, "lead:2", 2)
		servicetest.Eventually(t, "second", func() bool { return len(rc.receipts()) == 2 })
		r = rc.receipts()[1]
		if strings.Contains(r.Signature, " ") {
			t.Fatalf("old secret still signs after 24 h: %q", r.Signature)
		}
		e.verify(rot.Secret, r, false)
		if v, _ := e.w.GetEndpoint(ctx, "ww1", ep.ID); v.PreviousSecretExpiresAt != nil {
			t.Fatal("expired previous secret still reported")
		}
	})
}

func TestWebhookURLPolicyRefusesPrivateTargets(t *testing.T) {
	clock := modeltest.NewClock(time.Now())
	st := modeltest.Open(t, "sqlite", clock)
	e := startSender(t, st, clock, webhook.NetworkPolicy{})
	ctx := context.Background()
	for _, u := range []string{
		"https://127.0.0.1/hook",
		"https://10.1.2.3/hook",
		"https://[::1]:8443/hook",
		"https://169.254.169.254/latest/meta-data",
		"https://localhost/hook",
		"https://192.168.0.10/",
		"https://172.16.5.4/",
		"https://0.0.0.0/",
		"https://[fd00::1]/",
		"https://[::ffff:127.0.0.1]/",
		"https://[64:ff9b::a00:1]/",
		"https://224.0.0.1/",
		"https://100.64.0.1/",
		"http://93.184.215.14/hook",
		"ftp://93.184.215.14/",
		"https://user:pw@93.184.215.14/",
		"/relative",
		"",
	} {
		_, err := e.w.CreateEndpoint(ctx, "ww1", "test", WebhookEndpointSpec{URL: &u})
		var ve *apierr.ValidationError
		if !errors.As(err, &ve) || ve.Field != "url" {
			t.Errorf("%q: %v, want a url validation error", u, err)
		}
	}
	for _, u := range []string{"https://93.184.215.14/hook", "https://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/"} {
		if _, err := e.w.CreateEndpoint(ctx, "ww1", "test", WebhookEndpointSpec{URL: &u}); err != nil {
			t.Errorf("%q refused: %v", u, err)
		}
	}
	bad := []string{"lead.created", "lead.exploded"}
	u := "https://93.184.215.14/"
	_, err := e.w.CreateEndpoint(ctx, "ww1", "test", WebhookEndpointSpec{URL: &u, EventTypes: &bad})
	var ve *apierr.ValidationError
	if !errors.As(err, &ve) || ve.Field != "event_types" {
		t.Fatalf("unknown type: %v", err)
	}

	// An endpoint saved while private networks were allowed is refused at
	// connection time once they are not: the check is on every dial.
	rc := newReceiver(t)
	e.w.SetNetworkPolicy(open)
	ep := e.endpoint(rc.srv.URL)
	e.w.SetNetworkPolicy(webhook.NetworkPolicy{AllowHTTP: true})
	e.emit(webhook.EventLeadCreated, "lead:1", 1)
	servicetest.Eventually(t, "refused", func() bool {
		ds := e.deliveries(model.WebhookDeliveryFilter{EndpointID: ep.ID})
		return len(ds) == 1 && ds[0].Status == model.StatusFailed
	})
	ds := e.deliveries(model.WebhookDeliveryFilter{EndpointID: ep.ID})
	if !strings.Contains(ds[0].Error, "loopback") || len(rc.receipts()) != 0 {
		t.Fatalf("delivery = %+v", ds[0])
	}
}

func TestSendTestWebhook(t *testing.T) {
	rc := newReceiver(t)
	secret := webhook.NewSecret()
	res, body, err := SendTestWebhook(context.Background(), open, 5*time.Second, rc.srv.URL, secret, clock.Real{})
	if err != nil || !res.OK() {
		t.Fatalf("%+v %v", res, err)
	}
	got := rc.receipts()
	if len(got) != 1 || got[0].Type != webhook.EventWebhookTest || string(got[0].Body) != string(body) {
		t.Fatalf("receipts = %+v", got)
	}
	(&senderEnv{t: t}).verify(secret, got[0], true)
	if _, _, err := SendTestWebhook(context.Background(), webhook.NetworkPolicy{}, time.Second, rc.srv.URL, secret, clock.Real{}); err == nil {
		t.Fatal("the test event ignored the network policy")
	}
}

// Two senders (two processes' worth: separate stores, pools and owners) on
// one MariaDB: every message arrives exactly once and each subject's
// messages arrive in the order they were emitted.
func TestTwoSendersOnOneDatabaseNeverDoubleSend(t *testing.T) {
	dsn := modeltest.DSN(t, "mysql")
	clock := modeltest.NewClock(time.Now())
	stores := make([]*model.Store, 2)
	for i := range stores {
		st, err := model.Open("mysql", dsn, model.Options{Keys: modeltest.Keys, Clock: clock, MaxOpenConns: 20, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		if _, err := st.Migrate(context.Background()); err != nil {
			t.Fatal(err)
		}
		stores[i] = st
	}
	rc := newReceiver(t)
	rc.setAnswer(func(n int, _ receipt, w http.ResponseWriter) bool {
		time.Sleep(time.Duration(n%3) * time.Millisecond) // let the senders interleave
		return false
	})
	a := startSender(t, stores[0], clock, open)
	b := startSender(t, stores[1], clock, open)
	a.endpoint(rc.srv.URL)
	const subjects, perSubject = 25, 12
	var wg sync.WaitGroup
	for s := 0; s < subjects; s++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < perSubject; i++ {
				env := []*senderEnv{a, b}[(s+i)%2]
				err := env.st.EmitWebhookNow(context.Background(), testEvent(webhook.EventLeadStageChanged, fmt.Sprint("lead:", s),
					map[string]any{"seq": s*1000 + i}))
				if err != nil {
					t.Error(err)
					return
				}
				env.w.Notify()
			}
		}()
	}
	wg.Wait()
	total := subjects * perSubject
	servicetest.Eventually(t, "all delivered", func() bool {
		n, _ := a.st.CountWebhookDeliveries(context.Background(), model.DeliveryDelivered)
		return n == int64(total)
	})
	a.settle()
	b.settle()
	got := rc.receipts()
	perID := map[string]int{}
	last := map[int]int{}
	for _, r := range got {
		perID[r.ID]++
		s, i := r.Seq/1000, r.Seq%1000
		if prev, ok := last[s]; ok && i <= prev {
			t.Fatalf("lead:%d: message %d arrived after %d", s, i, prev)
		}
		last[s] = i
	}
	if len(got) != total || len(perID) != total {
		t.Fatalf("%d requests for %d distinct ids, want %d each", len(got), len(perID), total)
	}
	for id, n := range perID {
		if n != 1 {
			t.Fatalf("%s received %d times", id, n)
		}
	}
	sa, sb := a.metric("gateway_webhook_deliveries_total", "outcome", "delivered"), b.metric("gateway_webhook_deliveries_total", "outcome", "delivered")
	if sa == 0 || sb == 0 {
		t.Logf("one sender did all the work (a=%v, b=%v)", sa, sb)
	}
}

// The wait before a retry is counted from the end of the failed attempt: a
// receiver that took 15 s to fail still gets its 5 s of rest.
func TestWebhookRetryWaitsFromTheEndOfTheAttempt(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		rc := newReceiver(t)
		rc.setAnswer(func(n int, _ receipt, w http.ResponseWriter) bool {
			if n == 1 {
				e.clock.Advance(15 * time.Second) // a slow answer
			}
			w.WriteHeader(http.StatusBadGateway)
			return true
		})
		e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		d := e.only(model.StatusPending, 1)
		if due := d.AvailableAt.Sub(e.clock.Now()); due != webhook.RetrySchedule[0] {
			t.Fatalf("next attempt due %v after the slow attempt ended, want %v", due, webhook.RetrySchedule[0])
		}
	})
}

// A replay goes on counting attempts (attempts_made stays true) and gets the
// whole retry schedule again.
func TestWebhookReplayContinuesTheAttemptNumbers(t *testing.T) {
	eachSender(t, func(t *testing.T, e *senderEnv) {
		ctx := context.Background()
		rc := newReceiver(t)
		rc.setAnswer(func(_ int, _ receipt, w http.ResponseWriter) bool { w.WriteHeader(http.StatusBadRequest); return true })
		e.endpoint(rc.srv.URL)
		e.emit(webhook.EventLeadCreated, "lead:1", 1)
		for i := range webhook.RetrySchedule {
			servicetest.Eventually(t, "attempt", func() bool { return len(e.deliveries(model.WebhookDeliveryFilter{})[0].Attempts) == i+1 })
			e.advance(webhook.RetrySchedule[i])
		}
		d := e.only(model.StatusFailed, len(webhook.RetrySchedule)+1)
		if err := e.w.Replay(ctx, "ww1", d.ID); err != nil {
			t.Fatal(err)
		}
		d = e.only(model.StatusPending, len(webhook.RetrySchedule)+2)
		last := d.Attempts[len(d.Attempts)-1]
		if last.Attempt != 9 || d.WebhookDelivery.Attempts != 9 {
			t.Fatalf("replayed attempt numbered %d, attempts_made %d; want 9, 9", last.Attempt, d.WebhookDelivery.Attempts)
		}
		if due := d.AvailableAt.Sub(e.clock.Now()); due != webhook.RetrySchedule[0] {
			t.Fatalf("after the replayed attempt the next is due in %v, want %v (the schedule starts over)", due, webhook.RetrySchedule[0])
		}
		v, err := e.w.GetDelivery(ctx, "ww1", d.ID)
		if err != nil || v.AttemptsMade != 9 || len(v.Attempts) != 9 || v.Attempts[8].Attempt != 9 {
			t.Fatalf("delivery view = %+v, %v", v, err)
		}
	})
}

// Link-local and cloud metadata addresses are refused whatever the settings;
// webhooks.allowed_hosts admits a named internal host (and its private
// addresses) while every other private address stays refused, when the
// endpoint is saved and on every connection.
func TestWebhookPolicyKeepsMetadataClosedAndAdmitsNamedHosts(t *testing.T) {
	clock := modeltest.NewClock(time.Now())
	st := modeltest.Open(t, "sqlite", clock)
	e := startSender(t, st, clock, open)
	ctx := context.Background()
	for _, u := range []string{
		"http://169.254.169.254/latest/meta-data",
		"http://169.254.170.2/v2/credentials",
		"http://100.100.100.200/latest/meta-data",
		"http://168.63.129.16/",
		"http://[fd00:ec2::254]/",
		"http://[fe80::1]/",
		"http://[64:ff9b::a9fe:a9fe]/", // 169.254.169.254 through NAT64
		"http://metadata.google.internal/computeMetadata/v1/",
	} {
		_, err := e.w.CreateEndpoint(ctx, "ww1", "test", WebhookEndpointSpec{URL: &u})
		var ve *apierr.ValidationError
		if !errors.As(err, &ve) || ve.Field != "url" || !strings.Contains(ve.Reason, "never allowed") {
			t.Errorf("%q with private networks open: %v, want refused as never allowed", u, err)
		}
	}

	rc := newReceiver(t)
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(rc.srv.URL, "http://"))
	named := "http://localhost:" + port + "/crm"
	other := rc.srv.URL + "/other" // 127.0.0.1: private, not named
	e.w.SetNetworkPolicy(webhook.NetworkPolicy{AllowHTTP: true, AllowedHosts: []string{"LocalHost"}})
	if _, err := e.w.CreateEndpoint(ctx, "ww1", "test", WebhookEndpointSpec{URL: &other}); err == nil {
		t.Fatal("an unnamed private address was admitted")
	}
	for _, u := range []string{"http://169.254.169.254/", "http://100.100.100.200/"} {
		p := webhook.NetworkPolicy{AllowHTTP: true, AllowedHosts: []string{"169.254.169.254", "100.100.100.200"}}
		if err := webhook.CheckURL(ctx, p, u); err == nil {
			t.Errorf("%s admitted by naming it", u)
		}
	}
	ep := e.endpoint(named)
	e.emit(webhook.EventLeadCreated, "lead:1", 1)
	servicetest.Eventually(t, "delivered to the named host", func() bool { return len(rc.receipts()) == 1 })

	// Saved while private networks were open, an unnamed private endpoint
	// is refused on the connection.
	e.w.SetNetworkPolicy(open)
	otherEP := e.endpoint(other, webhook.EventLeadQualified)
	e.w.SetNetworkPolicy(webhook.NetworkPolicy{AllowHTTP: true, AllowedHosts: []string{"localhost"}})
	e.emit(webhook.EventLeadQualified, "lead:2", 2)
	servicetest.Eventually(t, "refused on the connection", func() bool {
		ds := e.deliveries(model.WebhookDeliveryFilter{EndpointID: otherEP.ID})
		return len(ds) == 1 && ds[0].Status == model.StatusFailed && strings.Contains(ds[0].Error, "loopback")
	})
	if ds := e.deliveries(model.WebhookDeliveryFilter{EndpointID: ep.ID}); len(ds) != 2 {
		t.Fatalf("named endpoint deliveries = %+v", ds)
	}
}
