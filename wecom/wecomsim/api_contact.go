package wecomsim

import (
	"slices"
	"strconv"
)

func (s *Sim) apiExternalContactGet(c *apiCall) (any, *apiError) {
	ext := c.r.URL.Query().Get("external_userid")
	if ext == "" {
		return nil, apiErr(CodeInvalidExternalUser, "external_userid missing")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.st.customers[ext]
	if cu == nil {
		return nil, apiErr(CodeInvalidExternalUser, "")
	}
	v := s.st.contact(cu, false)
	if len(v.FollowUser) == 0 {
		return nil, apiErr(CodeNoExternalRelation, "")
	}
	return v, nil
}

func (s *Sim) apiExternalContactList(c *apiCall) (any, *apiError) {
	uid := c.r.URL.Query().Get("userid")
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.st.staff[uid] == nil {
		return nil, apiErr(CodeUserNotFound, uid)
	}
	ids := []string{}
	for _, ext := range s.st.customerOrder {
		if r := s.st.customers[ext].follows[uid]; r != nil && r.status == RelationActive {
			ids = append(ids, ext)
		}
	}
	if len(ids) == 0 {
		return nil, apiErr(CodeNoExternalRelation, "")
	}
	return struct {
		ExternalUserID []string `json:"external_userid"`
	}{ids}, nil
}

// apiUserList answers user/list (GET, department_id, fetch_child) as WeCom
// does: the members of a department, with their departments and avatar.
func (s *Sim) apiUserList(c *apiCall) (any, *apiError) {
	q := c.r.URL.Query()
	dept, err := strconv.Atoi(q.Get("department_id"))
	if err != nil || dept <= 0 {
		return nil, apiErr(CodeInvalidParam, "department_id")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	want := map[int]bool{dept: true}
	if q.Get("fetch_child") == "1" {
		want = s.st.subtree(dept)
	}
	type user struct {
		UserID     string `json:"userid"`
		Name       string `json:"name"`
		Department []int  `json:"department"`
		Avatar     string `json:"avatar"`
		Status     int    `json:"status"`
	}
	list := []user{}
	for _, id := range s.st.staffOrder {
		sf := s.st.staff[id]
		depts := sf.Departments
		if len(depts) == 0 {
			depts = []int{1}
		}
		if slices.ContainsFunc(depts, func(d int) bool { return want[d] }) {
			list = append(list, user{UserID: sf.UserID, Name: sf.Name, Department: depts, Avatar: sf.Avatar, Status: 1})
		}
	}
	return struct {
		UserList []user `json:"userlist"`
	}{list}, nil
}

// apiDepartmentList answers department/list (GET, optional id: that
// department and those under it).
func (s *Sim) apiDepartmentList(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := append([]Department{}, s.st.departments...)
	if v := c.r.URL.Query().Get("id"); v != "" {
		id, err := strconv.Atoi(v)
		if err != nil {
			return nil, apiErr(CodeInvalidParam, "id")
		}
		keep := s.st.subtree(id)
		out = slices.DeleteFunc(out, func(d Department) bool { return !keep[d.ID] })
	}
	return struct {
		Department []Department `json:"department"`
	}{out}, nil
}

// subtree is the department id and every department under it.
func (st *corpState) subtree(id int) map[int]bool {
	in := map[int]bool{id: true}
	for changed := true; changed; {
		changed = false
		for _, d := range st.departments {
			if in[d.ParentID] && !in[d.ID] {
				in[d.ID], changed = true, true
			}
		}
	}
	return in
}

func (s *Sim) apiFollowUserList(c *apiCall) (any, *apiError) {
	s.mu.Lock()
	defer s.mu.Unlock()
	// Every staff member has the customer-contact permission here.
	users := append([]string{}, s.st.staffOrder...)
	return struct {
		FollowUser []string `json:"follow_user"`
	}{users}, nil
}

// activeRelation resolves userid + external_userid to a live relation,
// answering WeCom's codes for each way it can fail; callers hold s.mu.
func (s *Sim) activeRelation(uid, ext string) (*relation, *apiError) {
	if uid == "" || s.st.staff[uid] == nil {
		return nil, apiErr(CodeUserNotFound, uid)
	}
	cu := s.st.customers[ext]
	if ext == "" || cu == nil {
		return nil, apiErr(CodeInvalidExternalUser, "")
	}
	r := cu.follows[uid]
	if r == nil || r.status != RelationActive {
		return nil, apiErr(CodeNoExternalRelation, "")
	}
	return r, nil
}

func (s *Sim) apiRemark(c *apiCall) (any, *apiError) {
	var req struct {
		UserID           string    `json:"userid"`
		ExternalUserID   string    `json:"external_userid"`
		Remark           string    `json:"remark"`
		Description      string    `json:"description"`
		RemarkCompany    string    `json:"remark_company"`
		RemarkMobiles    *[]string `json:"remark_mobiles"`
		RemarkPicMediaID string    `json:"remark_pic_mediaid"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if e := tooLong("remark", req.Remark, 20); e != nil {
		return nil, e
	}
	if e := tooLong("description", req.Description, 150); e != nil {
		return nil, e
	}
	if req.Remark == "" && req.Description == "" && req.RemarkCompany == "" && req.RemarkMobiles == nil &&
		req.RemarkPicMediaID == "" {
		return nil, apiErr(CodeInvalidParam, "remark, description, remark_company, remark_mobiles and remark_pic_mediaid cannot all be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.activeRelation(req.UserID, req.ExternalUserID)
	if e != nil {
		return nil, e
	}
	// Empty strings leave a field alone; remark_mobiles, when present,
	// replaces the list ([""] clears it), as WeCom documents.
	if req.Remark != "" {
		r.remark = req.Remark
	}
	if req.Description != "" {
		r.description = req.Description
	}
	if req.RemarkCompany != "" {
		r.remarkCorpName = req.RemarkCompany
	}
	if req.RemarkMobiles != nil {
		r.remarkMobiles = slices.DeleteFunc(slices.Clone(*req.RemarkMobiles), func(m string) bool { return m == "" })
	}
	return nil, nil
}

func (s *Sim) apiMarkTag(c *apiCall) (any, *apiError) {
	var req struct {
		UserID         string   `json:"userid"`
		ExternalUserID string   `json:"external_userid"`
		AddTag         []string `json:"add_tag"`
		RemoveTag      []string `json:"remove_tag"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if len(req.AddTag) == 0 && len(req.RemoveTag) == 0 {
		return nil, apiErr(CodeInvalidParam, "add_tag and remove_tag cannot both be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r, e := s.activeRelation(req.UserID, req.ExternalUserID)
	if e != nil {
		return nil, e
	}
	if e := s.applyTags(r, req.AddTag, req.RemoveTag); e != nil {
		return nil, e
	}
	return nil, nil
}

// applyTags checks every tag exists, then adds and removes; callers hold s.mu.
func (s *Sim) applyTags(r *relation, add, remove []string) *apiError {
	for _, id := range append(slices.Clone(add), remove...) {
		if s.st.tagOwner[id] == nil {
			return apiErr(CodeInvalidTagID, id)
		}
	}
	for _, id := range add {
		if !slices.Contains(r.tagIDs, id) {
			r.tagIDs = append(r.tagIDs, id)
		}
	}
	r.tagIDs = slices.DeleteFunc(r.tagIDs, func(id string) bool { return slices.Contains(remove, id) })
	return nil
}

func (s *Sim) apiGetCorpTagList(c *apiCall) (any, *apiError) {
	var req struct {
		TagID   []string `json:"tag_id"`
		GroupID []string `json:"group_id"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []TagGroup{}
	for _, g := range s.st.tagGroups {
		switch {
		case len(req.GroupID) > 0:
			// With both filters WeCom ignores tag_id.
			if slices.Contains(req.GroupID, g.GroupID) {
				out = append(out, cloneTagGroup(g))
			}
		case len(req.TagID) > 0:
			v := cloneTagGroup(g)
			v.Tag = slices.DeleteFunc(v.Tag, func(t Tag) bool { return !slices.Contains(req.TagID, t.ID) })
			if len(v.Tag) > 0 {
				out = append(out, v)
			}
		default:
			out = append(out, cloneTagGroup(g))
		}
	}
	return struct {
		TagGroup []TagGroup `json:"tag_group"`
	}{out}, nil
}

func (s *Sim) apiAddCorpTag(c *apiCall) (any, *apiError) {
	var req struct {
		GroupID   string `json:"group_id"`
		GroupName string `json:"group_name"`
		Order     int    `json:"order"`
		Tag       []struct {
			Name  string `json:"name"`
			Order int    `json:"order"`
		} `json:"tag"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if len(req.Tag) == 0 {
		return nil, apiErr(CodeInvalidParam, "tag is empty")
	}
	names := map[string]bool{}
	for _, t := range req.Tag {
		if t.Name == "" || runes(t.Name) > 30 {
			return nil, apiErr(CodeInvalidTagName, t.Name)
		}
		if names[t.Name] {
			return nil, apiErr(CodeTagNameExists, t.Name)
		}
		names[t.Name] = true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var g *TagGroup
	switch {
	case req.GroupID != "":
		if g = s.st.tagGroup[req.GroupID]; g == nil {
			return nil, apiErr(CodeInvalidTagID, req.GroupID)
		}
	case req.GroupName != "":
		if runes(req.GroupName) > 30 {
			return nil, apiErr(CodeInvalidTagName, req.GroupName)
		}
		g = s.tagGroupByName(req.GroupName)
	default:
		return nil, apiErr(CodeInvalidParam, "group_id or group_name is required")
	}
	if g != nil {
		for _, t := range g.Tag {
			if names[t.Name] {
				return nil, apiErr(CodeTagNameExists, t.Name)
			}
		}
	}
	now := s.now().Unix()
	if g == nil {
		g = s.newTagGroup(req.GroupName, req.Order, now)
	}
	added := TagGroup{GroupID: g.GroupID, GroupName: g.GroupName, CreateTime: g.CreateTime, Order: g.Order}
	for _, t := range req.Tag {
		tag := s.newTag(g, t.Name, t.Order, now)
		added.Tag = append(added.Tag, tag)
	}
	return struct {
		TagGroup TagGroup `json:"tag_group"`
	}{added}, nil
}

func (s *Sim) tagGroupByName(name string) *TagGroup {
	for _, g := range s.st.tagGroups {
		if g.GroupName == name {
			return g
		}
	}
	return nil
}

func (s *Sim) newTagGroup(name string, order int, now int64) *TagGroup {
	g := &TagGroup{GroupID: s.newID("et", 30), GroupName: name, CreateTime: now, Order: order, Tag: []Tag{}}
	s.st.tagGroups = append(s.st.tagGroups, g)
	s.st.tagGroup[g.GroupID] = g
	return g
}

func (s *Sim) newTag(g *TagGroup, name string, order int, now int64) Tag {
	t := Tag{ID: s.newID("et", 30), Name: name, CreateTime: now, Order: order}
	g.Tag = append(g.Tag, t)
	s.st.tagOwner[t.ID] = g
	return t
}

// renameTag renames a tag or a group by id; callers hold s.mu.
func (s *Sim) renameTag(id, name string, order *int) (string, *apiError) {
	if name != "" && runes(name) > 30 {
		return "", apiErr(CodeInvalidTagName, name)
	}
	if g := s.st.tagGroup[id]; g != nil {
		if name != "" {
			if other := s.tagGroupByName(name); other != nil && other != g {
				return "", apiErr(CodeTagNameExists, name)
			}
			g.GroupName = name
		}
		if order != nil {
			g.Order = *order
		}
		return TagTypeGroup, nil
	}
	g := s.st.tagOwner[id]
	if g == nil {
		return "", apiErr(CodeInvalidTagID, id)
	}
	i := slices.IndexFunc(g.Tag, func(t Tag) bool { return t.ID == id })
	if name != "" {
		if j := slices.IndexFunc(g.Tag, func(t Tag) bool { return t.Name == name }); j >= 0 && j != i {
			return "", apiErr(CodeTagNameExists, name)
		}
		g.Tag[i].Name = name
	}
	if order != nil {
		g.Tag[i].Order = *order
	}
	return TagTypeTag, nil
}

// deleteTag deletes a tag or a whole group; a group left without tags goes
// too, as in WeCom. Callers hold s.mu.
func (s *Sim) deleteTag(id string) (string, *apiError) {
	if g := s.st.tagGroup[id]; g != nil {
		for _, t := range g.Tag {
			delete(s.st.tagOwner, t.ID)
			s.st.removeTagEverywhere(t.ID)
		}
		s.dropTagGroup(g)
		return TagTypeGroup, nil
	}
	g := s.st.tagOwner[id]
	if g == nil {
		return "", apiErr(CodeInvalidTagID, id)
	}
	g.Tag = slices.DeleteFunc(g.Tag, func(t Tag) bool { return t.ID == id })
	delete(s.st.tagOwner, id)
	s.st.removeTagEverywhere(id)
	if len(g.Tag) == 0 {
		s.dropTagGroup(g)
	}
	return TagTypeTag, nil
}

func (s *Sim) dropTagGroup(g *TagGroup) {
	delete(s.st.tagGroup, g.GroupID)
	s.st.tagGroups = slices.DeleteFunc(s.st.tagGroups, func(x *TagGroup) bool { return x == g })
}

func (s *Sim) apiEditCorpTag(c *apiCall) (any, *apiError) {
	var req struct {
		ID    string `json:"id"`
		Name  string `json:"name"`
		Order *int   `json:"order"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if req.ID == "" {
		return nil, apiErr(CodeInvalidTagID, "id missing")
	}
	if req.Name == "" && req.Order == nil {
		return nil, apiErr(CodeInvalidParam, "name and order cannot both be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, e := s.renameTag(req.ID, req.Name, req.Order); e != nil {
		return nil, e
	}
	return nil, nil
}

func (s *Sim) apiDelCorpTag(c *apiCall) (any, *apiError) {
	var req struct {
		TagID   []string `json:"tag_id"`
		GroupID []string `json:"group_id"`
	}
	if e := c.decode(&req); e != nil {
		return nil, e
	}
	if len(req.TagID) == 0 && len(req.GroupID) == 0 {
		return nil, apiErr(CodeInvalidParam, "tag_id and group_id cannot both be empty")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Check everything first so that a bad id deletes nothing.
	for _, id := range req.TagID {
		if s.st.tagOwner[id] == nil {
			return nil, apiErr(CodeInvalidTagID, id)
		}
	}
	for _, id := range req.GroupID {
		if s.st.tagGroup[id] == nil {
			return nil, apiErr(CodeInvalidTagID, id)
		}
	}
	for _, id := range append(slices.Clone(req.TagID), req.GroupID...) {
		if s.st.tagOwner[id] != nil || s.st.tagGroup[id] != nil {
			if _, e := s.deleteTag(id); e != nil {
				return nil, e
			}
		}
	}
	return nil, nil
}
