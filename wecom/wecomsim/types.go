package wecomsim

import (
	"encoding/json"
	"time"
)

// The types below are what the control API (/sim/...) sends and receives.
// Where a type mirrors a WeCom object its JSON names are WeCom's; fields that
// only the simulator knows are marked omitempty and left out of /cgi-bin
// answers.

// ContactWay is a "contact me" configuration (add_contact_way).
type ContactWay struct {
	ConfigID      string          `json:"config_id"`
	Type          int             `json:"type"`
	Scene         int             `json:"scene"`
	Style         int             `json:"style"`
	Remark        string          `json:"remark"`
	SkipVerify    bool            `json:"skip_verify"`
	State         string          `json:"state"`
	QRCode        string          `json:"qr_code,omitempty"`
	User          []string        `json:"user"`
	Party         []int           `json:"party"`
	IsTemp        bool            `json:"is_temp"`
	ExpiresIn     int             `json:"expires_in"`
	ChatExpiresIn int             `json:"chat_expires_in"`
	UnionID       string          `json:"unionid,omitempty"`
	IsExclusive   bool            `json:"is_exclusive"`
	Conclusions   json.RawMessage `json:"conclusions,omitempty"`

	// Simulator only.
	CreateTime int64 `json:"create_time,omitempty"`
	Scans      int   `json:"scans,omitempty"`
}

// JoinWay is a "join group" configuration (groupchat/add_join_way).
type JoinWay struct {
	ConfigID       string   `json:"config_id"`
	Scene          int      `json:"scene"`
	Remark         string   `json:"remark"`
	AutoCreateRoom int      `json:"auto_create_room"`
	RoomBaseName   string   `json:"room_base_name"`
	RoomBaseID     int      `json:"room_base_id"`
	ChatIDList     []string `json:"chat_id_list"`
	QRCode         string   `json:"qr_code,omitempty"`
	State          string   `json:"state"`

	// Simulator only.
	NextRoomID int `json:"next_room_id,omitempty"`
	Joins      int `json:"joins,omitempty"`
}

// Invitor is the staff member who invited a group member.
type Invitor struct {
	UserID string `json:"userid"`
}

// GroupMember is one member of a customer group chat.
type GroupMember struct {
	UserID        string   `json:"userid"`
	Type          int      `json:"type"` // 1 staff, 2 external contact
	UnionID       string   `json:"unionid,omitempty"`
	JoinTime      int64    `json:"join_time"`
	JoinScene     int      `json:"join_scene"` // 1 invited, 2 invite link, 3 scanned the group QR
	Invitor       *Invitor `json:"invitor,omitempty"`
	GroupNickname string   `json:"group_nickname"`
	Name          string   `json:"name,omitempty"`
	State         string   `json:"state,omitempty"`
}

// GroupAdmin is a group administrator.
type GroupAdmin struct {
	UserID string `json:"userid"`
}

// Group is a customer group chat (groupchat/get).
type Group struct {
	ChatID        string        `json:"chat_id"`
	Name          string        `json:"name"`
	Owner         string        `json:"owner"`
	CreateTime    int64         `json:"create_time"`
	Notice        string        `json:"notice"`
	MemberList    []GroupMember `json:"member_list"`
	AdminList     []GroupAdmin  `json:"admin_list"`
	MemberVersion string        `json:"member_version"`

	// Simulator only.
	Dismissed bool `json:"dismissed,omitempty"`
	Capacity  int  `json:"capacity,omitempty"`
}

// ExternalContact is a customer's profile as WeCom shows it.
type ExternalContact struct {
	ExternalUserID string `json:"external_userid"`
	Name           string `json:"name"`
	Avatar         string `json:"avatar"`
	Type           int    `json:"type"` // 1 WeChat user, 2 WeCom user
	Gender         int    `json:"gender"`
	UnionID        string `json:"unionid,omitempty"`
	CorpName       string `json:"corp_name,omitempty"`
}

// FollowTag is a corp tag on a relation.
type FollowTag struct {
	GroupName string `json:"group_name"`
	TagName   string `json:"tag_name"`
	TagID     string `json:"tag_id"`
	Type      int    `json:"type"` // 1 corp tag
}

// Relation states reported by the control API.
const (
	RelationActive            = "active"
	RelationHalf              = "half"                // skip_verify off: not yet accepted
	RelationDeletedByCustomer = "deleted_by_customer" // del_follow_user
	RelationDeletedByStaff    = "deleted_by_staff"    // del_external_contact
)

