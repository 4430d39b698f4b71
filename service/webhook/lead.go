package webhook

import "github.com/leadgate/scrm-gateway/service/wire"

// The lead as the API and the CRM see it: the data of every lead.* event
// (LeadEventData embeds it) and the admin API's lead view. The leads domain fills
// it in; its shape is the contract's.

// LeadSource is where a lead came from.
type LeadSource struct {
	Kind     string            `json:"kind"` // channel, store, group or unknown
	CodeID   uint64            `json:"code_id,omitempty"`
	CodeName string            `json:"code_name,omitempty"`
	StoreID  uint64            `json:"store_id,omitempty"`
	ChatID   string            `json:"chat_id,omitempty"`
	State    string            `json:"state,omitempty"`
	Staff    string            `json:"staff,omitempty"`
	UTM      map[string]string `json:"utm,omitempty"`
}

// Lead is a lead as the API and the CRM see it.
type Lead struct {
	ID             uint64     `json:"id"`
	CorpID         string     `json:"corp_id"`
	ContactID      uint64     `json:"contact_id"`
	ExternalUserID string     `json:"external_userid"`
	UnionID        string     `json:"unionid,omitempty"`
	Name           string     `json:"name"`
	CorpName       string     `json:"corp_name,omitempty"`
	Mobile         string     `json:"mobile,omitempty"`
	MobileValid    bool       `json:"mobile_valid"`
	Gender         int        `json:"gender"`
	Source         LeadSource `json:"source"`
	Owner          string     `json:"owner"`
	// OwnerName is the owner's name in the WeCom address book (the staff
	// directory); absent while the directory does not know them.
	OwnerName      string         `json:"owner_name,omitempty"`
	Tags           []string       `json:"tags"`
	BANT           BANT           `json:"bant"`
	Behaviour      Behaviour      `json:"behaviour"`
	Score          int            `json:"score"`
	Breakdown      []ScoreLine    `json:"score_breakdown"`
	Stage          string         `json:"stage"`
	StageChangedAt wire.Timestamp `json:"stage_changed_at"`
	LastActivityAt wire.Timestamp `json:"last_activity_at"`
	CreatedAt      wire.Timestamp `json:"created_at"`
	UpdatedAt      wire.Timestamp `json:"updated_at"`
	// MergedInto is the lead this one was absorbed into (same person); only
	// the change feed shows absorbed leads.
	MergedInto  uint64           `json:"merged_into,omitempty"`
	Transitions []LeadTransition `json:"transitions,omitempty"`
}

// LeadTransition is a stage change with its reason and actor.
type LeadTransition struct {
	ID      uint64         `json:"id"`
	LeadID  uint64         `json:"lead_id"`
	From    string         `json:"from"`
	To      string         `json:"to"`
	Reason  string         `json:"reason"`
	Actor   string         `json:"actor"`
	ActorID string         `json:"actor_id,omitempty"`
	At      wire.Timestamp `json:"at"`
}

// BANT answers.
const (
	BANTUnknown = "unknown"
	BANTNo      = "no"
	BANTYes     = "yes"
)

// BANTFields are the four qualification fields.
var BANTFields = []string{"budget", "authority", "need", "timeline"}

// BANTAnswer is one BANT field.
type BANTAnswer struct {
	Value string `json:"value"`
	Note  string `json:"note,omitempty"`
}

// BANT is a lead's qualification.
type BANT map[string]BANTAnswer

// Yes counts the fields answered yes.
func (b BANT) Yes() int {
	n := 0
	for _, f := range BANTFields {
		if b[f].Value == BANTYes {
			n++
		}
	}
	return n
}

// Behaviour is what a lead did that scoring counts.
type Behaviour struct {
	Adds         int      `json:"adds"`
	Codes        []string `json:"codes,omitempty"` // names of the codes they came through
	GroupsJoined int      `json:"groups_joined"`
	// NurtureFloor is the score a lead had when it went back to nurturing; it
	// qualifies again only above it, so a lead the CRM turned down does not
	// bounce straight back on its old score.
	NurtureFloor *int `json:"nurture_floor,omitempty"`
}

// ScoreLine is one line of a score's breakdown.
type ScoreLine struct {
	Reason string `json:"reason"`
	Points int    `json:"points"`
}
