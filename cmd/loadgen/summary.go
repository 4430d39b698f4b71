package main

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"sort"
	"strings"
	"text/tabwriter"
)

// percentile is the nearest-rank percentile of sorted values: the smallest
// value with at least p % of the values at or below it. Unlike an
// interpolated percentile it is always a latency that was observed, so a
// p99 never reports a time no request took. p <= 0 gives the minimum;
// an empty slice gives 0.
func percentile(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if p <= 0 {
		return sorted[0]
	}
	rank := int(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// Latency summarises observed durations in milliseconds.
type Latency struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P90   float64 `json:"p90_ms"`
	P99   float64 `json:"p99_ms"`
	Max   float64 `json:"max_ms"`
}

func summarize(ms []float64) Latency {
	s := slices.Clone(ms)
	slices.Sort(s)
	l := Latency{Count: len(s), P50: percentile(s, 50), P90: percentile(s, 90), P99: percentile(s, 99)}
	if len(s) > 0 {
		l.Max = s[len(s)-1]
	}
	return l
}

func (l Latency) String() string {
	if l.Count == 0 {
		return "no samples"
	}
	return fmt.Sprintf("p50 %s  p90 %s  p99 %s  max %s  (%d samples)", fmtMS(l.P50), fmtMS(l.P90), fmtMS(l.P99), fmtMS(l.Max), l.Count)
}

func fmtMS(ms float64) string {
	if ms >= 10000 {
		return fmt.Sprintf("%.1f s", ms/1000)
	}
	if ms >= 100 {
		return fmt.Sprintf("%.0f ms", ms)
	}
	return fmt.Sprintf("%.1f ms", ms)
}

// summary is what a run prints.
type summary interface {
	text(w io.Writer)
	ok() bool
}

func printSummary(w io.Writer, asJSON bool, s summary) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(s)
	}
	s.text(w)
	return nil
}

// StaffCount is one staff member's share of a scan run.
type StaffCount struct {
	UserID   string `json:"userid"`
	Cap      int    `json:"daily_cap,omitempty"`
	Landings int    `json:"landings,omitempty"` // precise mode: landing pages that showed this member
	Scans    int    `json:"scans"`
	Welcomes int    `json:"welcomes"`
}

// ScanSummary is the outcome of a scan or precise run.
type ScanSummary struct {
	Mode     string `json:"mode"` // random or precise
	CodeID   uint64 `json:"code_id"`
	CodeName string `json:"code_name"`

	Requested     int     `json:"scans_requested"`
	Sent          int     `json:"scans_sent"`
	ScanErrors    int     `json:"scan_errors"`
	LandingErrors int     `json:"landing_errors,omitempty"`
	Mismatched    int     `json:"landing_scan_mismatches,omitempty"` // precise: scan reached someone other than the page showed
	ScanSeconds   float64 `json:"scan_seconds"`
	ScanRate      float64 `json:"scans_per_second"`

	WelcomesSeen    int            `json:"welcomes_seen"`
	WelcomesMissing int            `json:"welcomes_missing"`
	ExpiredCodes    int            `json:"expired_welcome_codes"`
	WelcomeErrors   map[string]int `json:"welcome_errors,omitempty"` // send_welcome_msg answers by non-zero errcode
	Latency         Latency        `json:"scan_to_welcome"`

	Staff          []StaffCount `json:"staff"`
	ElapsedSeconds float64      `json:"elapsed_seconds"`
	Interrupted    bool         `json:"interrupted,omitempty"`
	Errors         []string     `json:"error_samples,omitempty"`
}

func (s *ScanSummary) ok() bool {
	return !s.Interrupted && s.ScanErrors == 0 && s.LandingErrors == 0 && s.Sent == s.Requested &&
		s.WelcomesMissing == 0 && s.ExpiredCodes == 0
}

