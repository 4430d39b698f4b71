package config

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

const goodKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"

func TestDefaultsAreValidDemo(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg, err := Load("", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("defaults invalid: %v", err)
	}
	if !cfg.Demo() || cfg.DB.Driver != "sqlite" || cfg.DB.DSN != "gateway.db" || cfg.Listen != ":8080" {
		t.Fatalf("defaults = %+v", cfg)
	}
}

// Copied as it is, the example file still runs the demo (SQLite, no corp):
// a newcomer who copies it to gateway.yaml does not get a failing MySQL
// start. With its commented production keys uncommented it is a valid
// production config.
func TestExampleFileLoadsAndValidates(t *testing.T) {
	cfg, err := Load("../gateway.example.yaml", env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("example invalid: %v", err)
	}
	if !cfg.Demo() || cfg.DB.Driver != "sqlite" || cfg.DB.DSN != "gateway.db" || cfg.Dispatcher.Lease != 60*time.Second {
		t.Fatalf("example = %+v", cfg)
	}

	ex, err := os.ReadFile("../gateway.example.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// A commented key line is "# key: ..." or "#   - key: ..."; a comment
	// in words never starts with a lower-case key and a colon.
	key := regexp.MustCompile(`(?m)^([ \t]*)# ([ \t]*(?:- )?[a-z_]+:(?:[ \t].*)?)$`)
	prod := filepath.Join(t.TempDir(), "gateway.yaml")
	os.WriteFile(prod, key.ReplaceAll(ex, []byte("$1$2")), 0o600)
	cfg, err = Load(prod, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("production example invalid: %v", err)
	}
	if cfg.Demo() || cfg.DB.Driver != "mysql" || len(cfg.Corps) != 1 || cfg.PublicURL != "https://scrm.example.com" {
		t.Fatalf("production example = %+v", cfg)
	}
}

func TestEnvOverridesFileAndFileVariants(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "g.yaml")
	os.WriteFile(path, []byte("listen: ':9000'\ncorps:\n  - id: wwA\n    secret: s\n    callback_token: t\n    callback_aes_key: "+goodKey+"\n"), 0o600)
	secretFile := filepath.Join(dir, "secret")
	os.WriteFile(secretFile, []byte("from-file\n"), 0o600)
	cfg, err := Load(path, env(map[string]string{
		"GATEWAY_LISTEN": ":7000", "GATEWAY_DB_DRIVER": "mysql", "GATEWAY_DB_DSN": "u@tcp(h:3306)/d",
		"GATEWAY_WECOM_API_BASE": "http://127.0.0.1:8081",
		"GATEWAY_CORP_ID":        "wwB", "GATEWAY_CORP_SECRET_FILE": secretFile,
		"GATEWAY_CALLBACK_TOKEN": "tok", "GATEWAY_CALLBACK_AES_KEY": goodKey,
	}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	if cfg.Listen != ":7000" || cfg.DB.Driver != "mysql" || cfg.WeCom.APIBase != "http://127.0.0.1:8081" {
		t.Fatalf("env not applied: %+v", cfg)
	}
	if len(cfg.Corps) != 2 || cfg.Corps[1].ID != "wwB" || cfg.Corps[1].Secret != "from-file" {
		t.Fatalf("corps = %+v", cfg.Corps)
	}
	// The single-corp variables override the matching file entry.
	cfg, _ = Load(path, env(map[string]string{"GATEWAY_CORP_ID": "wwA", "GATEWAY_CORP_SECRET": "new"}))
	if len(cfg.Corps) != 1 || cfg.Corps[0].Secret != "new" || cfg.Corps[0].CallbackToken != "t" {
		t.Fatalf("override = %+v", cfg.Corps)
	}
}

func TestMissingSecretFileIsAnError(t *testing.T) {
	_, err := Load("", env(map[string]string{"GATEWAY_CORP_ID": "ww", "GATEWAY_CORP_SECRET_FILE": "/nonexistent/secret"}))
	if err == nil || !strings.Contains(err.Error(), "GATEWAY_CORP_SECRET_FILE") {
		t.Fatalf("err = %v", err)
	}
}

func TestUnknownKeyIsRejected(t *testing.T) {
	path := filepath.Join(t.TempDir(), "g.yaml")
	os.WriteFile(path, []byte("listne: ':9000'\n"), 0o600)
	if _, err := Load(path, env(nil)); err == nil || !strings.Contains(err.Error(), "listne") {
		t.Fatalf("typo accepted: %v", err)
	}
}

func TestValidateNamesKeyAndReason(t *testing.T) {
	cases := []struct {
		mutate func(*Config)
		key    string
		reason string
	}{
		{func(c *Config) { c.Corps[0].CallbackAESKey = "short" }, "corps[0].callback_aes_key", "43 characters, got 5"},
		{func(c *Config) { c.Corps[0].CallbackAESKey = strings.Repeat("+", 43) }, "corps[0].callback_aes_key", "letters and digits"},
		{func(c *Config) { c.Corps[0].Secret = "" }, "corps[0].secret", "must not be empty"},
		{func(c *Config) { c.Corps[0].ID = "a/b" }, "corps[0].id", "URL path segment"},
		{func(c *Config) { c.Corps = append(c.Corps, c.Corps[0]) }, "corps[1].id", "duplicate"},
		{func(c *Config) { c.DB.Driver = "postgres" }, "db.driver", "sqlite or mysql"},
		{func(c *Config) { c.WeCom.APIBase = "qyapi" }, "wecom.api_base", "absolute"},
		{func(c *Config) { c.WeCom.CallsPerMinute = 20000 }, "wecom.calls_per_minute", "10000"},
		{func(c *Config) { c.LogLevel = "loud" }, "log_level", "debug, info"},
		{func(c *Config) { c.Dispatcher.Workers = 0 }, "dispatcher.workers", "at least 1"},
	}
	for _, tc := range cases {
		c := Default()
		c.Corps = []Corp{{ID: "ww1", Secret: "s", CallbackToken: "t", CallbackAESKey: goodKey}}
		tc.mutate(&c)
		err := c.Validate()
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v", tc.key, err)
			continue
		}
		if !strings.Contains(err.Error(), tc.key) || !strings.Contains(err.Error(), tc.reason) {
			t.Errorf("%s: message %q lacks key or reason %q", tc.key, err, tc.reason)
		}
	}
}
