package apierr

import "github.com/leadgate/scrm-gateway/model"

// Errors of the business that the API maps to statuses: ErrNotFound 404,
// ErrConflict 409, *ValidationError 400 with its field, *UpstreamError 502.
// The store's sentinels are the same values, so a store error that reaches
// the API unwrapped maps the same way.
var (
	ErrNotFound = model.ErrNotFound
	ErrConflict = model.ErrConflict
	// ErrLeadMerged: the lead was merged into another (the same person, by
	// unionid); the API answers 409.
	ErrLeadMerged = model.ErrLeadMerged
)

// ConflictError is a request that contradicts what was done before (409),
// naming the field at fault.
type ConflictError struct {
	Field, Reason string
}

func (e *ConflictError) Error() string { return e.Field + ": " + e.Reason }

// ValidationError names the input field at fault and why; the API renders it
// as 400 with the field.
type ValidationError struct {
	Field  string
	Reason string
}

func (e *ValidationError) Error() string { return e.Field + ": " + e.Reason }

// UpstreamError is a WeCom failure the admin should see (rendered 502).
type UpstreamError struct{ Err error }

func (e *UpstreamError) Error() string { return "WeCom: " + e.Err.Error() }
func (e *UpstreamError) Unwrap() error { return e.Err }
