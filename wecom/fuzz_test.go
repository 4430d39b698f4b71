package wecom

import (
	"strings"
	"testing"
)

// FuzzParseEnvelope: any body is refused or parsed without panic, and a
// parsed envelope always carries Encrypt.
func FuzzParseEnvelope(f *testing.F) {
	f.Add([]byte("<xml><ToUserName><![CDATA[ww1]]></ToUserName><Encrypt><![CDATA[AAAA]]></Encrypt></xml>"))
	f.Add([]byte("<xml><Encrypt>x</Encrypt><AgentID>1</AgentID></xml>"))
	f.Add([]byte(strings.Repeat("<xml>", 50)))
	f.Add([]byte("<!DOCTYPE x><xml/>"))
	f.Add([]byte("<xml><!-- \xff --><Encrypt>a</Encrypt></xml>"))
	f.Fuzz(func(t *testing.T, body []byte) {
		env, err := ParseEnvelope(body)
		if err == nil && env.Encrypt == "" {
			t.Fatalf("parsed %q without Encrypt", body)
		}
	})
}

// FuzzCheckEvent: any decrypted payload is refused or parsed, and a parsed
// message can be checked, typed and keyed without panic.
func FuzzCheckEvent(f *testing.F) {
	f.Add(MarshalEvent(&Event{ToUserName: "ww1", FromUserName: "sys", CreateTime: 1700000000, MsgType: "event",
		Event: EventExternalContact, ChangeType: ChangeAddContact, UserID: "zhangsan", ExternalUserID: "wmA", State: "c:x", WelcomeCode: "W"}))
	f.Add(MarshalEvent(&Event{ToUserName: "ww1", CreateTime: 1700000000, MsgType: "event", Event: EventExternalChat,
		ChangeType: ChangeChatUpdate, ChatID: "wr1", UpdateDetail: "add_member", JoinScene: 3, MemChangeList: &MemChangeList{Item: []string{"a", "b"}}}))
	f.Add([]byte("<xml><MsgType>event</MsgType><Event>e</Event><CreateTime>9223372036854775807</CreateTime></xml>"))
	f.Add([]byte("<xml><MsgType>text</MsgType><Content>\xc3</Content></xml>"))
	f.Fuzz(func(t *testing.T, plain []byte) {
		ev, err := ParseEvent(plain)
		if err != nil {
			return
		}
		if ev.Check() == nil && (ev.CreateTime < minCreateTime || len(ev.ExternalUserID) > maxIDBytes) {
			t.Fatalf("checked out of range: %+v", ev)
		}
		_ = ev.Type()
		_ = ev.DedupeKey()
	})
}
