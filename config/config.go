package config

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// DefaultFile is read when no -config flag is given and it exists.
const DefaultFile = "gateway.yaml"

// Config is the whole gateway configuration.
type Config struct {
	// Listen is the address the HTTP server binds.
	Listen string `yaml:"listen"`
	// PublicURL is how WeCom and customers reach this gateway (landing pages,
	// callback URL hints). Empty means http://<listen>.
	PublicURL string `yaml:"public_url"`
	// LogLevel is debug, info, warn or error.
	LogLevel string `yaml:"log_level"`

	// DemoRequested (demo: true, GATEWAY_DEMO) runs the built-in WeCom
	// simulator as corp "demo" even though something else is configured.
	DemoRequested bool `yaml:"demo"`

	DB         DB         `yaml:"db"`
	WeCom      WeCom      `yaml:"wecom"`
	Corps      []Corp     `yaml:"corps"`
	Dispatcher Dispatcher `yaml:"dispatcher"`
	HTTP       HTTP       `yaml:"http"`
	Webhooks   Webhooks   `yaml:"webhooks"`
	Audit      Audit      `yaml:"audit"`
	Privacy    Privacy    `yaml:"privacy"`
	Security   Security   `yaml:"security"`

	// configured names what Load found set (a config file, database and
	// corp variables): with any of it and no corp, serving refuses to start
	// rather than run the demo on what may be a production database.
	configured []string
}

// DB selects and tunes the database.
type DB struct {
	// Driver is sqlite (embedded default) or mysql.
	Driver string `yaml:"driver"`
	// DSN is a file path for sqlite, a go-sql-driver DSN for mysql.
	DSN             string        `yaml:"dsn"`
	MaxOpenConns    int           `yaml:"max_open_conns"`
	ConnMaxLifetime time.Duration `yaml:"conn_max_lifetime"`
}

// WeCom holds settings common to every corp.
type WeCom struct {
	// APIBase is where the server API lives; tests and the demo point it at the simulator.
	APIBase string `yaml:"api_base"`
	// CallsPerMinute is the budget the gateway allows itself per API per corp, shared by all
	// replicas through the database (WeCom's cap is 10,000).
	CallsPerMinute int `yaml:"calls_per_minute"`
}

// Corp is one WeCom tenant served by this gateway.
type Corp struct {
	// ID is the CorpID (the callback receiveid); the callback URL is /wecom/callback/<ID>.
	ID     string `yaml:"id"`
	Name   string `yaml:"name"`
	Secret string `yaml:"secret"`
	// CallbackToken and CallbackAESKey are the app's callback Token and EncodingAESKey.
	CallbackToken  string `yaml:"callback_token"`
	CallbackAESKey string `yaml:"callback_aes_key"`
}

// Dispatcher tunes how stored events are processed.
type Dispatcher struct {
	Workers       int           `yaml:"workers"`
	BatchSize     int           `yaml:"batch_size"`
	SweepInterval time.Duration `yaml:"sweep_interval"`
	Lease         time.Duration `yaml:"lease"`
	MaxAttempts   int           `yaml:"max_attempts"`
}

// Webhooks tunes delivery to CRM endpoints.
type Webhooks struct {
	// AllowHTTP permits plain http:// endpoint URLs (a CRM on the same host, tests).
	AllowHTTP bool `yaml:"allow_http"`
	// AllowPrivateNetworks permits endpoints on loopback and private
	// addresses; off, such URLs are refused to stop SSRF. Link-local and
	// cloud metadata addresses are refused whatever it says.
	AllowPrivateNetworks bool `yaml:"allow_private_networks"`
	// AllowedHosts names internal hosts (a CRM on the LAN) whose private
	// addresses are allowed without opening every private network.
	AllowedHosts []string `yaml:"allowed_hosts"`
	// Workers is how many requests this replica has in flight.
	Workers int `yaml:"workers"`
	// Timeout bounds one request, connection to answer.
	Timeout time.Duration `yaml:"timeout"`
	// PollInterval is how often the outbox is checked for new deliveries.
	PollInterval time.Duration `yaml:"poll_interval"`
}

// Audit tunes the record of personal-data reads.
type Audit struct {
	// Retention is how long an entry is kept (pruned hourly).
	Retention time.Duration `yaml:"retention"`
}

