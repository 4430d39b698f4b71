// Package auth owns the admin API's tokens and the caller they resolve to:
// Auth issues tokens ("gw_" and 32 random bytes, only their SHA-256
// stored), lists and revokes them, and resolves a bearer secret to its
// Principal (token, name, role, the staff member a staff token acts for);
// the roles (admin, staff, viewer, crm) and ErrUnauthenticated. It declares
// what it needs from the store as TokenStore and imports no other service
// package but apierr and wire.
package auth
