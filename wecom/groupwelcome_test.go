package wecom

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestClientGroupWelcomeRequests(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	body := func(api string) map[string]any {
		t.Helper()
		calls := f.callsTo(api)
		if len(calls) == 0 {
			t.Fatalf("no call to %s", api)
		}
		var m map[string]any
		if err := json.Unmarshal(calls[len(calls)-1].Body, &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	same := func(got map[string]any, want string) {
		t.Helper()
		var w map[string]any
		_ = json.Unmarshal([]byte(want), &w)
		if !reflect.DeepEqual(got, w) {
			b, _ := json.Marshal(got)
			t.Errorf("body\n got %s\nwant %s", b, want)
		}
	}

	// Text only: no attachment objects at all (WeCom answers 40063 to empty
	// ones), notify always sent.
	f.reply(APIAddGroupWelcome, 200, `{"errcode":0,"errmsg":"ok","template_id":"msgT1"}`)
	id, err := c.AddGroupWelcome(ctx, GroupWelcome{Text: "欢迎 & 入群"}, true)
	if err != nil || id != "msgT1" {
		t.Fatalf("%q %v", id, err)
	}
	same(body(APIAddGroupWelcome), `{"text":{"content":"欢迎 & 入群"},"notify":1}`)
	f.reply(APIAddGroupWelcome, 200, `{"errcode":0,"errmsg":"ok","template_id":"msgT2"}`)
	if _, err := c.AddGroupWelcome(ctx, GroupWelcome{Link: &AttachmentLink{Title: "t", URL: "https://e.x/?a=1&b=2"}}, false); err != nil {
		t.Fatal(err)
	}
	same(body(APIAddGroupWelcome), `{"link":{"title":"t","url":"https://e.x/?a=1&b=2"},"notify":0}`)
	if !strings.Contains(string(f.callsTo(APIAddGroupWelcome)[1].Body), "a=1&b=2") {
		t.Error("the link's '&' was escaped")
	}
	f.reply(APIAddGroupWelcome, 200, `{"errcode":0,"errmsg":"ok"}`)
	if _, err := c.AddGroupWelcome(ctx, GroupWelcome{Text: "x"}, true); err == nil {
		t.Error("an answer without template_id was accepted")
	}

	if err := c.EditGroupWelcome(ctx, "msgT1", GroupWelcome{Text: "新"}); err != nil {
		t.Fatal(err)
	}
	same(body(APIEditGroupWelcome), `{"template_id":"msgT1","text":{"content":"新"}}`)

	f.reply(APIGetGroupWelcome, 200, `{"errcode":0,"errmsg":"ok","text":{"content":"hi"},"image":{"media_id":"m1"}}`)
	got, err := c.GetGroupWelcome(ctx, "msgT1")
	if err != nil || !reflect.DeepEqual(got, &GroupWelcome{Text: "hi", Image: &AttachmentImage{MediaID: "m1"}}) {
		t.Fatalf("%+v %v", got, err)
	}
	same(body(APIGetGroupWelcome), `{"template_id":"msgT1"}`)

	if err := c.DeleteGroupWelcome(ctx, "msgT1"); err != nil {
		t.Fatal(err)
	}
	if body(APIDeleteGroupWelcome)["template_id"] != "msgT1" {
		t.Errorf("del body %v", body(APIDeleteGroupWelcome))
	}

	// An unknown template: an APIError GroupWelcomeGone recognises.
	f.reply(APIDeleteGroupWelcome, 200, `{"errcode":40058,"errmsg":"invalid Request Parameter: invalid template_id"}`)
	err = c.DeleteGroupWelcome(ctx, "msgGone")
	if !GroupWelcomeGone(err) || Classify(err) != ActionPermanent {
		t.Fatalf("gone: %v", err)
	}
	if GroupWelcomeGone(&APIError{API: APIDeleteGroupWelcome, Code: CodeInvalidParameter, Msg: "agentid"}) || GroupWelcomeGone(nil) {
		t.Error("GroupWelcomeGone matched another error")
	}

	// Refused before any request.
	n := len(f.callsTo(""))
	for name, call := range map[string]func() error{
		"empty": func() error { _, err := c.AddGroupWelcome(ctx, GroupWelcome{}, true); return err },
		"too long": func() error {
			_, err := c.AddGroupWelcome(ctx, GroupWelcome{Text: strings.Repeat("a", 4001)}, true)
			return err
		},
		"two": func() error {
			return c.EditGroupWelcome(ctx, "m", GroupWelcome{Image: &AttachmentImage{}, Link: &AttachmentLink{}})
		},
		"edit no id": func() error { return c.EditGroupWelcome(ctx, "", GroupWelcome{Text: "x"}) },
		"get no id":  func() error { _, err := c.GetGroupWelcome(ctx, ""); return err },
		"del no id":  func() error { return c.DeleteGroupWelcome(ctx, "") },
	} {
		if err := call(); Classify(err) != ActionPermanent {
			t.Errorf("%s: %v", name, err)
		}
	}
	if len(f.callsTo("")) != n {
		t.Error("an invalid request reached WeCom")
	}
	f.reply(APIAddGroupWelcome, 200, `{"errcode":0,"errmsg":"ok","template_id":"msgT3"}`)
	if _, err := c.AddGroupWelcome(ctx, GroupWelcome{Text: strings.Repeat("a", 4000)}, true); err != nil {
		t.Errorf("4000 bytes: %v", err)
	}
}
