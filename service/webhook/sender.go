package webhook

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
)

// RetrySchedule is the wait after each failed attempt: the first
// attempt is immediate, then these, each ±10 %; a delivery whose last wait is
// spent is failed. About 27.5 hours in all, so a CRM that is down for a day
// loses nothing. Published in docs/WEBHOOKS.md.
var RetrySchedule = []time.Duration{
	5 * time.Second, 5 * time.Minute, 30 * time.Minute, 2 * time.Hour, 5 * time.Hour, 10 * time.Hour, 10 * time.Hour,
}

// DisableAfter is how long an endpoint may fail without a single
// success before it is disabled.
const DisableAfter = 72 * time.Hour

// maxRetryAfter caps a receiver's Retry-After so one answer cannot park a
// delivery forever.
const maxRetryAfter = 24 * time.Hour

// responseExcerpt is how much of an answer an attempt keeps.
const responseExcerpt = 1024

// DefaultJitter spreads retries ±10 % so a recovering CRM is not hit by
// every delivery that failed in the same second.
func DefaultJitter(d time.Duration) time.Duration {
	spread := int64(d) / 5
	if spread <= 0 {
		return d
	}
	return d - time.Duration(spread/2) + time.Duration(rand.Int64N(spread+1))
}

// NextAttempt returns when attempt n+1 is due after attempt n failed, or
// false when the schedule is spent. A Retry-After later than the schedule's
// wait is honoured as it is; an earlier one is not, so a receiver cannot
// burn the schedule in seconds.
func NextAttempt(now time.Time, attempt int, retryAfter time.Duration, jitter func(time.Duration) time.Duration) (time.Time, bool) {
	if attempt < 1 || attempt > len(RetrySchedule) {
		return time.Time{}, false
	}
	wait := jitter(RetrySchedule[attempt-1])
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

// AttemptResult is what one request brought back.
type AttemptResult struct {
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
func (r AttemptResult) OK() bool {
	return r.Err == nil && r.StatusCode >= 200 && r.StatusCode < 300
}

// Describe is the one-line reason stored on the attempt and delivery.
func (r AttemptResult) Describe() string {
	switch {
	case r.Err != nil:
		return r.Err.Error()
	case r.StatusCode >= 300 && r.StatusCode < 400:
		return fmt.Sprintf("HTTP %d: redirects are not followed", r.StatusCode)
	default:
		return fmt.Sprintf("HTTP %d", r.StatusCode)
	}
}

// Post sends one signed request; now gives the webhook-timestamp and is
// what an HTTP-date Retry-After is measured from.
func (c *Client) Post(ctx context.Context, endpointURL string, secrets []string, msgID string, now time.Time, body []byte) AttemptResult {
	ts := now.Unix()
	var res AttemptResult
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
