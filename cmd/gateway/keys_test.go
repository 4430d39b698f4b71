package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// keys generate makes a key; keys status counts values per key; keys rotate
// re-seals under the active key and reports its progress; a second run has
// nothing to do; the gateway refuses to serve with a keyring that lacks a
// key in use, naming the column and the key.
func TestKeysCommands(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			code, out, errs := runCmd(t, nil, "keys", "generate", "--id", "k2")
			if code != 0 || !regexp.MustCompile(`^k2:[A-Za-z0-9+/]{43}=\n$`).MatchString(out) {
				t.Fatalf("generate = %d %q %q", code, out, errs)
			}
			k2 := strings.TrimSpace(out)
			dsn := modeltest.DSN(t, d)
			env := map[string]string{"GATEWAY_DB_DRIVER": d, "GATEWAY_DB_DSN": dsn, "GATEWAY_DATA_KEY": modeltest.KeySpec}

			st, err := model.Open(d, dsn, model.Options{Keys: modeltest.Keys, Clock: clock.Real{}})
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			if _, err := st.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for _, ext := range []string{"wmA", "wmB", "wmC"} {
				if _, _, _, err := st.RecordAdd(ctx, model.AddRecord{CorpID: "c1", UserID: "u1", ExternalUserID: ext, At: time.Now().UTC()}); err != nil {
					t.Fatal(err)
				}
				if err := st.UpdateContactProfile(ctx, "c1", ext, model.ContactProfile{Name: "N " + ext, CorpName: "C"}, "u1", "r", "[]"); err != nil {
					t.Fatal(err)
				}
			}
			code, out, errs = runCmd(t, env, "keys", "status")
			if code != 0 || !strings.Contains(out, "contacts.name: 3 values (test=3), 0 to re-seal") || !strings.Contains(out, "remaining under other keys or plain: 0") {
				t.Fatalf("status = %d %q %q", code, out, errs)
			}

			env["GATEWAY_DATA_KEY"] = modeltest.KeySpec + "," + k2
			env["GATEWAY_DATA_KEY_ACTIVE"] = "k2"
			code, out, errs = runCmd(t, env, "keys", "status")
			if code != 0 || !strings.Contains(out, "active key: k2") || !strings.Contains(out, "contacts.name: 3 values (k2=0 test=3), 3 to re-seal") ||
				!strings.Contains(out, "remaining under other keys or plain: 9") {
				t.Fatalf("status before rotate = %d %q %q", code, out, errs)
			}
			code, out, errs = runCmd(t, env, "keys", "rotate", "--batch", "2")
			if code != 0 || !strings.Contains(out, `re-sealed 6 rows under key "k2"`) || !strings.Contains(out, "remaining under other keys or plain: 0") ||
				!strings.Contains(errs, `keys rotate: contacts: 2 rows read, 2 re-sealed under "k2"`) || !strings.Contains(errs, "contacts: 3 rows read, 3 re-sealed") {
				t.Fatalf("rotate = %d %q %q", code, out, errs)
			}
			if code, out, _ = runCmd(t, env, "keys", "rotate"); code != 0 || !strings.Contains(out, `re-sealed 0 rows`) {
				t.Fatalf("second rotate = %d %q", code, out)
			}

			// Only the old key: the gateway will not serve rows it cannot read.
			cfg := config.Default()
			cfg.Listen = "127.0.0.1:0"
			cfg.DB.Driver, cfg.DB.DSN = d, dsn
			cfg.Security.DataKeys = []string{modeltest.KeySpec}
			cfg.Corps = []config.Corp{{ID: "c1", Secret: "s", CallbackToken: "t", CallbackAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}
			_, err = newGateway(ctx, cfg, slog.New(slog.DiscardHandler), "127.0.0.1:1", io.Discard)
			if err == nil || !strings.Contains(err.Error(), `data keys: model: contacts.name: value sealed under data key "k2" cannot be read`) {
				t.Fatalf("serve with a missing key: %v", err)
			}
		})
	}
}

// A serving gateway with a second key configured re-seals, in the
// background, what is under the other key; the rows stay readable.
func TestServingReSealsUnderTheActiveKeyInTheBackground(t *testing.T) {
	for _, d := range modeltest.Drivers {
		t.Run(d, func(t *testing.T) {
			ctx := context.Background()
			dsn := modeltest.DSN(t, d)
			old, err := model.Open(d, dsn, model.Options{Keys: modeltest.Keys, Clock: clock.Real{}})
			if err != nil {
				t.Fatal(err)
			}
			defer old.Close()
			if _, err := old.Migrate(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range 30 {
				ext := fmt.Sprintf("wmBg%d", i)
				if _, _, _, err := old.RecordAdd(ctx, model.AddRecord{CorpID: "c1", UserID: "u1", ExternalUserID: ext, At: time.Now().UTC()}); err != nil {
					t.Fatal(err)
				}
				if err := old.UpdateContactProfile(ctx, "c1", ext, model.ContactProfile{Name: "N" + ext}, "u1", "r", "[]"); err != nil {
					t.Fatal(err)
				}
			}
			k2, _ := model.GenerateDataKey("k2")
			cfg := config.Default()
			cfg.DB.Driver, cfg.DB.DSN = d, dsn
			cfg.Security.DataKeys = []string{k2, modeltest.KeySpec}
			cfg.Corps = []config.Corp{{ID: "c1", Secret: "s", CallbackToken: "t", CallbackAESKey: "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}}
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			g, err := newGateway(ctx, cfg, slog.New(slog.DiscardHandler), ln.Addr().String(), io.Discard)
			if err != nil {
				t.Fatal(err)
			}
			sctx, stop := context.WithCancel(ctx)
			served := make(chan error, 1)
			go func() { served <- g.serve(sctx, ln) }()
			defer func() {
				stop()
				if err := <-served; err != nil {
					t.Error(err)
				}
			}()
			for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				counts, err := g.store.KeyStatus(ctx)
				if err != nil {
					t.Fatal(err)
				}
				var left, underK2 int64
				for _, c := range counts {
					left += c.Remaining("k2")
					underK2 += c.ByKey["k2"]
				}
				if left == 0 && underK2 == 60 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("still %d values to re-seal, %d under k2", left, underK2)
				}
			}
			d0, err := g.store.GetContact(ctx, "c1", 1)
			if err != nil || d0.Contact.Name != "NwmBg0" || d0.Relations[0].Remark != "r" {
				t.Fatalf("after the background re-seal: %+v %v", d0, err)
			}
		})
	}
}

// A corp without a data key refuses to serve and names the key.
func TestServeWithoutADataKeyRefusesToStart(t *testing.T) {
	code, out, errs := runCmd(t, map[string]string{"GATEWAY_LISTEN": "127.0.0.1:0", "GATEWAY_DB_DSN": filepath.Join(t.TempDir(), "g.db"),
		"GATEWAY_CORP_ID": "ww1", "GATEWAY_CORP_SECRET": "s", "GATEWAY_CALLBACK_TOKEN": "t",
		"GATEWAY_CALLBACK_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}, "serve")
	if code != 1 || !strings.Contains(errs, "security.data_keys") || !strings.Contains(errs, "GATEWAY_DATA_KEY_FILE") || out != "" {
		t.Fatalf("serve = %d %q %q", code, out, errs)
	}
}