// Security holds the keys personal data is sealed with at rest.
type Security struct {
	// DataKeys are "id:base64(32 random bytes)" entries (GATEWAY_DATA_KEY
	// or GATEWAY_DATA_KEY_FILE: one or more, separated by commas or new
	// lines). Values sealed under any of them stay readable.
	DataKeys []string `yaml:"data_keys"`
	// ActiveKey is the id new values are sealed under
	// (GATEWAY_DATA_KEY_ACTIVE); empty: the first key.
	ActiveKey string `yaml:"active_key"`
}

// DataKey is one parsed data key.
type DataKey struct {
	ID     string
	Secret []byte
}

// Keys parses the data keys, the active one first.
func (s Security) Keys() ([]DataKey, error) {
	var out []DataKey
	for i, k := range s.DataKeys {
		id, b64, ok := strings.Cut(strings.TrimSpace(k), ":")
		secret, err := base64.StdEncoding.DecodeString(b64)
		if !ok || id == "" || err != nil || len(secret) != 32 {
			return nil, &FieldError{Key: fmt.Sprintf("security.data_keys[%d]", i),
				Reason: "must be id:base64 of 32 random bytes (`gateway keys generate` makes one)"}
		}
		if id == s.ActiveKey {
			out = append([]DataKey{{ID: id, Secret: secret}}, out...)
		} else {
			out = append(out, DataKey{ID: id, Secret: secret})
		}
	}
	if s.ActiveKey != "" && (len(out) == 0 || out[0].ID != s.ActiveKey) {
		return nil, &FieldError{Key: "security.active_key", Reason: fmt.Sprintf("names no data key: %q", s.ActiveKey)}
	}
	return out, nil
}

// Privacy holds the personal-data retention settings.
type Privacy struct {
	// EraseLostAfter erases a customer whose every relation ended longer ago
	// than this (checked hourly); 0 keeps them.
	EraseLostAfter time.Duration `yaml:"erase_lost_after"`
}

// HTTP tunes the server.
type HTTP struct {
	ShutdownTimeout time.Duration `yaml:"shutdown_timeout"`
	MaxCallbackBody int64         `yaml:"max_callback_body"`
	// MaxCallbacksInFlight bounds the callbacks read and stored at once;
	// beyond it a callback is answered 503 and WeCom sends it again.
	MaxCallbacksInFlight int `yaml:"max_callbacks_in_flight"`
	// LandingPerMinute is how many landing pages (/c/, /g/, /s/) one client
	// address may open a minute, after a burst of LandingBurst; 0: no limit.
	LandingPerMinute int `yaml:"landing_per_minute"`
	LandingBurst     int `yaml:"landing_burst"`
	// TrustedProxies are the load balancers (addresses or CIDRs) whose
	// X-Forwarded-For names the client; empty: the client is the peer.
	TrustedProxies []string `yaml:"trusted_proxies"`
}

// Default returns the configuration used when nothing is set.
func Default() Config {
	return Config{
		Listen:   ":8080",
		LogLevel: "info",
		DB:       DB{Driver: "sqlite", DSN: "gateway.db", MaxOpenConns: 20, ConnMaxLifetime: 3 * time.Minute},
		WeCom:    WeCom{APIBase: "https://qyapi.weixin.qq.com", CallsPerMinute: 9000},
		Dispatcher: Dispatcher{
			Workers: 8, BatchSize: 64, SweepInterval: time.Second, Lease: 5 * time.Second, MaxAttempts: 8,
		},
		HTTP:     HTTP{ShutdownTimeout: 15 * time.Second, MaxCallbackBody: 64 << 10, MaxCallbacksInFlight: 256, LandingPerMinute: 30, LandingBurst: 20},
		Audit:    Audit{Retention: 365 * 24 * time.Hour},
		Webhooks: Webhooks{Workers: 16, Timeout: 15 * time.Second, PollInterval: time.Second},
	}
}

