package storecode

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/clock"
	"github.com/leadgate/scrm-gateway/model"
	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/explain"
	"github.com/leadgate/scrm-gateway/service/livecode"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/service/staff"
	"github.com/leadgate/scrm-gateway/service/wire"
	"github.com/leadgate/scrm-gateway/wecom"
)

// JobSyncStoreWay brings one store's contact way (and join way) in step with
// the store's staff roster and group; the order key makes it the one writer.
const JobSyncStoreWay = "sync_store_way"

// What a store code offers the customer at the nearest store.
const (
	OfferStaff = "staff" // the store's own contact way (its staff roster)
	OfferGroup = "group" // the store's customer group, by join way (staff when the store has none)
)

const (
	// DefaultStoreRadiusM is the search radius of a code that names none.
	DefaultStoreRadiusM = 50_000
	// maxRadiusM is half the Earth's circumference: any point is closer.
	maxRadiusM = 20_037_509
	// maxNearest bounds the stores one nearest answer lists.
	maxNearest = 20
	// maxImportRows bounds one CSV import.
	maxImportRows = 5000
)

// StoreSpec is what an admin sends to create or change a store. On PATCH,
// absent fields keep their value. Latitude and longitude are GCJ-02.
type StoreSpec struct {
	Name        *string          `json:"name"`
	Address     *string          `json:"address"`
	Province    *string          `json:"province"`
	City        *string          `json:"city"`
	Latitude    *float64         `json:"latitude"`
	Longitude   *float64         `json:"longitude"`
	Staff       *livecode.Roster `json:"staff"`
	GroupChatID *string          `json:"group_chat_id"`
}

// RetailStore is a store as the API shows it.
type RetailStore struct {
	ID          uint64          `json:"id"`
	CorpID      string          `json:"corp_id"`
	Name        string          `json:"name"`
	Address     string          `json:"address"`
	Province    string          `json:"province"`
	City        string          `json:"city"`
	Latitude    float64         `json:"latitude"`
	Longitude   float64         `json:"longitude"`
	Staff       livecode.Roster `json:"staff"`
	GroupChatID string          `json:"group_chat_id,omitempty"`
	CreatedAt   wire.Timestamp  `json:"created_at"`
	UpdatedAt   wire.Timestamp  `json:"updated_at"`
}

// StoreCodeSpec is what an admin sends to create or change a store code.
type StoreCodeSpec struct {
	Name            *string   `json:"name"`
	Title           *string   `json:"title"`
	StoreIDs        *[]uint64 `json:"store_ids"`
	RadiusM         *int      `json:"radius_m"`
	FallbackStoreID *uint64   `json:"fallback_store_id"`
	Offer           *string   `json:"offer"`
	// UTM is the campaign of the code's poster, as on channel codes: absent
	// or null keeps it, {} clears it.
	UTM map[string]string `json:"utm"`
}

// StoreCodeStore is one store of a code with that pair's codes.
type StoreCodeStore struct {
	StoreID    uint64   `json:"store_id"`
	Name       string   `json:"name"`
	State      string   `json:"state"`
	ConfigID   string   `json:"config_id"`
	QRCode     string   `json:"qr_code"`
	WeComUsers []string `json:"wecom_users"`
	JoinQRCode string   `json:"join_qr_code,omitempty"`
	JoinChatID string   `json:"join_chat_id,omitempty"`
	Alert      string   `json:"alert,omitempty"`
	// AlertMessage is Alert as a message.
	AlertMessage *explain.Message `json:"alert_message,omitempty"`
}

// StoreCode is a store code as the API shows it.
type StoreCode struct {
	ID              uint64            `json:"id"`
	CorpID          string            `json:"corp_id"`
	Name            string            `json:"name"`
	Title           string            `json:"title"`
	Slug            string            `json:"slug"`
	LandingURL      string            `json:"landing_url"`
	RadiusM         int               `json:"radius_m"`
	FallbackStoreID uint64            `json:"fallback_store_id,omitempty"`
	Offer           string            `json:"offer"`
	UTM             map[string]string `json:"utm"`
	Stores          []StoreCodeStore  `json:"stores"`
	CreatedBy       string            `json:"created_by,omitempty"`
	CreatedAt       wire.Timestamp    `json:"created_at"`
	UpdatedAt       wire.Timestamp    `json:"updated_at"`
}

// StoreCodes manages stores and store live codes. Each store of a code
// has its own WeCom contact way whose state names code and store, so every
// add is attributed to both.
type StoreCodes struct {
	store     Store
	clients   livecode.Clients
	jobs      queue.Wake
	clock     clock.Clock
	log       *slog.Logger
	publicURL string

	mu     sync.RWMutex
	states map[string]stateRef // corp + "\x00" + state

	// Landing pages read a code's stores from memory: a poster's scanners
	// would otherwise reload hundreds of rows per request. A change made
	// here drops the cache at once; one made on another replica shows
	// within the poll (RunLandingPoll).
	landing *livecode.LandingCache[*codeStores]

	// Scans are counted in memory and added to the database at most once a
	// second, so a burst of scanners costs one write per store, not one each.
	scanMu    sync.Mutex
	scans     map[scanKey]int
	scanFlush time.Time
}

type scanKey struct {
	corpID          string
	codeID, storeID uint64
	day             string
}

// invalidate drops every cached landing after a change.
func (s *StoreCodes) invalidate() { s.landing.Clear() }

// RunLandingPoll clears the landing pages when another replica changed a
// store code, its ways or the stores, polling every interval until ctx
// ends.
func (s *StoreCodes) RunLandingPoll(ctx context.Context, every time.Duration) {
	s.landing.Run(ctx, every, s.log)
}

type stateRef struct{ codeID, storeID uint64 }

// NewStoreCodes builds the service; jobs wakes the job runner.
func NewStoreCodes(store Store, clients livecode.Clients, jobs queue.Wake, clk clock.Clock,
	log *slog.Logger, publicURL string) *StoreCodes {
	if log == nil {
		log = slog.Default()
	}
	s := &StoreCodes{store: store, clients: clients, jobs: jobs, clock: clk, log: log.With("component", "store_codes"),
		publicURL: strings.TrimRight(publicURL, "/"), states: map[string]stateRef{},
		landing: livecode.NewLandingCache[*codeStores]("store codes", store.StoreLandingVersion), scans: map[scanKey]int{}}
	return s
}

