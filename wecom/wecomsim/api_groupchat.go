package wecomsim

import (
	"slices"
	"strconv"
)

type joinWayReq struct {
	ConfigID       *string   `json:"config_id"`
	Scene          *int      `json:"scene"`
	Remark         *string   `json:"remark"`
	AutoCreateRoom *int      `json:"auto_create_room"`
	RoomBaseName   *string   `json:"room_base_name"`
	RoomBaseID     *int      `json:"room_base_id"`
	ChatIDList     *[]string `json:"chat_id_list"`
	State          *string   `json:"state"`
}

func (r *joinWayReq) apply(w *JoinWay) {
	if r.Scene != nil {
		w.Scene = *r.Scene
	}
	if r.Remark != nil {
		w.Remark = *r.Remark
	}
	if r.AutoCreateRoom != nil {
		w.AutoCreateRoom = *r.AutoCreateRoom
	}
	if r.RoomBaseName != nil {
		w.RoomBaseName = *r.RoomBaseName
	}
	// Numbering restarts only when room_base_id really changes: clients that
	// resend the whole config on every update must not get duplicate names.
	if r.RoomBaseID != nil && *r.RoomBaseID != w.RoomBaseID {
		w.RoomBaseID = *r.RoomBaseID
		w.NextRoomID = 0
	}
	if r.ChatIDList != nil {
		w.ChatIDList = dedupe(*r.ChatIDList)
	}
	if r.State != nil {
		w.State = *r.State
	}
}

// validateJoinWay applies WeCom's rules; callers hold s.mu.
func (s *Sim) validateJoinWay(w *JoinWay) *apiError {
	switch {
	case w.Scene != 1 && w.Scene != 2:
		return apiErr(CodeInvalidParam, "scene must be 1 (mini program) or 2 (QR code)")
	case w.AutoCreateRoom != 0 && w.AutoCreateRoom != 1:
		return apiErr(CodeInvalidParam, "auto_create_room must be 0 or 1")
	case len(w.ChatIDList) == 0:
		return apiErr(CodeInvalidParam, "chat_id_list is empty")
	case len(w.ChatIDList) > 5:
		return apiErr(CodeInvalidParam, "chat_id_list exceeds 5 groups")
	}
	for _, e := range []*apiError{tooLong("remark", w.Remark, 30), tooLong("state", w.State, 30),
		tooLong("room_base_name", w.RoomBaseName, 40)} {
		if e != nil {
			return e
		}
	}
	for _, id := range w.ChatIDList {
		if g := s.st.groups[id]; g == nil || g.Dismissed {
			return apiErr(CodeChatNotFound, id)
		}
	}
	return nil
}

func (s *Sim) apiAddJoinWay(c *apiCall) (any, *apiError) {
	var req joinWayReq
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	// auto_create_room defaults to 1 when absent; an explicit 0 turns it off.
	w := &JoinWay{AutoCreateRoom: 1}
	req.apply(w)
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.validateJoinWay(w); e != nil {
		return nil, e
	}
	w.ConfigID = s.newHexID(32)
	token := s.newID("", 24)
	w.QRCode = s.qrURL(c.host, token)
	s.st.qr[token] = qrTarget{kind: "join", id: w.ConfigID}
	s.st.joinWays[w.ConfigID] = w
	return struct {
		ConfigID string `json:"config_id"`
	}{w.ConfigID}, nil
}

func (s *Sim) joinWayByReq(c *apiCall) (*JoinWay, *joinWayReq, *apiError) {
	var req joinWayReq
	if e := c.decode(&req); e != nil {
		return nil, nil, e
	}
	if req.ConfigID == nil || *req.ConfigID == "" {
		return nil, nil, apiErr(CodeInvalidParam, "config_id missing")
	}
	w := s.st.joinWays[*req.ConfigID]
	if w == nil {
		return nil, nil, apiErr(CodeInvalidParam, "invalid config_id")
	}
	return w, &req, nil
}

func (s *Sim) apiGetJoinWay(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, _, e := s.joinWayByReq(c)
	if e != nil {
		return nil, e
	}
	v := cloneJoinWay(w)
	v.NextRoomID, v.Joins = 0, 0
	if v.Scene != 2 {
		v.QRCode = ""
	}
	return struct {
		JoinWay JoinWay `json:"join_way"`
	}{v}, nil
}

func (s *Sim) apiUpdateJoinWay(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, req, e := s.joinWayByReq(c)
	if e != nil {
		return nil, e
	}
	next := cloneJoinWay(w)
	req.apply(&next)
	if e := s.validateJoinWay(&next); e != nil {
		return nil, e
	}
	*w = next
	return nil, nil
}

func (s *Sim) apiDelJoinWay(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w, _, e := s.joinWayByReq(c)
	if e != nil {
		return nil, e
	}
	delete(s.st.joinWays, w.ConfigID)
	for tok, t := range s.st.qr {
		if t.id == w.ConfigID {
			delete(s.st.qr, tok)
		}
	}
	return nil, nil
}

func (s *Sim) apiGroupChatGet(c *apiCall) (any, *apiError) {
	var req struct {
		ChatID   string `json:"chat_id"`
		NeedName int    `json:"need_name"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if req.ChatID == "" {
		return nil, apiErr(CodeInvalidParam, "chat_id missing")
	}
	s.mu.Lock()
	g := s.st.groups[req.ChatID]
	if g == nil || g.Dismissed {
		s.mu.Unlock()
		return nil, apiErr(CodeChatNotFound, "")
	}
	v := g.view(0)
	s.mu.Unlock()
	v.Capacity, v.Dismissed = 0, false
	if req.NeedName != 1 {
		for i := range v.MemberList {
			v.MemberList[i].Name = ""
		}
	}
	if v.MemberList == nil {
		v.MemberList = []GroupMember{}
	}
	return struct {
		GroupChat Group `json:"group_chat"`
	}{v}, nil
}

func (s *Sim) apiGroupChatList(c *apiCall) (any, *apiError) {
	var req struct {
		StatusFilter int `json:"status_filter"`
		OwnerFilter  struct {
			UserIDList []string `json:"userid_list"`
		} `json:"owner_filter"`
		Cursor string `json:"cursor"`
		Limit  int    `json:"limit"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if req.Limit < 1 || req.Limit > 1000 {
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
	type item struct {
		ChatID string `json:"chat_id"`
		Status int    `json:"status"`
	}
	var all []item
	s.mu.Lock()
	for _, id := range s.st.groupOrder {
		g := s.st.groups[id]
		if g.Dismissed {
			continue
		}
		if len(req.OwnerFilter.UserIDList) > 0 && !slices.Contains(req.OwnerFilter.UserIDList, g.Owner) {
			continue
		}
		// Every simulated group is followed normally (status 0); the
		// resignation states 1..3 never occur.
		if req.StatusFilter != 0 {
			continue
		}
		all = append(all, item{ChatID: id})
	}
	s.mu.Unlock()
	res := struct {
		GroupChatList []item `json:"group_chat_list"`
		NextCursor    string `json:"next_cursor,omitempty"`
	}{GroupChatList: []item{}}
	for i := offset; i < len(all) && i < offset+req.Limit; i++ {
		res.GroupChatList = append(res.GroupChatList, all[i])
	}
	if offset+req.Limit < len(all) {
		res.NextCursor = strconv.Itoa(offset + req.Limit)
	}
	return res, nil
}
