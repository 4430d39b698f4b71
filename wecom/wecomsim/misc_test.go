package wecomsim

import (
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
