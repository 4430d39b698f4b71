package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

const (
	modeRandom  = "random"
	modePrecise = "precise"

	// codeName names the random-mode code loadgen makes and reuses.
	codeName = "loadgen"
	// welcomeText is what the gateway sends each customer; the simulator
	// records it, which is how loadgen knows the welcome arrived.
	welcomeText = "您好，欢迎光临！这是 loadgen 发送的测试欢迎语。"
	codeTag     = "loadgen"

	// expiredCode is WeCom's answer to a welcome sent after its window.
	expiredCode = wecomsim.CodeInvalidWelcomeCode
)

// scanResult is one customer's outcome. Each is written by one worker and
// read only after all workers are done.
type scanResult struct {
	sent        bool
	err         string
	landingErr  bool
	landingUser string // precise: the member the landing page showed
	userID      string // whom the simulator connected the customer with
	welcomeCode string
}

// runScans runs the random or precise scan mode.
func runScans(ctx context.Context, o options, hc *http.Client, stderr io.Writer) (*ScanSummary, error) {
	start := time.Now()
	ctl := wecomsim.NewControl(o.sim, hc)
	api := &adminAPI{base: o.gateway, token: o.token, corp: o.corp, hc: hc}

	staff, err := ctl.Staff(ctx)
	if err != nil {
		return nil, fmt.Errorf("simulator at %s: %w (is the gateway running in demo mode? otherwise pass -sim)", o.sim, err)
	}
	if len(staff) == 0 {
		return nil, errors.New("the simulator has no staff")
	}
	code, err := prepareCode(ctx, o, api, ctl, staff, stderr)
	if err != nil {
		return nil, err
	}
	mode := code.Mode
	if mode != modePrecise {
		mode = modeRandom
	}
	if mode == modePrecise && code.Slug == "" {
		return nil, fmt.Errorf("precise-mode code %d has no slug", code.ID)
	}

	// Only what this run causes counts: remember where the log stands.
	var since int64
	if last, err := ctl.Log(ctx, wecomsim.LogQuery{Limit: 1}); err == nil && len(last) > 0 {
		since = last[0].Seq
	}

	fmt.Fprintf(stderr, "loadgen: %d scans on %s-mode code %d (%s), rate %s, concurrency %d\n",
		o.scans, mode, code.ID, code.Name, rateText(o.rate), o.concurrency)
	results, scanSecs, interrupted := fireScans(ctx, o, hc, ctl, code, mode, stderr)

	sum := &ScanSummary{Mode: mode, CodeID: code.ID, CodeName: code.Name, Requested: o.scans,
		ScanSeconds: scanSecs, Interrupted: interrupted}
	var errs errorSamples
	want := map[string]int{}
	for i, r := range results {
		switch {
		case r.sent:
			sum.Sent++
			if r.welcomeCode != "" {
				want[r.welcomeCode] = i
			}
			if mode == modePrecise && r.landingUser != "" && r.landingUser != r.userID {
				sum.Mismatched++
			}
		case r.landingErr:
			sum.LandingErrors++
			errs.add(r.err)
		case r.err != "":
			sum.ScanErrors++
			errs.add(r.err)
		}
	}
	if scanSecs > 0 {
		sum.ScanRate = float64(sum.Sent) / scanSecs
	}

	if !interrupted && len(want) > 0 {
		fmt.Fprintf(stderr, "loadgen: waiting up to %s for %d welcomes\n", o.wait, len(want))
	}
	seen, werr := waitWelcomes(ctx, ctl, want, o.wait)
	if werr != nil {
		errs.add("welcomes: " + werr.Error())
	}
	if ctx.Err() != nil {
		sum.Interrupted = true
	}
	var lat []float64
	welcomesBy := map[string]int{}
	for _, w := range seen {
		lat = append(lat, w.LatencyMS)
		welcomesBy[w.UserID]++
	}
	sum.WelcomesSeen = len(seen)
	sum.WelcomesMissing = len(want) - len(seen)
	sum.Latency = summarize(lat)

	// The log outlives the request context only if asked separately.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	entries, err := ctl.Log(lctx, wecomsim.LogQuery{API: "externalcontact/send_welcome_msg", Kind: wecomsim.KindAPI, Since: since})
	if err != nil {
		errs.add("simulator log: " + err.Error())
	}
	for _, e := range entries {
		if e.ErrCode == 0 {
			continue
		}
		if sum.WelcomeErrors == nil {
			sum.WelcomeErrors = map[string]int{}
		}
		sum.WelcomeErrors[strconv.Itoa(e.ErrCode)]++
		if e.ErrCode == expiredCode {
			sum.ExpiredCodes++
		}
	}

	sum.Staff = staffCounts(staff, code, mode, results, welcomesBy)
	sum.Errors = errs.list
	sum.ElapsedSeconds = time.Since(start).Seconds()
	return sum, nil
}

