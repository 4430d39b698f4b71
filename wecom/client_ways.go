package wecom

import (
	"context"
	"time"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/work/externalcontact"
)

// Contact-way types and scenes (add_contact_way).
const (
	ContactWaySingle = 1
	ContactWayMulti  = 2

	SceneMiniProgram = 1
	SceneQRCode      = 2
)

const (
	maxWayUsers   = 100
	maxStateRunes = 30
	maxRemarkWay  = 30
	maxJoinChats  = 5
)

// Conclusions is the closing message of a temporary-chat contact way. Only
// the parts that are set are sent.
type Conclusions struct {
	Text        *ConclusionText        `json:"text,omitempty"`
	Image       *ConclusionImage       `json:"image,omitempty"`
	Link        *ConclusionLink        `json:"link,omitempty"`
	MiniProgram *ConclusionMiniProgram `json:"miniprogram,omitempty"`
}

// ConclusionText is the text of a closing message.
type ConclusionText struct {
	Content string `json:"content"`
}

// ConclusionImage is sent with an uploaded media_id; get_contact_way answers
// with the picture URL instead.
type ConclusionImage struct {
	MediaID string `json:"media_id,omitempty"`
	PicURL  string `json:"pic_url,omitempty"` // answers carry the URL
}

// ConclusionLink is a link card in a closing message.
type ConclusionLink struct {
	Title  string `json:"title"`
	PicURL string `json:"picurl,omitempty"`
	Desc   string `json:"desc,omitempty"`
	URL    string `json:"url"`
}

// ConclusionMiniProgram is a mini-program card in a closing message.
type ConclusionMiniProgram struct {
	Title      string `json:"title"`
	PicMediaID string `json:"pic_media_id"`
	AppID      string `json:"appid"`
	Page       string `json:"page"`
}

// NewContactWay is the request of add_contact_way.
type NewContactWay struct {
	Type  int `json:"type"`  // ContactWaySingle or ContactWayMulti
	Scene int `json:"scene"` // SceneMiniProgram or SceneQRCode
	Style int `json:"style,omitempty"`
	// Remark is the admin's note, at most 30 characters.
	Remark string `json:"remark,omitempty"`
	// SkipVerify is always sent: WeCom's own default (when absent) is true.
	SkipVerify    bool         `json:"skip_verify"`
	State         string       `json:"state,omitempty"` // ≤30 characters; comes back on the add event
	User          []string     `json:"user,omitempty"`
	Party         []int        `json:"party,omitempty"`
	IsTemp        bool         `json:"is_temp,omitempty"`
	ExpiresIn     int          `json:"expires_in,omitempty"`
	ChatExpiresIn int          `json:"chat_expires_in,omitempty"`
	UnionID       string       `json:"unionid,omitempty"`
	IsExclusive   bool         `json:"is_exclusive,omitempty"`
	Conclusions   *Conclusions `json:"conclusions,omitempty"`
}

// ContactWayUpdate is the request of update_contact_way. Fields left empty
// are not sent and keep their value, except that User and Party, when sent,
// replace the whole member list.
type ContactWayUpdate struct {
	ConfigID      string       `json:"config_id"`
	Remark        string       `json:"remark,omitempty"`
	SkipVerify    *bool        `json:"skip_verify,omitempty"`
	Style         int          `json:"style,omitempty"`
	State         string       `json:"state,omitempty"`
	User          []string     `json:"user,omitempty"`
	Party         []int        `json:"party,omitempty"`
	ExpiresIn     int          `json:"expires_in,omitempty"`
	ChatExpiresIn int          `json:"chat_expires_in,omitempty"`
	UnionID       string       `json:"unionid,omitempty"`
	IsExclusive   *bool        `json:"is_exclusive,omitempty"`
	Conclusions   *Conclusions `json:"conclusions,omitempty"`
}

// ContactWayCreated is what add_contact_way answers.
type ContactWayCreated struct {
	ConfigID string `json:"config_id"`
	QRCode   string `json:"qr_code"`
}

// ContactWay is a configured contact way as get_contact_way reports it.
type ContactWay struct {
	ConfigID      string
	Type          int
	Scene         int
	Style         int
	Remark        string
	SkipVerify    bool
	State         string
	QRCode        string
	User          []string
	Party         []int
	IsTemp        bool
	ExpiresIn     int
	ChatExpiresIn int
	UnionID       string
	Conclusions   Conclusions
}

// ContactWayQuery selects contact ways for list_contact_way. Zero times leave
// the range to WeCom (the last 90 days).
type ContactWayQuery struct {
	Start, End time.Time
	Cursor     string
	Limit      int // 1..1000, default 100
}

// ContactWayPage is one page of config ids.
type ContactWayPage struct {
	ConfigIDs  []string
	NextCursor string
}

func checkState(api, state string) error {
	if utf8.RuneCountInString(state) > maxStateRunes {
		return invalidf(api, "state %q is longer than %d characters", state, maxStateRunes)
	}
	return nil
}

