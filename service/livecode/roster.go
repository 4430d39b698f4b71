package livecode

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	// Embedded so roster zones resolve in a distroless image without
	// /usr/share/zoneinfo; the system database still wins when present.
	_ "time/tzdata"

	"github.com/leadgate/scrm-gateway/service/apierr"
)

// DefaultRosterTimeZone is the zone of a roster that names none: the
// gateway serves mainland-China corps first.
const DefaultRosterTimeZone = "Asia/Shanghai"

// MaxRosterMembers is WeCom's limit on users per contact way; a roster
// with more members could not be written to the way even if all were on
// duty.
const MaxRosterMembers = 100

// Reasons a member is not on the contact way, as shown to admins.
const (
	ReasonOffline  = "offline"
	ReasonOffShift = "off shift"
	ReasonHoliday  = "holiday"
)

// Roster decides which staff of a channel live code may receive new
// customers at a given instant. WeCom picks at random among a contact
// way's users, so shifts, caps and the online switch only take effect
// because the caller rewrites the way's user list to Eligible(now).Users.
//
// The engine is pure: counts come from the caller and time is an
// argument, so the same inputs always give the same list.
type Roster struct {
	TimeZone  string         `json:"time_zone"` // IANA; "" means Asia/Shanghai
	Members   []RosterMember `json:"members"`
	Backups   []string       `json:"backups,omitempty"` // userids used only when no member is eligible
	Overrides []DateOverride `json:"overrides,omitempty"`
}

// RosterMember is one staff member of a roster.
type RosterMember struct {
	UserID   string  `json:"userid"`
	Shifts   []Shift `json:"shifts,omitempty"`    // none = on duty at all times
	DailyCap int     `json:"daily_cap,omitempty"` // 0 = no cap; counts are per local day
	Offline  bool    `json:"offline,omitempty"`   // the online/offline switch
	Weight   int     `json:"weight,omitempty"`    // precise mode "weighted"; 0 means 1
}

// Shift is a weekly duty window in the roster's zone.
//
// A shift belongs to the local day it starts: Monday 22:00–02:00 covers
// Monday 22:00 to Tuesday 02:00, so a holiday on Tuesday leaves that tail
// alone and a holiday on Monday removes all of it. Start is inclusive and
// End exclusive. End <= Start crosses midnight, which makes Start == End a
// 24-hour shift; "24:00" is allowed as End so that "00:00"–"24:00" reads
// as the whole day.
//
// Times are wall-clock times, so 09:00–17:00 stays 09:00–17:00 on a DST
// day and is an hour shorter or longer in real time when it spans the
// change. The rules for wall times the change makes odd are those of
// RFC 5545 (iCalendar): a time skipped by a spring-forward gap is read
// with the offset before the gap (02:30 becomes 03:30), and a time that
// occurs twice in a fall-back overlap means its first occurrence. Each
// instant is covered at most once either way.
type Shift struct {
	Weekdays []int  `json:"weekdays"` // 0=Sunday … 6=Saturday (time.Weekday)
	Start    string `json:"start"`    // "HH:MM" local
	End      string `json:"end"`      // "HH:MM"; End <= Start crosses midnight; "24:00" allowed as End
}

// DateOverride changes the schedule of one local date for some or all
// members: a holiday (Off) or replacement windows.
//
// When several overrides name the same date, one that lists the member
// beats one that applies to all members, so "everyone off, except Alice
// works 10:00–14:00" is two overrides. Among equally specific ones the
// last wins; Validate rejects such pairs because the admin almost
// certainly meant something else.
type DateOverride struct {
	Date    string   `json:"date"`              // "YYYY-MM-DD" local
	UserIDs []string `json:"userids,omitempty"` // members it applies to; empty = all members
	Off     bool     `json:"off,omitempty"`     // nobody it applies to works shifts starting that day (holiday)
	Shifts  []Shift  `json:"shifts,omitempty"`  // else: these windows replace the weekly shifts starting that day (Weekdays ignored)
}

