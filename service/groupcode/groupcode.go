package groupcode

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/lead"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/webhook"
	"github.com/leadgate/scrm-gateway/service/wire"
	"github.com/leadgate/scrm-gateway/wecom"
)

// Job kinds of the group-code domain. Both run under the order key
// "join_way:<code>", so one writer touches a code's join way at a time.
const (
	JobSyncJoinWay      = "sync_join_way"
	JobReconcileJoinWay = "reconcile_join_way"
)

const (
	// DefaultGroupThreshold is WeCom's ceiling for joining a group by QR code.
	DefaultGroupThreshold = 200
	// wecomGroupCeiling counts every member, staff included: past it WeCom
	// refuses QR joins whatever our threshold says.
	wecomGroupCeiling = 200
	// maxJoinWayChats is WeCom's limit on a join way's chat_id_list.
	maxJoinWayChats = 5
	// maxPoolChats bounds a pool so a create stays one bounded request.
	maxPoolChats = 500
	// reconcileEvery is how often each code's listed groups are re-read
	// from WeCom in case an event was lost.
	reconcileEvery = 5 * time.Minute
)

// GroupCodeSpec is what an admin sends to create or change a group code.
// On PATCH, absent fields keep their value.
type GroupCodeSpec struct {
	Name       *string         `json:"name"`
	Title      *string         `json:"title"`
	Text       *string         `json:"text"`
	ChatIDs    *[]string       `json:"chat_ids"`
	Threshold  *int            `json:"threshold"`
	AutoCreate *AutoCreateSpec `json:"auto_create"`
	// Welcome is the text of the code's group welcome template in WeCom;
	// "" removes the template.
	Welcome *string `json:"welcome"`
	// UTM is the campaign of the code's poster (utm_source, utm_medium,
	// utm_campaign, utm_term, utm_content), as on channel codes: absent or
	// null keeps it, {} clears it. Leads first seen joining through the
	// code carry it.
	UTM map[string]string `json:"utm"`
}

// AutoCreateSpec lets WeCom create a new group (room_base_name + N, N from
// room_base_id) when every listed group is full.
type AutoCreateSpec struct {
	Enabled      bool   `json:"enabled"`
	RoomBaseName string `json:"room_base_name,omitempty"`
	RoomBaseID   int    `json:"room_base_id,omitempty"`
}

// PoolGroup is one group of a code's pool as the API shows it.
type PoolGroup struct {
	ChatID      string          `json:"chat_id"`
	Position    int             `json:"position"`
	Name        string          `json:"name"`
	Members     int             `json:"members"`
	Customers   int             `json:"customers"`
	Dismissed   bool            `json:"dismissed,omitempty"`
	AutoCreated bool            `json:"auto_created,omitempty"`
	RefreshedAt *wire.Timestamp `json:"refreshed_at,omitempty"`
	Full        bool            `json:"full"`
	Listed      bool            `json:"listed"`
}

// GroupCode is a group code as the API shows it.
type GroupCode struct {
	ID         uint64         `json:"id"`
	CorpID     string         `json:"corp_id"`
	Name       string         `json:"name"`
	Title      string         `json:"title"`
	Text       string         `json:"text"`
	State      string         `json:"state"`
	Slug       string         `json:"slug"`
	ConfigID   string         `json:"config_id"`
	QRCode     string         `json:"qr_code"`
	LandingURL string         `json:"landing_url"`
	Threshold  int            `json:"threshold"`
	AutoCreate AutoCreateSpec `json:"auto_create"`
	Welcome    string         `json:"welcome,omitempty"`
	// WelcomeTemplateID is WeCom's group welcome template made from Welcome.
	WelcomeTemplateID string            `json:"welcome_template_id,omitempty"`
	UTM               map[string]string `json:"utm"`
	Pool              []PoolGroup       `json:"pool"`
	ChatList          []string          `json:"chat_list"`
	Current           string            `json:"current_chat_id,omitempty"`
	Dry               bool              `json:"dry"`
	Alert             string            `json:"alert,omitempty"`
	AlertMessage      *explain.Message  `json:"alert_message,omitempty"`
	SyncedAt          *wire.Timestamp   `json:"synced_at,omitempty"`
	CreatedBy         string            `json:"created_by,omitempty"`
	CreatedAt         wire.Timestamp    `json:"created_at"`
	UpdatedAt         wire.Timestamp    `json:"updated_at"`
}

// GroupCodes manages group live codes: a pool of customer groups behind
// one WeCom join way whose chat list always names the first groups of the
// pool that still have room.
type GroupCodes struct {
	store     Store
	clients   livecode.Clients
	jobs      queue.Wake
	clock     clock.Clock
	log       *slog.Logger
	publicURL string
	dry       *prometheus.GaugeVec
	// landing holds the /g/ pages: every method that changes a code or
	// its pool clears it.
	landing *livecode.LandingCache[*GroupLanding]
}

// joinActivity is the job each attributed join enqueues, in the
// transaction that records it: a join through our codes is lead behaviour.
// The activity carries no code id: for leads that names a channel code; the
// state names ours.
func joinActivity(corpID string, j GroupJoin) *model.Job {
	return lead.ActivityJob(corpID, lead.Activity{Trigger: lead.TriggerJoinedGroup, Key: fmt.Sprintf("join:%d:%s", j.EventID, j.ExternalUserID),
		ExternalUserID: j.ExternalUserID, StoreID: j.StoreID, ChatID: j.ChatID, GroupCodeID: j.GroupCodeID, State: j.State, At: j.At})
}

// GroupJoin is a customer joining a group through one of our codes.
type GroupJoin struct {
	EventID        uint64
	ExternalUserID string
	ChatID         string
	State          string
	GroupCodeID    uint64 // 0 for a store's group
	StoreCodeID    uint64
	StoreID        uint64
	At             time.Time
}

