package handler_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/handler"
	"github.com/leadgate/scrm-gateway/model/modeltest"
	"github.com/leadgate/scrm-gateway/service"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/wecom"
)

// FuzzCallbackHandler drives the whole callback route with the fuzzed bytes
// as the decrypted message (encrypted and signed as WeCom would, so they
// reach the parser and the store) and as a raw unsigned body. Every answer
// is one of the documented refusals or 200; a 500 (a panic caught by the
// recovery middleware, or a store refusing what ingress let through) fails.
func FuzzCallbackHandler(f *testing.F) {
	for _, ev := range []*wecom.Event{addEvent("wmSeed"), {ToUserName: corpID, CreateTime: 1700000000, MsgType: "event",
		Event: wecom.EventExternalChat, ChangeType: wecom.ChangeChatUpdate, ChatID: "wr1", UpdateDetail: "add_member",
		JoinScene: 3, MemChangeList: &wecom.MemChangeList{Item: []string{"a"}}}} {
		f.Add(wecom.MarshalEvent(ev), false)
		f.Add(wecom.MarshalEvent(ev), true)
	}
	f.Add([]byte("<xml><!-- \xff --><MsgType>event</MsgType><Event>e</Event><CreateTime>1700000000</CreateTime></xml>"), false)
	st := modeltest.Open(f, "sqlite", nil)
	cb, err := service.NewCallbacks(queue.NewInbox(st, nil), nil, clock.Real{}, service.CallbackLimits{},
		service.CallbackCorp{ID: corpID, Token: token, AESKey: aesKey})
	if err != nil {
		f.Fatal(err)
	}
	srv := httptest.NewServer(handler.New(handler.Deps{Clock: clock.Real{}, Callbacks: cb, Queue: service.NewQueueLog(st),
		Auth: auth.New(st, clock.Real{}), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	f.Cleanup(srv.Close)
	cr, _ := wecom.NewCrypter(token, aesKey, corpID)
	f.Fuzz(func(t *testing.T, data []byte, raw bool) {
		body, sig := data, "0"
		if !raw {
			enc, err := cr.Encrypt(data)
			if err != nil {
				t.Fatal(err)
			}
			body, _ = xml.Marshal(wecom.Envelope{ToUserName: corpID, Encrypt: enc})
			sig = cr.Sign("1700000000", "n", enc)
		}
		q := url.Values{"msg_signature": {sig}, "timestamp": {"1700000000"}, "nonce": {"n"}}
		resp, err := http.Post(srv.URL+"/wecom/callback/"+corpID+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		switch resp.StatusCode {
		case 200, 400, 401, 413:
		default:
			t.Fatalf("status %d for %q (raw %v)", resp.StatusCode, data, raw)
		}
	})
}