// Eligibility is the outcome of Roster.Eligible.
type Eligibility struct {
	Users        []string          // sorted, deduplicated userids to put on the contact way now
	UsingBackups bool              // no member was eligible; Users are the backups
	Empty        bool              // nobody at all: the caller keeps the old list and alerts the admin
	Reasons      map[string]string // per member userid not eligible: "offline", "off shift", "cap reached (30/30)", "holiday"
}

// Location resolves the roster's zone. "Local" is refused because it
// would make the schedule depend on the server the gateway runs on.
func (r Roster) Location() (*time.Location, error) {
	name := r.TimeZone
	if name == "" {
		name = DefaultRosterTimeZone
	}
	if name == "Local" {
		return nil, errors.New("roster: time zone must be an IANA name such as Asia/Shanghai, not Local")
	}
	loc, err := LoadZone(name)
	if err != nil {
		return nil, fmt.Errorf("roster: unknown time zone %q: %w", name, err)
	}
	return loc, nil
}

// Zone is the roster's zone like Location, but never fails, because
// Eligible and NextChange run on schedules where an error would only stall
// the contact way. Validate refuses bad zones before a roster is stored, so
// the fallback only guards old rows.
func (r Roster) Zone() *time.Location {
	if loc, err := r.Location(); err == nil {
		return loc
	}
	if loc, err := LoadZone(DefaultRosterTimeZone); err == nil {
		return loc
	}
	return time.FixedZone("CST", 8*60*60)
}

// LocalDay is the roster-local date of now, "YYYY-MM-DD": the key under
// which the caller keeps daily counts, so caps reset at local midnight.
func (r Roster) LocalDay(now time.Time) string {
	return civilDateOf(now.In(r.Zone())).String()
}

