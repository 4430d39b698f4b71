package main

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"testing"

	"github.com/leadgate/scrm-gateway/service/groupcode"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

// Every kind of code has an A5 poster at 300 dpi: 1748 × 2480 pixels,
// with WeCom's own QR for a random-mode channel code (fetched from the
// simulator) and the landing page's QR for the others.
func TestPostersForEveryKindOfCode(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		channel := e.createCode(map[string]any{"name": "春季展会", "description": "扫码添加顾问，领取展会资料",
			"roster": roster(member("zhangsan"))})
		precise := e.createCode(map[string]any{"name": "精准", "mode": "precise", "roster": roster(member("zhangsan"))})
		g, err := e.ctl.CreateGroup(e.t.Context(), wecomsim.CreateGroupRequest{Name: "展会群", Owner: "zhangsan"})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		var group groupcode.GroupCode
		if st := e.api("POST", "/api/v1/group-codes", map[string]any{"name": "展会群", "title": "加入展会交流群", "text": "扫码进群",
			"chat_ids": []string{g.ChatID}, "threshold": 100}, &group); st != 201 {
			t.Fatalf("group code: %d", st)
		}
		st := e.createStore("静安店", 31.22, 121.45)
		store := e.createStoreCode(map[string]any{"name": "门店", "title": "到店有礼", "store_ids": []uint64{st.ID}})

		for _, path := range []string{
			fmt.Sprintf("/api/v1/channel-codes/%d/poster.png", channel.ID),
			fmt.Sprintf("/api/v1/channel-codes/%d/poster.png", precise.ID),
			fmt.Sprintf("/api/v1/group-codes/%d/poster.png", group.ID),
			fmt.Sprintf("/api/v1/store-codes/%d/poster.png", store.ID),
		} {
			resp, err := e.get(path)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/png" {
				t.Fatalf("%s: %d %s %.200s", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
			}
			img, err := png.Decode(bytes.NewReader(body))
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			if b := img.Bounds(); b.Dx() != 1748 || b.Dy() != 2480 || !bytes.Contains(body[:64], []byte("pHYs")) {
				t.Fatalf("%s: %v, pHYs %v", path, b, bytes.Contains(body[:64], []byte("pHYs")))
			}
		}
		// Drawn posters are kept by what they show: the same code answers the
		// same poster, and a new name draws a new one.
		fetch := func() []byte {
			resp, err := e.get(fmt.Sprintf("/api/v1/channel-codes/%d/poster.png", channel.ID))
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return b
		}
		first := fetch()
		if again := fetch(); !bytes.Equal(first, again) {
			t.Fatal("the same code drew a different poster")
		}
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/channel-codes/%d", channel.ID), map[string]any{"name": "秋季展会"}, nil); st != 200 {
			t.Fatalf("rename: %d", st)
		}
		if renamed := fetch(); bytes.Equal(first, renamed) {
			t.Fatal("a renamed code kept its old poster")
		}
		if resp, _ := e.get("/api/v1/channel-codes/999/poster.png"); resp.StatusCode != 404 {
			t.Fatalf("poster of no code: %d", resp.StatusCode)
		}
	})
}
