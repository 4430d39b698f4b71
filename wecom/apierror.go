package wecom

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// WeCom errcodes the gateway acts on; CodeAction says what each one means for
// the caller (retry, defer, give up, or fix the configuration).
const (
	CodeSystemBusy            = -1
	CodeInvalidCredential     = 40001 // wrong secret, or a token WeCom no longer accepts
	CodeInvalidCorpID         = 40013
	CodeInvalidToken          = 40014
	CodeTokenExpired          = 42001
	CodeFrequencyLimit        = 45009
	CodeConcurrencyLimit      = 45033
	CodeInvalidExternalUserID = 40096
	CodeNoRelationship        = 84061
	CodeWelcomeCodeMissing    = 41049
	CodeWelcomeCodeExpired    = 41050
	CodeWelcomeAlreadySent    = 41051
	CodeWelcomeBusy           = 41096
	CodeContactWayQuota       = 41045
	CodeNoAPIPermission       = 48002
	CodeUntrustedIP           = 60020
	CodeInvalidParameter      = 40058
	CodeEmptyParameter        = 40063
)

// Action tells a caller what to do with a failed call.
type Action int

const (
	// ActionNone is the action for a nil error.
	ActionNone Action = iota
	// ActionRetry: transient; try again with backoff.
	ActionRetry
	// ActionDefer: a rate limit (WeCom's or our own budget); try again after
	// RetryAfter, without counting it as a failure.
	ActionDefer
	// ActionPermanent: this request will never succeed; give up with the reason.
	ActionPermanent
	// ActionConfig: the corp's setup is wrong (secret, permission, trusted IP);
	// an admin has to act, retrying will not help.
	ActionConfig
)

func (a Action) String() string {
	switch a {
	case ActionNone:
		return "none"
	case ActionRetry:
		return "retry"
	case ActionDefer:
		return "defer"
	case ActionPermanent:
		return "permanent"
	case ActionConfig:
		return "config"
	}
	return fmt.Sprintf("Action(%d)", int(a))
}

// codeInfo is what we know about an errcode: a short reason for messages and
// the action it calls for.
type codeInfo struct {
	reason string
	action Action
}

var knownCodes = map[int]codeInfo{
	CodeSystemBusy: {"system busy", ActionRetry},
	// A token error that reaches a caller has already had its one refresh and
	// retry; a later attempt fetches a token anew, so it is worth retrying.
	CodeInvalidToken:          {"access_token invalid", ActionRetry},
	CodeTokenExpired:          {"access_token expired", ActionRetry},
	CodeWelcomeBusy:           {"another app is sending the welcome message", ActionRetry},
	CodeFrequencyLimit:        {"API frequency limit", ActionDefer},
	CodeConcurrencyLimit:      {"API concurrency limit", ActionDefer},
	CodeInvalidExternalUserID: {"invalid external_userid", ActionPermanent},
	CodeNoRelationship:        {"no external-contact relationship", ActionPermanent},
	CodeWelcomeCodeMissing:    {"welcome_code missing", ActionPermanent},
	CodeWelcomeCodeExpired:    {"welcome_code invalid or expired", ActionPermanent},
	CodeWelcomeAlreadySent:    {"welcome message already delivered", ActionPermanent},
	CodeContactWayQuota:       {"contact-way quota reached", ActionPermanent},
	CodeInvalidParameter:      {"invalid parameter", ActionPermanent},
	CodeEmptyParameter:        {"empty parameter", ActionPermanent},
	40003:                     {"invalid userid", ActionPermanent},
	40004:                     {"invalid media type", ActionPermanent},
	40005:                     {"invalid file type", ActionPermanent},
	40006:                     {"invalid file size", ActionPermanent},
	40007:                     {"invalid media_id", ActionPermanent},
	40009:                     {"invalid image size", ActionPermanent},
	40068:                     {"invalid tag id", ActionPermanent},
	44004:                     {"empty text content", ActionPermanent},
	// The client refreshes once on 40001, so one that reaches a caller means
	// the secret itself is rejected.
	CodeInvalidCredential: {"invalid credential (secret)", ActionConfig},
	CodeInvalidCorpID:     {"invalid corpid", ActionConfig},
	40091:                 {"invalid secret", ActionConfig},
	41004:                 {"corpsecret missing", ActionConfig},
	CodeNoAPIPermission:   {"no permission for this API", ActionConfig},
	60011:                 {"no privilege for this member or department", ActionConfig},
	CodeUntrustedIP:       {"server IP not trusted by the corp", ActionConfig},
}

