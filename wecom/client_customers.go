package wecom

import (
	"context"
	"net/url"
	"time"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/work/externalcontact"
)

// Group member types.
const (
	MemberStaff    = 1
	MemberExternal = 2
)

// GroupChat is a customer group as groupchat/get reports it.
type GroupChat struct {
	ChatID        string
	Name          string
	Owner         string
	CreatedAt     time.Time
	Notice        string
	Members       []GroupChatMember
	Admins        []string
	MemberVersion string
}

// GroupChatMember is one member of a customer group.
type GroupChatMember struct {
	UserID        string
	Type          int // MemberStaff or MemberExternal
	JoinTime      time.Time
	JoinScene     int // 1 invited directly, 2 invited by link, 3 scanned the group QR code
	State         string
	InvitorUserID string
	GroupNickname string
	Name          string // only with needName
	UnionID       string
}

// GetGroupChat reads a customer group's members and member_version.
func (c *Client) GetGroupChat(ctx context.Context, chatID string, needName bool) (*GroupChat, error) {
	const api = APIGetGroupChat
	if chatID == "" {
		return nil, invalidf(api, "chat_id is required")
	}
	var res *externalcontact.GroupChatDetailResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().GetGroupChatDetail(&externalcontact.GroupChatDetailRequest{
			ChatID: chatID, NeedName: boolInt(needName),
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	g := res.GroupChat
	out := &GroupChat{
		ChatID: g.ChatID, Name: g.Name, Owner: g.Owner, CreatedAt: unixTime(g.CreateTime),
		Notice: g.Notice, MemberVersion: g.MemberVersion,
	}
	for _, m := range g.MemberList {
		out.Members = append(out.Members, GroupChatMember{
			UserID: m.UserID, Type: m.Type, JoinTime: unixTime(int64(m.JoinTime)), JoinScene: m.JoinScene,
			State: m.State, InvitorUserID: m.Invitor.UserID, GroupNickname: m.GroupNickname, Name: m.Name,
			UnionID: m.UnionID,
		})
	}
	for _, a := range g.AdminList {
		out.Admins = append(out.Admins, a.UserID)
	}
	return out, nil
}

// ExternalContact is a customer's profile.
type ExternalContact struct {
	ExternalUserID string
	Name           string
	Avatar         string
	Type           int // 1 WeChat user, 2 WeCom user
	Gender         int
	UnionID        string
	Position       string
	CorpName       string
	CorpFullName   string
}

// FollowUser is a staff member who has the customer as a contact.
type FollowUser struct {
	UserID         string
	Remark         string
	Description    string
	CreatedAt      time.Time
	Tags           []ContactTag
	RemarkCorpName string
	RemarkMobiles  []string
	OperUserID     string
	AddWay         int
	State          string
}

// ContactTag is a tag on a follow user's view of a customer.
type ContactTag struct {
	GroupName string
	TagName   string
	TagID     string
	Type      int // 1 corp tag, 2 personal tag, 3 rule-group tag
}

// ExternalContactDetail is what externalcontact/get answers. A customer
// followed by many staff comes in pages: pass NextCursor back for the rest.
type ExternalContactDetail struct {
	Contact     ExternalContact
	FollowUsers []FollowUser
	NextCursor  string
}

// GetExternalContact reads a customer and the staff who follow them.
func (c *Client) GetExternalContact(ctx context.Context, externalUserID, cursor string) (*ExternalContactDetail, error) {
	const api = APIGetExternalContact
	if externalUserID == "" {
		return nil, invalidf(api, "external_userid is required")
	}
	var res *externalcontact.ExternalUserDetailResponse
	err := c.lib(ctx, api, func() (err error) {
		// silenceper formats both values into the query unescaped.
		res, err = c.wk.GetExternalContact().GetExternalUserDetail(url.QueryEscape(externalUserID), url.QueryEscape(cursor))
		return err
	})
	if err != nil {
		return nil, err
	}
	e := res.ExternalContact
	out := &ExternalContactDetail{
		Contact: ExternalContact{
			ExternalUserID: e.ExternalUserID, Name: e.Name, Avatar: e.Avatar, Type: int(e.Type),
			Gender: int(e.Gender), UnionID: e.UnionID, Position: e.Position, CorpName: e.CorpName,
			CorpFullName: e.CorpFullName,
		},
		NextCursor: res.NextCursor,
	}
	for _, f := range res.FollowUser {
		fu := FollowUser{
			UserID: f.UserID, Remark: f.Remark, Description: f.Description, CreatedAt: unixTime(f.CreateTime),
			RemarkCorpName: f.RemarkCorpName, RemarkMobiles: f.RemarkMobiles, OperUserID: f.OperUserID,
			AddWay: int(f.AddWay), State: f.State,
		}
		for _, t := range f.Tags {
			fu.Tags = append(fu.Tags, ContactTag{GroupName: t.GroupName, TagName: t.TagName, TagID: t.TagID, Type: int(t.Type)})
		}
		out.FollowUsers = append(out.FollowUsers, fu)
	}
	return out, nil
}

// MarkTag adds and removes corp tags on a customer as seen by one staff member.
func (c *Client) MarkTag(ctx context.Context, userID, externalUserID string, add, remove []string) error {
	const api = APIMarkTag
	if userID == "" || externalUserID == "" {
		return invalidf(api, "userid and external_userid are required")
	}
	if len(add) == 0 && len(remove) == 0 {
		return invalidf(api, "add_tag and remove_tag are both empty")
	}
	// Empty lists go as [] rather than null.
	req := externalcontact.MarkTagRequest{UserID: userID, ExternalUserID: externalUserID, AddTag: []string{}, RemoveTag: []string{}}
	req.AddTag = append(req.AddTag, add...)
	req.RemoveTag = append(req.RemoveTag, remove...)
	return c.lib(ctx, api, func() error {
		return c.wk.GetExternalContact().MarkTag(req)
	})
}

// RemarkUpdate is the request of externalcontact/remark. Nil fields are not
// sent and keep what the staff member wrote in the client; a pointer to ""
// clears the field.
type RemarkUpdate struct {
	UserID           string    `json:"userid"`
	ExternalUserID   string    `json:"external_userid"`
	Remark           *string   `json:"remark,omitempty"`         // ≤20 characters
	Description      *string   `json:"description,omitempty"`    // ≤150 characters
	RemarkCompany    *string   `json:"remark_company,omitempty"` // WeChat users only
	RemarkMobiles    *[]string `json:"remark_mobiles,omitempty"` // replaces all remark mobiles
	RemarkPicMediaID string    `json:"remark_pic_mediaid,omitempty"`
}

// Remark sets a staff member's remark and description of a customer. Sent as
// our own request: silenceper's sends all five fields, so setting the remark
// would blank the description and mobiles the staff member typed.
func (c *Client) Remark(ctx context.Context, r RemarkUpdate) error {
	const api = APIRemark
	if r.UserID == "" || r.ExternalUserID == "" {
		return invalidf(api, "userid and external_userid are required")
	}
	if r.Remark == nil && r.Description == nil && r.RemarkCompany == nil && r.RemarkMobiles == nil && r.RemarkPicMediaID == "" {
		return invalidf(api, "nothing to change")
	}
	if r.Remark != nil && utf8.RuneCountInString(*r.Remark) > 20 {
		return invalidf(api, "remark is longer than 20 characters")
	}
	if r.Description != nil && utf8.RuneCountInString(*r.Description) > 150 {
		return invalidf(api, "description is longer than 150 characters")
	}
	return c.own(ctx, api, r, nil)
}

// TagGroup is a corp tag group with its tags.
type TagGroup struct {
	GroupID   string
	GroupName string
	CreatedAt time.Time
	Order     int
	Deleted   bool
	Tags      []CorpTag
}

// CorpTag is one corp tag.
type CorpTag struct {
	ID        string
	Name      string
	CreatedAt time.Time
	Order     int
	Deleted   bool
}

// tagGroupJSON is a tag group as WeCom writes it. silenceper's TagGroup reads
// the group's order from "group_order", which WeCom does not send ("order").
type tagGroupJSON struct {
	GroupID    string `json:"group_id"`
	GroupName  string `json:"group_name"`
	CreateTime int64  `json:"create_time"`
	Order      int    `json:"order"`
	Deleted    bool   `json:"deleted"`
	Tag        []struct {
		ID         string `json:"id"`
		Name       string `json:"name"`
		CreateTime int64  `json:"create_time"`
		Order      int    `json:"order"`
		Deleted    bool   `json:"deleted"`
	} `json:"tag"`
}

func (g tagGroupJSON) group() TagGroup {
	out := TagGroup{GroupID: g.GroupID, GroupName: g.GroupName, CreatedAt: unixTime(g.CreateTime), Order: g.Order, Deleted: g.Deleted}
	for _, t := range g.Tag {
		out.Tags = append(out.Tags, CorpTag{ID: t.ID, Name: t.Name, CreatedAt: unixTime(t.CreateTime), Order: t.Order, Deleted: t.Deleted})
	}
	return out
}

// GetCorpTags lists corp tags; with no ids it lists them all. Sent as our own
// request for the group order (see tagGroupJSON).
func (c *Client) GetCorpTags(ctx context.Context, tagIDs, groupIDs []string) ([]TagGroup, error) {
	req := struct {
		TagID   []string `json:"tag_id,omitempty"`
		GroupID []string `json:"group_id,omitempty"`
	}{tagIDs, groupIDs}
	var res struct {
		TagGroup []tagGroupJSON `json:"tag_group"`
	}
	if err := c.own(ctx, APIGetCorpTags, req, &res); err != nil {
		return nil, err
	}
	out := make([]TagGroup, 0, len(res.TagGroup))
	for _, g := range res.TagGroup {
		out = append(out, g.group())
	}
	return out, nil
}

// NewCorpTags adds tags to a group (GroupID), or creates the group
// (GroupName) when GroupID is empty.
type NewCorpTags struct {
	GroupID   string
	GroupName string
	Order     int
	Tags      []NewCorpTag
}

// NewCorpTag is one tag to add.
type NewCorpTag struct {
	Name  string // ≤30 characters
	Order int
}

// AddCorpTag creates tags and answers the group with their ids.
func (c *Client) AddCorpTag(ctx context.Context, t NewCorpTags) (*TagGroup, error) {
	const api = APIAddCorpTag
	if t.GroupID == "" && t.GroupName == "" {
		return nil, invalidf(api, "group_id or group_name is required")
	}
	if len(t.Tags) == 0 {
		return nil, invalidf(api, "no tags to add")
	}
	req := externalcontact.AddCropTagRequest{GroupID: t.GroupID, GroupName: t.GroupName, Order: t.Order}
	for _, tag := range t.Tags {
		if tag.Name == "" || utf8.RuneCountInString(tag.Name) > 30 {
			return nil, invalidf(api, "tag name %q must be 1 to 30 characters", tag.Name)
		}
		req.Tag = append(req.Tag, externalcontact.AddCropTagItem{Name: tag.Name, Order: tag.Order})
	}
	var group *externalcontact.TagGroup
	err := c.lib(ctx, api, func() (err error) {
		group, err = c.wk.GetExternalContact().AddCropTag(req)
		return err
	})
	if err != nil {
		return nil, err
	}
	g := TagGroup{GroupID: group.GroupID, GroupName: group.GroupName, CreatedAt: unixTime(group.CreateTime), Deleted: group.Deleted}
	if t.GroupID == "" {
		// silenceper does not read the group's order (see tagGroupJSON); a
		// group we just created has the order we asked for.
		g.Order = t.Order
	}
	for _, tag := range group.Tag {
		g.Tags = append(g.Tags, CorpTag{ID: tag.ID, Name: tag.Name, CreatedAt: unixTime(tag.CreateTime), Order: tag.Order, Deleted: tag.Deleted})
	}
	return &g, nil
}

// CorpTagEdit renames or reorders a tag or tag group. Nil fields keep their
// value.
type CorpTagEdit struct {
	ID    string  `json:"id"`
	Name  *string `json:"name,omitempty"`
	Order *int    `json:"order,omitempty"`
}

// EditCorpTag changes a tag or tag group. Sent as our own request:
// silenceper's always sends name and order, so a rename resets the order to 0.
func (c *Client) EditCorpTag(ctx context.Context, e CorpTagEdit) error {
	const api = APIEditCorpTag
	if e.ID == "" {
		return invalidf(api, "id is required")
	}
	if e.Name == nil && e.Order == nil {
		return invalidf(api, "nothing to change")
	}
	if e.Name != nil && (*e.Name == "" || utf8.RuneCountInString(*e.Name) > 30) {
		return invalidf(api, "name %q must be 1 to 30 characters", *e.Name)
	}
	return c.own(ctx, api, e, nil)
}

// DeleteCorpTag deletes tags and whole tag groups.
func (c *Client) DeleteCorpTag(ctx context.Context, tagIDs, groupIDs []string) error {
	const api = APIDeleteCorpTag
	if len(tagIDs) == 0 && len(groupIDs) == 0 {
		return invalidf(api, "tag_id and group_id are both empty")
	}
	return c.lib(ctx, api, func() error {
		return c.wk.GetExternalContact().DeleteCropTag(externalcontact.DeleteCropTagRequest{TagID: tagIDs, GroupID: groupIDs})
	})
}