func checkWayMembers(api string, users []string) error {
	if len(users) > maxWayUsers {
		return invalidf(api, "%d users, at most %d per contact way", len(users), maxWayUsers)
	}
	return nil
}

// AddContactWay creates a contact way. Sent as our own request: silenceper's
// lacks is_exclusive and always sends every conclusions object, empty ones
// included.
func (c *Client) AddContactWay(ctx context.Context, w NewContactWay) (ContactWayCreated, error) {
	const api = APIAddContactWay
	if w.Type != ContactWaySingle && w.Type != ContactWayMulti {
		return ContactWayCreated{}, invalidf(api, "type must be 1 (single) or 2 (multi), got %d", w.Type)
	}
	if w.Scene != SceneMiniProgram && w.Scene != SceneQRCode {
		return ContactWayCreated{}, invalidf(api, "scene must be 1 (mini program) or 2 (QR code), got %d", w.Scene)
	}
	if len(w.User) == 0 && len(w.Party) == 0 {
		return ContactWayCreated{}, invalidf(api, "user or party is required")
	}
	if w.Type == ContactWaySingle && (len(w.User) != 1 || len(w.Party) != 0) {
		return ContactWayCreated{}, invalidf(api, "a single contact way takes exactly one user")
	}
	if utf8.RuneCountInString(w.Remark) > maxRemarkWay {
		return ContactWayCreated{}, invalidf(api, "remark is longer than %d characters", maxRemarkWay)
	}
	if err := checkState(api, w.State); err != nil {
		return ContactWayCreated{}, err
	}
	if err := checkWayMembers(api, w.User); err != nil {
		return ContactWayCreated{}, err
	}
	var out ContactWayCreated
	err := c.own(ctx, api, w, &out)
	return out, err
}

// GetContactWay reads a contact way.
func (c *Client) GetContactWay(ctx context.Context, configID string) (*ContactWay, error) {
	const api = APIGetContactWay
	if configID == "" {
		return nil, invalidf(api, "config_id is required")
	}
	var res *externalcontact.GetContactWayResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().GetContactWay(&externalcontact.GetContactWayRequest{ConfigID: configID})
		return err
	})
	if err != nil {
		return nil, err
	}
	w := res.ContactWay
	out := &ContactWay{
		ConfigID: w.ConfigID, Type: w.Type, Scene: w.Scene, Style: w.Style, Remark: w.Remark,
		SkipVerify: w.SkipVerify, State: w.State, QRCode: w.QrCode, User: w.User, Party: w.Party,
		IsTemp: w.IsTemp, ExpiresIn: w.ExpiresIn, ChatExpiresIn: w.ChatExpiresIn, UnionID: w.UnionID,
	}
	cl := w.Conclusions
	if cl.Text.Content != "" {
		out.Conclusions.Text = &ConclusionText{Content: cl.Text.Content}
	}
	if cl.Image.PicURL != "" {
		out.Conclusions.Image = &ConclusionImage{PicURL: cl.Image.PicURL}
	}
	if cl.Link.URL != "" {
		l := ConclusionLink(cl.Link)
		out.Conclusions.Link = &l
	}
	if cl.MiniProgram.AppID != "" {
		m := ConclusionMiniProgram(cl.MiniProgram)
		out.Conclusions.MiniProgram = &m
	}
	return out, nil
}

// UpdateContactWay changes a contact way; the roster code uses it to rewrite
// the member list. Sent as our own request: silenceper's sends every field, so
// changing the users would also blank the remark and the state our routing
// depends on.
func (c *Client) UpdateContactWay(ctx context.Context, u ContactWayUpdate) error {
	const api = APIUpdateContactWay
	if u.ConfigID == "" {
		return invalidf(api, "config_id is required")
	}
	if utf8.RuneCountInString(u.Remark) > maxRemarkWay {
		return invalidf(api, "remark is longer than %d characters", maxRemarkWay)
	}
	if err := checkState(api, u.State); err != nil {
		return err
	}
	if err := checkWayMembers(api, u.User); err != nil {
		return err
	}
	return c.own(ctx, api, u, nil)
}

// DeleteContactWay removes a contact way.
func (c *Client) DeleteContactWay(ctx context.Context, configID string) error {
	const api = APIDeleteContactWay
	if configID == "" {
		return invalidf(api, "config_id is required")
	}
	return c.lib(ctx, api, func() error {
		_, err := c.wk.GetExternalContact().DelContactWay(&externalcontact.DelContactWayRequest{ConfigID: configID})
		return err
	})
}

