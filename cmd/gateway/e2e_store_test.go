package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/leadgate/scrm-gateway/service/contact"
	"github.com/leadgate/scrm-gateway/service/storecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/wecom/wecomsim"
)

func (e *e2e) createStore(name string, lat, lng float64, extra ...any) storecode.RetailStore {
	e.t.Helper()
	body := map[string]any{"name": name, "latitude": lat, "longitude": lng, "province": "上海市", "city": "上海市",
		"staff": roster(member("zhangsan"), member("lisi"))}
	for i := 0; i+1 < len(extra); i += 2 {
		body[extra[i].(string)] = extra[i+1]
	}
	var st storecode.RetailStore
	if code := e.api("POST", "/api/v1/stores", body, &st); code != 201 {
		e.t.Fatalf("create store %s: %d", name, code)
	}
	return st
}

func (e *e2e) createStoreCode(body map[string]any) storecode.StoreCode {
	e.t.Helper()
	var c storecode.StoreCode
	var raw map[string]any
	if st := e.api("POST", "/api/v1/store-codes", body, &raw); st != 201 {
		e.t.Fatalf("create store code: %d %v", st, raw)
	}
	e.api("GET", fmt.Sprintf("/api/v1/store-codes/%d", uint64(raw["id"].(float64))), nil, &c)
	return c
}

// nearest calls the public endpoint and returns the status and the result
// (or the error body).
func (e *e2e) nearest(slug, query string) (int, storecode.NearestResult, string) {
	e.t.Helper()
	resp, err := http.Get(e.base + "/s/" + slug + "/nearest?" + query)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var res storecode.NearestResult
	if resp.StatusCode == 200 {
		if err := jsonUnmarshal(b, &res); err != nil {
			e.t.Fatal(err)
		}
	}
	return resp.StatusCode, res, string(b)
}

type hitWant struct {
	store uint64
	m     float64
}

func checkHits(t *testing.T, what string, res storecode.NearestResult, fallback bool, want ...hitWant) {
	t.Helper()
	if res.Fallback != fallback || len(res.Stores) != len(want) {
		t.Fatalf("%s: fallback=%v stores=%+v, want %v", what, res.Fallback, res.Stores, want)
	}
	for i, w := range want {
		h := res.Stores[i]
		if h.StoreID != w.store || h.DistanceM == nil || math.Abs(*h.DistanceM-w.m) > 0.06 || h.QRCode == "" {
			t.Fatalf("%s: stores[%d] = %+v (%v m), want store %d at %.1f m", what, i, h, *h.DistanceM, w.store, w.m)
		}
	}
}

