package wecom

import (
	"bytes"
	"crypto/rand"
	"errors"
	"testing"
)

// Official sample from WeCom's callback documentation.
const (
	vecToken    = "QDG6eK"
	vecAESKey   = "jWmYm7qr5nMoAUwZRjGtBxmz3KA1tkAj3ykkR6q2B2C"
	vecReceive  = "wx5823bf96d3bd56c7"
	vecPostTS   = "1409659813"
	vecPostNon  = "1372623149"
	vecPostSig  = "477715d11cdb4164915debcba66cb864d751f3e6"
	vecPostEnc  = "RypEvHKD8QQKFhvQ6QleEB4J58tiPdvo+rtK1I9qca6aM/wvqnLSV5zEPeusUiX5L5X/0lWfrf0QADHHhGd3QczcdCUpj911L3vg3W/sYYvuJTs3TUUkSUXxaccAS0qhxchrRYt66wiSpGLYL42aM6A8dTT+6k4aSknmPj48kzJs8qLjvd4Xgpue06DOdnLxAUHzM6+kDZ+HMZfJYuR+LtwGc2hgf5gsijff0ekUNXZiqATP7PF5mZxZ3Izoun1s4zG4LUMnvw2r+KqCKIw+3IQH03v+BCA9nMELNqbSf6tiWSrXJB3LAVGUcallcrw8V2t9EL4EhzJWrQUax5wLVMNS0+rUPA3k22Ncx4XXZS9o0MBH27Bo6BpNelZpS+/uh9KsNlY6bHCmJU9p8g7m3fVKn28H3KDYA5Pl/T8Z1ptDAVe0lXdQ2YoyyH2uyPIGHBZZIs2pDBS8R07+qN+E7Q=="
	vecGetTS    = "1409659589"
	vecGetNonce = "263014780"
	vecGetSig   = "5c45ff5e21c57e6ad56bac8758b79b1d9ac89fd3"
	vecGetEcho  = "P9nAzCzyDtyTWESHep1vC5X9xho/qYX3Zpb4yKa9SKld1DsH3Iyt3tP3zNdtp+4RPcs8TgAE7OaBO+FZXvnaqQ=="
)

func vecCrypter(t testing.TB) *Crypter {
	t.Helper()
	c, err := NewCrypter(vecToken, vecAESKey, vecReceive)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestOfficialVectorPost(t *testing.T) {
	c := vecCrypter(t)
	if err := c.Verify(vecPostSig, vecPostTS, vecPostNon, vecPostEnc); err != nil {
		t.Fatalf("verify: %v", err)
	}
	msg, err := c.Decrypt(vecPostEnc)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	ev, err := ParseEvent(msg)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	if ev.MsgType != "text" || ev.Content != "hello" || ev.FromUserName != "mycreate" {
		t.Fatalf("unexpected message: %+v", ev)
	}
	if ev.Type() != "msg/text" {
		t.Fatalf("type = %q", ev.Type())
	}
}

func TestOfficialVectorGet(t *testing.T) {
	c := vecCrypter(t)
	if err := c.Verify(vecGetSig, vecGetTS, vecGetNonce, vecGetEcho); err != nil {
		t.Fatalf("verify: %v", err)
	}
	msg, err := c.Decrypt(vecGetEcho)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	if string(msg) != "1616140317555161061" {
		t.Fatalf("echostr = %q", msg)
	}
}

func TestVerifyRejects(t *testing.T) {
	c := vecCrypter(t)
	cases := map[string][4]string{
		"flipped char":  {"477715d11cdb4164915debcba66cb864d751f3e7", vecPostTS, vecPostNon, vecPostEnc},
		"other nonce":   {vecPostSig, vecPostTS, "1", vecPostEnc},
		"other payload": {vecPostSig, vecPostTS, vecPostNon, vecGetEcho},
		"empty":         {"", vecPostTS, vecPostNon, vecPostEnc},
	}
	for name, a := range cases {
		if err := c.Verify(a[0], a[1], a[2], a[3]); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: err = %v, want ErrBadSignature", name, err)
		}
	}
}

func TestRoundTripAcrossBlockBoundaries(t *testing.T) {
	c := vecCrypter(t)
	// receiveid is 18 bytes; with the 20-byte header, message lengths 0..100
	// cover padding values 1..32 several times over.
	seenPad := map[int]bool{}
	for n := 0; n <= 100; n++ {
		msg := make([]byte, n)
		if _, err := rand.Read(msg); err != nil {
			t.Fatal(err)
		}
		enc, err := c.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		got, err := c.Decrypt(enc)
		if err != nil {
			t.Fatalf("len %d: %v", n, err)
		}
		if !bytes.Equal(got, msg) {
			t.Fatalf("len %d: round trip mismatch", n)
		}
		seenPad[blockSize-(20+n+len(vecReceive))%blockSize] = true
	}
	for p := 1; p <= blockSize; p++ {
		if !seenPad[p] {
			t.Errorf("padding value %d never exercised", p)
		}
	}
}

