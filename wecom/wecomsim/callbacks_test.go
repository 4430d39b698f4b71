package wecomsim

import (
	"bytes"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

func TestScanSendsVerifiableAddEvent(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "state": "c:summit-a", "user": []string{"lisi"}})

	res, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{Name: "王小明", UnionID: "u-1"}})
	if err != nil {
		t.Fatal(err)
	}
	if res.UserID != "lisi" || res.State != "c:summit-a" || res.WelcomeCode == "" || res.ExternalUserID == "" {
		t.Fatalf("scan result %+v", res)
	}
	evs := e.waitEvents(1)
	ev := evs[0]
	if ev.ToUserName != testCorp || ev.FromUserName != "sys" || ev.MsgType != "event" ||
		ev.Type() != "change_external_contact/add_external_contact" {
		t.Fatalf("event header %+v", ev)
	}
	if ev.UserID != "lisi" || ev.ExternalUserID != res.ExternalUserID || ev.State != "c:summit-a" ||
		ev.WelcomeCode != res.WelcomeCode || ev.CreateTime != t0.Unix() {
		t.Fatalf("event body %+v", ev)
	}
	d := e.rcv.deliveries()[0]
	if d.query.Get("timestamp") != strconv.FormatInt(t0.Unix(), 10) || d.query.Get("nonce") == "" {
		t.Fatalf("query %v", d.query)
	}

	recs, err := e.ctl.Events(ctx(), EventQuery{Type: "change_external_contact"})
	if err != nil || len(recs) != 1 || recs[0].Status != EventDelivered || recs[0].Attempts != 1 ||
		recs[0].WelcomeCode != res.WelcomeCode {
		t.Fatalf("event records %+v %v", recs, err)
	}
	// A second scan by the same WeChat user (same unionid) is the same customer.
	id2 := e.addWay(map[string]any{"type": 1, "scene": 2, "state": "c:b", "user": []string{"wangwu"}})
	res2, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id2, Customer: Customer{UnionID: "u-1"}})
	if err != nil || res2.ExternalUserID != res.ExternalUserID {
		t.Fatalf("unionid reuse: %+v %v", res2, err)
	}
	// Scanning again a staff member one is already connected to sends nothing.
	again, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{ExternalUserID: res.ExternalUserID}})
	if err != nil || !again.AlreadyFriends || again.WelcomeCode != "" {
		t.Fatalf("rescan: %+v %v", again, err)
	}
	if n := len(e.waitEvents(2)); n != 2 {
		t.Fatalf("%d events", n)
	}
	// A reissued id: the same unionid under a new external_userid, which
	// the unionid names from then on; the old customer stays.
	re, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id2, Customer: Customer{Name: "王小明", UnionID: "u-1", Reissued: true}})
	if err != nil || re.ExternalUserID == res.ExternalUserID || re.AlreadyFriends {
		t.Fatalf("reissued: %+v %v", re, err)
	}
	if c, ok := e.sim.Contact(re.ExternalUserID); !ok || c.ExternalContact.UnionID != "u-1" {
		t.Fatalf("reissued contact: %+v", c)
	}
	if _, ok := e.sim.Contact(res.ExternalUserID); !ok {
		t.Fatal("the first external_userid is gone")
	}
	by, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{UnionID: "u-1"}})
	if err != nil || by.ExternalUserID != re.ExternalUserID {
		t.Fatalf("unionid after the reissue: %+v %v", by, err)
	}
}

func TestResendsSamePayloadUntilAcknowledged(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(func(n int, r *http.Request) (int, string, bool) {
		if n <= 3 {
			return http.StatusInternalServerError, "boom", false
		}
		return http.StatusOK, "", false
	})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	if _, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id}); err != nil {
		t.Fatal(err)
	}
	e.waitEvents(1)
	ds := e.rcv.deliveries()
	if len(ds) != 4 {
		t.Fatalf("%d deliveries, want 4", len(ds))
	}
	for _, d := range ds[1:] {
		if !bytes.Equal(d.body, ds[0].body) || d.query.Encode() != ds[0].query.Encode() {
			t.Fatal("a resend differs from the first delivery")
		}
	}
	attempts, _ := e.ctl.Log(ctx(), LogQuery{Kind: KindCallback})
	if len(attempts) != 4 || attempts[0].Outcome != OutcomeBadStatus || attempts[0].HTTPStatus != 500 ||
		attempts[3].Outcome != OutcomeOK || attempts[3].Attempt != 4 {
		t.Fatalf("attempt log %+v", attempts)
	}
	recs, _ := e.ctl.Events(ctx(), EventQuery{})
	if recs[0].Status != EventDelivered || recs[0].Attempts != 4 {
		t.Fatalf("record %+v", recs[0])
	}
}

func TestAcknowledgedCallbackIsSentOnce(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	if _, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id}); err != nil {
		t.Fatal(err)
	}
	e.waitEvents(1)
	time.Sleep(5 * e.sim.opts.RetryDelay)
	if n := len(e.rcv.deliveries()); n != 1 {
		t.Fatalf("%d deliveries, want 1", n)
	}
}

func TestCallbackGivesUpAfterRetriesAndRejectsOtherBodies(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(func(n int, r *http.Request) (int, string, bool) {
		return http.StatusOK, `{"ok":true}`, false // 200, but not "success" or empty
	})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	waitFor(t, func() bool { return e.sim.PendingCallbacks() == 0 })
	if n := len(e.rcv.deliveries()); n != 4 {
		t.Fatalf("%d deliveries, want 4", n)
	}
	recs, _ := e.ctl.Events(ctx(), EventQuery{Status: EventFailed})
	if len(recs) != 1 {
		t.Fatalf("failed events %+v", recs)
	}
	st, _ := e.ctl.Stats(ctx())
	if st.Callbacks.Failed != 1 || st.Callbacks.Attempts != 4 || st.Callbacks.Pending != 0 {
		t.Fatalf("stats %+v", st.Callbacks)
	}
}

