package wecom

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Event names and change types the gateway routes on.
const (
	EventExternalContact = "change_external_contact"
	EventExternalChat    = "change_external_chat"
	EventExternalTag     = "change_external_tag"
	EventAcquisition     = "customer_acquisition"

	ChangeAddContact     = "add_external_contact"
	ChangeAddHalfContact = "add_half_external_contact"
	ChangeEditContact    = "edit_external_contact"
	ChangeDelContact     = "del_external_contact"
	ChangeDelFollowUser  = "del_follow_user"
	ChangeTransferFail   = "transfer_fail"

	ChangeChatCreate  = "create"
	ChangeChatUpdate  = "update"
	ChangeChatDismiss = "dismiss"

	ChangeTagCreate  = "create"
	ChangeTagUpdate  = "update"
	ChangeTagDelete  = "delete"
	ChangeTagShuffle = "shuffle"
)

// Envelope is the body WeCom POSTs to a callback URL.
type Envelope struct {
	XMLName    xml.Name `xml:"xml"`
	ToUserName string   `xml:"ToUserName"`
	AgentID    string   `xml:"AgentID"`
	Encrypt    string   `xml:"Encrypt"`
}

// MemChangeList carries the member ids of a group change.
type MemChangeList struct {
	Item []string `xml:"Item"`
}

// Event is a decrypted callback message. It carries every field the gateway
// consumes (silenceper's callback struct lacks most of the group and tag ones).
type Event struct {
	XMLName      xml.Name `xml:"xml" json:"-"`
	ToUserName   string   `xml:"ToUserName" json:"ToUserName,omitempty"`
	FromUserName string   `xml:"FromUserName" json:"FromUserName,omitempty"`
	CreateTime   int64    `xml:"CreateTime" json:"CreateTime,omitempty"`
	MsgType      string   `xml:"MsgType" json:"MsgType,omitempty"`
	Event        string   `xml:"Event" json:"Event,omitempty"`
	ChangeType   string   `xml:"ChangeType" json:"ChangeType,omitempty"`

	// change_external_contact
	UserID         string `xml:"UserID" json:"UserID,omitempty"`
	ExternalUserID string `xml:"ExternalUserID" json:"ExternalUserID,omitempty"`
	State          string `xml:"State" json:"State,omitempty"`
	WelcomeCode    string `xml:"WelcomeCode" json:"WelcomeCode,omitempty"`
	Source         string `xml:"Source" json:"Source,omitempty"`
	FailReason     string `xml:"FailReason" json:"FailReason,omitempty"`

	// change_external_chat
	ChatID        string         `xml:"ChatId" json:"ChatId,omitempty"`
	UpdateDetail  string         `xml:"UpdateDetail" json:"UpdateDetail,omitempty"`
	JoinScene     int            `xml:"JoinScene" json:"JoinScene,omitempty"`
	QuitScene     int            `xml:"QuitScene" json:"QuitScene,omitempty"`
	MemChangeCnt  int            `xml:"MemChangeCnt" json:"MemChangeCnt,omitempty"`
	MemChangeList *MemChangeList `xml:"MemChangeList" json:"MemChangeList,omitempty"`
	LastMemVer    string         `xml:"LastMemVer" json:"LastMemVer,omitempty"`
	CurMemVer     string         `xml:"CurMemVer" json:"CurMemVer,omitempty"`

	// change_external_tag
	ID         string `xml:"Id" json:"Id,omitempty"`
	TagType    string `xml:"TagType" json:"TagType,omitempty"`
	StrategyID string `xml:"StrategyId" json:"StrategyId,omitempty"`

	// customer_acquisition
	LinkID string `xml:"LinkId" json:"LinkId,omitempty"`

	// plain messages (the official crypto vector is a text message)
	AgentID string `xml:"AgentID" json:"AgentID,omitempty"`
	MsgID   string `xml:"MsgId" json:"MsgId,omitempty"`
	Content string `xml:"Content" json:"Content,omitempty"`
}

// ErrMalformed reports a decrypted payload that is not a WeCom message.
var ErrMalformed = errors.New("wecom: malformed callback message")

// ParseEvent unmarshals a decrypted callback message, refusing invalid UTF-8
// and XML deeper or wider than any WeCom message before decoding it.
func ParseEvent(plain []byte) (*Event, error) {
	if err := checkShape(plain, eventMaxDepth, eventMaxElems); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var e Event
	if err := xml.Unmarshal(plain, &e); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if e.MsgType == "" {
		return nil, fmt.Errorf("%w: MsgType is missing", ErrMalformed)
	}
	if e.MsgType == "event" && e.Event == "" {
		return nil, fmt.Errorf("%w: Event is missing", ErrMalformed)
	}
	return &e, nil
}

