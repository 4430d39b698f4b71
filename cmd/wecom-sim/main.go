package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

func main() {
	os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr, nil))
}

// run parses flags, serves until ctx ends or SIGINT/SIGTERM arrives, and
// returns the exit code. ready, if not nil, receives the listening address.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	fs := flag.NewFlagSet("wecom-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", ":8081", "address to serve on")
	corp := fs.String("corp", "", "CorpID (generated when empty)")
	secret := fs.String("secret", "", "corpsecret for gettoken (generated when empty)")
	token := fs.String("token", "", "callback Token (generated when empty)")
	aesKey := fs.String("aes-key", "", "callback EncodingAESKey, 43 characters (generated when empty)")
	callback := fs.String("callback", "", "the gateway's callback URL, e.g. http://127.0.0.1:8080/wecom/callback/<corpid>;\nseveral, comma-separated, take turns (replicas behind a load balancer)")
	seed := fs.Int64("seed", 1, "seed for ids and random staff picks")
	retryDelay := fs.Duration("retry-delay", time.Second, "pause between callback resends")
	welcomeWindow := fs.Duration("welcome-window", 20*time.Second, "how long a welcome_code stays valid")
	rateLimit := fs.Int("rate-limit", 10000, "calls per minute per API")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		fmt.Fprintf(stderr, "wecom-sim: -log-level: %v\n", err)
		return 2
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))

	// Empty credentials get fresh random ones: they are test credentials
	// that only ever guard traffic to this simulator.
	if *corp == "" {
		*corp = "ww" + randomHex(8)
	}
	if *secret == "" {
		*secret = randomBase64(32)
	}
	if *token == "" {
		*token = randomBase64(24)
	}
	if *aesKey == "" {
		*aesKey = base64.RawStdEncoding.EncodeToString(randomBytes(32))
	}
	sim, err := wecomsim.New(wecomsim.Options{
		CorpID: *corp, Secret: *secret, Token: *token, EncodingAESKey: *aesKey,
		CallbackURL: *callback, Seed: *seed, RetryDelay: *retryDelay, WelcomeWindow: *welcomeWindow,
		RateLimitPerMinute: *rateLimit, Logger: log,
	})
	if err != nil {
		fmt.Fprintf(stderr, "wecom-sim: %v\n", err)
		return 2
	}
	defer sim.Close()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		fmt.Fprintf(stderr, "wecom-sim: %v\n", err)
		return 1
	}
	srv := &http.Server{Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	base := "http://" + displayAddr(ln.Addr())
	printBanner(stdout, base, sim.Config())

	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	log.Info("wecom-sim listening", "addr", ln.Addr().String(), "corp", *corp, "seed", *seed)
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-errc:
		log.Error("serve failed", "err", err)
		return 1
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdown); err != nil {
		log.Warn("shutdown", "err", err)
	}
	sim.Close()
	return 0
}

func printBanner(w io.Writer, base string, cfg wecomsim.Options) {
	cb := cfg.CallbackURL
	if cb == "" {
		cb = "(not set: pass -callback or POST /sim/callback {\"url\": ...})"
	}
	fmt.Fprintf(w, `WeCom simulator on %[1]s
  corp id          %[2]s
  corpsecret       %[3]s
  callback token   %[4]s
  EncodingAESKey   %[5]s
  callback URL     %[6]s

Point the gateway at it:
  GATEWAY_WECOM_API_BASE=%[1]s
  GATEWAY_CORP_ID=%[2]s
  GATEWAY_CORP_SECRET=%[3]s
  GATEWAY_CALLBACK_TOKEN=%[4]s
  GATEWAY_CALLBACK_AES_KEY=%[5]s
and start this simulator with -callback http://<gateway>/wecom/callback/%[2]s

`, base, cfg.CorpID, cfg.Secret, cfg.Token, cfg.EncodingAESKey, cb)
}

// displayAddr turns a wildcard listen address into one a browser can use.
func displayAddr(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return b
}

func randomHex(n int) string { return hex.EncodeToString(randomBytes(n)) }

func randomBase64(n int) string {
	return strings.NewReplacer("-", "", "_", "").Replace(base64.RawURLEncoding.EncodeToString(randomBytes(n)))
}
