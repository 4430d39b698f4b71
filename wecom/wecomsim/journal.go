package wecomsim

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/leadgate/scrm-gateway/wecom"
)

// journal records API calls, callback attempts and events for the control
// API. It keeps the newest limit entries of each so a long benchmark cannot
// grow it without bound; counters cover everything.
type journal struct {
	mu    sync.Mutex
	limit int
	seq   int64

	entries []LogEntry

	events    []*EventRecord
	eventBase int64 // id of events[0]
	nextEvent int64

	apis map[string]*APIStats
	cb   CallbackStats

	nonces *rand.Rand
}

func newJournal(limit int, seed uint64) *journal {
	return &journal{
		limit:     limit,
		eventBase: 1,
		nextEvent: 1,
		apis:      map[string]*APIStats{},
		nonces:    rand.New(rand.NewPCG(seed, 0x70ce)),
	}
}

// trim drops the oldest entries once a quarter over the limit, so the copy
// cost is amortised.
func trim[T any](s []T, limit int) ([]T, int) {
	if len(s) <= limit+limit/4 {
		return s, 0
	}
	drop := len(s) - limit
	n := copy(s, s[drop:])
	clear(s[n:])
	return s[:n], drop
}

func (j *journal) logAPI(e LogEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	j.entries = append(j.entries, e)
	j.entries, _ = trim(j.entries, j.limit)
	st := j.apis[e.API]
	if st == nil {
		st = &APIStats{ByErrCode: map[string]int{}}
		j.apis[e.API] = st
	}
	st.Calls++
	key := strconv.Itoa(e.ErrCode)
	if e.HTTPStatus != 200 {
		key = "http_" + strconv.Itoa(e.HTTPStatus)
	}
	st.ByErrCode[key]++
}

// addEvent records a new event and returns its id and a callback nonce.
func (j *journal) addEvent(ev *wecom.Event, plain []byte, at time.Time) (int64, string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	id := j.nextEvent
	j.nextEvent++
	rec := &EventRecord{
		ID:             id,
		Type:           ev.Type(),
		CreatedAt:      at,
		UserID:         ev.UserID,
		ExternalUserID: ev.ExternalUserID,
		State:          ev.State,
		WelcomeCode:    ev.WelcomeCode,
		ChatID:         ev.ChatID,
		UpdateDetail:   ev.UpdateDetail,
		TagID:          ev.ID,
		XML:            string(plain),
		Status:         EventPending,
	}
	j.events = append(j.events, rec)
	var dropped int
	j.events, dropped = trim(j.events, j.limit)
	j.eventBase += int64(dropped)
	j.cb.Events++
	j.cb.Pending++
	return id, strconv.FormatUint(uint64(j.nonces.Uint32()), 10)
}

func (j *journal) event(id int64) *EventRecord {
	i := id - j.eventBase
	if i < 0 || i >= int64(len(j.events)) {
		return nil
	}
	return j.events[i]
}

func (j *journal) logAttempt(e LogEntry) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.seq++
	e.Seq = j.seq
	e.Kind = KindCallback
	e.API = "callback"
	j.entries = append(j.entries, e)
	j.entries, _ = trim(j.entries, j.limit)
	j.cb.Attempts++
	if rec := j.event(e.EventID); rec != nil {
		rec.Attempts = e.Attempt
	}
}

func (j *journal) finishEvent(id int64, status string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	j.cb.Pending--
	switch status {
	case EventDelivered:
		j.cb.Delivered++
	case EventFailed, EventCancelled:
		j.cb.Failed++
	case EventDropped:
		j.cb.Dropped++
	}
	if rec := j.event(id); rec != nil {
		rec.Status = status
	}
}

func (j *journal) pending() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.cb.Pending
}

func (j *journal) query(q LogQuery) []LogEntry {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []LogEntry{}
	for _, e := range j.entries {
		if e.Seq <= q.Since || (q.Kind != "" && e.Kind != q.Kind) ||
			(q.API != "" && !apiMatches(q.API, e.API)) ||
			(q.Event != "" && !strings.HasPrefix(e.Event, q.Event)) ||
			(q.ErrCode != nil && e.ErrCode != *q.ErrCode) {
			continue
		}
		out = append(out, e)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

func (j *journal) queryEvents(q EventQuery) []EventRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	out := []EventRecord{}
	for _, e := range j.events {
		if e.ID <= q.Since || (q.Type != "" && !strings.HasPrefix(e.Type, q.Type)) ||
			(q.Status != "" && e.Status != q.Status) {
			continue
		}
		out = append(out, *e)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[len(out)-q.Limit:]
	}
	return out
}

func (j *journal) stats() (map[string]APIStats, CallbackStats) {
	j.mu.Lock()
	defer j.mu.Unlock()
	apis := make(map[string]APIStats, len(j.apis))
	for k, v := range j.apis {
		c := APIStats{Calls: v.Calls, ByErrCode: make(map[string]int, len(v.ByErrCode))}
		for code, n := range v.ByErrCode {
			c.ByErrCode[code] = n
		}
		apis[k] = c
	}
	return apis, j.cb
}
