package staff

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/wire"
)

// staffStale is how old a corp's directory may grow before a read refreshes
// it; staffRetry is how often an unknown userid may make it refresh.
const (
	staffStale = time.Hour
	staffRetry = time.Minute
)

// Directory is each corp's WeCom address book (user/list and
// department/list), cached in the database: names, departments and avatars
// for the console's pickers, and the list userids in admin input are checked
// against.
type Directory struct {
	store   Store
	clients livecode.Clients
	clock   clock.Clock
	log     *slog.Logger

	mu    sync.Mutex
	tried map[string]time.Time // corp → last refresh attempt
}

// New builds the directory.
func New(store Store, clients livecode.Clients, clk clock.Clock, log *slog.Logger) *Directory {
	if log == nil {
		log = slog.Default()
	}
	return &Directory{store: store, clients: clients, clock: clk, log: log.With("component", "staff"), tried: map[string]time.Time{}}
}

// DepartmentRef names one department of a staff member.
type DepartmentRef struct {
	ID   int    `json:"id"`
	Name string `json:"name"`
}

// Member is one staff member as the API shows them.
type Member struct {
	UserID      string          `json:"userid"`
	Name        string          `json:"name"`
	Departments []DepartmentRef `json:"departments"`
	Avatar      string          `json:"avatar,omitempty"`
	// Active is false for a member WeCom lists as disabled, not activated
	// or gone.
	Active bool `json:"active"`
}

// List is a corp's directory and when it was read from WeCom.
type List struct {
	Staff       []Member        `json:"staff"`
	RefreshedAt *wire.Timestamp `json:"refreshed_at,omitempty"`
}

// Refresh reads the corp's address book from WeCom and keeps it.
func (d *Directory) Refresh(ctx context.Context, corpID string) (*List, error) {
	d.mu.Lock()
	d.tried[corpID] = d.clock.Now()
	d.mu.Unlock()
	client, err := d.clients(corpID)
	if err != nil {
		return nil, err
	}
	depts, err := client.ListDepartments(ctx)
	if err != nil {
		return nil, livecode.AdminError(err)
	}
	names := map[int]string{}
	var roots []int
	known := map[int]bool{}
	for _, dp := range depts {
		names[dp.ID], known[dp.ID] = dp.Name, true
	}
	for _, dp := range depts {
		if !known[dp.ParentID] {
			roots = append(roots, dp.ID) // the top of what the app may see
		}
	}
	seen := map[string]bool{}
	var rows []model.StaffMember
	for _, root := range roots {
		members, err := client.ListStaff(ctx, root, true)
		if err != nil {
			return nil, livecode.AdminError(err)
		}
		for _, m := range members {
			if seen[m.UserID] {
				continue
			}
			seen[m.UserID] = true
			refs := make([]DepartmentRef, 0, len(m.Departments))
			for _, id := range m.Departments {
				refs = append(refs, DepartmentRef{ID: id, Name: names[id]})
			}
			b, _ := json.Marshal(refs)
			rows = append(rows, model.StaffMember{UserID: m.UserID, Name: m.Name, Departments: string(b), Avatar: m.Avatar, Status: m.Status})
		}
	}
	if err := d.store.ReplaceStaff(ctx, corpID, rows); err != nil {
		return nil, err
	}
	d.log.Info("staff directory refreshed", "corp", corpID, "staff", len(rows), "departments", len(depts))
	return d.read(ctx, corpID)
}

// List returns the corp's directory, read from WeCom first when it was
// never read or is older than an hour (or as it is, if WeCom fails then).
func (d *Directory) List(ctx context.Context, corpID string) (*List, error) {
	l, err := d.read(ctx, corpID)
	if err != nil {
		return nil, err
	}
	if l.RefreshedAt == nil || d.clock.Now().Sub(l.RefreshedAt.Time) > staffStale {
		fresh, err := d.Refresh(ctx, corpID)
		if err == nil {
			return fresh, nil
		}
		if l.RefreshedAt == nil {
			return nil, err
		}
		d.log.Warn("staff directory refresh failed; serving the cached one", "corp", corpID, "err", err)
	}
	return l, nil
}

