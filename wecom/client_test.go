package wecom

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func markTag(t *testing.T, c *testClient) error {
	t.Helper()
	return c.MarkTag(ctxT(t), "u1", "wm1", []string{"et1"}, nil)
}

func TestClientRefreshesRejectedTokenOnce(t *testing.T) {
	for _, code := range []int{CodeTokenExpired, CodeInvalidToken, CodeInvalidCredential} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := newFakeWeCom(t)
			c := newTestClient(t)
			f.errcode(APIMarkTag, code)

			if err := markTag(t, c); err != nil {
				t.Fatalf("MarkTag after errcode %d: %v", code, err)
			}
			if n := f.tokenCount(); n != 2 {
				t.Errorf("gettoken calls = %d, want 2 (first token, one refresh)", n)
			}
			calls := f.callsTo(APIMarkTag)
			if len(calls) != 2 {
				t.Fatalf("mark_tag calls = %d, want 2 (call, one retry)", len(calls))
			}
			if calls[0].Token == calls[1].Token {
				t.Errorf("retry reused the rejected token")
			}
			stored, ok, _ := c.store.LoadToken(context.Background(), tokenKey(testCorpID, testSecret))
			if !ok || stored.Value != calls[1].Token {
				t.Errorf("store holds %q, want the new token %q", stored.Value, calls[1].Token)
			}
		})
	}
}

func TestClientReturnsSecondTokenErrorWithoutLooping(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	f.errcode(APIMarkTag, CodeTokenExpired, CodeTokenExpired, CodeTokenExpired)

	err := markTag(t, c)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != CodeTokenExpired || ae.API != APIMarkTag {
		t.Fatalf("err = %v, want APIError 42001 from mark_tag", err)
	}
	if !errors.Is(err, &APIError{Code: CodeTokenExpired}) {
		t.Errorf("errors.Is by code failed for %v", err)
	}
	if n := len(f.callsTo(APIMarkTag)); n != 2 {
		t.Errorf("mark_tag calls = %d, want 2", n)
	}
	if n := f.tokenCount(); n != 2 {
		t.Errorf("gettoken calls = %d, want 2", n)
	}
	if got := Classify(err); got != ActionRetry {
		t.Errorf("Classify = %v, want retry", got)
	}
}

func TestClientConcurrentColdCacheFetchesOneToken(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	gate := make(chan struct{})
	f.mu.Lock()
	f.tokenGate = gate
	f.mu.Unlock()

	const callers = 50
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		errs  = make(chan error, callers)
	)
	for range callers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, err := c.GetGroupChat(ctxT(t), "wr1", false)
			errs <- err
		}()
	}
	close(start)
	// Let the callers pile up behind the first gettoken before it answers.
	for f.tokenCount() == 0 {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(gate)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("GetGroupChat: %v", err)
		}
	}
	if n := f.tokenCount(); n != 1 {
		t.Errorf("gettoken calls = %d, want 1", n)
	}
	calls := f.callsTo(APIGetGroupChat)
	if len(calls) != callers {
		t.Fatalf("groupchat/get calls = %d, want %d", len(calls), callers)
	}
	for _, call := range calls {
		if call.Token != f.tokenName(1) {
			t.Fatalf("call used token %q, want %q", call.Token, f.tokenName(1))
		}
	}
}

