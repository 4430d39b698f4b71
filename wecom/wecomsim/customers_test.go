package wecomsim

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

func TestJoinWayFillsGroupsInOrderThenAutoCreates(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	a, err := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Name: "VIP 1", Owner: "zhangsan", Members: []string{"lisi"}})
	if err != nil {
		t.Fatal(err)
	}
	b, _ := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Name: "VIP 2", Owner: "wangwu", Silent: true})
	if _, err := e.ctl.SetLimits(ctx(), Limits{GroupCapacity: 3}); err != nil {
		t.Fatal(err)
	}
	r := e.api.post("externalcontact/groupchat/add_join_way", map[string]any{"scene": 2, "remark": "hall",
		"auto_create_room": 1, "room_base_name": "客服群", "room_base_id": 10,
		"chat_id_list": []string{a.ChatID, b.ChatID}, "state": "g:hall"})
	mustCode(t, r, 0)
	id := r.str("config_id")
	if r.str("qr_code") != "" {
		t.Fatal("add_join_way returns only config_id")
	}
	jw := e.api.post("externalcontact/groupchat/get_join_way", map[string]any{"config_id": id}).obj("join_way")
	qr := jw.str("qr_code")
	if !strings.HasPrefix(qr, e.srv.URL+"/sim/qr/") || jw["auto_create_room"].(float64) != 1 || jw.str("state") != "g:hall" {
		t.Fatalf("%v", jw)
	}

	// A: owner + lisi + 1 customer; B: owner + 2; then new groups of owner + 2.
	want := []struct {
		chat    string
		created bool
	}{{a.ChatID, false}, {b.ChatID, false}, {b.ChatID, false}, {"new10", true}, {"new10", false}, {"new11", true}}
	var results []JoinResult
	for i, w := range want {
		res, err := e.ctl.Join(ctx(), JoinRequest{QRCode: qr, Customer: Customer{Name: "guest"}})
		if err != nil {
			t.Fatal(err)
		}
		results = append(results, res)
		if !strings.HasPrefix(w.chat, "new") && res.ChatID != w.chat || res.CreatedChat != w.created ||
			res.JoinScene != 3 || res.State != "g:hall" {
			t.Fatalf("join %d: %+v", i, res)
		}
	}
	g10, _ := e.ctl.Group(ctx(), results[3].ChatID)
	g11, _ := e.ctl.Group(ctx(), results[5].ChatID)
	if g10.Name != "客服群10" || g11.Name != "客服群11" || g10.Owner != "zhangsan" || results[4].ChatID != g10.ChatID {
		t.Fatalf("auto-created %q %q owner %q", g10.Name, g11.Name, g10.Owner)
	}
	way, _ := e.ctl.JoinWay(ctx(), id)
	if len(way.ChatIDList) != 4 || way.ChatIDList[2] != g10.ChatID || way.Joins != 6 {
		t.Fatalf("%+v", way)
	}

	// groupchat/get shows the member with join_scene 3 and the way's state.
	gc := e.api.post("externalcontact/groupchat/get", map[string]any{"chat_id": a.ChatID, "need_name": 1}).obj("group_chat")
	members := gc.list("member_list")
	if len(members) != 3 || gc.str("owner") != "zhangsan" || gc.str("member_version") != results[0].MemberVersion {
		t.Fatalf("%v", gc)
	}
	m := resp(members[2].(map[string]any))
	if m.str("userid") != results[0].ExternalUserID || m["type"].(float64) != 2 || m["join_scene"].(float64) != 3 ||
		m.str("state") != "g:hall" || m.str("name") != "guest" {
		t.Fatalf("%v", m)
	}
	noName := e.api.post("externalcontact/groupchat/get", map[string]any{"chat_id": a.ChatID}).obj("group_chat")
	if _, ok := resp(noName.list("member_list")[2].(map[string]any))["name"]; ok {
		t.Fatal("name returned without need_name")
	}

	// Callbacks: A's create, each add_member with versions chaining, and a
	// create before the first join of every auto-created group.
	evs := e.waitEvents(1 + 6 + 2)
	perChat := map[string][]string{}
	lastVer := map[string]string{a.ChatID: a.MemberVersion, b.ChatID: b.MemberVersion}
	for _, ev := range evs {
		perChat[ev.ChatID] = append(perChat[ev.ChatID], ev.ChangeType)
		if ev.ChangeType == wecom.ChangeChatCreate {
			if ev.ChatID != a.ChatID {
				// An auto-created group starts at version 1 (the owner).
				lastVer[ev.ChatID] = memberVersion(ev.ChatID, 1)
			}
			continue
		}
		if ev.UpdateDetail != "add_member" || ev.JoinScene != 3 || ev.MemChangeCnt != 1 || ev.MemChangeList == nil ||
			len(ev.MemChangeList.Item) != 1 {
			t.Fatalf("%+v", ev)
		}
		if ev.LastMemVer != lastVer[ev.ChatID] || ev.CurMemVer == ev.LastMemVer {
			t.Fatalf("versions %s -> %s, want from %s", ev.LastMemVer, ev.CurMemVer, lastVer[ev.ChatID])
		}
		lastVer[ev.ChatID] = ev.CurMemVer
	}
	for chat, want := range map[string]string{a.ChatID: "create,update", b.ChatID: "update,update",
		g10.ChatID: "create,update,update", g11.ChatID: "create,update"} {
		if got := strings.Join(perChat[chat], ","); got != want {
			t.Fatalf("events for %s: %s, want %s", chat, got, want)
		}
	}

	// Leaving: del_member with QuitScene, and versions move on.
	lr, err := e.ctl.LeaveGroup(ctx(), LeaveGroupRequest{ChatID: a.ChatID, ExternalUserID: results[0].ExternalUserID, QuitScene: 1})
	if err != nil || lr.MemberCount != 2 {
		t.Fatalf("%+v %v", lr, err)
	}
	evs = e.waitEvents(10)
	leave := evs[9]
	if leave.ChatID != a.ChatID {
		t.Fatalf("%+v", leave)
	}
	if leave.UpdateDetail != "del_member" || leave.QuitScene != 1 || leave.LastMemVer != results[0].MemberVersion ||
		leave.CurMemVer != lr.MemberVersion || leave.MemChangeList.Item[0] != results[0].ExternalUserID {
		t.Fatalf("%+v", leave)
	}
	// The same customer cannot join twice.
	if _, err := e.ctl.Join(ctx(), JoinRequest{ConfigID: id, Customer: Customer{ExternalUserID: results[1].ExternalUserID}}); err == nil {
		t.Fatal("joined twice")
	}
}

