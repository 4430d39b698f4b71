package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/wecom"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

func envMap(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func runCmd(t *testing.T, env map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb, envMap(env))
	return code, out.String(), errb.String()
}

func TestMigrateAndTokenCommands(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"GATEWAY_DB_DSN": filepath.Join(dir, "g.db")}
	if code, _, errs := runCmd(t, env, "migrate"); code != 1 || !strings.Contains(errs, "security.data_keys") || !strings.Contains(errs, "GATEWAY_DATA_KEY") {
		t.Fatalf("migrate without a data key = %d %q", code, errs)
	}
	env["GATEWAY_DATA_KEY"] = modeltest.KeySpec
	code, out, errs := runCmd(t, env, "migrate")
	if code != 0 || !strings.Contains(out, fmt.Sprintf("schema at version %d", model.SchemaVersion())) {
		t.Fatalf("migrate = %d %q %q", code, out, errs)
	}
	code, out, errs = runCmd(t, env, "token", "create", "--role", "admin", "--name", "ops")
	if code != 0 || !strings.HasPrefix(out, "gw_") || !strings.Contains(errs, "shown once") {
		t.Fatalf("token create = %d %q %q", code, out, errs)
	}
	if code, _, errs = runCmd(t, env, "token", "create", "--role", "root", "--name", "x"); code != 1 || !strings.Contains(errs, "role") {
		t.Fatalf("bad role = %d %q", code, errs)
	}
	if code, _, _ = runCmd(t, env, "frobnicate"); code != 2 {
		t.Fatalf("unknown command = %d", code)
	}
}

func TestInvalidConfigNamesTheKey(t *testing.T) {
	code, _, errs := runCmd(t, map[string]string{
		"GATEWAY_CORP_ID": "ww1", "GATEWAY_CORP_SECRET": "s", "GATEWAY_CALLBACK_TOKEN": "t", "GATEWAY_CALLBACK_AES_KEY": "tooshort",
	}, "migrate")
	if code != 1 || !strings.Contains(errs, "corps[0].callback_aes_key") || !strings.Contains(errs, "43") {
		t.Fatalf("= %d %q", code, errs)
	}
}