// CodeAction is the action for a WeCom errcode. Codes we do not know are
// permanent: retrying an unexplained answer would only hammer WeCom.
func CodeAction(code int) Action {
	if info, ok := knownCodes[code]; ok {
		return info.action
	}
	if code == 0 {
		return ActionNone
	}
	return ActionPermanent
}

// APIError is a non-zero errcode answered by WeCom.
type APIError struct {
	API  string // e.g. "externalcontact/send_welcome_msg"
	Code int
	Msg  string // WeCom's errmsg, scrubbed
	// RetryAfter is set for the rate-limit codes (45009, 45033): how long the
	// client holds this API.
	RetryAfter time.Duration
}

func (e *APIError) Error() string {
	reason := "errcode"
	if info, ok := knownCodes[e.Code]; ok {
		reason = info.reason
	}
	s := fmt.Sprintf("wecom %s: %s (errcode %d)", e.API, reason, e.Code)
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.RetryAfter > 0 {
		s += fmt.Sprintf("; retry after %s", e.RetryAfter)
	}
	return s
}

// Is lets callers test for a code: errors.Is(err, &wecom.APIError{Code: 41050}).
// An empty API in the target matches any API.
func (e *APIError) Is(target error) bool {
	t, ok := target.(*APIError)
	return ok && t.Code == e.Code && (t.API == "" || t.API == e.API)
}

// ErrBudgetExhausted is matched (errors.Is) by every *BudgetError.
var ErrBudgetExhausted = errors.New("wecom: call budget exhausted")

// BudgetError is a call refused before it was sent: our own per-API budget is
// spent, or the API is held after WeCom answered 45009.
type BudgetError struct {
	API        string
	RetryAfter time.Duration
	Held       bool // WeCom's 45009 hold rather than our own budget
}

func (e *BudgetError) Error() string {
	if e.Held {
		return fmt.Sprintf("wecom %s: held after WeCom's frequency limit, retry after %s", e.API, e.RetryAfter)
	}
	return fmt.Sprintf("wecom %s: call budget spent, retry after %s", e.API, e.RetryAfter)
}

// Is makes every BudgetError match ErrBudgetExhausted.
func (e *BudgetError) Is(target error) bool { return target == ErrBudgetExhausted }

// ErrInvalidRequest is wrapped by errors for requests the client refuses to
// send because WeCom would reject them (a missing id, a field too long).
var ErrInvalidRequest = errors.New("invalid request")

func invalidf(api, format string, args ...any) error {
	return fmt.Errorf("wecom %s: %w: %s", api, ErrInvalidRequest, fmt.Sprintf(format, args...))
}

// TransportError is a failure without a WeCom errcode: the network, an HTTP
// status other than 200, a cancelled context, or a body we could not read. Its
// text and chain are scrubbed of credentials.
type TransportError struct {
	API        string
	StatusCode int // 0 when WeCom gave no HTTP answer
	Msg        string
	cause      error
}

func (e *TransportError) Error() string {
	if e.StatusCode != 0 {
		return fmt.Sprintf("wecom %s: HTTP %d: %s", e.API, e.StatusCode, e.Msg)
	}
	return fmt.Sprintf("wecom %s: %s", e.API, e.Msg)
}

// Unwrap exposes the scrubbed cause (context and net errors stay matchable).
func (e *TransportError) Unwrap() error { return e.cause }

// Classify maps an error from the Client to the action a caller should take.
func Classify(err error) Action {
	if err == nil {
		return ActionNone
	}
	var be *BudgetError
	if errors.As(err, &be) {
		return ActionDefer
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return CodeAction(ae.Code)
	}
	if errors.Is(err, ErrInvalidRequest) {
		return ActionPermanent
	}
	var te *TransportError
	if errors.As(err, &te) {
		switch {
		case te.StatusCode == http.StatusTooManyRequests:
			return ActionDefer
		case te.StatusCode == http.StatusRequestTimeout:
			return ActionRetry
		case te.StatusCode >= 400 && te.StatusCode < 500:
			// A 4xx from the API host means a wrong API base or a proxy in the
			// way, not a bad request: WeCom reports those as errcodes.
			return ActionConfig
		}
		return ActionRetry
	}
	// Anything else (a cancelled context, a network error from the token
	// store) is worth another attempt later.
	return ActionRetry
}

// RetryAfter reports how long to wait before a deferred call may go again.
func RetryAfter(err error) (time.Duration, bool) {
	var be *BudgetError
	if errors.As(err, &be) {
		return be.RetryAfter, true
	}
	var ae *APIError
	if errors.As(err, &ae) && ae.RetryAfter > 0 {
		return ae.RetryAfter, true
	}
	return 0, false
}