func TestJoinWayRotationWithoutAutoCreate(t *testing.T) {
	e := newEnv(t, Options{})
	a, _ := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Owner: "zhangsan", Silent: true})
	b, _ := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Owner: "lisi", Silent: true})
	c, _ := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Owner: "lisi", Silent: true})
	// silenceper sends auto_create_room: 0 when unset; that turns it off.
	r := e.api.post("externalcontact/groupchat/add_join_way", map[string]any{"scene": 2, "auto_create_room": 0,
		"chat_id_list": []string{a.ChatID, b.ChatID}})
	mustCode(t, r, 0)
	id := r.str("config_id")

	full, err := e.ctl.FillGroup(ctx(), a.ChatID, 500)
	if err != nil || len(full.MemberList) != 200 || full.Capacity != 200 {
		t.Fatalf("fill: %d members %v", len(full.MemberList), err)
	}
	res, _ := e.ctl.Join(ctx(), JoinRequest{ConfigID: id})
	if res.ChatID != b.ChatID {
		t.Fatalf("joined %s, want the second group", res.ChatID)
	}
	e.ctl.FillGroup(ctx(), b.ChatID, 500)
	_, err = e.ctl.Join(ctx(), JoinRequest{ConfigID: id})
	if ce, ok := err.(*ControlError); !ok || ce.Status != http.StatusConflict || ce.Code != "groups_full" {
		t.Fatalf("%v", err)
	}
	// The gateway rotates: update_join_way replaces the list.
	mustCode(t, e.api.post("externalcontact/groupchat/update_join_way", map[string]any{"config_id": id, "scene": 2,
		"chat_id_list": []string{c.ChatID}}), 0)
	res, err = e.ctl.Join(ctx(), JoinRequest{ConfigID: id})
	if err != nil || res.ChatID != c.ChatID {
		t.Fatalf("%+v %v", res, err)
	}

	six := []string{a.ChatID, b.ChatID, c.ChatID, a.ChatID + "x", "y", "z"}
	for _, tc := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"config_id": id, "scene": 2, "chat_id_list": six}, CodeInvalidParam},
		{map[string]any{"config_id": id, "scene": 2, "chat_id_list": []string{"wrnope"}}, CodeChatNotFound},
		{map[string]any{"config_id": id, "scene": 0}, CodeInvalidParam},
		{map[string]any{"config_id": id, "scene": 2, "state": strings31()}, CodeInvalidParam},
		{map[string]any{"config_id": "nope", "scene": 2}, CodeInvalidParam},
	} {
		mustCode(t, e.api.post("externalcontact/groupchat/update_join_way", tc.body), tc.want)
	}
	mustCode(t, e.api.post("externalcontact/groupchat/add_join_way", map[string]any{"scene": 2, "chat_id_list": []string{}}),
		CodeInvalidParam)

	list := e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 2})
	if len(list.list("group_chat_list")) != 2 || list.str("next_cursor") != "2" {
		t.Fatalf("%v", list)
	}
	owned := e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 10,
		"owner_filter": map[string]any{"userid_list": []string{"lisi"}}})
	if len(owned.list("group_chat_list")) != 2 {
		t.Fatalf("%v", owned)
	}
	mustCode(t, e.api.post("externalcontact/groupchat/list", map[string]any{}), CodeInvalidParam)

	mustCode(t, e.api.post("externalcontact/groupchat/del_join_way", map[string]any{"config_id": id}), 0)
	mustCode(t, e.api.post("externalcontact/groupchat/get_join_way", map[string]any{"config_id": id}), CodeInvalidParam)
	if err := e.ctl.DismissGroup(ctx(), c.ChatID); err != nil {
		t.Fatal(err)
	}
	mustCode(t, e.api.post("externalcontact/groupchat/get", map[string]any{"chat_id": c.ChatID}), CodeChatNotFound)
}