// ByState tells which store code and store a contact-way state belongs to.
// It answers from memory once a state has been seen and reads the database
// otherwise (another replica may have made the code), so the add path can
// call it before the welcome.
func (s *StoreCodes) ByState(corpID, state string) (codeID, storeID uint64, ok bool) {
	if !strings.HasPrefix(state, "s:") {
		return 0, 0, false
	}
	key := corpID + "\x00" + state
	s.mu.RLock()
	ref, hit := s.states[key]
	s.mu.RUnlock()
	if hit {
		return ref.codeID, ref.storeID, true
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	w, err := s.store.StoreCodeWayByState(ctx, corpID, state)
	if err != nil {
		return 0, 0, false
	}
	s.remember(w)
	return w.CodeID, w.StoreID, true
}

func (s *StoreCodes) remember(w *model.StoreCodeWay) {
	s.mu.Lock()
	s.states[w.CorpID+"\x00"+w.State] = stateRef{codeID: w.CodeID, storeID: w.StoreID}
	s.mu.Unlock()
}

// wayState names code and store: "s:" + the code's slug + "." + the store
// id in base 36, at most 2+10+1+13 = 26 characters (WeCom allows 30).
func wayState(codeSlug string, storeID uint64) string {
	return "s:" + codeSlug + "." + strconv.FormatUint(storeID, 36)
}

// --- stores ------------------------------------------------------------------

func decodeStaff(st *model.RetailStore) livecode.Roster {
	var r livecode.Roster
	if st.Staff != "" {
		_ = json.Unmarshal([]byte(st.Staff), &r)
	}
	return r
}

func storeView(st *model.RetailStore) *RetailStore {
	return &RetailStore{ID: st.ID, CorpID: st.CorpID, Name: st.Name, Address: st.Address, Province: st.Province, City: st.City,
		Latitude: st.Latitude, Longitude: st.Longitude, Staff: decodeStaff(st), GroupChatID: st.GroupChatID,
		CreatedAt: wire.At(st.CreatedAt), UpdatedAt: wire.At(st.UpdatedAt)}
}

// renameFields moves validation errors of a roster under another field.
func renameFields(err error, from, to string) error {
	var out []error
	for _, e := range leaves(err) {
		var ve *apierr.ValidationError
		if errors.As(e, &ve) {
			e = &apierr.ValidationError{Field: to + strings.TrimPrefix(ve.Field, from), Reason: ve.Reason}
		}
		out = append(out, e)
	}
	return errors.Join(out...)
}

// leaves lists the errors inside a joined error (err itself when it joins
// nothing; none for nil).
func leaves(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var out []error
		for _, x := range j.Unwrap() {
			out = append(out, leaves(x)...)
		}
		return out
	}
	if err == nil {
		return nil
	}
	return []error{err}
}

// applyStore validates spec onto st; prefix goes before field names (CSV rows).
func applyStore(st *model.RetailStore, spec StoreSpec) error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &apierr.ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}
	text := func(field string, v *string, dst *string, max int, required bool) {
		if v == nil {
			return
		}
		t := strings.TrimSpace(*v)
		switch {
		case required && t == "":
			bad(field, "is required")
		case utf8.RuneCountInString(t) > max:
			bad(field, "must be at most %d characters", max)
		}
		*dst = t
	}
	text("name", spec.Name, &st.Name, 64, true)
	text("address", spec.Address, &st.Address, 256, false)
	text("province", spec.Province, &st.Province, 32, false)
	text("city", spec.City, &st.City, 32, false)
	if spec.Latitude != nil {
		if v := *spec.Latitude; math.IsNaN(v) || v < -90 || v > 90 {
			bad("latitude", "must be a number from -90 to 90 (GCJ-02 degrees)")
		}
		st.Latitude = *spec.Latitude
	}
	if spec.Longitude != nil {
		if v := *spec.Longitude; math.IsNaN(v) || v < -180 || v > 180 {
			bad("longitude", "must be a number from -180 to 180 (GCJ-02 degrees)")
		}
		st.Longitude = *spec.Longitude
	}
	if spec.Staff != nil {
		if err := spec.Staff.Validate(); err != nil {
			errs = append(errs, renameFields(err, "roster", "staff"))
		}
		for i, m := range spec.Staff.Members {
			if m.DailyCap != 0 {
				// Store adds are not counted per staff member per day.
				bad(fmt.Sprintf("staff.members[%d].daily_cap", i), "daily caps are not supported for store staff")
			}
		}
		b, _ := json.Marshal(spec.Staff)
		st.Staff = string(b)
	}
	if spec.GroupChatID != nil {
		id := strings.TrimSpace(*spec.GroupChatID)
		if len(id) > 64 {
			bad("group_chat_id", "must be a group chat id")
		}
		st.GroupChatID = id
	}
	return errors.Join(errs...)
}

func requireStoreFields(spec StoreSpec) error {
	switch {
	case spec.Name == nil:
		return &apierr.ValidationError{Field: "name", Reason: "is required"}
	case spec.Latitude == nil:
		return &apierr.ValidationError{Field: "latitude", Reason: "is required (GCJ-02)"}
	case spec.Longitude == nil:
		return &apierr.ValidationError{Field: "longitude", Reason: "is required (GCJ-02)"}
	case spec.Staff == nil:
		return &apierr.ValidationError{Field: "staff", Reason: "is required: the store's staff roster"}
	}
	return nil
}

// checkGroup makes sure a store's group exists in WeCom.
func (s *StoreCodes) checkGroup(ctx context.Context, corpID, chatID string) error {
	if chatID == "" {
		return nil
	}
	client, err := s.clients(corpID)
	if err != nil {
		return err
	}
	_, err = client.GetGroupChat(ctx, chatID, false)
	if livecode.IsChatGone(err) {
		return &apierr.ValidationError{Field: "group_chat_id", Reason: "no such group chat in WeCom (or it was dismissed)"}
	}
	if err != nil {
		return livecode.AdminError(err)
	}
	return nil
}

