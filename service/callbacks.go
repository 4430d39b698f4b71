package service

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Errors of the callback protocol. The HTTP layer maps each to its status:
// ErrUnknownCorp 404, ErrBadSignature 401, *CallbackRequestError 400,
// ErrCallbackTooLarge 413, ErrNotStored 500 and ErrCallbacksBusy 503 (WeCom
// sends the callback again).
var (
	ErrUnknownCorp      = errors.New("no corp is configured under this callback URL")
	ErrBadSignature     = errors.New("signature check failed")
	ErrCallbackTooLarge = errors.New("callback body exceeds the size limit")
	ErrNotStored        = errors.New("event could not be stored; send it again")
	ErrCallbacksBusy    = errors.New("too many callbacks in flight; send it again")
)

// CallbackRequestError is a callback that is not a well-formed WeCom message
// for its corp; Reason says what is wrong and is safe to show the sender.
type CallbackRequestError struct{ Reason string }

func (e *CallbackRequestError) Error() string { return e.Reason }

func badCallback(reason string) error { return &CallbackRequestError{Reason: reason} }

// CallbackCorp is one corp's callback settings: the corp id (the URL's
// :corp segment and WeCom's receiveid), the callback token and the 43-character
// EncodingAESKey.
type CallbackCorp struct {
	ID     string
	Token  string
	AESKey string
}

// CallbackQuery is the signed part of a callback URL's query string.
type CallbackQuery struct {
	MsgSignature string
	Timestamp    string
	Nonce        string
	// EchoStr is set only on WeCom's URL check (GET).
	EchoStr string
}

// Callbacks owns the WeCom callback protocol: it looks up the corp, verifies the
// signature, decrypts, parses and stores the event through the inbox, and counts
// every request in gateway_callback_requests_total by its result.
type Callbacks struct {
	corps   map[string]*wecom.Crypter
	ids     []string
	inbox   *queue.Inbox
	metrics *queue.Metrics
	maxBody int64
	// inFlight holds a slot per callback being read or stored: bodies in
	// memory are bounded by its size times maxBody.
	inFlight chan struct{}
	clock    clock.Clock // times requests
}

// Defaults of CallbackLimits. WeCom's callbacks are a few KiB (the largest, a
// group change listing its members, stays under 64 KiB encrypted).
const (
	DefaultMaxCallbackBody      = 64 << 10
	DefaultMaxCallbacksInFlight = 256
)

// CallbackLimits bound what callbacks may cost: the body size (413 beyond)
// and how many are read and stored at once (503 beyond, so WeCom resends).
// Zero fields take the defaults.
type CallbackLimits struct {
	MaxBody     int64
	MaxInFlight int
}

// NewCallbacks builds the callback protocol for corps, storing into inbox;
// metrics may be nil.
func NewCallbacks(inbox *queue.Inbox, metrics *queue.Metrics, clk clock.Clock, limits CallbackLimits, corps ...CallbackCorp) (*Callbacks, error) {
	if limits.MaxBody <= 0 {
		limits.MaxBody = DefaultMaxCallbackBody
	}
	if limits.MaxInFlight <= 0 {
		limits.MaxInFlight = DefaultMaxCallbacksInFlight
	}
	cb := &Callbacks{corps: make(map[string]*wecom.Crypter, len(corps)), inbox: inbox, metrics: metrics,
		maxBody: limits.MaxBody, inFlight: make(chan struct{}, limits.MaxInFlight), clock: clk}
	for _, c := range corps {
		cr, err := wecom.NewCrypter(c.Token, c.AESKey, c.ID)
		if err != nil {
			return nil, fmt.Errorf("corp %s: %w", c.ID, err)
		}
		cb.corps[c.ID] = cr
		cb.ids = append(cb.ids, c.ID)
	}
	sort.Strings(cb.ids)
	return cb, nil
}

// Corps lists the configured corps' ids in order.
func (cb *Callbacks) Corps() []string { return cb.ids }

