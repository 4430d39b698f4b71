package wecom

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClientClassify(t *testing.T) {
	codes := []struct {
		code int
		want Action
	}{
		// CodeAction's table, row by row.
		{CodeSystemBusy, ActionRetry},
		{CodeInvalidToken, ActionRetry}, // reaches a caller only after the one refresh
		{CodeTokenExpired, ActionRetry},
		{CodeFrequencyLimit, ActionDefer},
		{CodeConcurrencyLimit, ActionDefer},
		{CodeInvalidExternalUserID, ActionPermanent},
		{CodeNoRelationship, ActionPermanent},
		{CodeWelcomeCodeMissing, ActionPermanent},
		{CodeWelcomeCodeExpired, ActionPermanent},
		{CodeWelcomeAlreadySent, ActionPermanent},
		{CodeWelcomeBusy, ActionRetry},
		{CodeContactWayQuota, ActionPermanent},
		{CodeNoAPIPermission, ActionConfig},
		{CodeUntrustedIP, ActionConfig},
		// Beyond the table.
		{CodeInvalidCredential, ActionConfig}, // after the refresh: the secret is wrong
		{CodeInvalidCorpID, ActionConfig},
		{CodeInvalidParameter, ActionPermanent},
		{CodeEmptyParameter, ActionPermanent},
		{99999, ActionPermanent},
	}
	for _, tc := range codes {
		err := fmt.Errorf("job: %w", &APIError{API: APIMarkTag, Code: tc.code, Msg: "m"})
		if got := Classify(err); got != tc.want {
			t.Errorf("errcode %d: Classify = %v, want %v", tc.code, got, tc.want)
		}
		if msg := err.Error(); !strings.Contains(msg, fmt.Sprint(tc.code)) || !strings.Contains(msg, APIMarkTag) {
			t.Errorf("errcode %d: message %q names neither code nor API", tc.code, msg)
		}
	}

	others := []struct {
		name string
		err  error
		want Action
	}{
		{"nil", nil, ActionNone},
		{"own budget", &BudgetError{API: APIMarkTag, RetryAfter: time.Second}, ActionDefer},
		{"held", &BudgetError{API: APIMarkTag, RetryAfter: time.Minute, Held: true}, ActionDefer},
		{"502", &TransportError{API: APIMarkTag, StatusCode: 502}, ActionRetry},
		{"500", &TransportError{API: APIMarkTag, StatusCode: 500}, ActionRetry},
		{"429", &TransportError{API: APIMarkTag, StatusCode: 429}, ActionDefer},
		{"404: wrong API base", &TransportError{API: APIMarkTag, StatusCode: 404}, ActionConfig},
		{"network", &TransportError{API: APIMarkTag, Msg: "dial tcp: refused"}, ActionRetry},
		{"deadline", context.DeadlineExceeded, ActionRetry},
		{"invalid request", invalidf(APIMarkTag, "x"), ActionPermanent},
		{"unknown", errors.New("store: connection reset"), ActionRetry},
	}
	for _, tc := range others {
		if got := Classify(tc.err); got != tc.want {
			t.Errorf("%s: Classify = %v, want %v", tc.name, got, tc.want)
		}
	}

	if d, ok := RetryAfter(&APIError{Code: CodeFrequencyLimit, RetryAfter: time.Minute}); !ok || d != time.Minute {
		t.Errorf("RetryAfter(45009) = %v, %v", d, ok)
	}
	if _, ok := RetryAfter(&APIError{Code: CodeNoRelationship}); ok {
		t.Error("RetryAfter reported a wait for a permanent error")
	}
	if ActionDefer.String() != "defer" {
		t.Errorf("ActionDefer.String() = %q", ActionDefer.String())
	}
}

func ptr[T any](v T) *T { return &v }