// Nearest-store ordering against distances computed independently (see
// service/geo_test.go), across the 180° meridian and near the pole; the
// radius and the fallback; bad coordinates; each store's own code
// attributing scans, adds and joins to that store.
func TestStoreCodeNearestRadiusFallbackAndAttribution(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		group, err := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "陆家嘴门店群", Owner: "lisi"})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		square := e.createStore("人民广场店", 31.2304, 121.4737, "address", "黄浦区人民大道1号")
		lujiazui := e.createStore("陆家嘴店", 31.2397, 121.4998, "group_chat_id", group.ChatID)
		beijing := e.createStore("天安门店", 39.9087, 116.3975, "province", "北京市", "city", "北京市")
		fijiEast := e.createStore("斐济东店", -17, 179.9)
		fijiWest := e.createStore("斐济西店", -17, -179.9)
		pole0 := e.createStore("北极零度站", 89.95, 0)
		pole180 := e.createStore("北极一八零站", 89.95, 180)

		city := e.createStoreCode(map[string]any{"name": "门店活码", "title": "找到离您最近的门店",
			"store_ids": []uint64{square.ID, lujiazui.ID, beijing.ID}, "radius_m": 10000, "fallback_store_id": beijing.ID})
		if len(city.Stores) != 3 || city.Offer != storecode.OfferStaff || city.RadiusM != 10000 {
			t.Fatalf("code = %+v", city)
		}
		for _, s := range city.Stores {
			if !strings.HasPrefix(s.State, "s:") || len(s.State) > 30 || s.ConfigID == "" || s.QRCode == "" {
				t.Fatalf("store way = %+v", s)
			}
			codeID, storeID, ok := e.gw.stores.ByState(e2eCorp, s.State)
			if !ok || codeID != city.ID || storeID != s.StoreID {
				t.Fatalf("ByState(%s) = %d, %d, %v", s.State, codeID, storeID, ok)
			}
			way, err := e.ctl.ContactWay(ctx, s.ConfigID)
			if err != nil || way.State != s.State || strings.Join(way.User, ",") != "lisi,zhangsan" {
				t.Fatalf("contact way = %+v, %v", way, err)
			}
		}

		st, res, body := e.nearest(city.Slug, "lat=31.2304&lng=121.4737")
		if st != 200 {
			t.Fatalf("nearest: %d %s", st, body)
		}
		checkHits(t, "at People's Square", res, false, hitWant{square.ID, 0}, hitWant{lujiazui.ID, 2688.4})
		_, res, _ = e.nearest(city.Slug, "lat=23.13&lng=113.26") // Guangzhou: nothing within 10 km
		checkHits(t, "in Guangzhou", res, true, hitWant{beijing.ID, 1888904.6})
		_, res, _ = e.nearest(city.Slug, "lat=39.9087&lng=116.3975")
		checkHits(t, "in Beijing", res, false, hitWant{beijing.ID, 0})

		far := e.createStoreCode(map[string]any{"name": "边远站点", "radius_m": 50000,
			"store_ids": []uint64{fijiEast.ID, fijiWest.ID, pole0.ID, pole180.ID}})
		_, res, _ = e.nearest(far.Slug, "lat=-17&lng=179.95")
		checkHits(t, "east of the meridian", res, false, hitWant{fijiEast.ID, 5316.8}, hitWant{fijiWest.ID, 15950.5})
		_, res, _ = e.nearest(far.Slug, "lat=-17&lng=-179.99")
		checkHits(t, "west of the meridian", res, false, hitWant{fijiWest.ID, 9570.3}, hitWant{fijiEast.ID, 11697.0})
		_, res, _ = e.nearest(far.Slug, "lat=90&lng=0")
		checkHits(t, "at the pole (a tie, by id)", res, false, hitWant{pole0.ID, 5559.8}, hitWant{pole180.ID, 5559.8})
		_, res, _ = e.nearest(far.Slug, "lat=89.99&lng=180")
		checkHits(t, "across the pole", res, false, hitWant{pole180.ID, 4447.8}, hitWant{pole0.ID, 6671.7})
		_, res, _ = e.nearest(far.Slug, "lat=0&lng=0")
		checkHits(t, "no fallback", res, false)

		for _, tc := range []struct{ query, field string }{
			{"lng=121.47", "lat"}, {"lat=31.23", "lng"}, {"lat=abc&lng=121.47", "lat"}, {"lat=NaN&lng=121.47", "lat"},
			{"lat=91&lng=121.47", "lat"}, {"lat=31.23&lng=-180.5", "lng"}, {"lat=31.23&lng=Inf", "lng"},
			{"lat=31.23&lng=121.47&coord=bd09", "coord"},
		} {
			st, _, body := e.nearest(city.Slug, tc.query)
			if st != 400 || !strings.Contains(body, `"field":"`+tc.field+`"`) {
				t.Fatalf("%s: %d %s, want 400 on %s", tc.query, st, body, tc.field)
			}
		}
		if st, _, _ := e.nearest("nosuchcode", "lat=1&lng=1"); st != 404 {
			t.Fatalf("unknown code: %d", st)
		}

		// The city picker's answer, and the landing page itself.
		resp, _ := http.Get(e.base + "/s/" + city.Slug + "/stores?city=" + "%E5%8C%97%E4%BA%AC%E5%B8%82")
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "天安门店") || strings.Contains(string(b), "人民广场店") {
			t.Fatalf("city picker: %d %s", resp.StatusCode, b)
		}
		resp, _ = http.Get(e.base + "/s/" + city.Slug)
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || !strings.Contains(string(b), "找到离您最近的门店") || !strings.Contains(string(b), "北京市 北京市（1家）") {
			t.Fatalf("landing: %d %s", resp.StatusCode, b)
		}

		// A customer scans the nearest store's own code: the add carries the
		// pair's state, so it counts for that store.
		_, res, _ = e.nearest(city.Slug, "lat=31.2397&lng=121.4998")
		if res.Stores[0].StoreID != lujiazui.ID {
			t.Fatalf("nearest at Lujiazui = %+v", res.Stores)
		}
		add, err := e.ctl.Scan(ctx, wecomsim.ScanRequest{QRCode: res.Stores[0].QRCode, Customer: wecomsim.Customer{Name: "门店客户"}})
		if err != nil {
			t.Fatal(err)
		}
		e.idle()
		rels, _ := e.gw.store.RelationsOf(ctx, e2eCorp, add.ExternalUserID)
		if len(rels) != 1 || rels[0].State != city.Stores[1].State {
			t.Fatalf("relation = %+v, want state %s", rels, city.Stores[1].State)
		}
		if ct, err := e.gw.store.ContactByExternalID(ctx, e2eCorp, add.ExternalUserID); err != nil || ct.Source != webhook.SourceStore {
			t.Fatalf("store add contact = %+v %v, want source store", ct, err)
		}
		if l := e.leadOf(add.ExternalUserID); l.Source.Kind != webhook.SourceStore || l.Source.StoreID != lujiazui.ID {
			t.Fatalf("store add lead source = %+v", l.Source)
		}

		// Offering groups: the store with a group shows its join QR; the
		// others still show their staff.
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/store-codes/%d", city.ID), map[string]any{"offer": "group"}, nil); st != 200 {
			t.Fatalf("patch offer: %d", st)
		}
		e.idle()
		_, res, _ = e.nearest(city.Slug, "lat=31.2397&lng=121.4998")
		if res.Stores[0].Offer != storecode.OfferGroup || res.Stores[1].Offer != storecode.OfferStaff {
			t.Fatalf("offers = %+v", res.Stores)
		}
		joined, err := e.ctl.Join(ctx, wecomsim.JoinRequest{QRCode: res.Stores[0].QRCode, Customer: wecomsim.Customer{Name: "进群客户"}})
		if err != nil || joined.ChatID != group.ChatID {
			t.Fatalf("join = %+v, %v", joined, err)
		}
		e.idle()
		c, err := e.gw.store.ContactByExternalID(ctx, e2eCorp, joined.ExternalUserID)
		if err != nil {
			t.Fatal(err)
		}
		var detail struct {
			Timeline []contact.TimelineView `json:"timeline"`
		}
		e.api("GET", fmt.Sprintf("/api/v1/contacts/%d", c.ID), nil, &detail)
		if len(detail.Timeline) != 1 || detail.Timeline[0].Kind != "joined_group" || detail.Timeline[0].CodeID != city.ID {
			t.Fatalf("timeline = %+v", detail.Timeline)
		}

		var stats storecode.StoreCodeStats
		if st := e.api("GET", fmt.Sprintf("/api/v1/store-codes/%d/stats", city.ID), nil, &stats); st != 200 {
			t.Fatalf("stats: %d", st)
		}
		lj, sq, bj := stats.Stores[lujiazui.ID], stats.Stores[square.ID], stats.Stores[beijing.ID]
		if lj == nil || sq == nil || bj == nil || *lj != (storecode.StoreTotals{Scans: 2, Adds: 1, Joins: 1}) ||
			*sq != (storecode.StoreTotals{Scans: 1}) || *bj != (storecode.StoreTotals{Scans: 3}) || len(stats.Days) != 1 {
			t.Fatalf("stats = %+v (lujiazui %+v, square %+v, beijing %+v)", stats, lj, sq, bj)
		}

		// A store leaving the code loses its WeCom way; its state still
		// attributes old adds.
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/store-codes/%d", city.ID),
			map[string]any{"store_ids": []uint64{square.ID, beijing.ID}}, nil); st != 200 {
			t.Fatalf("patch stores: %d", st)
		}
		if _, err := e.ctl.ContactWay(ctx, city.Stores[1].ConfigID); err == nil {
			t.Fatal("the removed store's contact way survived")
		}
		if _, sid, ok := e.gw.stores.ByState(e2eCorp, city.Stores[1].State); !ok || sid != lujiazui.ID {
			t.Fatalf("a retired state no longer attributes")
		}
		_, res, _ = e.nearest(city.Slug, "lat=31.2397&lng=121.4998")
		checkHits(t, "after removing Lujiazui", res, false, hitWant{square.ID, 2688.4})
	})
}

