package wecomsim

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"sync/atomic"
	"time"
)

func (s *Sim) routes() *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/cgi-bin/", s.serveAPI(s.apis()))

	mux.HandleFunc("GET /sim/staff", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"staff": s.Staff()})
	})
	mux.HandleFunc("POST /sim/staff", ctl(func(r *http.Request, req *Staff) (any, error) {
		if req.Name == "" {
			req.Name = req.UserID
		}
		if err := s.AddStaff(*req); err != nil {
			return nil, err
		}
		return req, nil
	}))

	mux.HandleFunc("POST /sim/scan", ctl(func(r *http.Request, req *ScanRequest) (any, error) { return s.Scan(*req) }))
	mux.HandleFunc("POST /sim/accept", ctl(func(r *http.Request, req *AcceptRequest) (any, error) { return s.Accept(*req) }))
	mux.HandleFunc("POST /sim/join", ctl(func(r *http.Request, req *JoinRequest) (any, error) { return s.Join(*req) }))
	mux.HandleFunc("POST /sim/leave-group", ctl(func(r *http.Request, req *LeaveGroupRequest) (any, error) {
		return s.LeaveGroup(*req)
	}))
	mux.HandleFunc("POST /sim/delete-staff", ctl(func(r *http.Request, req *RelationRequest) (any, error) {
		return okBody, s.DeleteStaff(*req)
	}))
	mux.HandleFunc("POST /sim/staff-deletes", ctl(func(r *http.Request, req *StaffDeletesRequest) (any, error) {
		return okBody, s.StaffDeletes(*req)
	}))
	mux.HandleFunc("POST /sim/edit-contact", ctl(func(r *http.Request, req *EditContactRequest) (any, error) {
		return okBody, s.EditContact(*req)
	}))
	mux.HandleFunc("POST /sim/tag-change", ctl(func(r *http.Request, req *TagChangeRequest) (any, error) {
		return s.TagChange(*req)
	}))

	mux.HandleFunc("GET /sim/groups", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"groups": s.Groups()})
	})
	mux.HandleFunc("POST /sim/groups", ctl(func(r *http.Request, req *CreateGroupRequest) (any, error) {
		return s.CreateGroup(*req)
	}))
	mux.HandleFunc("GET /sim/groups/{chat_id}", func(w http.ResponseWriter, r *http.Request) {
		g, ok := s.Group(r.PathValue("chat_id"))
		found(w, g, ok, "chat_id")
	})
	mux.HandleFunc("POST /sim/groups/{chat_id}/fill", ctl(func(r *http.Request, req *FillGroupRequest) (any, error) {
		return s.FillGroup(r.PathValue("chat_id"), *req)
	}))
	mux.HandleFunc("POST /sim/groups/{chat_id}/dismiss", func(w http.ResponseWriter, r *http.Request) {
		reply(w, okBody, s.DismissGroup(r.PathValue("chat_id")))
	})

	mux.HandleFunc("GET /sim/contacts", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"contacts": s.Contacts(r.URL.Query().Get("userid"))})
	})
	mux.HandleFunc("GET /sim/contacts/{external_userid}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.Contact(r.PathValue("external_userid"))
		found(w, c, ok, "external_userid")
	})
	mux.HandleFunc("GET /sim/contact-ways", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"contact_ways": s.ContactWays()})
	})
	mux.HandleFunc("GET /sim/contact-ways/{config_id}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.ContactWay(r.PathValue("config_id"))
		found(w, c, ok, "config_id")
	})
	mux.HandleFunc("GET /sim/join-ways/{config_id}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := s.JoinWay(r.PathValue("config_id"))
		found(w, c, ok, "config_id")
	})
	mux.HandleFunc("GET /sim/group-welcome-templates", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"templates": s.GroupWelcomeTemplates()})
	})
	mux.HandleFunc("GET /sim/group-welcome-templates/{template_id}", func(w http.ResponseWriter, r *http.Request) {
		t, ok := s.GroupWelcomeTemplate(r.PathValue("template_id"))
		found(w, t, ok, "template_id")
	})
	mux.HandleFunc("GET /sim/tags", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"tag_group": s.Tags()})
	})
	mux.HandleFunc("GET /sim/media/{media_id}", func(w http.ResponseWriter, r *http.Request) {
		m, ok := s.Media(r.PathValue("media_id"))
		found(w, m, ok, "media_id")
	})
	mux.HandleFunc("GET /sim/welcomes", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		writeJSON(w, http.StatusOK, map[string]any{"welcomes": s.Welcomes(WelcomeQuery{
			UserID: q.Get("userid"), ExternalUserID: q.Get("external_userid")})})
	})
	mux.HandleFunc("GET /sim/log", func(w http.ResponseWriter, r *http.Request) {
		q, err := parseLogQuery(r)
		if err != nil {
			writeCtlError(w, err)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"entries": s.Log(q)})
	})
	mux.HandleFunc("GET /sim/events", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		since, _ := strconv.ParseInt(q.Get("since"), 10, 64)
		limit, _ := strconv.Atoi(q.Get("limit"))
		writeJSON(w, http.StatusOK, map[string]any{"events": s.Events(EventQuery{Type: q.Get("type"),
			Status: q.Get("status"), Since: since, Limit: limit})})
	})
	mux.HandleFunc("GET /sim/stats", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Stats())
	})
	// Cheaper than /sim/stats for polling while callbacks drain.
	mux.HandleFunc("GET /sim/pending", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]int{"pending": s.PendingCallbacks()})
	})

	mux.HandleFunc("GET /sim/faults", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"faults": s.faults.list()})
	})
	mux.HandleFunc("POST /sim/faults", s.handleFaults(false))
	mux.HandleFunc("PUT /sim/faults", s.handleFaults(true))
	mux.HandleFunc("DELETE /sim/faults", func(w http.ResponseWriter, r *http.Request) {
		s.faults.clear()
		writeJSON(w, http.StatusOK, okBody)
	})

	mux.HandleFunc("GET /sim/clock", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.clockState())
	})
	mux.HandleFunc("POST /sim/clock", ctl(func(r *http.Request, req *ClockRequest) (any, error) {
		s.Advance(time.Duration(req.AdvanceMS) * time.Millisecond)
		return s.clockState(), nil
	}))
	mux.HandleFunc("GET /sim/limits", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.Limits())
	})
	mux.HandleFunc("POST /sim/limits", ctl(func(r *http.Request, req *Limits) (any, error) {
		return s.SetLimits(*req), nil
	}))
	mux.HandleFunc("POST /sim/tokens/invalidate", ctl(func(r *http.Request, req *struct {
		ErrCode int `json:"errcode"`
	}) (any, error) {
		code := req.ErrCode
		if code == 0 {
			code = CodeTokenExpired
		}
		if code != CodeTokenExpired && code != CodeInvalidToken {
			return nil, badRequest("errcode", "errcode must be 42001 or 40014")
		}
		return map[string]int{"invalidated": s.tokens.invalidateAll(code)}, nil
	}))
	mux.HandleFunc("GET /sim/callback", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"url": s.CallbackURL()})
	})
	mux.HandleFunc("POST /sim/callback", ctl(func(r *http.Request, req *struct {
		URL string `json:"url"`
	}) (any, error) {
		s.SetCallbackURL(req.URL)
		return map[string]string{"url": req.URL}, nil
	}))
	mux.HandleFunc("POST /sim/callback/verify", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.verifyCallback(r.Context()))
	})
	mux.HandleFunc("GET /sim/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, s.publicConfig())
	})
	mux.HandleFunc("GET /sim/qr/{token}", s.serveQR)
	mux.HandleFunc("/sim/", func(w http.ResponseWriter, r *http.Request) {
		writeCtlError(w, notFound("", "no such control endpoint: "+r.Method+" "+r.URL.Path))
	})
	return mux
}