func TestContactRelationsAndEvents(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "state": "c:booth", "user": []string{"wangwu"}})
	res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{Name: "赵客户", Gender: 2}})
	ext := res.ExternalUserID

	r := e.api.get("externalcontact/get", map[string][]string{"external_userid": {ext}}, true)
	mustCode(t, r, 0)
	ec := r.obj("external_contact")
	fu := resp(r.list("follow_user")[0].(map[string]any))
	if ec.str("name") != "赵客户" || ec["type"].(float64) != 1 || ec["gender"].(float64) != 2 ||
		fu.str("userid") != "wangwu" || fu.str("state") != "c:booth" || fu["add_way"].(float64) != 1 ||
		fu["createtime"].(float64) != float64(t0.Unix()) || fu.str("oper_userid") != ext {
		t.Fatalf("%v", r)
	}
	if _, ok := fu["status"]; ok {
		t.Fatal("simulator-only field leaked")
	}
	mustCode(t, e.api.get("externalcontact/get", map[string][]string{"external_userid": {"wmnobody"}}, true),
		CodeInvalidExternalUser)

	// Tags: catalogue over the API (no callback), then mark_tag.
	add := e.api.post("externalcontact/add_corp_tag", map[string]any{"group_name": "来源", "order": 1,
		"tag": []map[string]any{{"name": "展会"}, {"name": "官网"}}})
	mustCode(t, add, 0)
	tags := add.obj("tag_group").list("tag")
	expo := resp(tags[0].(map[string]any)).str("id")
	web := resp(tags[1].(map[string]any)).str("id")
	mustCode(t, e.api.post("externalcontact/add_corp_tag", map[string]any{"group_name": "来源",
		"tag": []map[string]any{{"name": "展会"}}}), CodeTagNameExists)
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "wangwu", "external_userid": ext,
		"add_tag": []string{expo, web}}), 0)
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "wangwu", "external_userid": ext,
		"remove_tag": []string{web}}), 0)
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "wangwu", "external_userid": ext}),
		CodeInvalidParam)
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "wangwu", "external_userid": ext,
		"add_tag": []string{"etnope"}}), CodeInvalidTagID)
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "lisi", "external_userid": ext,
		"add_tag": []string{expo}}), CodeNoExternalRelation)
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "ghost", "external_userid": ext,
		"add_tag": []string{expo}}), CodeUserNotFound)

	mustCode(t, e.api.post("externalcontact/remark", map[string]any{"userid": "wangwu", "external_userid": ext,
		"remark": strings.Repeat("备", 21)}), CodeInvalidParam)
	mustCode(t, e.api.post("externalcontact/remark", map[string]any{"userid": "wangwu", "external_userid": ext,
		"description": strings.Repeat("d", 151)}), CodeInvalidParam)
	mustCode(t, e.api.post("externalcontact/remark", map[string]any{"userid": "wangwu", "external_userid": ext}),
		CodeInvalidParam)
	mustCode(t, e.api.post("externalcontact/remark", map[string]any{"userid": "wangwu", "external_userid": ext,
		"remark": strings.Repeat("备", 20), "description": "A 级线索", "remark_mobiles": []string{"13800000001"}}), 0)

	c, _ := e.ctl.Contact(ctx(), ext)
	f := c.FollowUser[0]
	if len(f.Tags) != 1 || f.Tags[0].TagID != expo || f.Tags[0].GroupName != "来源" || f.Tags[0].TagName != "展会" ||
		f.Remark != strings.Repeat("备", 20) || f.Description != "A 级线索" || f.Status != RelationActive ||
		f.ConfigID != id || len(f.RemarkMobiles) != 1 {
		t.Fatalf("%+v", f)
	}
	list := e.api.get("externalcontact/list", map[string][]string{"userid": {"wangwu"}}, true)
	if len(list.list("external_userid")) != 1 {
		t.Fatalf("%v", list)
	}

	// Console-side edit: edit_external_contact.
	remark := "老客户"
	if err := e.ctl.EditContact(ctx(), EditContactRequest{UserID: "wangwu", ExternalUserID: ext, Remark: &remark,
		AddTag: []string{web}}); err != nil {
		t.Fatal(err)
	}
	c, _ = e.ctl.Contact(ctx(), ext)
	if c.FollowUser[0].Remark != remark || len(c.FollowUser[0].Tags) != 2 {
		t.Fatalf("%+v", c.FollowUser[0])
	}

	// Customer deletes the staff member: del_follow_user, then 84061.
	if err := e.ctl.DeleteStaff(ctx(), RelationRequest{UserID: "wangwu", ExternalUserID: ext}); err != nil {
		t.Fatal(err)
	}
	mustCode(t, e.api.get("externalcontact/get", map[string][]string{"external_userid": {ext}}, true), CodeNoExternalRelation)
	mustCode(t, e.api.post("externalcontact/remark", map[string]any{"userid": "wangwu", "external_userid": ext,
		"remark": "x"}), CodeNoExternalRelation)

	// Another customer is deleted by staff in a handover.
	res2, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	if err := e.ctl.StaffDeletes(ctx(), StaffDeletesRequest{UserID: "wangwu", ExternalUserID: res2.ExternalUserID,
		Source: "DELETE_BY_TRANSFER"}); err != nil {
		t.Fatal(err)
	}
	if err := e.ctl.StaffDeletes(ctx(), StaffDeletesRequest{UserID: "wangwu", ExternalUserID: res2.ExternalUserID}); err == nil {
		t.Fatal("deleted twice")
	}

	evs := e.waitEvents(5)
	perCustomer := map[string][]string{}
	for _, ev := range evs {
		perCustomer[ev.ExternalUserID] = append(perCustomer[ev.ExternalUserID], ev.ChangeType)
		if ev.ChangeType == wecom.ChangeEditContact && ev.UserID != "wangwu" {
			t.Fatalf("%+v", ev)
		}
		if ev.ChangeType == wecom.ChangeDelContact && ev.Source != "DELETE_BY_TRANSFER" {
			t.Fatalf("%+v", ev)
		}
	}
	if got := strings.Join(perCustomer[ext], ","); got != "add_external_contact,edit_external_contact,del_follow_user" {
		t.Fatalf("%v", got)
	}
	if got := strings.Join(perCustomer[res2.ExternalUserID], ","); got != "add_external_contact,del_external_contact" {
		t.Fatalf("%v", got)
	}
	c, _ = e.ctl.Contact(ctx(), ext)
	if c.FollowUser[0].Status != RelationDeletedByCustomer {
		t.Fatalf("%+v", c.FollowUser[0])
	}

	// Scanning again after deleting makes a fresh relation and event.
	again, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{ExternalUserID: ext}})
	if again.AlreadyFriends || again.WelcomeCode == "" {
		t.Fatalf("%+v", again)
	}
}

