package wecom

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test credentials: made up, long enough that literal masking applies.
const (
	testCorpID = "ww-test-corp-0001"
	testSecret = "test-secret-0123456789abcdefghij"
)

type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fakeCall is one non-gettoken request the fake received.
type fakeCall struct {
	Method string
	API    string
	Token  string
	Query  url.Values
	Body   []byte
	// Upload holds the multipart file of media/upload.
	UploadName string
	UploadData []byte
}

type fakeReply struct {
	status int
	body   string
}

// fakeWeCom plays WeCom's API: gettoken issues numbered tokens, other APIs
// check the token, answer queued replies first and a canned success otherwise.
type fakeWeCom struct {
	t   *testing.T
	srv *httptest.Server

	mu         sync.Mutex
	tokenCalls int
	valid      map[string]bool
	replies    map[string][]fakeReply
	calls      []fakeCall
	// tokenGate, when set, holds every gettoken until it is closed.
	tokenGate chan struct{}
	// gates hold calls to an API until closed.
	gates map[string]chan struct{}
}

var fakeAnswers = map[string]string{
	APIAddContactWay:   `{"errcode":0,"errmsg":"ok","config_id":"cfg-1","qr_code":"https://qr.example/1"}`,
	APIGetContactWay:   `{"errcode":0,"errmsg":"ok","contact_way":{"config_id":"cfg-1","type":2,"scene":2,"remark":"r","skip_verify":true,"state":"c:abc","qr_code":"https://qr.example/1","user":["u1","u2"],"conclusions":{"text":{"content":"bye"}}}}`,
	APIListContactWays: `{"errcode":0,"errmsg":"ok","contact_way":[{"config_id":"a"},{"config_id":"b"}],"next_cursor":"n1"}`,
	APIAddJoinWay:      `{"errcode":0,"errmsg":"ok","config_id":"jw-1"}`,
	APIGetJoinWay:      `{"errcode":0,"errmsg":"ok","join_way":{"config_id":"jw-1","scene":2,"auto_create_room":1,"room_base_name":"R","room_base_id":1,"chat_id_list":["wr1"],"qr_code":"https://qr.example/j","state":"g:x"}}`,
	APIGetGroupChat:    `{"errcode":0,"errmsg":"ok","group_chat":{"chat_id":"wr1","name":"G","owner":"u1","create_time":1700000000,"member_list":[{"userid":"wm1","type":2,"join_time":1700000100,"join_scene":3,"state":"g:x"},{"userid":"u1","type":1,"join_time":1700000000,"join_scene":1,"invitor":{"userid":"u2"}}],"admin_list":[{"userid":"u2"}],"member_version":"v7"}}`,
	APIGetExternalContact: `{"errcode":0,"errmsg":"ok","external_contact":{"external_userid":"wm1","name":"Ann","type":1,"gender":2,"unionid":"un1"},` +
		`"follow_user":[{"userid":"u1","remark":"r","createtime":1700000000,"tags":[{"group_name":"g","tag_name":"t","type":1,"tag_id":"et1"}],"state":"c:abc","add_way":1}],"next_cursor":"nc"}`,
	APIGetCorpTags:           `{"errcode":0,"errmsg":"ok","tag_group":[{"group_id":"g1","group_name":"G","create_time":1700000000,"order":4,"tag":[{"id":"et1","name":"T","create_time":1700000000,"order":2}]}]}`,
	APIAddCorpTag:            `{"errcode":0,"errmsg":"ok","tag_group":{"group_id":"g1","group_name":"G","create_time":1700000000,"tag":[{"id":"et9","name":"New","create_time":1700000000,"order":1}]}}`,
	APIUploadMedia:           `{"errcode":0,"errmsg":"ok","type":"image","media_id":"media-1","created_at":"1700000000"}`,
	APICreateAcquisitionLink: `{"errcode":0,"errmsg":"ok","link":{"link_id":"l1","link_name":"N","url":"https://work.weixin.qq.com/ca/x","create_time":1700000000}}`,
	APIAddGroupWelcome:       `{"errcode":0,"errmsg":"ok","template_id":"msgT1"}`,
	APIGetGroupWelcome:       `{"errcode":0,"errmsg":"ok","text":{"content":"欢迎入群"},"link":{"title":"t","url":"https://e.x/"}}`,
	APIListDepartments:       `{"errcode":0,"errmsg":"ok","department":[{"id":1,"name":"总部","parentid":0,"order":100},{"id":2,"name":"销售部","parentid":1,"order":90}]}`,
	APIListStaff:             `{"errcode":0,"errmsg":"ok","userlist":[{"userid":"u1","name":"张三","department":[2],"avatar":"https://a.example/u1","status":1}]}`,
}

