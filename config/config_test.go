package config

import (
	"bytes"
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
	if !cfg.Demo() || cfg.DB.Driver != "sqlite" || cfg.DB.DSN != "gateway.db" || cfg.Dispatcher.Lease != 5*time.Second {
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
	ex = key.ReplaceAll(ex, []byte("$1$2"))
	os.WriteFile(prod, bytes.Replace(ex, []byte("\ndemo: true\n"), []byte("\ndemo: false\n"), 1), 0o600)
	cfg, err = Load(prod, env(map[string]string{"GATEWAY_DATA_KEY": testDataKey}))
	if err != nil {
		t.Fatal(err)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("production example invalid: %v", err)
	}
	if err := cfg.CheckServe(); err != nil {
		t.Fatalf("production example does not serve: %v", err)
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

// The demo runs only when asked or when nothing at all is configured: a
// config file, a database or corp variables without a corp refuse to serve
// and name the missing key.
func TestDemoOnlyWhenAskedOrNothingConfigured(t *testing.T) {
	file := filepath.Join(t.TempDir(), "g.yaml")
	os.WriteFile(file, []byte("log_level: info\n"), 0o600)
	dsnFile := filepath.Join(t.TempDir(), "dsn")
	os.WriteFile(dsnFile, []byte("u@tcp(h:3306)/d\n"), 0o600)
	corp := map[string]string{"GATEWAY_CORP_ID": "ww1", "GATEWAY_CORP_SECRET": "s", "GATEWAY_CALLBACK_TOKEN": "t", "GATEWAY_CALLBACK_AES_KEY": goodKey,
		"GATEWAY_DATA_KEY": testDataKey}
	for _, tc := range []struct {
		name  string
		path  string
		env   map[string]string
		demo  bool
		names string // in the error; empty: serves
	}{
		{"nothing", "", nil, true, ""},
		{"listen only", "", map[string]string{"GATEWAY_LISTEN": ":9000"}, true, ""},
		{"mysql dsn", "", map[string]string{"GATEWAY_DB_DRIVER": "mysql", "GATEWAY_DB_DSN": "u@tcp(h:3306)/d"}, false, "GATEWAY_DB_DSN"},
		{"dsn file", "", map[string]string{"GATEWAY_DB_DRIVER": "mysql", "GATEWAY_DB_DSN_FILE": dsnFile}, false, "GATEWAY_DB_DSN_FILE"},
		{"sqlite path", "", map[string]string{"GATEWAY_DB_DSN": "/var/lib/g.db"}, false, "GATEWAY_DB_DSN"},
		{"corp secret without id", "", map[string]string{"GATEWAY_CORP_SECRET": "s"}, false, "GATEWAY_CORP_SECRET"},
		{"config file", file, nil, false, "the config file " + file},
		{"asked, with a database", "", map[string]string{"GATEWAY_DEMO": "1", "GATEWAY_DB_DSN": "/tmp/g.db"}, true, ""},
		{"a corp", "", corp, false, ""},
		{"a corp and the demo", "", merge(corp, map[string]string{"GATEWAY_DEMO": "true"}), true, "demo"},
	} {
		cfg, err := Load(tc.path, env(tc.env))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		err = cfg.CheckServe()
		if cfg.Demo() != tc.demo || (err == nil) != (tc.names == "") {
			t.Errorf("%s: demo %v, err %v", tc.name, cfg.Demo(), err)
			continue
		}
		if err == nil {
			continue
		}
		var fe *FieldError
		if !errors.As(err, &fe) || !strings.Contains(err.Error(), tc.names) {
			t.Errorf("%s: %v does not name %s", tc.name, err, tc.names)
		}
		if tc.names != "demo" && (fe.Key != "corps" || !strings.Contains(err.Error(), "GATEWAY_CORP_ID")) {
			t.Errorf("%s: %v does not name the missing GATEWAY_CORP_ID", tc.name, err)
		}
	}
}

const testDataKey = "k1:MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

// Production refuses to start without a data key and names it; keys come
// from the file, GATEWAY_DATA_KEY or GATEWAY_DATA_KEY_FILE, several at once,
// the active one first; a malformed key or an unknown active id is refused.
func TestDataKeys(t *testing.T) {
	corp := map[string]string{"GATEWAY_CORP_ID": "ww1", "GATEWAY_CORP_SECRET": "s", "GATEWAY_CALLBACK_TOKEN": "t", "GATEWAY_CALLBACK_AES_KEY": goodKey}
	cfg, err := Load("", env(corp))
	if err != nil || cfg.Validate() != nil {
		t.Fatal(err, cfg.Validate())
	}
	err = cfg.CheckServe()
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Key != "security.data_keys" || !strings.Contains(err.Error(), "GATEWAY_DATA_KEY") {
		t.Fatalf("no key: %v", err)
	}

	const k2 = "k2:YWJjZGVmZ2hpamtsbW5vcHFyc3R1dnd4eXoxMjM0NTY="
	file := filepath.Join(t.TempDir(), "keys")
	os.WriteFile(file, []byte(testDataKey+"\n"+k2+"\n"), 0o600)
	for name, e := range map[string]map[string]string{
		"env":  {"GATEWAY_DATA_KEY": testDataKey + "," + k2, "GATEWAY_DATA_KEY_ACTIVE": "k2"},
		"file": {"GATEWAY_DATA_KEY_FILE": file, "GATEWAY_DATA_KEY_ACTIVE": "k2"},
	} {
		cfg, err := Load("", env(merge(corp, e)))
		if err != nil || cfg.Validate() != nil || cfg.CheckServe() != nil {
			t.Fatalf("%s: %v %v %v", name, err, cfg.Validate(), cfg.CheckServe())
		}
		keys, err := cfg.Security.Keys()
		if err != nil || len(keys) != 2 || keys[0].ID != "k2" || keys[1].ID != "k1" || string(keys[1].Secret) != "0123456789abcdef0123456789abcdef" {
			t.Fatalf("%s: keys %+v %v", name, keys, err)
		}
	}
	for name, e := range map[string]map[string]string{
		"security.data_keys[0]": {"GATEWAY_DATA_KEY": "k1:c2hvcnQ="},
		"security.data_keys[1]": {"GATEWAY_DATA_KEY": testDataKey + ",nocolon"},
		"security.active_key":   {"GATEWAY_DATA_KEY": testDataKey, "GATEWAY_DATA_KEY_ACTIVE": "k9"},
	} {
		cfg, err := Load("", env(merge(corp, e)))
		if err != nil {
			t.Fatal(err)
		}
		if err := cfg.Validate(); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func merge(a, b map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

// The audit's retention and the erasure of lost customers come from the file
// or GATEWAY_AUDIT_RETENTION / GATEWAY_ERASE_LOST_AFTER (env over file): a
// year and off by default; below a day is refused naming the key, and a
// value that is not a duration names the variable.
func TestRetentionSettings(t *testing.T) {
	corp := map[string]string{"GATEWAY_CORP_ID": "ww1", "GATEWAY_CORP_SECRET": "s", "GATEWAY_CALLBACK_TOKEN": "t", "GATEWAY_CALLBACK_AES_KEY": goodKey}
	cfg, err := Load("", env(corp))
	if err != nil || cfg.Audit.Retention != 365*24*time.Hour || cfg.Privacy.EraseLostAfter != 0 {
		t.Fatalf("defaults: %v, %v, %v", cfg.Audit.Retention, cfg.Privacy.EraseLostAfter, err)
	}
	path := filepath.Join(t.TempDir(), "gateway.yaml")
	os.WriteFile(path, []byte("audit:\n  retention: 720h\nprivacy:\n  erase_lost_after: 2160h\n"), 0o600)
	cfg, err = Load(path, env(corp))
	if err != nil || cfg.Validate() != nil || cfg.Audit.Retention != 720*time.Hour || cfg.Privacy.EraseLostAfter != 2160*time.Hour {
		t.Fatalf("file: %v, %v, %v", cfg.Audit.Retention, cfg.Privacy.EraseLostAfter, err)
	}
	cfg, err = Load(path, env(merge(corp, map[string]string{"GATEWAY_AUDIT_RETENTION": "48h", "GATEWAY_ERASE_LOST_AFTER": "72h"})))
	if err != nil || cfg.Validate() != nil || cfg.Audit.Retention != 48*time.Hour || cfg.Privacy.EraseLostAfter != 72*time.Hour {
		t.Fatalf("env: %v, %v, %v", cfg.Audit.Retention, cfg.Privacy.EraseLostAfter, err)
	}
	for key, e := range map[string]map[string]string{
		"audit.retention":          {"GATEWAY_AUDIT_RETENTION": "12h"},
		"privacy.erase_lost_after": {"GATEWAY_ERASE_LOST_AFTER": "1h"},
	} {
		cfg, err := Load("", env(merge(corp, e)))
		if err != nil {
			t.Fatal(err)
		}
		var fe *FieldError
		if err := cfg.Validate(); !errors.As(err, &fe) || fe.Key != key {
			t.Errorf("%v: %v", e, err)
		}
	}
	for _, name := range []string{"GATEWAY_AUDIT_RETENTION", "GATEWAY_ERASE_LOST_AFTER"} {
		if _, err := Load("", env(merge(corp, map[string]string{name: "90 days"}))); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=90 days: %v", name, err)
		}
	}
}