func TestHalfAddThenAccept(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "skip_verify": false, "state": "c:v", "user": []string{"lisi"}})
	res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	if res.ChangeType != wecom.ChangeAddHalfContact || res.WelcomeCode == "" {
		t.Fatalf("%+v", res)
	}
	mustCode(t, e.api.get("externalcontact/get", map[string][]string{"external_userid": {res.ExternalUserID}}, true),
		CodeNoExternalRelation)
	// The welcome went out on the half add, so the full add carries none.
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", map[string]any{"welcome_code": res.WelcomeCode,
		"text": map[string]any{"content": "hi"}}), 0)
	acc, err := e.ctl.Accept(ctx(), AcceptRequest{UserID: "lisi", ExternalUserID: res.ExternalUserID})
	if err != nil || acc.WelcomeCode != "" || acc.ChangeType != wecom.ChangeAddContact {
		t.Fatalf("%+v %v", acc, err)
	}
	evs := e.waitEvents(2)
	if evs[0].ChangeType != wecom.ChangeAddHalfContact || evs[1].ChangeType != wecom.ChangeAddContact ||
		evs[1].WelcomeCode != "" || evs[1].State != "c:v" {
		t.Fatalf("%+v %+v", evs[0], evs[1])
	}
	mustCode(t, e.api.get("externalcontact/get", map[string][]string{"external_userid": {res.ExternalUserID}}, true), 0)

	// Without a welcome on the half add, the full add brings a fresh code.
	res2, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	acc2, _ := e.ctl.Accept(ctx(), AcceptRequest{UserID: "lisi", ExternalUserID: res2.ExternalUserID})
	if acc2.WelcomeCode == "" || acc2.WelcomeCode == res2.WelcomeCode {
		t.Fatalf("%+v", acc2)
	}
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", map[string]any{"welcome_code": res2.WelcomeCode,
		"text": map[string]any{"content": "hi"}}), CodeWelcomeAlreadySent)
}