// serveAndStop runs `gateway` (serve) on a fresh SQLite file, stops it
// after the given time, and fails unless it exits 0 with its stop logged.
func serveAndStop(t *testing.T, after time.Duration) {
	t.Helper()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	var out, errb bytes.Buffer
	go func() {
		done <- run(ctx, nil, &out, &errb, envMap(map[string]string{
			"GATEWAY_LISTEN": "127.0.0.1:0", "GATEWAY_DB_DSN": filepath.Join(dir, "g.db"), "GATEWAY_DEMO": "1",
		}))
	}()
	time.Sleep(after)
	cancel()
	select {
	case code := <-done:
		if code != 0 || !strings.Contains(errb.String(), `"msg":"stopped"`) {
			t.Fatalf("stop after %v: exit %d: %s", after, code, errb.String())
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("stop after %v: serve did not stop", after)
	}
}

// A stop that arrives while the gateway is still starting (opening and
// migrating a fresh database) is a clean stop too.
func TestServeStoppedDuringStartUpExitsCleanly(t *testing.T) {
	for _, after := range []time.Duration{0, time.Millisecond, 20 * time.Millisecond} {
		serveAndStop(t, after)
	}
}

func TestServeStopsGracefullyOnSignal(t *testing.T) {
	serveAndStop(t, 500*time.Millisecond)
}

// TestDemoScanReachesEventsAPI is the newcomer's first run: no corp
// configured, the built-in simulator as corp "demo"; a simulated scan arrives
// as an encrypted callback and shows in the events API.
func TestDemoScanReachesEventsAPI(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load("", envMap(map[string]string{"GATEWAY_DB_DSN": filepath.Join(dir, "g.db"), "GATEWAY_DEMO": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var stdout, logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	g, err := newGateway(context.Background(), cfg, log, ln.Addr().String(), &stdout)
	if err != nil {
		t.Fatal(err)
	}
	// Read before serving starts: the logger writes on from other goroutines.
	if !strings.Contains(logs.String(), "DEMO MODE") {
		t.Fatalf("the log does not say demo: %s", logs.String())
	}
	serveInTest(t, g, ln)
	ctx := context.Background()
	base := "http://" + ln.Addr().String()

	tokBytes, err := os.ReadFile(filepath.Join(dir, demoTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	adminToken := strings.TrimSpace(string(tokBytes))
	if !strings.Contains(stdout.String(), adminToken) {
		t.Fatal("admin token not printed")
	}
	var ready map[string]any
	getJSON(t, base+"/readyz", "", &ready)
	if ready["mode"] != "demo" {
		t.Fatalf("readyz = %v", ready)
	}

	// Create a contact way through WeCom's API, as an admin would.
	sc := g.demo.sim.Config()
	client, err := wecom.NewClient(wecom.ClientConfig{CorpID: demoCorp, Secret: sc.Secret, Now: time.Now})
	if err != nil {
		t.Fatal(err)
	}
	way, err := client.AddContactWay(ctx, wecom.NewContactWay{Type: wecom.ContactWayMulti, Scene: wecom.SceneQRCode,
		SkipVerify: true, State: "c:demo1", User: []string{"zhangsan", "lisi"}})
	if err != nil {
		t.Fatal(err)
	}
	res, err := wecomsim.NewControl(base, nil).Scan(ctx, wecomsim.ScanRequest{ConfigID: way.ConfigID, Customer: wecomsim.Customer{Name: "王小明"}})
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var list struct {
			Events []struct {
				Type           string `json:"type"`
				ExternalUserID string `json:"external_user_id"`
				State          string `json:"state"`
			} `json:"events"`
		}
		getJSON(t, base+"/api/v1/events?type=change_external_contact/add_external_contact", adminToken, &list)
		if len(list.Events) == 1 {
			if list.Events[0].ExternalUserID != res.ExternalUserID || list.Events[0].State != "c:demo1" {
				t.Fatalf("event = %+v, scan = %+v", list.Events[0], res)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("scan never reached the events API")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func getJSON(t *testing.T, url, token string, v any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// A database set and no corp is not the demo: serve refuses before touching
// the database, names the missing key, and prints no token.
func TestServeWithADatabaseAndNoCorpRefusesToStart(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			dsn := modeltest.DSN(t, d)
			code, out, errs := runCmd(t, map[string]string{"GATEWAY_LISTEN": "127.0.0.1:0", "GATEWAY_DB_DRIVER": d, "GATEWAY_DB_DSN": dsn}, "serve")
			if code != 1 || !strings.Contains(errs, "GATEWAY_CORP_ID") || !strings.Contains(errs, "GATEWAY_DB_DSN") || out != "" {
				t.Fatalf("serve = %d, stdout %q, stderr %q", code, out, errs)
			}
			st, err := model.Open(d, dsn, model.Options{Keys: modeltest.Keys, Clock: clock.Real{}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if v, err := st.CurrentVersion(context.Background()); err != nil || v != 0 {
				t.Fatalf("the database was touched: version %d, %v", v, err)
			}
		})
	}
}

// -h, --help and help list every command (a newcomer's first try), not
// only serve's flags; a command's -h ends with that list too.
func TestHelpListsTheCommands(t *testing.T) {
	for _, args := range [][]string{{"-h"}, {"--help"}, {"help"}, {"token", "create", "-h"}} {
		var out, errw bytes.Buffer
		if code := run(context.Background(), args, &out, &errw, func(string) string { return "" }); code != 0 {
			t.Fatalf("%v: exit %d (%s)", args, code, errw.String())
		}
		for _, cmd := range []string{"gateway migrate", "gateway token create", "gateway webhook-test"} {
			if !strings.Contains(out.String(), cmd) {
				t.Fatalf("%v: the help lacks %q:\n%s", args, cmd, out.String())
			}
		}
	}
}

// The README's first command, `go run ./cmd/gateway` with nothing
// configured at all (no variable, no file, the default SQLite file in the
// working directory): the demo starts, with its own data key, says so on
// /readyz and sets no landing limit for loadgen.
func TestDemoStartsWithNothingConfigured(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	cfg, err := config.Load("", envMap(map[string]string{}))
	if err != nil {
		t.Fatal(err)
	}
	if !cfg.Demo() {
		t.Fatal("nothing configured is not the demo")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g, err := newGateway(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ln.Addr().String(), io.Discard)
	if err != nil {
		t.Fatalf("the demo did not start with nothing configured: %v", err)
	}
	if !g.cfg.Demo() || landingLimit(g.cfg) != 0 {
		t.Fatalf("the rewritten config is not the demo: demo %v, landing limit %d", g.cfg.Demo(), landingLimit(g.cfg))
	}
	serveInTest(t, g, ln)
	for _, f := range []string{"gateway.db", demoKeyFile, demoTokenFile} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Errorf("the demo's %s: %v", f, err)
		}
	}
	resp, err := http.Get("http://" + ln.Addr().String() + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "demo") {
		t.Fatalf("/readyz: %d %s", resp.StatusCode, body)
	}
}

// serveInTest serves g on ln until the test ends, then stops it and checks
// it stopped cleanly.
func serveInTest(t *testing.T, g *gateway, ln net.Listener) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
}