// count records one request's result; unknown corps share one label so that a
// scanner cannot grow the label set.
func (cb *Callbacks) count(corp, method string, start time.Time, err error, ok string) {
	if cb.metrics == nil {
		return
	}
	result := ok
	var bad *CallbackRequestError
	switch {
	case errors.Is(err, ErrUnknownCorp):
		corp, result = "unknown", queue.ResultUnknownCorp
	case errors.Is(err, ErrBadSignature):
		result = queue.ResultBadSignature
	case errors.Is(err, ErrNotStored):
		result = queue.ResultStoreError
	case errors.Is(err, ErrCallbacksBusy):
		result = queue.ResultBusy
	case errors.Is(err, ErrCallbackTooLarge), errors.As(err, &bad), err != nil:
		result = queue.ResultBadRequest
	}
	cb.metrics.CallbackRequests.WithLabelValues(corp, result).Inc()
	cb.metrics.CallbackLatency.WithLabelValues(method).Observe(clock.Since(cb.clock, start).Seconds())
}

// VerifyURL answers WeCom's URL check: it verifies the signature over the
// echostr and returns the decrypted echostr, which is the whole answer.
func (cb *Callbacks) VerifyURL(ctx context.Context, corp string, q CallbackQuery) (plain []byte, err error) {
	start := cb.clock.Now()
	defer func() { cb.count(corp, "GET", start, err, queue.ResultVerified) }()
	cr, ok := cb.corps[corp]
	if !ok {
		return nil, ErrUnknownCorp
	}
	echo := q.EchoStr
	if q.MsgSignature == "" || q.Timestamp == "" || q.Nonce == "" || echo == "" {
		return nil, badCallback("msg_signature, timestamp, nonce and echostr are required")
	}
	err = cr.Verify(q.MsgSignature, q.Timestamp, q.Nonce, echo)
	if err != nil && strings.Contains(echo, " ") {
		// A proxy that decoded '+' as a space broke the base64; undo it once.
		echo = strings.ReplaceAll(echo, " ", "+")
		err = cr.Verify(q.MsgSignature, q.Timestamp, q.Nonce, echo)
	}
	if err != nil {
		return nil, ErrBadSignature
	}
	plain, err = cr.Decrypt(echo)
	if err != nil {
		return nil, badCallback("echostr cannot be decrypted")
	}
	return plain, nil
}

// Receive takes one callback POST: the corp of its URL, its signed query and
// its body (read up to the size limit). Only a nil error means the event is
// durably stored (or was stored before: duplicate) and may be acknowledged.
//
// Before the signature nothing is trusted: the body is read only with a
// free in-flight slot and up to the limit, and the envelope is scanned with
// depth and width limits just far enough to find Encrypt. After it, the
// message is refused (400, nothing stored) if it is not valid UTF-8, is
// deeper or wider than any WeCom message, or has a routing field out of
// range (wecom.Event.Check): such a message would only fail every later
// step, on one store or the other.
func (cb *Callbacks) Receive(ctx context.Context, corp string, q CallbackQuery, body io.Reader) (duplicate bool, err error) {
	start := cb.clock.Now()
	defer func() {
		ok := queue.ResultAccepted
		if duplicate {
			ok = queue.ResultDuplicate
		}
		cb.count(corp, "POST", start, err, ok)
	}()
	cr, ok := cb.corps[corp]
	if !ok {
		return false, ErrUnknownCorp
	}
	select {
	case cb.inFlight <- struct{}{}:
		defer func() { <-cb.inFlight }()
	default:
		return false, ErrCallbacksBusy
	}
	raw, err := io.ReadAll(io.LimitReader(body, cb.maxBody+1))
	if err != nil {
		return false, badCallback("callback body could not be read")
	}
	if int64(len(raw)) > cb.maxBody {
		return false, ErrCallbackTooLarge
	}
	env, err := wecom.ParseEnvelope(raw)
	if err != nil {
		return false, badCallback("body is not a WeCom callback envelope")
	}
	if err := cr.Verify(q.MsgSignature, q.Timestamp, q.Nonce, env.Encrypt); err != nil {
		return false, ErrBadSignature
	}
	plain, err := cr.Decrypt(env.Encrypt)
	if err != nil {
		return false, badCallback("payload cannot be decrypted for this corp")
	}
	ev, err := wecom.ParseEvent(plain)
	if err != nil {
		return false, badCallback("decrypted payload is not a WeCom message")
	}
	if err := ev.Check(); err != nil {
		return false, badCallback("message field " + err.Error())
	}
	if ev.ToUserName != "" && ev.ToUserName != corp {
		return false, badCallback("message is addressed to another corp")
	}
	dup, err := cb.inbox.Accept(ctx, corp, ev, plain)
	if err != nil {
		return false, fmt.Errorf("%w: %s event for corp %s: %v", ErrNotStored, ev.Type(), corp, err)
	}
	return dup, nil
}
