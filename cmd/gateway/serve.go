package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sort"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/config"
	"github.com/leadgate/scrm-gateway/docs"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/audit"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
	"github.com/leadgate/scrm-gateway/wecom"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg, err := loadConfig(fs, args, getenv)
	if err != nil {
		return err
	}
	log := newLogger(stderr, cfg.LogLevel)
	slog.SetDefault(log)
	ln, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return err
	}
	g, err := newGateway(ctx, cfg, log, ln.Addr().String(), stdout)
	if err != nil {
		ln.Close()
		if ctx.Err() != nil {
			// Told to stop while starting: nothing was serving yet.
			log.Info("stopped", "during", "start-up")
			return nil
		}
		return err
	}
	return g.serve(ctx, ln)
}

// gateway is one running replica: store, dispatcher and HTTP server.
type gateway struct {
	cfg        config.Config
	log        *slog.Logger
	store      *model.Store
	dispatcher *queue.Dispatcher
	jobs       *queue.JobRunner
	cache      *channelcode.CodeCache
	codes      *channelcode.ChannelCodes
	webhooks   *outbound.Webhooks
	groups     *groupcode.GroupCodes
	staff      *staff.Directory
	stores     *storecode.StoreCodes
	tags       *livecode.TagCatalogue
	audit      *audit.Log
	contacts   *contact.Contacts
	handler    http.Handler
	demo       *demoEnv
	closers    []func()
}

// gatewayOption adjusts wiring that has no configuration key (tests).
type gatewayOption func(*wiring)

type wiring struct {
	clock     clock.Clock // the one clock (default: the wall clock)
	retryBase time.Duration
	holdFor   time.Duration
}

