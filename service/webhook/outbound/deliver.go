package outbound

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
)

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

	res := w.client.Post(ctx, ep.URL, validSecrets(ep, now), c.Message.MsgID, now, []byte(c.Message.Body))
	// The next attempt waits from the end of this one: a receiver that
	// timed out after 15 s gets its 5 s of rest, not none.
	end := w.clock.Now()
	rec.Attempt, rec.At = d.Attempts, now
	rec.StatusCode, rec.Latency, rec.Response = res.StatusCode, res.Latency, res.Response
	if !res.OK() {
		rec.AttemptErr = res.Describe()
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
		rec.Status, rec.Reason = model.StatusFailed, "refused by the network policy: "+res.Describe()
		rec.EndpointFailing = ep.FailingSince == nil
	default:
		rec.EndpointFailing = ep.FailingSince == nil
		// Attempt numbers go on across replays; a replay's schedule
		// starts over from where it was replayed.
		made := d.Attempts - d.ScheduleFrom
		if next, ok := webhook.NextAttempt(end, made, res.RetryAfter, w.jitter); ok {
			rec.Status, rec.NextAt, rec.Reason = model.StatusPending, next, res.Describe()
		} else {
			outcome = "failed"
			rec.Status = model.StatusFailed
			rec.Reason = fmt.Sprintf("gave up after %d attempts: %s", made, res.Describe())
		}
	}
	if !res.OK() && ep.FailingSince != nil && now.Sub(*ep.FailingSince) >= webhook.DisableAfter && rec.Disable == "" {
		cutoff := now.Add(-webhook.DisableAfter)
		rec.Disable = fmt.Sprintf("failing without a success since %s (%s)", wire.At(*ep.FailingSince), webhook.DisableAfter)
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