// ListContactWays pages through the contact ways made through the API.
func (c *Client) ListContactWays(ctx context.Context, q ContactWayQuery) (ContactWayPage, error) {
	const api = APIListContactWays
	if q.Limit == 0 {
		q.Limit = 100
	}
	if q.Limit < 1 || q.Limit > 1000 {
		return ContactWayPage{}, invalidf(api, "limit %d is outside 1..1000", q.Limit)
	}
	req := &externalcontact.ListContactWayRequest{Cursor: q.Cursor, Limit: q.Limit}
	if !q.Start.IsZero() {
		req.StartTime = int(q.Start.Unix())
	}
	if !q.End.IsZero() {
		req.EndTime = int(q.End.Unix())
	}
	var res *externalcontact.ListContactWayResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().ListContactWay(req)
		return err
	})
	if err != nil {
		return ContactWayPage{}, err
	}
	page := ContactWayPage{NextCursor: res.NextCursor}
	for _, w := range res.ContactWay {
		if w != nil {
			page.ConfigIDs = append(page.ConfigIDs, w.ConfigID)
		}
	}
	return page, nil
}

// JoinWay is a group-chat join way (add/get/update_join_way).
type JoinWay struct {
	ConfigID string // empty on add
	Scene    int    // SceneMiniProgram or SceneQRCode
	Remark   string
	// AutoCreateRoom is always sent; WeCom's default when it is absent is
	// true.
	AutoCreateRoom bool
	RoomBaseName   string
	RoomBaseID     int
	ChatIDs        []string // at most 5
	State          string   // ≤30 characters
	QRCode         string   // answers only
}

func (w JoinWay) check(api string, update bool) error {
	if update && w.ConfigID == "" {
		return invalidf(api, "config_id is required")
	}
	if w.Scene != SceneMiniProgram && w.Scene != SceneQRCode {
		return invalidf(api, "scene must be 1 (mini program) or 2 (QR code), got %d", w.Scene)
	}
	if len(w.ChatIDs) == 0 || len(w.ChatIDs) > maxJoinChats {
		return invalidf(api, "chat_id_list needs 1 to %d chats, got %d", maxJoinChats, len(w.ChatIDs))
	}
	if utf8.RuneCountInString(w.Remark) > maxRemarkWay {
		return invalidf(api, "remark is longer than %d characters", maxRemarkWay)
	}
	return checkState(api, w.State)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// AddJoinWay creates a join way and returns its config_id (WeCom answers no
// QR code here; GetJoinWay has it).
func (c *Client) AddJoinWay(ctx context.Context, w JoinWay) (string, error) {
	const api = APIAddJoinWay
	if err := w.check(api, false); err != nil {
		return "", err
	}
	var res *externalcontact.AddJoinWayResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().AddJoinWay(&externalcontact.AddJoinWayRequest{
			Scene: w.Scene, Remark: w.Remark, AutoCreateRoom: boolInt(w.AutoCreateRoom),
			RoomBaseName: w.RoomBaseName, RoomBaseID: w.RoomBaseID, ChatIDList: w.ChatIDs, State: w.State,
		})
		return err
	})
	if err != nil {
		return "", err
	}
	return res.ConfigID, nil
}

// GetJoinWay reads a join way with its QR code.
func (c *Client) GetJoinWay(ctx context.Context, configID string) (*JoinWay, error) {
	const api = APIGetJoinWay
	if configID == "" {
		return nil, invalidf(api, "config_id is required")
	}
	var res *externalcontact.GetJoinWayResponse
	err := c.lib(ctx, api, func() (err error) {
		res, err = c.wk.GetExternalContact().GetJoinWay(&externalcontact.JoinWayConfigRequest{ConfigID: configID})
		return err
	})
	if err != nil {
		return nil, err
	}
	j := res.JoinWay
	return &JoinWay{
		ConfigID: j.ConfigID, Scene: j.Scene, Remark: j.Remark, AutoCreateRoom: j.AutoCreateRoom == 1,
		RoomBaseName: j.RoomBaseName, RoomBaseID: j.RoomBaseID, ChatIDs: j.ChatIDList, State: j.State, QRCode: j.QrCode,
	}, nil
}

// UpdateJoinWay replaces a join way's settings (WeCom takes the full set).
func (c *Client) UpdateJoinWay(ctx context.Context, w JoinWay) error {
	const api = APIUpdateJoinWay
	if err := w.check(api, true); err != nil {
		return err
	}
	return c.lib(ctx, api, func() error {
		return c.wk.GetExternalContact().UpdateJoinWay(&externalcontact.UpdateJoinWayRequest{
			ConfigID: w.ConfigID, Scene: w.Scene, Remark: w.Remark, AutoCreateRoom: boolInt(w.AutoCreateRoom),
			RoomBaseName: w.RoomBaseName, RoomBaseID: w.RoomBaseID, ChatIDList: w.ChatIDs, State: w.State,
		})
	})
}

// DeleteJoinWay removes a join way.
func (c *Client) DeleteJoinWay(ctx context.Context, configID string) error {
	const api = APIDeleteJoinWay
	if configID == "" {
		return invalidf(api, "config_id is required")
	}
	return c.lib(ctx, api, func() error {
		return c.wk.GetExternalContact().DelJoinWay(&externalcontact.JoinWayConfigRequest{ConfigID: configID})
	})
}
