package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
)

// Roles an API token can carry.
const (
	RoleAdmin  = "admin"
	RoleStaff  = "staff"
	RoleViewer = "viewer"
	RoleCRM    = "crm"
)

// ValidRole reports whether r is a known role.
func ValidRole(r string) bool {
	switch r {
	case RoleAdmin, RoleStaff, RoleViewer, RoleCRM:
		return true
	}
	return false
}

// ErrUnauthenticated is returned for a missing, malformed, unknown or revoked token.
var ErrUnauthenticated = errors.New("invalid or missing API token")

// TokenStore is what Auth needs from the database.
type TokenStore interface {
	CreateAPIToken(ctx context.Context, t *model.APIToken) error
	APITokenByHash(ctx context.Context, hash string) (*model.APIToken, error)
	TouchAPIToken(ctx context.Context, id uint64, at time.Time) error
	ListAPITokens(ctx context.Context) ([]model.APIToken, error)
	RevokeAPIToken(ctx context.Context, id uint64) error
}

// Principal is the caller of an admin-API request.
type Principal struct {
	TokenID uint64 `json:"token_id"`
	Name    string `json:"name"`
	Role    string `json:"role"`
	// UserID is the WeCom staff member a staff token acts for (sales see
	// only their own leads).
	UserID string `json:"userid,omitempty"`
	// Client and RequestID say where a request came from, for the audit.
	Client    string `json:"-"`
	RequestID string `json:"-"`
}

// IsStaff reports whether p is a staff member's token, whose reads are scoped
// to that member's own customers.
func (p *Principal) IsStaff() bool { return p != nil && p.Role == RoleStaff }

// Auth issues and checks admin-API tokens. Tokens are "gw_" + 32 random
// bytes (base64url); only their SHA-256 is stored, so a database leak does not
// leak credentials, and a plain hash is enough because the secret has 256 bits.
type Auth struct {
	store TokenStore
	clock clock.Clock

	mu      sync.Mutex
	touched map[uint64]time.Time
}

// New builds an Auth.
func New(store TokenStore, clk clock.Clock) *Auth {
	return &Auth{store: store, clock: clk, touched: map[uint64]time.Time{}}
}

const tokenPrefix = "gw_"

// CreateToken issues a token and returns its secret, shown once.
func (a *Auth) CreateToken(ctx context.Context, name, role string) (string, *Token, error) {
	return a.CreateTokenFor(ctx, name, role, "")
}

// CreateTokenFor issues a token acting for a WeCom staff member (userID may
// be empty for tokens that are not a person's).
func (a *Auth) CreateTokenFor(ctx context.Context, name, role, userID string) (string, *Token, error) {
	secret, t, err := a.createToken(ctx, name, role, userID, nil)
	if err != nil {
		return "", nil, err
	}
	return secret, viewToken(t), nil
}

func (a *Auth) createToken(ctx context.Context, name, role, userID string, expiresAt *time.Time) (string, *model.APIToken, error) {
	if len(userID) > 64 {
		return "", nil, &apierr.ValidationError{Field: "userid", Reason: "must be at most 64 characters"}
	}
	name = strings.TrimSpace(name)
	if name == "" || len(name) > 128 {
		return "", nil, &apierr.ValidationError{Field: "name", Reason: "must be 1 to 128 characters"}
	}
	if !ValidRole(role) {
		return "", nil, &apierr.ValidationError{Field: "role", Reason: "must be one of admin, staff, viewer, crm"}
	}
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", nil, err
	}
	secret := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	t := &model.APIToken{Name: name, Role: role, Hash: hashToken(secret), Prefix: secret[:9], UserID: userID, ExpiresAt: expiresAt}
	if err := a.store.CreateAPIToken(ctx, t); err != nil {
		return "", nil, err
	}
	return secret, t, nil
}

// Authenticate resolves a bearer token to its principal.
func (a *Auth) Authenticate(ctx context.Context, secret string) (*Principal, error) {
	if !strings.HasPrefix(secret, tokenPrefix) || len(secret) > 128 {
		return nil, ErrUnauthenticated
	}
	t, err := a.store.APITokenByHash(ctx, hashToken(secret))
	if errors.Is(err, model.ErrNotFound) {
		return nil, ErrUnauthenticated
	}
	if err != nil {
		return nil, fmt.Errorf("authenticate: %w", err)
	}
	if t.ExpiresAt != nil && !a.clock.Now().Before(*t.ExpiresAt) {
		return nil, ErrUnauthenticated
	}
	a.touch(ctx, t.ID)
	return &Principal{TokenID: t.ID, Name: t.Name, Role: t.Role, UserID: t.UserID}, nil
}

// touch records last use at most once a minute per token, keeping a write
// off most requests.
func (a *Auth) touch(ctx context.Context, id uint64) {
	now := a.clock.Now()
	a.mu.Lock()
	last, ok := a.touched[id]
	if ok && now.Sub(last) < time.Minute {
		a.mu.Unlock()
		return
	}
	a.touched[id] = now
	a.mu.Unlock()
	_ = a.store.TouchAPIToken(ctx, id, now)
}

func hashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
