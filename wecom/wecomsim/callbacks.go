package wecomsim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// delivery is one sealed callback. Resends reuse body, signature, timestamp
// and nonce unchanged, exactly as WeCom does.
type delivery struct {
	id        int64
	key       string
	typ       string
	body      []byte
	signature string
	timestamp string
	nonce     string
}

// newEvent fills the fields every callback carries.
func (s *Sim) newEvent(event, change string, at time.Time) *wecom.Event {
	return &wecom.Event{
		ToUserName:   s.opts.CorpID,
		FromUserName: "sys",
		CreateTime:   at.Unix(),
		MsgType:      "event",
		Event:        event,
		ChangeType:   change,
	}
}

// emit seals events and queues them for delivery. It returns the event ids.
// Callers hold s.mu, so that two changes to one group queue in the order
// they were made (sealing takes microseconds; delivery happens elsewhere).
//
// Events about one customer, one group or the tag catalogue are delivered in
// order, one at a time, so that "group created" reaches the gateway before
// "member joined"; events about different ones go out concurrently, as a
// crowd scanning at once would produce. (WeCom itself promises no order; in
// practice events for one customer are seconds apart.)
func (s *Sim) emit(evs ...*wecom.Event) []int64 {
	ids := make([]int64, 0, len(evs))
	ds := make([]*delivery, 0, len(evs))
	for _, ev := range evs {
		now := s.now()
		plain := wecom.MarshalEvent(ev)
		id, nonce := s.journal.addEvent(ev, plain, now)
		ts := strconv.FormatInt(now.Unix(), 10)
		body, sig, err := s.crypter.SealEvent(ev, ts, nonce)
		if err != nil {
			s.log.Error("wecomsim: sealing callback failed", "event", ev.Type(), "err", err)
			s.journal.finishEvent(id, EventFailed)
			continue
		}
		ids = append(ids, id)
		ds = append(ds, &delivery{id: id, key: orderKey(ev), typ: ev.Type(), body: body, signature: sig,
			timestamp: ts, nonce: nonce})
	}
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	for _, d := range ds {
		if s.closed {
			s.journal.finishEvent(d.id, EventCancelled)
			continue
		}
		s.queueMu.Lock()
		q, running := s.queues[d.key]
		s.queues[d.key] = append(q, d)
		if !running {
			s.wg.Add(1)
		}
		s.queueMu.Unlock()
		if !running {
			go s.drain(d.key)
		}
	}
	return ids
}

// orderKey names what an event is about, for in-order delivery.
func orderKey(ev *wecom.Event) string {
	switch ev.Event {
	case wecom.EventExternalChat:
		return "chat:" + ev.ChatID
	case wecom.EventExternalTag:
		return "tags"
	default:
		return "contact:" + ev.ExternalUserID
	}
}

// drain delivers one key's queue until it is empty.
func (s *Sim) drain(key string) {
	defer s.wg.Done()
	for {
		s.queueMu.Lock()
		q := s.queues[key]
		if len(q) == 0 {
			delete(s.queues, key)
			s.queueMu.Unlock()
			return
		}
		d := q[0]
		q[0] = nil
		s.queues[key] = q[1:]
		s.queueMu.Unlock()
		if !s.deliver(d) {
			s.queueMu.Lock()
			for _, rest := range s.queues[key] {
				s.journal.finishEvent(rest.id, EventCancelled)
			}
			delete(s.queues, key)
			s.queueMu.Unlock()
			return
		}
	}
}

