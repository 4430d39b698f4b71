package auth

import (
	"context"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// Token is an admin-API token as the API shows it; the secret only once,
// when it is made.
type Token struct {
	ID         uint64          `json:"id"`
	Name       string          `json:"name"`
	Role       string          `json:"role"`
	UserID     string          `json:"userid,omitempty"`
	Prefix     string          `json:"prefix"`
	CreatedAt  wire.Timestamp  `json:"created_at"`
	LastUsedAt *wire.Timestamp `json:"last_used_at,omitempty"`
	ExpiresAt  *wire.Timestamp `json:"expires_at,omitempty"`
	RevokedAt  *wire.Timestamp `json:"revoked_at,omitempty"`
	Secret     string          `json:"secret,omitempty"`
}

func viewToken(t *model.APIToken) *Token {
	return &Token{ID: t.ID, Name: t.Name, Role: t.Role, UserID: t.UserID, Prefix: t.Prefix, CreatedAt: wire.At(t.CreatedAt),
		LastUsedAt: wire.AtPtr(t.LastUsedAt), ExpiresAt: wire.AtPtr(t.ExpiresAt), RevokedAt: wire.AtPtr(t.RevokedAt)}
}

// TokenSpec is a token as an admin asks for it.
type TokenSpec struct {
	Role string `json:"role"`
	Name string `json:"name"`
	// UserID is the WeCom staff member a staff token acts for (required
	// for role staff, refused for the others).
	UserID string `json:"userid"`
	// ExpiresAt, when set, ends the token then (it must be in the future).
	ExpiresAt *wire.Timestamp `json:"expires_at"`
}

// IssueToken makes a token from the admin API and returns it with its
// secret, which is never shown again.
func (a *Auth) IssueToken(ctx context.Context, s TokenSpec) (*Token, error) {
	s.UserID = strings.TrimSpace(s.UserID)
	switch {
	case s.Role == RoleStaff && s.UserID == "":
		return nil, &apierr.ValidationError{Field: "userid", Reason: "a staff token acts for a WeCom staff member: give their userid"}
	case s.Role != RoleStaff && s.UserID != "" && ValidRole(s.Role):
		return nil, &apierr.ValidationError{Field: "userid", Reason: "only a staff token acts for a staff member"}
	}
	var expires *time.Time
	if s.ExpiresAt != nil {
		t := s.ExpiresAt.UTC()
		if !t.After(a.clock.Now()) {
			return nil, &apierr.ValidationError{Field: "expires_at", Reason: "must be in the future"}
		}
		expires = &t
	}
	secret, t, err := a.createToken(ctx, s.Name, s.Role, s.UserID, expires)
	if err != nil {
		return nil, err
	}
	v := viewToken(t)
	v.Secret = secret
	return v, nil
}

// ListTokens returns every token, revoked and expired ones too, with when
// each was last used (written at most once a minute per token).
func (a *Auth) ListTokens(ctx context.Context) ([]*Token, error) {
	rows, err := a.store.ListAPITokens(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]*Token, len(rows))
	for i := range rows {
		out[i] = viewToken(&rows[i])
	}
	return out, nil
}

// RevokeToken revokes a token; the next request with it is refused, on
// every replica (tokens are looked up on each request).
func (a *Auth) RevokeToken(ctx context.Context, id uint64) error {
	return a.store.RevokeAPIToken(ctx, id)
}
