package wecom

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sync/singleflight"
)

// Token is an access token with its expiry.
type Token struct {
	Value     string
	ExpiresAt time.Time
}

// TokenStore shares tokens between gateway replicas (the gateway implements it
// on its database).
type TokenStore interface {
	LoadToken(ctx context.Context, key string) (Token, bool, error)
	SaveToken(ctx context.Context, key string, t Token) error
	// DropToken removes the token only if it still has this value (so one
	// replica's stale view cannot delete a fresh token another replica just
	// saved).
	DropToken(ctx context.Context, key, value string) error
}

// NewMemoryTokenStore returns a TokenStore for one process (tests, the demo).
func NewMemoryTokenStore() TokenStore {
	return &memoryTokenStore{tokens: map[string]Token{}}
}

type memoryTokenStore struct {
	mu     sync.Mutex
	tokens map[string]Token
}

func (m *memoryTokenStore) LoadToken(_ context.Context, key string) (Token, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t, ok := m.tokens[key]
	return t, ok, nil
}

func (m *memoryTokenStore) SaveToken(_ context.Context, key string, t Token) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[key] = t
	return nil
}

func (m *memoryTokenStore) DropToken(_ context.Context, key, value string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[key]; ok && t.Value == value {
		delete(m.tokens, key)
	}
	return nil
}

// tokenKey names a corp's token in the store. It includes a hash of the
// secret, never the secret: each secret (customer contact, self-built app) has
// its own token, and rotating the secret must not reuse the old one.
func tokenKey(corpID, secret string) string {
	sum := sha256.Sum256([]byte("wecom-access-token\x00" + corpID + "\x00" + secret))
	return "wecom:token:" + corpID + ":" + hex.EncodeToString(sum[:8])
}

const (
	// tokenFetchTimeout bounds one gettoken. The fetch is shared by every
	// caller waiting for it, so it runs on its own deadline rather than on
	// the first caller's context.
	tokenFetchTimeout = 15 * time.Second
	// defaultTokenLifetime applies when WeCom omits expires_in.
	defaultTokenLifetime = 7200 * time.Second
)

// tokenSource caches the access token in process and in the TokenStore, and
// fetches a new one when it nears expiry or WeCom rejects it. Concurrent
// callers in one process share a single gettoken.
type tokenSource struct {
	corpID        string
	secret        string
	key           string
	store         TokenStore
	now           func() time.Time
	refreshBefore time.Duration
	log           *slog.Logger
	budget        *budget

	flight singleflight.Group
	// local spares a store round trip per API call; replicas converge through
	// the store when a token nears expiry or WeCom rejects it.
	local atomic.Pointer[cachedToken]
}

// cachedToken is the in-process token and when to look for a new one: the
// refresh margin before expiry normally, or shortly after a failed refresh
// while the old token still works, so a failing gettoken is not retried on
// every call.
type cachedToken struct {
	Token
	refreshAt time.Time
}

// refreshRetry spaces refresh attempts while gettoken fails and the current
// token is still valid.
const refreshRetry = 10 * time.Second

func (s *tokenSource) usable(c *cachedToken) bool {
	now := s.now()
	return c != nil && c.Value != "" && now.Before(c.refreshAt) && now.Before(c.ExpiresAt)
}

func (s *tokenSource) keep(t Token, refreshAt time.Time) {
	s.local.Store(&cachedToken{Token: t, refreshAt: refreshAt})
}

// scrubText masks credentials in query or JSON form (Scrub) and, wherever
// they appear, the literal secret and current token.
func (s *tokenSource) scrubText(text string) string {
	text = Scrub(text)
	text = maskLiteral(text, s.secret)
	if t := s.local.Load(); t != nil {
		text = maskLiteral(text, t.Value)
	}
	return text
}

// maskLiteral replaces v in text. Short values are left alone: masking every
// "ab" would mangle a message without protecting anything real.
func maskLiteral(text, v string) string {
	if len(v) < 8 {
		return text
	}
	return strings.ReplaceAll(text, v, scrubMask)
}

func (s *tokenSource) fresh(t Token) bool {
	return t.Value != "" && s.now().Before(t.ExpiresAt.Add(-s.refreshBefore))
}

// get returns a usable token, fetching one if needed.
func (s *tokenSource) get(ctx context.Context) (Token, error) {
	if c := s.local.Load(); s.usable(c) {
		return c.Token, nil
	}
	fetchCtx := context.WithoutCancel(ctx)
	ch := s.flight.DoChan(s.key, func() (any, error) {
		fctx, cancel := context.WithTimeout(fetchCtx, tokenFetchTimeout)
		defer cancel()
		return s.load(fctx)
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return Token{}, r.Err
		}
		return r.Val.(Token), nil
	case <-ctx.Done():
		return Token{}, &TransportError{API: APIGetToken, Msg: "waiting for access token: " + ctx.Err().Error(), cause: ctx.Err()}
	}
}

