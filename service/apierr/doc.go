// Package apierr holds the errors the business returns and the admin API maps
// to statuses, in one place for every service package: ErrNotFound (404),
// ErrConflict and *ConflictError (409), ErrLeadMerged (409),
// *ValidationError (400, naming the field at fault) and *UpstreamError (a
// WeCom failure, 502). ErrNotFound, ErrConflict and ErrLeadMerged are the
// store's own sentinels, so a store error that reaches the API unwrapped
// maps the same way. The handler's renderError is the one mapping.
package apierr
