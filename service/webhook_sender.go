package service

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// WebhookRetrySchedule is the wait after each failed attempt: the first
// attempt is immediate, then these, each ±10 %; a delivery whose last wait is
// spent is failed. About 27.5 hours in all, so a CRM that is down for a day
// loses nothing. Published in docs/WEBHOOKS.md.
var WebhookRetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// WebhookDisableAfter is how long an endpoint may fail without a single
// success before it is disabled.
const WebhookDisableAfter = 72 * time.Hour

// maxRetryAfter caps a receiver's Retry-After so one answer cannot park a
// delivery forever.
const maxRetryAfter = 24 * time.Hour

// responseExcerpt is how much of an answer an attempt keeps.
const responseExcerpt = 1024

// defaultJitter spreads retries ±10 % so a recovering CRM is not hit by
// every delivery that failed in the same second.
func defaultJitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread/2) + time.Duration(rand.Int64N(spread+1))
}

// nextAttempt returns when attempt n+1 is due after attempt n failed, or
// false when the schedule is spent. A Retry-After later than the schedule's
// wait is honoured as it is; an earlier one is not, so a receiver cannot
// burn the schedule in seconds.
func nextAttempt(now time.Time, attempt int, retryAfter time.Duration, jitter func(time.Duration) time.Duration) (time.Time, bool) {
	if attempt < 1 || attempt > len(WebhookRetrySchedule) {
		return time.Time{}, false
	}
	wait := jitter(WebhookRetrySchedule[attempt-1])
	if retryAfter > wait {
		wait = min(retryAfter, maxRetryAfter)
	}
	return now.Add(wait), true
}

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n <= 0 {
			return 0
		}
		return min(time.Duration(n)*time.Second, maxRetryAfter)
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return min(t.Sub(now), maxRetryAfter)
	}
	return 0
}

// WebhookAttemptResult is what one request brought back.
type WebhookAttemptResult struct {
	StatusCode int
	Latency    time.Duration
	// Response is the first KiB of the answer, as valid UTF-8.
	Response   string
	RetryAfter time.Duration
	Err        error
	// Refused is set when the network policy stopped the request.
	Refused bool
	// Headers are the webhook-* headers sent.
	Headers http.Header
}

// OK reports a 2xx answer.
func (r WebhookAttemptResult) OK() bool {
	return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300
}

// describe is the one-line reason stored on the attempt and delivery.
func (r WebhookAttemptResult) describe() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.StatusCode >= 300 && r.StatusCode < 400:
		return fmt.Sprintf("HTTP %d: redirects are not followed", r.StatusCode)
	default:
		return fmt.Sprintf("HTTP %d", r.StatusCode)
	}
}

// post sends one signed request; now gives the webhook-timestamp and is
// what an HTTP-date Retry-After is measured from.
func (c *webhookClient) post(ctx context.Context, endpointURL string, secrets []string, msgID string, now time.Time, body []byte) WebhookAttemptResult {
	ts := now.Unix()
	var res WebhookAttemptResult
	sig, err := signatureHeader(secrets, msgID, ts, body)
	if err != nil {
		res.Err = err
		return res
	}
	if err := c.schemeAllowed(endpointURL); err != nil {
		res.Err, res.Refused = err, true
		return res
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpointURL, bytes.NewReader(body))
	if err != nil {
		res.Err = err
		return res
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "scrm-gateway-webhooks/1")
	req.Header.Set("webhook-id", msgID)
	req.Header.Set("webhook-timestamp", strconv.FormatInt(ts, 10))
	req.Header.Set("webhook-signature", sig)
	res.Headers = http.Header{}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		res.Headers.Set(h, req.Header.Get(h))
	}
	start := c.clock.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		res.Latency = clock.Since(c.clock, start)
		res.Err = scrubURLError(err)
		res.Refused = errors.Is(err, errRefusedAddress)
		return res
	}
	head, _ := io.ReadAll(io.LimitReader(resp.Body, responseExcerpt))
	// Read on a little so the connection can be reused, but not a CRM's
	// whole error page.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	res.Latency = clock.Since(c.clock, start)
	res.StatusCode = resp.StatusCode
	res.Response = strings.ToValidUTF8(string(head), "\uFFFD")
	if resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable {
		res.RetryAfter = parseRetryAfter(resp.Header.Get("Retry-After"), now)
	}
	return res
}

// scrubURLError drops the URL from a client error: an endpoint URL may carry
// a token in its query, and the error is shown to admins and logged.
func scrubURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%s: %w", ue.Op, ue.Err)
	}
	return err
}

