package wecomsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"
)

// WeCom error codes the simulator answers with. The numbers are WeCom's.
const (
	CodeSystemBusy          = -1
	CodeInvalidSecret       = 40001
	CodeInvalidMediaFile    = 40004
	CodeInvalidMediaType    = 40005
	CodeInvalidFileSize     = 40006
	CodeInvalidMediaID      = 40007
	CodeInvalidMsgType      = 40008
	CodeInvalidImageSize    = 40009
	CodeInvalidVideoSize    = 40011
	CodeInvalidCorpID       = 40013
	CodeInvalidToken        = 40014
	CodeChatNotFound        = 40050
	CodeInvalidParam        = 40058
	CodeEmptyParam          = 40063
	CodeInvalidTagID        = 40068
	CodeTagNameExists       = 40071
	CodeInvalidTagName      = 40072
	CodeInvalidExternalUser = 40096
	CodeMissingToken        = 41001
	CodeMissingCorpID       = 41002
	CodeMissingSecret       = 41004
	CodeContactWayQuota     = 41045
	CodeMissingWelcomeCode  = 41049
	CodeInvalidWelcomeCode  = 41050
	CodeWelcomeAlreadySent  = 41051
	CodeTokenExpired        = 42001
	CodeRequireGet          = 43001
	CodeRequirePost         = 43002
	CodeEmptyMedia          = 44001
	CodeEmptyContent        = 44004
	CodeContentTooLong      = 45002
	CodeRateLimited         = 45009
	CodeBadJSON             = 47001
	CodeUserNotFound        = 60111
	CodeInvalidParty        = 60123
	CodeNoExternalRelation  = 84061
)

const (
	maxJSONBody             = 2 << 20
	maxMultipartBody        = 25 << 20
	defaultExpiresInTemp    = 7 * 24 * 3600
	maxExpiresInTemp        = 14 * 24 * 3600
	defaultChatExpiresInTmp = 24 * 3600
)

var defaultErrMsg = map[int]string{
	CodeSystemBusy:          "system busy",
	CodeInvalidSecret:       "invalid credential",
	CodeInvalidMediaFile:    "invalid media type",
	CodeInvalidMediaType:    "invalid type",
	CodeInvalidFileSize:     "invalid file size",
	CodeInvalidMediaID:      "invalid media_id",
	CodeInvalidMsgType:      "invalid message type",
	CodeInvalidImageSize:    "invalid image size",
	CodeInvalidVideoSize:    "invalid video size",
	CodeInvalidCorpID:       "invalid corpid",
	CodeInvalidToken:        "invalid access_token",
	CodeChatNotFound:        "chatid not found",
	CodeInvalidParam:        "invalid Request Parameter",
	CodeEmptyParam:          "param empty",
	CodeInvalidTagID:        "invalid tagid",
	CodeTagNameExists:       "invalid tag name: already exists",
	CodeInvalidTagName:      "invalid tag name size",
	CodeInvalidExternalUser: "invalid external userid",
	CodeMissingToken:        "access_token missing",
	CodeMissingCorpID:       "corpid missing",
	CodeMissingSecret:       "corpsecret missing",
	CodeContactWayQuota:     "contact way count reach limit",
	CodeMissingWelcomeCode:  "welcome_code missing",
	CodeInvalidWelcomeCode:  "invalid welcome_code or welcome_code expired",
	CodeWelcomeAlreadySent:  "welcome msg already sent",
	CodeTokenExpired:        "access_token expired",
	CodeRequireGet:          "require GET method",
	CodeRequirePost:         "require POST method",
	CodeEmptyMedia:          "empty media data",
	CodeEmptyContent:        "empty content",
	CodeContentTooLong:      "content size out of limit",
	CodeRateLimited:         "api freq out of limit",
	CodeBadJSON:             "data format error",
	CodeUserNotFound:        "userid not found",
	CodeInvalidParty:        "invalid party id",
	CodeNoExternalRelation:  "not external contact",
}

// apiError is a WeCom errcode answer.
type apiError struct {
	code int
	msg  string
}

func apiErr(code int, detail string) *apiError {
	msg := defaultErrMsg[code]
	if msg == "" {
		msg = "error"
	}
	if detail != "" {
		msg += ": " + detail
	}
	return &apiError{code: code, msg: msg}
}

// apiCall is one request to /cgi-bin/.
type apiCall struct {
	r    *http.Request
	name string
	corp string
	host string // scheme://host the caller used, for qr_code URLs
}

type apiFunc func(c *apiCall) (any, *apiError)

type apiSpec struct {
	method  string
	noToken bool
	fn      apiFunc
}