// deliver sends one event until it is acknowledged or the resends run out.
// It returns false when the simulator closed.
func (s *Sim) deliver(d *delivery) bool {
	target := s.CallbackURL()
	if target == "" {
		s.journal.logAttempt(LogEntry{Time: s.now(), EventID: d.id, Event: d.typ, Attempt: 0,
			Outcome: OutcomeNoCallbackURL})
		s.journal.finishEvent(d.id, EventDropped)
		s.log.Warn("wecomsim: no callback URL, event dropped", "event", d.typ, "event_id", d.id)
		return true
	}
	q := url.Values{"msg_signature": {d.signature}, "timestamp": {d.timestamp}, "nonce": {d.nonce}}
	for attempt := 1; ; attempt++ {
		target := s.callbackTarget()
		if strings.Contains(target, "?") {
			target += "&" + q.Encode()
		} else {
			target += "?" + q.Encode()
		}
		start := time.Now()
		status, outcome, err := s.post(target, d.body)
		if errors.Is(err, errClosed) {
			s.journal.finishEvent(d.id, EventCancelled)
			return false
		}
		entry := LogEntry{Time: s.now(), EventID: d.id, Event: d.typ, Attempt: attempt, HTTPStatus: status,
			Outcome: outcome, DurationMS: float64(time.Since(start).Microseconds()) / 1000}
		if err != nil {
			entry.Error = err.Error()
		}
		s.journal.logAttempt(entry)
		if outcome == OutcomeOK {
			s.journal.finishEvent(d.id, EventDelivered)
			s.log.Debug("wecomsim: callback delivered", "event", d.typ, "event_id", d.id, "attempt", attempt)
			return true
		}
		s.log.Info("wecomsim: callback not acknowledged", "event", d.typ, "event_id", d.id,
			"attempt", attempt, "outcome", outcome, "status", status)
		if attempt > s.opts.CallbackRetries {
			s.journal.finishEvent(d.id, EventFailed)
			return true
		}
		t := time.NewTimer(s.opts.RetryDelay)
		select {
		case <-s.ctx.Done():
			t.Stop()
			s.journal.finishEvent(d.id, EventCancelled)
			return false
		case <-t.C:
		}
	}
}

// post makes one delivery attempt. WeCom counts HTTP 200 with an empty body
// or "success" as acknowledged; anything else, or no answer within the
// timeout, is resent.
func (s *Sim) post(target string, body []byte) (int, string, error) {
	select {
	case s.sem <- struct{}{}:
	case <-s.ctx.Done():
		return 0, "", errClosed
	}
	defer func() { <-s.sem }()
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.CallbackTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return 0, OutcomeError, err
	}
	req.Header.Set("Content-Type", "text/xml")
	resp, err := s.hc.Do(req)
	if err != nil {
		if s.ctx.Err() != nil {
			return 0, "", errClosed
		}
		if errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil {
			return 0, OutcomeTimeout, err
		}
		return 0, OutcomeError, err
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		if ctx.Err() != nil && s.ctx.Err() == nil {
			return resp.StatusCode, OutcomeTimeout, err
		}
		return resp.StatusCode, OutcomeError, err
	}
	if resp.StatusCode != http.StatusOK {
		return resp.StatusCode, OutcomeBadStatus, nil
	}
	if a := string(answer); a != "" && a != "success" {
		return resp.StatusCode, OutcomeBadBody, nil
	}
	return resp.StatusCode, OutcomeOK, nil
}

// verifyCallback performs the URL check WeCom runs when an admin saves the
// callback URL: a signed GET whose decrypted echostr must come back verbatim.
func (s *Sim) verifyCallback(ctx context.Context) VerifyResult {
	target := s.callbackTarget()
	res := VerifyResult{URL: target}
	if target == "" {
		res.Error = "no callback URL set"
		return res
	}
	s.journal.mu.Lock()
	echo := strconv.FormatUint(s.journal.nonces.Uint64(), 10)
	nonce := strconv.FormatUint(uint64(s.journal.nonces.Uint32()), 10)
	s.journal.mu.Unlock()
	res.Want = echo
	enc, err := s.crypter.Encrypt([]byte(echo))
	if err != nil {
		res.Error = err.Error()
		return res
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	q := url.Values{"msg_signature": {s.crypter.Sign(ts, nonce, enc)}, "timestamp": {ts}, "nonce": {nonce},
		"echostr": {enc}}
	sep := "?"
	if strings.Contains(target, "?") {
		sep = "&"
	}
	// WeCom allows one second for the answer.
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target+sep+q.Encode(), nil)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	resp, err := s.hc.Do(req)
	if err != nil {
		res.Error = err.Error()
		return res
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
	res.HTTPStatus, res.Body = resp.StatusCode, string(b)
	res.OK = resp.StatusCode == http.StatusOK && res.Body == echo
	if !res.OK {
		res.Error = "answer must be HTTP 200 with the decrypted echostr alone"
	}
	return res
}