// FollowUser is one staff member's relation with a customer.
type FollowUser struct {
	UserID         string      `json:"userid"`
	Remark         string      `json:"remark"`
	Description    string      `json:"description"`
	CreateTime     int64       `json:"createtime"`
	Tags           []FollowTag `json:"tags"`
	RemarkCorpName string      `json:"remark_corp_name,omitempty"`
	RemarkMobiles  []string    `json:"remark_mobiles,omitempty"`
	OperUserID     string      `json:"oper_userid"`
	AddWay         int         `json:"add_way"`
	State          string      `json:"state,omitempty"`

	// Simulator only.
	Status   string `json:"status,omitempty"`
	ConfigID string `json:"config_id,omitempty"`
}

// Contact is a customer with every relation, including deleted ones.
type Contact struct {
	ExternalContact ExternalContact `json:"external_contact"`
	FollowUser      []FollowUser    `json:"follow_user"`
}

// Tag is one corp tag.
type Tag struct {
	ID         string `json:"id"`
	Name       string `json:"name"`
	CreateTime int64  `json:"create_time"`
	Order      int    `json:"order"`
	Deleted    bool   `json:"deleted"`
}

// TagGroup is a corp tag group with its tags.
type TagGroup struct {
	GroupID    string `json:"group_id"`
	GroupName  string `json:"group_name"`
	CreateTime int64  `json:"create_time"`
	Order      int    `json:"order"`
	Deleted    bool   `json:"deleted"`
	Tag        []Tag  `json:"tag"`
}

// Welcome is one welcome message accepted by send_welcome_msg.
type Welcome struct {
	WelcomeCode    string            `json:"welcome_code"`
	UserID         string            `json:"userid"`
	ExternalUserID string            `json:"external_userid"`
	State          string            `json:"state"`
	Content        string            `json:"content"`
	Attachments    []json.RawMessage `json:"attachments"`
	EventTime      time.Time         `json:"event_time"`
	SentTime       time.Time         `json:"sent_time"`
	LatencyMS      float64           `json:"latency_ms"` // SentTime - EventTime on the simulated clock
}

