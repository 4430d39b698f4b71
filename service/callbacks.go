package service

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// Errors of the callback protocol. The HTTP layer maps each to its status:
// ErrUnknownCorp 404, ErrBadSignature 401, *CallbackRequestError 400,
// ErrCallbackTooLarge 413, ErrNotStored 500 (WeCom sends the callback again).
var (
	ErrUnknownCorp      = errors.New("no corp is configured under this callback URL")
	ErrBadSignature     = errors.New("signature check failed")
	ErrCallbackTooLarge = errors.New("callback body exceeds the size limit")
	ErrNotStored        = errors.New("event could not be stored; send it again")
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
	inbox   *Inbox
	metrics *Metrics
	maxBody int64
}

// DefaultMaxCallbackBody is the body limit when none is configured: 1 MiB.
const DefaultMaxCallbackBody = 1 << 20

// NewCallbacks builds the callback protocol for corps, storing into inbox.
// maxBody caps a callback's body (0: DefaultMaxCallbackBody); metrics may be nil.
func NewCallbacks(inbox *Inbox, metrics *Metrics, maxBody int64, corps ...CallbackCorp) (*Callbacks, error) {
	if maxBody <= 0 {
		maxBody = DefaultMaxCallbackBody
	}
	cb := &Callbacks{corps: make(map[string]*wecom.Crypter, len(corps)), inbox: inbox, metrics: metrics, maxBody: maxBody}
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
		corp, result = "unknown", ResultUnknownCorp
	case errors.Is(err, ErrBadSignature):
		result = ResultBadSignature
	case errors.Is(err, ErrNotStored):
		result = ResultStoreError
	case errors.Is(err, ErrCallbackTooLarge), errors.As(err, &bad), err != nil:
		result = ResultBadRequest
	}
	cb.metrics.CallbackRequests.WithLabelValues(corp, result).Inc()
	cb.metrics.CallbackLatency.WithLabelValues(method).Observe(time.Since(start).Seconds())
}

// VerifyURL answers WeCom's URL check: it verifies the signature over the
// echostr and returns the decrypted echostr, which is the whole answer.
func (cb *Callbacks) VerifyURL(ctx context.Context, corp string, q CallbackQuery) (plain []byte, err error) {
	start := time.Now()
	defer func() { cb.count(corp, "GET", start, err, ResultVerified) }()
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
func (cb *Callbacks) Receive(ctx context.Context, corp string, q CallbackQuery, body io.Reader) (duplicate bool, err error) {
	start := time.Now()
	defer func() {
		ok := ResultAccepted
		if duplicate {
			ok = ResultDuplicate
		}
		cb.count(corp, "POST", start, err, ok)
	}()
	cr, ok := cb.corps[corp]
	if !ok {
		return false, ErrUnknownCorp
	}
	raw, err := io.ReadAll(io.LimitReader(body, cb.maxBody+1))
	if err != nil {
		return false, badCallback("callback body could not be read")
	}
	if int64(len(raw)) > cb.maxBody {
		return false, ErrCallbackTooLarge
	}
	var env wecom.Envelope
	if err := xml.Unmarshal(raw, &env); err != nil || env.Encrypt == "" {
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
	if ev.ToUserName != "" && ev.ToUserName != corp {
		return false, badCallback("message is addressed to another corp")
	}
	dup, err := cb.inbox.Accept(ctx, corp, ev, plain)
	if err != nil {
		return false, fmt.Errorf("%w: %s event for corp %s: %v", ErrNotStored, ev.Type(), corp, err)
	}
	return dup, nil
}