// MemberIDs returns every member's userid, sorted and deduplicated.
func (r Roster) MemberIDs() []string {
	ids := make([]string, 0, len(r.Members))
	for _, m := range r.Members {
		if m.UserID != "" {
			ids = append(ids, m.UserID)
		}
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// Eligible returns the userids that should be on the contact way at now.
// counts holds today's adds per userid, today being LocalDay(now).
//
// A member is eligible when online, on a shift covering now and below
// their cap (counts[userid] >= DailyCap > 0 means the cap is reached).
// Only one reason is given per member, the first that applies in the
// order offline, holiday / off shift, cap, because that is the one the
// admin has to act on first. Backups are used only when no member is
// eligible; they ignore shifts and caps but a backup who is also a member
// switched offline stays off, since the switch is the staff member
// saying they cannot answer.
func (r Roster) Eligible(now time.Time, counts map[string]int) Eligibility {
	loc := r.Zone()
	today := civilDateOf(now.In(loc))
	ov := r.overrideIndex()

	e := Eligibility{Reasons: map[string]string{}}
	eligible := map[string]bool{}
	for i := range r.Members {
		m := &r.Members[i]
		if m.UserID == "" {
			continue
		}
		reason := r.ineligibility(m, now, today, loc, ov, counts)
		if reason == "" {
			eligible[m.UserID] = true
			e.Users = append(e.Users, m.UserID)
		} else {
			e.Reasons[m.UserID] = reason
		}
	}
	// A duplicated userid (only possible in an unvalidated roster) is
	// eligible if any of its entries is.
	for id := range eligible {
		delete(e.Reasons, id)
	}
	if len(e.Users) > 0 {
		slices.Sort(e.Users)
		e.Users = slices.Compact(e.Users)
		return e
	}

	offline := map[string]bool{}
	for _, m := range r.Members {
		if m.Offline {
			offline[m.UserID] = true
		}
	}
	for _, b := range r.Backups {
		if strings.TrimSpace(b) != "" && !offline[b] {
			e.Users = append(e.Users, b)
		}
	}
	if len(e.Users) == 0 {
		e.Empty = true
		return e
	}
	slices.Sort(e.Users)
	e.Users = slices.Compact(e.Users)
	e.UsingBackups = true
	return e
}

func (r Roster) ineligibility(m *RosterMember, now time.Time, today civilDate, loc *time.Location, ov overrideIndex, counts map[string]int) string {
	if m.Offline {
		return ReasonOffline
	}
	yesterday := today.add(-1)
	onDuty := false
	for _, d := range [...]civilDate{yesterday, today} {
		for _, w := range memberWindows(m, d, ov.lookup(d, m.UserID), loc) {
			if w.contains(now) {
				onDuty = true
			}
		}
	}
	if !onDuty {
		if r.holidayExplains(m, now, today, loc, ov) {
			return ReasonHoliday
		}
		return ReasonOffShift
	}
	if n := counts[m.UserID]; m.DailyCap > 0 && n >= m.DailyCap {
		return fmt.Sprintf("cap reached (%d/%d)", n, m.DailyCap)
	}
	return ""
}

// holidayExplains tells "holiday" from "off shift", so the admin sees
// that the member is off because of a date override rather than the
// weekly plan: today is a holiday for them, or yesterday was and a weekly
// shift starting yesterday would still be running.
func (r Roster) holidayExplains(m *RosterMember, now time.Time, today civilDate, loc *time.Location, ov overrideIndex) bool {
	if o := ov.lookup(today, m.UserID); o != nil && o.Off {
		return true
	}
	yesterday := today.add(-1)
	if o := ov.lookup(yesterday, m.UserID); o != nil && o.Off {
		for _, w := range memberWindows(m, yesterday, nil, loc) {
			if w.contains(now) {
				return true
			}
		}
	}
	return false
}

// NextChange returns the next instant after now at which Eligible may
// change for reasons of time alone: a shift start or end, the end of a
// shift a holiday removed (the reason changes there), or local midnight,
// which both ends override days and resets caps. It is never
// later than 25 hours after now (the longest DST day), so a scheduler
// that sleeps until NextChange also notices cap resets.
//
// Offline members still contribute their shift boundaries: waking up for
// nothing costs one evaluation, while missing a boundary after someone
// comes back online would leave the way wrong until the next one.
func (r Roster) NextChange(now time.Time) time.Time {
	loc := r.Zone()
	today := civilDateOf(now.In(loc))
	ov := r.overrideIndex()

	limit := now.Add(25 * time.Hour)
	next := limit
	consider := func(t time.Time) {
		if t.After(now) && t.Before(next) {
			next = t
		}
	}
	// Two midnights, in case a zone's first instant of tomorrow
	// normalizes to before now (a zone skipping midnight).
	consider(today.add(1).at(0, loc))
	consider(today.add(2).at(0, loc))
	for i := range r.Members {
		m := &r.Members[i]
		for _, d := range [...]civilDate{today.add(-1), today, today.add(1)} {
			o := ov.lookup(d, m.UserID)
			for _, w := range memberWindows(m, d, o, loc) {
				consider(w.start)
				consider(w.end)
			}
			// A holiday that removed a shift crossing midnight still
			// explains the absence until that shift would have ended; there
			// the reason turns from "holiday" to "off shift".
			if o != nil && o.Off {
				dayEnd := d.add(1).at(0, loc)
				for _, w := range memberWindows(m, d, nil, loc) {
					if w.end.After(dayEnd) {
						consider(w.end)
					}
				}
			}
		}
	}
	return next.In(loc)
}

// Validate checks a roster before it is stored. It returns a
// *ValidationError, or errors.Join of several, each naming the field at
// fault as a path such as "roster.members[2].shifts[0].start", so the
// admin UI can point at every problem at once.
func (r Roster) Validate() error {
	var errs []error
	fail := func(field, format string, args ...any) {
		errs = append(errs, &apierr.ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)})
	}

	if _, err := r.Location(); err != nil {
		fail("roster.time_zone", "must be a known IANA time zone such as Asia/Shanghai")
	}
	switch {
	case len(r.Members) == 0:
		fail("roster.members", "must list at least one member")
	case len(r.Members) > MaxRosterMembers:
		fail("roster.members", "must list at most %d members (WeCom's limit per contact way)", MaxRosterMembers)
	}

	firstAt := map[string]int{}
	for i, m := range r.Members {
		p := fmt.Sprintf("roster.members[%d]", i)
		switch j, dup := firstAt[m.UserID]; {
		case strings.TrimSpace(m.UserID) == "":
			fail(p+".userid", "must not be empty")
		case dup:
			fail(p+".userid", "%q is already members[%d]", m.UserID, j)
		default:
			firstAt[m.UserID] = i
		}
		for k, s := range m.Shifts {
			validateShift(fail, fmt.Sprintf("%s.shifts[%d]", p, k), s, true)
		}
		if m.DailyCap < 0 {
			fail(p+".daily_cap", "must be 0 (no cap) or more")
		}
		if m.Weight < 0 {
			fail(p+".weight", "must be 0 (meaning 1) or more")
		}
	}

	for i, b := range r.Backups {
		if strings.TrimSpace(b) == "" {
			fail(fmt.Sprintf("roster.backups[%d]", i), "must not be empty")
		}
	}

	// Which override already covers a date for everyone, and for each
	// listed member, to reject pairs whose precedence would be arbitrary.
	forAll := map[string]int{}
	forUser := map[[2]string]int{}
	for i, o := range r.Overrides {
		p := fmt.Sprintf("roster.overrides[%d]", i)
		if _, err := parseCivilDate(o.Date); err != nil {
			fail(p+".date", "must be a date YYYY-MM-DD")
		} else if len(o.UserIDs) == 0 {
			if j, dup := forAll[o.Date]; dup {
				fail(p+".date", "overrides[%d] already applies to all members on %s", j, o.Date)
			} else {
				forAll[o.Date] = i
			}
		}
		for k, u := range o.UserIDs {
			f := fmt.Sprintf("%s.userids[%d]", p, k)
			key := [2]string{o.Date, u}
			_, member := firstAt[u]
			j, dup := forUser[key]
			switch {
			case !member:
				fail(f, "%q is not a member of this roster", u)
			case dup && j == i:
				fail(f, "%q is listed twice", u)
			case dup:
				fail(f, "%q already has overrides[%d] on %s", u, j, o.Date)
			default:
				forUser[key] = i
			}
		}
		switch {
		case o.Off && len(o.Shifts) > 0:
			fail(p+".shifts", "must be empty when off is set")
		case !o.Off && len(o.Shifts) == 0:
			fail(p+".shifts", "must list at least one shift unless off is set")
		}
		for k, s := range o.Shifts {
			validateShift(fail, fmt.Sprintf("%s.shifts[%d]", p, k), s, false)
		}
	}

	switch len(errs) {
	case 0:
		return nil
	case 1:
		return errs[0]
	}
	return errors.Join(errs...)
}

