package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// runCallbacks posts o.callbacks signed add_external_contact events to
// o.url, o.concurrency at a time, and times each acknowledgement.
func runCallbacks(ctx context.Context, o options, hc *http.Client) (*CallbackSummary, error) {
	cr, err := wecom.NewCrypter(o.token, o.aesKey, o.corp)
	if err != nil {
		return nil, fmt.Errorf("callback credentials: %w", err)
	}
	target, err := url.Parse(o.url)
	if err != nil || (target.Scheme != "http" && target.Scheme != "https") || target.Host == "" {
		return nil, fmt.Errorf("-url %q is not an http(s) URL", o.url)
	}
	// One prefix per run keeps ExternalUserIDs, and so dedupe keys, unique
	// across runs against the same database.
	run := randomHex(6)

	type answer struct {
		ms     float64
		status int
		err    string
	}
	answers := make([]answer, o.callbacks)
	sent := make([]bool, o.callbacks)
	jobs := make(chan int)
	t0 := time.Now()
	go func() {
		defer close(jobs)
		pace(ctx, o.callbacks, o.rate, t0, jobs)
	}()
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				req, err := sealedRequest(ctx, cr, target, o.corp, o.userID, run, i)
				if err != nil {
					answers[i] = answer{err: err.Error()}
					sent[i] = true
					continue
				}
				start := time.Now()
				status, err := post(hc, req)
				answers[i] = answer{ms: float64(time.Since(start).Microseconds()) / 1000, status: status}
				if err != nil {
					answers[i].err = err.Error()
				}
				sent[i] = true
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(t0).Seconds()

	sum := &CallbackSummary{URL: redactQuery(target), Requested: o.callbacks, ElapsedSeconds: elapsed,
		Interrupted: ctx.Err() != nil}
	var errs errorSamples
	var lat []float64
	for i, a := range answers {
		if !sent[i] {
			continue
		}
		sum.Sent++
		switch {
		case a.err != "":
			sum.Errors++
			errs.add(a.err)
		case a.status == http.StatusOK:
			sum.Accepted++
			lat = append(lat, a.ms)
		default:
			if sum.Rejected == nil {
				sum.Rejected = map[string]int{}
			}
			sum.Rejected[strconv.Itoa(a.status)]++
			lat = append(lat, a.ms)
		}
	}
	if elapsed > 0 {
		sum.AcceptedPerSec = float64(sum.Accepted) / elapsed
	}
	sum.Latency = summarize(lat)
	sum.ErrorSamples = errs.list
	return sum, nil
}

// sealedRequest builds the i-th callback as WeCom would send it: a fresh
// customer adding userID, encrypted and signed for corp.
func sealedRequest(ctx context.Context, cr *wecom.Crypter, target *url.URL, corp, userID, run string, i int) (*http.Request, error) {
	now := time.Now()
	ext := fmt.Sprintf("wmLoadgen%s%07d", run, i)
	ev := &wecom.Event{ToUserName: corp, FromUserName: "sys", CreateTime: now.Unix(), MsgType: "event",
		Event: wecom.EventExternalContact, ChangeType: wecom.ChangeAddContact, UserID: userID,
		ExternalUserID: ext, WelcomeCode: "WC" + ext}
	ts, nonce := strconv.FormatInt(now.Unix(), 10), randomHex(8)
	body, sig, err := cr.SealEvent(ev, ts, nonce)
	if err != nil {
		return nil, err
	}
	u := *target
	q := u.Query()
	q.Set("msg_signature", sig)
	q.Set("timestamp", ts)
	q.Set("nonce", nonce)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "text/xml")
	return req, nil
}

// post sends one callback and reads the answer through, so the connection
// goes back to the pool and the time covers the whole acknowledgement.
func post(hc *http.Client, req *http.Request) (int, error) {
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	if err != nil {
		return resp.StatusCode, err
	}
	if resp.StatusCode == http.StatusOK && len(b) > 0 && string(b) != "success" {
		return resp.StatusCode, fmt.Errorf("answered 200 with %q instead of success", clipText(string(b), 80))
	}
	return resp.StatusCode, nil
}

func redactQuery(u *url.URL) string {
	c := *u
	c.RawQuery = ""
	return c.String()
}

func clipText(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
