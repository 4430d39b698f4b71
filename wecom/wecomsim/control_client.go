package wecomsim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Control is a typed client for a simulator's /sim/ API, for tests, the
// demo and the load generator. It is safe for concurrent use.
type Control struct {
	base string
	hc   *http.Client
}

// NewControl returns a client for the simulator at baseURL
// (e.g. "http://127.0.0.1:8081"). A nil hc uses http.DefaultClient.
func NewControl(baseURL string, hc *http.Client) *Control {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Control{base: strings.TrimRight(baseURL, "/"), hc: hc}
}

// ControlError is a non-2xx answer from the control API.
type ControlError struct {
	Status  int
	Code    string
	Message string
	Field   string
}

func (e *ControlError) Error() string {
	if e.Field != "" {
		return fmt.Sprintf("wecomsim: %d %s: %s (%s)", e.Status, e.Code, e.Message, e.Field)
	}
	return fmt.Sprintf("wecomsim: %d %s: %s", e.Status, e.Code, e.Message)
}

func (c *Control) do(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, body)
	if err != nil {
		return err
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error struct {
				Code    string `json:"code"`
				Message string `json:"message"`
				Field   string `json:"field"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error.Code == "" {
			return &ControlError{Status: resp.StatusCode, Code: "http", Message: strings.TrimSpace(string(b))}
		}
		return &ControlError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message, Field: e.Error.Field}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// Staff lists the corp's staff.
func (c *Control) Staff(ctx context.Context) ([]Staff, error) {
	var out struct {
		Staff []Staff `json:"staff"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/staff", nil, &out)
	return out.Staff, err
}

// AddStaff adds a staff member.
func (c *Control) AddStaff(ctx context.Context, s Staff) error {
	return c.do(ctx, http.MethodPost, "/sim/staff", s, nil)
}

// Scan plays a customer scanning a contact way.
func (c *Control) Scan(ctx context.Context, req ScanRequest) (ScanResult, error) {
	var out ScanResult
	err := c.do(ctx, http.MethodPost, "/sim/scan", req, &out)
	return out, err
}

// Accept completes a half add (a way with skip_verify off).
func (c *Control) Accept(ctx context.Context, req AcceptRequest) (ScanResult, error) {
	var out ScanResult
	err := c.do(ctx, http.MethodPost, "/sim/accept", req, &out)
	return out, err
}

// Join plays a customer scanning a join way's group QR code.
func (c *Control) Join(ctx context.Context, req JoinRequest) (JoinResult, error) {
	var out JoinResult
	err := c.do(ctx, http.MethodPost, "/sim/join", req, &out)
	return out, err
}

// LeaveGroup removes a member from a group (del_member).
func (c *Control) LeaveGroup(ctx context.Context, req LeaveGroupRequest) (GroupChangeResult, error) {
	var out GroupChangeResult
	err := c.do(ctx, http.MethodPost, "/sim/leave-group", req, &out)
	return out, err
}

// DeleteStaff plays a customer deleting a staff member (del_follow_user).
func (c *Control) DeleteStaff(ctx context.Context, req RelationRequest) error {
	return c.do(ctx, http.MethodPost, "/sim/delete-staff", req, nil)
}

// StaffDeletes plays a staff member deleting a customer (del_external_contact).
func (c *Control) StaffDeletes(ctx context.Context, req StaffDeletesRequest) error {
	return c.do(ctx, http.MethodPost, "/sim/staff-deletes", req, nil)
}

// EditContact applies a console-side remark/tag edit (edit_external_contact).
func (c *Control) EditContact(ctx context.Context, req EditContactRequest) error {
	return c.do(ctx, http.MethodPost, "/sim/edit-contact", req, nil)
}

// TagChange applies a console-side catalogue change (change_external_tag).
func (c *Control) TagChange(ctx context.Context, req TagChangeRequest) (TagChangeResult, error) {
	var out TagChangeResult
	err := c.do(ctx, http.MethodPost, "/sim/tag-change", req, &out)
	return out, err
}

// Tags returns the corp tag catalogue.
func (c *Control) Tags(ctx context.Context) ([]TagGroup, error) {
	var out struct {
		TagGroup []TagGroup `json:"tag_group"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/tags", nil, &out)
	return out.TagGroup, err
}

// CreateGroup makes a customer group owned by a staff member.
func (c *Control) CreateGroup(ctx context.Context, req CreateGroupRequest) (Group, error) {
	var out Group
	err := c.do(ctx, http.MethodPost, "/sim/groups", req, &out)
	return out, err
}

// FillGroup adds count synthetic customers to a group, silently, up to capacity.
func (c *Control) FillGroup(ctx context.Context, chatID string, count int) (Group, error) {
	var out Group
	err := c.do(ctx, http.MethodPost, "/sim/groups/"+url.PathEscape(chatID)+"/fill", FillGroupRequest{Count: count}, &out)
	return out, err
}

// DismissGroup dismisses a group (change_external_chat/dismiss).
func (c *Control) DismissGroup(ctx context.Context, chatID string) error {
	return c.do(ctx, http.MethodPost, "/sim/groups/"+url.PathEscape(chatID)+"/dismiss", nil, nil)
}

// Group returns a group chat.
func (c *Control) Group(ctx context.Context, chatID string) (Group, error) {
	var out Group
	err := c.do(ctx, http.MethodGet, "/sim/groups/"+url.PathEscape(chatID), nil, &out)
	return out, err
}

// Groups lists every group chat.
func (c *Control) Groups(ctx context.Context) ([]Group, error) {
	var out struct {
		Groups []Group `json:"groups"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/groups", nil, &out)
	return out.Groups, err
}

// Contact returns a customer with every relation.
func (c *Control) Contact(ctx context.Context, externalUserID string) (Contact, error) {
	var out Contact
	err := c.do(ctx, http.MethodGet, "/sim/contacts/"+url.PathEscape(externalUserID), nil, &out)
	return out, err
}

// Contacts lists customers, optionally those related to userID.
func (c *Control) Contacts(ctx context.Context, userID string) ([]Contact, error) {
	var out struct {
		Contacts []Contact `json:"contacts"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/contacts?"+url.Values{"userid": {userID}}.Encode(), nil, &out)
	return out.Contacts, err
}

// ContactWay returns a contact way as it stands now (its users list included).
func (c *Control) ContactWay(ctx context.Context, configID string) (ContactWay, error) {
	var out ContactWay
	err := c.do(ctx, http.MethodGet, "/sim/contact-ways/"+url.PathEscape(configID), nil, &out)
	return out, err
}

// ContactWays lists the contact ways.
func (c *Control) ContactWays(ctx context.Context) ([]ContactWay, error) {
	var out struct {
		ContactWays []ContactWay `json:"contact_ways"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/contact-ways", nil, &out)
	return out.ContactWays, err
}

// JoinWay returns a join way as it stands now.
func (c *Control) JoinWay(ctx context.Context, configID string) (JoinWay, error) {
	var out JoinWay
	err := c.do(ctx, http.MethodGet, "/sim/join-ways/"+url.PathEscape(configID), nil, &out)
	return out, err
}

// GroupWelcomeTemplates returns the live group welcome templates.
func (c *Control) GroupWelcomeTemplates(ctx context.Context) ([]GroupWelcomeTemplate, error) {
	var out struct {
		Templates []GroupWelcomeTemplate `json:"templates"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/group-welcome-templates", nil, &out)
	return out.Templates, err
}

// GroupWelcomeTemplate returns one live group welcome template.
func (c *Control) GroupWelcomeTemplate(ctx context.Context, templateID string) (GroupWelcomeTemplate, error) {
	var out GroupWelcomeTemplate
	err := c.do(ctx, http.MethodGet, "/sim/group-welcome-templates/"+url.PathEscape(templateID), nil, &out)
	return out, err
}

// Media returns an uploaded media file's metadata.
func (c *Control) Media(ctx context.Context, mediaID string) (Media, error) {
	var out Media
	err := c.do(ctx, http.MethodGet, "/sim/media/"+url.PathEscape(mediaID), nil, &out)
	return out, err
}

// Welcomes lists the welcome messages sent.
func (c *Control) Welcomes(ctx context.Context, q WelcomeQuery) ([]Welcome, error) {
	v := url.Values{}
	if q.UserID != "" {
		v.Set("userid", q.UserID)
	}
	if q.ExternalUserID != "" {
		v.Set("external_userid", q.ExternalUserID)
	}
	var out struct {
		Welcomes []Welcome `json:"welcomes"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/welcomes?"+v.Encode(), nil, &out)
	return out.Welcomes, err
}

// Log returns API calls and callback attempts matching q.
func (c *Control) Log(ctx context.Context, q LogQuery) ([]LogEntry, error) {
	v := url.Values{}
	for k, s := range map[string]string{"api": q.API, "kind": q.Kind, "event": q.Event} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.ErrCode != nil {
		v.Set("errcode", strconv.Itoa(*q.ErrCode))
	}
	if q.Since > 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Entries []LogEntry `json:"entries"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/log?"+v.Encode(), nil, &out)
	return out.Entries, err
}

// Events returns callback events matching q.
func (c *Control) Events(ctx context.Context, q EventQuery) ([]EventRecord, error) {
	v := url.Values{}
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	if q.Status != "" {
		v.Set("status", q.Status)
	}
	if q.Since > 0 {
		v.Set("since", strconv.FormatInt(q.Since, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out struct {
		Events []EventRecord `json:"events"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/events?"+v.Encode(), nil, &out)
	return out.Events, err
}

// Stats snapshots the simulator's counters.
func (c *Control) Stats(ctx context.Context) (Stats, error) {
	var out Stats
	err := c.do(ctx, http.MethodGet, "/sim/stats", nil, &out)
	return out, err
}

// WaitCallbacks polls until no callback is pending (delivered, failed or
// dropped), or ctx ends.
func (c *Control) WaitCallbacks(ctx context.Context) error {
	for {
		var st struct {
			Pending int `json:"pending"`
		}
		if err := c.do(ctx, http.MethodGet, "/sim/pending", nil, &st); err != nil {
			return err
		}
		if st.Pending == 0 {
			return nil
		}
		t := time.NewTimer(10 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// AddFault installs faults alongside the existing ones.
func (c *Control) AddFault(ctx context.Context, faults ...Fault) ([]Fault, error) {
	var out struct {
		Faults []Fault `json:"faults"`
	}
	err := c.do(ctx, http.MethodPost, "/sim/faults", faults, &out)
	return out.Faults, err
}

// SetFaults replaces every fault with the given ones.
func (c *Control) SetFaults(ctx context.Context, faults ...Fault) ([]Fault, error) {
	if faults == nil {
		faults = []Fault{}
	}
	var out struct {
		Faults []Fault `json:"faults"`
	}
	err := c.do(ctx, http.MethodPut, "/sim/faults", faults, &out)
	return out.Faults, err
}

// Faults lists the installed faults with how often each fired.
func (c *Control) Faults(ctx context.Context) ([]Fault, error) {
	var out struct {
		Faults []Fault `json:"faults"`
	}
	err := c.do(ctx, http.MethodGet, "/sim/faults", nil, &out)
	return out.Faults, err
}

// ClearFaults removes every fault.
func (c *Control) ClearFaults(ctx context.Context) error {
	return c.do(ctx, http.MethodDelete, "/sim/faults", nil, nil)
}

// InvalidateTokens revokes every issued token; later calls with them answer
// errcode (42001 or 40014; 0 means 42001).
func (c *Control) InvalidateTokens(ctx context.Context, errcode int) error {
	return c.do(ctx, http.MethodPost, "/sim/tokens/invalidate", map[string]int{"errcode": errcode}, nil)
}

// Clock reports the simulated time.
func (c *Control) Clock(ctx context.Context) (ClockState, error) {
	var out ClockState
	err := c.do(ctx, http.MethodGet, "/sim/clock", nil, &out)
	return out, err
}

// AdvanceClock moves the simulated clock forward by d.
func (c *Control) AdvanceClock(ctx context.Context, d time.Duration) (ClockState, error) {
	var out ClockState
	err := c.do(ctx, http.MethodPost, "/sim/clock", ClockRequest{AdvanceMS: d.Milliseconds()}, &out)
	return out, err
}

// Limits reports the adjustable ceilings.
func (c *Control) Limits(ctx context.Context) (Limits, error) {
	var out Limits
	err := c.do(ctx, http.MethodGet, "/sim/limits", nil, &out)
	return out, err
}

// SetLimits changes the ceilings given as non-zero.
func (c *Control) SetLimits(ctx context.Context, l Limits) (Limits, error) {
	var out Limits
	err := c.do(ctx, http.MethodPost, "/sim/limits", l, &out)
	return out, err
}

// SetCallbackURL points callbacks at the gateway.
func (c *Control) SetCallbackURL(ctx context.Context, u string) error {
	return c.do(ctx, http.MethodPost, "/sim/callback", map[string]string{"url": u}, nil)
}

// VerifyCallback runs WeCom's URL check (signed GET with echostr) against
// the callback URL.
func (c *Control) VerifyCallback(ctx context.Context) (VerifyResult, error) {
	var out VerifyResult
	err := c.do(ctx, http.MethodPost, "/sim/callback/verify", nil, &out)
	return out, err
}

// Config returns the simulator's test credentials and settings.
func (c *Control) Config(ctx context.Context) (SimConfig, error) {
	var out SimConfig
	err := c.do(ctx, http.MethodGet, "/sim/config", nil, &out)
	return out, err
}
