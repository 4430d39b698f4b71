package handler_test

import (
	"bytes"
	"context"
	"encoding/xml"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/wecom"
)

// sealPlain encrypts and signs a message's bytes as WeCom would.
func (e *env) sealPlain(plain []byte) (body []byte, sig string) {
	e.t.Helper()
	enc, err := e.crypter.Encrypt(plain)
	if err != nil {
		e.t.Fatal(err)
	}
	body, err = xml.Marshal(wecom.Envelope{ToUserName: corpID, Encrypt: enc})
	if err != nil {
		e.t.Fatal(err)
	}
	return body, e.crypter.Sign("1700000000", "n", enc)
}

// Signed, decryptable messages whose fields no WeCom message has are refused
// at ingress with 400 and nothing stored, on both stores, instead of
// failing every later step (or the insert itself, on MariaDB).
func TestCallbackFieldsOutOfRangeAreRefusedAtIngress(t *testing.T) {
	eachDriver(t, func(t *testing.T, e *env) {
		long := strings.Repeat("w", 65)
		withComment := func(ev *wecom.Event, comment string) []byte {
			return bytes.Replace(wecom.MarshalEvent(ev), []byte("<xml>"), []byte("<xml><!-- "+comment+" -->"), 1)
		}
		nested := func(depth int) []byte {
			return []byte("<xml><MsgType>event</MsgType><Event>x</Event>" + strings.Repeat("<a>", depth) + strings.Repeat("</a>", depth) + "</xml>")
		}
		cases := []struct {
			name  string
			plain []byte
		}{
			{"long ExternalUserID", wecom.MarshalEvent(addEvent(long))},
			{"long UserID", wecom.MarshalEvent(func() *wecom.Event { ev := addEvent("wmA"); ev.UserID = long; return ev }())},
			{"long State", wecom.MarshalEvent(func() *wecom.Event { ev := addEvent("wmA"); ev.State = "c:" + long; return ev }())},
			{"control character", wecom.MarshalEvent(addEvent("wm\x01A"))},
			{"CreateTime max int64", wecom.MarshalEvent(func() *wecom.Event { ev := addEvent("wmA"); ev.CreateTime = math.MaxInt64; return ev }())},
			{"CreateTime negative", wecom.MarshalEvent(func() *wecom.Event { ev := addEvent("wmA"); ev.CreateTime = -1; return ev }())},
			{"CreateTime zero", wecom.MarshalEvent(func() *wecom.Event { ev := addEvent("wmA"); ev.CreateTime = 0; return ev }())},
			{"negative JoinScene", bytes.Replace(wecom.MarshalEvent(addEvent("wmA")), []byte("</xml>"), []byte("<JoinScene>-5</JoinScene></xml>"), 1)},
			{"invalid UTF-8 in a comment", withComment(addEvent("wmA"), "\xff\xfe")},
			{"invalid UTF-8 in a field", wecom.MarshalEvent(addEvent("wm\xc3A"))},
			{"nested 100 deep", nested(100)},
			{"nested 5000 deep", nested(5000)},
			{"doctype", append([]byte(`<!DOCTYPE xml [<!ENTITY a "aaaa">]>`), wecom.MarshalEvent(addEvent("wmA"))...)},
		}
		for _, c := range cases {
			body, sig := e.sealPlain(c.plain)
			if resp := e.postRaw(corpID, body, sig, "1700000000", "n"); resp.StatusCode != http.StatusBadRequest {
				t.Errorf("%s: %d, want 400", c.name, resp.StatusCode)
			}
		}
		// Unsigned hostile envelopes cost a bounded scan and are refused
		// before any signature or decryption work.
		deep := []byte(strings.Repeat("<xml>", 5000) + strings.Repeat("</xml>", 5000))
		if resp := e.postRaw(corpID, deep, "0", "1700000000", "n"); resp.StatusCode != http.StatusBadRequest {
			t.Errorf("deep envelope: %d, want 400", resp.StatusCode)
		}
		big := append([]byte("<xml><Encrypt>"), bytes.Repeat([]byte("A"), service.DefaultMaxCallbackBody)...)
		if resp := e.postRaw(corpID, big, "0", "1700000000", "n"); resp.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("body over the cap: %d, want 413", resp.StatusCode)
		}
		if n := e.count(""); n != 0 {
			t.Fatalf("refused callbacks stored %d events", n)
		}
		// The same message within range is stored.
		ev := addEvent(strings.Repeat("w", 64))
		ev.State = "c:" + strings.Repeat("s", 62)
		body, sig := e.sealPlain(wecom.MarshalEvent(ev))
		if resp := e.postRaw(corpID, body, sig, "1700000000", "n"); resp.StatusCode != http.StatusOK {
			t.Fatalf("in range: %d", resp.StatusCode)
		}
		if n := e.count(""); n != 1 {
			t.Fatalf("stored %d, want 1", n)
		}
	})
}

// heldBody is a request body whose first Read reports that it started and
// then waits for release: a callback that holds its in-flight slot.
type heldBody struct {
	started chan struct{}
	release chan struct{}
	once    bool
}

func (b *heldBody) Read(p []byte) (int, error) {
	if !b.once {
		b.once = true
		close(b.started)
		<-b.release
	}
	return 0, io.EOF
}

// Beyond the in-flight bound a callback is answered 503 with Retry-After
// (WeCom sends it again) without its body being read.
func TestCallbacksBeyondTheInFlightBoundAre503(t *testing.T) {
	st := modeltest.Open(t, "sqlite", nil)
	cb, err := service.NewCallbacks(queue.NewInbox(st, nil), nil, clock.Real{}, service.CallbackLimits{MaxInFlight: 1},
		service.CallbackCorp{ID: corpID, Token: token, AESKey: aesKey})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(handler.New(handler.Deps{Clock: clock.Real{}, Callbacks: cb, Queue: service.NewQueueLog(st), Auth: auth.New(st, clock.Real{})}))
	defer srv.Close()
	held := &heldBody{started: make(chan struct{}), release: make(chan struct{})}
	done := make(chan error, 1)
	go func() {
		_, err := cb.Receive(context.Background(), corpID, service.CallbackQuery{}, held)
		done <- err
	}()
	<-held.started
	cr, _ := wecom.NewCrypter(token, aesKey, corpID)
	body, sig, _ := cr.SealEvent(addEvent("wmBusy"), "1700000000", "n")
	post := func() *http.Response {
		resp, err := http.Post(srv.URL+"/wecom/callback/"+corpID+"?msg_signature="+sig+"&timestamp=1700000000&nonce=n", "text/xml", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := post(); resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("over the bound: %d %v", resp.StatusCode, resp.Header)
	}
	close(held.release)
	<-done
	if resp := post(); resp.StatusCode != http.StatusOK {
		t.Fatalf("after the slot is free: %d", resp.StatusCode)
	}
}