var okBody = map[string]bool{"ok": true}

// ctl adapts a typed control handler: decode strictly (a misspelt field in a
// test is an error, not a silent default), call, render.
func ctl[T any](fn func(r *http.Request, req *T) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		req := new(T)
		body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody))
		if err != nil {
			writeCtlError(w, badRequest("", err.Error()))
			return
		}
		if len(bytes.TrimSpace(body)) > 0 {
			dec := json.NewDecoder(bytes.NewReader(body))
			dec.DisallowUnknownFields()
			if err := dec.Decode(req); err != nil {
				writeCtlError(w, badRequest("", "bad JSON: "+err.Error()))
				return
			}
		}
		res, err := fn(r, req)
		reply(w, res, err)
	}
}

func reply(w http.ResponseWriter, res any, err error) {
	if err != nil {
		writeCtlError(w, err)
		return
	}
	writeJSON(w, http.StatusOK, res)
}

func found(w http.ResponseWriter, v any, ok bool, field string) {
	if !ok {
		writeCtlError(w, notFound(field, "unknown "+field))
		return
	}
	writeJSON(w, http.StatusOK, v)
}

// writeCtlError renders the project's one JSON error shape.
func writeCtlError(w http.ResponseWriter, err error) {
	var ce *ctlError
	if !errors.As(err, &ce) {
		ce = &ctlError{status: http.StatusInternalServerError, code: "internal", msg: err.Error()}
	}
	body := map[string]any{"code": ce.code, "message": ce.msg}
	if ce.field != "" {
		body["field"] = ce.field
	}
	writeJSON(w, ce.status, map[string]any{"error": body})
}