// Type is "Event/ChangeType" for events ("change_external_contact/add_external_contact")
// and "msg/<MsgType>" for plain messages.
func (e *Event) Type() string {
	if e.MsgType != "event" {
		return "msg/" + e.MsgType
	}
	if e.ChangeType == "" {
		return e.Event
	}
	return e.Event + "/" + e.ChangeType
}

// DedupeKey identifies one event across WeCom's resends. WeCom's documented
// FromUserName+CreateTime is not enough: several adds for one member can share a
// second and differ only in ExternalUserID, and tag events carry no message id.
// So the key covers every identifying field.
func (e *Event) DedupeKey() string {
	var members string
	if e.MemChangeList != nil {
		members = strings.Join(e.MemChangeList.Item, ",")
	}
	fields := []string{
		e.ToUserName, e.FromUserName, strconv.FormatInt(e.CreateTime, 10), e.MsgType, e.Event, e.ChangeType,
		e.UserID, e.ExternalUserID, e.State, e.Source, e.FailReason,
		e.ChatID, e.UpdateDetail, strconv.Itoa(e.JoinScene), strconv.Itoa(e.QuitScene), members,
		e.LastMemVer, e.CurMemVer, e.ID, e.TagType, e.StrategyID, e.LinkID, e.MsgID, e.Content,
	}
	sum := sha256.Sum256([]byte(strings.Join(fields, "\x1f")))
	return hex.EncodeToString(sum[:])
}

// MarshalEvent renders an event as WeCom does: string fields in CDATA, empty
// fields left out. The simulator and tests use it to build callbacks.
func MarshalEvent(e *Event) []byte {
	var b bytes.Buffer
	b.WriteString("<xml>")
	str := func(name, v string) {
		if v == "" {
			return
		}
		b.WriteString("<" + name + "><![CDATA[")
		b.WriteString(strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"))
		b.WriteString("]]></" + name + ">")
	}
	num := func(name string, v int64, always bool) {
		if v == 0 && !always {
			return
		}
		b.WriteString("<" + name + ">" + strconv.FormatInt(v, 10) + "</" + name + ">")
	}
	str("ToUserName", e.ToUserName)
	str("FromUserName", e.FromUserName)
	num("CreateTime", e.CreateTime, true)
	str("MsgType", e.MsgType)
	str("Event", e.Event)
	str("ChangeType", e.ChangeType)
	str("UserID", e.UserID)
	str("ExternalUserID", e.ExternalUserID)
	str("State", e.State)
	str("WelcomeCode", e.WelcomeCode)
	str("Source", e.Source)
	str("FailReason", e.FailReason)
	str("ChatId", e.ChatID)
	str("UpdateDetail", e.UpdateDetail)
	if e.Event == EventExternalChat && e.ChangeType == ChangeChatUpdate {
		num("JoinScene", int64(e.JoinScene), e.UpdateDetail == "add_member")
		num("QuitScene", int64(e.QuitScene), e.UpdateDetail == "del_member")
		num("MemChangeCnt", int64(e.MemChangeCnt), false)
	}
	if e.MemChangeList != nil && len(e.MemChangeList.Item) > 0 {
		b.WriteString("<MemChangeList>")
		for _, it := range e.MemChangeList.Item {
			str("Item", it)
		}
		b.WriteString("</MemChangeList>")
	}
	str("LastMemVer", e.LastMemVer)
	str("CurMemVer", e.CurMemVer)
	str("Id", e.ID)
	str("TagType", e.TagType)
	str("StrategyId", e.StrategyID)
	str("LinkId", e.LinkID)
	str("AgentID", e.AgentID)
	str("MsgId", e.MsgID)
	str("Content", e.Content)
	b.WriteString("</xml>")
	return b.Bytes()
}

// SealEvent encrypts an event and returns the POST body and query values
// (msg_signature, timestamp, nonce) a WeCom callback carries.
func (c *Crypter) SealEvent(e *Event, timestamp, nonce string) (body []byte, msgSignature string, err error) {
	enc, err := c.Encrypt(MarshalEvent(e))
	if err != nil {
		return nil, "", err
	}
	env := Envelope{ToUserName: c.receiveID, Encrypt: enc}
	body, err = xml.Marshal(env)
	if err != nil {
		return nil, "", err
	}
	return body, c.Sign(timestamp, nonce, enc), nil
}
