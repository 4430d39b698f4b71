package wecomsim

import (
	"bytes"
	"fmt"
	"image"
	"image/png"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestGetTokenCredentials(t *testing.T) {
	e := newEnv(t, Options{})
	cases := []struct {
		corp, secret string
		want         int
	}{
		{"", testSecret, CodeMissingCorpID},
		{testCorp, "", CodeMissingSecret},
		{"wwother", testSecret, CodeInvalidCorpID},
		{testCorp, "wrong", CodeInvalidSecret},
		{testCorp, testSecret, 0},
	}
	for _, c := range cases {
		r := e.api.get("gettoken", url.Values{"corpid": {c.corp}, "corpsecret": {c.secret}}, false)
		mustCode(t, r, c.want)
		if c.want == 0 && (len(r.str("access_token")) < 64 || r["expires_in"].(float64) != 7200) {
			t.Fatalf("%v", r)
		}
		if c.want != 0 && !strings.Contains(r.str("errmsg"), "more info at") {
			t.Fatalf("errmsg shape %q", r.str("errmsg"))
		}
	}
}

func TestTokenExpiryAndEarlyInvalidation(t *testing.T) {
	e := newEnv(t, Options{TokenTTL: time.Hour})
	tok := e.api.fetchToken()
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)

	// Within its life gettoken hands out the same token, counting down.
	e.clock.Advance(30 * time.Minute)
	r := e.api.get("gettoken", url.Values{"corpid": {testCorp}, "corpsecret": {testSecret}}, false)
	if r.str("access_token") != tok || r["expires_in"].(float64) != 1800 {
		t.Fatalf("%v", r)
	}
	e.clock.Advance(30 * time.Minute)
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeTokenExpired)
	if e.api.fetchToken() == tok {
		t.Fatal("expired token reissued")
	}
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)

	// A 42001 fault answers 42001 once and revokes the token for good.
	stale := e.api.token
	if _, err := e.ctl.AddFault(ctx(), Fault{API: "*", ErrCode: CodeTokenExpired, Count: 1}); err != nil {
		t.Fatal(err)
	}
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeTokenExpired)
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeTokenExpired)
	if e.api.fetchToken() == stale {
		t.Fatal("revoked token reissued")
	}
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)

	// The control endpoint revokes with 40014.
	if err := e.ctl.InvalidateTokens(ctx(), CodeInvalidToken); err != nil {
		t.Fatal(err)
	}
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeInvalidToken)

	e.api.token = "not-a-token"
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeInvalidToken)
	_, r = e.api.do(http.MethodPost, "externalcontact/get_corp_tag_list", nil, []byte("{}"), "", false)
	mustCode(t, r, CodeMissingToken)
}

func TestRateLimitPerMinute(t *testing.T) {
	e := newEnv(t, Options{RateLimitPerMinute: 5})
	e.api.fetchToken()
	for i := 0; i < 5; i++ {
		mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)
	}
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeRateLimited)
	// Limits are per API.
	mustCode(t, e.api.post("externalcontact/groupchat/list", map[string]any{"limit": 10}), 0)
	// The next minute of the simulated clock starts afresh.
	e.clock.Advance(time.Minute)
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)
	log, _ := e.ctl.Log(ctx(), LogQuery{API: "get_corp_tag_list", ErrCode: ptr(CodeRateLimited)})
	if len(log) != 1 {
		t.Fatalf("log %+v", log)
	}
}

func TestRateLimitPerHour(t *testing.T) {
	e := newEnv(t, Options{RateLimitPerMinute: 100, RateLimitPerHour: 3})
	e.api.fetchToken()
	for i := 0; i < 3; i++ {
		mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)
		e.clock.Advance(time.Minute)
	}
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), CodeRateLimited)
	e.clock.Advance(time.Hour)
	mustCode(t, e.api.post("externalcontact/get_corp_tag_list", map[string]any{}), 0)
}

func ptr[T any](v T) *T { return &v }

func TestAPIRequestShapeErrors(t *testing.T) {
	e := newEnv(t, Options{})
	e.api.fetchToken()
	_, r := e.api.do(http.MethodGet, "externalcontact/add_contact_way", nil, nil, "", true)
	mustCode(t, r, CodeRequirePost)
	_, r = e.api.do(http.MethodPost, "externalcontact/get", nil, []byte("{}"), "", true)
	mustCode(t, r, CodeRequireGet)
	_, r = e.api.do(http.MethodPost, "externalcontact/add_contact_way", nil, []byte("{not json"), "", true)
	mustCode(t, r, CodeBadJSON)
	_, r = e.api.do(http.MethodPost, "externalcontact/add_contact_way", nil, nil, "", true)
	mustCode(t, r, CodeBadJSON)
	status, _ := e.api.do(http.MethodPost, "externalcontact/no_such_api", nil, []byte("{}"), "", true)
	if status != http.StatusNotFound {
		t.Fatalf("status %d", status)
	}
}

