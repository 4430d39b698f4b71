package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

const usageHead = `usage:
  loadgen [-scans N] [-rate R] [-concurrency C] [-gateway URL] [-sim URL] [-token T] [-code ID] [-json]
  loadgen -precise [-scans N] [-caps LIST] [-strategy S] ...
  loadgen -scans N -rate R -fault api=send_welcome_msg,errcode=45009,count=1,at=5s ...
  loadgen -callbacks N -url URL -corp ID -token T -aes-key K [-concurrency C] [-json]

Scan mode (the default) makes sure a random-mode channel code exists (one named
"loadgen" holding every simulated staff member, made through the admin API
unless -code is given), fires -scans customer scans at it through the
simulator, waits until the simulator has recorded each scan's welcome, and
prints scans, welcomes seen and missing, expired welcome codes (41050),
scan-to-welcome latency percentiles as the simulator measured them, and the
split across staff.

-precise creates a precise-mode code and, for each customer, first opens its
landing page /c/<slug> as a fresh visitor, then scans the QR code it shows.
-caps gives the staff daily caps on a fresh code of either mode; the staff
table then shows each member's cap beside what they received.

-fault installs a fault in the simulator (POST /sim/faults) at a time after the
first scan, as WeCom would misbehave mid-burst: a 45009 on the welcome API, a
token revocation (errcode 42001 on api=*), system busy (-1) with a probability.
The summary counts WeCom's refusals by errcode; every scan must still be
welcomed.

-callbacks posts N signed, encrypted add_external_contact events, each with
its own ExternalUserID, to a callback URL and reports acknowledgement latency
and accepted callbacks per second. It needs no simulator.

Exit status: 0 when every scan was made and welcomed (or every callback was
accepted), 1 when any scan failed or any welcome is missing or expired (or
any callback was not accepted), 2 on bad flags.

flags:
`

// options are the parsed flags.
type options struct {
	gateway     string
	sim         string
	token       string
	tokenFile   string
	corp        string
	code        uint64
	scans       int
	rate        float64
	concurrency int
	wait        time.Duration
	precise     bool
	caps        []int
	strategy    string
	jsonOut     bool

	faults faultList

	callbacks int
	url       string
	aesKey    string
	userID    string
}

func parseFlags(args []string, stderr io.Writer) (options, error) {
	var o options
	fs := flag.NewFlagSet("loadgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usageHead)
		fs.PrintDefaults()
	}
	fs.StringVar(&o.gateway, "gateway", listenURL(os.Getenv("GATEWAY_LISTEN")), "gateway base URL (admin API and landing pages); the default follows GATEWAY_LISTEN, as the gateway does")
	fs.StringVar(&o.sim, "sim", "", "simulator base URL for /sim/ (default: the gateway's, as in demo mode)")
	fs.StringVar(&o.token, "token", "", "scan modes: admin API token (default: read from -token-file);\n-callbacks: the callback Token")
	fs.StringVar(&o.tokenFile, "token-file", "demo-admin-token.txt", "file holding the admin API token when -token is empty (the demo writes it beside its database)")
	fs.StringVar(&o.corp, "corp", "", "scan modes: corp id for the admin API, needed when the gateway serves several corps;\n-callbacks: the CorpID (receiveid) the events are sealed for")
	fs.Uint64Var(&o.code, "code", 0, "use this existing channel code id instead of creating one (its mode decides how customers scan)")
	fs.IntVar(&o.scans, "scans", 50, "customer scans to make")
	fs.Float64Var(&o.rate, "rate", 0, "scans (or callbacks) started per second; 0 = as fast as -concurrency allows")
	fs.IntVar(&o.concurrency, "concurrency", 16, "requests in flight at once")
	fs.DurationVar(&o.wait, "wait", 30*time.Second, "how long to wait after the last scan for welcomes still missing")
	fs.BoolVar(&o.precise, "precise", false, "create a precise-mode code and go through its landing page for each scan")
	capsFlag := fs.String("caps", "", "daily caps per staff member in staff order, e.g. 100,150,200,250,300, on a fresh code\n(the last one repeats for further staff; empty = no caps). Exact in precise mode; in random\nmode WeCom picks, so the figures show how far adds run past a cap before the way is rewritten")
	fs.StringVar(&o.strategy, "strategy", "", "precise mode: round_robin (default), least_loaded or weighted")
	fs.BoolVar(&o.jsonOut, "json", false, "print the summary as JSON")
	fs.Var(&o.faults, "fault", "scan modes: install a simulator fault during the run, e.g.\napi=send_welcome_msg,errcode=45009,count=1,at=5s (at: after the first scan; for=2s removes\nit again after that long; also probability=, latency_ms=, http_status=). Repeatable")
	fs.IntVar(&o.callbacks, "callbacks", 0, "post this many signed callbacks to -url instead of scanning")
	fs.StringVar(&o.url, "url", "", "-callbacks: the gateway's callback URL, e.g. http://127.0.0.1:8080/wecom/callback/<corp>")
	fs.StringVar(&o.aesKey, "aes-key", "", "-callbacks: the callback EncodingAESKey (43 characters)")
	fs.StringVar(&o.userID, "userid", "zhangsan", "-callbacks: the staff userid the events name")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "loadgen: unexpected argument %q\n", fs.Arg(0))
		return o, errors.New("unexpected arguments")
	}
	bad := func(format string, a ...any) (options, error) {
		err := fmt.Errorf(format, a...)
		fmt.Fprintln(stderr, "loadgen:", err)
		return o, err
	}
	caps, err := parseCaps(*capsFlag)
	if err != nil {
		return bad("-caps: %v", err)
	}
	o.caps = caps
	switch {
	case o.concurrency < 1:
		return bad("-concurrency must be at least 1")
	case o.rate < 0:
		return bad("-rate must not be negative")
	case o.wait < 0:
		return bad("-wait must not be negative")
	case o.callbacks < 0:
		return bad("-callbacks must not be negative")
	}
	if o.callbacks > 0 {
		switch {
		case o.url == "":
			return bad("-callbacks needs -url")
		case o.corp == "":
			return bad("-callbacks needs -corp")
		case o.token == "":
			return bad("-callbacks needs -token (the callback Token)")
		case o.aesKey == "":
			return bad("-callbacks needs -aes-key")
		}
		return o, nil
	}
	if o.scans < 1 {
		return bad("-scans must be at least 1")
	}
	o.gateway = strings.TrimRight(o.gateway, "/")
	if o.sim == "" {
		o.sim = o.gateway
	}
	o.sim = strings.TrimRight(o.sim, "/")
	return o, nil
}

