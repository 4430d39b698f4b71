package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// demoCorp is the corp id the built-in simulator plays.
const demoCorp = "demo"

// demoTokenFile is written beside the database so a newcomer can find the
// admin token after the log has scrolled away.
const demoTokenFile = "demo-admin-token.txt"

// demoEnv is the in-process WeCom simulator the gateway runs when no corp is
// configured: mounted on the gateway's own listener under /cgi-bin/ and
// /sim/, with the API client pointed at it.
type demoEnv struct {
	sim *wecomsim.Sim
	log *slog.Logger
}

// setupDemo starts the simulator and rewrites cfg to use it as corp "demo".
func setupDemo(cfg *config.Config, addr string, log *slog.Logger) (*demoEnv, error) {
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	base := "http://127.0.0.1:" + port
	// Fresh credentials each start: they only ever protect this process's
	// own loopback traffic.
	sim, err := wecomsim.New(wecomsim.Options{
		CorpID: demoCorp, Secret: randomAlnum(32), Token: randomAlnum(16), EncodingAESKey: randomAlnum(43),
		CallbackURL: base + "/wecom/callback/" + demoCorp,
		Seed:        time.Now().UnixNano(),
		Logger:      log.With("component", "wecomsim"),
	})
	if err != nil {
		return nil, fmt.Errorf("demo simulator: %w", err)
	}
	sc := sim.Config()
	cfg.Corps = []config.Corp{{ID: demoCorp, Name: "Demo corp (simulated WeCom)", Secret: sc.Secret,
		CallbackToken: sc.Token, CallbackAESKey: sc.EncodingAESKey}}
	cfg.WeCom.APIBase = base
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	log.Warn("DEMO MODE: no corp is configured, so the gateway is serving a built-in WeCom simulator as corp \"demo\" " +
		"under /cgi-bin/ and /sim/. Nothing reaches real WeCom. Configure a corp (see README) for production.")
	log.Info("web console: sign in with the demo admin token", "url", cfg.PublicURL+"/console/")
	return &demoEnv{sim: sim, log: log}, nil
}

// afterStore makes sure there is an admin token for the demo and tells the
// user where it is.
func (d *demoEnv) afterStore(ctx context.Context, auth *service.Auth, cfg config.Config, stdout io.Writer) error {
	path := demoTokenFile
	if cfg.DB.Driver == "sqlite" && cfg.DB.DSN != ":memory:" {
		path = filepath.Join(filepath.Dir(cfg.DB.DSN), demoTokenFile)
	}
	if b, err := os.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(b))
		if _, err := auth.Authenticate(ctx, tok); err == nil {
			fmt.Fprintf(stdout, "demo admin token (from %s): %s\n", path, tok)
			return nil
		}
	}
	tok, _, err := auth.CreateToken(ctx, "demo admin", service.RoleAdmin)
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, []byte(tok+"\n"), 0o600); err != nil {
		d.log.Warn("could not write the demo admin token file", "path", path, "err", err)
	}
	fmt.Fprintf(stdout, "demo admin token (also in %s): %s\n", path, tok)
	return nil
}

func (d *demoEnv) mount(r *gin.Engine) {
	h := gin.WrapH(d.sim.Handler())
	r.Any("/cgi-bin/*path", h)
	r.Any("/sim/*path", h)
}

func (d *demoEnv) close() { d.sim.Close() }

func randomAlnum(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(errors.New("crypto/rand failed"))
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

// restoreWays gives a fresh simulator back the contact ways the database
// holds from an earlier run (channel codes, precise-mode members' own ways,
// store codes' ways), so a restarted demo keeps scanning, syncing and
// serving the QR images of the codes it made.
func (d *demoEnv) restoreWays(ctx context.Context, store *model.Store) error {
	codes, err := store.ActiveChannelCodes(ctx)
	if err != nil {
		return err
	}
	var ways []wecomsim.ContactWay
	for _, c := range codes {
		if c.ConfigID != "" {
			var users []string
			_ = json.Unmarshal([]byte(c.WeComUsers), &users)
			ways = append(ways, wecomsim.ContactWay{ConfigID: c.ConfigID, QRCode: c.QRCode, State: c.State, SkipVerify: c.SkipVerify,
				Remark: c.Name, User: users})
		}
		var members map[string]service.MemberWay
		_ = json.Unmarshal([]byte(c.MemberWays), &members)
		for uid, m := range members {
			ways = append(ways, wecomsim.ContactWay{ConfigID: m.ConfigID, QRCode: m.QRCode, State: c.State, SkipVerify: c.SkipVerify,
				User: []string{uid}})
		}
	}
	storeWays, err := store.LiveStoreCodeWays(ctx)
	if err != nil {
		return err
	}
	for _, w := range storeWays {
		var users []string
		_ = json.Unmarshal([]byte(w.WeComUsers), &users)
		ways = append(ways, wecomsim.ContactWay{ConfigID: w.ConfigID, QRCode: w.QRCode, State: w.State, SkipVerify: true, User: users})
	}
	for _, w := range ways {
		if err := d.sim.RestoreContactWay(w); err != nil {
			return err
		}
	}
	if len(ways) > 0 {
		d.log.Info("demo: the simulator got back the contact ways of the database", "ways", len(ways))
	}
	return nil
}