func TestContactWayValidation(t *testing.T) {
	e := newEnv(t, Options{})
	many := make([]string, 101)
	for i := range many {
		many[i] = "zhangsan"
		if i > 0 {
			many[i] = fmt.Sprintf("u%03d", i)
		}
	}
	cases := []struct {
		name string
		body map[string]any
		want int
	}{
		{"state 30", map[string]any{"type": 1, "scene": 2, "state": strings.Repeat("状", 30), "user": []string{"lisi"}}, 0},
		{"state 31", map[string]any{"type": 1, "scene": 2, "state": strings31(), "user": []string{"lisi"}}, CodeInvalidParam},
		{"remark 31", map[string]any{"type": 1, "scene": 2, "remark": strings31(), "user": []string{"lisi"}}, CodeInvalidParam},
		{"101 users", map[string]any{"type": 2, "scene": 2, "user": many}, CodeInvalidParam},
		{"unknown user", map[string]any{"type": 2, "scene": 2, "user": []string{"lisi", "nobody"}}, CodeUserNotFound},
		{"single with two", map[string]any{"type": 1, "scene": 2, "user": []string{"lisi", "wangwu"}}, CodeInvalidParam},
		{"multi empty", map[string]any{"type": 2, "scene": 2}, CodeInvalidParam},
		{"bad type", map[string]any{"type": 3, "scene": 2, "user": []string{"lisi"}}, CodeInvalidParam},
		{"bad scene", map[string]any{"type": 1, "scene": 0, "user": []string{"lisi"}}, CodeInvalidParam},
		{"unknown party", map[string]any{"type": 2, "scene": 2, "party": []int{7}}, CodeInvalidParty},
		{"root party", map[string]any{"type": 2, "scene": 2, "party": []int{1}}, 0},
		{"temp multi", map[string]any{"type": 2, "scene": 2, "is_temp": true, "user": []string{"lisi"}}, CodeInvalidParam},
		{"type as string", map[string]any{"type": "1", "scene": 2, "user": []string{"lisi"}}, CodeBadJSON},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mustCode(t, e.api.post("externalcontact/add_contact_way", c.body), c.want)
		})
	}
}

