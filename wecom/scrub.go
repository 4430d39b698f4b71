package wecom

import (
	"errors"
	"net/url"
	"regexp"
)

// secretQuery matches the value of a credential in a query string, also when
// the URL itself sits URL-encoded inside another one (%3D for '='). silenceper
// puts the full request URL, access_token and, for gettoken, corpsecret included,
// into its errors; net/http does the same in *url.Error.
// The value ends at a separator or at an encoded '&' (%26).
var secretQuery = regexp.MustCompile(`(?i)((?:access_token|corpsecret|secret)(?:=|%3D))(?:[^&\s"'#,;:)%]|%(?:[013-9a-f][0-9a-f]|2[0-57-9a-f]))+`)

// secretJSON matches a credential written as a JSON member, as in a gettoken
// answer that ends up in a decode error.
var secretJSON = regexp.MustCompile(`(?i)("(?:access_token|corpsecret|secret)"\s*:\s*")[^"]*`)

const scrubMask = "***"

// Scrub masks access_token, corpsecret and secret values in s so that a URL or
// error text can be logged or returned.
func Scrub(s string) string {
	s = secretQuery.ReplaceAllString(s, "${1}"+scrubMask)
	return secretJSON.ReplaceAllString(s, "${1}"+scrubMask)
}

// scrubError returns err with every credential masked, keeping the parts of the
// chain that errors.Is and errors.As need (context errors, net errors) when
// their text carries no credential.
func scrubError(err error, scrub func(string) string) error {
	if err == nil {
		return nil
	}
	if ue, ok := err.(*url.Error); ok {
		return &url.Error{Op: ue.Op, URL: scrub(ue.URL), Err: scrubError(ue.Err, scrub)}
	}
	msg := err.Error()
	if clean := scrub(msg); clean != msg {
		return &scrubbedError{msg: clean, cause: errors.Unwrap(err), scrub: scrub}
	}
	return err
}

// scrubbedError stands in for an error whose text carried a credential.
type scrubbedError struct {
	msg   string
	cause error
	scrub func(string) string
}

func (e *scrubbedError) Error() string { return e.msg }

// Unwrap keeps errors.Is(err, context.Canceled) and the like working; the cause
// is scrubbed in turn so that no credential can be reached through the chain.
func (e *scrubbedError) Unwrap() error { return scrubError(e.cause, e.scrub) }