func (s *Sim) apis() map[string]apiSpec {
	return map[string]apiSpec{
		"gettoken": {method: http.MethodGet, noToken: true, fn: s.apiGetToken},

		"externalcontact/add_contact_way":    {method: http.MethodPost, fn: s.apiAddContactWay},
		"externalcontact/get_contact_way":    {method: http.MethodPost, fn: s.apiGetContactWay},
		"externalcontact/update_contact_way": {method: http.MethodPost, fn: s.apiUpdateContactWay},
		"externalcontact/del_contact_way":    {method: http.MethodPost, fn: s.apiDelContactWay},
		"externalcontact/list_contact_way":   {method: http.MethodPost, fn: s.apiListContactWay},

		"externalcontact/groupchat/add_join_way":    {method: http.MethodPost, fn: s.apiAddJoinWay},
		"externalcontact/groupchat/get_join_way":    {method: http.MethodPost, fn: s.apiGetJoinWay},
		"externalcontact/groupchat/update_join_way": {method: http.MethodPost, fn: s.apiUpdateJoinWay},
		"externalcontact/groupchat/del_join_way":    {method: http.MethodPost, fn: s.apiDelJoinWay},
		"externalcontact/groupchat/get":             {method: http.MethodPost, fn: s.apiGroupChatGet},
		"externalcontact/groupchat/list":            {method: http.MethodPost, fn: s.apiGroupChatList},

		"externalcontact/get":                  {method: http.MethodGet, fn: s.apiExternalContactGet},
		"externalcontact/list":                 {method: http.MethodGet, fn: s.apiExternalContactList},
		"externalcontact/get_follow_user_list": {method: http.MethodGet, fn: s.apiFollowUserList},
		"externalcontact/remark":               {method: http.MethodPost, fn: s.apiRemark},
		"externalcontact/mark_tag":             {method: http.MethodPost, fn: s.apiMarkTag},
		"externalcontact/get_corp_tag_list":    {method: http.MethodPost, fn: s.apiGetCorpTagList},
		"externalcontact/add_corp_tag":         {method: http.MethodPost, fn: s.apiAddCorpTag},
		"externalcontact/edit_corp_tag":        {method: http.MethodPost, fn: s.apiEditCorpTag},
		"externalcontact/del_corp_tag":         {method: http.MethodPost, fn: s.apiDelCorpTag},
		"externalcontact/send_welcome_msg":     {method: http.MethodPost, fn: s.apiSendWelcomeMsg},

		"externalcontact/group_welcome_template/add":  {method: http.MethodPost, fn: s.apiAddGroupWelcome},
		"externalcontact/group_welcome_template/edit": {method: http.MethodPost, fn: s.apiEditGroupWelcome},
		"externalcontact/group_welcome_template/get":  {method: http.MethodPost, fn: s.apiGetGroupWelcome},
		"externalcontact/group_welcome_template/del":  {method: http.MethodPost, fn: s.apiDelGroupWelcome},

		"media/upload": {method: http.MethodPost, fn: s.apiMediaUpload},

		"user/list":       {method: http.MethodGet, fn: s.apiUserList},
		"department/list": {method: http.MethodGet, fn: s.apiDepartmentList},
	}
}

// serveAPI answers /cgi-bin/... the way WeCom does: HTTP 200 with errcode and
// errmsg, except for injected HTTP faults.
func (s *Sim) serveAPI(specs map[string]apiSpec) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		name := strings.Trim(strings.TrimPrefix(r.URL.Path, "/cgi-bin/"), "/")
		spec, ok := specs[name]
		if !ok {
			http.NotFound(w, r)
			return
		}
		entry := LogEntry{Kind: KindAPI, API: name, Method: r.Method, HTTPStatus: http.StatusOK}
		defer func() {
			entry.DurationMS = float64(time.Since(start).Microseconds()) / 1000
			entry.Time = s.now()
			s.journal.logAPI(entry)
		}()

		if f := s.faults.fire(name); f != nil {
			if f.latency > 0 {
				// WeCom has the whole request before it is slow: a client that
				// gives up while waiting does not undo the call.
				if body, err := io.ReadAll(io.LimitReader(r.Body, maxMultipartBody+1)); err == nil {
					r.Body = io.NopCloser(bytes.NewReader(body))
				}
				n, _ := s.slowed.LoadOrStore(name, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				t := time.NewTimer(f.latency)
				select {
				case <-t.C:
				case <-r.Context().Done():
					t.Stop()
				}
				n.(*atomic.Int64).Add(-1)
			}
			switch {
			case f.httpStatus != 0:
				entry.Fault, entry.HTTPStatus, entry.ErrCode = true, f.httpStatus, -1
				entry.ErrMsg = http.StatusText(f.httpStatus)
				http.Error(w, http.StatusText(f.httpStatus), f.httpStatus)
				return
			case f.errCode != 0:
				if f.errCode == CodeTokenExpired || f.errCode == CodeInvalidToken {
					s.tokens.invalidateAll(f.errCode)
				}
				e := apiErr(f.errCode, "")
				if f.errMsg != "" {
					e.msg = f.errMsg
				}
				entry.Fault = true
				s.writeErr(w, e, &entry)
				return
			}
		}

		if r.Method != spec.method {
			code := CodeRequirePost
			if spec.method == http.MethodGet {
				code = CodeRequireGet
			}
			s.writeErr(w, apiErr(code, ""), &entry)
			return
		}
		c := &apiCall{r: r, name: name, host: requestBase(r)}
		if !spec.noToken {
			corp, e := s.tokens.check(r.URL.Query().Get("access_token"), s.now())
			if e != nil {
				s.writeErr(w, e, &entry)
				return
			}
			c.corp = corp
			if !s.limiter.allow(corp, name, s.now()) {
				s.writeErr(w, apiErr(CodeRateLimited, ""), &entry)
				return
			}
		}
		res, e := spec.fn(c)
		if e != nil {
			s.writeErr(w, e, &entry)
			return
		}
		writeOK(w, res)
	}
}