func TestClientRefreshesTokenNearExpiry(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	key := tokenKey(testCorpID, testSecret)
	ctx := ctxT(t)

	// Another replica saved a token that is valid for 10 more minutes: use it.
	f.mu.Lock()
	f.valid["replica-token-aaaaaaaa"] = true
	f.mu.Unlock()
	if err := c.store.SaveToken(ctx, key, Token{Value: "replica-token-aaaaaaaa", ExpiresAt: c.clock.Now().Add(10 * time.Minute)}); err != nil {
		t.Fatal(err)
	}
	if err := markTag(t, c); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCount(); n != 0 {
		t.Fatalf("gettoken calls = %d, want 0 while the stored token is fresh", n)
	}

	// Six minutes later it is inside the 5-minute margin: fetch anew.
	c.clock.Advance(6 * time.Minute)
	if err := markTag(t, c); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCount(); n != 1 {
		t.Fatalf("gettoken calls = %d, want 1 after nearing expiry", n)
	}
	calls := f.callsTo(APIMarkTag)
	if got := calls[len(calls)-1].Token; got != f.tokenName(1) {
		t.Errorf("call used %q, want the refreshed token", got)
	}
	tok, err := c.Token(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := c.clock.Now().Add(7200 * time.Second); !tok.ExpiresAt.Equal(want) {
		t.Errorf("ExpiresAt = %v, want %v (injected clock + expires_in)", tok.ExpiresAt, want)
	}

	// The new token is used until 5 minutes before its own expiry.
	c.clock.Advance(2*time.Hour - 4*time.Minute)
	if err := markTag(t, c); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCount(); n != 2 {
		t.Errorf("gettoken calls = %d, want 2", n)
	}
}

func TestClientRefreshFailureKeepsUsableToken(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	f.mu.Lock()
	f.valid["replica-token-bbbbbbbb"] = true
	f.mu.Unlock()
	c.store.SaveToken(ctx, tokenKey(testCorpID, testSecret), Token{Value: "replica-token-bbbbbbbb", ExpiresAt: c.clock.Now().Add(time.Minute)})
	f.errcode(APIGetToken, CodeSystemBusy)

	for range 3 {
		if err := markTag(t, c); err != nil {
			t.Fatalf("MarkTag with a failing refresh but a still-valid token: %v", err)
		}
	}
	for _, call := range f.callsTo(APIMarkTag) {
		if call.Token != "replica-token-bbbbbbbb" {
			t.Errorf("used %q, want the still-valid token", call.Token)
		}
	}
	if n := f.tokenCount(); n != 1 {
		t.Errorf("gettoken calls = %d, want 1: a failed refresh is not retried on every call", n)
	}
	// After a short pause the refresh is tried again and succeeds.
	c.clock.Advance(refreshRetry)
	if err := markTag(t, c); err != nil {
		t.Fatal(err)
	}
	calls := f.callsTo(APIMarkTag)
	if got := calls[len(calls)-1].Token; got != f.tokenName(2) {
		t.Errorf("after the pause used %q, want %q", got, f.tokenName(2))
	}
}

func TestClientDropTokenKeepsFreshToken(t *testing.T) {
	ctx := context.Background()
	store := NewMemoryTokenStore()
	key := tokenKey(testCorpID, testSecret)
	fresh := Token{Value: "fresh-token", ExpiresAt: time.Now().Add(time.Hour)}
	store.SaveToken(ctx, key, fresh)
	store.DropToken(ctx, key, "stale-token")
	if got, ok, _ := store.LoadToken(ctx, key); !ok || got != fresh {
		t.Fatalf("after dropping a stale value: %+v, %v; want the fresh token", got, ok)
	}
	store.DropToken(ctx, key, "fresh-token")
	if _, ok, _ := store.LoadToken(ctx, key); ok {
		t.Fatal("dropping the current value left it in the store")
	}
}

// Two replicas share a store. One sees its token rejected and refreshes; the
// other, still holding the old token, must not delete the new one and must
// not fetch a third.
func TestClientReplicasShareRefreshedToken(t *testing.T) {
	f := newFakeWeCom(t)
	store := NewMemoryTokenStore()
	shared := func(cfg *ClientConfig) { cfg.Store = store }
	a := newTestClient(t, shared)
	b := newTestClient(t, shared)

	if err := markTag(t, a); err != nil {
		t.Fatal(err)
	}
	if err := markTag(t, b); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCount(); n != 1 {
		t.Fatalf("gettoken calls = %d, want 1 (b loads a's token from the store)", n)
	}
	f.revoke(f.tokenName(1))

	if err := markTag(t, b); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCount(); n != 2 {
		t.Fatalf("gettoken calls = %d, want 2", n)
	}
	if err := markTag(t, a); err != nil {
		t.Fatal(err)
	}
	if n := f.tokenCount(); n != 2 {
		t.Errorf("gettoken calls = %d, want still 2: a must pick up b's token from the store", n)
	}
	got, ok, _ := store.LoadToken(context.Background(), tokenKey(testCorpID, testSecret))
	if !ok || got.Value != f.tokenName(2) {
		t.Errorf("store holds %q, %v; want %q", got.Value, ok, f.tokenName(2))
	}
}

func TestClientTokenKeyHidesSecret(t *testing.T) {
	k := tokenKey(testCorpID, testSecret)
	if strings.Contains(k, testSecret) || !strings.Contains(k, testCorpID) {
		t.Errorf("key %q must name the corp and not contain the secret", k)
	}
	if k == tokenKey(testCorpID, testSecret+"x") {
		t.Error("a different secret must give a different key")
	}
}

func TestClientBudgetFailsFast(t *testing.T) {
	f := newFakeWeCom(t)
	const n = 3
	c := newTestClient(t, func(cfg *ClientConfig) { cfg.Budget.PerMinute = n })

	for i := range n {
		if err := markTag(t, c); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	before := len(f.callsTo(""))
	tokensBefore := f.tokenCount()
	err := markTag(t, c)
	var be *BudgetError
	if !errors.As(err, &be) || be.API != APIMarkTag || be.Held {
		t.Fatalf("call %d: err = %v, want our own BudgetError", n+1, err)
	}
	if !errors.Is(err, ErrBudgetExhausted) || Classify(err) != ActionDefer {
		t.Errorf("err %v: Is(ErrBudgetExhausted)=%v Classify=%v", err, errors.Is(err, ErrBudgetExhausted), Classify(err))
	}
	if d, ok := RetryAfter(err); !ok || d <= 0 || d > 61*time.Second {
		t.Errorf("RetryAfter = %v, %v", d, ok)
	}
	if got := len(f.callsTo("")); got != before || f.tokenCount() != tokensBefore {
		t.Errorf("a refused call reached the server (%d requests, was %d)", got, before)
	}
	if s := c.Budget(APIMarkTag); s.Remaining() != 0 || s.PerMinute != n {
		t.Errorf("mark_tag budget = %+v, want 0 of %d left", s, n)
	}

	// The welcome message has its own budget.
	if err := c.SendWelcome(ctxT(t), WelcomeMessage{WelcomeCode: "wc", Text: &WelcomeText{Content: "hi"}}); err != nil {
		t.Fatalf("welcome while mark_tag is spent: %v", err)
	}
	if s := c.Budget(APISendWelcomeMsg); s.RemainingMinute != n-1 {
		t.Errorf("welcome budget = %+v, want %d left", s, n-1)
	}
	var found bool
	for _, s := range c.Budgets() {
		if s.API == APIMarkTag {
			found = s.Remaining() == 0
		}
	}
	if !found {
		t.Error("Budgets() does not report mark_tag as spent")
	}

	// The window slides on the injected clock.
	d, _ := RetryAfter(err)
	c.clock.Advance(d)
	if err := markTag(t, c); err != nil {
		t.Fatalf("after RetryAfter: %v", err)
	}
}

func TestClientBudgetHourWindow(t *testing.T) {
	newFakeWeCom(t)
	c := newTestClient(t, func(cfg *ClientConfig) {
		cfg.Budget.PerAPI = map[string]Limit{APIMarkTag: {PerMinute: 100, PerHour: 2}}
	})
	for range 2 {
		if err := markTag(t, c); err != nil {
			t.Fatal(err)
		}
		c.clock.Advance(2 * time.Minute)
	}
	err := markTag(t, c)
	d, ok := RetryAfter(err)
	if Classify(err) != ActionDefer || !ok || d < 50*time.Minute {
		t.Fatalf("third call in the hour: %v (retry after %v)", err, d)
	}
	c.clock.Advance(d)
	if err := markTag(t, c); err != nil {
		t.Fatalf("after the hour: %v", err)
	}
}

func TestClientHoldsAPIAfter45009(t *testing.T) {
	for _, code := range []int{CodeFrequencyLimit, CodeConcurrencyLimit} {
		t.Run(strconv.Itoa(code), func(t *testing.T) {
			f := newFakeWeCom(t)
			c := newTestClient(t)
			f.errcode(APIMarkTag, code)

			err := markTag(t, c)
			var ae *APIError
			if !errors.As(err, &ae) || ae.Code != code || ae.RetryAfter != DefaultHoldFirst {
				t.Fatalf("err = %v, want %d with RetryAfter %v", err, code, DefaultHoldFirst)
			}
			if Classify(err) != ActionDefer {
				t.Errorf("Classify = %v", Classify(err))
			}
			requests := len(f.callsTo(APIMarkTag))

			c.clock.Advance(DefaultHoldFirst / 2)
			err = markTag(t, c)
			var be *BudgetError
			if !errors.As(err, &be) || !be.Held || be.RetryAfter != DefaultHoldFirst/2 {
				t.Fatalf("during the hold: %v, want a held BudgetError with %v left", err, DefaultHoldFirst/2)
			}
			if got := len(f.callsTo(APIMarkTag)); got != requests {
				t.Errorf("a held call reached the server")
			}
			if s := c.Budget(APIMarkTag); s.HeldUntil.IsZero() || s.Remaining() != 0 {
				t.Errorf("status during hold = %+v", s)
			}
			// Other APIs carry on.
			if _, err := c.GetGroupChat(ctxT(t), "wr1", false); err != nil {
				t.Errorf("groupchat/get during mark_tag's hold: %v", err)
			}
			// The probe after the hold succeeds and lifts it at once.
			c.clock.Advance(DefaultHoldFirst / 2)
			if err := markTag(t, c); err != nil {
				t.Fatalf("after the hold: %v", err)
			}
			if s := c.Budget(APIMarkTag); !s.HeldUntil.IsZero() {
				t.Errorf("hold still on after a success: %+v", s)
			}
		})
	}
}

func TestClientHoldGrowsWhileProbesAreRefused(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	f.errcode(APIMarkTag, CodeFrequencyLimit, CodeFrequencyLimit, CodeFrequencyLimit, CodeFrequencyLimit,
		CodeFrequencyLimit, CodeFrequencyLimit, CodeFrequencyLimit, CodeFrequencyLimit)
	want := []time.Duration{1, 2, 4, 8, 16, 32, 60, 60}
	for i, w := range want {
		err := markTag(t, c)
		d, ok := RetryAfter(err)
		if !ok || d != w*time.Second {
			t.Fatalf("refusal %d: %v, want a hold of %v", i+1, err, w*time.Second)
		}
		// Calls during the hold wait for it, and never reach WeCom.
		sent := len(f.callsTo(APIMarkTag))
		c.clock.Advance(d - time.Millisecond)
		if err := markTag(t, c); !errors.Is(err, ErrBudgetExhausted) {
			t.Fatalf("just before the hold ends: %v", err)
		}
		if len(f.callsTo(APIMarkTag)) != sent {
			t.Fatal("a held call reached WeCom")
		}
		c.clock.Advance(time.Millisecond)
	}
	if err := markTag(t, c); err != nil {
		t.Fatalf("probe after the burst: %v", err)
	}
	if err := markTag(t, c); err != nil {
		t.Fatalf("after the hold was lifted: %v", err)
	}
}

func TestClientCallerWithDeadlineProbesHeldAPI(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t, func(cfg *ClientConfig) { cfg.Budget.HoldFirst = 10 * time.Second })
	f.errcode(APISendWelcomeMsg, CodeFrequencyLimit)
	welcome := func(within time.Duration) error {
		ctx := WithAnswerBy(ctxT(t), c.clock.Now().Add(within))
		return c.SendWelcome(ctx, WelcomeMessage{WelcomeCode: "W", Text: &WelcomeText{Content: "hi"}})
	}
	if err := welcome(time.Hour); !errors.Is(err, &APIError{Code: CodeFrequencyLimit}) {
		t.Fatalf("first call: %v", err)
	}
	// A caller that can wait for the hold waits; one whose deadline ends
	// before the hold does goes as the probe once a second has passed.
	c.clock.Advance(time.Second)
	if err := welcome(time.Hour); !errors.Is(err, ErrBudgetExhausted) {
		t.Fatalf("caller with time to wait: %v", err)
	}
	if err := welcome(5 * time.Second); err != nil {
		t.Fatalf("caller whose window ends first: %v", err)
	}
	if got := len(f.callsTo(APISendWelcomeMsg)); got != 2 {
		t.Errorf("send_welcome_msg calls = %d, want 2", got)
	}
	if s := c.Budget(APISendWelcomeMsg); !s.HeldUntil.IsZero() {
		t.Errorf("the probe's success did not lift the hold: %+v", s)
	}
}

func TestClientWelcomeBodyOmitsEmptyAttachments(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	err := c.SendWelcome(ctxT(t), WelcomeMessage{
		WelcomeCode: "WELCOME-1",
		Text:        &WelcomeText{Content: "Hi & welcome <b>"},
		Attachments: []Attachment{
			{Link: &AttachmentLink{Title: "Menu", URL: "https://example.com/m?a=1&b=2"}},
			{MsgType: AttachImage, Image: &AttachmentImage{MediaID: "media-1"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	calls := f.callsTo(APISendWelcomeMsg)
	if len(calls) != 1 {
		t.Fatalf("send_welcome_msg calls = %d", len(calls))
	}
	want := `{"welcome_code":"WELCOME-1","text":{"content":"Hi & welcome <b>"},"attachments":[` +
		`{"msgtype":"link","link":{"title":"Menu","url":"https://example.com/m?a=1&b=2"}},` +
		`{"msgtype":"image","image":{"media_id":"media-1"}}]}`
	if got := string(calls[0].Body); got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}

	// Empty text and no attachments: only the parts that exist are sent.
	if err := c.SendWelcome(ctxT(t), WelcomeMessage{WelcomeCode: "W2", Text: &WelcomeText{}, Attachments: []Attachment{{File: &AttachmentFile{MediaID: "f1"}}}}); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.callsTo(APISendWelcomeMsg)[1].Body), `{"welcome_code":"W2","attachments":[{"msgtype":"file","file":{"media_id":"f1"}}]}`; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
}

func TestClientWelcomeRejectsBadMessages(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	ten := make([]Attachment, 10)
	for i := range ten {
		ten[i] = Attachment{File: &AttachmentFile{MediaID: "f"}}
	}
	for name, m := range map[string]WelcomeMessage{
		"no code":          {Text: &WelcomeText{Content: "hi"}},
		"nothing to send":  {WelcomeCode: "w", Text: &WelcomeText{}},
		"text too long":    {WelcomeCode: "w", Text: &WelcomeText{Content: strings.Repeat("x", 4001)}},
		"ten attachments":  {WelcomeCode: "w", Attachments: ten},
		"empty attachment": {WelcomeCode: "w", Attachments: []Attachment{{MsgType: AttachImage}}},
		"two kinds":        {WelcomeCode: "w", Attachments: []Attachment{{Image: &AttachmentImage{MediaID: "m"}, File: &AttachmentFile{MediaID: "f"}}}},
		"wrong msgtype":    {WelcomeCode: "w", Attachments: []Attachment{{MsgType: AttachVideo, Image: &AttachmentImage{MediaID: "m"}}}},
		"empty image":      {WelcomeCode: "w", Attachments: []Attachment{{Image: &AttachmentImage{}}}},
	} {
		err := c.SendWelcome(ctxT(t), m)
		if !errors.Is(err, ErrInvalidRequest) || Classify(err) != ActionPermanent {
			t.Errorf("%s: err = %v, want a permanent ErrInvalidRequest", name, err)
		}
	}
	if n := len(f.callsTo("")); n != 0 || f.tokenCount() != 0 {
		t.Errorf("invalid messages reached the server: %d calls", n)
	}
}

func assertScrubbed(t *testing.T, where, text string, secrets ...string) {
	t.Helper()
	for _, s := range append(secrets, testSecret) {
		if s != "" && strings.Contains(text, s) {
			t.Errorf("%s leaks %q: %s", where, s, text)
		}
	}
}

func TestClientScrubsNon200Errors(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	tok, err := c.Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}

	// Through silenceper, whose error text carries the full URL.
	f.reply(APIGetContactWay, http.StatusBadGateway, "bad gateway")
	_, err = c.GetContactWay(ctxT(t), "cfg-1")
	var te *TransportError
	if !errors.As(err, &te) || te.StatusCode != http.StatusBadGateway || Classify(err) != ActionRetry {
		t.Fatalf("err = %#v, want a retryable TransportError with status 502", err)
	}
	assertScrubbed(t, "silenceper 502", err.Error(), tok.Value)

	// Through our own request.
	f.reply(APISendWelcomeMsg, http.StatusServiceUnavailable, "busy")
	err = c.SendWelcome(ctxT(t), WelcomeMessage{WelcomeCode: "w", Text: &WelcomeText{Content: "hi"}})
	if !errors.As(err, &te) || te.StatusCode != http.StatusServiceUnavailable || Classify(err) != ActionRetry {
		t.Fatalf("err = %v, want a retryable TransportError with status 503", err)
	}
	assertScrubbed(t, "welcome 503", err.Error(), tok.Value)

	// gettoken itself, whose URL carries the secret.
	c2 := newTestClient(t)
	f.reply(APIGetToken, http.StatusInternalServerError, "oops")
	_, err = c2.Token(ctxT(t))
	if Classify(err) != ActionRetry {
		t.Errorf("gettoken 500: Classify = %v", Classify(err))
	}
	assertScrubbed(t, "gettoken 500", err.Error())
	assertScrubbed(t, "logs", c.logs.String()+c2.logs.String(), tok.Value)
}

func TestClientScrubsNetworkErrors(t *testing.T) {
	// A server that is gone: every request fails in the dial, and the
	// resulting *url.Error names the full URL.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	if err := SetAPIBase(base, &http.Client{Timeout: 5 * time.Second}); err != nil {
		t.Fatal(err)
	}
	c := newTestClient(t)

	_, err = c.Token(ctxT(t))
	if err == nil || Classify(err) != ActionRetry {
		t.Fatalf("gettoken against a closed port: %v", err)
	}
	assertScrubbed(t, "gettoken dial error", err.Error())
	var ne net.Error
	if !errors.As(err, &ne) {
		t.Errorf("the net.Error is lost from the chain: %#v", err)
	}

	// With a cached token, the API call itself fails through silenceper and
	// through our own request.
	const tok = "cached-token-0123456789"
	c.store.SaveToken(context.Background(), tokenKey(testCorpID, testSecret), Token{Value: tok, ExpiresAt: c.clock.Now().Add(time.Hour)})
	_, err = c.GetGroupChat(ctxT(t), "wr1", false)
	if err == nil || Classify(err) != ActionRetry {
		t.Fatalf("groupchat/get against a closed port: %v", err)
	}
	assertScrubbed(t, "silenceper dial error", err.Error(), tok)
	err = c.SendWelcome(ctxT(t), WelcomeMessage{WelcomeCode: "w", Text: &WelcomeText{Content: "hi"}})
	if err == nil {
		t.Fatal("welcome against a closed port succeeded")
	}
	assertScrubbed(t, "welcome dial error", err.Error(), tok)
	for e := error(err); e != nil; e = errors.Unwrap(e) {
		assertScrubbed(t, "wrapped error", e.Error(), tok)
	}
	assertScrubbed(t, "logs", c.logs.String(), tok)
}

func TestClientScrub(t *testing.T) {
	for in, want := range map[string]string{
		`Get "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=S3cr3t": EOF`: `Get "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=***": EOF`,
		"corpsecret=S3cr3t: EOF": "corpsecret=***: EOF",
		"uri=https://x/cgi-bin/a?access_token=TOK&x=1 , statusCode=502": "uri=https://x/cgi-bin/a?access_token=***&x=1 , statusCode=502",
		"ACCESS_TOKEN=abc secret=def":                                   "ACCESS_TOKEN=*** secret=***",
		"next=https%3A%2F%2Fx%2F%3Faccess_token%3DTOK%26a%3Db":          "next=https%3A%2F%2Fx%2F%3Faccess_token%3D***%26a%3Db",
		`{"access_token":"TOK","expires_in":7200}`:                      `{"access_token":"***","expires_in":7200}`,
		"nothing to hide": "nothing to hide",
	} {
		if got := Scrub(in); got != want {
			t.Errorf("Scrub(%q)\n got %q\nwant %q", in, got, want)
		}
	}
}

func TestClientHonoursContext(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	if _, err := c.Token(ctxT(t)); err != nil {
		t.Fatal(err)
	}
	gate := f.gate(APIGetGroupChat)
	defer close(gate)
	welcomeGate := f.gate(APISendWelcomeMsg)
	defer close(welcomeGate)

	for name, call := range map[string]func(ctx context.Context) error{
		"silenceper": func(ctx context.Context) error { _, err := c.GetGroupChat(ctx, "wr1", false); return err },
		"own": func(ctx context.Context) error {
			return c.SendWelcome(ctx, WelcomeMessage{WelcomeCode: "w", Text: &WelcomeText{Content: "hi"}})
		},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		start := time.Now()
		err := call(ctx)
		cancel()
		if !errors.Is(err, context.DeadlineExceeded) || Classify(err) != ActionRetry {
			t.Errorf("%s: err = %v, want DeadlineExceeded, retryable", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: returned after %v", name, d)
		}
	}

	// A cancelled context never reaches the server or spends budget.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	before := c.Budget(APIMarkTag).RemainingMinute
	if err := c.MarkTag(ctx, "u1", "wm1", []string{"t"}, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled MarkTag: %v", err)
	}
	if c.Budget(APIMarkTag).RemainingMinute != before || len(f.callsTo(APIMarkTag)) != 0 {
		t.Error("a cancelled call spent budget or reached the server")
	}
}

func TestClientConfigErrors(t *testing.T) {
	newFakeWeCom(t)
	c := newTestClient(t, func(cfg *ClientConfig) { cfg.Secret = "wrong-secret-0123456789" })
	_, err := c.Token(ctxT(t))
	var ae *APIError
	if !errors.As(err, &ae) || ae.API != APIGetToken || ae.Code != CodeInvalidCredential || Classify(err) != ActionConfig {
		t.Fatalf("wrong secret: %v, want a config-class 40001 from gettoken", err)
	}
	assertScrubbed(t, "error", err.Error(), "wrong-secret-0123456789")

	for name, cfg := range map[string]ClientConfig{
		"no corp":        {Secret: "s"},
		"no secret":      {CorpID: "c"},
		"margin":         {CorpID: "c", Secret: "s", RefreshBefore: 2 * time.Hour},
		"negative limit": {CorpID: "c", Secret: "s", Budget: BudgetConfig{PerMinute: -1}},
		"no clock":       {CorpID: "c", Secret: "s"},
	} {
		if name != "no clock" {
			cfg.Now = time.Now
		}
		if _, err := NewClient(cfg); err == nil {
			t.Errorf("%s: NewClient accepted %+v", name, cfg)
		}
	}
	if err := SetAPIBase("ftp://example.com", nil); err == nil {
		t.Error("SetAPIBase accepted an ftp URL")
	}
}