func (d *Directory) read(ctx context.Context, corpID string) (*List, error) {
	rows, err := d.store.ListStaff(ctx, corpID)
	if err != nil {
		return nil, err
	}
	out := &List{Staff: make([]Member, 0, len(rows))}
	for _, r := range rows {
		s := Member{UserID: r.UserID, Name: r.Name, Avatar: r.Avatar, Active: r.Status == 0 || r.Status == 1, Departments: []DepartmentRef{}}
		_ = json.Unmarshal([]byte(r.Departments), &s.Departments)
		out.Staff = append(out.Staff, s)
		if at := r.RefreshedAt; out.RefreshedAt == nil || at.Before(out.RefreshedAt.Time) {
			out.RefreshedAt = wire.AtPtr(&at)
		}
	}
	sort.Slice(out.Staff, func(i, j int) bool { return out.Staff[i].UserID < out.Staff[j].UserID })
	return out, nil
}

// Ref is a userid given in admin input, with the field that gave it.
type Ref struct {
	Field  string
	UserID string
}

// Check refuses the first userid that is not a staff member of the corp,
// naming its field (see Unknown).
func (d *Directory) Check(ctx context.Context, corpID string, refs []Ref) error {
	if d == nil || len(refs) == 0 {
		return nil
	}
	ids := make([]string, 0, len(refs))
	for _, r := range refs {
		ids = append(ids, r.UserID)
	}
	unknown, err := d.Unknown(ctx, corpID, ids)
	if err != nil {
		return err
	}
	for _, r := range refs {
		if unknown[r.UserID] {
			return &apierr.ValidationError{Field: r.Field, Reason: NotStaffReason(r.UserID)}
		}
	}
	return nil
}

// NotStaffReason is the reason a userid that is not a staff member is refused.
func NotStaffReason(userID string) string {
	return fmt.Sprintf("%q is not a staff member of this corp in WeCom (see GET /api/v1/staff)", userID)
}

// Unknown reports which of ids are not staff members of the corp. A userid
// the cached directory lacks makes it refresh from WeCom (at most once a
// minute) before it is reported; while the directory cannot be read at
// all, none is (WeCom still checks the userids it is given).
func (d *Directory) Unknown(ctx context.Context, corpID string, ids []string) (map[string]bool, error) {
	if d == nil || len(ids) == 0 {
		return nil, nil
	}
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	missing := func() (map[string]bool, error) {
		known, err := d.store.KnownStaff(ctx, corpID, ids)
		if err != nil {
			return nil, err
		}
		set := map[string]bool{}
		for _, k := range known {
			set[k] = true
		}
		out := map[string]bool{}
		for _, id := range ids {
			if !set[id] {
				out[id] = true
			}
		}
		return out, nil
	}
	bad, err := missing()
	if err != nil || len(bad) == 0 {
		return nil, err
	}
	d.mu.Lock()
	recent := d.clock.Now().Sub(d.tried[corpID]) < staffRetry
	d.mu.Unlock()
	if !recent {
		if _, err := d.Refresh(ctx, corpID); err != nil {
			d.log.Warn("staff directory refresh failed", "corp", corpID, "err", err)
		}
		if bad, err = missing(); err != nil || len(bad) == 0 {
			return nil, err
		}
	}
	if l, err := d.store.ListStaff(ctx, corpID); err != nil || len(l) == 0 {
		return nil, err // never read: nothing to check against
	}
	return bad, nil
}

// RosterRefs lists the userids of a roster with their fields, under prefix
// ("roster" or "staff").
func RosterRefs(prefix string, r *livecode.Roster) []Ref {
	if r == nil {
		return nil
	}
	var refs []Ref
	for i, m := range r.Members {
		refs = append(refs, Ref{Field: fmt.Sprintf("%s.members[%d].userid", prefix, i), UserID: m.UserID})
	}
	for i, u := range r.Backups {
		refs = append(refs, Ref{Field: fmt.Sprintf("%s.backups[%d]", prefix, i), UserID: u})
	}
	return refs
}
