package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
)

// cmdWebhookTest sends one signed webhook.test event to a URL, so a CRM
// developer can check their signature verification before any real event
// flows. It obeys the same webhooks.* network policy and timeout as the sender.
func cmdWebhookTest(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("webhook-test", flag.ContinueOnError)
	fs.SetOutput(stderr)
	url := fs.String("url", "", "the endpoint to send a signed test event to")
	secret := fs.String("secret", "", "the endpoint's whsec_ secret (or GATEWAY_WEBHOOK_SECRET; default: a new one, printed)")
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	if *url == "" {
		return fmt.Errorf("webhook-test: --url is required\n%s", usage)
	}
	if *secret == "" {
		*secret = getenv("GATEWAY_WEBHOOK_SECRET")
	}
	if *secret == "" {
		*secret = webhook.NewSecret()
		fmt.Fprintf(stdout, "secret:    %s   (new; give it to the receiver to verify with)\n", *secret)
	}
	policy := webhook.NetworkPolicy{AllowHTTP: cfg.Webhooks.AllowHTTP, AllowPrivateNetworks: cfg.Webhooks.AllowPrivateNetworks,
		AllowedHosts: cfg.Webhooks.AllowedHosts}
	res, body, err := outbound.SendTestWebhook(ctx, policy, cfg.Webhooks.Timeout, *url, *secret, clock.Real{})
	var ve *apierr.ValidationError
	if errors.As(err, &ve) {
		return fmt.Errorf("webhook-test: --%s %s", ve.Field, ve.Reason)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "POST %s\n", *url)
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		fmt.Fprintf(stdout, "%s: %s\n", h, res.Headers.Get(h))
	}
	fmt.Fprintf(stdout, "\n%s\n\n", body)
	if res.Err != nil {
		return fmt.Errorf("webhook-test: no answer after %s: %v", res.Latency.Round(time.Millisecond), res.Err)
	}
	fmt.Fprintf(stdout, "answer:    HTTP %d in %s\n", res.StatusCode, res.Latency.Round(time.Millisecond))
	if res.Response != "" {
		fmt.Fprintf(stdout, "%s\n", res.Response)
	}
	if !res.OK() {
		return fmt.Errorf("webhook-test: the endpoint answered HTTP %d; a delivery needs 2xx", res.StatusCode)
	}
	return nil
}
