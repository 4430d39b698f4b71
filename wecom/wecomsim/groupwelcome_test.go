package wecomsim

import (
	"strings"
	"testing"
)

func TestGroupWelcomeTemplates(t *testing.T) {
	e := newEnv(t, Options{})
	const base = "externalcontact/group_welcome_template/"

	// Add: text alone (no empty attachment objects), notify defaults to 1.
	r := e.api.post(base+"add", map[string]any{"text": map[string]any{"content": "欢迎入群"}})
	mustCode(t, r, 0)
	id := r.str("template_id")
	if id == "" {
		t.Fatalf("%v", r)
	}
	tpl, err := e.ctl.GroupWelcomeTemplate(ctx(), id)
	if err != nil || tpl.Text == nil || tpl.Text.Content != "欢迎入群" || tpl.Notify != 1 || tpl.Edits != 0 {
		t.Fatalf("%+v %v", tpl, err)
	}

	// What WeCom refuses on add.
	img := e.upload("image", "a.png", pngBytes(t))
	for _, c := range []struct {
		body map[string]any
		want int
	}{
		{map[string]any{"text": map[string]any{"content": strings.Repeat("字", 1334)}}, CodeContentTooLong}, // 4002 bytes
		{map[string]any{"text": map[string]any{"content": ""}}, CodeEmptyContent},
		{map[string]any{"text": map[string]any{"content": "x"}, "image": map[string]any{}}, CodeEmptyParam},
		{map[string]any{"image": map[string]any{"media_id": img}, "link": map[string]any{"title": "t", "url": "https://e.x"}}, CodeInvalidParam},
		{map[string]any{"link": map[string]any{"title": "t"}}, CodeEmptyParam},
		{map[string]any{"image": map[string]any{"media_id": "3nope"}}, CodeInvalidMediaID},
		{map[string]any{"text": map[string]any{"content": "x"}, "notify": 2}, CodeInvalidParam},
		{map[string]any{"text": "x"}, CodeBadJSON},
	} {
		mustCode(t, e.api.post(base+"add", c.body), c.want)
	}
	// Exactly 4000 bytes and an attachment are fine; notify 0 is kept.
	r = e.api.post(base+"add", map[string]any{"text": map[string]any{"content": strings.Repeat("a", 4000)},
		"image": map[string]any{"media_id": img}, "notify": 0})
	mustCode(t, r, 0)
	second := r.str("template_id")

	// Get answers the content.
	got := e.api.post(base+"get", map[string]any{"template_id": id})
	mustCode(t, got, 0)
	if got.obj("text").str("content") != "欢迎入群" {
		t.Fatalf("%v", got)
	}

	// Edit replaces what it carries; nulls (as some SDKs send) keep the rest.
	mustCode(t, e.api.post(base+"edit", map[string]any{"template_id": id, "text": map[string]any{"content": "新欢迎语"},
		"image": nil, "link": nil}), 0)
	tpl, _ = e.ctl.GroupWelcomeTemplate(ctx(), id)
	if tpl.Text.Content != "新欢迎语" || tpl.Edits != 1 {
		t.Fatalf("after edit: %+v", tpl)
	}
	mustCode(t, e.api.post(base+"edit", map[string]any{"template_id": id,
		"text": map[string]any{"content": strings.Repeat("a", 4001)}}), CodeContentTooLong)

	// Missing and unknown template ids, on every call that takes one.
	for _, api := range []string{"edit", "get", "del"} {
		mustCode(t, e.api.post(base+api, map[string]any{"text": map[string]any{"content": "x"}}), CodeEmptyParam)
		r := e.api.post(base+api, map[string]any{"template_id": "msgNOPE", "text": map[string]any{"content": "x"}})
		mustCode(t, r, CodeInvalidParam)
		if !strings.Contains(r.str("errmsg"), "template_id") {
			t.Fatalf("%s: errmsg %q does not name template_id", api, r.str("errmsg"))
		}
	}

	all, err := e.ctl.GroupWelcomeTemplates(ctx())
	if err != nil || len(all) != 2 || all[0].TemplateID != id || all[1].TemplateID != second || all[1].Notify != 0 ||
		len(all[1].Image) == 0 {
		t.Fatalf("%+v %v", all, err)
	}

	// Del removes it: a second del is an unknown id.
	mustCode(t, e.api.post(base+"del", map[string]any{"template_id": id}), 0)
	mustCode(t, e.api.post(base+"del", map[string]any{"template_id": id}), CodeInvalidParam)
	if _, err := e.ctl.GroupWelcomeTemplate(ctx(), id); err == nil {
		t.Fatal("deleted template still served by the control API")
	}
	if all, _ := e.ctl.GroupWelcomeTemplates(ctx()); len(all) != 1 {
		t.Fatalf("%+v", all)
	}
}

func TestStaffJoinsThroughAJoinWay(t *testing.T) {
	e := newEnv(t, Options{})
	rc := e.withReceiver(nil)
	g, err := e.ctl.CreateGroup(ctx(), CreateGroupRequest{Name: "员工群", Owner: "zhangsan", Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	r := e.api.post("externalcontact/groupchat/add_join_way", map[string]any{"scene": 2, "chat_id_list": []string{g.ChatID}, "state": "g:x"})
	mustCode(t, r, 0)
	res, err := e.ctl.Join(ctx(), JoinRequest{ConfigID: r.str("config_id"), UserID: "lisi"})
	if err != nil || res.UserID != "lisi" || res.ExternalUserID != "" || res.ChatID != g.ChatID {
		t.Fatalf("%+v %v", res, err)
	}
	got, _ := e.ctl.Group(ctx(), g.ChatID)
	last := got.MemberList[len(got.MemberList)-1]
	if last.UserID != "lisi" || last.Type != 1 || last.State != "g:x" || last.JoinScene != 3 {
		t.Fatalf("%+v", last)
	}
	evs := rc.events()
	waitFor(t, func() bool { evs = rc.events(); return len(evs) == 1 })
	if evs[0].UpdateDetail != "add_member" || evs[0].MemChangeList == nil || evs[0].MemChangeList.Item[0] != "lisi" {
		t.Fatalf("%+v", evs[0])
	}
	if _, err := e.ctl.Join(ctx(), JoinRequest{ConfigID: r.str("config_id"), UserID: "nobody"}); err == nil {
		t.Fatal("an unknown staff member joined")
	}
}