// NewGroupCodes builds the service; jobs wakes the job runner.
func NewGroupCodes(store Store, clients livecode.Clients, jobs queue.Wake, reg prometheus.Registerer,
	clk clock.Clock, log *slog.Logger, publicURL string) *GroupCodes {
	if log == nil {
		log = slog.Default()
	}
	g := &GroupCodes{store: store, clients: clients, jobs: jobs, clock: clk, log: log.With("component", "group_codes"),
		publicURL: strings.TrimRight(publicURL, "/"),
		dry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gateway_group_code_pool_dry",
			Help: "1 when every group in a group code's pool has reached its threshold (the code keeps serving its last group or waits for WeCom to create one).",
		}, []string{"code_id", "auto_create"}),
	}
	g.landing = livecode.NewLandingCache[*GroupLanding]("group codes", store.GroupLandingVersion)
	if reg != nil {
		reg.MustRegister(g.dry)
	}
	return g
}

// full says whether a group has no room left for this code: its customers
// reached the threshold, or it reached WeCom's ceiling for QR joins.
func full(p model.GroupCodeChat, threshold int) bool {
	return p.Customers >= threshold || p.Members >= wecomGroupCeiling
}

// desiredChats is the chat list the join way should carry: the first
// groups of the pool, in order, that are neither dismissed nor full. When
// the pool is dry it keeps what the way lists (so WeCom's auto-create, or
// the last group, keeps serving); with nothing listable it returns nil.
func desiredChats(pool []model.GroupCodeChat, threshold int, written []string) (chats []string, dry bool) {
	var live []string
	for _, p := range pool {
		if p.Dismissed {
			continue
		}
		live = append(live, p.ChatID)
		if !full(p, threshold) && len(chats) < maxJoinWayChats {
			chats = append(chats, p.ChatID)
		}
	}
	if len(chats) > 0 {
		return chats, false
	}
	for _, w := range written {
		if slices.Contains(live, w) && len(chats) < maxJoinWayChats {
			chats = append(chats, w)
		}
	}
	if len(chats) == 0 && len(live) > 0 {
		chats = []string{live[len(live)-1]}
	}
	return chats, true
}

func dryAlert(c *model.GroupCode, chats []string) string {
	switch {
	case len(chats) == 0:
		return "every group in the pool is dismissed; the join way lists nothing that exists: add groups"
	case c.AutoCreate:
		return ""
	}
	return fmt.Sprintf("every group in the pool has %d customers or more; the code keeps serving %s: add groups or raise the threshold",
		c.Threshold, strings.Join(chats, ", "))
}

func (g *GroupCodes) view(c *model.GroupCode, pool []model.GroupCodeChat) *GroupCode {
	listed := livecode.DecodeChats(c.ChatList)
	v := &GroupCode{ID: c.ID, CorpID: c.CorpID, Name: c.Name, Title: c.Title, Text: c.Text, State: c.State, Slug: c.Slug,
		ConfigID: c.ConfigID, QRCode: c.QRCode, LandingURL: g.publicURL + "/g/" + c.Slug, Threshold: c.Threshold,
		AutoCreate: AutoCreateSpec{Enabled: c.AutoCreate, RoomBaseName: c.RoomBaseName, RoomBaseID: c.RoomBaseID},
		Welcome:    c.Welcome, WelcomeTemplateID: c.WelcomeTemplateID, UTM: livecode.UTMView(c.UTM),
		Pool: make([]PoolGroup, 0, len(pool)), ChatList: listed, Dry: c.Dry, Alert: c.Alert, AlertMessage: explain.Alert(c.Alert),
		SyncedAt: wire.AtPtr(c.SyncedAt), CreatedBy: c.CreatedBy, CreatedAt: wire.At(c.CreatedAt), UpdatedAt: wire.At(c.UpdatedAt)}
	for _, p := range pool {
		v.Pool = append(v.Pool, PoolGroup{ChatID: p.ChatID, Position: p.Position, Name: p.Name, Members: p.Members,
			Customers: p.Customers, Dismissed: p.Dismissed, AutoCreated: p.AutoCreated, RefreshedAt: wire.AtPtr(p.RefreshedAt),
			Full: full(p, c.Threshold), Listed: slices.Contains(listed, p.ChatID)})
	}
	v.Current, _ = currentChat(c, pool)
	return v
}

// currentChat is the group a customer scanning now lands in: the first
// listed group with room. When none has room it is the group the code
// keeps serving, reported as full, or "" while WeCom is to create one.
func currentChat(c *model.GroupCode, pool []model.GroupCodeChat) (string, bool) {
	listed := livecode.DecodeChats(c.ChatList)
	byID := map[string]model.GroupCodeChat{}
	for _, p := range pool {
		byID[p.ChatID] = p
	}
	for _, id := range listed {
		if p, ok := byID[id]; ok && !p.Dismissed && !full(p, c.Threshold) {
			return id, false
		}
	}
	if c.AutoCreate || len(listed) == 0 {
		return "", true
	}
	return listed[len(listed)-1], true
}

