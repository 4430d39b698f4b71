package webhook

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	standardwebhooks "github.com/standard-webhooks/standard-webhooks/libraries/go"
)

// The specification's own test vector.
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func TestSignatureMatchesTheStandardWebhooksVector(t *testing.T) {
	sig, err := Sign(vectorSecret, vectorID, vectorTS, []byte(vectorBody))
	if err != nil || sig != vectorSig {
		t.Fatalf("signature = %q, %v; want %q", sig, err, vectorSig)
	}
	// And the project's own library agrees.
	wh, err := standardwebhooks.NewWebhook(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", fmt.Sprint(vectorTS))
	h.Set("webhook-signature", sig)
	if err := wh.VerifyIgnoringTimestamp([]byte(vectorBody), h); err != nil {
		t.Fatal(err)
	}
	libSig, _ := wh.Sign(vectorID, time.Unix(vectorTS, 0), []byte(vectorBody))
	if libSig != sig {
		t.Fatalf("library signs %q, we sign %q", libSig, sig)
	}
	// A tampered body does not verify.
	if err := wh.VerifyIgnoringTimestamp([]byte(`{"test": 2432232315}`), h); err == nil {
		t.Fatal("tampered body verified")
	}
}

func TestRotationSignsWithBothSecrets(t *testing.T) {
	old, cur := NewSecret(), NewSecret()
	if !strings.HasPrefix(cur, "whsec_") || len(cur) < len("whsec_")+32 {
		t.Fatalf("secret = %q", cur)
	}
	body := []byte(`{"type":"lead.created"}`)
	sig, err := signatureHeader([]string{cur, old}, "msg_1", 1700000000, body)
	if err != nil || len(strings.Split(sig, " ")) != 2 {
		t.Fatalf("header = %q, %v", sig, err)
	}
	h := http.Header{"Webhook-Id": {"msg_1"}, "Webhook-Timestamp": {"1700000000"}, "Webhook-Signature": {sig}}
	for _, s := range []string{old, cur} {
		wh, _ := standardwebhooks.NewWebhook(s)
		if err := wh.VerifyIgnoringTimestamp(body, h); err != nil {
			t.Fatalf("secret %s: %v", s[:10], err)
		}
	}
	wh, _ := standardwebhooks.NewWebhook(NewSecret())
	if err := wh.VerifyIgnoringTimestamp(body, h); err == nil {
		t.Fatal("an unrelated secret verified")
	}
}