func TestTagCatalogueChanges(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	g, err := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "create", TagType: TagTypeGroup, GroupName: "意向", Name: "高"})
	if err != nil || g.TagType != TagTypeGroup || g.ID == "" {
		t.Fatalf("%+v %v", g, err)
	}
	low, _ := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "create", TagType: TagTypeTag, GroupID: g.ID, Name: "低"})
	if _, err := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "update", ID: low.ID, Name: "中"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "shuffle", ID: g.ID, StrategyID: "9"}); err != nil {
		t.Fatal(err)
	}
	cat, _ := e.ctl.Tags(ctx())
	if len(cat) != 1 || len(cat[0].Tag) != 2 || cat[0].Tag[0].Name != "中" {
		t.Fatalf("%+v", cat)
	}
	// The API sees the console's catalogue.
	list := e.api.post("externalcontact/get_corp_tag_list", map[string]any{"tag_id": []string{low.ID}})
	tg := list.list("tag_group")
	if len(tg) != 1 || len(resp(tg[0].(map[string]any)).list("tag")) != 1 {
		t.Fatalf("%v", list)
	}
	// Deleting a tag removes it from every relation.
	way := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"lisi"}})
	sc, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: way})
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "lisi", "external_userid": sc.ExternalUserID,
		"add_tag": []string{low.ID}}), 0)
	if _, err := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "delete", ID: low.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "delete", ID: g.ID}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.ctl.TagChange(ctx(), TagChangeRequest{ChangeType: "rename"}); err == nil {
		t.Fatal("accepted an unknown change_type")
	}
	if c, _ := e.ctl.Contact(ctx(), sc.ExternalUserID); len(c.FollowUser[0].Tags) != 0 {
		t.Fatalf("deleted tag still on the relation: %+v", c.FollowUser[0].Tags)
	}
	var evs []*wecom.Event
	for _, ev := range e.waitEvents(7) {
		if ev.Event == wecom.EventExternalTag {
			evs = append(evs, ev)
		}
	}
	want := []struct{ change, typ, id string }{
		{"create", "tag_group", g.ID}, {"create", "tag", low.ID}, {"update", "tag", low.ID},
		{"shuffle", "", g.ID}, {"delete", "tag", low.ID}, {"delete", "tag_group", g.ID},
	}
	for i, w := range want {
		ev := evs[i]
		if ev.Event != wecom.EventExternalTag || ev.ChangeType != w.change || ev.TagType != w.typ || ev.ID != w.id {
			t.Fatalf("event %d: %+v, want %+v", i, ev, w)
		}
	}
	if evs[3].StrategyID != "9" {
		t.Fatalf("%+v", evs[3])
	}

	// API-made changes send no callback.
	mustCode(t, e.api.post("externalcontact/add_corp_tag", map[string]any{"group_name": "API", "tag": []map[string]any{{"name": "a"}}}), 0)
	gid := resp(e.api.post("externalcontact/get_corp_tag_list", map[string]any{}).list("tag_group")[0].(map[string]any)).str("group_id")
	mustCode(t, e.api.post("externalcontact/edit_corp_tag", map[string]any{"id": gid, "name": "API2"}), 0)
	mustCode(t, e.api.post("externalcontact/edit_corp_tag", map[string]any{"id": "etnope", "name": "x"}), CodeInvalidTagID)
	mustCode(t, e.api.post("externalcontact/del_corp_tag", map[string]any{}), CodeInvalidParam)
	mustCode(t, e.api.post("externalcontact/del_corp_tag", map[string]any{"group_id": []string{gid}}), 0)
	time.Sleep(20 * time.Millisecond)
	if n := len(e.rcv.events()); n != 7 {
		t.Fatalf("%d events after API-made changes", n)
	}
	if cat, _ := e.ctl.Tags(ctx()); len(cat) != 0 {
		t.Fatalf("%+v", cat)
	}
}