// Load builds the configuration from defaults, the file at path (or
// DefaultFile when path is empty and it exists) and the environment.
func Load(path string, getenv func(string) string) (Config, error) {
	cfg := Default()
	if path == "" {
		if _, err := os.Stat(DefaultFile); err == nil {
			path = DefaultFile
		}
	}
	if path != "" {
		cfg.configured = append(cfg.configured, "the config file "+path)
		b, err := os.ReadFile(path)
		if err != nil {
			return cfg, fmt.Errorf("config: read %s: %w", path, err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		dec.KnownFields(true)
		// An empty file decodes to io.EOF and leaves the defaults.
		if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
			return cfg, fmt.Errorf("config: parse %s: %w", path, err)
		}
	}
	if err := applyEnv(&cfg, getenv); err != nil {
		return cfg, err
	}
	return cfg, nil
}

func applyEnv(cfg *Config, getenv func(string) string) error {
	for _, key := range []string{"GATEWAY_DB_DRIVER", "GATEWAY_DB_DSN", "GATEWAY_CORP_SECRET", "GATEWAY_CALLBACK_TOKEN", "GATEWAY_CALLBACK_AES_KEY"} {
		for _, k := range []string{key, key + "_FILE"} {
			if getenv(k) != "" && k != "GATEWAY_DB_DRIVER_FILE" {
				cfg.configured = append(cfg.configured, k)
			}
		}
	}
	str := func(key string, dst *string) {
		if v := getenv(key); v != "" {
			*dst = v
		}
	}
	secret := func(key string, dst *string) error {
		if v := getenv(key); v != "" {
			*dst = v
			return nil
		}
		if f := getenv(key + "_FILE"); f != "" {
			b, err := os.ReadFile(f)
			if err != nil {
				return fmt.Errorf("config: %s_FILE: %w", key, err)
			}
			*dst = strings.TrimRight(string(b), "\r\n")
		}
		return nil
	}
	str("GATEWAY_LISTEN", &cfg.Listen)
	str("GATEWAY_PUBLIC_URL", &cfg.PublicURL)
	str("GATEWAY_LOG_LEVEL", &cfg.LogLevel)
	str("GATEWAY_DB_DRIVER", &cfg.DB.Driver)
	if err := secret("GATEWAY_DB_DSN", &cfg.DB.DSN); err != nil {
		return err
	}
	str("GATEWAY_WECOM_API_BASE", &cfg.WeCom.APIBase)
	var keys string
	if err := secret("GATEWAY_DATA_KEY", &keys); err != nil {
		return err
	}
	if keys != "" {
		cfg.Security.DataKeys = strings.FieldsFunc(keys, func(r rune) bool { return r == ',' || r == '\n' || r == '\r' })
	}
	str("GATEWAY_DATA_KEY_ACTIVE", &cfg.Security.ActiveKey)
	if v := getenv("GATEWAY_AUDIT_RETENTION"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("config: GATEWAY_AUDIT_RETENTION: %q is not a duration such as 8760h", v)
		}
		cfg.Audit.Retention = d
	}
	if v := getenv("GATEWAY_ERASE_LOST_AFTER"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			return fmt.Errorf("config: GATEWAY_ERASE_LOST_AFTER: %q is not a duration such as 2160h", v)
		}
		cfg.Privacy.EraseLostAfter = d
	}
	if v := getenv("GATEWAY_TRUSTED_PROXIES"); v != "" {
		cfg.HTTP.TrustedProxies = strings.Split(v, ",")
	}
	if v := getenv("GATEWAY_WECOM_CALLS_PER_MINUTE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("config: GATEWAY_WECOM_CALLS_PER_MINUTE: %q is not a number", v)
		}
		cfg.WeCom.CallsPerMinute = n
	}

	if v := getenv("GATEWAY_WEBHOOKS_ALLOWED_HOSTS"); v != "" {
		cfg.Webhooks.AllowedHosts = nil
		for _, h := range strings.Split(v, ",") {
			if h = strings.TrimSpace(h); h != "" {
				cfg.Webhooks.AllowedHosts = append(cfg.Webhooks.AllowedHosts, h)
			}
		}
	}

	for _, b := range []struct {
		key string
		dst *bool
	}{
		{"GATEWAY_DEMO", &cfg.DemoRequested},
		{"GATEWAY_WEBHOOKS_ALLOW_HTTP", &cfg.Webhooks.AllowHTTP},
		{"GATEWAY_WEBHOOKS_ALLOW_PRIVATE_NETWORKS", &cfg.Webhooks.AllowPrivateNetworks},
	} {
		if v := getenv(b.key); v != "" {
			on, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not true or false", b.key, v)
			}
			*b.dst = on
		}
	}

	id := getenv("GATEWAY_CORP_ID")
	if id == "" {
		return nil
	}
	// The single-corp variables describe the corp with that id: they override
	// its entry in the file or add one.
	idx := -1
	for i := range cfg.Corps {
		if cfg.Corps[i].ID == id {
			idx = i
		}
	}
	if idx < 0 {
		cfg.Corps = append(cfg.Corps, Corp{ID: id})
		idx = len(cfg.Corps) - 1
	}
	c := &cfg.Corps[idx]
	for _, s := range []struct {
		key string
		dst *string
	}{
		{"GATEWAY_CORP_SECRET", &c.Secret},
		{"GATEWAY_CALLBACK_TOKEN", &c.CallbackToken},
		{"GATEWAY_CALLBACK_AES_KEY", &c.CallbackAESKey},
	} {
		if err := secret(s.key, s.dst); err != nil {
			return err
		}
	}
	return nil
}