// CreateStore validates and stores a store.
func (s *StoreCodes) CreateStore(ctx context.Context, corpID string, spec StoreSpec) (*RetailStore, error) {
	if err := requireStoreFields(spec); err != nil {
		return nil, err
	}
	st := &model.RetailStore{CorpID: corpID}
	if err := applyStore(st, spec); err != nil {
		return nil, err
	}
	if err := s.checkGroup(ctx, corpID, st.GroupChatID); err != nil {
		return nil, err
	}
	if err := s.store.CreateRetailStores(ctx, []*model.RetailStore{st}); err != nil {
		return nil, err
	}
	return storeView(st), nil
}

// GetStore returns one store.
func (s *StoreCodes) GetStore(ctx context.Context, corpID string, id uint64) (*RetailStore, error) {
	st, err := s.store.GetRetailStore(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	return storeView(st), nil
}

// ListStores returns stores.
func (s *StoreCodes) ListStores(ctx context.Context, q RetailStoreQuery) ([]*RetailStore, error) {
	rows, err := s.store.ListRetailStores(ctx, q.filter())
	if err != nil {
		return nil, err
	}
	out := make([]*RetailStore, len(rows))
	for i := range rows {
		out[i] = storeView(&rows[i])
	}
	return out, nil
}

// UpdateStore applies a PATCH; new staff or a new group reach the store's
// contact ways through their sync jobs.
func (s *StoreCodes) UpdateStore(ctx context.Context, corpID string, id uint64, spec StoreSpec) (*RetailStore, error) {
	defer s.invalidate()
	st, err := s.store.GetRetailStore(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	oldStaff, oldGroup := st.Staff, st.GroupChatID
	if err := applyStore(st, spec); err != nil {
		return nil, err
	}
	if st.GroupChatID != oldGroup {
		if err := s.checkGroup(ctx, corpID, st.GroupChatID); err != nil {
			return nil, err
		}
	}
	if err := s.store.SaveRetailStore(ctx, st); err != nil {
		return nil, err
	}
	if st.Staff != oldStaff || st.GroupChatID != oldGroup {
		ways, err := s.store.StoreCodeWaysOfStore(ctx, st.ID)
		if err != nil {
			return nil, err
		}
		for _, w := range ways {
			if err := s.RequestSync(ctx, corpID, w.ID); err != nil {
				return nil, err
			}
		}
	}
	return storeView(st), nil
}

// DeleteStore takes a store off every code (their WeCom ways go) and
// retires it.
func (s *StoreCodes) DeleteStore(ctx context.Context, corpID string, id uint64) error {
	defer s.invalidate()
	st, err := s.store.GetRetailStore(ctx, corpID, id)
	if err != nil {
		return err
	}
	ways, err := s.store.StoreCodeWaysOfStore(ctx, st.ID)
	if err != nil {
		return err
	}
	client, err := s.clients(corpID)
	if err != nil {
		return err
	}
	for i := range ways {
		if err := s.retire(ctx, client, &ways[i]); err != nil {
			return err
		}
	}
	return s.store.DeleteRetailStore(ctx, st.ID)
}

// ImportError is one bad row of a CSV import.
type ImportError struct {
	Row     int    `json:"row"` // the line in the file; the header is line 1
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
	// Code is the message's stable code (see ReasonCode).
	Code string `json:"code,omitempty"`
}

// ImportResult is the outcome of a CSV import: the good rows are stored,
// each bad row is reported and stored nowhere.
type ImportResult struct {
	Imported int           `json:"imported"`
	Failed   int           `json:"failed"`
	StoreIDs []uint64      `json:"store_ids"`
	Errors   []ImportError `json:"errors"`
}

// importColumns are the CSV header names (aliases on the right).
var importColumns = map[string][]string{
	"name":          {"name", "store", "门店", "门店名称"},
	"address":       {"address", "地址"},
	"province":      {"province", "省份", "省"},
	"city":          {"city", "城市", "市"},
	"latitude":      {"latitude", "lat", "纬度"},
	"longitude":     {"longitude", "lng", "lon", "经度"},
	"staff":         {"staff", "userids", "员工"},
	"group_chat_id": {"group_chat_id", "chat_id", "群"},
}

// ImportStores reads stores from CSV (UTF-8, header row; staff is userids
// separated by "|"). Rows that fail validation, or name a userid that dir
// does not know as a staff member, are reported with their line and field;
// the others are stored together.
func (s *StoreCodes) ImportStores(ctx context.Context, corpID string, r io.Reader, dir *staff.Directory) (*ImportResult, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	header, err := cr.Read()
	if err != nil {
		return nil, &apierr.ValidationError{Field: "file", Reason: "must be CSV with a header row: " + err.Error()}
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		for name, aliases := range importColumns {
			if slices.Contains(aliases, h) {
				col[name] = i
			}
		}
	}
	for _, need := range []string{"name", "latitude", "longitude", "staff"} {
		if _, ok := col[need]; !ok {
			return nil, &apierr.ValidationError{Field: "file", Reason: fmt.Sprintf("the header has no %q column (columns: name, address, province, city, latitude, longitude, staff, group_chat_id)", need)}
		}
	}
	res := &ImportResult{StoreIDs: []uint64{}, Errors: []ImportError{}}
	var good []*model.RetailStore
	var goodLines []int
	var goodStaff [][]string // each good row's userids
	var userIDs []string
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		line++
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				line = pe.Line
			}
			res.Errors = append(res.Errors, ImportError{Row: line, Message: "unreadable CSV: " + err.Error()})
			if errors.As(err, &pe) && pe.Err != csv.ErrFieldCount {
				break // the reader cannot resynchronise after a quote error
			}
			continue
		}
		if len(good)+len(res.Errors) >= maxImportRows {
			return nil, &apierr.ValidationError{Field: "file", Reason: fmt.Sprintf("at most %d rows per import", maxImportRows)}
		}
		get := func(name string) string {
			if i, ok := col[name]; ok && i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		if strings.Join(rec, "") == "" {
			continue
		}
		rowErr := func(field, msg string) {
			res.Errors = append(res.Errors, ImportError{Row: line, Field: field, Message: msg})
		}
		spec := StoreSpec{Name: ptr(get("name")), Address: ptr(get("address")), Province: ptr(get("province")),
			City: ptr(get("city")), GroupChatID: ptr(get("group_chat_id"))}
		ok := true
		for _, f := range []struct {
			name string
			dst  **float64
		}{{"latitude", &spec.Latitude}, {"longitude", &spec.Longitude}} {
			v, err := strconv.ParseFloat(get(f.name), 64)
			if err != nil || math.IsInf(v, 0) {
				rowErr(f.name, "must be a number (GCJ-02 degrees)")
				ok = false
				continue
			}
			*f.dst = &v
		}
		roster := livecode.Roster{}
		for _, u := range strings.Split(get("staff"), "|") {
			if u = strings.TrimSpace(u); u != "" {
				roster.Members = append(roster.Members, livecode.RosterMember{UserID: u})
			}
		}
		spec.Staff = &roster
		if !ok {
			continue
		}
		st := &model.RetailStore{CorpID: corpID}
		if err := applyStore(st, spec); err != nil {
			for _, ve := range flatten(err) {
				rowErr(ve.Field, ve.Reason)
			}
			continue
		}
		if err := s.checkGroup(ctx, corpID, st.GroupChatID); err != nil {
			var ve *apierr.ValidationError
			if !errors.As(err, &ve) {
				return nil, err
			}
			rowErr(ve.Field, ve.Reason)
			continue
		}
		var ids []string
		for _, m := range roster.Members {
			ids = append(ids, m.UserID)
		}
		good, goodLines, goodStaff = append(good, st), append(goodLines, line), append(goodStaff, ids)
		userIDs = append(userIDs, ids...)
	}
	// Every userid of the file is checked against the directory at once.
	unknown, err := dir.Unknown(ctx, corpID, userIDs)
	if err != nil {
		return nil, err
	}
	if len(unknown) > 0 {
		kept := good[:0]
		for i, st := range good {
			bad := slices.IndexFunc(goodStaff[i], func(u string) bool { return unknown[u] })
			if bad < 0 {
				kept = append(kept, st)
				continue
			}
			res.Errors = append(res.Errors, ImportError{Row: goodLines[i], Field: "staff", Message: staff.NotStaffReason(goodStaff[i][bad])})
		}
		good = kept
		slices.SortStableFunc(res.Errors, func(a, b ImportError) int { return a.Row - b.Row })
	}
	if err := s.store.CreateRetailStores(ctx, good); err != nil {
		return nil, err
	}
	for _, st := range good {
		res.StoreIDs = append(res.StoreIDs, st.ID)
	}
	for i := range res.Errors {
		res.Errors[i].Code = explain.ReasonCode(res.Errors[i].Message)
	}
	res.Imported, res.Failed = len(good), len(res.Errors)
	return res, nil
}

