package service

import (
	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/service/auth"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/webhook"
)

// The names that handler and cmd know from package service, for the domains
// that have moved to packages of their own: so callers keep one import while
// the business is split by domain.

// Admin-API tokens and roles (service/auth).
type (
	Auth      = auth.Auth
	Principal = auth.Principal
	Token     = auth.Token
	TokenSpec = auth.TokenSpec
)

// Roles an API token can carry.
const (
	RoleAdmin  = auth.RoleAdmin
	RoleStaff  = auth.RoleStaff
	RoleViewer = auth.RoleViewer
	RoleCRM    = auth.RoleCRM
)

// ErrUnauthenticated is returned for a missing, malformed, unknown or revoked token.
var ErrUnauthenticated = auth.ErrUnauthenticated

// NewAuth builds an Auth.
func NewAuth(store auth.TokenStore, clk clock.Clock) *Auth { return auth.New(store, clk) }

// The webhook contract and the lead it carries (service/webhook).
type (
	WebhookEnvelope      = webhook.WebhookEnvelope
	WebhookContact       = webhook.WebhookContact
	WebhookContactSource = webhook.WebhookContactSource
	ContactAddedData     = webhook.ContactAddedData
	ContactLostData      = webhook.ContactLostData
	ContactErasedData    = webhook.ContactErasedData
	GroupJoinedData      = webhook.GroupJoinedData
	LeadEventData        = webhook.LeadEventData
	LeadChange           = webhook.LeadChange
	MergedLead           = webhook.MergedLead
	Lead                 = webhook.Lead
	LeadSource           = webhook.LeadSource
	LeadTransition       = webhook.LeadTransition
	BANT                 = webhook.BANT
	BANTAnswer           = webhook.BANTAnswer
	Behaviour            = webhook.Behaviour
	ScoreLine            = webhook.ScoreLine
)

// Webhook event types, payload version, source kinds and BANT answers.
const (
	EventLeadCreated      = webhook.EventLeadCreated
	EventLeadUpdated      = webhook.EventLeadUpdated
	EventLeadStageChanged = webhook.EventLeadStageChanged
	EventLeadQualified    = webhook.EventLeadQualified
	EventLeadMerged       = webhook.EventLeadMerged
	EventContactAdded     = webhook.EventContactAdded
	EventContactLost      = webhook.EventContactLost
	EventContactErased    = webhook.EventContactErased
	EventGroupJoined      = webhook.EventGroupJoined
	EventWebhookTest      = webhook.EventWebhookTest
	WebhookVersion        = webhook.WebhookVersion

	SourceChannel = webhook.SourceChannel
	SourceStore   = webhook.SourceStore
	SourceGroup   = webhook.SourceGroup
	SourceUnknown = webhook.SourceUnknown

	BANTUnknown = webhook.BANTUnknown
	BANTNo      = webhook.BANTNo
	BANTYes     = webhook.BANTYes
)

// The lists of the above.
var (
	WebhookEventTypes = webhook.WebhookEventTypes
	WebhookVersions   = webhook.WebhookVersions
	SourceKinds       = webhook.SourceKinds
	BANTFields        = webhook.BANTFields
)

// ValidWebhookEventType reports whether t is a type an endpoint may subscribe to.
func ValidWebhookEventType(t string) bool { return webhook.ValidWebhookEventType(t) }

// The live codes' core (service/livecode): a tag by name and id, and the job
// that marks a relation's tags.
type TagRef = livecode.TagRef

// JobMarkTag is the job kind that adds and removes a relation's tags.
const JobMarkTag = livecode.JobMarkTag

// Leads, scoring and tag rules (service/lead).
type (
	Leads          = lead.Leads
	LeadQuery      = lead.LeadQuery
	LeadPatch      = lead.LeadPatch
	LeadFeed       = lead.LeadFeed
	Funnel         = lead.Funnel
	CRMAnswer      = lead.CRMAnswer
	CRMResult      = lead.CRMResult
	ScoringConfig  = lead.ScoringConfig
	TagRules       = lead.TagRules
	TagRuleSpec    = lead.TagRuleSpec
	RuleConditions = lead.RuleConditions
	RuleActions    = lead.RuleActions
	Activity       = lead.Activity
)

// Lead stages, triggers, job kinds and the feed's settling time.
const (
	StageRaw       = lead.StageRaw
	StageMQL       = lead.StageMQL
	StageSQL       = lead.StageSQL
	StageHandedOff = lead.StageHandedOff
	StageAccepted  = lead.StageAccepted
	StageWon       = lead.StageWon
	StageRejected  = lead.StageRejected
	StageNurturing = lead.StageNurturing
	StageLost      = lead.StageLost

	TriggerContactAdded = lead.TriggerContactAdded
	JobLeadActivity     = lead.JobLeadActivity
	FeedSettle          = lead.FeedSettle
)

// Errors of the leads' API.
var (
	ErrNotLinked = lead.ErrNotLinked
	ErrForbidden = lead.ErrForbidden
)

// ValidStage reports whether s is a lead stage.
func ValidStage(s string) bool { return lead.ValidStage(s) }

// IsFeedCursor reports whether c is a cursor of the leads' change feed.
func IsFeedCursor(c string) bool { return lead.IsFeedCursor(c) }

// DefaultScoring is the scoring a corp has until it sets its own.
func DefaultScoring() ScoringConfig { return lead.DefaultScoring() }