// newGateway wires everything. addr is the listener's address, which the
// demo needs to tell its simulator where the callback URL is.
func newGateway(ctx context.Context, cfg config.Config, log *slog.Logger, addr string, stdout io.Writer, opts ...gatewayOption) (*gateway, error) {
	w := wiring{clock: clock.Real{}}
	for _, o := range opts {
		o(&w)
	}
	if err := cfg.CheckServe(); err != nil {
		return nil, err
	}
	g := &gateway{cfg: cfg, log: log}
	var err error
	if cfg.Demo() {
		if g.demo, err = setupDemo(&g.cfg, addr, log); err != nil {
			return nil, err
		}
		g.closers = append(g.closers, g.demo.close)
		cfg = g.cfg
	}

	g.store, err = openStore(ctx, cfg, w.clock, log)
	if err != nil {
		return nil, err
	}
	g.closers = append(g.closers, func() { g.store.Close() })
	// A stop must not cut a migration step in half (MySQL commits DDL as
	// it goes): the steps finish, then the stop is noticed.
	applied, err := g.store.Migrate(context.WithoutCancel(ctx))
	if err != nil {
		g.close()
		return nil, err
	}
	if len(applied) > 0 {
		log.Info("database migrated", "applied", applied, "version", model.SchemaVersion())
	}
	if err := g.store.CheckKeys(ctx); err != nil {
		g.close()
		return nil, fmt.Errorf("data keys: %w", err)
	}

	// silenceper's HTTP hooks are process-wide; point them at the API base once.
	if err := wecom.SetAPIBase(cfg.WeCom.APIBase, &http.Client{Timeout: 15 * time.Second}); err != nil {
		g.close()
		return nil, err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := queue.NewMetrics(reg)
	queue.RegisterDBMetrics(reg, g.store)

	clients := map[string]*wecom.Client{}
	for _, c := range cfg.Corps {
		cl, err := wecom.NewClient(wecom.ClientConfig{CorpID: c.ID, Secret: c.Secret, Store: service.SharedTokens{Rows: g.store}, Now: w.clock.Now,
			Logger: log.With("component", "wecom", "corp", c.ID), BudgetStore: sharedBudget(g.store),
			Budget: wecom.BudgetConfig{PerMinute: cfg.WeCom.CallsPerMinute, HoldFor: w.holdFor}})
		if err != nil {
			g.close()
			return nil, fmt.Errorf("corp %s: %w", c.ID, err)
		}
		clients[c.ID] = cl
	}
	queue.RegisterWeComMetrics(reg, clients)
	lookup := func(corpID string) (*wecom.Client, error) {
		if cl, ok := clients[corpID]; ok {
			return cl, nil
		}
		return nil, fmt.Errorf("no WeCom client for corp %q", corpID)
	}

	// The business, each service given what it needs in order; then the
	// routing table (service/routes.go) names who handles each event type
	// and job kind, and the dispatcher and job runner run it.
	clk := w.clock
	wakes := queue.NewWakes()
	callbackCorps := make([]service.CallbackCorp, 0, len(cfg.Corps))
	for _, c := range cfg.Corps {
		callbackCorps = append(callbackCorps, service.CallbackCorp{ID: c.ID, Token: c.CallbackToken, AESKey: c.CallbackAESKey})
	}
	callbacks, err := service.NewCallbacks(queue.NewInbox(g.store, wakes.Events.Notify), metrics, clk,
		service.CallbackLimits{MaxBody: cfg.HTTP.MaxCallbackBody, MaxInFlight: cfg.HTTP.MaxCallbacksInFlight}, callbackCorps...)
	if err != nil {
		g.close()
		return nil, err
	}
	tokens := auth.New(g.store, clk)
	g.cache = channelcode.NewCodeCache(g.store, log)
	g.cache.Reload(ctx)
	g.codes = channelcode.NewChannelCodes(g.store, lookup, wakes.Jobs, g.cache, clk, log, cfg.PublicURL)
	g.groups = groupcode.NewGroupCodes(g.store, lookup, wakes.Jobs, reg, clk, log, cfg.PublicURL)
	g.stores = storecode.NewStoreCodes(g.store, lookup, wakes.Jobs, clk, log, cfg.PublicURL)
	g.contacts = contact.NewContacts(g.store, lookup, g.cache, g.codes, g.stores, wakes.Jobs, reg, clk, log)
	leads := lead.New(g.store, wakes.Jobs, g.cache, clk, log)
	g.tags = livecode.NewTagCatalogue(g.store, lookup, wakes.Jobs)
	g.staff = staff.New(g.store, lookup, clk, log)
	routes := service.NewRoutes(g.contacts, g.codes, g.groups, g.stores, leads, g.tags)

	d := cfg.Dispatcher
	pool := queue.PoolOptions{
		Workers: d.Workers, BatchSize: d.BatchSize, SweepInterval: d.SweepInterval, Lease: d.Lease,
		MaxAttempts: d.MaxAttempts, Logger: log, Metrics: metrics, RetryBase: w.retryBase,
	}
	g.dispatcher = queue.NewDispatcher(g.store, routes.Events, wakes, clk, pool)
	g.jobs = queue.NewJobRunner(g.store, routes.Jobs, wakes, g.dispatcher, clk, pool)
	wh := cfg.Webhooks
	g.webhooks = outbound.NewWebhooks(g.store, clk, outbound.WebhookOptions{
		Policy:  webhook.NetworkPolicy{AllowHTTP: wh.AllowHTTP, AllowPrivateNetworks: wh.AllowPrivateNetworks, AllowedHosts: wh.AllowedHosts},
		Workers: wh.Workers, Timeout: wh.Timeout, PollInterval: wh.PollInterval, Logger: log, Registerer: reg,
	})

	if g.demo != nil {
		if err := g.demo.restoreWays(ctx, g.store); err != nil {
			g.close()
			return nil, err
		}
		if err := g.demo.afterStore(ctx, tokens, cfg, stdout); err != nil {
			g.close()
			return nil, err
		}
	}

	var mount func(r *gin.Engine)
	if g.demo != nil {
		mount = g.demo.mount
	}
	g.audit = audit.New(g.store, clk, cfg.Audit.Retention)
	openapi, err := docs.OpenAPI()
	if err != nil {
		return nil, fmt.Errorf("openapi document: %w", err)
	}
	g.handler = handler.New(handler.Deps{
		OpenAPI: openapi, Callbacks: callbacks, Queue: service.NewQueueLog(g.store), Auth: tokens, Gatherer: reg,
		Ready: g.ready, Logger: log, Mount: mount, TrustedProxies: cfg.HTTP.TrustedProxies, Clock: clk,
		Groups: g.groups, Stores: g.stores,
		Codes: g.codes, Contacts: g.contacts, Webhooks: g.webhooks, Leads: leads, TagRules: lead.NewTagRules(g.store), Tags: g.tags,
		LandingPerMinute: landingLimit(cfg), LandingBurst: cfg.HTTP.LandingBurst, Audit: g.audit,
		Staff: g.staff,
	})
	return g, nil
}

func (g *gateway) ready(ctx context.Context) (map[string]any, error) {
	info := map[string]any{"mode": "production"}
	if g.demo != nil {
		info["mode"] = "demo"
		info["warning"] = "DEMO MODE: no corp configured; serving the built-in WeCom simulator as corp demo"
	}
	corps := make([]string, 0, len(g.cfg.Corps))
	for _, c := range g.cfg.Corps {
		corps = append(corps, c.ID)
	}
	sort.Strings(corps)
	info["corps"] = corps
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	if err := g.store.Ping(ctx); err != nil {
		return info, errors.New("database unreachable")
	}
	v, err := g.store.CurrentVersion(ctx)
	if err != nil {
		return info, errors.New("schema version unreadable")
	}
	info["schema_version"] = v
	if v != model.SchemaVersion() {
		return info, fmt.Errorf("schema at version %d, this build needs %d (run gateway migrate)", v, model.SchemaVersion())
	}
	return info, nil
}

// serve runs until ctx is cancelled, then stops taking requests, lets the
// dispatcher finish or hand back its events, and returns nil.
func (g *gateway) serve(ctx context.Context, ln net.Listener) error {
	defer g.close()
	srv := &http.Server{
		Handler:           g.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(g.log.Handler(), slog.LevelWarn),
	}
	// Background work runs on its own context: it stops after the HTTP
	// server, so a request already accepted is still handled.
	dctx, stopDispatch := context.WithCancel(context.WithoutCancel(ctx))
	var bg sync.WaitGroup
	for _, run := range []func(context.Context){
		func(c context.Context) { _ = g.dispatcher.Run(c) },
		func(c context.Context) { _ = g.jobs.Run(c) },
		func(c context.Context) { _ = g.webhooks.Run(c) },
		func(c context.Context) { g.cache.Run(c, time.Second) },
		func(c context.Context) { g.groups.RunLandingPoll(c, time.Second) },
		func(c context.Context) { g.stores.RunLandingPoll(c, time.Second) },
		func(c context.Context) { g.audit.Run(c, time.Hour) },
		func(c context.Context) {
			if after := g.cfg.Privacy.EraseLostAfter; after > 0 {
				g.contacts.RunRetention(c, after, time.Hour, g.audit)
			}
		},
		g.runCron,
		g.rekey,
	} {
		bg.Add(1)
		go func() { defer bg.Done(); run(dctx) }()
	}
	srvErr := make(chan error, 1)
	go func() { srvErr <- srv.Serve(ln) }()
	g.log.Info("gateway listening", "addr", ln.Addr().String(), "corps", len(g.cfg.Corps), "db", g.cfg.DB.Driver, "demo", g.demo != nil)

	var err error
	select {
	case <-ctx.Done():
	case err = <-srvErr:
	}
	g.log.Info("stopping: no new requests; finishing in-flight work")
	sctx, cancel := context.WithTimeout(context.Background(), g.cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if serr := srv.Shutdown(sctx); serr != nil {
		g.log.Warn("http shutdown", "err", serr)
	}
	stopDispatch()
	bg.Wait()
	if g.demo != nil {
		g.demo.close()
	}
	g.log.Info("stopped")
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}

// runCron runs the per-minute roster tick at second 0 under a database
// lease, so with several replicas exactly one runs it each minute.
func (g *gateway) runCron(ctx context.Context) {
	holder := fmt.Sprintf("%s:%d", hostname(), os.Getpid())
	c := cron.New(cron.WithSeconds(), cron.WithLocation(time.UTC))
	_, err := c.AddFunc("0 * * * * *", func() {
		ok, err := g.store.AcquireLease(ctx, "cron:roster-tick", holder, 50*time.Second)
		if err != nil || !ok {
			return
		}
		if err := g.codes.Tick(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("roster tick", "err", err)
		}
		if err := g.groups.Tick(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("group code reconcile", "err", err)
		}
		if err := g.stores.Tick(ctx); err != nil && ctx.Err() == nil {
			g.log.Error("store staff tick", "err", err)
		}
	})
	if err != nil {
		g.log.Error("schedule roster tick", "err", err)
		return
	}
	// Tag events can be missed; reconcile each corp's catalogue hourly.
	_, err = c.AddFunc("30 7 * * * *", func() {
		ok, err := g.store.AcquireLease(ctx, "cron:tag-reconcile", holder, 50*time.Second)
		if err != nil || !ok {
			return
		}
		for _, corp := range g.cfg.Corps {
			if err := g.tags.RequestSync(ctx, corp.ID); err != nil && ctx.Err() == nil {
				g.log.Error("tag reconcile", "corp", corp.ID, "err", err)
			}
		}
	})
	if err != nil {
		g.log.Error("schedule tag reconcile", "err", err)
		return
	}
	c.Start()
	<-ctx.Done()
	<-c.Stop().Done()
}

func hostname() string {
	h, _ := os.Hostname()
	return h
}

func (g *gateway) close() {
	for i := len(g.closers) - 1; i >= 0; i-- {
		g.closers[i]()
	}
	g.closers = nil
}

// landingLimit is the landing pages a client may open a minute. The demo
// sets none: its one client is loadgen, opening hundreds from one address.
func landingLimit(cfg config.Config) int {
	if cfg.Demo() {
		return 0
	}
	return cfg.HTTP.LandingPerMinute
}

// sharedBudget is where replicas share the WeCom call budget: the database
// on MySQL, where replicas run; SQLite serves one process, whose own budget
// is the whole of it, and a grant there would cost a write on its single
// writer for nothing.
func sharedBudget(st *model.Store) wecom.BudgetStore {
	if st.Dialect() != "mysql" {
		return nil
	}
	return st
}