func rateText(r float64) string {
	if r == 0 {
		return "unlimited"
	}
	return strconv.FormatFloat(r, 'f', -1, 64) + "/s"
}

// prepareCode finds or makes the channel code the customers scan.
func prepareCode(ctx context.Context, o options, api *adminAPI, ctl *wecomsim.Control, staff []wecomsim.Staff, stderr io.Writer) (*channelCode, error) {
	if o.code != 0 {
		return api.code(ctx, o.code)
	}
	if !o.precise && len(o.caps) == 0 {
		// Reuse the code of an earlier run while the simulator still knows
		// its contact way: the demo's simulator starts empty on every
		// restart while the database keeps the old code.
		codes, err := api.codesNamed(ctx, codeName)
		if err != nil {
			return nil, err
		}
		for i := len(codes) - 1; i >= 0; i-- {
			c := codes[i]
			if c.Mode != modeRandom || c.ConfigID == "" || !sameMembers(c.Roster.Members, staff) {
				continue
			}
			if _, err := ctl.ContactWay(ctx, c.ConfigID); err == nil {
				fmt.Fprintf(stderr, "loadgen: reusing channel code %d (%s)\n", c.ID, c.Name)
				return &c, nil
			}
		}
	}

	spec := channelCodeSpec{Name: codeName, Tags: []string{codeTag}, Mode: modeRandom}
	spec.Welcome.Text = welcomeText
	spec.Roster.Backups = []string{}
	for i, s := range staff {
		m := rosterMember{UserID: s.UserID}
		if len(o.caps) > 0 {
			m.DailyCap = o.caps[min(i, len(o.caps)-1)]
		}
		spec.Roster.Members = append(spec.Roster.Members, m)
	}
	// A fresh code for every run with caps: caps count per code and day, so
	// a reused one would start with this morning's counts.
	switch {
	case o.precise:
		spec.Name = fmt.Sprintf("%s-precise %s", codeName, time.Now().Format("0102-150405"))
		spec.Mode = modePrecise
		spec.Strategy = o.strategy
	case len(o.caps) > 0:
		spec.Name = fmt.Sprintf("%s-caps %s", codeName, time.Now().Format("0102-150405"))
	}
	c, err := api.createCode(ctx, spec)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stderr, "loadgen: created %s-mode channel code %d (%s) with %d staff\n", c.Mode, c.ID, c.Name, len(staff))
	return c, nil
}

func sameMembers(members []rosterMember, staff []wecomsim.Staff) bool {
	if len(members) != len(staff) {
		return false
	}
	have := map[string]bool{}
	for _, m := range members {
		if m.DailyCap != 0 {
			return false
		}
		have[m.UserID] = true
	}
	for _, s := range staff {
		if !have[s.UserID] {
			return false
		}
	}
	return true
}