func TestContactWayLifecycle(t *testing.T) {
	e := newEnv(t, Options{})
	r := e.api.post("externalcontact/add_contact_way", map[string]any{"type": 2, "scene": 2, "style": 1,
		"remark": "expo", "state": "c:expo", "user": []string{"zhangsan", "lisi"}, "party": []int{}})
	mustCode(t, r, 0)
	id, qr := r.str("config_id"), r.str("qr_code")
	if len(id) != 32 || !strings.HasPrefix(qr, e.srv.URL+"/sim/qr/") {
		t.Fatalf("%v", r)
	}
	// The QR code is an image the simulator serves.
	res, err := http.Get(qr)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := png.Decode(res.Body); err != nil || res.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr image: %v", err)
	}
	res.Body.Close()

	got := e.api.post("externalcontact/get_contact_way", map[string]any{"config_id": id})
	mustCode(t, got, 0)
	cw := got.obj("contact_way")
	if cw.str("state") != "c:expo" || cw.str("qr_code") != qr || len(cw.list("user")) != 2 || cw["skip_verify"] != true {
		t.Fatalf("%v", cw)
	}
	if _, ok := cw["scans"]; ok {
		t.Fatal("simulator-only field leaked into the API answer")
	}

	// update REPLACES the user list; a field left out stays.
	mustCode(t, e.api.post("externalcontact/update_contact_way", map[string]any{"config_id": id,
		"user": []string{"wangwu"}}), 0)
	way, _ := e.ctl.ContactWay(ctx(), id)
	if len(way.User) != 1 || way.User[0] != "wangwu" || way.State != "c:expo" || way.Remark != "expo" {
		t.Fatalf("%+v", way)
	}
	// A rejected update changes nothing.
	mustCode(t, e.api.post("externalcontact/update_contact_way", map[string]any{"config_id": id,
		"user": []string{"wangwu", "ghost"}, "state": "c:changed"}), CodeUserNotFound)
	way, _ = e.ctl.ContactWay(ctx(), id)
	if way.State != "c:expo" || len(way.User) != 1 {
		t.Fatalf("%+v", way)
	}
	mustCode(t, e.api.post("externalcontact/update_contact_way", map[string]any{"config_id": id, "state": strings31()}),
		CodeInvalidParam)
	mustCode(t, e.api.post("externalcontact/update_contact_way", map[string]any{"config_id": "nope"}), CodeInvalidParam)

	// A mini-program way has no QR code.
	mini := e.api.post("externalcontact/add_contact_way", map[string]any{"type": 1, "scene": 1, "user": []string{"lisi"}})
	mustCode(t, mini, 0)
	if mini.str("qr_code") != "" {
		t.Fatalf("%v", mini)
	}

	list := e.api.post("externalcontact/list_contact_way", map[string]any{"limit": 1})
	mustCode(t, list, 0)
	if len(list.list("contact_way")) != 1 || list.str("next_cursor") == "" {
		t.Fatalf("%v", list)
	}
	list2 := e.api.post("externalcontact/list_contact_way", map[string]any{"limit": 1, "cursor": list.str("next_cursor")})
	if len(list2.list("contact_way")) != 1 || list2.str("next_cursor") != "" {
		t.Fatalf("%v", list2)
	}

	mustCode(t, e.api.post("externalcontact/del_contact_way", map[string]any{"config_id": id}), 0)
	mustCode(t, e.api.post("externalcontact/get_contact_way", map[string]any{"config_id": id}), CodeInvalidParam)
	if _, err := e.ctl.Scan(ctx(), ScanRequest{QRCode: qr}); err == nil || err.(*ControlError).Status != 404 {
		t.Fatalf("scan of deleted way: %v", err)
	}
}

func TestContactWayQuota(t *testing.T) {
	e := newEnv(t, Options{})
	if l, err := e.ctl.SetLimits(ctx(), Limits{ContactWayQuota: 2}); err != nil || l.ContactWayQuota != 2 {
		t.Fatalf("%+v %v", l, err)
	}
	body := map[string]any{"type": 1, "scene": 2, "user": []string{"lisi"}}
	e.addWay(body)
	e.addWay(body)
	mustCode(t, e.api.post("externalcontact/add_contact_way", body), CodeContactWayQuota)
}

func TestTemporaryContactWayExpires(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "is_temp": true, "expires_in": 3600, "user": []string{"lisi"}})
	if _, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(time.Hour)
	_, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
	if ce, ok := err.(*ControlError); !ok || ce.Status != http.StatusGone {
		t.Fatalf("%v", err)
	}
}

func TestType2ScansDistributeDeterministically(t *testing.T) {
	users := []string{"zhangsan", "lisi", "wangwu"}
	run := func(seed int64) []string {
		e := newEnv(t, Options{Seed: seed})
		id := e.addWay(map[string]any{"type": 2, "scene": 2, "user": users})
		var picks []string
		for i := 0; i < 300; i++ {
			res, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
			if err != nil {
				t.Fatal(err)
			}
			picks = append(picks, res.UserID)
		}
		return picks
	}
	a, b, c := run(7), run(7), run(8)
	counts := map[string]int{}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("scan %d: %s vs %s with one seed", i, a[i], b[i])
		}
		counts[a[i]]++
	}
	for _, u := range users {
		if counts[u] < 70 || counts[u] > 130 {
			t.Fatalf("uneven spread %v", counts)
		}
	}
	if strings.Join(a, ",") == strings.Join(c, ",") {
		t.Fatal("another seed picked identically")
	}

	// Picks follow the way's users at the moment of the scan.
	e := newEnv(t, Options{})
	id := e.addWay(map[string]any{"type": 2, "scene": 2, "user": users})
	mustCode(t, e.api.post("externalcontact/update_contact_way", map[string]any{"config_id": id,
		"user": []string{"sunqi", "zhaoliu"}}), 0)
	for i := 0; i < 20; i++ {
		res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
		if res.UserID != "sunqi" && res.UserID != "zhaoliu" {
			t.Fatalf("picked %s after the update", res.UserID)
		}
	}
}

