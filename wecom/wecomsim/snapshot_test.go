package wecomsim

import (
	"reflect"
	"testing"
)

// A snapshot taken, written and read back gives a fresh simulator the whole
// corp: its customers with their tagged relations, contact and join ways
// whose QR codes still resolve, group chats and the tag catalogue; the
// restored simulator answers the WeCom API as the first one did.
func TestSnapshotRestoresTheCorp(t *testing.T) {
	e := newEnv(t, Options{})
	way := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"wangwu"}, "state": "c:1"})
	scan, err := e.sim.Scan(ScanRequest{ConfigID: way, Customer: Customer{Name: "王小明", UnionID: "u-1"}})
	if err != nil {
		t.Fatal(err)
	}
	add := e.api.post("externalcontact/add_corp_tag", map[string]any{"group_name": "来源",
		"tag": []map[string]any{{"name": "展会"}}})
	mustCode(t, add, 0)
	tag := resp(add.obj("tag_group").list("tag")[0].(map[string]any)).str("id")
	mustCode(t, e.api.post("externalcontact/mark_tag", map[string]any{"userid": "wangwu", "external_userid": scan.ExternalUserID,
		"add_tag": []string{tag}}), 0)
	g, err := e.sim.CreateGroup(CreateGroupRequest{Name: "VIP", Owner: "wangwu", Silent: true})
	if err != nil {
		t.Fatal(err)
	}
	jr := e.api.post("externalcontact/groupchat/add_join_way", map[string]any{"scene": 2, "chat_id_list": []string{g.ChatID}, "state": "g:1"})
	mustCode(t, jr, 0)
	join := jr.str("config_id")
	if _, err := e.sim.Join(JoinRequest{ConfigID: join, Customer: Customer{Name: "李雷"}}); err != nil {
		t.Fatal(err)
	}

	b, err := MarshalSnapshot(e.sim.Snapshot())
	if err != nil {
		t.Fatal(err)
	}
	snap, err := UnmarshalSnapshot(b)
	if err != nil {
		t.Fatal(err)
	}
	f := newEnv(t, Options{Seed: 7})
	if err := f.sim.Restore(snap); err != nil {
		t.Fatal(err)
	}
	if got, want := f.sim.Snapshot(), e.sim.Snapshot(); !reflect.DeepEqual(got, want) {
		t.Fatalf("restored snapshot differs:\n got %+v\nwant %+v", got, want)
	}
	c := f.api.get("externalcontact/get", map[string][]string{"external_userid": {scan.ExternalUserID}}, true)
	mustCode(t, c, 0)
	fu := resp(c.list("follow_user")[0].(map[string]any))
	if resp(fu.list("tags")[0].(map[string]any)).str("tag_id") != tag {
		t.Fatalf("the relation lost its tag: %v", c)
	}
	mustCode(t, f.api.post("externalcontact/groupchat/get", map[string]any{"chat_id": g.ChatID}), 0)
	jw := f.api.post("externalcontact/groupchat/get_join_way", map[string]any{"config_id": join})
	mustCode(t, jw, 0)
	cw := f.api.post("externalcontact/get_contact_way", map[string]any{"config_id": way})
	mustCode(t, cw, 0)
	if _, err := f.sim.Scan(ScanRequest{QRCode: cw.obj("contact_way").str("qr_code"), Customer: Customer{Name: "新客"}}); err != nil {
		t.Fatalf("scan of a restored QR: %v", err)
	}
	if _, err := f.sim.Join(JoinRequest{QRCode: jw.obj("join_way").str("qr_code"), Customer: Customer{Name: "韩梅梅"}}); err != nil {
		t.Fatalf("join by a restored QR: %v", err)
	}
	mustCode(t, f.api.post("externalcontact/mark_tag", map[string]any{"userid": "wangwu", "external_userid": scan.ExternalUserID,
		"remove_tag": []string{tag}}), 0)
	if err := f.sim.Restore(Snapshot{Version: 99}); err == nil {
		t.Fatal("a snapshot of another version was read")
	}
}