func validateShift(fail func(field, format string, args ...any), p string, s Shift, weekly bool) {
	if _, ok := ParseClock(s.Start, false); !ok {
		fail(p+".start", "must be a time HH:MM from 00:00 to 23:59")
	}
	if _, ok := ParseClock(s.End, true); !ok {
		fail(p+".end", "must be a time HH:MM from 00:00 to 24:00")
	}
	if !weekly {
		return
	}
	if len(s.Weekdays) == 0 {
		fail(p+".weekdays", "must list at least one weekday (0=Sunday … 6=Saturday)")
	}
	for k, wd := range s.Weekdays {
		if wd < 0 || wd > 6 {
			fail(fmt.Sprintf("%s.weekdays[%d]", p, k), "must be 0 (Sunday) to 6 (Saturday)")
		}
	}
}

// Strategy is how the precise mode picks the one staff member whose own
// code a landing page shows.
type Strategy string

// Precise-mode strategies.
const (
	StrategyRoundRobin  Strategy = "round_robin"
	StrategyLeastLoaded Strategy = "least_loaded"
	StrategyWeighted    Strategy = "weighted"
)

// ValidStrategy reports whether s names a Strategy.
func ValidStrategy(s string) bool {
	switch Strategy(s) {
	case StrategyRoundRobin, StrategyLeastLoaded, StrategyWeighted:
		return true
	}
	return false
}

