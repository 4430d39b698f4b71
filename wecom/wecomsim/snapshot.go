package wecomsim

import (
	"cmp"
	"encoding/json"
	"fmt"
	"slices"
)

// snapshotVersion is bumped when the snapshot's shape changes incompatibly;
// Restore refuses another version rather than half-load it.
const snapshotVersion = 1

// Snapshot is the simulated corp's lasting state: the directory, customers
// and their follow relations, contact and join ways with their QR codes,
// group chats, corp tags, uploaded media and group welcome templates. It
// leaves out what only lives seconds in WeCom too (welcome codes, the call
// journal, faults, tokens). A demo writes it beside its database so a
// restarted simulator still knows everything the database refers to.
type Snapshot struct {
	Version     int                    `json:"version"`
	Staff       []Staff                `json:"staff"`
	Departments []Department           `json:"departments"`
	Customers   []SnapshotCustomer     `json:"customers"`
	ContactWays []ContactWay           `json:"contact_ways"`
	JoinWays    []JoinWay              `json:"join_ways"`
	QRCodes     []SnapshotQR           `json:"qr_codes"`
	Groups      []SnapshotGroup        `json:"groups"`
	TagGroups   []TagGroup             `json:"tag_groups"`
	Media       []Media                `json:"media"`
	Templates   []GroupWelcomeTemplate `json:"group_welcome_templates"`
	Welcomes    int                    `json:"welcomes"`
}

// SnapshotCustomer is one external contact with every relation it has had.
type SnapshotCustomer struct {
	Profile ExternalContact    `json:"profile"`
	Follows []SnapshotRelation `json:"follows"`
}

// SnapshotRelation is one staff member's relation to a customer.
type SnapshotRelation struct {
	UserID         string   `json:"userid"`
	Remark         string   `json:"remark,omitempty"`
	Description    string   `json:"description,omitempty"`
	CreateTime     int64    `json:"createtime"`
	TagIDs         []string `json:"tag_ids,omitempty"`
	RemarkCorpName string   `json:"remark_corp_name,omitempty"`
	RemarkMobiles  []string `json:"remark_mobiles,omitempty"`
	OperUserID     string   `json:"oper_userid,omitempty"`
	AddWay         int      `json:"add_way"`
	State          string   `json:"state,omitempty"`
	Status         string   `json:"status"`
	ConfigID       string   `json:"config_id,omitempty"`
}

// SnapshotQR maps a QR code's token to the contact or join way it opens.
type SnapshotQR struct {
	Token string `json:"token"`
	Kind  string `json:"kind"` // "contact" or "join"
	ID    string `json:"id"`
}

// SnapshotGroup is a group chat with its member-list version counter.
type SnapshotGroup struct {
	Group
	Version int `json:"version"`
}

// Snapshot copies the corp's lasting state.
func (s *Sim) Snapshot() Snapshot {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.st
	out := Snapshot{Version: snapshotVersion, Staff: st.staffList(), Departments: slices.Clone(st.departments),
		Welcomes: st.welcomeCount}
	for _, id := range st.customerOrder {
		c := st.customers[id]
		if c == nil {
			continue
		}
		sc := SnapshotCustomer{Profile: c.profile}
		for _, uid := range c.followOrder {
			r := c.follows[uid]
			sc.Follows = append(sc.Follows, SnapshotRelation{UserID: r.userID, Remark: r.remark, Description: r.description,
				CreateTime: r.createTime, TagIDs: slices.Clone(r.tagIDs), RemarkCorpName: r.remarkCorpName,
				RemarkMobiles: slices.Clone(r.remarkMobiles), OperUserID: r.operUserID, AddWay: r.addWay, State: r.state,
				Status: r.status, ConfigID: r.configID})
		}
		out.Customers = append(out.Customers, sc)
	}
	for _, id := range st.wayOrder {
		if w := st.ways[id]; w != nil {
			out.ContactWays = append(out.ContactWays, cloneWay(w))
		}
	}
	for _, w := range st.joinWays {
		out.JoinWays = append(out.JoinWays, cloneJoinWay(w))
	}
	slices.SortFunc(out.JoinWays, func(a, b JoinWay) int { return cmp.Compare(a.ConfigID, b.ConfigID) })
	for tok, t := range st.qr {
		out.QRCodes = append(out.QRCodes, SnapshotQR{Token: tok, Kind: t.kind, ID: t.id})
	}
	slices.SortFunc(out.QRCodes, func(a, b SnapshotQR) int { return cmp.Compare(a.Token, b.Token) })
	for _, id := range st.groupOrder {
		if g := st.groups[id]; g != nil {
			v := g.Group
			v.MemberList = slices.Clone(g.MemberList)
			v.AdminList = slices.Clone(g.AdminList)
			out.Groups = append(out.Groups, SnapshotGroup{Group: v, Version: g.version})
		}
	}
	for _, g := range st.tagGroups {
		out.TagGroups = append(out.TagGroups, cloneTagGroup(g))
	}
	for _, m := range st.media {
		out.Media = append(out.Media, *m)
	}
	slices.SortFunc(out.Media, func(a, b Media) int { return cmp.Compare(a.MediaID, b.MediaID) })
	for _, id := range st.templateOrder {
		if t := st.templates[id]; t != nil {
			out.Templates = append(out.Templates, *t)
		}
	}
	return out
}

