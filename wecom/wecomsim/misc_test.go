package wecomsim

import (
	"net/url"
	"testing"
	"time"
)

func TestReadSideAndHousekeeping(t *testing.T) {
	e := newEnv(t, Options{LogLimit: 8})
	id := e.addWay(map[string]any{"type": 2, "scene": 2, "party": []int{1}})
	picked := map[string]bool{}
	for i := 0; i < 40; i++ {
		res, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
		if err != nil {
			t.Fatal(err)
		}
		picked[res.UserID] = true
	}
	// The root department reaches every staff member.
	if len(picked) != 5 {
		t.Fatalf("picked %v", picked)
	}
	if err := e.ctl.WaitCallbacks(ctx()); err != nil {
		t.Fatal(err)
	}
	ways, _ := e.ctl.ContactWays(ctx())
	if len(ways) != 1 || ways[0].Scans != 40 {
		t.Fatalf("%+v", ways)
	}
	all, _ := e.ctl.Contacts(ctx(), "")
	lisi, _ := e.ctl.Contacts(ctx(), "lisi")
	if len(all) != 40 || len(lisi) == 0 || len(lisi) == 40 {
		t.Fatalf("%d contacts, %d of lisi", len(all), len(lisi))
	}
	// The log, events and welcome lists keep the newest LogLimit entries;
	// counters keep counting.
	log, _ := e.ctl.Log(ctx(), LogQuery{})
	evs, _ := e.ctl.Events(ctx(), EventQuery{})
	st, _ := e.ctl.Stats(ctx())
	if len(log) > 10 || len(evs) > 10 || evs[len(evs)-1].ID != 40 || st.Callbacks.Events != 40 || st.Callbacks.Dropped != 40 {
		t.Fatalf("%d log entries, %d events, %+v", len(log), len(evs), st.Callbacks)
	}
	if recent, _ := e.ctl.Log(ctx(), LogQuery{Limit: 2}); len(recent) != 2 || recent[1].Seq != log[len(log)-1].Seq {
		t.Fatalf("%+v", recent)
	}
	r := e.api.get("externalcontact/get_follow_user_list", nil, true)
	if len(r.list("follow_user")) != 5 {
		t.Fatalf("%v", r)
	}
	clock, _ := e.ctl.Clock(ctx())
	lim, _ := e.ctl.Limits(ctx())
	if !clock.Now.Equal(t0) || lim.GroupCapacity != 200 || lim.ContactWayQuota != 500000 {
		t.Fatalf("%+v %+v", clock, lim)
	}
}

func TestOldWelcomeCodesAreForgotten(t *testing.T) {
	clock := &fakeClock{now: t0}
	s, err := New(Options{Seed: 1, Now: clock.Now, LogLimit: 10})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	r := s.st // read under s.mu below
	id := func() string {
		s.mu.Lock()
		defer s.mu.Unlock()
		w := &ContactWay{ConfigID: "w", Type: 1, Scene: 2, User: []string{"lisi"}, SkipVerify: true}
		r.ways[w.ConfigID] = w
		return w.ConfigID
	}()
	first, _ := s.Scan(ScanRequest{ConfigID: id})
	clock.Advance(time.Hour)
	for i := 0; i < 8200; i++ {
		if _, err := s.Scan(ScanRequest{ConfigID: id}); err != nil {
			t.Fatal(err)
		}
	}
	s.mu.Lock()
	_, kept := r.welcomeCodes[first.WelcomeCode]
	n := len(r.welcomeCodes)
	s.mu.Unlock()
	if kept || n > 8200 {
		t.Fatalf("old code kept=%v, %d codes", kept, n)
	}
}

// The address book: department/list and user/list in WeCom's wire format,
// a department alone or with the departments under it.
func TestAddressBookLists(t *testing.T) {
	e := newEnv(t, Options{})
	depts := e.api.get("department/list", nil, true)
	if depts.code() != 0 || len(depts.list("department")) != 3 {
		t.Fatalf("department/list = %v", depts)
	}
	first := depts.list("department")[0].(map[string]any)
	if first["id"].(float64) != 1 || first["name"] != "演示企业" || first["parentid"].(float64) != 0 {
		t.Fatalf("department = %v", first)
	}
	if sub := e.api.get("department/list", url.Values{"id": {"3"}}, true); len(sub.list("department")) != 1 {
		t.Fatalf("department/list?id=3 = %v", sub)
	}
	all := e.api.get("user/list", url.Values{"department_id": {"1"}, "fetch_child": {"1"}}, true)
	if all.code() != 0 || len(all.list("userlist")) != 5 {
		t.Fatalf("user/list of everyone = %v", all)
	}
	u := all.list("userlist")[0].(map[string]any)
	if u["userid"] != "zhangsan" || u["name"] != "张三" || len(u["department"].([]any)) != 1 || u["status"].(float64) != 1 {
		t.Fatalf("user = %v", u)
	}
	if market := e.api.get("user/list", url.Values{"department_id": {"3"}}, true); len(market.list("userlist")) != 3 {
		t.Fatalf("user/list of 市场部 = %v", market)
	}
	if top := e.api.get("user/list", url.Values{"department_id": {"1"}}, true); len(top.list("userlist")) != 0 {
		t.Fatalf("user/list of the top department alone = %v", top)
	}
	if bad := e.api.get("user/list", nil, true); bad.code() != CodeInvalidParam {
		t.Fatalf("user/list without department_id = %v", bad)
	}
}