// flatten lists the validation errors inside a joined error; any other
// error becomes a reason without a field.
func flatten(err error) []*apierr.ValidationError {
	var out []*apierr.ValidationError
	for _, e := range leaves(err) {
		var ve *apierr.ValidationError
		if errors.As(e, &ve) {
			out = append(out, ve)
		} else {
			out = append(out, &apierr.ValidationError{Reason: e.Error()})
		}
	}
	return out
}

// --- store codes -------------------------------------------------------------

func (s *StoreCodes) codeView(c *model.StoreCode, ways []model.StoreCodeWay, names map[uint64]string) *StoreCode {
	v := &StoreCode{ID: c.ID, CorpID: c.CorpID, Name: c.Name, Title: c.Title, Slug: c.Slug, LandingURL: s.publicURL + "/s/" + c.Slug,
		RadiusM: c.RadiusM, FallbackStoreID: c.FallbackStore, Offer: c.Offer, UTM: livecode.UTMView(c.UTM), Stores: make([]StoreCodeStore, 0, len(ways)),
		CreatedBy: c.CreatedBy, CreatedAt: wire.At(c.CreatedAt), UpdatedAt: wire.At(c.UpdatedAt)}
	for _, w := range ways {
		v.Stores = append(v.Stores, StoreCodeStore{StoreID: w.StoreID, Name: names[w.StoreID], State: w.State, ConfigID: w.ConfigID,
			QRCode: w.QRCode, WeComUsers: livecode.DecodeChats(w.WeComUsers), JoinQRCode: w.JoinQRCode, JoinChatID: w.JoinChatID, Alert: w.Alert,
			AlertMessage: explain.Alert(w.Alert)})
	}
	return v
}

