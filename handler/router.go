package handler

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/audit"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/channelcode"
	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/service/webhook/outbound"
)

// Deps are the router's collaborators.
type Deps struct {
	// Callbacks serves /wecom/callback/:corp; its corps are the API's corps.
	Callbacks *service.Callbacks
	// Queue serves the events and jobs listings (nil leaves them out).
	Queue    *service.QueueLog
	Auth     *auth.Auth
	Gatherer prometheus.Gatherer
	Ready    func(ctx context.Context) (map[string]any, error)
	Logger   *slog.Logger
	// Clock times requests and dates default ranges (required).
	Clock clock.Clock
	// Channel codes and contacts (nil leaves their routes out).
	Codes    *channelcode.ChannelCodes
	Contacts *contact.Contacts
	// Webhooks serves webhook endpoints and deliveries (nil leaves them out).
	Webhooks *outbound.Webhooks
	Leads    *lead.Leads
	TagRules *lead.TagRules
	Tags     *livecode.TagCatalogue
	// Group codes and store codes (nil leaves their routes out).
	Groups *groupcode.GroupCodes
	Stores *storecode.StoreCodes
	// Staff is the WeCom staff directory: GET /api/v1/staff, and the check of
	// userids in rosters, store staff and lead owners (nil: no check).
	Staff *staff.Directory
	// FetchQR downloads a WeCom QR image (nil: a plain HTTP GET).
	FetchQR func(ctx context.Context, url string) ([]byte, error)
	// Mount lets main attach extra routes (the demo simulator) to the same engine.
	Mount func(r *gin.Engine)
	// LandingPerMinute and LandingBurst limit the landing pages (/c/, /g/,
	// /s/) one client address may open; 0 per minute: no limit.
	LandingPerMinute int
	LandingBurst     int
	// Audit records reads of personal data (nil: nothing is recorded and
	// GET /api/v1/audit is not served).
	Audit *audit.Log
	// TrustedProxies are the addresses or CIDRs whose X-Forwarded-For names
	// the client (the failed-authentication throttle, the access log); none:
	// the client is the peer.
	TrustedProxies []string
	// OpenAPI is the OpenAPI document of this API, served without a token.
	OpenAPI []byte
}

// New builds the gateway's router.
func New(d Deps) *gin.Engine {
	gin.SetMode(gin.ReleaseMode)
	if d.Logger == nil {
		d.Logger = slog.Default()
	}
	if d.Clock == nil {
		panic("handler: Deps.Clock is required")
	}
	r := gin.New()
	r.HandleMethodNotAllowed = true
	if err := r.SetTrustedProxies(d.TrustedProxies); err != nil {
		// config.Validate checks the list; an invalid one trusts nobody.
		d.Logger.Error("trusted proxies", "err", err)
		_ = r.SetTrustedProxies(nil)
	}
	r.Use(requestID(), accessLog(d.Logger, d.Clock), recovery(d.Logger))
	if d.LandingPerMinute > 0 {
		r.Use(limitLandings(newLandingLimiter(d.LandingPerMinute, d.LandingBurst, d.Clock.Now)))
	}
	r.NoRoute(func(c *gin.Context) { abortError(c, http.StatusNotFound, "not_found", "no such route", "") })
	r.NoMethod(func(c *gin.Context) {
		abortError(c, http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed", "")
	})

	r.GET("/healthz", func(c *gin.Context) { c.JSON(http.StatusOK, gin.H{"status": "ok"}) })
	r.GET("/readyz", readyz(d.Ready))
	if d.Gatherer != nil {
		r.GET("/metrics", gin.WrapH(promhttp.HandlerFor(d.Gatherer, promhttp.HandlerOpts{})))
	}

	cb := &callbackHandler{callbacks: d.Callbacks, log: d.Logger}
	r.GET("/wecom/callback/:corp", cb.verifyURL)
	r.POST("/wecom/callback/:corp", cb.receive)

	if d.OpenAPI != nil {
		// The contract is public: a CRM's developer reads it before holding a token.
		r.GET("/api/v1/openapi.json", func(c *gin.Context) { c.Data(http.StatusOK, "application/json", d.OpenAPI) })
	}
	api := r.Group("/api/v1", authenticate(d.Auth, newAuthThrottle(d.Clock.Now)))
	api.GET("/me", func(c *gin.Context) { c.JSON(http.StatusOK, principal(c)) })
	if d.Audit != nil {
		api.GET("/audit", requireRole(auth.RoleAdmin), (&auditHandler{audit: d.Audit}).list)
	}
	(&tokensHandler{auth: d.Auth}).routes(api)
	if d.Queue != nil {
		(&queueHandler{log: d.Queue}).routes(api)
	}

	if d.Codes != nil {
		corps := d.corpIDs()
		ch := &channelHandler{codes: d.Codes, contacts: d.Contacts, audit: d.Audit, staff: d.Staff, corps: corps, fetchQR: d.fetchQR()}
		ch.routes(api, r)
		if d.Leads != nil {
			(&leadsHandler{leads: d.Leads, rules: d.TagRules, tags: d.Tags, audit: d.Audit, staff: d.Staff, corps: corps, clock: d.Clock}).routes(api)
		}
	}

	mountLiveCodes(api, r, d)
	if d.Staff != nil {
		(&staffHandler{staff: d.Staff, corps: d.corpIDs()}).routes(api)
	}

	mountWebhooks(api, d)
	mountProfiling(api)
	registerConsole(r)

	if d.Mount != nil {
		d.Mount(r)
	}
	return r
}

// corpIDs lists the configured corps' ids in order: the corps liveCorp
// chooses from.
func (d Deps) corpIDs() []string {
	if d.Callbacks == nil {
		return nil
	}
	return d.Callbacks.Corps()
}

// fetchQR is the QR image download to use: Deps.FetchQR, or a plain HTTP GET.
func (d Deps) fetchQR() func(ctx context.Context, url string) ([]byte, error) {
	if d.FetchQR != nil {
		return d.FetchQR
	}
	return fetchImage
}

func readyz(ready func(ctx context.Context) (map[string]any, error)) gin.HandlerFunc {
	return func(c *gin.Context) {
		if ready == nil {
			c.JSON(http.StatusOK, gin.H{"status": "ready"})
			return
		}
		info, err := ready(c.Request.Context())
		if info == nil {
			info = map[string]any{}
		}
		if err != nil {
			info["status"] = "unavailable"
			info["reason"] = err.Error()
			c.JSON(http.StatusServiceUnavailable, info)
			return
		}
		info["status"] = "ready"
		c.JSON(http.StatusOK, info)
	}
}

var qrHTTP = &http.Client{Timeout: 10 * time.Second}

// fetchImage downloads a QR image WeCom serves, at most 2 MB.
func fetchImage(ctx context.Context, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	resp, err := qrHTTP.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d", resp.StatusCode)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 2<<20))
}