func TestStaffAndControlErrors(t *testing.T) {
	e := newEnv(t, Options{Staff: []Staff{{UserID: "solo", Name: "Solo"}}})
	if err := e.ctl.AddStaff(ctx(), Staff{UserID: "duo"}); err != nil {
		t.Fatal(err)
	}
	staff, _ := e.ctl.Staff(ctx())
	if len(staff) != 2 || staff[1].UserID != "duo" || staff[1].Name != "duo" {
		t.Fatalf("%+v", staff)
	}
	err := e.ctl.AddStaff(ctx(), Staff{UserID: "duo"})
	if ce, ok := err.(*ControlError); !ok || ce.Status != http.StatusConflict {
		t.Fatalf("%v", err)
	}
	_, err = e.ctl.Scan(ctx(), ScanRequest{})
	if ce, ok := err.(*ControlError); !ok || ce.Status != http.StatusBadRequest || ce.Field != "config_id" {
		t.Fatalf("%v", err)
	}
	_, err = e.ctl.Scan(ctx(), ScanRequest{ConfigID: "nope"})
	if ce, ok := err.(*ControlError); !ok || ce.Status != http.StatusNotFound {
		t.Fatalf("%v", err)
	}
	// Unknown fields in control requests are rejected rather than ignored.
	res, _ := http.Post(e.srv.URL+"/sim/scan", "application/json", strings.NewReader(`{"configid":"x"}`))
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("status %d", res.StatusCode)
	}
	res.Body.Close()
	cfg, err := e.ctl.Config(ctx())
	if err != nil || cfg.CorpID != testCorp || cfg.Token != testToken || cfg.WelcomeWindowMS != 20000 {
		t.Fatalf("%+v %v", cfg, err)
	}
}