func newFakeWeCom(t *testing.T) *fakeWeCom {
	t.Helper()
	f := &fakeWeCom{t: t, valid: map[string]bool{}, replies: map[string][]fakeReply{}, gates: map[string]chan struct{}{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	if err := SetAPIBase(f.srv.URL, f.srv.Client()); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeWeCom) tokenName(n int) string {
	return fmt.Sprintf("access-token-%04d-zyxwvutsrq", n)
}

func (f *fakeWeCom) serve(w http.ResponseWriter, r *http.Request) {
	api, ok := strings.CutPrefix(r.URL.Path, "/cgi-bin/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	q := r.URL.Query()
	if api == APIGetToken {
		f.serveToken(w, q)
		return
	}
	call := fakeCall{Method: r.Method, API: api, Token: q.Get("access_token"), Query: q}
	if mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); mt == "multipart/form-data" {
		mr := multipart.NewReader(r.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				break
			}
			if p.FormName() == "media" {
				call.UploadName = p.FileName()
				call.UploadData, _ = io.ReadAll(p)
			}
		}
	} else {
		call.Body, _ = io.ReadAll(r.Body)
	}
	f.mu.Lock()
	f.calls = append(f.calls, call)
	gate := f.gates[api]
	var reply *fakeReply
	if queue := f.replies[api]; len(queue) > 0 {
		reply, f.replies[api] = &queue[0], queue[1:]
	}
	valid := f.valid[call.Token]
	f.mu.Unlock()

	if gate != nil {
		<-gate
	}
	switch {
	case reply != nil:
		w.WriteHeader(reply.status)
		io.WriteString(w, reply.body)
	case !valid:
		io.WriteString(w, `{"errcode":40014,"errmsg":"invalid access_token"}`)
	case fakeAnswers[api] != "":
		io.WriteString(w, fakeAnswers[api])
	default:
		io.WriteString(w, `{"errcode":0,"errmsg":"ok"}`)
	}
}

func (f *fakeWeCom) serveToken(w http.ResponseWriter, q url.Values) {
	f.mu.Lock()
	f.tokenCalls++
	n := f.tokenCalls
	gate := f.tokenGate
	var reply *fakeReply
	if queue := f.replies[APIGetToken]; len(queue) > 0 {
		reply, f.replies[APIGetToken] = &queue[0], queue[1:]
	}
	f.mu.Unlock()
	if gate != nil {
		<-gate
	}
	if reply != nil {
		w.WriteHeader(reply.status)
		io.WriteString(w, reply.body)
		return
	}
	if q.Get("corpid") != testCorpID || q.Get("corpsecret") != testSecret {
		io.WriteString(w, `{"errcode":40001,"errmsg":"invalid credential"}`)
		return
	}
	tok := f.tokenName(n)
	f.mu.Lock()
	f.valid[tok] = true
	f.mu.Unlock()
	fmt.Fprintf(w, `{"errcode":0,"errmsg":"ok","access_token":%q,"expires_in":7200}`, tok)
}

// reply queues answers for an API, served before the canned ones.
func (f *fakeWeCom) reply(api string, status int, bodies ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, b := range bodies {
		f.replies[api] = append(f.replies[api], fakeReply{status: status, body: b})
	}
}

func (f *fakeWeCom) errcode(api string, codes ...int) {
	for _, c := range codes {
		f.reply(api, http.StatusOK, fmt.Sprintf(`{"errcode":%d,"errmsg":"code %d, hint: [x], from ip: 203.0.113.9"}`, c, c))
	}
}

func (f *fakeWeCom) revoke(token string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.valid, token)
}

func (f *fakeWeCom) gate(api string) chan struct{} {
	f.mu.Lock()
	defer f.mu.Unlock()
	ch := make(chan struct{})
	f.gates[api] = ch
	return ch
}

func (f *fakeWeCom) tokenCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls
}

// callsTo returns the requests to api, or to every API when api is "".
func (f *fakeWeCom) callsTo(api string) []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []fakeCall
	for _, c := range f.calls {
		if api == "" || c.API == api {
			out = append(out, c)
		}
	}
	return out
}

// syncBuffer collects log output from concurrent goroutines.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

type testClient struct {
	*Client
	clock *fakeClock
	store TokenStore
	logs  *syncBuffer
}

func newTestClient(t *testing.T, mutate ...func(*ClientConfig)) *testClient {
	t.Helper()
	clock := newFakeClock()
	logs := &syncBuffer{}
	cfg := ClientConfig{
		CorpID: testCorpID,
		Secret: testSecret,
		Store:  NewMemoryTokenStore(),
		Now:    clock.Now,
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
	}
	for _, m := range mutate {
		m(&cfg)
	}
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testClient{Client: c, clock: clock, store: cfg.Store, logs: logs}
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
