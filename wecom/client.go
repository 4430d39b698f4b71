package wecom

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/silenceper/wechat/v2/util"
	"github.com/silenceper/wechat/v2/work"
	workconfig "github.com/silenceper/wechat/v2/work/config"
)

// API names: the path under /cgi-bin/. They name budgets, errors and log lines.
const (
	APIGetToken              = "gettoken"
	APIAddContactWay         = "externalcontact/add_contact_way"
	APIGetContactWay         = "externalcontact/get_contact_way"
	APIUpdateContactWay      = "externalcontact/update_contact_way"
	APIDeleteContactWay      = "externalcontact/del_contact_way"
	APIListContactWays       = "externalcontact/list_contact_way"
	APIAddJoinWay            = "externalcontact/groupchat/add_join_way"
	APIGetJoinWay            = "externalcontact/groupchat/get_join_way"
	APIUpdateJoinWay         = "externalcontact/groupchat/update_join_way"
	APIDeleteJoinWay         = "externalcontact/groupchat/del_join_way"
	APIGetGroupChat          = "externalcontact/groupchat/get"
	APIGetExternalContact    = "externalcontact/get"
	APIMarkTag               = "externalcontact/mark_tag"
	APIRemark                = "externalcontact/remark"
	APIGetCorpTags           = "externalcontact/get_corp_tag_list"
	APIAddCorpTag            = "externalcontact/add_corp_tag"
	APIEditCorpTag           = "externalcontact/edit_corp_tag"
	APIDeleteCorpTag         = "externalcontact/del_corp_tag"
	APISendWelcomeMsg        = "externalcontact/send_welcome_msg"
	APIUploadMedia           = "media/upload"
	APICreateAcquisitionLink = "externalcontact/customer_acquisition/create_link"
	APIListDepartments       = "department/list"
	APIListStaff             = "user/list"
)

// APIs lists every API the Client calls, for metrics.
var APIs = []string{
	APIGetToken,
	APIAddContactWay, APIGetContactWay, APIUpdateContactWay, APIDeleteContactWay, APIListContactWays,
	APIAddJoinWay, APIGetJoinWay, APIUpdateJoinWay, APIDeleteJoinWay,
	APIGetGroupChat, APIGetExternalContact, APIMarkTag, APIRemark,
	APIGetCorpTags, APIAddCorpTag, APIEditCorpTag, APIDeleteCorpTag,
	APISendWelcomeMsg, APIUploadMedia, APICreateAcquisitionLink,
	APIAddGroupWelcome, APIEditGroupWelcome, APIGetGroupWelcome, APIDeleteGroupWelcome,
	APIListDepartments, APIListStaff,
}

// DefaultAPIBase is WeCom's API host, the one silenceper's URLs are written
// against.
const DefaultAPIBase = "https://qyapi.weixin.qq.com"

const (
	defaultRefreshBefore = 5 * time.Minute
	maxResponseBytes     = 8 << 20
)

// silenceper sends every request through two package globals, util.DefaultHTTPClient
// and a URI modifier. We install them once and switch what they point at
// through atomics, so SetAPIBase can be called again (tests) while requests
// abandoned by an earlier caller are still in flight.
var (
	apiBase      atomic.Pointer[string]
	apiHTTP      atomic.Pointer[http.Client]
	hooksOnce    sync.Once
	libHTTP      = &http.Client{Transport: switchingTransport{}}
	fallbackHTTP = &http.Client{Timeout: 30 * time.Second}
)