// fireScans makes o.scans customers scan, o.concurrency at a time, started
// at o.rate per second. It returns each customer's result, the time the
// scans took and whether ctx ended first.
func fireScans(ctx context.Context, o options, hc *http.Client, ctl *wecomsim.Control, code *channelCode, mode string, stderr io.Writer) ([]scanResult, float64, bool) {
	results := make([]scanResult, o.scans)
	jobs := make(chan int)
	t0 := time.Now()
	injectFaults(ctx, ctl, o.faults, t0, stderr)
	go func() {
		defer close(jobs)
		pace(ctx, o.scans, o.rate, t0, jobs)
	}()

	var done, failed atomic.Int64
	stopProgress := progress(stderr, o.scans, &done, &failed)
	var wg sync.WaitGroup
	for range o.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results[i] = scanOnce(ctx, hc, ctl, o.gateway, code, mode, i)
				done.Add(1)
				if !results[i].sent {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	stopProgress()
	return results, time.Since(t0).Seconds(), ctx.Err() != nil
}

// pace hands out the indexes 0..n-1, the i-th no earlier than i/rate
// seconds after t0. The schedule is fixed in advance: when every worker is
// busy, the late scans start as soon as one is free, so a slow gateway
// shows up in the scan time and the achieved rate, not as a quietly
// lower offered rate.
func pace(ctx context.Context, n int, rate float64, t0 time.Time, out chan<- int) {
	timer := time.NewTimer(0)
	defer timer.Stop()
	<-timer.C
	for i := range n {
		if rate > 0 {
			due := t0.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			if d := time.Until(due); d > 0 {
				timer.Reset(d)
				select {
				case <-timer.C:
				case <-ctx.Done():
					return
				}
			}
		}
		select {
		case out <- i:
		case <-ctx.Done():
			return
		}
	}
}

// progress reports every five seconds on long runs, so a 60-second burst
// does not look hung.
func progress(w io.Writer, total int, done, failed *atomic.Int64) (stop func()) {
	quit := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(5 * time.Second)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				fmt.Fprintf(w, "loadgen: %d/%d scans done, %d failed\n", done.Load(), total, failed.Load())
			}
		}
	}()
	return func() { close(quit); <-finished }
}

func scanOnce(ctx context.Context, hc *http.Client, ctl *wecomsim.Control, gateway string, code *channelCode, mode string, i int) scanResult {
	var r scanResult
	req := wecomsim.ScanRequest{Customer: wecomsim.Customer{Name: fmt.Sprintf("访客%05d", i+1)}}
	if mode == modePrecise {
		qr, staff, err := landing(ctx, hc, gateway, code.Slug)
		if err != nil {
			r.landingErr, r.err = true, "landing page: "+err.Error()
			return r
		}
		req.QRCode, r.landingUser = qr, staff
	} else {
		req.ConfigID = code.ConfigID
	}
	res, err := ctl.Scan(ctx, req)
	if err != nil {
		r.err = "scan: " + err.Error()
		return r
	}
	r.sent, r.userID, r.welcomeCode = true, res.UserID, res.WelcomeCode
	return r
}

// waitWelcomes polls the simulator until every wanted welcome code has a
// recorded welcome or wait has passed. The simulator answers the list
// under its state lock, so it is read twice a second, not continuously.
func waitWelcomes(ctx context.Context, ctl *wecomsim.Control, want map[string]int, wait time.Duration) (map[string]wecomsim.Welcome, error) {
	seen := map[string]wecomsim.Welcome{}
	if len(want) == 0 {
		return seen, nil
	}
	deadline := time.Now().Add(wait)
	var lastErr error
	for {
		ws, err := ctl.Welcomes(ctx, wecomsim.WelcomeQuery{})
		if err == nil {
			lastErr = nil
			for _, w := range ws {
				if _, ok := want[w.WelcomeCode]; ok {
					seen[w.WelcomeCode] = w
				}
			}
		} else if ctx.Err() == nil {
			lastErr = err
		}
		if len(seen) == len(want) || ctx.Err() != nil || !time.Now().Before(deadline) {
			return seen, lastErr
		}
		select {
		case <-ctx.Done():
		case <-time.After(min(500*time.Millisecond, time.Until(deadline))):
		}
	}
}

func staffCounts(staff []wecomsim.Staff, code *channelCode, mode string, results []scanResult, welcomes map[string]int) []StaffCount {
	caps := map[string]int{}
	for _, m := range code.Roster.Members {
		caps[m.UserID] = m.DailyCap
	}
	byID := map[string]*StaffCount{}
	var order []string
	get := func(id string) *StaffCount {
		if c, ok := byID[id]; ok {
			return c
		}
		c := &StaffCount{UserID: id, Cap: caps[id]}
		byID[id] = c
		order = append(order, id)
		return c
	}
	for _, s := range staff {
		get(s.UserID)
	}
	for _, r := range results {
		if mode == modePrecise && r.landingUser != "" {
			get(r.landingUser).Landings++
		}
		if r.sent {
			get(r.userID).Scans++
		}
	}
	for id, n := range welcomes {
		get(id).Welcomes += n
	}
	out := make([]StaffCount, 0, len(order))
	for _, id := range order {
		out = append(out, *byID[id])
	}
	return out
}
