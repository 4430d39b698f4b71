package config

import (
	"errors"
	"testing"
	"time"
)

func TestWebhooksSectionDefaultsEnvAndValidation(t *testing.T) {
	cfg := Default()
	if w := cfg.Webhooks; w.AllowHTTP || w.AllowPrivateNetworks || w.Timeout != 15*time.Second || w.Workers != 16 {
		t.Fatalf("defaults = %+v", w)
	}
	if err := applyEnv(&cfg, env(map[string]string{"GATEWAY_WEBHOOKS_ALLOW_HTTP": "true", "GATEWAY_WEBHOOKS_ALLOW_PRIVATE_NETWORKS": "1"})); err != nil {
		t.Fatal(err)
	}
	if !cfg.Webhooks.AllowHTTP || !cfg.Webhooks.AllowPrivateNetworks {
		t.Fatalf("env not applied: %+v", cfg.Webhooks)
	}
	if err := applyEnv(&cfg, env(map[string]string{"GATEWAY_WEBHOOKS_ALLOW_HTTP": "sometimes"})); err == nil {
		t.Fatal("a non-boolean was accepted")
	}
	cfg.Webhooks.Workers, cfg.Webhooks.Timeout, cfg.Webhooks.PollInterval = 0, time.Hour, 0
	err := cfg.Validate()
	keys := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if errors.As(e, &fe) {
			keys[fe.Key] = true
		}
	}
	for _, k := range []string{"webhooks.workers", "webhooks.timeout", "webhooks.poll_interval"} {
		if !keys[k] {
			t.Errorf("%s not reported: %v", k, err)
		}
	}
}

func TestWebhooksAllowedHosts(t *testing.T) {
	cfg := Default()
	if err := applyEnv(&cfg, env(map[string]string{"GATEWAY_WEBHOOKS_ALLOWED_HOSTS": " crm.lan , 10.0.0.5,fd00::7,"})); err != nil {
		t.Fatal(err)
	}
	if got := cfg.Webhooks.AllowedHosts; len(got) != 3 || got[0] != "crm.lan" || got[1] != "10.0.0.5" || got[2] != "fd00::7" {
		t.Fatalf("allowed hosts = %q", got)
	}
	cfg.Webhooks.AllowedHosts = append(cfg.Webhooks.AllowedHosts, "https://crm.lan/hook", "crm.lan:8443")
	err := cfg.Validate()
	keys := map[string]bool{}
	for _, e := range err.(interface{ Unwrap() []error }).Unwrap() {
		var fe *FieldError
		if errors.As(e, &fe) {
			keys[fe.Key] = true
		}
	}
	if !keys["webhooks.allowed_hosts[3]"] || !keys["webhooks.allowed_hosts[4]"] || keys["webhooks.allowed_hosts[2]"] {
		t.Fatalf("validation = %v", err)
	}
}