func TestHangingReceiverGetsResend(t *testing.T) {
	e := newEnv(t, Options{CallbackTimeout: 400 * time.Millisecond})
	e.withReceiver(func(n int, r *http.Request) (int, string, bool) {
		return http.StatusOK, "success", n == 1
	})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	start := time.Now()
	e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	e.waitEvents(1)
	if n := len(e.rcv.deliveries()); n != 2 {
		t.Fatalf("%d deliveries, want 2", n)
	}
	if time.Since(start) < 400*time.Millisecond {
		t.Fatal("resent before the timeout")
	}
	log, _ := e.ctl.Log(ctx(), LogQuery{Kind: KindCallback})
	if log[0].Outcome != OutcomeTimeout || log[1].Outcome != OutcomeOK {
		t.Fatalf("log %+v", log)
	}
}

func TestNoCallbackURLDropsEvents(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	waitFor(t, func() bool { return e.sim.PendingCallbacks() == 0 })
	recs, _ := e.ctl.Events(ctx(), EventQuery{})
	if len(recs) != 1 || recs[0].Status != EventDropped {
		t.Fatalf("%+v", recs)
	}
	// Setting the URL later through the control API takes effect.
	e.withReceiver(nil)
	if err := e.ctl.SetCallbackURL(ctx(), e.rcv.srv.URL); err != nil {
		t.Fatal(err)
	}
	e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	e.waitEvents(1)
}

func TestCloseAbandonsPendingResends(t *testing.T) {
	e := newEnv(t, Options{RetryDelay: time.Hour})
	e.withReceiver(func(int, *http.Request) (int, string, bool) { return 500, "", false })
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	waitFor(t, func() bool { return len(e.rcv.deliveries()) == 1 })
	done := make(chan struct{})
	go func() { e.sim.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return")
	}
	recs := e.sim.Events(EventQuery{})
	if recs[0].Status != EventCancelled || e.sim.PendingCallbacks() != 0 {
		t.Fatalf("%+v", recs)
	}
	// Actions after Close still answer, but send nothing.
	if _, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id}); err != nil {
		t.Fatal(err)
	}
	if n := len(e.rcv.deliveries()); n != 1 {
		t.Fatalf("%d deliveries after Close", n)
	}
}

func TestVerifyCallbackURL(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	res, err := e.ctl.VerifyCallback(ctx())
	if err != nil || !res.OK || res.Body != res.Want {
		t.Fatalf("%+v %v", res, err)
	}
	// A receiver that answers with the ciphertext instead fails the check.
	bad := newEnv(t, Options{})
	bad.sim.SetCallbackURL(bad.srv.URL + "/sim/staff")
	res, _ = bad.ctl.VerifyCallback(ctx())
	if res.OK || res.Error == "" {
		t.Fatalf("%+v", res)
	}
}

func TestConcurrentScansAllDelivered(t *testing.T) {
	const n = 1000
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	id := e.addWay(map[string]any{"type": 2, "scene": 2, "state": "c:hall",
		"user": []string{"zhangsan", "lisi", "wangwu", "zhaoliu", "sunqi"}})
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 200}}
	ctl := NewControl(e.srv.URL, hc)
	var wg sync.WaitGroup
	codes := make([]string, n)
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res, err := ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{Name: "guest"}})
			if err != nil {
				errs <- err
				return
			}
			codes[i] = res.WelcomeCode
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	evs := e.waitEvents(n)
	if len(evs) != n {
		t.Fatalf("%d events", len(evs))
	}
	seen := map[string]bool{}
	for _, c := range codes {
		if c == "" || seen[c] {
			t.Fatalf("welcome code %q empty or repeated", c)
		}
		seen[c] = true
	}
	st, _ := e.ctl.Stats(ctx())
	if st.Callbacks.Delivered != n || st.Contacts != n || st.Relations != n {
		t.Fatalf("stats %+v", st)
	}
	for _, ev := range evs {
		if ev.Type() != wecom.EventExternalContact+"/"+wecom.ChangeAddContact || ev.State != "c:hall" {
			t.Fatalf("%+v", ev)
		}
	}
}

// Several callback URLs are several replicas behind WeCom's load balancer:
// each delivery attempt goes to the next in turn, so a replica that is down
// costs an event a resend, not the event.
func TestCallbacksGoRoundSeveralURLs(t *testing.T) {
	e := newEnv(t, Options{})
	down := e.withReceiver(func(int, *http.Request) (int, string, bool) { return http.StatusBadGateway, "", false })
	up := e.withReceiver(nil)
	path := "/wecom/callback/" + e.sim.opts.CorpID
	e.sim.SetCallbackURL(down.srv.URL + path + "," + up.srv.URL + path)
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"zhangsan"}})
	for range 4 {
		if _, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if n := len(e.waitEvents(4)); n != 4 {
		t.Fatalf("%d events reached the replica that is up, want 4", n)
	}
	if len(down.deliveries()) == 0 {
		t.Fatal("no attempt went to the first URL")
	}
	recs, err := e.ctl.Events(ctx(), EventQuery{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if r.Status != EventDelivered {
			t.Fatalf("event %+v", r)
		}
	}
}
