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
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/storecode"
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

// A restarted demo keeps working with everything it made before: the
// simulator's corp (customers, follow relations, groups, contact and join
// ways, corp tags) is saved beside the database and read back, so the old
// codes' QR images and posters are served, their syncs succeed without an
// alert, a new scan is welcomed and tagged, a new join lands in the old
// group, and an old customer's profile is fetched again.
func TestDemoRestartKeepsItsCodesWorking(t *testing.T) {
	dir := t.TempDir()
	g, base, token, stop := startDemo(t, dir, "127.0.0.1:0")
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
	ctx := context.Background()
	idle := func(g *gateway) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
			busy, err := g.store.Unfinished(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if busy == 0 && g.demo.sim.PendingCallbacks() == 0 {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d events or jobs still unfinished", busy)
			}
		}
	}
	ctl := wecomsim.NewControl(base, nil)

	if st := call(base, "POST", "/api/v1/tags", map[string]any{"group": "来源", "names": []string{"展会"}}, nil); st != 201 {
		t.Fatalf("tag catalogue: %d", st)
	}
	var code channelcode.ChannelCode
	if st := call(base, "POST", "/api/v1/channel-codes", map[string]any{"name": "展会", "tags": []string{"展会"},
		"welcome": map[string]any{"text": "您好{name}"}, "roster": roster(member("zhangsan"), member("lisi"))}, &code); st != 201 {
		t.Fatalf("create: %d", st)
	}
	chat, err := ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "展会一群", Owner: "zhangsan"})
	if err != nil {
		t.Fatal(err)
	}
	idle(g)
	var group groupcode.GroupCode
	if st := call(base, "POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "chat_ids": []string{chat.ChatID}}, &group); st != 201 {
		t.Fatalf("group code: %d", st)
	}
	var shop storecode.RetailStore
	if st := call(base, "POST", "/api/v1/stores", map[string]any{"name": "静安店", "latitude": 31.2, "longitude": 121.4,
		"staff": roster(member("lisi"))}, &shop); st != 201 {
		t.Fatalf("store: %d", st)
	}
	var raw map[string]any
	if st := call(base, "POST", "/api/v1/store-codes", map[string]any{"name": "门店码", "store_ids": []uint64{shop.ID}}, &raw); st != 201 {
		t.Fatalf("store code: %d %v", st, raw)
	}
	storeCode := uint64(raw["id"].(float64))
	old, err := ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "老客户"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: group.ConfigID, Customer: wecomsim.Customer{Name: "韩梅梅"}}); err != nil {
		t.Fatal(err)
	}
	idle(g)
	addr := strings.TrimPrefix(base, "http://")
	stop()
	// The demo's data key is kept beside its database, readable by its owner
	// only, and the restarted demo opens what the first run sealed with it
	// (the cached access token at least: start-up checks every column).
	if fi, err := os.Stat(filepath.Join(dir, demoKeyFile)); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("demo data key file: %v %v", fi, err)
	}

	g, base, _, stop = startDemo(t, dir, addr) // same port, as a restarted demo
	defer stop()
	for _, p := range []string{
		fmt.Sprintf("/api/v1/channel-codes/%d/qr.png", code.ID), fmt.Sprintf("/api/v1/channel-codes/%d/poster.png", code.ID),
		fmt.Sprintf("/api/v1/group-codes/%d/qr.png", group.ID), fmt.Sprintf("/api/v1/group-codes/%d/poster.png", group.ID),
		fmt.Sprintf("/api/v1/store-codes/%d/qr.png?store_id=%d", storeCode, shop.ID), fmt.Sprintf("/api/v1/store-codes/%d/poster.png?store_id=%d", storeCode, shop.ID),
	} {
		if st := call(base, "GET", p, nil, nil); st != 200 {
			t.Errorf("%s after a restart: %d", p, st)
		}
	}
	if st := call(base, "PATCH", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), map[string]any{"roster": roster(member("zhangsan"))}, nil); st != 200 {
		t.Fatalf("patch after a restart: %d", st)
	}
	if st := call(base, "PATCH", fmt.Sprintf("/api/v1/group-codes/%d", group.ID), map[string]any{"name": "展会群（新）"}, nil); st != 200 {
		t.Fatalf("group code patch after a restart: %d", st)
	}
	idle(g)
	var got channelcode.ChannelCode
	call(base, "GET", fmt.Sprintf("/api/v1/channel-codes/%d", code.ID), nil, &got)
	way, err := ctl.ContactWay(ctx, code.ConfigID)
	if err != nil || got.Alert != "" || strings.Join(way.User, ",") != "zhangsan" {
		t.Fatalf("after the sync: alert %q, way %+v %v", got.Alert, way, err)
	}
	var gotGroup groupcode.GroupCode
	call(base, "GET", fmt.Sprintf("/api/v1/group-codes/%d", group.ID), nil, &gotGroup)
	if gotGroup.Alert != "" {
		t.Fatalf("group code alert after the sync: %q", gotGroup.Alert)
	}

	// A new scan is welcomed and tagged with the old corp tag.
	res, err := ctl.Scan(ctx, wecomsim.ScanRequest{ConfigID: code.ConfigID, Customer: wecomsim.Customer{Name: "王小明"}})
	if err != nil {
		t.Fatalf("scan after a restart: %v", err)
	}
	if _, err := ctl.Join(ctx, wecomsim.JoinRequest{ConfigID: group.ConfigID, Customer: wecomsim.Customer{Name: "李雷"}}); err != nil {
		t.Fatalf("join after a restart: %v", err)
	}
	// The old customer edits nothing but their remark is changed in WeCom:
	// the gateway fetches the old customer's profile again.
	remark := "老朋友"
	if err := ctl.EditContact(ctx, wecomsim.EditContactRequest{UserID: old.UserID, ExternalUserID: old.ExternalUserID, Remark: &remark}); err != nil {
		t.Fatalf("the old customer's relation after a restart: %v", err)
	}
	idle(g)
	if w, _ := ctl.Welcomes(ctx, wecomsim.WelcomeQuery{ExternalUserID: res.ExternalUserID}); len(w) != 1 || w[0].Content != "您好王小明" {
		t.Fatalf("welcomes after a restart: %+v", w)
	}
	c, err := ctl.Contact(ctx, res.ExternalUserID)
	if err != nil || len(c.FollowUser) != 1 || len(c.FollowUser[0].Tags) != 1 || c.FollowUser[0].Tags[0].TagName != "展会" {
		t.Fatalf("the new customer's tags after a restart: %+v %v", c, err)
	}
	var list struct {
		Contacts []contact.ContactView `json:"contacts"`
	}
	call(base, "GET", "/api/v1/contacts?q="+old.ExternalUserID, nil, &list)
	if len(list.Contacts) != 1 {
		t.Fatalf("the old customer: %+v", list)
	}
	var detail contact.ContactDetailView
	call(base, "GET", fmt.Sprintf("/api/v1/contacts/%d", list.Contacts[0].ID), nil, &detail)
	if len(detail.Relations) != 1 || detail.Relations[0].Relation.Remark != remark {
		t.Fatalf("the old customer's profile was not fetched again: %+v", detail.Relations)
	}
	var jobs struct {
		Jobs []map[string]any `json:"jobs"`
	}
	call(base, "GET", "/api/v1/jobs?status=failed", nil, &jobs)
	if len(jobs.Jobs) != 0 {
		t.Fatalf("failed jobs after a restart: %v", jobs.Jobs)
	}
}
