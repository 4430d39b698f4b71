package service

import (
	"context"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// WeComTokenRows is what SharedTokens needs from the database.
type WeComTokenRows interface {
	LoadWeComToken(ctx context.Context, key string) (string, time.Time, bool, error)
	SaveWeComToken(ctx context.Context, key, value string, expiresAt time.Time) error
	DropWeComToken(ctx context.Context, key, value string) error
}

// SharedTokens keeps WeCom access tokens in the database, so every replica
// uses the same token instead of each fetching its own.
type SharedTokens struct{ Rows WeComTokenRows }

var _ wecom.TokenStore = SharedTokens{}

// LoadToken implements wecom.TokenStore.
func (s SharedTokens) LoadToken(ctx context.Context, key string) (wecom.Token, bool, error) {
	v, exp, ok, err := s.Rows.LoadWeComToken(ctx, key)
	if err != nil || !ok {
		return wecom.Token{}, false, err
	}
	return wecom.Token{Value: v, ExpiresAt: exp}, true, nil
}

// SaveToken implements wecom.TokenStore.
func (s SharedTokens) SaveToken(ctx context.Context, key string, t wecom.Token) error {
	return s.Rows.SaveWeComToken(ctx, key, t.Value, t.ExpiresAt)
}

// DropToken implements wecom.TokenStore.
func (s SharedTokens) DropToken(ctx context.Context, key, value string) error {
	return s.Rows.DropWeComToken(ctx, key, value)
}