func (s *StoreCodes) loadCode(ctx context.Context, c *model.StoreCode) (*StoreCode, error) {
	ways, err := s.store.StoreCodeWays(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	ids := make([]uint64, len(ways))
	for i, w := range ways {
		ids[i] = w.StoreID
	}
	stores, err := s.store.RetailStoresByID(ctx, c.CorpID, ids)
	if err != nil {
		return nil, err
	}
	names := map[uint64]string{}
	for _, st := range stores {
		names[st.ID] = st.Name
	}
	return s.codeView(c, ways, names), nil
}

// GetCode returns one store code with its stores.
func (s *StoreCodes) GetCode(ctx context.Context, corpID string, id uint64) (*StoreCode, error) {
	c, err := s.store.GetStoreCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	return s.loadCode(ctx, c)
}

// ListCodes returns store codes of a corp.
func (s *StoreCodes) ListCodes(ctx context.Context, corpID string, after uint64, limit int) ([]*StoreCode, error) {
	rows, err := s.store.ListStoreCodes(ctx, corpID, after, limit)
	if err != nil {
		return nil, err
	}
	out := make([]*StoreCode, 0, len(rows))
	for i := range rows {
		v, err := s.loadCode(ctx, &rows[i])
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// applyCode validates spec onto c and returns the code's stores (nil when
// the spec leaves them alone).
func (s *StoreCodes) applyCode(ctx context.Context, c *model.StoreCode, spec StoreCodeSpec) ([]model.RetailStore, error) {
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
	if spec.RadiusM != nil {
		if *spec.RadiusM < 1 || *spec.RadiusM > maxRadiusM {
			bad("radius_m", "must be from 1 to %d metres", maxRadiusM)
		}
		c.RadiusM = *spec.RadiusM
	}
	if spec.Offer != nil {
		if *spec.Offer != OfferStaff && *spec.Offer != OfferGroup {
			bad("offer", "must be staff or group")
		}
		c.Offer = *spec.Offer
	}
	if spec.FallbackStoreID != nil {
		c.FallbackStore = *spec.FallbackStoreID
	}
	if spec.UTM != nil {
		if err := livecode.ValidateUTM(spec.UTM); err != nil {
			errs = append(errs, err)
		}
		c.UTM = livecode.EncodeUTM(spec.UTM)
	}
	var stores []model.RetailStore
	if spec.StoreIDs != nil {
		ids := *spec.StoreIDs
		if len(ids) == 0 || len(ids) > 2000 {
			bad("store_ids", "must list 1 to 2000 stores")
		}
		seen := map[uint64]bool{}
		for i, id := range ids {
			if seen[id] {
				bad(fmt.Sprintf("store_ids[%d]", i), "is listed twice")
			}
			seen[id] = true
		}
		found, err := s.store.RetailStoresByID(ctx, c.CorpID, ids)
		if err != nil {
			return nil, err
		}
		have := map[uint64]bool{}
		for _, st := range found {
			have[st.ID] = true
		}
		for i, id := range ids {
			if !have[id] {
				bad(fmt.Sprintf("store_ids[%d]", i), "no such store")
			}
		}
		stores = found
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return stores, nil
}

func (s *StoreCodes) checkFallback(ctx context.Context, c *model.StoreCode, stores []model.RetailStore) error {
	if c.FallbackStore == 0 {
		return nil
	}
	if stores == nil {
		ways, err := s.store.StoreCodeWays(ctx, c.ID)
		if err != nil {
			return err
		}
		for _, w := range ways {
			if w.StoreID == c.FallbackStore {
				return nil
			}
		}
	}
	for _, st := range stores {
		if st.ID == c.FallbackStore {
			return nil
		}
	}
	return &apierr.ValidationError{Field: "fallback_store_id", Reason: "must be one of the code's stores"}
}

// CreateCode validates a spec, makes each store's contact way (and join
// way when groups are offered) and stores the code.
func (s *StoreCodes) CreateCode(ctx context.Context, corpID, actor string, spec StoreCodeSpec) (*StoreCode, error) {
	client, err := s.clients(corpID)
	if err != nil {
		return nil, err
	}
	if spec.Name == nil {
		return nil, &apierr.ValidationError{Field: "name", Reason: "is required"}
	}
	if spec.StoreIDs == nil {
		return nil, &apierr.ValidationError{Field: "store_ids", Reason: "is required"}
	}
	c := &model.StoreCode{CorpID: corpID, CreatedBy: actor, RadiusM: DefaultStoreRadiusM, Offer: OfferStaff}
	stores, err := s.applyCode(ctx, c, spec)
	if err != nil {
		return nil, err
	}
	if err := s.checkFallback(ctx, c, stores); err != nil {
		return nil, err
	}
	if c.Title == "" {
		c.Title = c.Name
	}
	if c.Slug, err = livecode.RandomSlug(); err != nil {
		return nil, err
	}
	var ways []*model.StoreCodeWay
	for i := range stores {
		w := &model.StoreCodeWay{CorpID: corpID, StoreID: stores[i].ID, State: wayState(c.Slug, stores[i].ID), WeComUsers: "[]"}
		if err := s.ensureWay(ctx, client, c, &stores[i], w); err != nil {
			s.dropWays(context.WithoutCancel(ctx), client, ways)
			return nil, livecode.AdminError(err)
		}
		ways = append(ways, w)
	}
	if err := s.store.CreateStoreCode(ctx, c); err != nil {
		s.dropWays(context.WithoutCancel(ctx), client, ways)
		return nil, err
	}
	for _, w := range ways {
		w.CodeID = c.ID
		if err := s.store.SaveStoreCodeWay(ctx, w); err != nil {
			return nil, err
		}
		s.remember(w)
	}
	s.log.Info("store code created", "id", c.ID, "corp", corpID, "stores", len(ways), "actor", actor)
	return s.GetCode(ctx, corpID, c.ID)
}

// UpdateCode applies a PATCH: stores added get their ways, stores removed
// lose them (their past adds stay attributed).
func (s *StoreCodes) UpdateCode(ctx context.Context, corpID string, id uint64, spec StoreCodeSpec) (*StoreCode, error) {
	defer s.invalidate()
	client, err := s.clients(corpID)
	if err != nil {
		return nil, err
	}
	c, err := s.store.GetStoreCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	oldOffer := c.Offer
	stores, err := s.applyCode(ctx, c, spec)
	if err != nil {
		return nil, err
	}
	if err := s.checkFallback(ctx, c, stores); err != nil {
		return nil, err
	}
	if spec.Title != nil && c.Title == "" {
		c.Title = c.Name
	}
	ways, err := s.store.StoreCodeWays(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	if stores != nil {
		want := map[uint64]bool{}
		for i := range stores {
			want[stores[i].ID] = true
			if slices.ContainsFunc(ways, func(w model.StoreCodeWay) bool { return w.StoreID == stores[i].ID }) {
				continue
			}
			w := &model.StoreCodeWay{CorpID: corpID, CodeID: c.ID, StoreID: stores[i].ID, State: wayState(c.Slug, stores[i].ID), WeComUsers: "[]"}
			if err := s.ensureWay(ctx, client, c, &stores[i], w); err != nil {
				return nil, livecode.AdminError(err)
			}
			if err := s.store.SaveStoreCodeWay(ctx, w); err != nil {
				return nil, err
			}
			s.remember(w)
		}
		for i := range ways {
			if !want[ways[i].StoreID] {
				if err := s.retire(ctx, client, &ways[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	if err := s.store.SaveStoreCode(ctx, c); err != nil {
		return nil, err
	}
	if c.Offer != oldOffer {
		for _, w := range ways {
			if err := s.RequestSync(ctx, corpID, w.ID); err != nil {
				return nil, err
			}
		}
	}
	return s.GetCode(ctx, corpID, c.ID)
}

// DeleteCode removes every WeCom way of the code and retires it.
func (s *StoreCodes) DeleteCode(ctx context.Context, corpID string, id uint64) error {
	defer s.invalidate()
	client, err := s.clients(corpID)
	if err != nil {
		return err
	}
	c, err := s.store.GetStoreCode(ctx, corpID, id)
	if err != nil {
		return err
	}
	ways, err := s.store.StoreCodeWays(ctx, c.ID)
	if err != nil {
		return err
	}
	for i := range ways {
		if err := s.retire(ctx, client, &ways[i]); err != nil {
			return err
		}
	}
	return s.store.DeleteStoreCode(ctx, c.ID)
}

func (s *StoreCodes) retire(ctx context.Context, client *wecom.Client, w *model.StoreCodeWay) error {
	if w.ConfigID != "" {
		if err := client.DeleteContactWay(ctx, w.ConfigID); err != nil && !livecode.IsWayGone(err) {
			return livecode.AdminError(err)
		}
	}
	if w.JoinConfigID != "" {
		if err := client.DeleteJoinWay(ctx, w.JoinConfigID); err != nil && !livecode.IsWayGone(err) {
			return livecode.AdminError(err)
		}
	}
	return s.store.RetireStoreCodeWay(ctx, w.ID)
}

func (s *StoreCodes) dropWays(ctx context.Context, client *wecom.Client, ways []*model.StoreCodeWay) {
	for _, w := range ways {
		if w.ConfigID != "" {
			if err := client.DeleteContactWay(ctx, w.ConfigID); err != nil && !livecode.IsWayGone(err) {
				s.log.Warn("could not delete contact way", "config_id", w.ConfigID, "err", err)
			}
		}
		if w.JoinConfigID != "" {
			if err := client.DeleteJoinWay(ctx, w.JoinConfigID); err != nil {
				s.log.Warn("could not delete join way", "config_id", w.JoinConfigID, "err", err)
			}
		}
	}
}

// ensureWay brings one store's ways in WeCom in step: the contact way
// exists and lists the store's eligible staff; the join way exists, lists
// the store's group, or is gone when the code offers no group. It returns
// WeCom's error unmapped, for the caller to map.
func (s *StoreCodes) ensureWay(ctx context.Context, client *wecom.Client, c *model.StoreCode, st *model.RetailStore, w *model.StoreCodeWay) error {
	roster := decodeStaff(st)
	current := livecode.DecodeChats(w.WeComUsers)
	users, alert := livecode.WayUsers(roster, roster.Eligible(s.clock.Now(), nil), current)
	if len(users) == 0 {
		return &apierr.ValidationError{Field: "store_ids", Reason: fmt.Sprintf("store %d has no staff", st.ID)}
	}
	switch {
	case w.ConfigID == "":
		way, err := client.AddContactWay(ctx, wecom.NewContactWay{Type: wecom.ContactWayMulti, Scene: wecom.SceneQRCode,
			Remark: livecode.ClipRunes(c.Name, 30), SkipVerify: true, State: w.State, User: users})
		if err != nil {
			return err
		}
		w.ConfigID, w.QRCode = way.ConfigID, way.QRCode
	case !slices.Equal(users, current):
		if err := client.UpdateContactWay(ctx, wecom.ContactWayUpdate{ConfigID: w.ConfigID, User: users}); err != nil {
			return err
		}
	}
	w.WeComUsers, w.Alert = livecode.EncodeChats(users), alert
	wantJoin := c.Offer == OfferGroup && st.GroupChatID != ""
	jw := wecom.JoinWay{ConfigID: w.JoinConfigID, Scene: wecom.SceneQRCode, Remark: livecode.ClipRunes(c.Name, 30),
		ChatIDs: []string{st.GroupChatID}, State: w.State}
	switch {
	case wantJoin && w.JoinConfigID == "":
		id, err := client.AddJoinWay(ctx, jw)
		if err != nil {
			return err
		}
		got, err := client.GetJoinWay(ctx, id)
		if err != nil {
			_ = client.DeleteJoinWay(ctx, id)
			return err
		}
		w.JoinConfigID, w.JoinQRCode, w.JoinChatID = id, got.QRCode, st.GroupChatID
	case wantJoin && w.JoinChatID != st.GroupChatID:
		if err := client.UpdateJoinWay(ctx, jw); err != nil {
			return err
		}
		w.JoinChatID = st.GroupChatID
	case !wantJoin && w.JoinConfigID != "":
		if err := client.DeleteJoinWay(ctx, w.JoinConfigID); err != nil && !livecode.IsWayGone(err) {
			return err
		}
		w.JoinConfigID, w.JoinQRCode, w.JoinChatID = "", "", ""
	}
	now := s.clock.Now()
	w.SyncedAt = &now
	return nil
}

// RequestSync asks for a store way to be brought in step (coalesced).
func (s *StoreCodes) RequestSync(ctx context.Context, corpID string, wayID uint64) error {
	return livecode.RequestSync(ctx, s.store, s.jobs, &model.Job{CorpID: corpID, Kind: JobSyncStoreWay, Key: fmt.Sprintf("%s:%d", JobSyncStoreWay, wayID),
		OrderKey: fmt.Sprintf("store_way:%d", wayID), Payload: queue.EncodePayload(storeWayPayload{WayID: wayID})})
}

type storeWayPayload struct {
	WayID uint64 `json:"way_id"`
}

// RunSyncWay runs a sync_store_way job: the store way's staff brought in
// step with the store's roster. The job's order key makes it the one writer
// per way.
func (s *StoreCodes) RunSyncWay(ctx context.Context, j *model.Job) error {
	defer s.invalidate()
	var p storeWayPayload
	if err := queue.DecodePayload(j, &p); err != nil {
		return err
	}
	w, err := s.store.GetStoreCodeWay(ctx, p.WayID)
	if err != nil {
		return queue.IgnoreIfGone(err, "way deleted")
	}
	if w.RetiredAt != nil {
		return queue.Ignore("store no longer on the code")
	}
	c, err := s.store.GetStoreCode(ctx, w.CorpID, w.CodeID)
	if err != nil {
		return queue.IgnoreIfGone(err, "code deleted")
	}
	st, err := s.store.GetRetailStore(ctx, w.CorpID, w.StoreID)
	if err != nil {
		return queue.IgnoreIfGone(err, "store deleted")
	}
	client, err := s.clients(w.CorpID)
	if err != nil {
		return queue.Permanent(err)
	}
	if err := s.ensureWay(ctx, client, c, st, w); err != nil {
		var ve *apierr.ValidationError
		if errors.As(err, &ve) {
			return queue.Permanent(err)
		}
		return livecode.JobError(err)
	}
	return s.store.SaveStoreCodeWay(ctx, w)
}

// Tick runs every minute under the cron lease: it requests a sync for each
// store way whose eligible staff (shifts, the online switch) changed.
func (s *StoreCodes) Tick(ctx context.Context) error {
	ways, err := s.store.LiveStoreCodeWays(ctx)
	if err != nil {
		return err
	}
	rosters := map[uint64]*livecode.Roster{}
	now := s.clock.Now()
	for _, w := range ways {
		r, ok := rosters[w.StoreID]
		if !ok {
			st, err := s.store.GetRetailStore(ctx, w.CorpID, w.StoreID)
			if err != nil && !errors.Is(err, model.ErrNotFound) {
				return err
			}
			if err == nil {
				rr := decodeStaff(st)
				r = &rr
			}
			rosters[w.StoreID] = r
		}
		if r == nil {
			continue
		}
		current := livecode.DecodeChats(w.WeComUsers)
		users, _ := livecode.WayUsers(*r, r.Eligible(now, nil), current)
		if !slices.Equal(users, current) {
			if err := s.RequestSync(ctx, w.CorpID, w.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// --- landing -----------------------------------------------------------------

// StoreHit is one store a landing page may show.
type StoreHit struct {
	StoreID   uint64   `json:"store_id"`
	Name      string   `json:"name"`
	Address   string   `json:"address,omitempty"`
	Province  string   `json:"province,omitempty"`
	City      string   `json:"city,omitempty"`
	Latitude  float64  `json:"latitude"`
	Longitude float64  `json:"longitude"`
	DistanceM *float64 `json:"distance_m,omitempty"`
	Offer     string   `json:"offer"` // staff or group: what QRCode adds the customer to
	QRCode    string   `json:"qr_code"`
}

// NearestResult is the answer of /s/:slug/nearest.
type NearestResult struct {
	Stores   []StoreHit `json:"stores"`
	Fallback bool       `json:"fallback"` // nothing within the radius; Stores holds the fallback store
	RadiusM  int        `json:"radius_m"`
}

// StoreLanding is what /s/:slug needs to render.
type StoreLanding struct {
	Title  string
	Slug   string
	Cities []CityStores
}

// CityStores is a province/city with how many stores it has (the picker).
type CityStores struct {
	Province string `json:"province"`
	City     string `json:"city"`
	Stores   int    `json:"stores"`
}

type codeStores struct {
	code   *model.StoreCode
	ways   map[uint64]model.StoreCodeWay
	stores []model.RetailStore
	// page is the landing page, made once per load.
	page *StoreLanding
}

func (s *StoreCodes) bySlug(ctx context.Context, slug string) (*codeStores, error) {
	return s.landing.Get(ctx, slug, func(ctx context.Context) (*codeStores, error) { return s.loadStores(ctx, slug) })
}

func (s *StoreCodes) loadStores(ctx context.Context, slug string) (*codeStores, error) {
	c, err := s.store.StoreCodeBySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	ways, err := s.store.StoreCodeWays(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	cs := &codeStores{code: c, ways: map[uint64]model.StoreCodeWay{}}
	ids := make([]uint64, len(ways))
	for i, w := range ways {
		cs.ways[w.StoreID] = w
		ids[i] = w.StoreID
	}
	if cs.stores, err = s.store.RetailStoresByID(ctx, c.CorpID, ids); err != nil {
		return nil, err
	}
	cs.page = landingPage(cs)
	return cs, nil
}

func (cs *codeStores) hit(st *model.RetailStore) StoreHit {
	w := cs.ways[st.ID]
	h := StoreHit{StoreID: st.ID, Name: st.Name, Address: st.Address, Province: st.Province, City: st.City,
		Latitude: st.Latitude, Longitude: st.Longitude, Offer: OfferStaff, QRCode: w.QRCode}
	if cs.code.Offer == OfferGroup && w.JoinQRCode != "" {
		h.Offer, h.QRCode = OfferGroup, w.JoinQRCode
	}
	return h
}

// Landing returns what the landing page of a code shows before it knows
// where the customer is.
func (s *StoreCodes) Landing(ctx context.Context, slug string) (*StoreLanding, error) {
	cs, err := s.bySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	return cs.page, nil
}

// landingPage makes the page of a code's stores.
func landingPage(cs *codeStores) *StoreLanding {
	l := &StoreLanding{Title: cs.code.Title, Slug: cs.code.Slug}
	idx := map[string]int{}
	for _, st := range cs.stores {
		k := st.Province + "\x00" + st.City
		if i, ok := idx[k]; ok {
			l.Cities[i].Stores++
			continue
		}
		idx[k] = len(l.Cities)
		l.Cities = append(l.Cities, CityStores{Province: st.Province, City: st.City, Stores: 1})
	}
	sort.Slice(l.Cities, func(i, j int) bool {
		a, b := l.Cities[i], l.Cities[j]
		if a.Province != b.Province {
			return a.Province < b.Province
		}
		return a.City < b.City
	})
	return l
}

// Nearest returns the code's stores within its radius of (lat, lng),
// nearest first (ties by store id), or the fallback store when none is
// that close. wgs84 says the position came from a plain browser's GPS and
// is shifted into GCJ-02 first. The store shown first counts a scan.
func (s *StoreCodes) Nearest(ctx context.Context, slug string, lat, lng float64, wgs84 bool) (*NearestResult, error) {
	if !livecode.ValidLatLng(lat, lng) {
		return nil, &apierr.ValidationError{Field: "lat", Reason: "position is off the globe"}
	}
	cs, err := s.bySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	if wgs84 {
		lat, lng = livecode.WGS84ToGCJ02(lat, lng)
	}
	res := &NearestResult{Stores: []StoreHit{}, RadiusM: cs.code.RadiusM}
	type cand struct {
		st *model.RetailStore
		d  float64
	}
	var near []cand
	var fallback *cand
	for i := range cs.stores {
		st := &cs.stores[i]
		d := livecode.GreatCircleM(lat, lng, st.Latitude, st.Longitude)
		if d <= float64(cs.code.RadiusM) {
			near = append(near, cand{st, d})
		}
		if st.ID == cs.code.FallbackStore {
			fallback = &cand{st, d}
		}
	}
	sort.Slice(near, func(i, j int) bool {
		if near[i].d != near[j].d {
			return near[i].d < near[j].d
		}
		return near[i].st.ID < near[j].st.ID
	})
	if len(near) == 0 && fallback != nil {
		near, res.Fallback = []cand{*fallback}, true
	}
	for i, c := range near {
		if i == maxNearest {
			break
		}
		h := cs.hit(c.st)
		d := math.Round(c.d*10) / 10
		h.DistanceM = &d
		res.Stores = append(res.Stores, h)
	}
	s.countScan(ctx, cs, res.Stores)
	return res, nil
}

// InCity returns the code's stores of a city (the picker, when the
// browser gives no position), by name; the first counts a scan.
func (s *StoreCodes) InCity(ctx context.Context, slug, city string) (*NearestResult, error) {
	cs, err := s.bySlug(ctx, slug)
	if err != nil {
		return nil, err
	}
	res := &NearestResult{Stores: []StoreHit{}, RadiusM: cs.code.RadiusM}
	for i := range cs.stores {
		if cs.stores[i].City == city {
			res.Stores = append(res.Stores, cs.hit(&cs.stores[i]))
		}
	}
	sort.SliceStable(res.Stores, func(i, j int) bool { return res.Stores[i].Name < res.Stores[j].Name })
	if len(res.Stores) > maxNearest {
		res.Stores = res.Stores[:maxNearest]
	}
	s.countScan(ctx, cs, res.Stores)
	return res, nil
}

// countScan counts the store a page is about to show. A failed count must
// not cost the customer their page, so it is only logged.
func (s *StoreCodes) countScan(ctx context.Context, cs *codeStores, hits []StoreHit) {
	if len(hits) == 0 {
		return
	}
	k := scanKey{corpID: cs.code.CorpID, codeID: cs.code.ID, storeID: hits[0].StoreID, day: livecode.Roster{}.LocalDay(s.clock.Now())}
	s.scanMu.Lock()
	s.scans[k]++
	due := clock.Since(s.clock, s.scanFlush) >= time.Second
	s.scanMu.Unlock()
	if due {
		s.flushScans(ctx)
	}
}

// flushScans adds the scans counted in memory to the database; counts that
// fail to write are kept for the next flush.
func (s *StoreCodes) flushScans(ctx context.Context) {
	s.scanMu.Lock()
	pending := s.scans
	s.scans, s.scanFlush = map[scanKey]int{}, s.clock.Now()
	s.scanMu.Unlock()
	for k, n := range pending {
		if err := s.store.CountStoreScans(ctx, k.corpID, k.codeID, k.storeID, k.day, n); err != nil {
			s.log.Warn("could not count store scans", "code", k.codeID, "err", err)
			s.scanMu.Lock()
			s.scans[k] += n
			s.scanMu.Unlock()
		}
	}
}

// --- statistics --------------------------------------------------------------

// StoreTotals are a store's landing scans, adds and group joins.
type StoreTotals struct {
	Scans int `json:"scans"`
	Adds  int `json:"adds"`
	Joins int `json:"joins"`
}

// StoreDayStat is one day of a store code's statistics.
type StoreDayStat struct {
	Day    string                  `json:"day"`
	Stores map[uint64]*StoreTotals `json:"stores"`
}

// StoreCodeStats are a store code's statistics per store and day.
type StoreCodeStats struct {
	CodeID uint64                  `json:"code_id"`
	From   string                  `json:"from"`
	To     string                  `json:"to"`
	Total  StoreTotals             `json:"total"`
	Stores map[uint64]*StoreTotals `json:"stores"`
	Days   []StoreDayStat          `json:"days"`
}

// Stats returns a store code's scans, adds and joins per store between two
// days (inclusive, China time); empty bounds mean the last 30 days.
func (s *StoreCodes) Stats(ctx context.Context, corpID string, id uint64, from, to string) (*StoreCodeStats, error) {
	c, err := s.store.GetStoreCode(ctx, corpID, id)
	if err != nil {
		return nil, err
	}
	s.flushScans(ctx)
	from, to = livecode.DayRange(s.clock.Now(), from, to)
	out := &StoreCodeStats{CodeID: id, From: from, To: to, Stores: map[uint64]*StoreTotals{}, Days: []StoreDayStat{}}
	days := map[string]*StoreDayStat{}
	add := func(day string, storeID uint64, f func(t *StoreTotals)) {
		d := days[day]
		if d == nil {
			d = &StoreDayStat{Day: day, Stores: map[uint64]*StoreTotals{}}
			days[day] = d
		}
		for _, m := range []map[uint64]*StoreTotals{out.Stores, d.Stores} {
			t := m[storeID]
			if t == nil {
				t = &StoreTotals{}
				m[storeID] = t
			}
			f(t)
		}
		f(&out.Total)
	}
	scans, err := s.store.StoreScanCounts(ctx, id, from, to)
	if err != nil {
		return nil, err
	}
	for _, r := range scans {
		add(r.Day, r.StoreID, func(t *StoreTotals) { t.Scans += r.Count })
	}
	joins, err := s.store.StoreCodeJoinCounts(ctx, id, from, to)
	if err != nil {
		return nil, err
	}
	for _, r := range joins {
		add(r.Day, r.StoreID, func(t *StoreTotals) { t.Joins += r.Count })
	}
	ways, err := s.store.StoreCodeAllWays(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	byState := map[string]uint64{}
	states := make([]string, 0, len(ways))
	for _, w := range ways {
		byState[w.State] = w.StoreID
		states = append(states, w.State)
	}
	loc := livecode.Roster{}.Zone()
	start, _ := time.ParseInLocation("2006-01-02", from, loc)
	end, _ := time.ParseInLocation("2006-01-02", to, loc)
	adds, err := s.store.AddsByState(ctx, corpID, states, start.UTC(), end.AddDate(0, 0, 1).UTC())
	if err != nil {
		return nil, err
	}
	for _, a := range adds {
		add(livecode.Roster{}.LocalDay(a.AddedAt), byState[a.State], func(t *StoreTotals) { t.Adds++ })
	}
	for _, d := range days {
		out.Days = append(out.Days, *d)
	}
	sort.Slice(out.Days, func(i, j int) bool { return out.Days[i].Day < out.Days[j].Day })
	return out, nil
}

// RetailStoreQuery selects stores by city and a name search.
type RetailStoreQuery struct {
	CorpID  string
	City    string
	Q       string
	AfterID uint64
	Limit   int
}

func (q RetailStoreQuery) filter() model.RetailStoreFilter {
	return model.RetailStoreFilter{CorpID: q.CorpID, City: q.City, Q: q.Q, AfterID: q.AfterID, Limit: q.Limit}
}
func ptr[T any](v T) *T { return &v }