func parseLogQuery(r *http.Request) (LogQuery, error) {
	v := r.URL.Query()
	q := LogQuery{API: v.Get("api"), Kind: v.Get("kind"), Event: v.Get("event")}
	var err error
	if s := v.Get("errcode"); s != "" {
		n, e := strconv.Atoi(s)
		if e != nil {
			return q, badRequest("errcode", "errcode must be an integer")
		}
		q.ErrCode = &n
	}
	if s := v.Get("since"); s != "" {
		if q.Since, err = strconv.ParseInt(s, 10, 64); err != nil {
			return q, badRequest("since", "since must be an integer")
		}
	}
	if s := v.Get("limit"); s != "" {
		if q.Limit, err = strconv.Atoi(s); err != nil {
			return q, badRequest("limit", "limit must be an integer")
		}
	}
	return q, nil
}

func (s *Sim) handleFaults(replace bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, maxJSONBody))
		if err != nil {
			writeCtlError(w, badRequest("", err.Error()))
			return
		}
		// Accept one fault object or an array of them.
		var faults []Fault
		trimmed := bytes.TrimSpace(body)
		dec := json.NewDecoder(bytes.NewReader(trimmed))
		dec.DisallowUnknownFields()
		if len(trimmed) > 0 && trimmed[0] == '[' {
			err = dec.Decode(&faults)
		} else {
			var f Fault
			err = dec.Decode(&f)
			faults = []Fault{f}
		}
		if err != nil {
			writeCtlError(w, badRequest("", "bad JSON: "+err.Error()))
			return
		}
		for _, f := range faults {
			if msg := validateFault(f); msg != "" {
				writeCtlError(w, badRequest("api", msg))
				return
			}
		}
		if replace {
			s.faults.clear()
		}
		out := []Fault{}
		for _, f := range faults {
			out = append(out, s.faults.add(f))
		}
		writeJSON(w, http.StatusOK, map[string]any{"faults": out})
	}
}

// The read side, also usable in-process.

// Staff lists the corp's staff.
func (s *Sim) Staff() []Staff {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st.staffList()
}

// Contact returns a customer with every relation, deleted ones included.
func (s *Sim) Contact(externalUserID string) (Contact, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	cu := s.st.customers[externalUserID]
	if cu == nil {
		return Contact{}, false
	}
	return s.st.contact(cu, true), true
}

// Contacts lists customers, optionally only those related to one staff member.
func (s *Sim) Contacts(userID string) []Contact {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Contact{}
	for _, ext := range s.st.customerOrder {
		cu := s.st.customers[ext]
		if userID != "" && cu.follows[userID] == nil {
			continue
		}
		out = append(out, s.st.contact(cu, true))
	}
	return out
}

// Group returns a group chat, dismissed or not.
func (s *Sim) Group(chatID string) (Group, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := s.st.groups[chatID]
	if g == nil {
		return Group{}, false
	}
	return g.view(s.st.capacity), true
}

// Groups lists every group chat in creation order.
func (s *Sim) Groups() []Group {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Group{}
	for _, id := range s.st.groupOrder {
		out = append(out, s.st.groups[id].view(s.st.capacity))
	}
	return out
}

// ContactWay returns a contact way as it stands now.
func (s *Sim) ContactWay(configID string) (ContactWay, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.ways[configID]
	if w == nil {
		return ContactWay{}, false
	}
	return cloneWay(w), true
}

// ContactWays lists the live contact ways in creation order.
func (s *Sim) ContactWays() []ContactWay {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []ContactWay{}
	for _, id := range s.st.wayOrder {
		out = append(out, cloneWay(s.st.ways[id]))
	}
	return out
}

// JoinWay returns a join way as it stands now.
func (s *Sim) JoinWay(configID string) (JoinWay, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	w := s.st.joinWays[configID]
	if w == nil {
		return JoinWay{}, false
	}
	return cloneJoinWay(w), true
}

// Tags returns the corp tag catalogue.
func (s *Sim) Tags() []TagGroup {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []TagGroup{}
	for _, g := range s.st.tagGroups {
		out = append(out, cloneTagGroup(g))
	}
	return out
}

// Media returns an uploaded media file's metadata.
func (s *Sim) Media(mediaID string) (Media, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.st.media[mediaID]
	if m == nil {
		return Media{}, false
	}
	return *m, true
}

