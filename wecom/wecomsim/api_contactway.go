package wecomsim

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// contactWayReq carries add/update_contact_way bodies. Pointers tell a field
// that was sent from one that was not: update changes only what is present.
type contactWayReq struct {
	ConfigID      *string         `json:"config_id"`
	Type          *int            `json:"type"`
	Scene         *int            `json:"scene"`
	Style         *int            `json:"style"`
	Remark        *string         `json:"remark"`
	SkipVerify    *bool           `json:"skip_verify"`
	State         *string         `json:"state"`
	User          *[]string       `json:"user"`
	Party         *[]int          `json:"party"`
	IsTemp        *bool           `json:"is_temp"`
	ExpiresIn     *int            `json:"expires_in"`
	ChatExpiresIn *int            `json:"chat_expires_in"`
	UnionID       *string         `json:"unionid"`
	IsExclusive   *bool           `json:"is_exclusive"`
	Conclusions   json.RawMessage `json:"conclusions"`
}

func (r *contactWayReq) apply(w *ContactWay) {
	set := func(dst *string, v *string) {
		if v != nil {
			*dst = *v
		}
	}
	setInt := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	setBool := func(dst *bool, v *bool) {
		if v != nil {
			*dst = *v
		}
	}
	setInt(&w.Style, r.Style)
	set(&w.Remark, r.Remark)
	setBool(&w.SkipVerify, r.SkipVerify)
	set(&w.State, r.State)
	if r.User != nil {
		w.User = dedupe(*r.User)
	}
	if r.Party != nil {
		w.Party = slices.Clone(*r.Party)
	}
	setInt(&w.ExpiresIn, r.ExpiresIn)
	setInt(&w.ChatExpiresIn, r.ChatExpiresIn)
	set(&w.UnionID, r.UnionID)
	setBool(&w.IsExclusive, r.IsExclusive)
	if len(r.Conclusions) > 0 && string(r.Conclusions) != "null" {
		w.Conclusions = slices.Clone(r.Conclusions)
	}
}