// SetAPIBase points silenceper's package globals (util.SetURIModifier,
// util.DefaultHTTPClient) and our own requests at base (default
// https://qyapi.weixin.qq.com) and hc (nil: a client with a 30 s timeout).
// Give hc a timeout: silenceper's calls cannot be cancelled, so a request a
// caller gave up on ends only when the HTTP client gives up too.
func SetAPIBase(base string, hc *http.Client) error {
	if base == "" {
		base = DefaultAPIBase
	}
	u, err := url.Parse(base)
	if err != nil {
		return fmt.Errorf("wecom: API base %q: %w", base, err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return fmt.Errorf("wecom: API base %q must be an http(s) URL without query or fragment", base)
	}
	if hc == libHTTP {
		return errors.New("wecom: SetAPIBase needs an HTTP client of its own, not util.DefaultHTTPClient")
	}
	if hc == nil {
		hc = fallbackHTTP
	}
	b := strings.TrimRight(u.String(), "/")
	apiBase.Store(&b)
	apiHTTP.Store(hc)
	installLibraryHooks()
	return nil
}

func installLibraryHooks() {
	hooksOnce.Do(func() {
		util.SetURIModifier(rewriteURI)
		util.DefaultHTTPClient = libHTTP
	})
}

func currentAPIBase() string {
	if b := apiBase.Load(); b != nil {
		return *b
	}
	return DefaultAPIBase
}

func currentHTTPClient() *http.Client {
	if hc := apiHTTP.Load(); hc != nil {
		return hc
	}
	return fallbackHTTP
}

// rewriteURI moves silenceper's constant WeCom URLs onto the configured base.
func rewriteURI(uri string) string {
	if rest, ok := strings.CutPrefix(uri, DefaultAPIBase+"/"); ok {
		return currentAPIBase() + "/" + rest
	}
	return uri
}

func apiURL(api string) string {
	return currentAPIBase() + "/cgi-bin/" + api
}

// switchingTransport hands silenceper's requests to the client SetAPIBase
// installed last.
type switchingTransport struct{}

func (switchingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	return currentHTTPClient().Do(req)
}

// ClientConfig configures a Client for one corp and secret.
type ClientConfig struct {
	CorpID, Secret string
	Store          TokenStore       // nil → memory store
	Now            func() time.Time // the clock (required)
	Logger         *slog.Logger
	// Budget is the calls per API we allow ourselves (default 9000/min,
	// under WeCom's 10,000).
	Budget BudgetConfig
	// BudgetStore shares Budget, and the hold after a 45009, among every
	// replica of the corp (nil: both are this process's alone).
	BudgetStore BudgetStore
	// RefreshBefore: refresh the token this long before it expires
	// (default 5 min).
	RefreshBefore time.Duration
}

// Client calls WeCom's server API for one corp. It is safe for concurrent use.
//
// Every call spends the API's budget, carries a cached access token, and on a
// rejected token (40014, 42001, 40001) drops it, fetches a new one and retries
// exactly once. Errors are typed (APIError, BudgetError, TransportError, or
// wrap ErrInvalidRequest), scrubbed of credentials, and mapped by Classify.
type Client struct {
	corpID string
	now    func() time.Time
	log    *slog.Logger
	budget *budget
	tokens *tokenSource
	wk     *work.Work
}

// NewClient builds a Client. It installs silenceper's hooks with the default
// API base if SetAPIBase has not been called.
func NewClient(cfg ClientConfig) (*Client, error) {
	if cfg.CorpID == "" {
		return nil, errors.New("wecom: CorpID is required")
	}
	if cfg.Secret == "" {
		return nil, errors.New("wecom: Secret is required")
	}
	if cfg.RefreshBefore < 0 || cfg.RefreshBefore >= time.Hour {
		// A margin near the token's 2 h lifetime would fetch on every call.
		return nil, fmt.Errorf("wecom: RefreshBefore %s must be between 0 and 1h", cfg.RefreshBefore)
	}
	if err := cfg.Budget.validate(); err != nil {
		return nil, err
	}
	if cfg.Store == nil {
		cfg.Store = NewMemoryTokenStore()
	}
	if cfg.Now == nil {
		return nil, errors.New("wecom: ClientConfig.Now (the clock) is required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.RefreshBefore == 0 {
		cfg.RefreshBefore = defaultRefreshBefore
	}
	installLibraryHooks()

	b := newBudget(cfg.Budget)
	if cfg.BudgetStore != nil {
		b.shared = newSharedBudgets(cfg.BudgetStore, cfg.CorpID, cfg.Logger)
		b.holds = newSharedHolds(cfg.BudgetStore, cfg.CorpID, cfg.Logger)
	}
	ts := &tokenSource{
		corpID:        cfg.CorpID,
		secret:        cfg.Secret,
		key:           tokenKey(cfg.CorpID, cfg.Secret),
		store:         cfg.Store,
		now:           cfg.Now,
		refreshBefore: cfg.RefreshBefore,
		log:           cfg.Logger,
		budget:        b,
	}
	// The secret stays out of silenceper's config: our handle is the only
	// thing that fetches tokens, and nothing else in the library needs it.
	wk := work.NewWork(&workconfig.Config{CorpID: cfg.CorpID, Cache: discardCache{}})
	wk.GetContext().AccessTokenHandle = tokenHandle{ts}

	return &Client{corpID: cfg.CorpID, now: cfg.Now, log: cfg.Logger, budget: b, tokens: ts, wk: wk}, nil
}

// CorpID is the corp this client calls for.
func (c *Client) CorpID() string { return c.corpID }

// Token returns a valid access token, fetching one if needed.
func (c *Client) Token(ctx context.Context) (Token, error) {
	return c.tokens.get(ctx)
}

// Budget reports one API's remaining budget.
func (c *Client) Budget(api string) BudgetStatus {
	return c.budget.status(api, c.now())
}

// Budgets reports the remaining budget of every API, for metrics.
func (c *Client) Budgets() []BudgetStatus {
	return c.budget.statuses(APIs, c.now())
}

// do runs one API call: budget, token, send, and on a rejected token one
// refresh and one retry. send must pass whatever its call returned through
// the settle it is given, which scrubs the error and applies the answer to
// the API's hold.
func (c *Client) do(ctx context.Context, api string, send func(ctx context.Context, token string, settle func(error) error) error) error {
	deadline := answerBy(ctx)
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return c.normalize(api, err)
		}
		probe, err := c.budget.take(ctx, api, c.now(), deadline)
		if err != nil {
			return err
		}
		tok, err := c.tokens.get(ctx)
		if err != nil {
			if probe {
				c.budget.answered(api, true, false, true, c.now())
			}
			return err
		}
		err = send(ctx, tok.Value, func(err error) error { return c.settle(api, probe, err) })
		var ae *APIError
		if attempt == 0 && errors.As(err, &ae) && ae.API == api && tokenRejected(ae.Code) {
			c.log.Warn("wecom: access token rejected, fetching a new one", "corp_id", c.corpID, "api", api, "errcode", ae.Code)
			c.tokens.invalidate(context.WithoutCancel(ctx), tok.Value)
			continue
		}
		return err
	}
}