// FieldError names the configuration key at fault and why.
type FieldError struct {
	Key    string
	Reason string
}

func (e *FieldError) Error() string { return "config: " + e.Key + ": " + e.Reason }

// Validate checks the configuration and returns every problem found.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, &FieldError{Key: key, Reason: fmt.Sprintf(format, args...)})
	}
	if c.Listen == "" {
		bad("listen", "must not be empty")
	}
	if c.PublicURL != "" {
		if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			bad("public_url", "must be an absolute http(s) URL, got %q", c.PublicURL)
		}
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("log_level", "must be debug, info, warn or error, got %q", c.LogLevel)
	}
	switch c.DB.Driver {
	case "sqlite", "mysql":
	default:
		bad("db.driver", "must be sqlite or mysql, got %q", c.DB.Driver)
	}
	if c.DB.DSN == "" {
		bad("db.dsn", "must not be empty")
	}
	if c.DB.MaxOpenConns < 1 {
		bad("db.max_open_conns", "must be at least 1")
	}
	if u, err := url.Parse(c.WeCom.APIBase); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("wecom.api_base", "must be an absolute http(s) URL, got %q", c.WeCom.APIBase)
	}
	if c.WeCom.CallsPerMinute < 1 || c.WeCom.CallsPerMinute > 10000 {
		bad("wecom.calls_per_minute", "must be between 1 and 10000 (WeCom's own limit), got %d", c.WeCom.CallsPerMinute)
	}
	seen := map[string]bool{}
	for i, corp := range c.Corps {
		key := func(f string) string { return fmt.Sprintf("corps[%d].%s", i, f) }
		switch {
		case corp.ID == "":
			bad(key("id"), "must not be empty")
		case !validCorpID(corp.ID):
			bad(key("id"), "may hold only letters, digits, '-' and '_' (it is a URL path segment), got %q", corp.ID)
		case seen[corp.ID]:
			bad(key("id"), "duplicate corp id %q", corp.ID)
		}
		seen[corp.ID] = true
		if corp.Secret == "" {
			bad(key("secret"), "must not be empty (GATEWAY_CORP_SECRET or GATEWAY_CORP_SECRET_FILE for a single corp)")
		}
		if corp.CallbackToken == "" {
			bad(key("callback_token"), "must not be empty")
		} else if len(corp.CallbackToken) > 32 {
			bad(key("callback_token"), "must be at most 32 characters, got %d", len(corp.CallbackToken))
		}
		if n := len(corp.CallbackAESKey); n != 43 {
			bad(key("callback_aes_key"), "EncodingAESKey must be 43 characters, got %d", n)
		} else if !validAESKey(corp.CallbackAESKey) {
			bad(key("callback_aes_key"), "EncodingAESKey may hold only letters and digits")
		}
	}
	d := c.Dispatcher
	if d.Workers < 1 {
		bad("dispatcher.workers", "must be at least 1")
	}
	if d.BatchSize < 1 {
		bad("dispatcher.batch_size", "must be at least 1")
	}
	if d.SweepInterval <= 0 {
		bad("dispatcher.sweep_interval", "must be positive")
	}
	if d.Lease < time.Second {
		bad("dispatcher.lease", "must be at least 1s")
	}
	if d.MaxAttempts < 1 {
		bad("dispatcher.max_attempts", "must be at least 1")
	}
	if c.HTTP.LandingPerMinute < 0 || c.HTTP.LandingBurst < 0 {
		bad("http.landing_per_minute", "must not be negative (0 turns the landing-page limit off)")
	}
	if b := c.HTTP.MaxCallbackBody; b < 1024 || b > 1<<20 {
		bad("http.max_callback_body", "must be between 1024 and 1048576 bytes (WeCom's callbacks are a few KiB), got %d", b)
	}
	if d := c.Privacy.EraseLostAfter; d != 0 && d < 24*time.Hour {
		bad("privacy.erase_lost_after", "must be 0 (keep lost customers) or at least 24h, got %s", d)
	}
	if c.Audit.Retention < 24*time.Hour {
		bad("audit.retention", "must be at least 24h, got %s", c.Audit.Retention)
	}
	for i, p := range c.HTTP.TrustedProxies {
		if _, err := netip.ParsePrefix(p); err != nil {
			if _, err := netip.ParseAddr(p); err == nil {
				continue
			}
			bad(fmt.Sprintf("http.trusted_proxies[%d]", i), "must be an IP address or a CIDR, got %q", p)
		}
	}
	if n := c.HTTP.MaxCallbacksInFlight; n < 1 || n > 10000 {
		bad("http.max_callbacks_in_flight", "must be between 1 and 10000, got %d", n)
	}
	if w := c.Webhooks; w.Workers < 1 || w.Workers > 256 {
		bad("webhooks.workers", "must be between 1 and 256, got %d", w.Workers)
	}
	if t := c.Webhooks.Timeout; t < time.Second || t > time.Minute {
		bad("webhooks.timeout", "must be between 1s and 1m (receivers are told to answer within 15s), got %s", t)
	}
	for i, h := range c.Webhooks.AllowedHosts {
		if _, err := netip.ParseAddr(strings.Trim(h, "[]")); err != nil && (h == "" || strings.ContainsAny(h, "/:@ []")) {
			bad(fmt.Sprintf("webhooks.allowed_hosts[%d]", i), "must be a host name or address, without scheme, port or path, got %q", h)
		}
	}
	if c.Webhooks.PollInterval < 10*time.Millisecond {
		bad("webhooks.poll_interval", "must be at least 10ms")
	}
	if _, err := c.Security.Keys(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Demo reports whether serving runs the built-in simulator as corp "demo":
// when asked, or when nothing at all is configured.
func (c *Config) Demo() bool {
	return c.DemoRequested || len(c.Corps) == 0 && len(c.configured) == 0
}

// CheckServe says why the gateway may not serve this configuration: no corp
// while a config file, a database or corp variables are set (the demo would
// otherwise create an admin token in that database and serve simulator
// credentials), or the demo asked for alongside real corps.
func (c *Config) CheckServe() error {
	if c.DemoRequested && len(c.Corps) > 0 {
		return &FieldError{Key: "demo", Reason: "demo mode plays corp \"demo\" against the built-in simulator and cannot serve configured corps: remove demo: true (GATEWAY_DEMO) or the corps"}
	}
	if len(c.Corps) == 0 && !c.Demo() {
		return &FieldError{Key: "corps", Reason: "no corp is configured but " + strings.Join(c.configured, ", ") +
			" is set: set GATEWAY_CORP_ID with GATEWAY_CORP_SECRET, GATEWAY_CALLBACK_TOKEN and GATEWAY_CALLBACK_AES_KEY " +
			"(or corps: in the config file); the demo runs only with nothing configured, or when asked (demo: true, GATEWAY_DEMO=1)"}
	}
	if len(c.Security.DataKeys) == 0 && !c.Demo() {
		return ErrNoDataKey
	}
	return nil
}

// ErrNoDataKey refuses to serve production data without a key to seal it.
var ErrNoDataKey = &FieldError{Key: "security.data_keys", Reason: "no data key is configured: customers' personal data, " +
	"WeCom tokens and webhook secrets are sealed at rest under it; set GATEWAY_DATA_KEY or GATEWAY_DATA_KEY_FILE " +
	"(id:base64 of 32 random bytes; `gateway keys generate` makes one)"}

func validCorpID(s string) bool {
	if len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}

func validAESKey(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}
