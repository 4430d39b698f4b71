package main

import (
	"context"
	"io"
	"log/slog"
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

// A corp without a data key refuses to serve and names the key.
func TestServeWithoutADataKeyRefusesToStart(t *testing.T) {
	code, out, errs := runCmd(t, map[string]string{"GATEWAY_LISTEN": "127.0.0.1:0", "GATEWAY_DB_DSN": filepath.Join(t.TempDir(), "g.db"),
		"GATEWAY_CORP_ID": "ww1", "GATEWAY_CORP_SECRET": "s", "GATEWAY_CALLBACK_TOKEN": "t",
		"GATEWAY_CALLBACK_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"}, "serve")
	if code != 1 || !strings.Contains(errs, "security.data_keys") || !strings.Contains(errs, "GATEWAY_DATA_KEY_FILE") || out != "" {
		t.Fatalf("serve = %d %q %q", code, out, errs)
	}
}