func dedupe(in []string) []string {
	out := make([]string, 0, len(in))
	seen := map[string]bool{}
	for _, v := range in {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// validateWay applies WeCom's rules for a contact way; callers hold s.mu.
func (s *Sim) validateWay(w *ContactWay) *apiError {
	switch {
	case w.Type != 1 && w.Type != 2:
		return apiErr(CodeInvalidParam, "type must be 1 (single) or 2 (multi)")
	case w.Scene != 1 && w.Scene != 2:
		return apiErr(CodeInvalidParam, "scene must be 1 (mini program) or 2 (QR code)")
	}
	if e := tooLong("remark", w.Remark, 30); e != nil {
		return e
	}
	if e := tooLong("state", w.State, 30); e != nil {
		return e
	}
	if len(w.User) > 100 {
		return apiErr(CodeInvalidParam, "user exceeds 100 members")
	}
	if len(w.Party) > 100 {
		return apiErr(CodeInvalidParam, "party exceeds 100 departments")
	}
	for _, u := range w.User {
		if s.st.staff[u] == nil {
			return apiErr(CodeUserNotFound, u)
		}
	}
	for _, p := range w.Party {
		// The simulator has one department, the root (1), holding all staff.
		if p != 1 {
			return apiErr(CodeInvalidParty, strconv.Itoa(p))
		}
	}
	if w.Type == 1 && (len(w.User) != 1 || len(w.Party) != 0) {
		return apiErr(CodeInvalidParam, "a single-user contact way takes exactly one user")
	}
	if w.Type == 2 && len(w.User)+len(w.Party) == 0 {
		return apiErr(CodeInvalidParam, "user and party cannot both be empty")
	}
	if w.IsTemp {
		if w.Type != 1 {
			return apiErr(CodeInvalidParam, "a temporary contact way takes a single user")
		}
		if w.ExpiresIn == 0 {
			w.ExpiresIn = defaultExpiresInTemp
		}
		if w.ChatExpiresIn == 0 {
			w.ChatExpiresIn = defaultChatExpiresInTmp
		}
		if w.ExpiresIn < 0 || w.ExpiresIn > maxExpiresInTemp || w.ChatExpiresIn < 0 || w.ChatExpiresIn > maxExpiresInTemp {
			return apiErr(CodeInvalidParam, "expires_in and chat_expires_in must be within 14 days")
		}
	}
	return nil
}

func (s *Sim) qrURL(host, token string) string { return host + "/sim/qr/" + token }

func (s *Sim) apiAddContactWay(c *apiCall) (any, *apiError) {
	var req contactWayReq
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	w := &ContactWay{SkipVerify: true, User: []string{}, Party: []int{}}
	if req.Type != nil {
		w.Type = *req.Type
	}
	if req.Scene != nil {
		w.Scene = *req.Scene
	}
	if req.IsTemp != nil {
		w.IsTemp = *req.IsTemp
	}
	req.apply(w)

	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.validateWay(w); e != nil {
		return nil, e
	}
	if len(s.st.ways) >= s.st.quota {
		return nil, apiErr(CodeContactWayQuota, fmt.Sprintf("at most %d contact ways", s.st.quota))
	}
	w.ConfigID = s.newHexID(32)
	w.CreateTime = s.now().Unix()
	token := s.newID("", 24)
	w.QRCode = s.qrURL(c.host, token)
	s.st.qr[token] = qrTarget{kind: "contact", id: w.ConfigID}
	s.st.ways[w.ConfigID] = w
	s.st.wayOrder = append(s.st.wayOrder, w.ConfigID)
	res := struct {
		ConfigID string `json:"config_id"`
		QRCode   string `json:"qr_code,omitempty"`
	}{ConfigID: w.ConfigID}
	// WeCom returns a QR code only for the QR scene; the mini-program scene
	// has a button instead.
	if w.Scene == 2 {
		res.QRCode = w.QRCode
	}
	return res, nil
}

func (s *Sim) wayByReq(c *apiCall) (*ContactWay, *contactWayReq, *apiError) {
	var req contactWayReq
	if e := c.decode(&req); e != nil {
		return nil, nil, e
	}
	if req.ConfigID == nil || *req.ConfigID == "" {
		return nil, nil, apiErr(CodeInvalidParam, "config_id missing")
	}
	w := s.st.ways[*req.ConfigID]
	if w == nil {
		return nil, nil, apiErr(CodeInvalidParam, "invalid config_id")
	}
	return w, &req, nil
}

func (s *Sim) apiGetContactWay(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, _, e := s.wayByReq(c)
	if e != nil {
		return nil, e
	}
	v := cloneWay(w)
	v.CreateTime, v.Scans = 0, 0
	if v.Scene != 2 {
		v.QRCode = ""
	}
	if !v.IsTemp {
		v.ExpiresIn, v.ChatExpiresIn = 0, 0
	}
	return struct {
		ContactWay ContactWay `json:"contact_way"`
	}{v}, nil
}

func (s *Sim) apiUpdateContactWay(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, req, e := s.wayByReq(c)
	if e != nil {
		return nil, e
	}
	if w.IsTemp && s.wayExpired(w) {
		return nil, apiErr(CodeInvalidParam, "an expired temporary contact way cannot be edited")
	}
	// Validate a copy so that a rejected update leaves the way untouched.
	next := cloneWay(w)
	req.apply(&next)
	if e := s.validateWay(&next); e != nil {
		return nil, e
	}
	*w = next
	return nil, nil
}

func (s *Sim) wayExpired(w *ContactWay) bool {
	return w.IsTemp && !s.now().Before(time.Unix(w.CreateTime, 0).Add(time.Duration(w.ExpiresIn)*time.Second))
}

func (s *Sim) apiDelContactWay(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, _, e := s.wayByReq(c)
	if e != nil {
		return nil, e
	}
	delete(s.st.ways, w.ConfigID)
	s.st.wayOrder = slices.DeleteFunc(s.st.wayOrder, func(id string) bool { return id == w.ConfigID })
	for tok, t := range s.st.qr {
		if t.id == w.ConfigID {
			delete(s.st.qr, tok)
		}
	}
	return nil, nil
}

func (s *Sim) apiListContactWay(c *apiCall) (any, *apiError) {
	var req struct {
		StartTime int64  `json:"start_time"`
		EndTime   int64  `json:"end_time"`
		Cursor    string `json:"cursor"`
		Limit     int    `json:"limit"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	now := s.now().Unix()
	if req.EndTime == 0 {
		req.EndTime = now
	}
	if req.StartTime == 0 {
		req.StartTime = req.EndTime - 90*24*3600
	}
	if req.EndTime < req.StartTime {
		return nil, apiErr(CodeInvalidParam, "end_time before start_time")
	}
	if req.Limit == 0 {
		req.Limit = 100
	}
	if req.Limit < 0 || req.Limit > 1000 {
		return nil, apiErr(CodeInvalidParam, "limit must be within 1..1000")
	}
	offset := 0
	if req.Cursor != "" {
		n, err := strconv.Atoi(req.Cursor)
		if err != nil || n < 0 {
			return nil, apiErr(CodeInvalidParam, "invalid cursor")
		}
		offset = n
	}
	s.mu.Lock()
	var ids []string
	for _, id := range s.st.wayOrder {
		w := s.st.ways[id]
		if w.CreateTime >= req.StartTime && w.CreateTime <= req.EndTime {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	type item struct {
		ConfigID string `json:"config_id"`
	}
	res := struct {
		ContactWay []item `json:"contact_way"`
		NextCursor string `json:"next_cursor,omitempty"`
	}{ContactWay: []item{}}
	for i := offset; i < len(ids) && i < offset+req.Limit; i++ {
		res.ContactWay = append(res.ContactWay, item{ids[i]})
	}
	if offset+req.Limit < len(ids) {
		res.NextCursor = strconv.Itoa(offset + req.Limit)
	}
	return res, nil
}

// RestoreContactWay puts back a contact way an earlier run of the simulator
// made, under its own config_id and QR code URL, for a gateway whose
// database outlived it (a demo restarted on the same port). A config_id the
// simulator knows is left as it is.
func (s *Sim) RestoreContactWay(w ContactWay) error {
	if w.ConfigID == "" {
		return fmt.Errorf("wecomsim: a contact way to restore needs its config_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.st.ways[w.ConfigID]; ok {
		return nil
	}
	c := w
	if c.Type == 0 {
		c.Type = 1
		if len(c.User) > 1 {
			c.Type = 2
		}
	}
	if c.Scene == 0 {
		c.Scene = 2
	}
	if c.User == nil {
		c.User = []string{}
	}
	if c.Party == nil {
		c.Party = []int{}
	}
	c.CreateTime = s.now().Unix()
	if i := strings.LastIndex(c.QRCode, "/sim/qr/"); i >= 0 {
		s.st.qr[c.QRCode[i+len("/sim/qr/"):]] = qrTarget{kind: "contact", id: c.ConfigID}
	}
	s.st.ways[c.ConfigID] = &c
	s.st.wayOrder = append(s.st.wayOrder, c.ConfigID)
	return nil
}