// Get returns one code with its pool.
func (g *GroupCodes) Get(ctx context.Context, corpID string, id uint64) (*GroupCode, error) {
	c, err := g.store.GetGroupCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	pool, err := g.store.GroupCodePool(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	return g.view(c, pool), nil
}

// List returns codes of a corp with their pools.
func (g *GroupCodes) List(ctx context.Context, q GroupCodeQuery) ([]*GroupCode, error) {
	rows, err := g.store.ListGroupCodes(ctx, q.filter())
	if err != nil {
		return nil, err
	}
	out := make([]*GroupCode, 0, len(rows))
	for i := range rows {
		pool, err := g.store.GroupCodePool(ctx, rows[i].ID)
		if err != nil {
			return nil, err
		}
		out = append(out, g.view(&rows[i], pool))
	}
	return out, nil
}

// apply validates spec onto c and returns the new pool's chat ids (nil
// when the spec leaves the pool alone).
func (g *GroupCodes) apply(c *model.GroupCode, spec GroupCodeSpec) ([]string, error) {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &apierr.ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	if spec.Name != nil {
		n := strings.TrimSpace(*spec.Name)
		if n == "" || utf8.RuneCountInString(n) > 64 {
			bad("name", "must be 1 to 64 characters")
		}
		c.Name = n
	}
	if spec.Title != nil {
		t := strings.TrimSpace(*spec.Title)
		if utf8.RuneCountInString(t) > 64 {
			bad("title", "must be at most 64 characters")
		}
		c.Title = t
	}
	if spec.Text != nil {
		if utf8.RuneCountInString(*spec.Text) > 500 {
			bad("text", "must be at most 500 characters")
		}
		c.Text = strings.TrimSpace(*spec.Text)
	}
	if spec.Threshold != nil {
		if *spec.Threshold < 1 || *spec.Threshold > wecomGroupCeiling {
			bad("threshold", "must be from 1 to %d (WeCom's ceiling for joining by QR code)", wecomGroupCeiling)
		}
		c.Threshold = *spec.Threshold
	}
	if spec.Welcome != nil {
		if len(*spec.Welcome) > 4000 {
			bad("welcome", "must be at most 4000 bytes (WeCom's limit)")
		}
		c.Welcome = *spec.Welcome
	}
	if spec.UTM != nil {
		if err := livecode.ValidateUTM(spec.UTM); err != nil {
			errs = append(errs, err)
		}
		c.UTM = livecode.EncodeUTM(spec.UTM)
	}
	if a := spec.AutoCreate; a != nil {
		c.AutoCreate = a.Enabled
		name := strings.TrimSpace(a.RoomBaseName)
		if utf8.RuneCountInString(name) > 40 {
			bad("auto_create.room_base_name", "must be at most 40 characters (WeCom's limit)")
		}
		if a.RoomBaseID < 0 || a.RoomBaseID > 1_000_000_000 {
			bad("auto_create.room_base_id", "must be from 0 to 1000000000")
		}
		c.RoomBaseName, c.RoomBaseID = name, a.RoomBaseID
	}
	if c.AutoCreate && c.RoomBaseName == "" {
		c.RoomBaseName = livecode.ClipRunes(c.Name, 36)
	}
	var chats []string
	if spec.ChatIDs != nil {
		ids := *spec.ChatIDs
		if len(ids) == 0 || len(ids) > maxPoolChats {
			bad("chat_ids", "must list 1 to %d group chat ids", maxPoolChats)
		}
		seen := map[string]bool{}
		for i, id := range ids {
			id = strings.TrimSpace(id)
			switch {
			case id == "" || len(id) > 64:
				bad(fmt.Sprintf("chat_ids[%d]", i), "must be a group chat id")
			case seen[id]:
				bad(fmt.Sprintf("chat_ids[%d]", i), "is listed twice")
			default:
				seen[id] = true
				chats = append(chats, id)
			}
		}
	}
	return chats, errors.Join(errs...)
}

// readPool checks that every new chat exists and is free, reading its
// counts from WeCom; chats the code already holds keep their rows.
func (g *GroupCodes) readPool(ctx context.Context, client *wecom.Client, c *model.GroupCode, chats []string, old []model.GroupCodeChat) ([]model.GroupCodeChat, error) {
	taken, err := g.store.PooledChats(ctx, c.CorpID, chats)
	if err != nil {
		return nil, err
	}
	have := map[string]model.GroupCodeChat{}
	for _, p := range old {
		have[p.ChatID] = p
	}
	pool := make([]model.GroupCodeChat, 0, len(chats))
	for i, id := range chats {
		if p, ok := have[id]; ok {
			pool = append(pool, p)
			continue
		}
		if owner, ok := taken[id]; ok && owner != c.ID {
			return nil, &apierr.ValidationError{Field: fmt.Sprintf("chat_ids[%d]", i), Reason: fmt.Sprintf("already in the pool of group code %d", owner)}
		}
		gc, err := client.GetGroupChat(ctx, id, true)
		if livecode.IsChatGone(err) {
			return nil, &apierr.ValidationError{Field: fmt.Sprintf("chat_ids[%d]", i), Reason: "no such group chat in WeCom (or it was dismissed)"}
		}
		if err != nil {
			return nil, livecode.AdminError(err)
		}
		counts := chatCounts(gc)
		now := g.clock.Now()
		pool = append(pool, model.GroupCodeChat{ChatID: id, Name: counts.Name, Members: counts.Members,
			Customers: counts.Customers, MemberVersion: counts.MemberVersion, RefreshedAt: &now})
	}
	return pool, nil
}

func chatCounts(gc *wecom.GroupChat) model.ChatCounts {
	c := model.ChatCounts{Name: gc.Name, Members: len(gc.Members), MemberVersion: gc.MemberVersion}
	for _, m := range gc.Members {
		if m.Type == wecom.MemberExternal {
			c.Customers++
		}
	}
	return c
}

func (g *GroupCodes) joinWay(c *model.GroupCode, chats []string) wecom.JoinWay {
	return wecom.JoinWay{ConfigID: c.ConfigID, Scene: wecom.SceneQRCode, Remark: livecode.ClipRunes(c.Name, 30),
		AutoCreateRoom: c.AutoCreate, RoomBaseName: c.RoomBaseName, RoomBaseID: c.RoomBaseID, ChatIDs: chats, State: c.State}
}

// Create validates a spec, reads the pool's groups, makes the join way and
// stores the code.
func (g *GroupCodes) Create(ctx context.Context, corpID, actor string, spec GroupCodeSpec) (*GroupCode, error) {
	defer g.landing.Clear() // after the change commits
	client, err := g.clients(corpID)
	if err != nil {
		return nil, err
	}
	if spec.Name == nil {
		return nil, &apierr.ValidationError{Field: "name", Reason: "is required"}
	}
	if spec.ChatIDs == nil {
		return nil, &apierr.ValidationError{Field: "chat_ids", Reason: "is required: the pool's group chat ids, in the order they should fill"}
	}
	c := &model.GroupCode{CorpID: corpID, CreatedBy: actor, Threshold: DefaultGroupThreshold, ChatList: "[]"}
	chats, err := g.apply(c, spec)
	if err != nil {
		return nil, err
	}
	if c.Title == "" {
		c.Title = c.Name
	}
	slug, err := livecode.RandomSlug()
	if err != nil {
		return nil, err
	}
	c.Slug, c.State = slug, "g:"+slug
	pool, err := g.readPool(ctx, client, c, chats, nil)
	if err != nil {
		return nil, err
	}
	for i := range pool {
		pool[i].Position = i
	}
	list, dry := desiredChats(pool, c.Threshold, nil)
	if len(list) == 0 {
		return nil, &apierr.ValidationError{Field: "chat_ids", Reason: "no listed group exists"}
	}
	// WeCom's objects are made before the row; any failure takes back what
	// was made, so a refused create leaves nothing behind in WeCom.
	if c.Welcome != "" {
		if c.WelcomeTemplateID, err = client.AddGroupWelcome(ctx, wecom.GroupWelcome{Text: c.Welcome}, true); err != nil {
			return nil, livecode.AdminError(err)
		}
	}
	undo := func() {
		g.dropWelcome(context.WithoutCancel(ctx), client, c.WelcomeTemplateID)
		if c.ConfigID != "" {
			g.dropJoinWay(context.WithoutCancel(ctx), client, c.ConfigID)
		}
	}
	c.ConfigID, err = client.AddJoinWay(ctx, g.joinWay(c, list))
	if err != nil {
		undo()
		return nil, livecode.AdminError(err)
	}
	jw, err := client.GetJoinWay(ctx, c.ConfigID)
	if err != nil {
		undo()
		return nil, livecode.AdminError(err)
	}
	now := g.clock.Now()
	c.QRCode, c.ChatList, c.Dry, c.Alert, c.SyncedAt = jw.QRCode, livecode.EncodeChats(list), dry, "", &now
	if dry {
		c.Alert = dryAlert(c, list)
	}
	if err := g.store.CreateGroupCode(ctx, c, pool); err != nil {
		// Do not leave an orphan join way or template behind in WeCom.
		undo()
		if errors.Is(err, model.ErrConflict) {
			return nil, &apierr.ValidationError{Field: "chat_ids", Reason: "a group was just added to another code's pool"}
		}
		return nil, err
	}
	g.setGauge(c)
	g.log.Info("group code created", "id", c.ID, "corp", corpID, "pool", len(pool), "actor", actor)
	return g.Get(ctx, corpID, c.ID)
}

// dropWelcome deletes a group welcome template; one WeCom no longer has is
// fine.
func (g *GroupCodes) dropWelcome(ctx context.Context, client *wecom.Client, templateID string) {
	if templateID == "" {
		return
	}
	if err := client.DeleteGroupWelcome(ctx, templateID); err != nil && !wecom.GroupWelcomeGone(err) {
		g.log.Warn("could not delete group welcome template", "template_id", templateID, "err", err)
	}
}

// syncWelcome brings the code's group welcome template in step with its
// welcome text: added when the text is set, edited when it changed (added
// anew when WeCom lost it), deleted when it is cleared. It sets
// c.WelcomeTemplateID; on a WeCom failure it changes nothing and the
// caller keeps the old code.
func (g *GroupCodes) syncWelcome(ctx context.Context, client *wecom.Client, c *model.GroupCode, old string) error {
	id := c.WelcomeTemplateID
	switch {
	case c.Welcome == "" && id != "":
		if err := client.DeleteGroupWelcome(ctx, id); err != nil && !wecom.GroupWelcomeGone(err) {
			return err
		}
		c.WelcomeTemplateID = ""
		return nil
	case c.Welcome == "" || c.Welcome == old && id != "":
		return nil
	case id != "":
		err := client.EditGroupWelcome(ctx, id, wecom.GroupWelcome{Text: c.Welcome})
		if !wecom.GroupWelcomeGone(err) {
			return err
		}
	}
	id, err := client.AddGroupWelcome(ctx, wecom.GroupWelcome{Text: c.Welcome}, true)
	if err != nil {
		return err
	}
	c.WelcomeTemplateID = id
	return nil
}

func (g *GroupCodes) dropJoinWay(ctx context.Context, client *wecom.Client, configID string) {
	if err := client.DeleteJoinWay(ctx, configID); err != nil {
		g.log.Warn("could not delete join way", "config_id", configID, "err", err)
	}
}

// Update applies a PATCH. A new pool or threshold is written to the join
// way by the sync job; new join-way settings are written at once so the
// admin sees a WeCom refusal.
func (g *GroupCodes) Update(ctx context.Context, corpID string, id uint64, spec GroupCodeSpec) (*GroupCode, error) {
	defer g.landing.Clear() // after the change commits
	client, err := g.clients(corpID)
	if err != nil {
		return nil, err
	}
	c, err := g.store.GetGroupCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	old := *c
	chats, err := g.apply(c, spec)
	if err != nil {
		return nil, err
	}
	if spec.Title != nil && c.Title == "" {
		c.Title = c.Name
	}
	if spec.ChatIDs != nil {
		cur, err := g.store.GroupCodePool(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		pool, err := g.readPool(ctx, client, c, chats, cur)
		if err != nil {
			return nil, err
		}
		if err := g.store.ReplaceGroupCodePool(ctx, c, pool); err != nil {
			if errors.Is(err, model.ErrConflict) {
				return nil, &apierr.ValidationError{Field: "chat_ids", Reason: "a group was just added to another code's pool"}
			}
			return nil, err
		}
	}
	if c.Name != old.Name || c.AutoCreate != old.AutoCreate || c.RoomBaseName != old.RoomBaseName || c.RoomBaseID != old.RoomBaseID {
		if err := client.UpdateJoinWay(ctx, g.joinWay(c, livecode.DecodeChats(c.ChatList))); err != nil {
			return nil, livecode.AdminError(err)
		}
	}
	if spec.Welcome != nil {
		if err := g.syncWelcome(ctx, client, c, old.Welcome); err != nil {
			return nil, livecode.AdminError(err)
		}
	}
	if err := g.store.SaveGroupCode(ctx, c); err != nil {
		if c.WelcomeTemplateID != old.WelcomeTemplateID {
			g.dropWelcome(context.WithoutCancel(ctx), client, c.WelcomeTemplateID)
		}
		return nil, err
	}
	if spec.ChatIDs != nil || c.Threshold != old.Threshold || c.AutoCreate != old.AutoCreate {
		if err := g.RequestSync(ctx, corpID, c.ID); err != nil {
			return nil, err
		}
	}
	return g.Get(ctx, corpID, c.ID)
}

// Delete removes the join way and retires the code; its statistics and the
// contacts it brought stay.
func (g *GroupCodes) Delete(ctx context.Context, corpID string, id uint64) error {
	defer g.landing.Clear() // after the change commits
	client, err := g.clients(corpID)
	if err != nil {
		return err
	}
	c, err := g.store.GetGroupCode(ctx, corpID, id)
	if err != nil {
		return err
	}
	if c.WelcomeTemplateID != "" {
		if err := client.DeleteGroupWelcome(ctx, c.WelcomeTemplateID); err != nil && !wecom.GroupWelcomeGone(err) {
			return livecode.AdminError(err)
		}
	}
	if err := client.DeleteJoinWay(ctx, c.ConfigID); err != nil && !livecode.IsWayGone(err) {
		return livecode.AdminError(err)
	}
	if err := g.store.DeleteGroupCode(ctx, id); err != nil {
		return err
	}
	g.dry.DeletePartialMatch(prometheus.Labels{"code_id": fmt.Sprint(id)})
	g.log.Info("group code deleted", "id", id, "corp", corpID)
	return nil
}

func (g *GroupCodes) setGauge(c *model.GroupCode) {
	v := 0.0
	if c.Dry {
		v = 1
	}
	g.dry.DeletePartialMatch(prometheus.Labels{"code_id": fmt.Sprint(c.ID)})
	g.dry.WithLabelValues(fmt.Sprint(c.ID), fmt.Sprint(c.AutoCreate)).Set(v)
}

// RequestSync asks for the code's join way to be brought in step with its
// pool (coalesced: many requests, one rewrite).
func (g *GroupCodes) RequestSync(ctx context.Context, corpID string, codeID uint64) error {
	return g.rearm(ctx, corpID, codeID, JobSyncJoinWay, false)
}

func (g *GroupCodes) rearm(ctx context.Context, corpID string, codeID uint64, kind string, reconcile bool) error {
	return livecode.RequestSync(ctx, g.store, g.jobs, &model.Job{CorpID: corpID, Kind: kind, Key: fmt.Sprintf("%s:%d", kind, codeID),
		OrderKey: fmt.Sprintf("join_way:%d", codeID), Payload: queue.EncodePayload(joinSyncPayload{CodeID: codeID, Reconcile: reconcile})})
}

type joinSyncPayload struct {
	CodeID    uint64 `json:"code_id"`
	Reconcile bool   `json:"reconcile,omitempty"`
}

// RunSync rewrites a code's join way when the groups it should list
// differ from what it lists. A reconcile first re-reads the listed groups
// from WeCom, for events that never arrived. With auto-create on it adopts
// the groups WeCom created into the pool before deciding, so it never
// takes a fresh group off the way.
func (g *GroupCodes) RunSync(ctx context.Context, j *model.Job) error {
	defer g.landing.Clear() // after the change commits
	var p joinSyncPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	c, err := g.store.GetGroupCode(ctx, j.CorpID, p.CodeID)
	if err != nil {
		return queue.IgnoreIfGone(err, "code deleted")
	}
	client, err := g.clients(c.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	pool, err := g.store.GroupCodePool(ctx, c.ID)
	if err != nil {
		return err
	}
	written := livecode.DecodeChats(c.ChatList)
	if p.Reconcile {
		want, _ := desiredChats(pool, c.Threshold, written)
		for _, pc := range pool {
			if pc.Dismissed || !(slices.Contains(written, pc.ChatID) || slices.Contains(want, pc.ChatID)) {
				continue
			}
			if err := g.refresh(ctx, client, c.CorpID, pc.ChatID); err != nil {
				return err
			}
		}
	}
	if c.AutoCreate {
		jw, err := client.GetJoinWay(ctx, c.ConfigID)
		if err != nil {
			return livecode.JobError(err)
		}
		for _, id := range jw.ChatIDs {
			if slices.ContainsFunc(pool, func(p model.GroupCodeChat) bool { return p.ChatID == id }) {
				continue
			}
			if _, err := g.adopt(ctx, client, c, id); err != nil {
				return err
			}
		}
		written = jw.ChatIDs
	}
	if p.Reconcile || c.AutoCreate {
		if pool, err = g.store.GroupCodePool(ctx, c.ID); err != nil {
			return err
		}
	}
	list, dry := desiredChats(pool, c.Threshold, written)
	alert := ""
	if dry {
		alert = dryAlert(c, list)
	}
	if len(list) > 0 && !slices.Equal(list, written) {
		if err := client.UpdateJoinWay(ctx, g.joinWay(c, list)); err != nil {
			if livecode.IsChatGone(err) {
				// A listed group vanished without a dismiss event: find it,
				// mark it, and let the retry choose again.
				for _, id := range list {
					if rerr := g.refresh(ctx, client, c.CorpID, id); rerr != nil {
						return rerr
					}
				}
				return fmt.Errorf("a listed group is gone; choosing again: %w", err)
			}
			if aerr := g.store.SetGroupCodeAlert(ctx, c.ID, livecode.SyncFailedAlert(err)); aerr != nil {
				return aerr
			}
			return livecode.JobError(err)
		}
		g.log.Info("join way rewritten", "code", c.ID, "chats", list, "dry", dry)
	}
	if len(list) == 0 {
		list = written
	}
	if err := g.store.SetGroupCodeSync(ctx, c.ID, livecode.EncodeChats(list), dry, alert, p.Reconcile); err != nil {
		return err
	}
	c.Dry = dry
	g.setGauge(c)
	return nil
}

// refresh re-reads one pooled group's counts; a group WeCom no longer has
// is marked dismissed.
func (g *GroupCodes) refresh(ctx context.Context, client *wecom.Client, corpID, chatID string) error {
	defer g.landing.Clear() // after the change commits
	gc, err := client.GetGroupChat(ctx, chatID, true)
	if livecode.IsChatGone(err) {
		_, err := g.store.MarkGroupChatDismissed(ctx, corpID, chatID)
		return err
	}
	if err != nil {
		return livecode.JobError(err)
	}
	return g.store.SetGroupChatCounts(ctx, corpID, chatID, chatCounts(gc))
}

// adopt puts a group WeCom created for the code at the end of its pool.
func (g *GroupCodes) adopt(ctx context.Context, client *wecom.Client, c *model.GroupCode, chatID string) (bool, error) {
	defer g.landing.Clear() // after the change commits
	gc, err := client.GetGroupChat(ctx, chatID, true)
	if livecode.IsChatGone(err) {
		return false, nil
	}
	if err != nil {
		return false, livecode.JobError(err)
	}
	counts := chatCounts(gc)
	now := g.clock.Now()
	ok, err := g.store.AdoptGroupChat(ctx, model.GroupCodeChat{CorpID: c.CorpID, CodeID: c.ID, ChatID: chatID, Name: counts.Name,
		Members: counts.Members, Customers: counts.Customers, MemberVersion: counts.MemberVersion, RefreshedAt: &now})
	if ok {
		g.log.Info("group adopted into pool", "code", c.ID, "chat", chatID, "name", counts.Name)
	}
	return ok, err
}

// Tick runs every minute under the cron lease: it publishes each code's
// dry gauge and reconciles codes not re-read for reconcileEvery.
func (g *GroupCodes) Tick(ctx context.Context) error {
	codes, err := g.store.ListGroupCodes(ctx, model.GroupCodeFilter{})
	if err != nil {
		return err
	}
	now := g.clock.Now()
	for i := range codes {
		c := &codes[i]
		g.setGauge(c)
		if strings.HasPrefix(c.Alert, livecode.SyncFailedAlertPrefix) {
			// Its last sync failed: ask again until one succeeds.
			if err := g.RequestSync(ctx, c.CorpID, c.ID); err != nil {
				return err
			}
			continue
		}
		if c.ReconciledAt == nil || now.Sub(*c.ReconciledAt) >= reconcileEvery {
			if err := g.rearm(ctx, c.CorpID, c.ID, JobReconcileJoinWay, true); err != nil {
				return err
			}
		}
	}
	return nil
}

// OnChatCreate lets codes with auto-create adopt a group WeCom just made
// for them (their sync reads the join way's list).
func (g *GroupCodes) OnChatCreate(ctx context.Context, ev *queue.InboundEvent) error {
	codes, err := g.store.ListGroupCodes(ctx, model.GroupCodeFilter{CorpID: ev.CorpID, AutoCreate: true})
	if err != nil {
		return err
	}
	if len(codes) == 0 {
		return queue.Ignore("no group code creates groups")
	}
	for _, c := range codes {
		if err := g.RequestSync(ctx, c.CorpID, c.ID); err != nil {
			return err
		}
	}
	return nil
}

// OnChatDismiss marks a pooled group dismissed and rewrites its code's
// join way.
func (g *GroupCodes) OnChatDismiss(ctx context.Context, ev *queue.InboundEvent) error {
	defer g.landing.Clear() // after the change commits
	if ev.ChatID == "" {
		return queue.Permanent(errors.New("dismiss event without ChatId"))
	}
	row, err := g.store.PoolChat(ctx, ev.CorpID, ev.ChatID)
	if err != nil {
		return queue.IgnoreIfGone(err, "not a pooled group")
	}
	if _, err := g.store.MarkGroupChatDismissed(ctx, ev.CorpID, ev.ChatID); err != nil {
		return err
	}
	return g.RequestSync(ctx, ev.CorpID, row.CodeID)
}

// OnChatUpdate records joins and leaves of pooled groups and store groups
// (stats, and timeline entries for members who came through our codes),
// refreshes the group's counts from groupchat/get, and asks for the join
// way to be rewritten when the group filled up or got room again.
func (g *GroupCodes) OnChatUpdate(ctx context.Context, ev *queue.InboundEvent) error {
	defer g.landing.Clear() // after the change commits
	if ev.ChatID == "" {
		return queue.Permanent(errors.New("update event without ChatId"))
	}
	kind := ""
	switch ev.UpdateDetail {
	case "add_member":
		kind = model.MemberJoin
	case "del_member":
		kind = model.MemberLeave
	}
	row, err := g.store.PoolChat(ctx, ev.CorpID, ev.ChatID)
	pooled := err == nil
	if err != nil && !errors.Is(err, model.ErrNotFound) {
		return err
	}
	var storeWays []model.StoreCodeWay
	if storeWays, err = g.store.StoreGroupWays(ctx, ev.CorpID, ev.ChatID); err != nil {
		return err
	}
	var code *model.GroupCode
	if pooled {
		if code, err = g.store.GetGroupCode(ctx, ev.CorpID, row.CodeID); err != nil {
			return err
		}
	}
	if !pooled && len(storeWays) == 0 && kind != model.MemberJoin {
		return queue.Ignore("not a watched group")
	}
	if !pooled && len(storeWays) == 0 {
		// Maybe a group WeCom created for an auto-create code whose sync has
		// not adopted it yet: the joiner's state says whose it is.
		codes, err := g.store.ListGroupCodes(ctx, model.GroupCodeFilter{CorpID: ev.CorpID, AutoCreate: true})
		if err != nil {
			return err
		}
		if len(codes) == 0 {
			return queue.Ignore("not a watched group")
		}
		client, err := g.clients(ev.CorpID)
		if err != nil {
			return queue.Permanent(err)
		}
		gc, err := client.GetGroupChat(ctx, ev.ChatID, true)
		if livecode.IsChatGone(err) {
			return queue.Ignore("group is gone")
		}
		if err != nil {
			return err
		}
		for i := range codes {
			if slices.ContainsFunc(gc.Members, func(m wecom.GroupChatMember) bool { return m.State == codes[i].State }) {
				code = &codes[i]
				break
			}
		}
		if code == nil {
			return queue.Ignore("not a watched group")
		}
		if _, err := g.adopt(ctx, client, code, ev.ChatID); err != nil {
			return err
		}
		if row, err = g.store.PoolChat(ctx, ev.CorpID, ev.ChatID); err != nil {
			return err
		}
		pooled = true
		row.Customers, row.Members = -1, -1 // make the fill check below request a sync
	}

	var gc *wecom.GroupChat
	// Joins need the member list for the joiners' states; otherwise the
	// event's member version tells whether our counts are already current.
	if pooled && (kind == model.MemberJoin || ev.CurMemVer == "" || ev.CurMemVer != row.MemberVersion) ||
		len(storeWays) > 0 && kind == model.MemberJoin {
		client, err := g.clients(ev.CorpID)
		if err != nil {
			return queue.Permanent(err)
		}
		gc, err = client.GetGroupChat(ctx, ev.ChatID, true)
		if livecode.IsChatGone(err) {
			if pooled {
				if _, err := g.store.MarkGroupChatDismissed(ctx, ev.CorpID, ev.ChatID); err != nil {
					return err
				}
				return g.RequestSync(ctx, ev.CorpID, code.ID)
			}
			return queue.Ignore("group is gone")
		}
		if err != nil {
			return err
		}
	}
	at := ev.OccurredAt()
	ch := model.ChatChange{CorpID: ev.CorpID, EventID: ev.ID, ChatID: ev.ChatID, Kind: kind, Day: livecode.Roster{}.LocalDay(at), At: at,
		Source: webhook.SourceGroup}
	ch.JoinEvents = func(m model.MemberChange) []model.OutboxEvent {
		return []model.OutboxEvent{webhook.GroupJoinedEvent(ch, m)}
	}
	states := map[string]wecom.GroupChatMember{}
	if gc != nil {
		for _, m := range gc.Members {
			states[m.UserID] = m
		}
		if pooled {
			cnt := chatCounts(gc)
			ch.Counts = &cnt
		}
		ch.Detail = "group " + gc.Name + " (" + ev.ChatID + ")"
		ch.ChatName, ch.Owner = gc.Name, gc.Owner
	} else {
		ch.Detail = "group " + ev.ChatID
	}
	if kind != "" && ev.MemChangeList != nil {
		for _, id := range ev.MemChangeList.Item {
			m := model.MemberChange{MemberID: id}
			if gm, ok := states[id]; ok {
				if gm.Type != wecom.MemberExternal {
					continue // staff joining their own groups are neither joins nor leads
				}
				m.State, m.Name, m.External, m.JoinScene, m.JoinedAt = gm.State, gm.Name, true, gm.JoinScene, gm.JoinTime
			}
			if kind == model.MemberLeave {
				if pooled {
					m.GroupCodeID, m.Attributed = code.ID, true
					ch.Members = append(ch.Members, m)
				}
				continue
			}
			if pooled {
				m.GroupCodeID, m.Attributed = code.ID, m.State == code.State
			}
			for _, w := range storeWays {
				if m.State != "" && m.State == w.State {
					m.StoreCodeID, m.StoreID, m.Attributed = w.CodeID, w.StoreID, true
				}
			}
			// Every customer joining a watched group is recorded (and
			// announced as group.joined); only attributed ones become
			// contacts.
			if pooled || len(storeWays) > 0 {
				ch.Members = append(ch.Members, m)
			}
		}
	}
	if kind == model.MemberJoin {
		for _, m := range ch.Members {
			if !m.Attributed {
				continue
			}
			ch.Jobs = append(ch.Jobs, joinActivity(ev.CorpID, GroupJoin{EventID: ev.ID, ExternalUserID: m.MemberID, ChatID: ev.ChatID,
				State: m.State, GroupCodeID: m.GroupCodeID, StoreCodeID: m.StoreCodeID, StoreID: m.StoreID, At: at}))
		}
	}
	if _, err := g.store.RecordChatChange(ctx, ch); err != nil {
		return err
	}
	if pooled && ch.Counts != nil {
		before := full(*row, code.Threshold)
		after := full(model.GroupCodeChat{Customers: ch.Counts.Customers, Members: ch.Counts.Members}, code.Threshold)
		if before != after || row.Customers < 0 || code.Dry {
			return g.RequestSync(ctx, ev.CorpID, code.ID)
		}
	}
	return nil
}

// GroupLanding is what /g/:slug shows.
type GroupLanding struct {
	Title, Text, QRCode string
	ChatID, ChatName    string
	// Waiting: every group is full and WeCom creates the next one on the
	// next scan; Full: the code serves a group past its threshold.
	Waiting, Full bool
}

// Landing returns the landing page of a code by slug, from memory when it
// can (the same page, unchanged, until the code or its pool changes).
func (g *GroupCodes) Landing(ctx context.Context, slug string) (*GroupLanding, error) {
	return g.landing.Get(ctx, slug, func(ctx context.Context) (*GroupLanding, error) { return g.loadLanding(ctx, slug) })
}

// RunLandingPoll clears the landing pages when another replica changed a
// group code or pool, polling every interval until ctx ends.
func (g *GroupCodes) RunLandingPoll(ctx context.Context, every time.Duration) {
	g.landing.Run(ctx, every, g.log)
}

func (g *GroupCodes) loadLanding(ctx context.Context, slug string) (*GroupLanding, error) {
	c, err := g.store.GroupCodeBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	pool, err := g.store.GroupCodePool(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	l := &GroupLanding{Title: c.Title, Text: c.Text, QRCode: c.QRCode}
	id, dry := currentChat(c, pool)
	l.ChatID, l.Full, l.Waiting = id, dry && id != "", dry && id == ""
	for _, p := range pool {
		if p.ChatID == id {
			l.ChatName = p.Name
		}
	}
	return l, nil
}

// GroupCodeStats are a code's joins and leaves per day and group.
type GroupCodeStats struct {
	CodeID uint64                 `json:"code_id"`
	From   string                 `json:"from"`
	To     string                 `json:"to"`
	Total  JoinTotals             `json:"total"`
	Chats  map[string]*JoinTotals `json:"chats"`
	Days   []GroupDayStat         `json:"days"`
	Names  map[string]string      `json:"names"`
}

// JoinTotals are joins and leaves.
type JoinTotals struct {
	Joins  int `json:"joins"`
	Leaves int `json:"leaves"`
}

// GroupDayStat is one day of a code's statistics.
type GroupDayStat struct {
	Day    string                 `json:"day"`
	Joins  int                    `json:"joins"`
	Leaves int                    `json:"leaves"`
	Chats  map[string]*JoinTotals `json:"chats"`
}

// Stats returns a code's joins and leaves between two days (inclusive,
// YYYY-MM-DD in China time); empty bounds mean the last 30 days.
func (g *GroupCodes) Stats(ctx context.Context, corpID string, id uint64, from, to string) (*GroupCodeStats, error) {
	if _, err := g.store.GetGroupCode(ctx, corpID, id); err != nil {
		return nil, err
	}
	from, to = livecode.DayRange(g.clock.Now(), from, to)
	rows, err := g.store.GroupCodeMemberCounts(ctx, id, from, to)
	if err != nil {
		return nil, err
	}
	pool, err := g.store.GroupCodePool(ctx, id)
	if err != nil {
		return nil, err
	}
	out := &GroupCodeStats{CodeID: id, From: from, To: to, Chats: map[string]*JoinTotals{}, Days: []GroupDayStat{},
		Names: map[string]string{}}
	for _, p := range pool {
		out.Names[p.ChatID] = p.Name
	}
	idx := map[string]int{}
	for _, r := range rows {
		i, ok := idx[r.Day]
		if !ok {
			out.Days = append(out.Days, GroupDayStat{Day: r.Day, Chats: map[string]*JoinTotals{}})
			i = len(out.Days) - 1
			idx[r.Day] = i
		}
		d := &out.Days[i]
		for _, t := range []*JoinTotals{&out.Total, ensure(out.Chats, r.ChatID), ensure(d.Chats, r.ChatID)} {
			if r.Kind == model.MemberJoin {
				t.Joins += r.Count
			} else {
				t.Leaves += r.Count
			}
		}
		if r.Kind == model.MemberJoin {
			d.Joins += r.Count
		} else {
			d.Leaves += r.Count
		}
	}
	return out, nil
}

func ensure(m map[string]*JoinTotals, k string) *JoinTotals {
	t := m[k]
	if t == nil {
		t = &JoinTotals{}
		m[k] = t
	}
	return t
}

// GroupCodeQuery selects group codes by a name search.
type GroupCodeQuery struct {
	CorpID  string
	Q       string
	AfterID uint64
	Limit   int
}

func (q GroupCodeQuery) filter() model.GroupCodeFilter {
	return model.GroupCodeFilter{CorpID: q.CorpID, Q: q.Q, AfterID: q.AfterID, Limit: q.Limit}
}
