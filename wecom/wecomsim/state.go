package wecomsim

import (
	"crypto/md5"
	"encoding/hex"
	"slices"
	"strconv"
	"time"
)

// corpState is everything the simulated corp knows. Sim.mu guards it.
type corpState struct {
	staff       map[string]*Staff
	staffOrder  []string
	departments []Department

	customers     map[string]*customer
	customerOrder []string
	byUnionID     map[string]string

	ways     map[string]*ContactWay
	wayOrder []string
	joinWays map[string]*JoinWay
	qr       map[string]qrTarget

	groups     map[string]*group
	groupOrder []string

	tagGroups []*TagGroup
	tagGroup  map[string]*TagGroup // group id -> group
	tagOwner  map[string]*TagGroup // tag id -> its group

	welcomeCodes map[string]*welcomeCode
	codesSwept   int // len(welcomeCodes) after the last sweep
	welcomes     []Welcome
	welcomeCount int
	media        map[string]*Media

	templates     map[string]*GroupWelcomeTemplate // group welcome templates by id
	templateOrder []string

	capacity int
	quota    int
}

type qrTarget struct {
	kind string // "contact" or "join"
	id   string
}

type customer struct {
	profile     ExternalContact
	follows     map[string]*relation
	followOrder []string
}

type relation struct {
	userID         string
	remark         string
	description    string
	createTime     int64
	tagIDs         []string
	remarkCorpName string
	remarkMobiles  []string
	operUserID     string
	addWay         int
	state          string
	status         string
	configID       string
	welcomeCode    string // issued with the add event, if any
}

type group struct {
	Group
	version int
}

type welcomeCode struct {
	code      string
	userID    string
	extID     string
	state     string
	eventTime time.Time
	used      bool
}

func newCorpState(o Options) *corpState {
	st := &corpState{
		staff:        map[string]*Staff{},
		customers:    map[string]*customer{},
		byUnionID:    map[string]string{},
		ways:         map[string]*ContactWay{},
		joinWays:     map[string]*JoinWay{},
		qr:           map[string]qrTarget{},
		groups:       map[string]*group{},
		tagGroup:     map[string]*TagGroup{},
		tagOwner:     map[string]*TagGroup{},
		welcomeCodes: map[string]*welcomeCode{},
		media:        map[string]*Media{},
		templates:    map[string]*GroupWelcomeTemplate{},
		capacity:     o.GroupCapacity,
		quota:        o.ContactWayQuota,
	}
	for _, sf := range o.Staff {
		st.addStaff(sf)
	}
	st.departments = defaultDepartments()
	return st
}

func (st *corpState) addStaff(sf Staff) bool {
	if _, ok := st.staff[sf.UserID]; ok {
		return false
	}
	c := sf
	st.staff[sf.UserID] = &c
	st.staffOrder = append(st.staffOrder, sf.UserID)
	return true
}

func (st *corpState) staffList() []Staff {
	out := make([]Staff, 0, len(st.staffOrder))
	for _, id := range st.staffOrder {
		out = append(out, *st.staff[id])
	}
	return out
}

func (st *corpState) relation(userID, extID string) *relation {
	c := st.customers[extID]
	if c == nil {
		return nil
	}
	return c.follows[userID]
}

func (c *customer) setRelation(r *relation) {
	if _, ok := c.follows[r.userID]; !ok {
		c.followOrder = append(c.followOrder, r.userID)
	}
	c.follows[r.userID] = r
}

func (st *corpState) activeRelations() int {
	n := 0
	for _, c := range st.customers {
		for _, r := range c.follows {
			if r.status == RelationActive {
				n++
			}
		}
	}
	return n
}

// contact renders a customer; all=false keeps only active relations and
// drops simulator-only fields, as externalcontact/get does.
func (st *corpState) contact(c *customer, all bool) Contact {
	out := Contact{ExternalContact: c.profile, FollowUser: []FollowUser{}}
	for _, uid := range c.followOrder {
		r := c.follows[uid]
		if !all && r.status != RelationActive {
			continue
		}
		fu := FollowUser{
			UserID:         r.userID,
			Remark:         r.remark,
			Description:    r.description,
			CreateTime:     r.createTime,
			Tags:           st.followTags(r.tagIDs),
			RemarkCorpName: r.remarkCorpName,
			RemarkMobiles:  slices.Clone(r.remarkMobiles),
			OperUserID:     r.operUserID,
			AddWay:         r.addWay,
			State:          r.state,
		}
		if all {
			fu.Status = r.status
			fu.ConfigID = r.configID
		}
		out.FollowUser = append(out.FollowUser, fu)
	}
	return out
}

func (st *corpState) followTags(ids []string) []FollowTag {
	out := []FollowTag{}
	for _, id := range ids {
		g := st.tagOwner[id]
		if g == nil {
			continue
		}
		for _, t := range g.Tag {
			if t.ID == id {
				out = append(out, FollowTag{GroupName: g.GroupName, TagName: t.Name, TagID: id, Type: 1})
			}
		}
	}
	return out
}

// removeTagEverywhere drops a deleted tag from every relation, as WeCom does.
func (st *corpState) removeTagEverywhere(id string) {
	for _, c := range st.customers {
		for _, r := range c.follows {
			r.tagIDs = slices.DeleteFunc(r.tagIDs, func(t string) bool { return t == id })
		}
	}
}

func (g *group) bump() (last, cur string) {
	last = g.MemberVersion
	g.version++
	g.MemberVersion = memberVersion(g.ChatID, g.version)
	return last, g.MemberVersion
}

func memberVersion(chatID string, v int) string {
	sum := md5.Sum([]byte(chatID + ":" + strconv.Itoa(v)))
	return hex.EncodeToString(sum[:])
}

func (g *group) member(id string) int {
	return slices.IndexFunc(g.MemberList, func(m GroupMember) bool { return m.UserID == id })
}

// view copies a group so callers can render it outside the lock.
func (g *group) view(capacity int) Group {
	v := g.Group
	v.MemberList = slices.Clone(g.MemberList)
	v.AdminList = slices.Clone(g.AdminList)
	if v.AdminList == nil {
		v.AdminList = []GroupAdmin{}
	}
	v.Capacity = capacity
	return v
}

func cloneWay(w *ContactWay) ContactWay {
	c := *w
	c.User = slices.Clone(w.User)
	c.Party = slices.Clone(w.Party)
	if c.User == nil {
		c.User = []string{}
	}
	if c.Party == nil {
		c.Party = []int{}
	}
	return c
}

func cloneJoinWay(w *JoinWay) JoinWay {
	c := *w
	c.ChatIDList = slices.Clone(w.ChatIDList)
	return c
}

func cloneTagGroup(g *TagGroup) TagGroup {
	c := *g
	c.Tag = slices.Clone(g.Tag)
	return c
}