// load runs inside the single flight.
func (s *tokenSource) load(ctx context.Context) (Token, error) {
	// A flight that finished just before this one started may have left a
	// fresh token.
	if c := s.local.Load(); s.usable(c) {
		return c.Token, nil
	}
	stored, ok, err := s.store.LoadToken(ctx, s.key)
	if err != nil {
		// WeCom can still hand out a token while the store is down.
		s.log.Warn("wecom: token store load failed", "corp_id", s.corpID, "err", s.scrubText(err.Error()))
		ok = false
	}
	if ok && s.fresh(stored) {
		s.keep(stored, stored.ExpiresAt.Add(-s.refreshBefore))
		return stored, nil
	}
	t, err := s.fetch(ctx)
	if err != nil {
		// Inside the refresh margin the current token still works: use it
		// and try the refresh again after refreshRetry.
		current := stored
		if !ok {
			if c := s.local.Load(); c != nil {
				current = c.Token
			}
		}
		if current.Value != "" && s.now().Before(current.ExpiresAt) {
			s.log.Warn("wecom: token refresh failed, using the current token until it expires",
				"corp_id", s.corpID, "expires_at", current.ExpiresAt, "err", err)
			s.keep(current, s.now().Add(refreshRetry))
			return current, nil
		}
		return Token{}, err
	}
	if err := s.store.SaveToken(ctx, s.key, t); err != nil {
		s.log.Warn("wecom: token store save failed", "corp_id", s.corpID, "err", s.scrubText(err.Error()))
	}
	s.keep(t, t.ExpiresAt.Add(-s.refreshBefore))
	s.log.Info("wecom: access token fetched", "corp_id", s.corpID, "expires_at", t.ExpiresAt)
	return t, nil
}

// invalidate forgets a token WeCom rejected. The store drops it only if it
// still holds that value, so a token another replica just fetched survives.
func (s *tokenSource) invalidate(ctx context.Context, stale string) {
	if cur := s.local.Load(); cur != nil && cur.Value == stale {
		s.local.CompareAndSwap(cur, nil)
	}
	if err := s.store.DropToken(ctx, s.key, stale); err != nil {
		s.log.Warn("wecom: token store drop failed", "corp_id", s.corpID, "err", s.scrubText(err.Error()))
	}
}

type tokenResponse struct {
	ErrCode     int    `json:"errcode"`
	ErrMsg      string `json:"errmsg"`
	AccessToken string `json:"access_token"`
	ExpiresIn   int64  `json:"expires_in"`
}

// fetch calls gettoken with our own request rather than silenceper's
// WorkAccessToken: ours honours the context, reports typed errors and keeps
// corpsecret out of every error text.
func (s *tokenSource) fetch(ctx context.Context) (Token, error) {
	deadline := answerBy(ctx)
	probe, err := s.budget.take(ctx, APIGetToken, s.now(), deadline)
	if err != nil {
		return Token{}, err
	}
	t, err := s.fetchOnce(ctx)
	var ae *APIError
	limited := errors.As(err, &ae) && rateLimited(ae.Code)
	var te *TransportError
	noAnswer := errors.As(err, &te) && te.StatusCode == 0
	wait := s.budget.answered(APIGetToken, probe, limited, noAnswer, s.now())
	if limited {
		ae.RetryAfter = wait
	}
	return t, err
}

func (s *tokenSource) fetchOnce(ctx context.Context) (Token, error) {
	q := url.Values{"corpid": {s.corpID}, "corpsecret": {s.secret}}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, apiURL(APIGetToken)+"?"+q.Encode(), nil)
	if err != nil {
		return Token{}, s.transportError(err, 0)
	}
	resp, err := currentHTTPClient().Do(req)
	if err != nil {
		return Token{}, s.transportError(err, 0)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return Token{}, s.transportError(err, 0)
	}
	if resp.StatusCode != http.StatusOK {
		return Token{}, s.transportError(errors.New(http.StatusText(resp.StatusCode)), resp.StatusCode)
	}
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return Token{}, s.transportError(fmt.Errorf("decoding gettoken answer: %w", err), 0)
	}
	if tr.ErrCode != 0 {
		return Token{}, &APIError{API: APIGetToken, Code: tr.ErrCode, Msg: s.scrubText(tr.ErrMsg)}
	}
	if tr.AccessToken == "" {
		return Token{}, s.transportError(errors.New("gettoken answered without access_token"), 0)
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = defaultTokenLifetime
	}
	return Token{Value: tr.AccessToken, ExpiresAt: s.now().Add(life)}, nil
}

func (s *tokenSource) transportError(err error, status int) error {
	clean := scrubError(err, s.scrubText)
	return &TransportError{API: APIGetToken, StatusCode: status, Msg: clean.Error(), cause: clean}
}

// tokenHandle is the credential.AccessTokenContextHandle we install into
// silenceper's context in place of its WorkAccessToken, whose memory cache
// reads its map without a lock and keys tokens by corp id alone.
type tokenHandle struct{ s *tokenSource }

func (h tokenHandle) GetAccessToken() (string, error) {
	return h.GetAccessTokenContext(context.Background())
}

func (h tokenHandle) GetAccessTokenContext(ctx context.Context) (string, error) {
	t, err := h.s.get(ctx)
	return t.Value, err
}