func tokenRejected(code int) bool {
	return code == CodeInvalidToken || code == CodeTokenExpired || code == CodeInvalidCredential
}

// rateLimited reports WeCom's rate-limit answers: 45009 (frequency) and
// 45033 (concurrency).
func rateLimited(code int) bool {
	return code == CodeFrequencyLimit || code == CodeConcurrencyLimit
}

// settle turns whatever a call returned into one of our error types with its
// text scrubbed, and applies what the answer means for the API's hold.
func (c *Client) settle(api string, probe bool, err error) error {
	err = c.normalize(api, err)
	var ae *APIError
	limited := errors.As(err, &ae) && ae.API == api && rateLimited(ae.Code)
	var te *TransportError
	noAnswer := err != nil && !limited && (errors.As(err, &te) && te.StatusCode == 0 || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded))
	wait := c.budget.answered(api, probe, limited, noAnswer, c.now())
	if limited {
		ae.RetryAfter = wait
		c.log.Warn("wecom: rate limited, holding API", "corp_id", c.corpID, "api", api, "errcode", ae.Code, "retry_after", wait)
	}
	return err
}

// libStatus finds the HTTP status in silenceper's non-200 errors, which are
// plain strings ("http get error : uri=..., statusCode=502").
var libStatus = regexp.MustCompile(`statusCode=(\d{3})`)

func (c *Client) normalize(api string, err error) error {
	if err == nil {
		return nil
	}
	var (
		ae *APIError
		be *BudgetError
		te *TransportError
		ce *util.CommonError
	)
	switch {
	case errors.As(err, &ae), errors.As(err, &be), errors.As(err, &te), errors.Is(err, ErrInvalidRequest):
		return err
	case errors.As(err, &ce):
		return &APIError{API: api, Code: int(ce.ErrCode), Msg: c.tokens.scrubText(ce.ErrMsg)}
	}
	status := 0
	if m := libStatus.FindStringSubmatch(err.Error()); m != nil {
		status, _ = strconv.Atoi(m[1])
	}
	clean := scrubError(err, c.tokens.scrubText)
	msg := clean.Error()
	if status != 0 {
		// The rest of silenceper's text is the URL we already name by api.
		msg = http.StatusText(status)
	}
	return &TransportError{API: api, StatusCode: status, Msg: msg, cause: clean}
}