func TestStoreValidationAndCSVImport(t *testing.T) {
	eachE2E(t, func(t *testing.T, e *e2e) {
		ctx := context.Background()
		group, _ := e.ctl.CreateGroup(ctx, wecomsim.CreateGroupRequest{Name: "门店群", Owner: "zhangsan"})
		e.idle()
		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"latitude": 1, "longitude": 1, "staff": roster(member("zhangsan"))}, "name"},
			{map[string]any{"name": "x", "longitude": 1, "staff": roster(member("zhangsan"))}, "latitude"},
			{map[string]any{"name": "x", "latitude": 91, "longitude": 1, "staff": roster(member("zhangsan"))}, "latitude"},
			{map[string]any{"name": "x", "latitude": 1, "longitude": 181, "staff": roster(member("zhangsan"))}, "longitude"},
			{map[string]any{"name": "x", "latitude": 1, "longitude": 1}, "staff"},
			{map[string]any{"name": "x", "latitude": 1, "longitude": 1, "staff": map[string]any{"members": []any{}}}, "staff.members"},
			{map[string]any{"name": "x", "latitude": 1, "longitude": 1, "staff": roster(member("zhangsan", "daily_cap", 3))}, "staff.members[0].daily_cap"},
			{map[string]any{"name": "x", "latitude": 1, "longitude": 1, "staff": roster(member("zhangsan")), "group_chat_id": "wrnope"}, "group_chat_id"},
		} {
			var er struct {
				Error struct{ Field string } `json:"error"`
			}
			if st := e.api("POST", "/api/v1/stores", tc.body, &er); st != 400 || er.Error.Field != tc.field {
				t.Fatalf("%v: %d %q, want 400 %q", tc.body, st, er.Error.Field, tc.field)
			}
		}

		csv := "name,address,province,city,latitude,longitude,staff,group_chat_id\n" +
			"徐家汇店,\"徐汇区虹桥路1号, 东座\",上海市,上海市,31.1950,121.4365,zhangsan|lisi,\n" +
			"坏纬度店,某路,上海市,上海市,abc,121.4,zhangsan,\n" +
			",无名路,上海市,上海市,31.2,121.4,zhangsan,\n" +
			"越界店,某路,上海市,上海市,95,121.4,zhangsan,\n" +
			"无人店,某路,上海市,上海市,31.2,121.4,,\n" +
			"杭州店,西湖区,浙江省,杭州市,30.2741,120.1551,wangwu," + group.ChatID + "\n" +
			"假群店,某路,上海市,上海市,31.2,121.4,zhangsan,wrnope\n" +
			"幽灵店,某路,上海市,上海市,31.2,121.4,zhangsan|ghost,\n"
		importCSV := func(lang, csv string) storecode.ImportResult {
			t.Helper()
			req, _ := http.NewRequest("POST", e.base+"/api/v1/stores/import", bytes.NewBufferString(csv))
			req.Header.Set("Authorization", "Bearer "+e.token)
			req.Header.Set("Content-Type", "text/csv")
			req.Header.Set("Accept-Language", lang)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var res storecode.ImportResult
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err := jsonUnmarshal(b, &res); err != nil || resp.StatusCode != 200 {
				t.Fatalf("import: %d %s", resp.StatusCode, b)
			}
			return res
		}
		res := importCSV("en", csv)
		type rowErr struct {
			row   int
			field string
		}
		var got []rowErr
		for _, er := range res.Errors {
			got = append(got, rowErr{er.Row, er.Field})
		}
		want := []rowErr{{3, "latitude"}, {4, "name"}, {5, "latitude"}, {6, "staff.members"}, {8, "group_chat_id"}, {9, "staff"}}
		if res.Imported != 2 || res.Failed != 6 || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Fatalf("import = %+v (errors %v), want 2 imported and errors %v", res, got, want)
		}
		// A userid that is not a staff member is named, in either language.
		if m := res.Errors[5].Message; !strings.Contains(m, `"ghost" is not a staff member`) {
			t.Fatalf("English row error: %q", m)
		}
		zh := importCSV("zh-CN", "name,latitude,longitude,staff\n幽灵店,31.2,121.4,ghost\n")
		if zh.Imported != 0 || len(zh.Errors) != 1 || zh.Errors[0].Row != 2 || zh.Errors[0].Field != "staff" ||
			zh.Errors[0].Message != "“ghost”不是本企业的企业微信成员（见员工目录）" || zh.Errors[0].Code != "invalid.not_staff" {
			t.Fatalf("Chinese row error: %+v", zh)
		}
		var xjh storecode.RetailStore
		e.api("GET", fmt.Sprintf("/api/v1/stores/%d", res.StoreIDs[0]), nil, &xjh)
		if xjh.Address != "徐汇区虹桥路1号, 东座" || xjh.Latitude != 31.195 || len(xjh.Staff.Members) != 2 {
			t.Fatalf("imported store = %+v", xjh)
		}

		// A file without the needed columns is refused whole.
		req, _ := http.NewRequest("POST", e.base+"/api/v1/stores/import", bytes.NewBufferString("name,city\n某店,上海市\n"))
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, _ := http.DefaultClient.Do(req)
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 400 || !strings.Contains(string(b), `"field":"file"`) {
			t.Fatalf("bad header: %d %s", resp.StatusCode, b)
		}

		for _, tc := range []struct {
			body  map[string]any
			field string
		}{
			{map[string]any{"store_ids": res.StoreIDs}, "name"},
			{map[string]any{"name": "x"}, "store_ids"},
			{map[string]any{"name": "x", "store_ids": []uint64{999}}, "store_ids[0]"},
			{map[string]any{"name": "x", "store_ids": res.StoreIDs, "radius_m": 0}, "radius_m"},
			{map[string]any{"name": "x", "store_ids": res.StoreIDs, "offer": "both"}, "offer"},
			{map[string]any{"name": "x", "store_ids": res.StoreIDs[:1], "fallback_store_id": res.StoreIDs[1]}, "fallback_store_id"},
		} {
			var er struct {
				Error struct{ Field string } `json:"error"`
			}
			if st := e.api("POST", "/api/v1/store-codes", tc.body, &er); st != 400 || er.Error.Field != tc.field {
				t.Fatalf("%v: %d %q, want 400 %q", tc.body, st, er.Error.Field, tc.field)
			}
		}

		// A store's new staff reach its contact way.
		code := e.createStoreCode(map[string]any{"name": "导入门店", "store_ids": res.StoreIDs})
		if st := e.api("PATCH", fmt.Sprintf("/api/v1/stores/%d", res.StoreIDs[0]), map[string]any{"staff": roster(member("sunqi"))}, nil); st != 200 {
			t.Fatalf("patch store: %d", st)
		}
		e.idle()
		way, _ := e.ctl.ContactWay(ctx, code.Stores[0].ConfigID)
		if strings.Join(way.User, ",") != "sunqi" {
			t.Fatalf("way users after a staff change = %v", way.User)
		}
		if st := e.api("DELETE", fmt.Sprintf("/api/v1/store-codes/%d", code.ID), nil, nil); st != 204 {
			t.Fatalf("delete code: %d", st)
		}
		if _, err := e.ctl.ContactWay(ctx, code.Stores[1].ConfigID); err == nil {
			t.Fatal("contact way survived the code")
		}
	})
}
