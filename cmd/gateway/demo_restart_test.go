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

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// startDemo runs the demo gateway on addr over the SQLite file in dir until
// the returned stop is called.
func startDemo(t *testing.T, dir, addr string) (g *gateway, base, token string, stop func()) {
	t.Helper()
	cfg, err := config.Load("", envMap(map[string]string{"GATEWAY_DB_DSN": filepath.Join(dir, "g.db"), "GATEWAY_DEMO": "1"}))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	g, err = newGateway(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)), ln.Addr().String(), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- g.serve(ctx, ln) }()
	tok, err := os.ReadFile(filepath.Join(dir, demoTokenFile))
	if err != nil {
		t.Fatal(err)
	}
	return g, "http://" + ln.Addr().String(), strings.TrimSpace(string(tok)), func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("serve: %v", err)
		}
	}
}

// A restarted demo keeps working with what it made before: the new
// simulator gets the database's contact ways back, so an old code's QR
// image is served, its roster syncs without an alert, and a customer can
// still scan it.
func TestDemoRestartKeepsItsCodesWorking(t *testing.T) {
	dir := t.TempDir()
	_, base, token, stop := startDemo(t, dir, "127.0.0.1:0")
	call := func(base, method, path string, body any, out any) int {
		t.Helper()
		var rd io.Reader
		if body != nil {
			b, _ := json.Marshal(body)
			rd = bytes.NewReader(b)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode
	}
	var code service.ChannelCode
	if st := call(base, "POST", "/api/v1/channel-codes", map[string]any{"name": "展会", "roster": roster(member("zhangsan"), member("lisi"))}, &code); st != 201 {
		t.Fatalf("create: %d", st)
	}
	addr := strings.TrimPrefix(base, "http://")
	stop()

	g, base, _, stop := startDemo(t, dir, addr) // same port, as a restarted demo
	defer stop()
	if st := call(base, "GET", fmt.Sprintf("/api/v1/channel-codes/%d/qr.png", code.ID), nil, nil); st != 200 {
		t.Fatalf("the old code's QR after a restart: %d", st)
	}
	if st := call(base, "PATCH", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), map[string]any{"roster": roster(member("zhangsan"))}, nil); st != 200 {
		t.Fatalf("patch after a restart: %d", st)
	}
	ctx := context.Background()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		busy, err := g.store.Unfinished(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if busy == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events or jobs still unfinished", busy)
		}
	}
	var got service.ChannelCode
	call(base, "GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &got)
	way, err := wecomsim.NewControl(base, nil).ContactWay(ctx, code.ConfigID)
	if err != nil || got.Alert != "" || strings.Join(way.User, ",") != "zhangsan" {
		t.Fatalf("after the sync: alert %q, way %+v %v", got.Alert, way, err)
	}
	if _, err := wecomsim.NewControl(base, nil).Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "王小明"}}); err != nil {
		t.Fatalf("scan after a restart: %v", err)
	}
}