// Pick chooses one userid from e.Users, or "" when there is none.
//
// Every strategy is a function of its arguments only, so replicas that
// read the same counts and last pick agree without coordinating:
//   - round_robin continues after last in sorted order and wraps around;
//     when last has left the eligible set it still marks the position, so
//     nobody is skipped or picked twice in a row because of it.
//   - least_loaded takes the smallest count today, ties by userid.
//   - weighted is smooth weighted round robin driven by counts: it takes
//     the user minimising (count+1)/weight, ties by userid, so over a day
//     the counts converge to the weights without any stored state.
//     Weights of 0 or less, and backups who are not members, count as 1.
//
// An unknown strategy picks as round_robin rather than nobody, because a
// landing page with no staff loses the customer.
func (r Roster) Pick(s Strategy, e Eligibility, counts map[string]int, last string) string {
	users := make([]string, 0, len(e.Users))
	for _, u := range e.Users {
		if u != "" {
			users = append(users, u)
		}
	}
	if len(users) == 0 {
		return ""
	}
	slices.Sort(users)
	users = slices.Compact(users)

	switch s {
	case StrategyLeastLoaded:
		best := users[0]
		for _, u := range users[1:] {
			if counts[u] < counts[best] {
				best = u
			}
		}
		return best
	case StrategyWeighted:
		weight := map[string]int{}
		for _, m := range r.Members {
			weight[m.UserID] = m.Weight
		}
		w := func(u string) int64 {
			if x := weight[u]; x > 0 {
				return int64(x)
			}
			return 1
		}
		best := users[0]
		for _, u := range users[1:] {
			// (cu+1)/wu < (cb+1)/wb without floating point, so ties are
			// exact and the order is the same on every replica.
			if int64(counts[u]+1)*w(best) < int64(counts[best]+1)*w(u) {
				best = u
			}
		}
		return best
	default:
		i, found := slices.BinarySearch(users, last)
		if found {
			i++
		}
		if i == len(users) {
			i = 0
		}
		return users[i]
	}
}

// overrideIndex resolves the override for a (date, member) once per call
// instead of scanning the list for every member and day.
type overrideIndex struct {
	all  map[string]*DateOverride
	user map[[2]string]*DateOverride
}

func (r Roster) overrideIndex() overrideIndex {
	ix := overrideIndex{all: map[string]*DateOverride{}, user: map[[2]string]*DateOverride{}}
	for i := range r.Overrides {
		o := &r.Overrides[i]
		if len(o.UserIDs) == 0 {
			ix.all[o.Date] = o
		}
		for _, u := range o.UserIDs {
			ix.user[[2]string{o.Date, u}] = o
		}
	}
	return ix
}

func (ix overrideIndex) lookup(d civilDate, userID string) *DateOverride {
	key := d.String()
	if o := ix.user[[2]string{key, userID}]; o != nil {
		return o
	}
	return ix.all[key]
}

// dutyWindow is a half-open interval of real time [start, end).
type dutyWindow struct{ start, end time.Time }

func (w dutyWindow) contains(t time.Time) bool { return !t.Before(w.start) && t.Before(w.end) }