// Restore replaces the corp's lasting state with a snapshot an earlier run
// took. It is meant for a fresh simulator, before it serves anything.
func (s *Sim) Restore(snap Snapshot) error {
	if snap.Version != snapshotVersion {
		return fmt.Errorf("wecomsim: snapshot version %d, this simulator reads %d", snap.Version, snapshotVersion)
	}
	o := s.opts
	if len(snap.Staff) > 0 {
		o.Staff = snap.Staff
	}
	st := newCorpState(o)
	if len(snap.Departments) > 0 {
		st.departments = slices.Clone(snap.Departments)
	}
	st.welcomeCount = snap.Welcomes
	for _, sc := range snap.Customers {
		id := sc.Profile.ExternalUserID
		if id == "" || st.customers[id] != nil {
			return fmt.Errorf("wecomsim: snapshot customer %q is empty or repeated", id)
		}
		c := &customer{profile: sc.Profile, follows: map[string]*relation{}}
		for _, f := range sc.Follows {
			c.setRelation(&relation{userID: f.UserID, remark: f.Remark, description: f.Description, createTime: f.CreateTime,
				tagIDs: slices.Clone(f.TagIDs), remarkCorpName: f.RemarkCorpName, remarkMobiles: slices.Clone(f.RemarkMobiles),
				operUserID: f.OperUserID, addWay: f.AddWay, state: f.State, status: f.Status, configID: f.ConfigID})
		}
		st.customers[id] = c
		st.customerOrder = append(st.customerOrder, id)
		if sc.Profile.UnionID != "" {
			st.byUnionID[sc.Profile.UnionID] = id
		}
	}
	for _, w := range snap.ContactWays {
		c := cloneWay(&w)
		st.ways[c.ConfigID] = &c
		st.wayOrder = append(st.wayOrder, c.ConfigID)
	}
	for _, w := range snap.JoinWays {
		c := cloneJoinWay(&w)
		st.joinWays[c.ConfigID] = &c
	}
	for _, q := range snap.QRCodes {
		st.qr[q.Token] = qrTarget{kind: q.Kind, id: q.ID}
	}
	for _, g := range snap.Groups {
		v := g.Group
		v.MemberList = slices.Clone(g.MemberList)
		v.AdminList = slices.Clone(g.AdminList)
		st.groups[v.ChatID] = &group{Group: v, version: g.Version}
		st.groupOrder = append(st.groupOrder, v.ChatID)
	}
	for _, g := range snap.TagGroups {
		c := cloneTagGroup(&g)
		st.tagGroups = append(st.tagGroups, &c)
		st.tagGroup[c.GroupID] = &c
		for _, t := range c.Tag {
			st.tagOwner[t.ID] = &c
		}
	}
	for _, m := range snap.Media {
		c := m
		st.media[c.MediaID] = &c
	}
	for _, t := range snap.Templates {
		c := t
		st.templates[c.TemplateID] = &c
		st.templateOrder = append(st.templateOrder, c.TemplateID)
	}
	s.mu.Lock()
	st.capacity, st.quota = s.st.capacity, s.st.quota
	s.st = st
	s.mu.Unlock()
	return nil
}

// MarshalSnapshot and UnmarshalSnapshot are the snapshot's file form.
func MarshalSnapshot(snap Snapshot) ([]byte, error) { return json.Marshal(snap) }

// UnmarshalSnapshot reads what MarshalSnapshot wrote.
func UnmarshalSnapshot(b []byte) (Snapshot, error) {
	var snap Snapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return Snapshot{}, fmt.Errorf("wecomsim: snapshot: %w", err)
	}
	return snap, nil
}