func TestClientAPIRequests(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)

	type result = any
	cases := []struct {
		name   string
		call   func(ctx context.Context) (result, error)
		api    string
		method string
		body   string // JSON, compared by value; "" for none
		query  map[string]string
		want   result
	}{
		{
			name: "AddContactWay",
			call: func(ctx context.Context) (result, error) {
				return c.AddContactWay(ctx, NewContactWay{Type: ContactWayMulti, Scene: SceneQRCode, Remark: "r", SkipVerify: true, State: "c:abc", User: []string{"u1", "u2"}, IsExclusive: true})
			},
			api:  APIAddContactWay,
			body: `{"type":2,"scene":2,"remark":"r","skip_verify":true,"state":"c:abc","user":["u1","u2"],"is_exclusive":true}`,
			want: ContactWayCreated{ConfigID: "cfg-1", QRCode: "https://qr.example/1"},
		},
		{
			name: "GetContactWay",
			call: func(ctx context.Context) (result, error) { return c.GetContactWay(ctx, "cfg-1") },
			api:  APIGetContactWay,
			body: `{"config_id":"cfg-1"}`,
			want: &ContactWay{ConfigID: "cfg-1", Type: 2, Scene: 2, Remark: "r", SkipVerify: true, State: "c:abc", QRCode: "https://qr.example/1",
				User: []string{"u1", "u2"}, Conclusions: Conclusions{Text: &ConclusionText{Content: "bye"}}},
		},
		{
			name: "UpdateContactWay",
			call: func(ctx context.Context) (result, error) {
				return nil, c.UpdateContactWay(ctx, ContactWayUpdate{ConfigID: "cfg-1", User: []string{"u3"}})
			},
			api:  APIUpdateContactWay,
			body: `{"config_id":"cfg-1","user":["u3"]}`,
		},
		{
			name: "DeleteContactWay",
			call: func(ctx context.Context) (result, error) { return nil, c.DeleteContactWay(ctx, "cfg-1") },
			api:  APIDeleteContactWay,
			body: `{"config_id":"cfg-1"}`,
		},
		{
			name: "ListContactWays",
			call: func(ctx context.Context) (result, error) {
				return c.ListContactWays(ctx, ContactWayQuery{Start: time.Unix(1700000000, 0), Cursor: "c0"})
			},
			api:  APIListContactWays,
			body: `{"start_time":1700000000,"end_time":0,"cursor":"c0","limit":100}`,
			want: ContactWayPage{ConfigIDs: []string{"a", "b"}, NextCursor: "n1"},
		},
		{
			name: "AddJoinWay",
			call: func(ctx context.Context) (result, error) {
				return c.AddJoinWay(ctx, JoinWay{Scene: SceneQRCode, AutoCreateRoom: true, RoomBaseName: "R", RoomBaseID: 1, ChatIDs: []string{"wr1"}, State: "g:x"})
			},
			api:  APIAddJoinWay,
			body: `{"scene":2,"remark":"","auto_create_room":1,"room_base_name":"R","room_base_id":1,"chat_id_list":["wr1"],"state":"g:x"}`,
			want: "jw-1",
		},
		{
			name: "GetJoinWay",
			call: func(ctx context.Context) (result, error) { return c.GetJoinWay(ctx, "jw-1") },
			api:  APIGetJoinWay,
			body: `{"config_id":"jw-1"}`,
			want: &JoinWay{ConfigID: "jw-1", Scene: 2, AutoCreateRoom: true, RoomBaseName: "R", RoomBaseID: 1, ChatIDs: []string{"wr1"}, State: "g:x", QRCode: "https://qr.example/j"},
		},
		{
			name: "UpdateJoinWay",
			call: func(ctx context.Context) (result, error) {
				return nil, c.UpdateJoinWay(ctx, JoinWay{ConfigID: "jw-1", Scene: SceneQRCode, Remark: "x", ChatIDs: []string{"wr1", "wr2"}, State: "g:x"})
			},
			api:  APIUpdateJoinWay,
			body: `{"config_id":"jw-1","scene":2,"remark":"x","auto_create_room":0,"room_base_name":"","room_base_id":0,"chat_id_list":["wr1","wr2"],"state":"g:x"}`,
		},
		{
			name: "DeleteJoinWay",
			call: func(ctx context.Context) (result, error) { return nil, c.DeleteJoinWay(ctx, "jw-1") },
			api:  APIDeleteJoinWay,
			body: `{"config_id":"jw-1"}`,
		},
		{
			name: "GetGroupChat",
			call: func(ctx context.Context) (result, error) { return c.GetGroupChat(ctx, "wr1", true) },
			api:  APIGetGroupChat,
			body: `{"chat_id":"wr1","need_name":1}`,
			want: &GroupChat{ChatID: "wr1", Name: "G", Owner: "u1", CreatedAt: time.Unix(1700000000, 0), MemberVersion: "v7", Admins: []string{"u2"},
				Members: []GroupChatMember{
					{UserID: "wm1", Type: MemberExternal, JoinTime: time.Unix(1700000100, 0), JoinScene: 3, State: "g:x"},
					{UserID: "u1", Type: MemberStaff, JoinTime: time.Unix(1700000000, 0), JoinScene: 1, InvitorUserID: "u2"},
				}},
		},
		{
			name:   "GetExternalContact",
			call:   func(ctx context.Context) (result, error) { return c.GetExternalContact(ctx, "wm1&x", "") },
			api:    APIGetExternalContact,
			method: http.MethodGet,
			query:  map[string]string{"external_userid": "wm1&x", "cursor": ""},
			want: &ExternalContactDetail{
				Contact: ExternalContact{ExternalUserID: "wm1", Name: "Ann", Type: 1, Gender: 2, UnionID: "un1"},
				FollowUsers: []FollowUser{{UserID: "u1", Remark: "r", CreatedAt: time.Unix(1700000000, 0), State: "c:abc", AddWay: 1,
					Tags: []ContactTag{{GroupName: "g", TagName: "t", TagID: "et1", Type: 1}}}},
				NextCursor: "nc",
			},
		},
		{
			name: "MarkTag",
			call: func(ctx context.Context) (result, error) {
				return nil, c.MarkTag(ctx, "u1", "wm1", []string{"et1", "et2"}, nil)
			},
			api:  APIMarkTag,
			body: `{"userid":"u1","external_userid":"wm1","add_tag":["et1","et2"],"remove_tag":[]}`,
		},
		{
			name: "Remark",
			call: func(ctx context.Context) (result, error) {
				return nil, c.Remark(ctx, RemarkUpdate{UserID: "u1", ExternalUserID: "wm1", Remark: ptr("VIP"), RemarkMobiles: &[]string{}})
			},
			api:  APIRemark,
			body: `{"userid":"u1","external_userid":"wm1","remark":"VIP","remark_mobiles":[]}`,
		},
		{
			name: "GetCorpTags",
			call: func(ctx context.Context) (result, error) { return c.GetCorpTags(ctx, nil, []string{"g1"}) },
			api:  APIGetCorpTags,
			body: `{"group_id":["g1"]}`,
			want: []TagGroup{{GroupID: "g1", GroupName: "G", CreatedAt: time.Unix(1700000000, 0), Order: 4,
				Tags: []CorpTag{{ID: "et1", Name: "T", CreatedAt: time.Unix(1700000000, 0), Order: 2}}}},
		},
		{
			name: "AddCorpTag",
			call: func(ctx context.Context) (result, error) {
				return c.AddCorpTag(ctx, NewCorpTags{GroupID: "g1", Tags: []NewCorpTag{{Name: "New", Order: 1}}})
			},
			api:  APIAddCorpTag,
			body: `{"group_id":"g1","group_name":"","order":0,"tag":[{"name":"New","order":1}],"agentid":0}`,
			want: &TagGroup{GroupID: "g1", GroupName: "G", CreatedAt: time.Unix(1700000000, 0),
				Tags: []CorpTag{{ID: "et9", Name: "New", CreatedAt: time.Unix(1700000000, 0), Order: 1}}},
		},
		{
			name: "EditCorpTag",
			call: func(ctx context.Context) (result, error) {
				return nil, c.EditCorpTag(ctx, CorpTagEdit{ID: "et1", Name: ptr("Renamed")})
			},
			api:  APIEditCorpTag,
			body: `{"id":"et1","name":"Renamed"}`,
		},
		{
			name: "DeleteCorpTag",
			call: func(ctx context.Context) (result, error) { return nil, c.DeleteCorpTag(ctx, []string{"et1"}, nil) },
			api:  APIDeleteCorpTag,
			body: `{"tag_id":["et1"],"group_id":null,"agent_id":""}`,
		},
		{
			name: "SendWelcome",
			call: func(ctx context.Context) (result, error) {
				return nil, c.SendWelcome(ctx, WelcomeMessage{WelcomeCode: "wc", Text: &WelcomeText{Content: "hi"}})
			},
			api:  APISendWelcomeMsg,
			body: `{"welcome_code":"wc","text":{"content":"hi"}}`,
		},
		{
			name: "UploadMedia",
			call: func(ctx context.Context) (result, error) {
				return c.UploadMedia(ctx, MediaImage, "poster.png", []byte("\x89PNG-bytes"))
			},
			api:   APIUploadMedia,
			query: map[string]string{"type": "image"},
			want:  Media{ID: "media-1", Type: "image", CreatedAt: time.Unix(1700000000, 0)},
		},
		{
			name: "CreateAcquisitionLink",
			call: func(ctx context.Context) (result, error) {
				return c.CreateAcquisitionLink(ctx, AcquisitionLinkRequest{Name: "N", UserIDs: []string{"u1"}, SkipVerify: true})
			},
			api:  APICreateAcquisitionLink,
			body: `{"link_name":"N","range":{"user_list":["u1"],"department_list":null},"skip_verify":true}`,
			want: AcquisitionLink{ID: "l1", Name: "N", URL: "https://work.weixin.qq.com/ca/x", CreatedAt: time.Unix(1700000000, 0)},
		},
		{
			name: "AddGroupWelcome",
			call: func(ctx context.Context) (result, error) {
				return c.AddGroupWelcome(ctx, GroupWelcome{Text: "欢迎入群"}, true)
			},
			api:  APIAddGroupWelcome,
			body: `{"text":{"content":"欢迎入群"},"notify":1}`,
			want: "msgT1",
		},
		{
			name: "EditGroupWelcome",
			call: func(ctx context.Context) (result, error) {
				return nil, c.EditGroupWelcome(ctx, "msgT1", GroupWelcome{Text: "新欢迎语"})
			},
			api:  APIEditGroupWelcome,
			body: `{"template_id":"msgT1","text":{"content":"新欢迎语"}}`,
		},
		{
			name: "GetGroupWelcome",
			call: func(ctx context.Context) (result, error) { return c.GetGroupWelcome(ctx, "msgT1") },
			api:  APIGetGroupWelcome,
			body: `{"template_id":"msgT1"}`,
			want: &GroupWelcome{Text: "欢迎入群", Link: &AttachmentLink{Title: "t", URL: "https://e.x/"}},
		},
		{
			name: "DeleteGroupWelcome",
			call: func(ctx context.Context) (result, error) { return nil, c.DeleteGroupWelcome(ctx, "msgT1") },
			api:  APIDeleteGroupWelcome,
			// silenceper always sends agentid; 0 means none (only old
			// third-party suites set it).
			body: `{"template_id":"msgT1","agentid":0}`,
		},
	}

	cases = append(cases, []struct {
		name   string
		call   func(ctx context.Context) (result, error)
		api    string
		method string
		body   string
		query  map[string]string
		want   result
	}{
		{
			name:   "ListDepartments",
			call:   func(ctx context.Context) (result, error) { return c.ListDepartments(ctx) },
			api:    APIListDepartments,
			method: http.MethodGet,
			want:   []Department{{ID: 1, Name: "总部", Order: 100}, {ID: 2, Name: "销售部", ParentID: 1, Order: 90}},
		},
		{
			name:   "ListStaff",
			call:   func(ctx context.Context) (result, error) { return c.ListStaff(ctx, 1, true) },
			api:    APIListStaff,
			method: http.MethodGet,
			query:  map[string]string{"department_id": "1", "fetch_child": "1"},
			want:   []StaffMember{{UserID: "u1", Name: "张三", Departments: []int{2}, Avatar: "https://a.example/u1", Status: 1}},
		},
	}...)

	tok, err := c.Token(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{APIGetToken: true}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			seen[tc.api] = true
			before := len(f.callsTo(""))
			got, err := tc.call(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			calls := f.callsTo("")[before:]
			if len(calls) != 1 {
				t.Fatalf("%d requests, want 1", len(calls))
			}
			call := calls[0]
			if call.API != tc.api {
				t.Errorf("path /cgi-bin/%s, want /cgi-bin/%s", call.API, tc.api)
			}
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			if call.Method != method {
				t.Errorf("method %s, want %s", call.Method, method)
			}
			if call.Token != tok.Value {
				t.Errorf("access_token %q, want %q", call.Token, tok.Value)
			}
			for k, v := range tc.query {
				if !call.Query.Has(k) || call.Query.Get(k) != v {
					t.Errorf("query %s = %q, want %q", k, call.Query.Get(k), v)
				}
			}
			if tc.body != "" {
				var gotBody, wantBody any
				if err := json.Unmarshal(call.Body, &gotBody); err != nil {
					t.Fatalf("body %s: %v", call.Body, err)
				}
				if err := json.Unmarshal([]byte(tc.body), &wantBody); err != nil {
					t.Fatal(err)
				}
				if !reflect.DeepEqual(gotBody, wantBody) {
					t.Errorf("body\n got %s\nwant %s", call.Body, tc.body)
				}
			}
			if tc.api == APIUploadMedia && (call.UploadName != "poster.png" || string(call.UploadData) != "\x89PNG-bytes") {
				t.Errorf("upload %q with %q", call.UploadName, call.UploadData)
			}
			if tc.want != nil && !reflect.DeepEqual(got, tc.want) {
				t.Errorf("result\n got %#v\nwant %#v", got, tc.want)
			}
		})
	}
	for _, api := range APIs {
		if !seen[api] {
			t.Errorf("no case for %s", api)
		}
	}
}