// viaLibrary runs one silenceper call. Its methods take no context, so we wait
// for the call in a goroutine and return when ctx ends (the welcome message's
// 20 s window must not hang on a slow answer). The abandoned request finishes
// under the HTTP client's timeout, and its answer still counts: a 45009 still
// holds the API.
func (c *Client) viaLibrary(ctx context.Context, api string, settle func(error) error, call func() error) error {
	done := make(chan error, 1)
	go func() { done <- settle(call()) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return c.normalize(api, ctx.Err())
	}
}

// lib wraps a silenceper call for do.
func (c *Client) lib(ctx context.Context, api string, call func() error) error {
	return c.do(ctx, api, func(ctx context.Context, _ string, settle func(error) error) error {
		// silenceper asks tokenHandle for the token, which serves the one do
		// just fetched from the in-process cache.
		return c.viaLibrary(ctx, api, settle, call)
	})
}

// own sends our own JSON request for do, where silenceper's request type is
// wrong or missing (each caller says why).
func (c *Client) own(ctx context.Context, api string, body, out any) error {
	return c.do(ctx, api, func(ctx context.Context, token string, settle func(error) error) error {
		return settle(c.postJSON(ctx, api, token, body, out))
	})
}

// ownGet sends our own GET request with the query q for do.
func (c *Client) ownGet(ctx context.Context, api string, q url.Values, out any) error {
	return c.do(ctx, api, func(ctx context.Context, token string, settle func(error) error) error {
		return settle(c.exchange(ctx, http.MethodGet, api, token, q, nil, out))
	})
}

// encodeJSON writes like silenceper's PostJSON (no HTML escaping, so link URLs
// keep their '&'), without the trailing newline.
func encodeJSON(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}

// postJSON sends body to api with the token and decodes WeCom's answer into
// out. It is our equivalent of util.PostJSONContext with typed errors.
func (c *Client) postJSON(ctx context.Context, api, token string, body, out any) error {
	buf, err := encodeJSON(body)
	if err != nil {
		return invalidf(api, "encoding request: %v", err)
	}
	return c.exchange(ctx, http.MethodPost, api, token, nil, buf, out)
}

// exchange sends one request (a JSON body, if any, and the query q with the
// token) and decodes WeCom's answer into out.
func (c *Client) exchange(ctx context.Context, method, api, token string, q url.Values, body []byte, out any) error {
	query := url.Values{}
	for k, v := range q {
		query[k] = v
	}
	query.Set("access_token", token)
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, apiURL(api)+"?"+query.Encode(), rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json; charset=utf-8")
	}
	resp, err := currentHTTPClient().Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return &TransportError{API: api, StatusCode: resp.StatusCode, Msg: http.StatusText(resp.StatusCode)}
	}
	return c.decode(api, data, out)
}

func (c *Client) decode(api string, data []byte, out any) error {
	var ce struct {
		ErrCode int    `json:"errcode"`
		ErrMsg  string `json:"errmsg"`
	}
	if err := json.Unmarshal(data, &ce); err != nil {
		return &TransportError{API: api, Msg: "decoding answer: " + c.tokens.scrubText(err.Error())}
	}
	if ce.ErrCode != 0 {
		return &APIError{API: api, Code: ce.ErrCode, Msg: c.tokens.scrubText(ce.ErrMsg)}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return &TransportError{API: api, Msg: "decoding answer: " + c.tokens.scrubText(err.Error())}
	}
	return nil
}

// discardCache satisfies work.NewWork, which insists on a cache for the token
// handle it builds; we replace that handle straight away, so nothing is stored.
type discardCache struct{}

func (discardCache) Get(string) any                       { return nil }
func (discardCache) Set(string, any, time.Duration) error { return nil }
func (discardCache) IsExist(string) bool                  { return false }
func (discardCache) Delete(string) error                  { return nil }

// unixTime converts WeCom's Unix seconds, keeping 0 as the zero time.
func unixTime(sec int64) time.Time {
	if sec == 0 {
		return time.Time{}
	}
	return time.Unix(sec, 0)
}
