package service

import (
	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/auth"
)

// The names that handler and cmd know from package service, for the domains
// that have moved to packages of their own: so callers keep one import while
// the business is split by domain.

// Admin-API tokens and roles (service/auth).
type (
	Auth      = auth.Auth
	Principal = auth.Principal
	Token     = auth.Token
	TokenSpec = auth.TokenSpec
)

// Roles an API token can carry.
const (
	RoleAdmin  = auth.RoleAdmin
	RoleStaff  = auth.RoleStaff
	RoleViewer = auth.RoleViewer
	RoleCRM    = auth.RoleCRM
)

// ErrUnauthenticated is returned for a missing, malformed, unknown or revoked token.
var ErrUnauthenticated = auth.ErrUnauthenticated

// NewAuth builds an Auth.
func NewAuth(store auth.TokenStore, clk clock.Clock) *Auth { return auth.New(store, clk) }