func TestClientRejectsInvalidRequestsLocally(t *testing.T) {
	f := newFakeWeCom(t)
	c := newTestClient(t)
	ctx := ctxT(t)
	long := strings.Repeat("长", 31)
	for name, call := range map[string]func() error{
		"contact way type": func() error { _, err := c.AddContactWay(ctx, NewContactWay{Scene: 2, User: []string{"u"}}); return err },
		"contact way state": func() error {
			_, err := c.AddContactWay(ctx, NewContactWay{Type: 2, Scene: 2, User: []string{"u"}, State: long})
			return err
		},
		"single with two": func() error {
			_, err := c.AddContactWay(ctx, NewContactWay{Type: 1, Scene: 2, User: []string{"a", "b"}})
			return err
		},
		"101 users": func() error {
			return c.UpdateContactWay(ctx, ContactWayUpdate{ConfigID: "x", User: make([]string, 101)})
		},
		"update no id":        func() error { return c.UpdateContactWay(ctx, ContactWayUpdate{User: []string{"u"}}) },
		"join way six chats":  func() error { _, err := c.AddJoinWay(ctx, JoinWay{Scene: 2, ChatIDs: make([]string, 6)}); return err },
		"mark tag empty":      func() error { return c.MarkTag(ctx, "u", "wm", nil, nil) },
		"remark nothing":      func() error { return c.Remark(ctx, RemarkUpdate{UserID: "u", ExternalUserID: "wm"}) },
		"remark too long":     func() error { return c.Remark(ctx, RemarkUpdate{UserID: "u", ExternalUserID: "wm", Remark: ptr(long)}) },
		"edit tag nothing":    func() error { return c.EditCorpTag(ctx, CorpTagEdit{ID: "t"}) },
		"delete tag nothing":  func() error { return c.DeleteCorpTag(ctx, nil, nil) },
		"media type":          func() error { _, err := c.UploadMedia(ctx, "gif", "a.gif", []byte("0123456789")); return err },
		"media too big":       func() error { _, err := c.UploadMedia(ctx, MediaVoice, "a.amr", make([]byte, 2<<20+1)); return err },
		"external contact id": func() error { _, err := c.GetExternalContact(ctx, "", ""); return err },
		"link without range":  func() error { _, err := c.CreateAcquisitionLink(ctx, AcquisitionLinkRequest{Name: "n"}); return err },
	} {
		if err := call(); !errors.Is(err, ErrInvalidRequest) || Classify(err) != ActionPermanent {
			t.Errorf("%s: err = %v, want a permanent ErrInvalidRequest", name, err)
		}
	}
	if n := len(f.callsTo("")); n != 0 || f.tokenCount() != 0 {
		t.Errorf("invalid requests reached the server: %d calls, %d gettoken", n, f.tokenCount())
	}
}