func (s *Sim) writeErr(w http.ResponseWriter, e *apiError, entry *LogEntry) {
	entry.ErrCode, entry.ErrMsg = e.code, e.msg
	// WeCom appends a hint and a lookup link to every error message; clients
	// that log errmsg verbatim see the same shape here.
	msg := fmt.Sprintf("%s, hint: [%d-sim], more info at https://open.work.weixin.qq.com/devtool/query?e=%d",
		e.msg, s.now().Unix(), e.code)
	writeJSON(w, http.StatusOK, map[string]any{"errcode": e.code, "errmsg": msg})
}

// writeOK renders a success answer with errcode and errmsg first, as WeCom does.
func writeOK(w http.ResponseWriter, res any) {
	var b bytes.Buffer
	b.WriteString(`{"errcode":0,"errmsg":"ok"`)
	if res != nil {
		body, err := marshal(res)
		if err != nil {
			writeJSON(w, http.StatusOK, map[string]any{"errcode": CodeSystemBusy, "errmsg": "system busy"})
			return
		}
		body = bytes.TrimSpace(body)
		if len(body) > 2 {
			b.WriteByte(',')
			b.Write(body[1 : len(body)-1])
		}
	}
	b.WriteString("}")
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=UTF-8")
	w.WriteHeader(status)
	w.Write(body)
}

// decode reads a JSON body; WeCom answers 47001 to anything unparsable.
func (c *apiCall) decode(v any) *apiError {
	body, err := io.ReadAll(io.LimitReader(c.r.Body, maxJSONBody+1))
	if err != nil {
		return apiErr(CodeBadJSON, err.Error())
	}
	if len(body) > maxJSONBody {
		return apiErr(CodeBadJSON, "body too large")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return apiErr(CodeBadJSON, "empty body")
	}
	if err := json.Unmarshal(body, v); err != nil {
		return apiErr(CodeBadJSON, err.Error())
	}
	return nil
}

func requestBase(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

func runes(s string) int { return utf8.RuneCountInString(s) }

func tooLong(field, v string, max int) *apiError {
	if runes(v) > max {
		return apiErr(CodeInvalidParam, fmt.Sprintf("%s exceeds %d characters", field, max))
	}
	return nil
}

// apiGetToken answers gettoken. Like WeCom it hands out the same token until
// it expires or is revoked, with expires_in counting down.
func (s *Sim) apiGetToken(c *apiCall) (any, *apiError) {
	q := c.r.URL.Query()
	corp, secret := q.Get("corpid"), q.Get("corpsecret")
	switch {
	case corp == "":
		return nil, apiErr(CodeMissingCorpID, "")
	case secret == "":
		return nil, apiErr(CodeMissingSecret, "")
	case corp != s.opts.CorpID:
		return nil, apiErr(CodeInvalidCorpID, "")
	case secret != s.opts.Secret:
		return nil, apiErr(CodeInvalidSecret, "")
	}
	now := s.now()
	if !s.limiter.allow(corp, c.name, now) {
		return nil, apiErr(CodeRateLimited, "")
	}
	tok, exp := s.tokens.issue(corp, now, s.opts.TokenTTL)
	return struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int    `json:"expires_in"`
	}{tok, int(exp.Sub(now).Round(time.Second) / time.Second)}, nil
}
