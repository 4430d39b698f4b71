package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// timedFault is a simulator fault installed At after the first scan and,
// when For is set, removed again For later.
type timedFault struct {
	wecomsim.Fault
	At  time.Duration
	For time.Duration
}

// faultList is the repeatable -fault flag.
type faultList []timedFault

func (l *faultList) String() string { return "" }

// Set parses "api=send_welcome_msg,errcode=45009,count=1,at=5s[,for=2s][,probability=0.05][,latency_ms=300]".
func (l *faultList) Set(s string) error {
	var f timedFault
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(kv), "=")
		if !ok {
			return fmt.Errorf("%q is not key=value", kv)
		}
		var err error
		switch k {
		case "api":
			f.API = v
		case "errcode":
			f.ErrCode, err = strconv.Atoi(v)
		case "count":
			f.Count, err = strconv.Atoi(v)
		case "probability":
			f.Probability, err = strconv.ParseFloat(v, 64)
		case "latency_ms":
			f.LatencyMS, err = strconv.Atoi(v)
		case "http_status":
			f.HTTPStatus, err = strconv.Atoi(v)
		case "at":
			f.At, err = time.ParseDuration(v)
		case "for":
			f.For, err = time.ParseDuration(v)
		default:
			return fmt.Errorf("unknown key %q (api, errcode, count, probability, latency_ms, http_status, at, for)", k)
		}
		if err != nil {
			return fmt.Errorf("%s: %v", k, err)
		}
	}
	switch {
	case f.API == "":
		return fmt.Errorf("%q names no api", s)
	case f.At < 0 || f.For < 0 || f.Count < 0:
		return fmt.Errorf("%q: at, for and count must not be negative", s)
	}
	*l = append(*l, f)
	return nil
}

// injectFaults installs each fault at its time after t0 through the
// simulator's /sim/faults, and clears them For later, until ctx ends.
func injectFaults(ctx context.Context, ctl *wecomsim.Control, faults faultList, t0 time.Time, stderr io.Writer) {
	for _, f := range faults {
		go func() {
			if !sleepUntil(ctx, t0.Add(f.At)) {
				return
			}
			added, err := ctl.AddFault(ctx, f.Fault)
			if err != nil || len(added) != 1 {
				fmt.Fprintf(stderr, "loadgen: fault on %s: %v\n", f.API, err)
				return
			}
			fmt.Fprintf(stderr, "loadgen: %s: fault on %s (errcode %d, count %d)\n", f.At, f.API, f.ErrCode, f.Count)
			if f.For > 0 && sleepUntil(ctx, t0.Add(f.At+f.For)) {
				if err := removeFault(ctx, ctl, added[0].ID); err != nil {
					fmt.Fprintf(stderr, "loadgen: removing the fault on %s: %v\n", f.API, err)
					return
				}
				fmt.Fprintf(stderr, "loadgen: %s: fault on %s removed\n", f.At+f.For, f.API)
			}
		}()
	}
}

// removeFault takes one fault out and leaves the others (the simulator
// replaces its list whole, so concurrent removals are serialized here).
func removeFault(ctx context.Context, ctl *wecomsim.Control, id int) error {
	faultMu.Lock()
	defer faultMu.Unlock()
	all, err := ctl.Faults(ctx)
	if err != nil {
		return err
	}
	var keep []wecomsim.Fault
	for _, f := range all {
		if f.ID != id {
			f.ID, f.Fired = 0, 0
			keep = append(keep, f)
		}
	}
	_, err = ctl.SetFaults(ctx, keep...)
	return err
}

var faultMu sync.Mutex

func sleepUntil(ctx context.Context, t time.Time) bool {
	timer := time.NewTimer(time.Until(t))
	defer timer.Stop()
	select {
	case <-timer.C:
		return true
	case <-ctx.Done():
		return false
	}
}
