package wecomsim

import (
	"encoding/json"
	"slices"
)

// Group welcome templates (入群欢迎语素材): a text and at most one attachment
// that WeCom shows to customers joining a group whose owner picked it.
// Unknown ids answer 40058 naming template_id, a missing one 40063.

// GroupWelcomeContent is a template's message: a text and at most one
// attachment, each kept as sent.
type GroupWelcomeContent struct {
	Text        *WelcomeText    `json:"text,omitempty"`
	Image       json.RawMessage `json:"image,omitempty"`
	Link        json.RawMessage `json:"link,omitempty"`
	MiniProgram json.RawMessage `json:"miniprogram,omitempty"`
	File        json.RawMessage `json:"file,omitempty"`
	Video       json.RawMessage `json:"video,omitempty"`
}

// WelcomeText is a template's text.
type WelcomeText struct {
	Content string `json:"content"`
}

// GroupWelcomeTemplate is a stored template as the control API shows it.
type GroupWelcomeTemplate struct {
	TemplateID string `json:"template_id"`
	GroupWelcomeContent
	AgentID int `json:"agentid,omitempty"`

	// Simulator only.
	Notify     int   `json:"notify"` // 1: the owners were told of the new template
	CreateTime int64 `json:"create_time"`
	Edits      int   `json:"edits"`
}

// groupWelcomeBody is the request of add, edit, get and del; a null or
// absent part is not sent.
type groupWelcomeBody struct {
	TemplateID string `json:"template_id"`
	GroupWelcomeContent
	AgentID int  `json:"agentid"`
	Notify  *int `json:"notify"`
}

func present(raw json.RawMessage) bool { return len(raw) > 0 && string(raw) != "null" }

// attachments returns the body's attachment parts by name.
func (b *groupWelcomeBody) attachments() map[string]json.RawMessage {
	out := map[string]json.RawMessage{}
	for name, raw := range map[string]json.RawMessage{"image": b.Image, "link": b.Link, "miniprogram": b.MiniProgram,
		"file": b.File, "video": b.Video} {
		if present(raw) {
			out[name] = raw
		}
	}
	return out
}

// checkContent validates a template's text and attachment like a welcome
// message: ≤4000 bytes of text, one attachment at most, no empty object,
// required fields, live media. Callers hold s.mu.
func (s *Sim) checkGroupWelcome(b *groupWelcomeBody, needContent bool) *apiError {
	if b.Text != nil && len(b.Text.Content) > 4000 {
		return apiErr(CodeContentTooLong, "text.content exceeds 4000 bytes")
	}
	atts := b.attachments()
	if len(atts) > 1 {
		return apiErr(CodeInvalidParam, "at most one of image, link, miniprogram, file, video")
	}
	if needContent && (b.Text == nil || b.Text.Content == "") && len(atts) == 0 {
		return apiErr(CodeEmptyContent, "text and attachment cannot both be empty")
	}
	for name, raw := range atts {
		msgType, _ := json.Marshal(name)
		obj := map[string]json.RawMessage{"msgtype": msgType, name: raw}
		wrapped, _ := json.Marshal(obj)
		if e := s.validateAttachment(wrapped, s.now()); e != nil {
			return e
		}
	}
	return nil
}

func (s *Sim) template(id string) (*GroupWelcomeTemplate, *apiError) {
	if id == "" {
		return nil, apiErr(CodeEmptyParam, "template_id missing")
	}
	t := s.st.templates[id]
	if t == nil {
		return nil, apiErr(CodeInvalidParam, "invalid template_id")
	}
	return t, nil
}

func (s *Sim) apiAddGroupWelcome(c *apiCall) (any, *apiError) {
	var req groupWelcomeBody
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	notify := 1 // WeCom's default: tell the group owners
	if req.Notify != nil {
		if *req.Notify != 0 && *req.Notify != 1 {
			return nil, apiErr(CodeInvalidParam, "notify must be 0 or 1")
		}
		notify = *req.Notify
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.checkGroupWelcome(&req, true); e != nil {
		return nil, e
	}
	t := &GroupWelcomeTemplate{TemplateID: s.newID("msg", 29), AgentID: req.AgentID, Notify: notify, CreateTime: s.now().Unix()}
	t.setContent(&req)
	s.st.templates[t.TemplateID] = t
	s.st.templateOrder = append(s.st.templateOrder, t.TemplateID)
	return struct {
		TemplateID string `json:"template_id"`
	}{t.TemplateID}, nil
}

// setContent replaces the parts the body carries; edit keeps what is absent.
func (t *GroupWelcomeTemplate) setContent(b *groupWelcomeBody) {
	if b.Text != nil {
		t.Text = &WelcomeText{Content: b.Text.Content}
	}
	if atts := b.attachments(); len(atts) > 0 {
		t.Image, t.Link, t.MiniProgram, t.File, t.Video = nil, nil, nil, nil, nil
		for name, raw := range atts {
			raw = slices.Clone(raw)
			switch name {
			case "image":
				t.Image = raw
			case "link":
				t.Link = raw
			case "miniprogram":
				t.MiniProgram = raw
			case "file":
				t.File = raw
			case "video":
				t.Video = raw
			}
		}
	}
}

// onTemplate decodes a request naming a template and runs fn on it under
// s.mu.
func (s *Sim) onTemplate(c *apiCall, fn func(req *groupWelcomeBody, t *GroupWelcomeTemplate) (any, *apiError)) (any, *apiError) {
	var req groupWelcomeBody
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, e := s.template(req.TemplateID)
	if e != nil {
		return nil, e
	}
	return fn(&req, t)
}

func (s *Sim) apiEditGroupWelcome(c *apiCall) (any, *apiError) {
	return s.onTemplate(c, func(req *groupWelcomeBody, t *GroupWelcomeTemplate) (any, *apiError) {
		if e := s.checkGroupWelcome(req, false); e != nil {
			return nil, e
		}
		t.setContent(req)
		t.Edits++
		return nil, nil
	})
}

func (s *Sim) apiGetGroupWelcome(c *apiCall) (any, *apiError) {
	return s.onTemplate(c, func(_ *groupWelcomeBody, t *GroupWelcomeTemplate) (any, *apiError) {
		return t.GroupWelcomeContent, nil
	})
}

func (s *Sim) apiDelGroupWelcome(c *apiCall) (any, *apiError) {
	return s.onTemplate(c, func(_ *groupWelcomeBody, t *GroupWelcomeTemplate) (any, *apiError) {
		delete(s.st.templates, t.TemplateID)
		s.st.templateOrder = slices.DeleteFunc(s.st.templateOrder, func(id string) bool { return id == t.TemplateID })
		return nil, nil
	})
}

func cloneTemplate(t *GroupWelcomeTemplate) GroupWelcomeTemplate {
	out := *t
	if t.Text != nil {
		txt := *t.Text
		out.Text = &txt
	}
	return out
}

// GroupWelcomeTemplates returns the live group welcome templates, oldest first.
func (s *Sim) GroupWelcomeTemplates() []GroupWelcomeTemplate {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]GroupWelcomeTemplate, 0, len(s.st.templateOrder))
	for _, id := range s.st.templateOrder {
		out = append(out, cloneTemplate(s.st.templates[id]))
	}
	return out
}

// GroupWelcomeTemplate returns one live template.
func (s *Sim) GroupWelcomeTemplate(id string) (GroupWelcomeTemplate, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.templates[id]
	if t == nil {
		return GroupWelcomeTemplate{}, false
	}
	return cloneTemplate(t), true
}