func TestWelcomeWindowAndSingleUse(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "state": "c:w", "user": []string{"lisi"}})
	scan := func() ScanResult {
		res, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, Customer: Customer{Name: "x"}})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	text := func(code string) map[string]any {
		return map[string]any{"welcome_code": code, "text": map[string]any{"content": "欢迎"}}
	}

	first := scan()
	e.clock.Advance(19 * time.Second)
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", text(first.WelcomeCode)), 0)
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", text(first.WelcomeCode)), CodeWelcomeAlreadySent)

	late := scan()
	e.clock.Advance(20*time.Second + time.Millisecond)
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", text(late.WelcomeCode)), CodeInvalidWelcomeCode)

	mustCode(t, e.api.post("externalcontact/send_welcome_msg", map[string]any{"text": map[string]any{"content": "x"}}),
		CodeMissingWelcomeCode)
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", text("never-issued")), CodeInvalidWelcomeCode)

	ws, err := e.ctl.Welcomes(ctx(), WelcomeQuery{UserID: "lisi"})
	if err != nil || len(ws) != 1 {
		t.Fatalf("%+v %v", ws, err)
	}
	w := ws[0]
	if w.WelcomeCode != first.WelcomeCode || w.ExternalUserID != first.ExternalUserID || w.Content != "欢迎" ||
		w.State != "c:w" || w.LatencyMS != 19000 || !w.EventTime.Equal(t0) {
		t.Fatalf("%+v", w)
	}

	// A scan without a WelcomeCode (console welcome configured) has none.
	res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id, NoWelcomeCode: true})
	if res.WelcomeCode != "" {
		t.Fatalf("%+v", res)
	}
}

func TestWelcomeContentAndAttachments(t *testing.T) {
	e := newEnv(t, Options{})
	id := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"lisi"}})
	img := e.upload("image", "poster.png", pngBytes(t))
	video := e.upload("video", "clip.mp4", bytes.Repeat([]byte{1}, 64))

	code := func() string {
		res, err := e.ctl.Scan(ctx(), ScanRequest{ConfigID: id})
		if err != nil {
			t.Fatal(err)
		}
		return res.WelcomeCode
	}
	send := func(body map[string]any) resp { return e.api.post("externalcontact/send_welcome_msg", body) }
	imageAtt := map[string]any{"msgtype": "image", "image": map[string]any{"media_id": img}}
	many := make([]any, 10)
	for i := range many {
		many[i] = imageAtt
	}
	// What a serializer without omitempty sends: every sub-object, all empty but one.
	allObjects := map[string]any{"msgtype": "image", "image": map[string]any{"media_id": img, "pic_url": ""},
		"link":        map[string]any{"title": "", "picurl": "", "desc": "", "url": ""},
		"miniprogram": map[string]any{"title": "", "pic_media_id": "", "appid": "", "page": ""},
		"video":       map[string]any{"media_id": ""}, "file": map[string]any{"media_id": ""}}

	cases := []struct {
		name string
		body map[string]any
		want int
	}{
		{"content 4001 bytes", map[string]any{"text": map[string]any{"content": strings.Repeat("a", 4001)}}, CodeContentTooLong},
		{"content 4000 bytes", map[string]any{"text": map[string]any{"content": strings.Repeat("a", 4000)}}, 0},
		{"nothing", map[string]any{}, CodeEmptyContent},
		{"10 attachments", map[string]any{"attachments": many}, CodeInvalidParam},
		{"empty image", map[string]any{"attachments": []any{map[string]any{"msgtype": "image", "image": map[string]any{}}}}, CodeEmptyParam},
		{"empty sub-objects", map[string]any{"attachments": []any{allObjects}}, CodeEmptyParam},
		{"no msgtype", map[string]any{"attachments": []any{map[string]any{"image": map[string]any{"media_id": img}}}}, CodeInvalidMsgType},
		{"two objects", map[string]any{"attachments": []any{map[string]any{"msgtype": "image", "image": map[string]any{"media_id": img},
			"link": map[string]any{"title": "t", "url": "https://example.com"}}}}, CodeInvalidParam},
		{"link without url", map[string]any{"attachments": []any{map[string]any{"msgtype": "link", "link": map[string]any{"title": "t"}}}}, CodeEmptyParam},
		{"unknown media", map[string]any{"attachments": []any{map[string]any{"msgtype": "image", "image": map[string]any{"media_id": "3nope"}}}}, CodeInvalidMediaID},
		{"video media as image", map[string]any{"attachments": []any{map[string]any{"msgtype": "image", "image": map[string]any{"media_id": video}}}}, CodeInvalidMediaID},
		{"miniprogram missing page", map[string]any{"attachments": []any{map[string]any{"msgtype": "miniprogram",
			"miniprogram": map[string]any{"title": "t", "pic_media_id": img, "appid": "wx1"}}}}, CodeEmptyParam},
		{"nine good attachments", map[string]any{"text": map[string]any{"content": "hi"}, "attachments": many[:9]}, 0},
		{"every kind", map[string]any{"attachments": []any{
			imageAtt,
			map[string]any{"msgtype": "image", "image": map[string]any{"pic_url": "https://example.com/a.png"}},
			map[string]any{"msgtype": "link", "link": map[string]any{"title": "t", "url": "https://example.com"}},
			map[string]any{"msgtype": "miniprogram", "miniprogram": map[string]any{"title": "t", "pic_media_id": img, "appid": "wx1", "page": "p/i"}},
			map[string]any{"msgtype": "video", "video": map[string]any{"media_id": video}},
		}}, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			c.body["welcome_code"] = code()
			mustCode(t, send(c.body), c.want)
		})
	}
	ws, _ := e.ctl.Welcomes(ctx(), WelcomeQuery{})
	if len(ws) != 3 || len(ws[1].Attachments) != 9 || len(ws[2].Attachments) != 5 {
		t.Fatalf("%d welcomes", len(ws))
	}

	// A failed attempt does not spend the code.
	c := code()
	mustCode(t, send(map[string]any{"welcome_code": c, "attachments": many}), CodeInvalidParam)
	mustCode(t, send(map[string]any{"welcome_code": c, "text": map[string]any{"content": "retry"}}), 0)
}