func TestDecryptRejectsForeignReceiver(t *testing.T) {
	other, err := NewCrypter(vecToken, vecAESKey, "ww-someone-else")
	if err != nil {
		t.Fatal(err)
	}
	enc, _ := other.Encrypt([]byte("<xml/>"))
	if _, err := vecCrypter(t).Decrypt(enc); !errors.Is(err, ErrReceiveID) {
		t.Fatalf("err = %v, want ErrReceiveID", err)
	}
}

func TestDecryptRejectsGarbage(t *testing.T) {
	c := vecCrypter(t)
	for _, in := range []string{"", "not base64!", "AAAA", vecPostEnc[:len(vecPostEnc)-24] + "AAAAAAAAAAAAAAAAAAAAAA=="} {
		if _, err := c.Decrypt(in); err == nil {
			t.Errorf("Decrypt(%q) succeeded", in)
		}
	}
}

func TestNewCrypterValidatesKey(t *testing.T) {
	if _, err := NewCrypter(vecToken, "short", vecReceive); err == nil {
		t.Fatal("short key accepted")
	}
	if _, err := NewCrypter("", vecAESKey, vecReceive); err == nil {
		t.Fatal("empty token accepted")
	}
}

func TestEventRoundTripAndDedupe(t *testing.T) {
	e := &Event{ToUserName: "ww1", FromUserName: "sys", CreateTime: 1700000000, MsgType: "event",
		Event: EventExternalChat, ChangeType: ChangeChatUpdate, ChatID: "wrOgQhDgAA", UpdateDetail: "add_member",
		JoinScene: 3, MemChangeCnt: 2, MemChangeList: &MemChangeList{Item: []string{"wmA", "wmB"}},
		LastMemVer: "v1", CurMemVer: "v2"}
	got, err := ParseEvent(MarshalEvent(e))
	if err != nil {
		t.Fatal(err)
	}
	if got.ChatID != e.ChatID || got.JoinScene != 3 || len(got.MemChangeList.Item) != 2 || got.CurMemVer != "v2" {
		t.Fatalf("round trip lost fields: %+v", got)
	}
	if got.DedupeKey() != e.DedupeKey() {
		t.Fatal("dedupe key changed across marshal/parse")
	}
	// Two adds for one staff member in the same second differ only in ExternalUserID.
	a := &Event{ToUserName: "ww1", CreateTime: 1, MsgType: "event", Event: EventExternalContact, ChangeType: ChangeAddContact, UserID: "u", ExternalUserID: "wmA"}
	b := *a
	b.ExternalUserID = "wmB"
	if a.DedupeKey() == b.DedupeKey() {
		t.Fatal("distinct adds share a dedupe key")
	}
}

func TestParseEventRejectsMalformed(t *testing.T) {
	for _, in := range []string{"", "<xml>", "<xml><Event>x</Event></xml>", "<xml><MsgType>event</MsgType></xml>", "{}"} {
		if _, err := ParseEvent([]byte(in)); !errors.Is(err, ErrMalformed) {
			t.Errorf("ParseEvent(%q) err = %v", in, err)
		}
	}
}

func FuzzDecryptAndParse(f *testing.F) {
	f.Add(vecPostEnc)
	f.Add(vecGetEcho)
	f.Add("")
	f.Add("AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=")
	c := vecCrypter(f)
	f.Fuzz(func(t *testing.T, enc string) {
		msg, err := c.Decrypt(enc)
		if err != nil {
			return
		}
		ev, err := ParseEvent(msg)
		if err == nil {
			_ = ev.DedupeKey()
			_ = ev.Type()
		}
	})
}

func FuzzParseEvent(f *testing.F) {
	f.Add([]byte("<xml><MsgType>event</MsgType><Event>x</Event></xml>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		c := vecCrypter(t)
		if ev, err := ParseEvent(b); err == nil {
			_ = ev.DedupeKey()
			got, err := c.Decrypt(c.EncryptWithRandom(make([]byte, 16), b))
			if err != nil || !bytes.Equal(got, b) {
				t.Fatalf("round trip failed: %v", err)
			}
		}
	})
}