// record writes an attempt and its delivery's outcome, together with those
// of other sends that end meanwhile; disabled reports that it switched the
// endpoint off.
func (w *Webhooks) record(ctx context.Context, rec model.WebhookAttemptRecord) (disabled bool, err error) {
	r, err := w.attempts.Do(ctx, rec)
	if err != nil {
		return false, err
	}
	return r.Disabled, r.Err
}

// deliver sends one claimed delivery and records the attempt and outcome.
// It returns an error only when the outcome could not be recorded; the
// pool then hands the delivery back to be sent again.
func (w *Webhooks) deliver(ctx context.Context, owner string, c *model.ClaimedDelivery) error {
	d, ep := c.Delivery, c.Endpoint
	now := w.clock.Now()
	rec := model.WebhookAttemptRecord{DeliveryID: d.ID, EndpointID: d.EndpointID, Owner: owner}
	if ep == nil || ep.DeletedAt != nil || !ep.Enabled {
		rec.Status, rec.Reason = model.StatusFailed, "endpoint disabled or deleted"
		if _, err := w.record(ctx, rec); err != nil {
			return err
		}
		w.metrics.deliveries.WithLabelValues("failed").Inc()
		return nil
	}

	res := w.client.post(ctx, ep.URL, validSecrets(ep, now), c.Message.MsgID, now, []byte(c.Message.Body))
	// The next attempt waits from the end of this one: a receiver that
	// timed out after 15 s gets its 5 s of rest, not none.
	end := w.clock.Now()
	rec.Attempt, rec.At = d.Attempts, now
	rec.StatusCode, rec.Latency, rec.Response = res.StatusCode, res.Latency, res.Response
	if !res.OK() {
		rec.AttemptErr = res.describe()
	}
	w.metrics.latency.Observe(res.Latency.Seconds())

	outcome := "retried"
	switch {
	case res.OK():
		outcome = "delivered"
		rec.Status = model.DeliveryDelivered
		rec.EndpointHealthy = ep.FailingSince != nil
	case res.StatusCode == http.StatusGone:
		outcome = "failed"
		rec.Status, rec.Reason = model.StatusFailed, "HTTP 410 Gone: the endpoint was disabled"
		rec.Disable = "the endpoint answered 410 Gone"
	case res.Refused:
		outcome = "failed"
		rec.Status, rec.Reason = model.StatusFailed, "refused by the network policy: "+res.describe()
		rec.EndpointFailing = ep.FailingSince == nil
	default:
		rec.EndpointFailing = ep.FailingSince == nil
		// Attempt numbers go on across replays; a replay's schedule
		// starts over from where it was replayed.
		made := d.Attempts - d.ScheduleFrom
		if next, ok := nextAttempt(end, made, res.RetryAfter, w.jitter); ok {
			rec.Status, rec.NextAt, rec.Reason = model.StatusPending, next, res.describe()
		} else {
			outcome = "failed"
			rec.Status = model.StatusFailed
			rec.Reason = fmt.Sprintf("gave up after %d attempts: %s", made, res.describe())
		}
	}
	if !res.OK() && ep.FailingSince != nil && now.Sub(*ep.FailingSince) >= WebhookDisableAfter && rec.Disable == "" {
		cutoff := now.Add(-WebhookDisableAfter)
		rec.Disable = fmt.Sprintf("failing without a success since %s (%s)", wire.At(*ep.FailingSince), WebhookDisableAfter)
		rec.DisableIfFailingSince = &cutoff
	}

	disabled, err := w.record(ctx, rec)
	if err != nil {
		return err
	}
	w.metrics.deliveries.WithLabelValues(outcome).Inc()
	if outcome == "delivered" {
		w.metrics.lag.Observe(now.Sub(c.Message.CreatedAt).Seconds())
	}
	if disabled {
		reason := "failing"
		if res.StatusCode == http.StatusGone {
			reason = "gone"
		}
		w.metrics.disabled.WithLabelValues(reason).Inc()
		w.log.Error("webhook endpoint disabled; its pending deliveries failed and can be replayed once it is enabled again",
			"endpoint", ep.ID, "corp", ep.CorpID, "reason", rec.Disable)
		w.refreshDisabled(ctx)
	} else if outcome != "delivered" {
		w.log.Warn("webhook attempt failed", "delivery", d.ID, "endpoint", ep.ID, "attempt", d.Attempts,
			"status", res.StatusCode, "err", rec.AttemptErr, "outcome", outcome)
	}
	return nil
}

// validSecrets are the secrets to sign with: the current one, and the
// previous one until its grace period ends.
func validSecrets(ep *model.WebhookEndpoint, now time.Time) []string {
	s := []string{ep.Secret}
	if ep.PreviousSecret != "" && ep.PreviousSecretUntil != nil && now.Before(*ep.PreviousSecretUntil) {
		s = append(s, ep.PreviousSecret)
	}
	return s
}