func TestMediaUploadAndExpiry(t *testing.T) {
	e := newEnv(t, Options{})
	status, r := e.uploadRaw("image", "media", "a.png", pngBytes(t))
	mustCode(t, r, 0)
	if status != 200 || r.str("type") != "image" || r.str("created_at") != strconv.FormatInt(t0.Unix(), 10) {
		t.Fatalf("%v", r)
	}
	id := r.str("media_id")
	m, err := e.ctl.Media(ctx(), id)
	if err != nil || !m.ExpiresAt.Equal(t0.Add(72*time.Hour)) || m.Filename != "a.png" {
		t.Fatalf("%+v %v", m, err)
	}

	_, r = e.uploadRaw("sticker", "media", "a.png", pngBytes(t))
	mustCode(t, r, CodeInvalidMediaType)
	_, r = e.uploadRaw("image", "media", "a.txt", []byte("plain text, not an image"))
	mustCode(t, r, CodeInvalidMediaFile)
	_, r = e.uploadRaw("image", "file", "a.png", pngBytes(t))
	mustCode(t, r, CodeEmptyMedia)
	_, r = e.uploadRaw("file", "media", "tiny.txt", []byte("abc"))
	mustCode(t, r, CodeInvalidFileSize)

	way := e.addWay(map[string]any{"type": 1, "scene": 2, "user": []string{"lisi"}})
	att := map[string]any{"attachments": []any{map[string]any{"msgtype": "image", "image": map[string]any{"media_id": id}}}}
	e.clock.Advance(72*time.Hour - time.Second)
	e.api.fetchToken()
	res, _ := e.ctl.Scan(ctx(), ScanRequest{ConfigID: way})
	att["welcome_code"] = res.WelcomeCode
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", att), 0)
	e.clock.Advance(time.Second)
	res, _ = e.ctl.Scan(ctx(), ScanRequest{ConfigID: way, Customer: Customer{Name: "y"}})
	att["welcome_code"] = res.WelcomeCode
	mustCode(t, e.api.post("externalcontact/send_welcome_msg", att), CodeInvalidMediaID)
}

func pngBytes(t *testing.T) []byte {
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 4, 4))); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func (e *env) uploadRaw(typ, field, filename string, data []byte) (int, resp) {
	e.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	fw, _ := mw.CreateFormFile(field, filename)
	io.Copy(fw, bytes.NewReader(data))
	mw.Close()
	return e.api.do(http.MethodPost, "media/upload", url.Values{"type": {typ}}, b.Bytes(), mw.FormDataContentType(), true)
}

func (e *env) upload(typ, filename string, data []byte) string {
	e.t.Helper()
	_, r := e.uploadRaw(typ, "media", filename, data)
	mustCode(e.t, r, 0)
	return r.str("media_id")
}