func TestClockEndpoint(t *testing.T) {
	e := newEnv(t, Options{})
	st, err := e.ctl.AdvanceClock(ctx(), 21*time.Second)
	if err != nil || !st.Now.Equal(t0.Add(21*time.Second)) {
		t.Fatalf("%+v %v", st, err)
	}
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"lisi"}})
	res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	e.ctl.AdvanceClock(ctx(), 21*time.Second)
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", map[string]any{"welcome_code": res.WelcomeCode,
		"text": map[string]any{"content": "late"}}), CodeInvalidWelcomeCode)
}

func TestDefaultsAndGeneratedCredentials(t *testing.T) {
	a, err := New(Options{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, _ := New(Options{Seed: 3})
	defer b.Close()
	ca, cb := a.Config(), b.Config()
	if ca.CorpID != cb.CorpID || ca.EncodingAESKey != cb.EncodingAESKey || len(ca.EncodingAESKey) != 43 ||
		len(ca.Staff) != 5 || ca.WelcomeWindow != 20*time.Second || ca.CallbackRetries != 3 ||
		ca.RateLimitPerMinute != 10000 || ca.TokenTTL != 7200*time.Second {
		t.Fatalf("%+v", ca)
	}
	if _, err := wecom.NewCrypter(ca.Token, ca.EncodingAESKey, ca.CorpID); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Token: "t", EncodingAESKey: "short", CorpID: "c"}); err == nil {
		t.Fatal("accepted a bad EncodingAESKey")
	}
}

// Concurrent joins still reach the gateway in version order per group.
func TestConcurrentJoinsKeepVersionChains(t *testing.T) {
	e := newEnv(t, Options{})
	e.withReceiver(nil)
	a, _ := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Owner: "zhangsan", Silent: true})
	e.ctl.SetLimits(ctx(), Limits{GroupCapacity: 40})
	r := e.api.post("externalcontact/groupchat/add_join_way", map[string]any{"scene": 2, "room_base_name": "hall",
		"chat_id_list": []string{a.ChatID}, "state": "g:c"})
	mustCode(t, r, 0)
	id := r.str("config_id")
	const n = 150
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := e.ctl.Join(ctx(), JoinRequest{ConfigID: id}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	groups, _ := e.ctl.Groups(ctx())
	evs := e.waitEvents(n + len(groups) - 1)
	last := map[string]string{a.ChatID: a.MemberVersion}
	joins := 0
	for _, ev := range evs {
		if ev.ChangeType == wecom.ChangeChatCreate {
			last[ev.ChatID] = memberVersion(ev.ChatID, 1)
			continue
		}
		joins++
		if ev.LastMemVer != last[ev.ChatID] {
			t.Fatalf("group %s: event from %s, want from %s", ev.ChatID, ev.LastMemVer, last[ev.ChatID])
		}
		last[ev.ChatID] = ev.CurMemVer
	}
	if joins != n || len(groups) != 4 {
		t.Fatalf("%d joins over %d groups", joins, len(groups))
	}
	for _, g := range groups {
		if last[g.ChatID] != g.MemberVersion {
			t.Fatalf("group %s ends at %s, callbacks at %s", g.ChatID, g.MemberVersion, last[g.ChatID])
		}
	}
}
