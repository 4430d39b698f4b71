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
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
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

	// statePath is where the simulator's corp is kept between runs (empty
	// for an in-memory database); dirty is set by every simulator request
	// and cleared by the save that follows.
	statePath string
	dirty     atomic.Bool
	stop      chan struct{}
	saved     chan struct{}
	closeOnce sync.Once
}

// demoStateFile holds the simulated corp (customers, relations, groups,
// ways, tags) beside the database, so a restarted demo's simulator knows
// everything the database refers to.
const demoStateFile = "demo-wecom-state.json"

// demoSaveEvery is how often a changed simulated corp is written out; a
// clean stop writes it too.
const demoSaveEvery = 2 * time.Second

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
	// The rewritten config has a corp now; it is still the demo (its data
	// key, its landing limits, /readyz), whether the demo was asked for or
	// started because nothing was configured.
	cfg.DemoRequested = true
	if cfg.PublicURL == "" {
		cfg.PublicURL = base
	}
	log.Warn("DEMO MODE: no corp is configured, so the gateway is serving a built-in WeCom simulator as corp \"demo\" " +
		"under /cgi-bin/ and /sim/. Nothing reaches real WeCom. Configure a corp (see README) for production.")
	log.Info("web console: sign in with the demo admin token", "url", cfg.PublicURL+"/console/")
	d := &demoEnv{sim: sim, log: log, stop: make(chan struct{}), saved: make(chan struct{})}
	if cfg.DB.Driver == "sqlite" && cfg.DB.DSN != ":memory:" {
		d.statePath = filepath.Join(filepath.Dir(cfg.DB.DSN), demoStateFile)
		if err := d.load(); err != nil {
			return nil, err
		}
	}
	go d.saveLoop()
	return d, nil
}

// load gives the simulator back the corp an earlier run saved.
func (d *demoEnv) load() error {
	b, err := os.ReadFile(d.statePath)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("demo simulator state: %w", err)
	}
	snap, err := wecomsim.UnmarshalSnapshot(b)
	if err == nil {
		err = d.sim.Restore(snap)
	}
	if err != nil {
		return fmt.Errorf("demo simulator state %s: %w (delete it to start the simulated corp afresh)", d.statePath, err)
	}
	d.log.Info("demo: the simulator got back the corp of the last run", "path", d.statePath,
		"customers", len(snap.Customers), "groups", len(snap.Groups), "contact_ways", len(snap.ContactWays))
	return nil
}

// save writes the simulated corp out, through a temporary file so a crash
// mid-write leaves the last good copy.
func (d *demoEnv) save() error {
	if d.statePath == "" {
		return nil
	}
	d.dirty.Store(false)
	b, err := wecomsim.MarshalSnapshot(d.sim.Snapshot())
	if err != nil {
		return err
	}
	tmp := d.statePath + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, d.statePath)
}

func (d *demoEnv) saveLoop() {
	defer close(d.saved)
	t := time.NewTicker(demoSaveEvery)
	defer t.Stop()
	for {
		select {
		case <-d.stop:
			return
		case <-t.C:
			if d.dirty.Load() {
				if err := d.save(); err != nil {
					d.log.Warn("demo: could not save the simulator's state", "path", d.statePath, "err", err)
				}
			}
		}
	}
}

// afterStore makes sure there is an admin token for the demo and tells the
// user where it is.
func (d *demoEnv) afterStore(ctx context.Context, tokens *auth.Auth, cfg config.Config, stdout io.Writer) error {
	path := demoTokenFile
	if cfg.DB.Driver == "sqlite" && cfg.DB.DSN != ":memory:" {
		path = filepath.Join(filepath.Dir(cfg.DB.DSN), demoTokenFile)
	}
	if b, err := os.ReadFile(path); err == nil {
		tok := strings.TrimSpace(string(b))
		if _, err := tokens.Authenticate(ctx, tok); err == nil {
			fmt.Fprintf(stdout, "demo admin token (from %s): %s\n", path, tok)
			return nil
		}
	}
	tok, _, err := tokens.CreateToken(ctx, "demo admin", auth.RoleAdmin)
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
	sim := d.sim.Handler()
	h := gin.WrapH(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sim.ServeHTTP(w, r)
		d.dirty.Store(true)
	}))
	r.Any("/cgi-bin/*path", h)
	r.Any("/sim/*path", h)
}

// close stops the simulator's callbacks and writes its corp out.
func (d *demoEnv) close() {
	d.closeOnce.Do(func() {
		d.sim.Close()
		close(d.stop)
		<-d.saved
		if err := d.save(); err != nil {
			d.log.Warn("demo: could not save the simulator's state", "path", d.statePath, "err", err)
		}
	})
}

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
		var members map[string]channelcode.MemberWay
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
	restored := 0
	for _, w := range ways {
		if _, ok := d.sim.ContactWay(w.ConfigID); ok {
			continue // the saved corp has it
		}
		if err := d.sim.RestoreContactWay(w); err != nil {
			return err
		}
		restored++
	}
	if restored > 0 {
		d.log.Info("demo: the simulator got back contact ways from the database that its saved corp lacked", "ways", restored)
	}
	return nil
}
