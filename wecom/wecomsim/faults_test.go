package wecomsim

import (
	"net/http"
	"net/url"
	"testing"
	"time"
)

func TestFaultByCount(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"lisi"}})
	res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	if _, err := e.ctl.AddFault(ctx(), Fault{API: "send_welcome_msg", ErrCode: CodeSystemBusy, Count: 2}); err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"welcome_code": res.WelcomeCode, "text": map[string]any{"content": "hi"}}
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", body), CodeSystemBusy)
	// Other APIs are untouched.
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", body), CodeSystemBusy)
	// The faulted calls did not spend the code.
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", body), 0)
	if fs, _ := e.ctl.Faults(ctx()); len(fs) != 0 {
		t.Fatalf("spent fault still listed: %+v", fs)
	}
	log, _ := e.ctl.Log(ctx(), LogQuery{API: "send_welcome_msg"})
	if len(log) != 3 || !log[0].Fault || !log[1].Fault || log[2].Fault || log[2].ErrCode != 0 {
		t.Fatalf("%+v", log)
	}
	st, _ := e.ctl.Stats(ctx())
	if w := st.APIs["externalcontact/send_welcome_msg"]; w.Calls != 3 || w.ByErrCode["-1"] != 2 || w.ByErrCode["0"] != 1 {
		t.Fatalf("%+v", w)
	}
}

func TestFaultByProbabilityIsSeeded(t *testing.T) {
	run := func() []int {
		e := newEnv(t, Options{Seed: 99})
		e.api.fetchToken()
		if _, err := e.ctl.AddFault(ctx(), Fault{API: "get_corp_tag_list", ErrCode: CodeRateLimited, Probability: 0.3}); err != nil {
			t.Fatal(err)
		}
		var codes []int
		for i := 0; i < 200; i++ {
			codes = append(codes, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}).code())
		}
		fs, _ := e.ctl.Faults(ctx())
		n := 0
		for _, c := range codes {
			if c == CodeRateLimited {
				n++
			}
		}
		if n < 35 || n > 90 || fs[0].Fired != n {
			t.Fatalf("%d of 200 faulted (fired %d)", n, fs[0].Fired)
		}
		return codes
	}
	a, b := run(), run()
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("call %d differs across sims with one seed", i)
		}
	}
}

func TestFaultHTTPStatusLatencyAndWildcard(t *testing.T) {
	e := newEnv(t, Options{})
	e.api.fetchToken()
	if _, err := e.ctl.SetFaults(ctx(), Fault{API: "*", HTTPStatus: http.StatusBadGateway, Count: 1}); err != nil {
		t.Fatal(err)
	}
	status, _ := e.api.do(http.MethodPost, "externalcontact/groupchat/list", nil, []byte(`{"limit":1}`), "", true)
	if status != http.StatusBadGateway {
		t.Fatalf("status %d", status)
	}
	mustCode(t, e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 1}), 0)

	// Latency alone delays the call, which then succeeds.
	e.ctl.SetFaults(ctx(), Fault{API: "groupchat/list", LatencyMS: 150})
	start := time.Now()
	mustCode(t, e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 1}), 0)
	if time.Since(start) < 150*time.Millisecond {
		t.Fatal("latency fault did not delay")
	}
	// SetFaults replaced the earlier set; ClearFaults empties it.
	if fs, _ := e.ctl.Faults(ctx()); len(fs) != 1 || fs[0].LatencyMS != 150 || fs[0].Fired != 1 {
		t.Fatalf("%+v", fs)
	}
	if err := e.ctl.ClearFaults(ctx()); err != nil {
		t.Fatal(err)
	}
	start = time.Now()
	e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 1})
	if time.Since(start) > 100*time.Millisecond {
		t.Fatal("cleared fault still delays")
	}

	// A token fault never applies to gettoken itself.
	e.ctl.SetFaults(ctx(), Fault{API: "*", ErrCode: CodeTokenExpired})
	r := e.api.get("gettoken", url.Values{"corpid": {testCorp}, "corpsecret": {testSecret}}, false)
	mustCode(t, r, 0)
	e.api.token = r.str("access_token")
	mustCode(t, e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 1}), CodeTokenExpired)
	e.ctl.ClearFaults(ctx())

	for _, bad := range []Fault{{}, {API: "*"}, {API: "*", HTTPStatus: 200}, {API: "*", ErrCode: -1, Probability: 2}} {
		if _, err := e.ctl.AddFault(ctx(), bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
}
