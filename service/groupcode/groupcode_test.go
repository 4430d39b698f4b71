package groupcode

import (
	"slices"
	"testing"

	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/explain"
)

func TestDesiredChats(t *testing.T) {
	chat := func(id string, customers int, extra ...func(*model.GroupCodeChat)) model.GroupCodeChat {
		c := model.GroupCodeChat{ChatID: id, Customers: customers, Members: customers + 1}
		for _, f := range extra {
			f(&c)
		}
		return c
	}
	dismissed := func(c *model.GroupCodeChat) { c.Dismissed = true }
	crowded := func(c *model.GroupCodeChat) { c.Members = 200 } // staff count toward WeCom's ceiling
	for _, tc := range []struct {
		name      string
		pool      []model.GroupCodeChat
		threshold int
		written   []string
		want      []string
		dry       bool
	}{
		{"the first five with room, in pool order",
			[]model.GroupCodeChat{chat("a", 3), chat("b", 0), chat("c", 2), chat("d", 1), chat("e", 0), chat("f", 0), chat("g", 0)},
			3, nil, []string{"b", "c", "d", "e", "f"}, false},
		{"fewer than five left", []model.GroupCodeChat{chat("a", 3), chat("b", 3), chat("c", 1)}, 3, nil, []string{"c"}, false},
		{"dismissed groups are skipped", []model.GroupCodeChat{chat("a", 0, dismissed), chat("b", 0)}, 3, nil, []string{"b"}, false},
		{"WeCom's ceiling counts staff too", []model.GroupCodeChat{chat("a", 150, crowded), chat("b", 0)}, 200, nil, []string{"b"}, false},
		{"dry keeps what the way lists", []model.GroupCodeChat{chat("a", 3), chat("b", 3)}, 3, []string{"b"}, []string{"b"}, true},
		{"dry drops a dismissed listed group", []model.GroupCodeChat{chat("a", 3), chat("b", 3, dismissed)}, 3, []string{"b"}, []string{"a"}, true},
		{"dry with nothing written serves the last", []model.GroupCodeChat{chat("a", 3), chat("b", 3)}, 3, nil, []string{"b"}, true},
		{"nothing left at all", []model.GroupCodeChat{chat("a", 0, dismissed)}, 3, []string{"a"}, nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dry := desiredChats(tc.pool, tc.threshold, tc.written)
			if !slices.Equal(got, tc.want) || dry != tc.dry {
				t.Fatalf("desiredChats = %v, %v; want %v, %v", got, dry, tc.want, tc.dry)
			}
		})
	}
}

func TestCurrentChat(t *testing.T) {
	pool := []model.GroupCodeChat{{ChatID: "a", Customers: 3}, {ChatID: "b", Customers: 1}}
	for _, tc := range []struct {
		name    string
		code    model.GroupCode
		want    string
		serving bool
	}{
		{"first listed with room", model.GroupCode{Threshold: 3, ChatList: `["a","b"]`}, "b", false},
		{"dry without auto-create serves the last listed", model.GroupCode{Threshold: 1, ChatList: `["a","b"]`}, "b", true},
		{"dry with auto-create waits for WeCom's new group", model.GroupCode{Threshold: 1, AutoCreate: true, ChatList: `["a","b"]`}, "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, dry := currentChat(&tc.code, pool)
			if got != tc.want || dry != tc.serving {
				t.Fatalf("currentChat = %q, %v; want %q, %v", got, dry, tc.want, tc.serving)
			}
		})
	}
}

// The alerts of a pool with no room read as their messages (the texts
// service/explain's catalogue holds).
func TestDryAlertsHaveTheirMessages(t *testing.T) {
	code := &model.GroupCode{Threshold: 3}
	for _, tc := range []struct {
		chats    []string
		code, zh string
	}{
		{nil, "alert.pool_dismissed", "群池中的群都已解散，加入群聊方式没有可用的群：请添加群"},
		{[]string{"wr1"}, "alert.pool_full", "群池中每个群都已有 3 位及以上客户，活码继续使用 wr1：请添加群或提高阈值"},
	} {
		m := explain.Alert(dryAlert(code, tc.chats))
		if m == nil || m.Code != tc.code || m.In(explain.LangZH) != tc.zh {
			t.Errorf("dryAlert(%v) = %+v, want %s %q", tc.chats, m, tc.code, tc.zh)
		}
	}
	if dryAlert(&model.GroupCode{Threshold: 3, AutoCreate: true}, []string{"wr1"}) != "" {
		t.Error("an auto-create pool has no alert while it serves a group")
	}
}