// listenURL is the URL that reaches a gateway listening on addr (the
// gateway's GATEWAY_LISTEN) from this host: ":9090" and "0.0.0.0:9090" are
// http://127.0.0.1:9090; empty is the gateway's default, port 8080.
func listenURL(addr string) string {
	host, port, err := net.SplitHostPort(strings.TrimSpace(addr))
	if err != nil || port == "" {
		return "http://127.0.0.1:8080"
	}
	switch host {
	case "", "0.0.0.0", "::", "[::]":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func parseCaps(s string) ([]int, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	var caps []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("%q is not a cap (a whole number, 0 = none)", f)
		}
		caps = append(caps, n)
	}
	return caps, nil
}

// run is main without the process: it returns the exit code.
func run(args []string, stdout, stderr io.Writer) int {
	// The scans and the fault schedule report from their own goroutines.
	stderr = &lockedWriter{w: stderr}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	hc := newHTTPClient(o.concurrency)
	defer hc.CloseIdleConnections()

	if o.callbacks > 0 {
		sum, err := runCallbacks(ctx, o, hc)
		if err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
		if err := printSummary(stdout, o.jsonOut, sum); err != nil {
			fmt.Fprintln(stderr, "loadgen:", err)
			return 1
		}
		if !sum.ok() {
			return 1
		}
		return 0
	}

	if o.token == "" {
		b, err := os.ReadFile(o.tokenFile)
		if err != nil {
			fmt.Fprintf(stderr, "loadgen: no -token, and the token file is unreadable: %v\n"+
				"(start the demo with `go run ./cmd/gateway` in this directory, or pass -token)\n", err)
			return 1
		}
		o.token = strings.TrimSpace(string(b))
	}
	sum, err := runScans(ctx, o, hc, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if err := printSummary(stdout, o.jsonOut, sum); err != nil {
		fmt.Fprintln(stderr, "loadgen:", err)
		return 1
	}
	if !sum.ok() {
		return 1
	}
	return 0
}

// newHTTPClient keeps one idle connection per worker: the default of two
// per host would open and close a connection for most requests and, at a
// few hundred a second, run the machine out of ephemeral ports.
func newHTTPClient(concurrency int) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        concurrency + 8,
		MaxIdleConnsPerHost: concurrency + 8,
		IdleConnTimeout:     90 * time.Second,
	}
	return &http.Client{Transport: tr, Timeout: 30 * time.Second}
}

// lockedWriter lets several goroutines write whole lines to one writer.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