// Welcomes lists the welcome messages sent, oldest first (the newest
// LogLimit of them).
func (s *Sim) Welcomes(q WelcomeQuery) []Welcome {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := []Welcome{}
	for _, w := range s.st.welcomes {
		if (q.UserID == "" || w.UserID == q.UserID) && (q.ExternalUserID == "" || w.ExternalUserID == q.ExternalUserID) {
			w.Attachments = slices.Clone(w.Attachments)
			out = append(out, w)
		}
	}
	return out
}

// Log returns API calls and callback attempts, oldest first.
func (s *Sim) Log(q LogQuery) []LogEntry { return s.journal.query(q) }

// Events returns the callback events, oldest first.
func (s *Sim) Events(q EventQuery) []EventRecord { return s.journal.queryEvents(q) }

// PendingCallbacks counts events still being delivered (or waiting to resend).
func (s *Sim) PendingCallbacks() int { return s.journal.pending() }

// Slowed returns how many calls of api (e.g. "externalcontact/send_welcome_msg")
// a latency fault is holding right now: the request has arrived and its
// answer has not left.
func (s *Sim) Slowed(api string) int {
	if n, ok := s.slowed.Load(api); ok {
		return int(n.(*atomic.Int64).Load())
	}
	return 0
}

// Stats snapshots the counters.
func (s *Sim) Stats() Stats {
	apis, cb := s.journal.stats()
	s.mu.Lock()
	defer s.mu.Unlock()
	groups := 0
	for _, g := range s.st.groups {
		if !g.Dismissed {
			groups++
		}
	}
	return Stats{APIs: apis, Callbacks: cb, Welcomes: s.st.welcomeCount, Contacts: len(s.st.customers),
		Relations: s.st.activeRelations(), Groups: groups, ContactWays: len(s.st.ways), JoinWays: len(s.st.joinWays)}
}

// Limits reports the adjustable ceilings.
func (s *Sim) Limits() Limits {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Limits{GroupCapacity: s.st.capacity, ContactWayQuota: s.st.quota}
}

// SetLimits changes the ceilings given as non-zero and reports the result.
func (s *Sim) SetLimits(l Limits) Limits {
	s.mu.Lock()
	if l.GroupCapacity > 0 {
		s.st.capacity = l.GroupCapacity
	}
	if l.ContactWayQuota > 0 {
		s.st.quota = l.ContactWayQuota
	}
	s.mu.Unlock()
	return s.Limits()
}

// AddFault installs a fault; see Fault for its semantics.
func (s *Sim) AddFault(f Fault) (Fault, error) {
	if msg := validateFault(f); msg != "" {
		return Fault{}, badRequest("api", msg)
	}
	return s.faults.add(f), nil
}

// ClearFaults removes every fault.
func (s *Sim) ClearFaults() { s.faults.clear() }

// InvalidateTokens revokes every issued token as WeCom may do early; later
// calls with them answer code (42001 or 40014).
func (s *Sim) InvalidateTokens(code int) int { return s.tokens.invalidateAll(code) }

func (s *Sim) clockState() ClockState {
	return ClockState{Now: s.now(), Offset: time.Duration(s.offset.Load()).String()}
}

// SimConfig is what GET /sim/config reports: the test credentials and
// settings a gateway needs to talk to this simulator.
type SimConfig struct {
	CorpID             string  `json:"corp_id"`
	Secret             string  `json:"secret"`
	Token              string  `json:"token"`
	EncodingAESKey     string  `json:"encoding_aes_key"`
	CallbackURL        string  `json:"callback_url"`
	Seed               int64   `json:"seed"`
	RateLimitPerMinute int     `json:"rate_limit_per_minute"`
	RateLimitPerHour   int     `json:"rate_limit_per_hour"`
	TokenTTLSeconds    float64 `json:"token_ttl_seconds"`
	WelcomeWindowMS    int64   `json:"welcome_window_ms"`
	CallbackTimeoutMS  int64   `json:"callback_timeout_ms"`
	CallbackRetries    int     `json:"callback_retries"`
	RetryDelayMS       int64   `json:"retry_delay_ms"`
}

func (s *Sim) publicConfig() SimConfig {
	o := s.opts
	return SimConfig{CorpID: o.CorpID, Secret: o.Secret, Token: o.Token, EncodingAESKey: o.EncodingAESKey,
		CallbackURL: s.CallbackURL(), Seed: o.Seed, RateLimitPerMinute: o.RateLimitPerMinute,
		RateLimitPerHour: o.RateLimitPerHour, TokenTTLSeconds: o.TokenTTL.Seconds(),
		WelcomeWindowMS: o.WelcomeWindow.Milliseconds(), CallbackTimeoutMS: o.CallbackTimeout.Milliseconds(),
		CallbackRetries: o.CallbackRetries, RetryDelayMS: o.RetryDelay.Milliseconds()}
}
