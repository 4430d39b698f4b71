package wecomsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Media rules (WeCom's temporary media limits).
const (
	mediaTTL     = 3 * 24 * time.Hour
	mediaMinSize = 5
)

var mediaMaxSize = map[string]int64{
	"image": 10 << 20,
	"voice": 2 << 20,
	"video": 10 << 20,
	"file":  20 << 20,
}

var mediaSizeCode = map[string]int{
	"image": CodeInvalidImageSize,
	"voice": CodeInvalidFileSize,
	"video": CodeInvalidVideoSize,
	"file":  CodeInvalidFileSize,
}

// attachmentKinds are the objects a welcome attachment may carry, with the
// fields each requires (one of a "|" pair is enough) and the media fields that
// must name an uploaded, unexpired media of the given type.
var attachmentKinds = map[string]struct {
	required []string
	media    map[string]string
}{
	"image":       {required: []string{"media_id|pic_url"}, media: map[string]string{"media_id": "image"}},
	"link":        {required: []string{"title", "url"}},
	"miniprogram": {required: []string{"title", "pic_media_id", "appid", "page"}, media: map[string]string{"pic_media_id": "image"}},
	"video":       {required: []string{"media_id"}, media: map[string]string{"media_id": "video"}},
	"file":        {required: []string{"media_id"}, media: map[string]string{"media_id": "file"}},
}

var attachmentOrder = []string{"image", "link", "miniprogram", "video", "file"}

func (s *Sim) apiSendWelcomeMsg(c *apiCall) (any, *apiError) {
	var req struct {
		WelcomeCode string `json:"welcome_code"`
		Text        *struct {
			Content string `json:"content"`
		} `json:"text"`
		Attachments []json.RawMessage `json:"attachments"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if req.WelcomeCode == "" {
		return nil, apiErr(CodeMissingWelcomeCode, "")
	}
	content := ""
	if req.Text != nil {
		content = req.Text.Content
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	wc := s.st.welcomeCodes[req.WelcomeCode]
	switch {
	case wc == nil:
		return nil, apiErr(CodeInvalidWelcomeCode, "")
	case wc.used:
		return nil, apiErr(CodeWelcomeAlreadySent, "")
	case now.After(wc.eventTime.Add(s.opts.WelcomeWindow)):
		return nil, apiErr(CodeInvalidWelcomeCode, fmt.Sprintf("expired %s after the event", s.opts.WelcomeWindow))
	}
	if len(content) > 4000 {
		return nil, apiErr(CodeContentTooLong, "text.content exceeds 4000 bytes")
	}
	if content == "" && len(req.Attachments) == 0 {
		return nil, apiErr(CodeEmptyContent, "text and attachments cannot both be empty")
	}
	if len(req.Attachments) > 9 {
		return nil, apiErr(CodeInvalidParam, "attachments exceed 9")
	}
	for i, raw := range req.Attachments {
		if e := s.validateAttachment(raw, now); e != nil {
			e.msg += fmt.Sprintf(" (attachments[%d])", i)
			return nil, e
		}
	}
	wc.used = true
	atts := make([]json.RawMessage, len(req.Attachments))
	for i, a := range req.Attachments {
		atts[i] = slices.Clone(a)
	}
	s.st.welcomeCount++
	s.st.welcomes = append(s.st.welcomes, Welcome{
		WelcomeCode:    wc.code,
		UserID:         wc.userID,
		ExternalUserID: wc.extID,
		State:          wc.state,
		Content:        content,
		Attachments:    atts,
		EventTime:      wc.eventTime,
		SentTime:       now,
		LatencyMS:      float64(now.Sub(wc.eventTime).Microseconds()) / 1000,
	})
	s.st.welcomes, _ = trim(s.st.welcomes, s.opts.LogLimit)
	return nil, nil
}

// validateAttachment checks one welcome attachment the way WeCom does: a known
// msgtype, exactly the matching object, no empty objects (a serializer that
// writes every sub-object gets 40063), required fields, live media ids.
// Callers hold s.mu.
func (s *Sim) validateAttachment(raw json.RawMessage, now time.Time) *apiError {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return apiErr(CodeBadJSON, "attachment is not an object")
	}
	var msgType string
	if mt, ok := obj["msgtype"]; ok {
		if err := json.Unmarshal(mt, &msgType); err != nil {
			return apiErr(CodeInvalidMsgType, "msgtype is not a string")
		}
	}
	kind, ok := attachmentKinds[msgType]
	if !ok {
		return apiErr(CodeInvalidMsgType, fmt.Sprintf("msgtype %q", msgType))
	}
	var fields map[string]string
	for _, name := range attachmentOrder {
		v, present := obj[name]
		if !present || string(v) == "null" {
			continue
		}
		var f map[string]any
		if err := json.Unmarshal(v, &f); err != nil {
			return apiErr(CodeBadJSON, name+" is not an object")
		}
		str := map[string]string{}
		for k, x := range f {
			if sv, ok := x.(string); ok && sv != "" {
				str[k] = sv
			}
		}
		if len(str) == 0 {
			return apiErr(CodeEmptyParam, "empty "+name+" object")
		}
		if name == msgType {
			fields = str
		}
	}
	for _, name := range attachmentOrder {
		if v, present := obj[name]; present && string(v) != "null" && name != msgType {
			return apiErr(CodeInvalidParam, fmt.Sprintf("attachment carries %s but msgtype is %s", name, msgType))
		}
	}
	if fields == nil {
		return apiErr(CodeEmptyParam, msgType+" missing")
	}
	for _, req := range kind.required {
		found := false
		for _, alt := range strings.Split(req, "|") {
			if fields[alt] != "" {
				found = true
			}
		}
		if !found {
			return apiErr(CodeEmptyParam, msgType+"."+strings.ReplaceAll(req, "|", " or ")+" missing")
		}
	}
	for field, typ := range kind.media {
		id := fields[field]
		if id == "" {
			continue
		}
		m := s.st.media[id]
		if m == nil || m.Type != typ || !now.Before(m.ExpiresAt) {
			return apiErr(CodeInvalidMediaID, msgType+"."+field)
		}
	}
	return nil
}

func (s *Sim) apiMediaUpload(c *apiCall) (any, *apiError) {
	typ := c.r.URL.Query().Get("type")
	maxSize, ok := mediaMaxSize[typ]
	if !ok {
		return nil, apiErr(CodeInvalidMediaType, fmt.Sprintf("type %q", typ))
	}
	c.r.Body = http.MaxBytesReader(nil, c.r.Body, maxMultipartBody)
	mr, err := c.r.MultipartReader()
	if err != nil {
		return nil, apiErr(CodeEmptyMedia, err.Error())
	}
	var part *multipart.Part
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, apiErr(CodeEmptyMedia, err.Error())
		}
		if p.FormName() == "media" {
			part = p
			break
		}
	}
	if part == nil {
		return nil, apiErr(CodeEmptyMedia, `multipart field "media" missing`)
	}
	var head bytes.Buffer
	n, err := io.Copy(&head, io.LimitReader(part, 512))
	if err != nil {
		return nil, apiErr(CodeEmptyMedia, err.Error())
	}
	rest, err := io.Copy(io.Discard, part)
	if err != nil {
		return nil, apiErr(CodeInvalidFileSize, err.Error())
	}
	size := n + rest
	if size < mediaMinSize || size > maxSize {
		return nil, apiErr(mediaSizeCode[typ], fmt.Sprintf("%d bytes", size))
	}
	if typ == "image" {
		ct := http.DetectContentType(head.Bytes())
		if ct != "image/jpeg" && ct != "image/png" {
			return nil, apiErr(CodeInvalidMediaFile, "images must be JPG or PNG, got "+ct)
		}
	}
	now := s.now()
	s.mu.Lock()
	m := &Media{MediaID: s.newID("3", 63), Type: typ, Filename: part.FileName(), Size: size,
		CreatedAt: now, ExpiresAt: now.Add(mediaTTL)}
	s.st.media[m.MediaID] = m
	s.mu.Unlock()
	return struct {
		Type      string `json:"type"`
		MediaID   string `json:"media_id"`
		CreatedAt string `json:"created_at"` // WeCom sends a string here
	}{typ, m.MediaID, strconv.FormatInt(now.Unix(), 10)}, nil
}