// Media is an uploaded temporary media file.
type Media struct {
	MediaID   string    `json:"media_id"`
	Type      string    `json:"type"`
	Filename  string    `json:"filename"`
	Size      int64     `json:"size"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

// Log entry kinds.
const (
	KindAPI      = "api"
	KindCallback = "callback"
)

// Callback delivery outcomes (LogEntry.Outcome for callbacks, EventRecord.Status).
const (
	OutcomeOK            = "ok"
	OutcomeTimeout       = "timeout"
	OutcomeBadStatus     = "bad_status"
	OutcomeBadBody       = "bad_body"
	OutcomeError         = "error"
	OutcomeNoCallbackURL = "no_callback_url"

	EventPending   = "pending"
	EventDelivered = "delivered"
	EventFailed    = "failed"    // every attempt failed
	EventDropped   = "dropped"   // no callback URL
	EventCancelled = "cancelled" // the simulator closed first
)

// LogEntry is one API call or one callback delivery attempt.
type LogEntry struct {
	Seq        int64     `json:"seq"`
	Time       time.Time `json:"time"` // simulated clock
	Kind       string    `json:"kind"`
	API        string    `json:"api,omitempty"` // e.g. externalcontact/send_welcome_msg
	Method     string    `json:"method,omitempty"`
	ErrCode    int       `json:"errcode"`
	ErrMsg     string    `json:"errmsg,omitempty"`
	HTTPStatus int       `json:"http_status"`
	Fault      bool      `json:"fault,omitempty"` // answered by an injected fault
	DurationMS float64   `json:"duration_ms"`

	// Callbacks only.
	EventID int64  `json:"event_id,omitempty"`
	Event   string `json:"event,omitempty"` // Event/ChangeType
	Attempt int    `json:"attempt,omitempty"`
	Outcome string `json:"outcome,omitempty"`
	Error   string `json:"error,omitempty"`
}

// EventRecord is one callback event and the state of its delivery.
type EventRecord struct {
	ID             int64     `json:"id"`
	Type           string    `json:"type"` // Event/ChangeType
	CreatedAt      time.Time `json:"created_at"`
	UserID         string    `json:"userid,omitempty"`
	ExternalUserID string    `json:"external_userid,omitempty"`
	State          string    `json:"state,omitempty"`
	WelcomeCode    string    `json:"welcome_code,omitempty"`
	ChatID         string    `json:"chat_id,omitempty"`
	UpdateDetail   string    `json:"update_detail,omitempty"`
	TagID          string    `json:"tag_id,omitempty"`
	XML            string    `json:"xml"` // the plaintext before encryption
	Status         string    `json:"status"`
	Attempts       int       `json:"attempts"`
}

// APIStats counts calls to one API by errcode.
type APIStats struct {
	Calls     int            `json:"calls"`
	ByErrCode map[string]int `json:"by_errcode"`
}

// CallbackStats summarise callback delivery.
type CallbackStats struct {
	Events    int `json:"events"`
	Attempts  int `json:"attempts"`
	Delivered int `json:"delivered"`
	Failed    int `json:"failed"`
	Dropped   int `json:"dropped"`
	Pending   int `json:"pending"`
}

// Stats is a snapshot of the simulator's counters.
type Stats struct {
	APIs        map[string]APIStats `json:"apis"`
	Callbacks   CallbackStats       `json:"callbacks"`
	Welcomes    int                 `json:"welcomes"`
	Contacts    int                 `json:"contacts"`
	Relations   int                 `json:"relations"` // active ones
	Groups      int                 `json:"groups"`
	ContactWays int                 `json:"contact_ways"`
	JoinWays    int                 `json:"join_ways"`
}

// Fault makes matching API calls fail or slow down.
//
// API is "*" (every API), a full API path after /cgi-bin/
// ("externalcontact/send_welcome_msg") or its last segments ("send_welcome_msg",
// "groupchat/get"). A fault with Count > 0 fires at most Count times; with
// Probability in (0,1] it fires on that share of matching calls (seeded);
// with neither it fires on every matching call until cleared.
//
// When it fires it first waits LatencyMS, then answers HTTPStatus (if set)
// or ErrCode (if set); with neither the call proceeds normally after the
// delay. ErrCode 42001 or 40014 also invalidates every issued token, the way
// WeCom revokes tokens early.
type Fault struct {
	API         string  `json:"api"`
	ErrCode     int     `json:"errcode,omitempty"`
	ErrMsg      string  `json:"errmsg,omitempty"`
	HTTPStatus  int     `json:"http_status,omitempty"`
	LatencyMS   int     `json:"latency_ms,omitempty"`
	Probability float64 `json:"probability,omitempty"`
	Count       int     `json:"count,omitempty"`

	// Reported by GET /sim/faults.
	ID    int `json:"id,omitempty"`
	Fired int `json:"fired,omitempty"`
}

// Limits are the simulator's adjustable ceilings.
type Limits struct {
	GroupCapacity   int `json:"group_capacity,omitempty"`
	ContactWayQuota int `json:"contact_way_quota,omitempty"`
}

// Customer identifies the person scanning. Reuse an existing customer by
// ExternalUserID or UnionID; otherwise a new one is created.
type Customer struct {
	Name           string `json:"name"`
	UnionID        string `json:"unionid,omitempty"`
	ExternalUserID string `json:"external_userid,omitempty"`
	Gender         int    `json:"gender,omitempty"`
	Avatar         string `json:"avatar,omitempty"`
	// Reissued makes a new external_userid for a known UnionID, as WeCom
	// does when a corp's ids are upgraded (get_new_external_userid) and the
	// person comes back under the new one: the old customer stays, and the
	// unionid maps to the new one from then on.
	Reissued bool `json:"reissued,omitempty"`
}

// ScanRequest is a customer scanning a contact way's QR code (or tapping its
// mini-program button).
type ScanRequest struct {
	ConfigID string   `json:"config_id,omitempty"`
	QRCode   string   `json:"qr_code,omitempty"`
	Customer Customer `json:"customer"`
	// NoWelcomeCode sends the add event without a WelcomeCode, as WeCom does
	// when a console welcome message is configured or the two already chatted.
	NoWelcomeCode bool `json:"no_welcome_code,omitempty"`
}

// ScanResult says whom the customer added and what the callback carries.
type ScanResult struct {
	UserID         string `json:"userid"`
	ExternalUserID string `json:"external_userid"`
	WelcomeCode    string `json:"welcome_code,omitempty"`
	State          string `json:"state"`
	ChangeType     string `json:"change_type,omitempty"` // add_external_contact or add_half_external_contact
	EventID        int64  `json:"event_id,omitempty"`
	AlreadyFriends bool   `json:"already_friends,omitempty"` // no event: the two were already connected
}

// AcceptRequest completes a half add (skip_verify off): the staff member accepts.
type AcceptRequest struct {
	UserID         string `json:"userid"`
	ExternalUserID string `json:"external_userid"`
}

// JoinRequest is a customer scanning a join way's group QR code.
type JoinRequest struct {
	ConfigID string   `json:"config_id,omitempty"`
	QRCode   string   `json:"qr_code,omitempty"`
	Customer Customer `json:"customer"`
	// UserID, when set, is a staff member scanning the join way instead of
	// a customer: they join as a type-1 member with the way's state.
	UserID string `json:"userid,omitempty"`
}

// JoinResult says which group the customer landed in.
type JoinResult struct {
	ChatID         string `json:"chat_id"`
	ExternalUserID string `json:"external_userid,omitempty"`
	UserID         string `json:"userid,omitempty"` // a staff member's join
	State          string `json:"state"`
	JoinScene      int    `json:"join_scene"`
	CreatedChat    bool   `json:"created_chat,omitempty"` // auto_create_room made a new group
	MemberVersion  string `json:"member_version"`
	MemberCount    int    `json:"member_count"`
	EventID        int64  `json:"event_id,omitempty"`
}

// LeaveGroupRequest removes a member from a group. QuitScene 0: the member
// left; 1: removed by a staff member.
type LeaveGroupRequest struct {
	ChatID         string `json:"chat_id"`
	ExternalUserID string `json:"external_userid"`
	QuitScene      int    `json:"quit_scene"`
}

// GroupChangeResult reports a group after a membership change.
type GroupChangeResult struct {
	ChatID        string `json:"chat_id"`
	MemberVersion string `json:"member_version"`
	MemberCount   int    `json:"member_count"`
	EventID       int64  `json:"event_id,omitempty"`
}

// CreateGroupRequest makes a customer group owned by a staff member, as if
// created in the client. Members are extra staff userids.
type CreateGroupRequest struct {
	Name    string   `json:"name"`
	Owner   string   `json:"owner"`
	Members []string `json:"members,omitempty"`
	Silent  bool     `json:"silent,omitempty"` // no change_external_chat/create callback
}

// FillGroupRequest adds Count synthetic customers to a group without
// callbacks, to bring it to capacity quickly.
type FillGroupRequest struct {
	Count int `json:"count"`
}

// RelationRequest names one staff-customer relation.
type RelationRequest struct {
	UserID         string `json:"userid"`
	ExternalUserID string `json:"external_userid"`
}

// StaffDeletesRequest is a staff member deleting a customer; Source is
// optional, e.g. DELETE_BY_TRANSFER for a handover.
type StaffDeletesRequest struct {
	UserID         string `json:"userid"`
	ExternalUserID string `json:"external_userid"`
	Source         string `json:"source,omitempty"`
}

// EditContactRequest is a console-side edit of a relation; nil fields stay.
type EditContactRequest struct {
	UserID         string   `json:"userid"`
	ExternalUserID string   `json:"external_userid"`
	Remark         *string  `json:"remark,omitempty"`
	Description    *string  `json:"description,omitempty"`
	AddTag         []string `json:"add_tag,omitempty"`
	RemoveTag      []string `json:"remove_tag,omitempty"`
}

// Tag change types and targets for TagChangeRequest.
const (
	TagTypeTag   = "tag"
	TagTypeGroup = "tag_group"
)

// TagChangeRequest is a console-side change to the corp tag catalogue.
//
//   - create, tag_type "tag": Name in GroupID (or in the group named GroupName,
//     made if missing).
//   - create, tag_type "tag_group": a group GroupName holding one tag Name.
//   - update: rename ID (a tag or a group) to Name.
//   - delete: delete ID (a tag or a group).
//   - shuffle: reverse the tag order inside group ID, or the group order when
//     ID is empty.
type TagChangeRequest struct {
	ChangeType string `json:"change_type"`
	TagType    string `json:"tag_type,omitempty"`
	ID         string `json:"id,omitempty"`
	GroupID    string `json:"group_id,omitempty"`
	GroupName  string `json:"group_name,omitempty"`
	Name       string `json:"name,omitempty"`
	StrategyID string `json:"strategy_id,omitempty"`
}

// TagChangeResult is what the change_external_tag callback carries.
type TagChangeResult struct {
	ChangeType string `json:"change_type"`
	TagType    string `json:"tag_type,omitempty"`
	ID         string `json:"id"`
	EventID    int64  `json:"event_id,omitempty"`
}

// LogQuery filters GET /sim/log. Zero values match everything.
type LogQuery struct {
	API     string // same matching as Fault.API
	Kind    string // api or callback
	Event   string // Event/ChangeType, or a prefix of it
	ErrCode *int
	Since   int64 // entries with Seq > Since
	Limit   int   // the newest Limit entries
}

// EventQuery filters GET /sim/events.
type EventQuery struct {
	Type   string // Event/ChangeType, or a prefix of it
	Status string
	Since  int64
	Limit  int
}

// WelcomeQuery filters GET /sim/welcomes.
type WelcomeQuery struct {
	UserID         string
	ExternalUserID string
}

// VerifyResult reports a callback URL check (GET with echostr).
type VerifyResult struct {
	OK         bool   `json:"ok"`
	URL        string `json:"url"`
	HTTPStatus int    `json:"http_status"`
	Body       string `json:"body"`
	Want       string `json:"want"`
	Error      string `json:"error,omitempty"`
}

// ClockState is the simulated time.
type ClockState struct {
	Now    time.Time `json:"now"`
	Offset string    `json:"offset"`
}

// ClockRequest advances the simulated clock by AdvanceMS milliseconds.
type ClockRequest struct {
	AdvanceMS int64 `json:"advance_ms"`
}