func (s *ScanSummary) text(w io.Writer) {
	fmt.Fprintf(w, "%s-mode channel code %d (%s)\n", s.Mode, s.CodeID, s.CodeName)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "scans\t%d of %d sent, %d errors, in %.1f s (%.1f/s)\n", s.Sent, s.Requested, s.ScanErrors, s.ScanSeconds, s.ScanRate)
	if s.Mode == modePrecise {
		fmt.Fprintf(tw, "landing pages\t%d errors, %d scans reached another member than the page showed\n", s.LandingErrors, s.Mismatched)
	}
	fmt.Fprintf(tw, "welcomes\t%d seen, %d missing, %d expired welcome codes (41050)\n", s.WelcomesSeen, s.WelcomesMissing, s.ExpiredCodes)
	if len(s.WelcomeErrors) > 0 {
		codes := make([]string, 0, len(s.WelcomeErrors))
		for c, n := range s.WelcomeErrors {
			codes = append(codes, fmt.Sprintf("%s×%d", c, n))
		}
		sort.Strings(codes)
		fmt.Fprintf(tw, "welcome errors\t%s\n", strings.Join(codes, "  "))
	}
	fmt.Fprintf(tw, "scan → welcome\t%s\n", s.Latency)
	fmt.Fprintf(tw, "elapsed\t%.1f s\n", s.ElapsedSeconds)
	tw.Flush()

	fmt.Fprintln(w, "\nstaff")
	tw = tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	precise := s.Mode == modePrecise
	withCaps := precise
	for _, c := range s.Staff {
		withCaps = withCaps || c.Cap > 0
	}
	head := "  userid"
	if withCaps {
		head += "\tcap"
	}
	if precise {
		head += "\tlandings"
	}
	fmt.Fprintln(tw, head+"\tscans\twelcomes")
	for _, c := range s.Staff {
		row := "  " + c.UserID
		if withCaps {
			capText := "-"
			if c.Cap > 0 {
				capText = fmt.Sprint(c.Cap)
			}
			row += "\t" + capText
		}
		if precise {
			row += fmt.Sprintf("\t%d", c.Landings)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\n", row, c.Scans, c.Welcomes)
	}
	tw.Flush()
	if len(s.Errors) > 0 {
		fmt.Fprintln(w, "\nfirst errors")
		for _, e := range s.Errors {
			fmt.Fprintln(w, "  "+e)
		}
	}
	if s.Interrupted {
		fmt.Fprintln(w, "\ninterrupted: the figures cover what happened until then")
	}
}

// CallbackSummary is the outcome of a -callbacks run.
type CallbackSummary struct {
	URL            string         `json:"url"`
	Requested      int            `json:"callbacks_requested"`
	Sent           int            `json:"callbacks_sent"`
	Accepted       int            `json:"accepted"`
	Rejected       map[string]int `json:"rejected_by_status,omitempty"`
	Errors         int            `json:"errors"` // no answer, or a 200 whose body is not "success"
	ElapsedSeconds float64        `json:"elapsed_seconds"`
	AcceptedPerSec float64        `json:"accepted_per_second"`
	Latency        Latency        `json:"ack_latency"`
	Interrupted    bool           `json:"interrupted,omitempty"`
	ErrorSamples   []string       `json:"error_samples,omitempty"`
}

func (s *CallbackSummary) ok() bool {
	return !s.Interrupted && s.Accepted == s.Requested
}

func (s *CallbackSummary) text(w io.Writer) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "callbacks\t%d of %d sent to %s\n", s.Sent, s.Requested, s.URL)
	rej := 0
	var parts []string
	for st, n := range s.Rejected {
		rej += n
		parts = append(parts, fmt.Sprintf("%s×%d", st, n))
	}
	sort.Strings(parts)
	line := fmt.Sprintf("%d accepted, %d rejected, %d without a valid answer", s.Accepted, rej, s.Errors)
	if len(parts) > 0 {
		line += " (" + strings.Join(parts, "  ") + ")"
	}
	fmt.Fprintf(tw, "answers\t%s\n", line)
	fmt.Fprintf(tw, "throughput\t%.1f accepted/s over %.2f s\n", s.AcceptedPerSec, s.ElapsedSeconds)
	fmt.Fprintf(tw, "ack latency\t%s\n", s.Latency)
	tw.Flush()
	for _, e := range s.ErrorSamples {
		fmt.Fprintln(w, "  "+e)
	}
	if s.Interrupted {
		fmt.Fprintln(w, "interrupted: the figures cover what happened until then")
	}
}

// errorSamples keeps the first few distinct errors for the summary: the
// counts say how many, a sample says why.
type errorSamples struct {
	list []string
}

func (e *errorSamples) add(msg string) {
	if len(e.list) >= 5 || slices.Contains(e.list, msg) {
		return
	}
	e.list = append(e.list, msg)
}
