package wecomsim

import (
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// The customer side: what people do in WeChat and staff do in the WeCom
// client or admin console. Each action changes the corp's state and queues
// the callbacks WeCom would send, both under s.mu, so that events about one
// subject queue in the order the state changed.

// ctlError is a control API failure, rendered in the project's one error shape.
type ctlError struct {
	status int
	code   string
	msg    string
	field  string
}

func (e *ctlError) Error() string { return e.msg }

func badRequest(field, msg string) *ctlError {
	return &ctlError{status: http.StatusBadRequest, code: "invalid", msg: msg, field: field}
}

func notFound(field, msg string) *ctlError {
	return &ctlError{status: http.StatusNotFound, code: "not_found", msg: msg, field: field}
}

func conflict(code, msg string) *ctlError {
	return &ctlError{status: http.StatusConflict, code: code, msg: msg}
}

// qrToken takes the token out of a qr_code URL the simulator handed out.
func qrToken(qr string) string {
	if u, err := url.Parse(qr); err == nil && u.Path != "" {
		return path.Base(u.Path)
	}
	return path.Base(qr)
}

// resolveWay finds a contact way by config_id or qr_code; callers hold s.mu.
func (s *Sim) resolveWay(configID, qr, kind string) (string, *ctlError) {
	if configID != "" {
		return configID, nil
	}
	if qr == "" {
		return "", badRequest("config_id", "config_id or qr_code is required")
	}
	t, ok := s.st.qr[qrToken(qr)]
	if !ok || t.kind != kind {
		return "", notFound("qr_code", "unknown qr_code")
	}
	return t.id, nil
}

// customerFor finds or creates the customer a request names; callers hold s.mu.
func (s *Sim) customerFor(c Customer) (*customer, *ctlError) {
	if c.ExternalUserID != "" {
		cu := s.st.customers[c.ExternalUserID]
		if cu == nil {
			return nil, notFound("customer.external_userid", "unknown external_userid")
		}
		return cu, nil
	}
	if c.UnionID != "" && !c.Reissued {
		// WeCom maps one WeChat user to one external_userid per corp.
		if ext, ok := s.st.byUnionID[c.UnionID]; ok {
			return s.st.customers[ext], nil
		}
	}
	ext := s.newID("wm", 30)
	name := c.Name
	if name == "" {
		name = "客户" + strconv.Itoa(len(s.st.customerOrder)+1)
	}
	avatar := c.Avatar
	if avatar == "" {
		avatar = "http://wx.qlogo.cn/mmhead/" + ext + "/0"
	}
	cu := &customer{
		profile: ExternalContact{ExternalUserID: ext, Name: name, Avatar: avatar, Type: 1, Gender: c.Gender,
			UnionID: c.UnionID},
		follows: map[string]*relation{},
	}
	s.st.customers[ext] = cu
	s.st.customerOrder = append(s.st.customerOrder, ext)
	if c.UnionID != "" {
		s.st.byUnionID[c.UnionID] = ext
	}
	return cu, nil
}

// wayUsers lists who a scan can land on now: the way's users plus, for the
// root department, every staff member.
func (s *Sim) wayUsers(w *ContactWay) []string {
	out := []string{}
	for _, u := range w.User {
		if s.st.staff[u] != nil && !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	if slices.Contains(w.Party, 1) {
		for _, u := range s.st.staffOrder {
			if !slices.Contains(out, u) {
				out = append(out, u)
			}
		}
	}
	return out
}

// newWelcomeCode issues a single-use code valid for the welcome window from
// the event; callers hold s.mu.
func (s *Sim) newWelcomeCode(uid, ext, state string, at time.Time) string {
	s.sweepWelcomeCodes(at)
	code := s.newID("", 43)
	s.st.welcomeCodes[code] = &welcomeCode{code: code, userID: uid, extID: ext, state: state, eventTime: at}
	return code
}

// sweepWelcomeCodes forgets codes long past their window once the map has
// doubled, so that a long load run does not keep every code ever issued. A
// forgotten code answers 41050 (invalid or expired), which is what it is.
func (s *Sim) sweepWelcomeCodes(now time.Time) {
	if len(s.st.welcomeCodes) < 4096 || len(s.st.welcomeCodes) < 2*s.st.codesSwept {
		return
	}
	cutoff := now.Add(-s.opts.WelcomeWindow - 10*time.Minute)
	for code, wc := range s.st.welcomeCodes {
		if wc.eventTime.Before(cutoff) {
			delete(s.st.welcomeCodes, code)
		}
	}
	s.st.codesSwept = len(s.st.welcomeCodes)
}

// Scan plays a customer scanning a contact way: WeCom picks the staff member
// (type 1: the one user; type 2: uniformly at random among the way's users at
// this moment), makes the relation and sends add_external_contact (or
// add_half_external_contact when skip_verify is off) with the way's State
// and a fresh WelcomeCode.
func (s *Sim) Scan(req ScanRequest) (ScanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ce := s.resolveWay(req.ConfigID, req.QRCode, "contact")
	if ce != nil {
		return ScanResult{}, ce
	}
	w := s.st.ways[id]
	if w == nil {
		return ScanResult{}, notFound("config_id", "unknown contact way")
	}
	if s.wayExpired(w) {
		return ScanResult{}, &ctlError{status: http.StatusGone, code: "expired", msg: "the temporary contact way has expired"}
	}
	users := s.wayUsers(w)
	if len(users) == 0 {
		return ScanResult{}, conflict("no_staff", "the contact way has no staff to add")
	}
	uid := users[0]
	if w.Type == 2 {
		uid = users[s.picks.IntN(len(users))]
	}
	cu, ce := s.customerFor(req.Customer)
	if ce != nil {
		return ScanResult{}, ce
	}
	ext := cu.profile.ExternalUserID
	if r := cu.follows[uid]; r != nil && (r.status == RelationActive || r.status == RelationHalf) {
		// Already connected: WeCom just opens the chat and sends nothing.
		return ScanResult{UserID: uid, ExternalUserID: ext, State: r.state, AlreadyFriends: true}, nil
	}
	now := s.now()
	change, status := wecom.ChangeAddContact, RelationActive
	if !w.SkipVerify {
		change, status = wecom.ChangeAddHalfContact, RelationHalf
	}
	res := ScanResult{UserID: uid, ExternalUserID: ext, State: w.State, ChangeType: change}
	if !req.NoWelcomeCode {
		res.WelcomeCode = s.newWelcomeCode(uid, ext, w.State, now)
	}
	cu.setRelation(&relation{userID: uid, createTime: now.Unix(), operUserID: ext, addWay: 1, state: w.State,
		status: status, configID: w.ConfigID, welcomeCode: res.WelcomeCode})
	w.Scans++
	ev := s.newEvent(wecom.EventExternalContact, change, now)
	ev.UserID, ev.ExternalUserID, ev.State, ev.WelcomeCode = uid, ext, w.State, res.WelcomeCode
	if ids := s.emit(ev); len(ids) > 0 {
		res.EventID = ids[0]
	}
	return res, nil
}

// Accept completes a half add: the staff member accepts the request and
// WeCom sends add_external_contact. The WelcomeCode is absent when the one
// from the half add was already used.
func (s *Sim) Accept(req AcceptRequest) (ScanResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.relation(req.UserID, req.ExternalUserID)
	if r == nil || r.status != RelationHalf {
		return ScanResult{}, conflict("not_half", "no pending (half) relation between them")
	}
	now := s.now()
	r.status = RelationActive
	usedOnHalf := false
	if wc := s.st.welcomeCodes[r.welcomeCode]; wc != nil {
		usedOnHalf = wc.used
		wc.used = true // the half add's code is spent either way
	}
	res := ScanResult{UserID: r.userID, ExternalUserID: req.ExternalUserID, State: r.state,
		ChangeType: wecom.ChangeAddContact}
	if !usedOnHalf && r.welcomeCode != "" {
		res.WelcomeCode = s.newWelcomeCode(r.userID, req.ExternalUserID, r.state, now)
		r.welcomeCode = res.WelcomeCode
	}
	ev := s.newEvent(wecom.EventExternalContact, wecom.ChangeAddContact, now)
	ev.UserID, ev.ExternalUserID, ev.State, ev.WelcomeCode = r.userID, req.ExternalUserID, r.state, res.WelcomeCode
	if ids := s.emit(ev); len(ids) > 0 {
		res.EventID = ids[0]
	}
	return res, nil
}

// createGroup makes a group owned by a staff member; callers hold s.mu.
func (s *Sim) createGroup(name, owner string, members []string, at time.Time) *group {
	g := &group{Group: Group{ChatID: s.newID("wr", 30), Name: name, Owner: owner, CreateTime: at.Unix(),
		AdminList: []GroupAdmin{}}}
	g.MemberList = append(g.MemberList, GroupMember{UserID: owner, Type: 1, JoinTime: at.Unix(), JoinScene: 1,
		Name: s.st.staff[owner].Name})
	for _, m := range members {
		if m == owner || g.member(m) >= 0 {
			continue
		}
		g.MemberList = append(g.MemberList, GroupMember{UserID: m, Type: 1, JoinTime: at.Unix(), JoinScene: 1,
			Invitor: &Invitor{UserID: owner}, Name: s.st.staff[m].Name})
	}
	g.bump()
	s.st.groups[g.ChatID] = g
	s.st.groupOrder = append(s.st.groupOrder, g.ChatID)
	return g
}

// CreateGroup makes a customer group as if a staff member created it in the
// client, and sends change_external_chat/create unless Silent.
func (s *Sim) CreateGroup(req CreateGroupRequest) (Group, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.staff[req.Owner] == nil {
		return Group{}, notFound("owner", "unknown staff userid "+strconv.Quote(req.Owner))
	}
	for _, m := range req.Members {
		if s.st.staff[m] == nil {
			return Group{}, notFound("members", "unknown staff userid "+strconv.Quote(m))
		}
	}
	now := s.now()
	name := req.Name
	if name == "" {
		name = "群聊" + strconv.Itoa(len(s.st.groupOrder)+1)
	}
	g := s.createGroup(name, req.Owner, req.Members, now)
	v := g.view(s.st.capacity)
	ev := s.newEvent(wecom.EventExternalChat, wecom.ChangeChatCreate, now)
	ev.ChatID = g.ChatID
	if !req.Silent {
		s.emit(ev)
	}
	return v, nil
}

// Join plays a customer scanning a join way's group QR code. The customer
// lands in the first listed group with room; when all are full and
// auto_create_room is on, WeCom makes a new group named room_base_name+N
// (N from room_base_id up) and adds it to the way.
func (s *Sim) Join(req JoinRequest) (JoinResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	id, ce := s.resolveWay(req.ConfigID, req.QRCode, "join")
	if ce != nil {
		return JoinResult{}, ce
	}
	jw := s.st.joinWays[id]
	if jw == nil {
		return JoinResult{}, notFound("config_id", "unknown join way")
	}
	member := GroupMember{Type: 2, JoinScene: 3, State: jw.State}
	if req.UserID != "" {
		sf := s.st.staff[req.UserID]
		if sf == nil {
			return JoinResult{}, notFound("userid", "unknown staff member")
		}
		member.UserID, member.Type, member.Name = sf.UserID, 1, sf.Name
	} else {
		cu, ce := s.customerFor(req.Customer)
		if ce != nil {
			return JoinResult{}, ce
		}
		member.UserID, member.UnionID, member.Name = cu.profile.ExternalUserID, cu.profile.UnionID, cu.profile.Name
	}
	ext := member.UserID
	var target, first *group
	for _, cid := range jw.ChatIDList {
		g := s.st.groups[cid]
		if g == nil || g.Dismissed {
			continue
		}
		if first == nil {
			first = g
		}
		if g.member(ext) >= 0 {
			return JoinResult{}, conflict("already_member", "the customer is already in "+cid)
		}
		if target == nil && len(g.MemberList) < s.st.capacity {
			target = g
		}
	}
	now := s.now()
	var evs []*wecom.Event
	created := false
	if target == nil {
		if jw.AutoCreateRoom != 1 {
			return JoinResult{}, conflict("groups_full", "every group of the join way is full and auto_create_room is off")
		}
		owner := s.st.staffOrder[0]
		if first != nil {
			owner = first.Owner
		}
		n := jw.NextRoomID
		if n == 0 {
			n = max(jw.RoomBaseID, 1)
		}
		jw.NextRoomID = n + 1
		base := jw.RoomBaseName
		if base == "" {
			base = "群聊"
		}
		target = s.createGroup(base+strconv.Itoa(n), owner, nil, now)
		jw.ChatIDList = append(jw.ChatIDList, target.ChatID)
		created = true
		ev := s.newEvent(wecom.EventExternalChat, wecom.ChangeChatCreate, now)
		ev.ChatID = target.ChatID
		evs = append(evs, ev)
	}
	member.JoinTime = now.Unix()
	target.MemberList = append(target.MemberList, member)
	last, cur := target.bump()
	jw.Joins++
	ev := s.newEvent(wecom.EventExternalChat, wecom.ChangeChatUpdate, now)
	ev.ChatID, ev.UpdateDetail, ev.JoinScene = target.ChatID, "add_member", 3
	ev.MemChangeCnt, ev.MemChangeList = 1, &wecom.MemChangeList{Item: []string{ext}}
	ev.LastMemVer, ev.CurMemVer = last, cur
	evs = append(evs, ev)
	res := JoinResult{ChatID: target.ChatID, ExternalUserID: ext, State: jw.State, JoinScene: 3,
		CreatedChat: created, MemberVersion: cur, MemberCount: len(target.MemberList)}
	if member.Type == 1 {
		res.ExternalUserID, res.UserID = "", ext
	}
	ids := s.emit(evs...)
	if len(ids) > 0 {
		res.EventID = ids[len(ids)-1]
	}
	return res, nil
}

// LeaveGroup removes a member and sends del_member with QuitScene.
func (s *Sim) LeaveGroup(req LeaveGroupRequest) (GroupChangeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[req.ChatID]
	if g == nil || g.Dismissed {
		return GroupChangeResult{}, notFound("chat_id", "unknown group")
	}
	i := g.member(req.ExternalUserID)
	if i < 0 {
		return GroupChangeResult{}, notFound("external_userid", "not a member of the group")
	}
	if req.ExternalUserID == g.Owner {
		return GroupChangeResult{}, conflict("owner", "the owner cannot leave; dismiss the group instead")
	}
	g.MemberList = slices.Delete(g.MemberList, i, i+1)
	last, cur := g.bump()
	ev := s.newEvent(wecom.EventExternalChat, wecom.ChangeChatUpdate, s.now())
	ev.ChatID, ev.UpdateDetail, ev.QuitScene = g.ChatID, "del_member", req.QuitScene
	ev.MemChangeCnt, ev.MemChangeList = 1, &wecom.MemChangeList{Item: []string{req.ExternalUserID}}
	ev.LastMemVer, ev.CurMemVer = last, cur
	res := GroupChangeResult{ChatID: g.ChatID, MemberVersion: cur, MemberCount: len(g.MemberList)}
	if ids := s.emit(ev); len(ids) > 0 {
		res.EventID = ids[0]
	}
	return res, nil
}

// FillGroup adds synthetic customers, silently, up to the group's capacity.
func (s *Sim) FillGroup(chatID string, req FillGroupRequest) (Group, error) {
	if req.Count < 0 {
		return Group{}, badRequest("count", "count must not be negative")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[chatID]
	if g == nil || g.Dismissed {
		return Group{}, notFound("chat_id", "unknown group")
	}
	now := s.now()
	for i := 0; i < req.Count && len(g.MemberList) < s.st.capacity; i++ {
		cu, _ := s.customerFor(Customer{})
		g.MemberList = append(g.MemberList, GroupMember{UserID: cu.profile.ExternalUserID, Type: 2,
			JoinTime: now.Unix(), JoinScene: 1, Invitor: &Invitor{UserID: g.Owner}, Name: cu.profile.Name})
	}
	g.bump()
	return g.view(s.st.capacity), nil
}

// DismissGroup dismisses a group and sends change_external_chat/dismiss.
func (s *Sim) DismissGroup(chatID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[chatID]
	if g == nil || g.Dismissed {
		return notFound("chat_id", "unknown group")
	}
	g.Dismissed = true
	ev := s.newEvent(wecom.EventExternalChat, wecom.ChangeChatDismiss, s.now())
	ev.ChatID = chatID
	s.emit(ev)
	return nil
}

// DeleteStaff plays a customer deleting a staff member: del_follow_user.
func (s *Sim) DeleteStaff(req RelationRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.relation(req.UserID, req.ExternalUserID)
	if r == nil || (r.status != RelationActive && r.status != RelationHalf) {
		return notFound("external_userid", "no live relation between them")
	}
	r.status = RelationDeletedByCustomer
	ev := s.newEvent(wecom.EventExternalContact, wecom.ChangeDelFollowUser, s.now())
	ev.UserID, ev.ExternalUserID = req.UserID, req.ExternalUserID
	s.emit(ev)
	return nil
}

// StaffDeletes plays a staff member deleting a customer: del_external_contact.
func (s *Sim) StaffDeletes(req StaffDeletesRequest) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.relation(req.UserID, req.ExternalUserID)
	if r == nil || r.status == RelationDeletedByStaff {
		return notFound("external_userid", "no relation between them")
	}
	r.status = RelationDeletedByStaff
	ev := s.newEvent(wecom.EventExternalContact, wecom.ChangeDelContact, s.now())
	ev.UserID, ev.ExternalUserID, ev.Source = req.UserID, req.ExternalUserID, req.Source
	s.emit(ev)
	return nil
}

// EditContact applies a console-side remark or tag edit and sends
// edit_external_contact.
func (s *Sim) EditContact(req EditContactRequest) error {
	if req.Remark != nil && runes(*req.Remark) > 20 {
		return badRequest("remark", "remark exceeds 20 characters")
	}
	if req.Description != nil && runes(*req.Description) > 150 {
		return badRequest("description", "description exceeds 150 characters")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.st.relation(req.UserID, req.ExternalUserID)
	if r == nil || r.status != RelationActive {
		return notFound("external_userid", "no active relation between them")
	}
	next := *r
	next.tagIDs = slices.Clone(r.tagIDs)
	if e := s.applyTags(&next, req.AddTag, req.RemoveTag); e != nil {
		return badRequest("add_tag", e.msg)
	}
	if req.Remark != nil {
		next.remark = *req.Remark
	}
	if req.Description != nil {
		next.description = *req.Description
	}
	*r = next
	ev := s.newEvent(wecom.EventExternalContact, wecom.ChangeEditContact, s.now())
	ev.UserID, ev.ExternalUserID = req.UserID, req.ExternalUserID
	s.emit(ev)
	return nil
}

// TagChange applies a console-side change to the tag catalogue and sends
// change_external_tag.
func (s *Sim) TagChange(req TagChangeRequest) (TagChangeResult, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	res := TagChangeResult{ChangeType: req.ChangeType, TagType: req.TagType}
	switch req.ChangeType {
	case wecom.ChangeTagCreate:
		if req.Name == "" || runes(req.Name) > 30 {
			return res, badRequest("name", "name must be 1..30 characters")
		}
		switch req.TagType {
		case TagTypeGroup:
			if req.GroupName == "" || runes(req.GroupName) > 30 || s.tagGroupByName(req.GroupName) != nil {
				return res, badRequest("group_name", "group_name must be new and 1..30 characters")
			}
			g := s.newTagGroup(req.GroupName, 0, now.Unix())
			s.newTag(g, req.Name, 0, now.Unix())
			res.ID = g.GroupID
		case TagTypeTag, "":
			res.TagType = TagTypeTag
			g := s.st.tagGroup[req.GroupID]
			if g == nil && req.GroupID == "" && req.GroupName != "" {
				if g = s.tagGroupByName(req.GroupName); g == nil {
					g = s.newTagGroup(req.GroupName, 0, now.Unix())
				}
			}
			if g == nil {
				return res, notFound("group_id", "unknown tag group")
			}
			if slices.ContainsFunc(g.Tag, func(t Tag) bool { return t.Name == req.Name }) {
				return res, conflict("exists", "a tag with that name exists in the group")
			}
			res.ID = s.newTag(g, req.Name, 0, now.Unix()).ID
		default:
			return res, badRequest("tag_type", "tag_type must be tag or tag_group")
		}
	case wecom.ChangeTagUpdate:
		if req.Name == "" {
			return res, badRequest("name", "name is required")
		}
		typ, e := s.renameTag(req.ID, req.Name, nil)
		if e != nil {
			return res, badRequest("id", e.msg)
		}
		res.ID, res.TagType = req.ID, typ
	case wecom.ChangeTagDelete:
		typ, e := s.deleteTag(req.ID)
		if e != nil {
			return res, notFound("id", e.msg)
		}
		res.ID, res.TagType = req.ID, typ
	case wecom.ChangeTagShuffle:
		if req.ID == "" {
			slices.Reverse(s.st.tagGroups)
			for i, g := range s.st.tagGroups {
				g.Order = len(s.st.tagGroups) - i
			}
		} else {
			g := s.st.tagGroup[req.ID]
			if g == nil {
				return res, notFound("id", "unknown tag group")
			}
			slices.Reverse(g.Tag)
			for i := range g.Tag {
				g.Tag[i].Order = len(g.Tag) - i
			}
		}
		// A shuffle event names the group only; WeCom sends no TagType.
		res.ID, res.TagType = req.ID, ""
	default:
		return res, badRequest("change_type", "change_type must be create, update, delete or shuffle")
	}
	ev := s.newEvent(wecom.EventExternalTag, req.ChangeType, now)
	ev.ID, ev.TagType, ev.StrategyID = res.ID, res.TagType, req.StrategyID
	if ids := s.emit(ev); len(ids) > 0 {
		res.EventID = ids[0]
	}
	return res, nil
}

// AddStaff adds a staff member to the corp.
func (s *Sim) AddStaff(sf Staff) error {
	if sf.UserID == "" {
		return badRequest("userid", "userid is required")
	}
	if sf.Name == "" {
		sf.Name = sf.UserID
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.st.addStaff(sf) {
		return conflict("exists", "userid already exists")
	}
	return nil
}