// memberWindows lists the windows of m's shifts that start on day d, with
// the override for that day (nil for none) already applied. Malformed
// times and weekdays are skipped rather than guessed at; Validate reports
// them.
func memberWindows(m *RosterMember, d civilDate, o *DateOverride, loc *time.Location) []dutyWindow {
	var shifts []Shift
	switch {
	case o != nil && o.Off:
		return nil
	case o != nil:
		shifts = o.Shifts
	case len(m.Shifts) == 0:
		return []dutyWindow{{d.at(0, loc), d.add(1).at(0, loc)}}
	default:
		wd := int(d.weekday())
		for _, s := range m.Shifts {
			if slices.Contains(s.Weekdays, wd) {
				shifts = append(shifts, s)
			}
		}
	}
	var ws []dutyWindow
	for _, s := range shifts {
		start, ok1 := ParseClock(s.Start, false)
		end, ok2 := ParseClock(s.End, true)
		if !ok1 || !ok2 {
			continue
		}
		endDay := d
		if end <= start {
			endDay = d.add(1)
		}
		w := dutyWindow{d.at(start, loc), endDay.at(end, loc)}
		// A shift lying wholly inside a spring-forward gap has no real
		// time; keep it out so it cannot yield a boundary either.
		if w.start.Before(w.end) {
			ws = append(ws, w)
		}
	}
	return ws
}

// ParseClock reads "HH:MM" as minutes after midnight; "24:00" only when
// allow24 (an end of day). Exactly two digits each, so "9:00" and "09:00:00"
// are refused instead of half-understood. Shifts, welcome variants and tag
// rules' windows all read their times with it.
func ParseClock(s string, allow24 bool) (int, bool) {
	if len(s) != 5 || s[2] != ':' {
		return 0, false
	}
	for _, i := range [...]int{0, 1, 3, 4} {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	switch {
	case h == 24 && m == 0 && allow24:
		return 24 * 60, true
	case h > 23 || m > 59:
		return 0, false
	}
	return h*60 + m, true
}

// civilDate is a calendar date. Arithmetic on it goes through UTC, where every
// day has 24 hours, so adding days never lands on the wrong date the way
// adding 24h to a local time can across DST.
type civilDate struct {
	y int
	m time.Month
	d int
}

func civilDateOf(t time.Time) civilDate {
	y, m, d := t.Date()
	return civilDate{y, m, d}
}

func parseCivilDate(s string) (civilDate, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return civilDate{}, err
	}
	return civilDateOf(t), nil
}

func (d civilDate) add(days int) civilDate {
	return civilDateOf(time.Date(d.y, d.m, d.d+days, 0, 0, 0, 0, time.UTC))
}

func (d civilDate) weekday() time.Weekday {
	return time.Date(d.y, d.m, d.d, 0, 0, 0, 0, time.UTC).Weekday()
}

func (d civilDate) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.y, d.m, d.d)
}

// at returns the instant at which the wall clock in loc shows minute
// (0..1440) of day d.
//
// time.Date is not used directly because it does not promise which of
// the two readings it takes for a skipped or repeated wall time, and in
// practice it differs by zone (02:30 on New York's spring-forward day
// comes back as 01:30 EST, on Berlin's as 03:30 CEST). RFC 5545's rule is
// applied instead: a repeated time means its first occurrence and a
// skipped time is read with the offset in effect before the gap.
func (d civilDate) at(minute int, loc *time.Location) time.Time {
	naive := time.Date(d.y, d.m, d.d, 0, minute, 0, 0, time.UTC)
	var first, latest time.Time
	// Every offset the zone uses within a day and a bit of the wall time;
	// real zones change offset at most once in that span.
	for _, probe := range [...]time.Duration{-30 * time.Hour, -15 * time.Hour, 0, 15 * time.Hour, 30 * time.Hour} {
		_, offset := naive.Add(probe).In(loc).Zone()
		c := naive.Add(-time.Duration(offset) * time.Second)
		if _, got := c.In(loc).Zone(); got == offset {
			if first.IsZero() || c.Before(first) {
				first = c
			}
		}
		if latest.IsZero() || c.After(latest) {
			latest = c
		}
	}
	if !first.IsZero() {
		return first.In(loc)
	}
	// In a gap the offset before it is the smaller one, which gives the
	// later instant.
	return latest.In(loc)
}
