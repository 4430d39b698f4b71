package livecode_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/livecode"
)

func rosterZone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// rosterAt parses an RFC 3339 instant; DST cases spell out the offset so the
// test says which of two equal wall times it means.
func rosterAt(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func rosterDays(days ...time.Weekday) []int {
	out := make([]int, len(days))
	for i, d := range days {
		out[i] = int(d)
	}
	return out
}

var rosterWeekdays = rosterDays(time.Monday, time.Tuesday, time.Wednesday, time.Thursday, time.Friday)

func rosterShift(days []int, start, end string) livecode.Shift {
	return livecode.Shift{Weekdays: days, Start: start, End: end}
}

type rosterCase struct {
	name    string
	roster  livecode.Roster
	now     string // RFC 3339
	counts  map[string]int
	users   []string
	reasons map[string]string
	backups bool
	empty   bool
}

func runRosterCases(t *testing.T, cases []rosterCase) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.roster.Eligible(rosterAt(t, c.now), c.counts)
			if !slices.Equal(got.Users, c.users) {
				t.Errorf("Users = %q, want %q", got.Users, c.users)
			}
			want := c.reasons
			if want == nil {
				want = map[string]string{}
			}
			if !maps.Equal(got.Reasons, want) {
				t.Errorf("Reasons = %v, want %v", got.Reasons, want)
			}
			if got.UsingBackups != c.backups || got.Empty != c.empty {
				t.Errorf("UsingBackups, Empty = %v, %v; want %v, %v", got.UsingBackups, got.Empty, c.backups, c.empty)
			}
		})
	}
}

// 2026-03-02 is a Monday; Shanghai has no DST, so these cases isolate
// weekday and minute boundaries.
func TestShiftWeekdayAndMinuteBoundaries(t *testing.T) {
	office := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "17:00")}}}}
	on := []string{"a"}
	off := map[string]string{"a": livecode.ReasonOffShift}
	runRosterCases(t, []rosterCase{
		{name: "Mon 08:59:59", roster: office, now: "2026-03-02T08:59:59+08:00", reasons: off, empty: true},
		{name: "Mon 08:59:59.999", roster: office, now: "2026-03-02T08:59:59.999999999+08:00", reasons: off, empty: true},
		{name: "Mon 09:00 start inclusive", roster: office, now: "2026-03-02T09:00:00+08:00", users: on},
		{name: "Mon 16:59:59.999", roster: office, now: "2026-03-02T16:59:59.999+08:00", users: on},
		{name: "Mon 17:00 end exclusive", roster: office, now: "2026-03-02T17:00:00+08:00", reasons: off, empty: true},
		{name: "Fri 12:00", roster: office, now: "2026-03-06T12:00:00+08:00", users: on},
		{name: "Sat 12:00", roster: office, now: "2026-03-07T12:00:00+08:00", reasons: off, empty: true},
		{name: "Sun 12:00", roster: office, now: "2026-03-08T12:00:00+08:00", reasons: off, empty: true},
		{name: "instant given in UTC", roster: office, now: "2026-03-02T01:00:00Z", users: on},
		{name: "UTC instant that is Saturday in Shanghai", roster: office, now: "2026-03-06T16:30:00Z", reasons: off, empty: true},
		{name: "explicit zone", roster: livecode.Roster{TimeZone: "Asia/Shanghai", Members: office.Members}, now: "2026-03-02T09:00:00+08:00", users: on},
		{name: "no shifts means always", roster: livecode.Roster{Members: []livecode.RosterMember{{UserID: "a"}}}, now: "2026-03-08T03:17:00+08:00", users: on},
	})
}

func TestShiftCrossingMidnightAndWholeDay(t *testing.T) {
	one := func(s ...livecode.Shift) livecode.Roster {
		return livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Shifts: s}}}
	}
	night := one(rosterShift(rosterDays(time.Saturday), "22:00", "02:00"))
	sundayNight := one(rosterShift(rosterDays(time.Sunday), "22:00", "06:00"))
	day24 := one(rosterShift(rosterDays(time.Monday), "08:00", "08:00"))
	wholeWed := one(rosterShift(rosterDays(time.Wednesday), "00:00", "24:00"))
	zeroZero := one(rosterShift(rosterDays(time.Wednesday), "00:00", "00:00"))
	on := []string{"a"}
	off := map[string]string{"a": livecode.ReasonOffShift}
	runRosterCases(t, []rosterCase{
		{name: "Sat 21:59", roster: night, now: "2026-03-07T21:59:59+08:00", reasons: off, empty: true},
		{name: "Sat 22:00", roster: night, now: "2026-03-07T22:00:00+08:00", users: on},
		{name: "Sat 23:59:59", roster: night, now: "2026-03-07T23:59:59+08:00", users: on},
		{name: "Sun 00:00 tail", roster: night, now: "2026-03-08T00:00:00+08:00", users: on},
		{name: "Sun 01:59:59 tail", roster: night, now: "2026-03-08T01:59:59+08:00", users: on},
		{name: "Sun 02:00 end", roster: night, now: "2026-03-08T02:00:00+08:00", reasons: off, empty: true},
		{name: "Sun 22:00 is not Saturday", roster: night, now: "2026-03-08T22:00:00+08:00", reasons: off, empty: true},
		{name: "Sat 01:00 is Friday's night", roster: night, now: "2026-03-07T01:00:00+08:00", reasons: off, empty: true},
		{name: "Sun night into Mon (week wrap)", roster: sundayNight, now: "2026-03-09T05:59:59+08:00", users: on},
		{name: "Sun night ends Mon 06:00", roster: sundayNight, now: "2026-03-09T06:00:00+08:00", reasons: off, empty: true},
		{name: "Sun night before the week's first Sunday", roster: sundayNight, now: "2026-03-02T03:00:00+08:00", users: on},
		{name: "Start==End Mon 07:59 before", roster: day24, now: "2026-03-02T07:59:59+08:00", reasons: off, empty: true},
		{name: "Start==End Mon 08:00", roster: day24, now: "2026-03-02T08:00:00+08:00", users: on},
		{name: "Start==End Tue 07:59:59", roster: day24, now: "2026-03-03T07:59:59+08:00", users: on},
		{name: "Start==End Tue 08:00", roster: day24, now: "2026-03-03T08:00:00+08:00", reasons: off, empty: true},
		{name: "whole day Tue 23:59:59", roster: wholeWed, now: "2026-03-03T23:59:59+08:00", reasons: off, empty: true},
		{name: "whole day Wed 00:00", roster: wholeWed, now: "2026-03-04T00:00:00+08:00", users: on},
		{name: "whole day Wed 23:59:59", roster: wholeWed, now: "2026-03-04T23:59:59+08:00", users: on},
		{name: "whole day Thu 00:00", roster: wholeWed, now: "2026-03-05T00:00:00+08:00", reasons: off, empty: true},
		{name: "00:00-00:00 Wed 23:59:59", roster: zeroZero, now: "2026-03-04T23:59:59+08:00", users: on},
		{name: "00:00-00:00 Thu 00:00", roster: zeroZero, now: "2026-03-05T00:00:00+08:00", reasons: off, empty: true},
	})
}

func TestRosterOverrides(t *testing.T) {
	mon := rosterDays(time.Monday)
	members := func(ms ...livecode.RosterMember) []livecode.RosterMember { return ms }
	nightMon := livecode.RosterMember{UserID: "a", Shifts: []livecode.Shift{rosterShift(mon, "22:00", "02:00")}}
	nightDaily := livecode.RosterMember{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterDays(0, 1, 2, 3, 4, 5, 6), "22:00", "02:00")}}
	office := func(id string) livecode.RosterMember {
		return livecode.RosterMember{UserID: id, Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "17:00")}}
	}
	holiday := func(date string, ids ...string) livecode.DateOverride {
		return livecode.DateOverride{Date: date, UserIDs: ids, Off: true}
	}
	replace := func(date string, ids []string, s ...livecode.Shift) livecode.DateOverride {
		return livecode.DateOverride{Date: date, UserIDs: ids, Shifts: s}
	}
	hol := map[string]string{"a": livecode.ReasonHoliday}
	offShift := map[string]string{"a": livecode.ReasonOffShift}
	runRosterCases(t, []rosterCase{
		{
			name:   "holiday for all members",
			roster: livecode.Roster{Members: members(office("a"), office("b")), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-02T10:00:00+08:00", reasons: map[string]string{"a": "holiday", "b": "holiday"}, empty: true,
		},
		{
			name:   "holiday is one date only",
			roster: livecode.Roster{Members: members(office("a")), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-03T10:00:00+08:00", users: []string{"a"},
		},
		{
			name:   "holiday outside shift hours still says holiday",
			roster: livecode.Roster{Members: members(office("a")), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-02T20:00:00+08:00", reasons: hol, empty: true,
		},
		{
			name:   "holiday on the next day keeps the tail of a midnight shift",
			roster: livecode.Roster{Members: members(nightMon), Overrides: []livecode.DateOverride{holiday("2026-03-03")}},
			now:    "2026-03-03T01:00:00+08:00", users: []string{"a"},
		},
		{
			name:   "holiday on the next day blocks that day's own shift",
			roster: livecode.Roster{Members: members(nightDaily), Overrides: []livecode.DateOverride{holiday("2026-03-03")}},
			now:    "2026-03-03T23:00:00+08:00", reasons: hol, empty: true,
		},
		{
			name:   "holiday on the start day removes the whole shift: evening",
			roster: livecode.Roster{Members: members(nightMon), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-02T23:00:00+08:00", reasons: hol, empty: true,
		},
		{
			name:   "holiday on the start day removes the whole shift: tail",
			roster: livecode.Roster{Members: members(nightMon), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-03T01:00:00+08:00", reasons: hol, empty: true,
		},
		{
			name:   "after the removed tail it is just off shift",
			roster: livecode.Roster{Members: members(nightMon), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-03T03:00:00+08:00", reasons: offShift, empty: true,
		},
		{
			name:   "replacement window: outside",
			roster: livecode.Roster{Members: members(office("a")), Overrides: []livecode.DateOverride{replace("2026-03-02", nil, rosterShift(nil, "12:00", "14:00"))}},
			now:    "2026-03-02T10:00:00+08:00", reasons: offShift, empty: true,
		},
		{
			name:   "replacement window: start",
			roster: livecode.Roster{Members: members(office("a")), Overrides: []livecode.DateOverride{replace("2026-03-02", nil, rosterShift(nil, "12:00", "14:00"))}},
			now:    "2026-03-02T12:00:00+08:00", users: []string{"a"},
		},
		{
			name:   "replacement window: end exclusive",
			roster: livecode.Roster{Members: members(office("a")), Overrides: []livecode.DateOverride{replace("2026-03-02", nil, rosterShift(nil, "12:00", "14:00"))}},
			now:    "2026-03-02T14:00:00+08:00", reasons: offShift, empty: true,
		},
		{
			name:   "replacement on a Sunday ignores weekdays and crosses midnight",
			roster: livecode.Roster{Members: members(office("a")), Overrides: []livecode.DateOverride{replace("2026-03-08", nil, rosterShift(rosterDays(time.Tuesday), "20:00", "03:00"))}},
			now:    "2026-03-09T02:59:00+08:00", users: []string{"a"},
		},
		{
			name:   "replacement for a member without shifts",
			roster: livecode.Roster{Members: members(livecode.RosterMember{UserID: "a"}), Overrides: []livecode.DateOverride{replace("2026-03-02", nil, rosterShift(nil, "12:00", "14:00"))}},
			now:    "2026-03-02T11:00:00+08:00", reasons: offShift, empty: true,
		},
		{
			name:   "holiday for a member without shifts",
			roster: livecode.Roster{Members: members(livecode.RosterMember{UserID: "a"}), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-02T00:00:00+08:00", reasons: hol, empty: true,
		},
		{
			name:   "member without shifts is back at midnight",
			roster: livecode.Roster{Members: members(livecode.RosterMember{UserID: "a"}), Overrides: []livecode.DateOverride{holiday("2026-03-02")}},
			now:    "2026-03-03T00:00:00+08:00", users: []string{"a"},
		},
		{
			name:   "per-user holiday leaves the others",
			roster: livecode.Roster{Members: members(office("a"), office("b"), office("c")), Overrides: []livecode.DateOverride{holiday("2026-03-02", "b")}},
			now:    "2026-03-02T10:00:00+08:00", users: []string{"a", "c"}, reasons: map[string]string{"b": "holiday"},
		},
		{
			name: "per-user override beats the all-members one",
			roster: livecode.Roster{Members: members(office("a"), office("b")), Overrides: []livecode.DateOverride{
				replace("2026-03-02", []string{"a"}, rosterShift(nil, "10:00", "14:00")),
				holiday("2026-03-02"),
			}},
			now: "2026-03-02T11:00:00+08:00", users: []string{"a"}, reasons: map[string]string{"b": "holiday"},
		},
		{
			name: "replacement on the day after a midnight shift keeps the tail",
			roster: livecode.Roster{Members: members(livecode.RosterMember{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterDays(1, 2), "22:00", "02:00")}}),
				Overrides: []livecode.DateOverride{replace("2026-03-03", nil, rosterShift(nil, "10:00", "12:00"))}},
			now: "2026-03-03T01:00:00+08:00", users: []string{"a"},
		},
		{
			name: "replacement on the day after a midnight shift: its window",
			roster: livecode.Roster{Members: members(livecode.RosterMember{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterDays(1, 2), "22:00", "02:00")}}),
				Overrides: []livecode.DateOverride{replace("2026-03-03", nil, rosterShift(nil, "10:00", "12:00"))}},
			now: "2026-03-03T11:00:00+08:00", users: []string{"a"},
		},
		{
			name: "replacement on the day after a midnight shift drops that day's own",
			roster: livecode.Roster{Members: members(livecode.RosterMember{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterDays(1, 2), "22:00", "02:00")}}),
				Overrides: []livecode.DateOverride{replace("2026-03-03", nil, rosterShift(nil, "10:00", "12:00"))}},
			now: "2026-03-03T23:00:00+08:00", reasons: offShift, empty: true,
		},
	})
}

func TestRosterCapsOfflineAndBackups(t *testing.T) {
	always := func(id string, capacity int) livecode.RosterMember {
		return livecode.RosterMember{UserID: id, DailyCap: capacity}
	}
	office := livecode.RosterMember{UserID: "o", Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "17:00")}}
	const mon10 = "2026-03-02T10:00:00+08:00"
	const mon20 = "2026-03-02T20:00:00+08:00"
	runRosterCases(t, []rosterCase{
		{name: "below cap", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 30)}}, now: mon10, counts: map[string]int{"a": 29}, users: []string{"a"}},
		{name: "cap reached", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 30)}}, now: mon10, counts: map[string]int{"a": 30},
			reasons: map[string]string{"a": "cap reached (30/30)"}, empty: true},
		{name: "over cap", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 30)}}, now: mon10, counts: map[string]int{"a": 31},
			reasons: map[string]string{"a": "cap reached (31/30)"}, empty: true},
		{name: "cap 0 is no cap", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 0)}}, now: mon10, counts: map[string]int{"a": 100000}, users: []string{"a"}},
		{name: "nil counts", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 1)}}, now: mon10, users: []string{"a"}},
		{name: "cap 1", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 1), always("b", 1)}}, now: mon10, counts: map[string]int{"a": 1},
			users: []string{"b"}, reasons: map[string]string{"a": "cap reached (1/1)"}},
		{name: "offline", roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 0), {UserID: "b", Offline: true}}}, now: mon10,
			users: []string{"a"}, reasons: map[string]string{"b": "offline"}},
		{name: "offline is reported before off shift and cap", roster: livecode.Roster{Members: []livecode.RosterMember{{UserID: "o", Offline: true, DailyCap: 1, Shifts: office.Shifts}}},
			now: mon20, counts: map[string]int{"o": 5}, reasons: map[string]string{"o": "offline"}, empty: true},
		{name: "off shift is reported before cap", roster: livecode.Roster{Members: []livecode.RosterMember{{UserID: "o", DailyCap: 1, Shifts: office.Shifts}}},
			now: mon20, counts: map[string]int{"o": 5}, reasons: map[string]string{"o": "off shift"}, empty: true},
		{name: "users sorted", roster: livecode.Roster{Members: []livecode.RosterMember{always("zed", 0), always("amy", 0), always("Bob", 0)}}, now: mon10,
			users: []string{"Bob", "amy", "zed"}},
		{
			name: "everyone offline: backups, sorted and deduplicated",
			roster: livecode.Roster{
				Members: []livecode.RosterMember{{UserID: "a", Offline: true}, {UserID: "b", Offline: true}},
				Backups: []string{"z", "boss", "z"},
			},
			now: mon10, users: []string{"boss", "z"}, backups: true, reasons: map[string]string{"a": "offline", "b": "offline"},
		},
		{
			name: "backups ignore shifts and caps but not the offline switch",
			roster: livecode.Roster{
				Members: []livecode.RosterMember{{UserID: "a", Offline: true}, {UserID: "c", DailyCap: 2}, office},
				Backups: []string{"a", "c", "o", "x"},
			},
			now: mon20, counts: map[string]int{"c": 2},
			users: []string{"c", "o", "x"}, backups: true,
			reasons: map[string]string{"a": "offline", "c": "cap reached (2/2)", "o": "off shift"},
		},
		{
			name:   "backups are not used while a member is eligible",
			roster: livecode.Roster{Members: []livecode.RosterMember{always("a", 0), {UserID: "b", Offline: true}}, Backups: []string{"x"}},
			now:    mon10, users: []string{"a"}, reasons: map[string]string{"b": "offline"},
		},
		{
			name:   "no backups: empty with reasons",
			roster: livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Offline: true}, office}},
			now:    mon20, empty: true, reasons: map[string]string{"a": "offline", "o": "off shift"},
		},
		{
			name:   "only backup is offline: empty",
			roster: livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Offline: true}}, Backups: []string{"a", " "}},
			now:    mon10, empty: true, reasons: map[string]string{"a": "offline"},
		},
	})
}

// Wall-clock shifts on DST days. The expected instants spell out their
// offsets; the comments give the rule that produced them.
func TestShiftDST(t *testing.T) {
	ny := func(days []int, start, end string) livecode.Roster {
		return livecode.Roster{TimeZone: "America/New_York", Members: []livecode.RosterMember{{UserID: "a", Shifts: []livecode.Shift{rosterShift(days, start, end)}}}}
	}
	berlin := func(days []int, start, end string) livecode.Roster {
		r := ny(days, start, end)
		r.TimeZone = "Europe/Berlin"
		return r
	}
	sun, sat := rosterDays(time.Sunday), rosterDays(time.Saturday)
	on := []string{"a"}
	off := map[string]string{"a": livecode.ReasonOffShift}
	runRosterCases(t, []rosterCase{
		// New York, 2026-03-08: 02:00 EST jumps to 03:00 EDT.
		{name: "NY spring 01:00-03:00 before", roster: ny(sun, "01:00", "03:00"), now: "2026-03-08T00:59:59-05:00", reasons: off, empty: true},
		{name: "NY spring 01:00-03:00 start", roster: ny(sun, "01:00", "03:00"), now: "2026-03-08T01:00:00-05:00", users: on},
		{name: "NY spring 01:00-03:00 last second", roster: ny(sun, "01:00", "03:00"), now: "2026-03-08T01:59:59-05:00", users: on},
		{name: "NY spring 01:00-03:00 end after one real hour", roster: ny(sun, "01:00", "03:00"), now: "2026-03-08T03:00:00-04:00", reasons: off, empty: true},
		// 02:30 does not exist; read with EST it is 03:30 EDT, so the shift
		// does not start an hour early at 01:30 EST.
		{name: "NY spring 02:30 start: not at 01:30 EST", roster: ny(sun, "02:30", "04:00"), now: "2026-03-08T01:30:00-05:00", reasons: off, empty: true},
		{name: "NY spring 02:30 start: not at 03:29 EDT", roster: ny(sun, "02:30", "04:00"), now: "2026-03-08T03:29:59-04:00", reasons: off, empty: true},
		{name: "NY spring 02:30 start: 03:30 EDT", roster: ny(sun, "02:30", "04:00"), now: "2026-03-08T03:30:00-04:00", users: on},
		{name: "NY spring 02:30 start: ends 04:00 EDT", roster: ny(sun, "02:30", "04:00"), now: "2026-03-08T04:00:00-04:00", reasons: off, empty: true},
		{name: "NY spring day shift 08:59:59 EDT", roster: ny(sun, "09:00", "17:00"), now: "2026-03-08T08:59:59-04:00", reasons: off, empty: true},
		{name: "NY spring day shift 09:00 EDT", roster: ny(sun, "09:00", "17:00"), now: "2026-03-08T09:00:00-04:00", users: on},
		{name: "NY spring day shift 17:00 EDT", roster: ny(sun, "09:00", "17:00"), now: "2026-03-08T17:00:00-04:00", reasons: off, empty: true},
		{name: "NY spring night over the gap 05:59 EDT", roster: ny(sat, "22:00", "06:00"), now: "2026-03-08T05:59:59-04:00", users: on},
		{name: "NY spring night over the gap 06:00 EDT", roster: ny(sat, "22:00", "06:00"), now: "2026-03-08T06:00:00-04:00", reasons: off, empty: true},

		// New York, 2026-11-01: 02:00 EDT falls back to 01:00 EST, so 01:xx
		// happens twice; a wall time means its first occurrence.
		{name: "NY fall 01:00-01:30 first pass", roster: ny(sun, "01:00", "01:30"), now: "2026-11-01T01:15:00-04:00", users: on},
		{name: "NY fall 01:00-01:30 second pass", roster: ny(sun, "01:00", "01:30"), now: "2026-11-01T01:15:00-05:00", reasons: off, empty: true},
		{name: "NY fall 01:00-02:00 first pass", roster: ny(sun, "01:00", "02:00"), now: "2026-11-01T01:00:00-04:00", users: on},
		{name: "NY fall 01:00-02:00 second pass", roster: ny(sun, "01:00", "02:00"), now: "2026-11-01T01:59:59-05:00", users: on},
		{name: "NY fall 01:00-02:00 end", roster: ny(sun, "01:00", "02:00"), now: "2026-11-01T02:00:00-05:00", reasons: off, empty: true},
		{name: "NY fall 00:00-03:00 covers the repeat", roster: ny(sun, "00:00", "03:00"), now: "2026-11-01T02:59:59-05:00", users: on},
		{name: "NY fall day shift 09:00 EST", roster: ny(sun, "09:00", "17:00"), now: "2026-11-01T09:00:00-05:00", users: on},
		{name: "NY fall day shift 08:59:59 EST", roster: ny(sun, "09:00", "17:00"), now: "2026-11-01T08:59:59-05:00", reasons: off, empty: true},
		{name: "NY fall day shift 16:59:59 EST", roster: ny(sun, "09:00", "17:00"), now: "2026-11-01T16:59:59-05:00", users: on},

		// Berlin, 2026-03-29: 02:00 CET jumps to 03:00 CEST.
		{name: "Berlin spring shift inside the gap never runs (01:59 CET)", roster: berlin(sun, "02:00", "03:00"), now: "2026-03-29T01:59:59+01:00", reasons: off, empty: true},
		{name: "Berlin spring shift inside the gap never runs (03:00 CEST)", roster: berlin(sun, "02:00", "03:00"), now: "2026-03-29T03:00:00+02:00", reasons: off, empty: true},
		{name: "Berlin spring 02:30 start is 03:30 CEST: before", roster: berlin(sun, "02:30", "06:00"), now: "2026-03-29T03:29:59+02:00", reasons: off, empty: true},
		{name: "Berlin spring 02:30 start is 03:30 CEST", roster: berlin(sun, "02:30", "06:00"), now: "2026-03-29T03:30:00+02:00", users: on},
		{name: "Berlin spring night over the gap", roster: berlin(sat, "23:00", "04:00"), now: "2026-03-29T03:59:59+02:00", users: on},
		{name: "Berlin spring night over the gap ends", roster: berlin(sat, "23:00", "04:00"), now: "2026-03-29T04:00:00+02:00", reasons: off, empty: true},

		// Berlin, 2026-10-25: 03:00 CEST falls back to 02:00 CET. time.Date
		// would read 02:00 here as the second pass (CET); the first is meant.
		{name: "Berlin fall 02:00-02:30 first pass", roster: berlin(sun, "02:00", "02:30"), now: "2026-10-25T02:00:00+02:00", users: on},
		{name: "Berlin fall 02:00-02:30 first pass end", roster: berlin(sun, "02:00", "02:30"), now: "2026-10-25T02:30:00+02:00", reasons: off, empty: true},
		{name: "Berlin fall 02:00-02:30 second pass", roster: berlin(sun, "02:00", "02:30"), now: "2026-10-25T02:15:00+01:00", reasons: off, empty: true},
		{name: "Berlin fall 01:00-03:00 second pass", roster: berlin(sun, "01:00", "03:00"), now: "2026-10-25T02:59:59+01:00", users: on},
		{name: "Berlin fall 01:00-03:00 end", roster: berlin(sun, "01:00", "03:00"), now: "2026-10-25T03:00:00+01:00", reasons: off, empty: true},
	})
}

func TestRosterLocalDayAndLocation(t *testing.T) {
	cases := []struct {
		zone, now, want string
	}{
		{"", "2026-03-01T15:59:59Z", "2026-03-01"},
		{"", "2026-03-01T16:00:00Z", "2026-03-02"},
		{"Asia/Shanghai", "2026-12-31T16:00:00Z", "2027-01-01"},
		{"America/New_York", "2026-11-01T04:59:59Z", "2026-11-01"}, // 00:59:59 EDT
		{"America/New_York", "2026-11-02T04:59:59Z", "2026-11-01"}, // 23:59:59 EST
		{"America/New_York", "2026-11-02T05:00:00Z", "2026-11-02"},
		{"Europe/Berlin", "2026-03-28T23:00:00Z", "2026-03-29"},
	}
	for _, c := range cases {
		r := livecode.Roster{TimeZone: c.zone}
		if got := r.LocalDay(rosterAt(t, c.now)); got != c.want {
			t.Errorf("zone %q LocalDay(%s) = %s, want %s", c.zone, c.now, got, c.want)
		}
	}

	loc, err := livecode.Roster{}.Location()
	if err != nil || loc.String() != "Asia/Shanghai" {
		t.Errorf("default Location = %v, %v", loc, err)
	}
	for _, bad := range []string{"Mars/Olympus", "Local"} {
		if _, err := (livecode.Roster{TimeZone: bad}).Location(); err == nil {
			t.Errorf("Location(%q) succeeded", bad)
		}
	}
}

func walkNextChange(t *testing.T, r livecode.Roster, from, until time.Time) []string {
	t.Helper()
	var got []string
	for now := from; now.Before(until); {
		next := r.NextChange(now)
		if !next.After(now) || next.Sub(now) > 25*time.Hour {
			t.Fatalf("NextChange(%s) = %s", now.Format(time.RFC3339), next.Format(time.RFC3339))
		}
		got = append(got, next.Format(time.RFC3339))
		now = next
	}
	return got
}

func TestRosterNextChangeWeekNewYorkSpringForward(t *testing.T) {
	r := livecode.Roster{
		TimeZone: "America/New_York",
		Members: []livecode.RosterMember{
			{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "17:00")}},
			// Ends at 02:00 on the change day, a wall time that does not exist.
			{UserID: "b", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Saturday), "22:00", "02:00")}},
			{UserID: "c", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Wednesday), "12:00", "12:00")}},
			{UserID: "d", Offline: true},
			{UserID: "e", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Sunday), "02:30", "04:00")}},
			// A holiday removes f's shift without leaving a boundary behind.
			{UserID: "f", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Tuesday), "10:00", "10:30")}},
			// g's Thursday night is a holiday too, but its end on Friday is
			// where g's reason turns from "holiday" to "off shift".
			{UserID: "g", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Thursday), "23:00", "01:00")}},
		},
		Overrides: []livecode.DateOverride{
			{Date: "2026-03-05", UserIDs: []string{"a"}, Shifts: []livecode.Shift{{Start: "10:00", End: "11:00"}, {Start: "13:00", End: "14:00"}}},
			{Date: "2026-03-03", Off: true, UserIDs: []string{"f"}},
			{Date: "2026-03-05", Off: true, UserIDs: []string{"g"}},
		},
	}
	loc := rosterZone(t, "America/New_York")
	got := walkNextChange(t, r, time.Date(2026, 3, 2, 0, 0, 0, 0, loc), time.Date(2026, 3, 9, 0, 0, 0, 0, loc))
	want := []string{
		"2026-03-02T09:00:00-05:00", "2026-03-02T17:00:00-05:00", "2026-03-03T00:00:00-05:00",
		"2026-03-03T09:00:00-05:00", "2026-03-03T17:00:00-05:00", "2026-03-04T00:00:00-05:00",
		"2026-03-04T09:00:00-05:00", "2026-03-04T12:00:00-05:00", "2026-03-04T17:00:00-05:00", "2026-03-05T00:00:00-05:00",
		"2026-03-05T10:00:00-05:00", "2026-03-05T11:00:00-05:00", "2026-03-05T12:00:00-05:00", "2026-03-05T13:00:00-05:00",
		"2026-03-05T14:00:00-05:00", "2026-03-06T00:00:00-05:00",
		"2026-03-06T01:00:00-05:00", "2026-03-06T09:00:00-05:00", "2026-03-06T17:00:00-05:00", "2026-03-07T00:00:00-05:00",
		"2026-03-07T22:00:00-05:00", "2026-03-08T00:00:00-05:00",
		"2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00", "2026-03-08T04:00:00-04:00", "2026-03-09T00:00:00-04:00",
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk:\n got %q\nwant %q", got, want)
	}
}

func TestRosterNextChangeWeekNewYorkFallBack(t *testing.T) {
	r := livecode.Roster{
		TimeZone: "America/New_York",
		Members: []livecode.RosterMember{
			{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Monday, time.Friday), "09:00", "17:00")}},
			{UserID: "b", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Saturday), "23:00", "01:30")}},
			{UserID: "c", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Sunday), "01:00", "02:00")}},
		},
	}
	loc := rosterZone(t, "America/New_York")
	got := walkNextChange(t, r, time.Date(2026, 10, 26, 0, 0, 0, 0, loc), time.Date(2026, 11, 2, 0, 0, 0, 0, loc))
	want := []string{
		"2026-10-26T09:00:00-04:00", "2026-10-26T17:00:00-04:00", "2026-10-27T00:00:00-04:00",
		"2026-10-28T00:00:00-04:00", "2026-10-29T00:00:00-04:00", "2026-10-30T00:00:00-04:00",
		"2026-10-30T09:00:00-04:00", "2026-10-30T17:00:00-04:00", "2026-10-31T00:00:00-04:00",
		"2026-10-31T23:00:00-04:00", "2026-11-01T00:00:00-04:00",
		"2026-11-01T01:00:00-04:00", "2026-11-01T01:30:00-04:00", "2026-11-01T02:00:00-05:00",
		"2026-11-02T00:00:00-05:00",
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk:\n got %q\nwant %q", got, want)
	}
}

func TestRosterNextChangeBerlinWeekend(t *testing.T) {
	r := livecode.Roster{
		TimeZone: "Europe/Berlin",
		Members: []livecode.RosterMember{
			{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Saturday), "23:00", "04:00")}},
			{UserID: "gap", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Sunday), "02:00", "03:00")}},
			{UserID: "late", Shifts: []livecode.Shift{rosterShift(rosterDays(time.Sunday), "02:30", "05:00")}},
		},
	}
	loc := rosterZone(t, "Europe/Berlin")
	got := walkNextChange(t, r, time.Date(2026, 3, 28, 0, 0, 0, 0, loc), time.Date(2026, 3, 30, 0, 0, 0, 0, loc))
	want := []string{
		"2026-03-28T23:00:00+01:00", "2026-03-29T00:00:00+01:00",
		"2026-03-29T03:30:00+02:00", "2026-03-29T04:00:00+02:00", "2026-03-29T05:00:00+02:00",
		"2026-03-30T00:00:00+02:00",
	}
	if !slices.Equal(got, want) {
		t.Errorf("walk:\n got %q\nwant %q", got, want)
	}
}

func TestRosterNextChangeBounds(t *testing.T) {
	always := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a"}}}
	nyAlways := livecode.Roster{TimeZone: "America/New_York", Members: always.Members}
	office := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "17:00")}}}}
	cases := []struct {
		name string
		r    livecode.Roster
		now  string
		want string
	}{
		{"midnight resets caps", always, "2026-03-02T10:00:00+08:00", "2026-03-03T00:00:00+08:00"},
		{"at midnight: the next one, 24 h later", always, "2026-03-03T00:00:00+08:00", "2026-03-04T00:00:00+08:00"},
		{"exactly at a start: strictly after", office, "2026-03-02T09:00:00+08:00", "2026-03-02T17:00:00+08:00"},
		{"one nanosecond before a start", office, "2026-03-02T08:59:59.999999999+08:00", "2026-03-02T09:00:00+08:00"},
		{"25-hour day", nyAlways, "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00"},
		{"23-hour day", nyAlways, "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00"},
		{"empty roster still wakes at midnight", livecode.Roster{}, "2026-03-02T23:59:59+08:00", "2026-03-03T00:00:00+08:00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.r.NextChange(rosterAt(t, c.now))
			if !got.Equal(rosterAt(t, c.want)) {
				t.Errorf("NextChange(%s) = %s, want %s", c.now, got.Format(time.RFC3339Nano), c.want)
			}
		})
	}
}

func validRoster() livecode.Roster {
	return livecode.Roster{
		TimeZone: "Asia/Shanghai",
		Members: []livecode.RosterMember{
			{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "24:00")}, DailyCap: 30, Weight: 2},
			{UserID: "b", Shifts: []livecode.Shift{rosterShift(rosterDays(6), "22:00", "02:00")}},
			{UserID: "c"},
		},
		Backups: []string{"boss"},
		Overrides: []livecode.DateOverride{
			{Date: "2026-10-01", Off: true},
			{Date: "2026-10-01", UserIDs: []string{"a"}, Shifts: []livecode.Shift{{Start: "10:00", End: "14:00"}}},
			{Date: "2026-10-01", UserIDs: []string{"b"}, Off: true},
			{Date: "2026-10-02", UserIDs: []string{"a"}, Off: true},
		},
	}
}

// validationFields lists the Field of every *ValidationError in err, in order.
func validationFields(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	errs := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	}
	var fields []string
	for _, e := range errs {
		var ve *apierr.ValidationError
		if !errors.As(e, &ve) {
			t.Fatalf("not a *ValidationError: %T %v", e, e)
		}
		if ve.Reason == "" {
			t.Errorf("%s: empty reason", ve.Field)
		}
		fields = append(fields, ve.Field)
	}
	return fields
}

func TestRosterValidate(t *testing.T) {
	if err := validRoster().Validate(); err != nil {
		t.Fatalf("valid roster: %v", err)
	}
	many := func(n int) []livecode.RosterMember {
		ms := make([]livecode.RosterMember, n)
		for i := range ms {
			ms[i].UserID = fmt.Sprintf("u%03d", i)
		}
		return ms
	}
	cases := []struct {
		name   string
		mutate func(r *livecode.Roster)
		fields []string
	}{
		{"default zone", func(r *livecode.Roster) { r.TimeZone = "" }, nil},
		{"DST zone", func(r *livecode.Roster) { r.TimeZone = "America/New_York" }, nil},
		{"unknown zone", func(r *livecode.Roster) { r.TimeZone = "Mars/Olympus" }, []string{"roster.time_zone"}},
		{"server-local zone", func(r *livecode.Roster) { r.TimeZone = "Local" }, []string{"roster.time_zone"}},
		{"no members", func(r *livecode.Roster) { r.Members = nil; r.Overrides = nil }, []string{"roster.members"}},
		{"100 members", func(r *livecode.Roster) { r.Members = many(100); r.Overrides = nil }, nil},
		{"101 members", func(r *livecode.Roster) { r.Members = many(101); r.Overrides = nil }, []string{"roster.members"}},
		{"empty userid", func(r *livecode.Roster) { r.Members[1].UserID = " " }, []string{"roster.members[1].userid", "roster.overrides[2].userids[0]"}},
		{"duplicate userid", func(r *livecode.Roster) { r.Members[2].UserID = "a" }, []string{"roster.members[2].userid"}},
		{"start without leading zero", func(r *livecode.Roster) { r.Members[0].Shifts[0].Start = "9:00" }, []string{"roster.members[0].shifts[0].start"}},
		{"start 24:00", func(r *livecode.Roster) { r.Members[0].Shifts[0].Start = "24:00" }, []string{"roster.members[0].shifts[0].start"}},
		{"start with seconds", func(r *livecode.Roster) { r.Members[0].Shifts[0].Start = "09:00:00" }, []string{"roster.members[0].shifts[0].start"}},
		{"start signed", func(r *livecode.Roster) { r.Members[0].Shifts[0].Start = "+9:00" }, []string{"roster.members[0].shifts[0].start"}},
		{"start minute 60", func(r *livecode.Roster) { r.Members[0].Shifts[0].Start = "12:60" }, []string{"roster.members[0].shifts[0].start"}},
		{"end 24:01", func(r *livecode.Roster) { r.Members[0].Shifts[0].End = "24:01" }, []string{"roster.members[0].shifts[0].end"}},
		{"end 25:00", func(r *livecode.Roster) { r.Members[1].Shifts[0].End = "25:00" }, []string{"roster.members[1].shifts[0].end"}},
		{"end letters", func(r *livecode.Roster) { r.Members[1].Shifts[0].End = "ab:cd" }, []string{"roster.members[1].shifts[0].end"}},
		{"end empty", func(r *livecode.Roster) { r.Members[1].Shifts[0].End = "" }, []string{"roster.members[1].shifts[0].end"}},
		{"no weekdays", func(r *livecode.Roster) { r.Members[1].Shifts[0].Weekdays = nil }, []string{"roster.members[1].shifts[0].weekdays"}},
		{"weekday 7", func(r *livecode.Roster) { r.Members[0].Shifts[0].Weekdays = []int{1, 7} }, []string{"roster.members[0].shifts[0].weekdays[1]"}},
		{"weekday -1", func(r *livecode.Roster) { r.Members[0].Shifts[0].Weekdays = []int{-1} }, []string{"roster.members[0].shifts[0].weekdays[0]"}},
		{"negative cap", func(r *livecode.Roster) { r.Members[2].DailyCap = -1 }, []string{"roster.members[2].daily_cap"}},
		{"negative weight", func(r *livecode.Roster) { r.Members[2].Weight = -1 }, []string{"roster.members[2].weight"}},
		{"impossible date", func(r *livecode.Roster) { r.Overrides[3].Date = "2026-02-30" }, []string{"roster.overrides[3].date"}},
		{"date without zero padding", func(r *livecode.Roster) { r.Overrides[3].Date = "2026-3-8" }, []string{"roster.overrides[3].date"}},
		{"date with time", func(r *livecode.Roster) { r.Overrides[3].Date = "2026-03-08T00:00:00Z" }, []string{"roster.overrides[3].date"}},
		{"override for a non-member", func(r *livecode.Roster) { r.Overrides[3].UserIDs = []string{"a", "ghost"} }, []string{"roster.overrides[3].userids[1]"}},
		{"override both off and shifts", func(r *livecode.Roster) { r.Overrides[0].Shifts = []livecode.Shift{{Start: "10:00", End: "11:00"}} }, []string{"roster.overrides[0].shifts"}},
		{"override neither off nor shifts", func(r *livecode.Roster) { r.Overrides[3].Off = false }, []string{"roster.overrides[3].shifts"}},
		{"override shift times", func(r *livecode.Roster) { r.Overrides[1].Shifts[0].End = "14:5" }, []string{"roster.overrides[1].shifts[0].end"}},
		{"override shift needs no weekdays", func(r *livecode.Roster) { r.Overrides[1].Shifts[0].Weekdays = nil }, nil},
		{"two all-member overrides on one date", func(r *livecode.Roster) {
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: "2026-10-01", Shifts: []livecode.Shift{{Start: "10:00", End: "11:00"}}})
		}, []string{"roster.overrides[4].date"}},
		{"two overrides for one member on one date", func(r *livecode.Roster) { r.Overrides[2].UserIDs = []string{"a"} }, []string{"roster.overrides[2].userids[0]"}},
		{"member listed twice in one override", func(r *livecode.Roster) { r.Overrides[3].UserIDs = []string{"a", "a"} }, []string{"roster.overrides[3].userids[1]"}},
		{"empty backup", func(r *livecode.Roster) { r.Backups = []string{"boss", ""} }, []string{"roster.backups[1]"}},
		{"several at once, in order", func(r *livecode.Roster) {
			r.TimeZone = "Nowhere"
			r.Members[0].Shifts[0].Start = "x"
			r.Members[0].Shifts[0].End = "y"
			r.Members[2].Weight = -3
			r.Backups = []string{""}
			r.Overrides[3].Date = "tomorrow"
		}, []string{
			"roster.time_zone", "roster.members[0].shifts[0].start", "roster.members[0].shifts[0].end",
			"roster.members[2].weight", "roster.backups[0]", "roster.overrides[3].date",
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := validRoster()
			c.mutate(&r)
			err := r.Validate()
			if got := validationFields(t, err); !slices.Equal(got, c.fields) {
				t.Fatalf("fields = %q, want %q (err: %v)", got, c.fields, err)
			}
			if err != nil {
				// The API layer finds the first field with errors.As.
				var ve *apierr.ValidationError
				if !errors.As(err, &ve) || ve.Field != c.fields[0] {
					t.Errorf("errors.As gives %v, want field %s", ve, c.fields[0])
				}
			}
		})
	}
}

func TestRosterMemberIDs(t *testing.T) {
	r := livecode.Roster{Members: []livecode.RosterMember{{UserID: "c"}, {UserID: "a"}, {UserID: "b"}, {UserID: "a"}, {UserID: ""}}}
	if got, want := r.MemberIDs(), []string{"a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("MemberIDs = %q, want %q", got, want)
	}
}

func TestRosterJSON(t *testing.T) {
	const doc = `{
		"time_zone": "America/New_York",
		"members": [
			{"userid": "a", "shifts": [{"weekdays": [1,2,3,4,5], "start": "09:00", "end": "17:00"}], "daily_cap": 30, "weight": 2},
			{"userid": "b", "offline": true}
		],
		"backups": ["boss"],
		"overrides": [{"date": "2026-12-25", "off": true}, {"date": "2026-12-24", "userids": ["a"], "shifts": [{"start": "09:00", "end": "12:00"}]}]
	}`
	var got livecode.Roster
	if err := json.Unmarshal([]byte(doc), &got); err != nil {
		t.Fatal(err)
	}
	want := livecode.Roster{
		TimeZone: "America/New_York",
		Members: []livecode.RosterMember{
			{UserID: "a", Shifts: []livecode.Shift{rosterShift(rosterWeekdays, "09:00", "17:00")}, DailyCap: 30, Weight: 2},
			{UserID: "b", Offline: true},
		},
		Backups: []string{"boss"},
		Overrides: []livecode.DateOverride{
			{Date: "2026-12-25", Off: true},
			{Date: "2026-12-24", UserIDs: []string{"a"}, Shifts: []livecode.Shift{{Start: "09:00", End: "12:00"}}},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decoded %+v\nwant %+v", got, want)
	}
	if err := got.Validate(); err != nil {
		t.Error(err)
	}
	out, err := json.Marshal(livecode.Roster{Members: []livecode.RosterMember{{UserID: "a"}}})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != `{"time_zone":"","members":[{"userid":"a"}]}` {
		t.Errorf("encoded %s", out)
	}
}

func TestPickStrategies(t *testing.T) {
	for _, s := range []string{"round_robin", "least_loaded", "weighted"} {
		if !livecode.ValidStrategy(s) {
			t.Errorf("ValidStrategy(%q) = false", s)
		}
	}
	for _, s := range []string{"", "random", "Round_Robin"} {
		if livecode.ValidStrategy(s) {
			t.Errorf("ValidStrategy(%q) = true", s)
		}
	}

	r := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Weight: 1}, {UserID: "b", Weight: 2}, {UserID: "c", Weight: 3}}}
	abc := livecode.Eligibility{Users: []string{"a", "b", "c"}}
	cases := []struct {
		name   string
		s      livecode.Strategy
		users  []string
		counts map[string]int
		last   string
		want   string
	}{
		{"round robin: nobody", livecode.StrategyRoundRobin, nil, nil, "a", ""},
		{"least loaded: nobody", livecode.StrategyLeastLoaded, nil, nil, "", ""},
		{"weighted: nobody", livecode.StrategyWeighted, []string{}, nil, "", ""},
		{"round robin: first ever", livecode.StrategyRoundRobin, abc.Users, nil, "", "a"},
		{"round robin: after a", livecode.StrategyRoundRobin, abc.Users, nil, "a", "b"},
		{"round robin: after b", livecode.StrategyRoundRobin, abc.Users, nil, "b", "c"},
		{"round robin: wraps", livecode.StrategyRoundRobin, abc.Users, nil, "c", "a"},
		{"round robin: last left, continue after its place", livecode.StrategyRoundRobin, []string{"a", "c"}, nil, "b", "c"},
		{"round robin: last left at the end", livecode.StrategyRoundRobin, []string{"a", "b"}, nil, "c", "a"},
		{"round robin: last sorts before everyone", livecode.StrategyRoundRobin, []string{"m", "n"}, nil, "a", "m"},
		{"round robin: single user", livecode.StrategyRoundRobin, []string{"a"}, nil, "a", "a"},
		{"round robin: unsorted input", livecode.StrategyRoundRobin, []string{"c", "a", "b"}, nil, "a", "b"},
		{"round robin ignores counts", livecode.StrategyRoundRobin, abc.Users, map[string]int{"b": 100}, "a", "b"},
		{"unknown strategy picks as round robin", livecode.Strategy("random"), abc.Users, nil, "a", "b"},
		{"least loaded: smallest", livecode.StrategyLeastLoaded, abc.Users, map[string]int{"a": 5, "b": 3, "c": 4}, "", "b"},
		{"least loaded: tie by userid", livecode.StrategyLeastLoaded, abc.Users, map[string]int{"a": 5, "b": 3, "c": 3}, "", "b"},
		{"least loaded: missing count is zero", livecode.StrategyLeastLoaded, abc.Users, map[string]int{"a": 1, "b": 1}, "", "c"},
		{"least loaded: all zero", livecode.StrategyLeastLoaded, abc.Users, nil, "c", "a"},
		{"weighted: heaviest first", livecode.StrategyWeighted, abc.Users, nil, "", "c"},
		{"weighted: (count+1)/weight", livecode.StrategyWeighted, abc.Users, map[string]int{"c": 1}, "", "b"},                   // a 1, b 1/2, c 2/3
		{"weighted: tie by userid", livecode.StrategyWeighted, abc.Users, map[string]int{"b": 1, "c": 2}, "", "a"},              // all 1
		{"weighted: non-member weighs 1", livecode.StrategyWeighted, []string{"a", "x"}, map[string]int{"a": 1}, "", "x"},       // a 2, x 1
		{"weighted: tie with non-member by userid", livecode.StrategyWeighted, []string{"x", "a"}, nil, "", "a"},                // both 1
		{"weighted: only eligible users count", livecode.StrategyWeighted, []string{"a", "b"}, map[string]int{"b": 1}, "", "a"}, // a 1, b 1
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := r.Pick(c.s, livecode.Eligibility{Users: c.users}, c.counts, c.last); got != c.want {
				t.Errorf("Pick = %q, want %q", got, c.want)
			}
		})
	}

	zero := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a"}, {UserID: "b", Weight: 0}}}
	if got := zero.Pick(livecode.StrategyWeighted, livecode.Eligibility{Users: []string{"a", "b"}}, map[string]int{"a": 1}, ""); got != "b" {
		t.Errorf("weight 0 counts as 1: got %q, want b", got)
	}
}

// simulatePicks picks n times, counting each pick as an add the way the
// landing page does.
func simulatePicks(r livecode.Roster, s livecode.Strategy, users []string, n int) (map[string]int, []string) {
	counts := map[string]int{}
	var seq []string
	last := ""
	for range n {
		u := r.Pick(s, livecode.Eligibility{Users: users}, counts, last)
		counts[u]++
		seq = append(seq, u)
		last = u
	}
	return counts, seq
}

func TestPickWeightedProportions(t *testing.T) {
	r := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a", Weight: 1}, {UserID: "b", Weight: 2}, {UserID: "c", Weight: 3}}}
	counts, seq := simulatePicks(r, livecode.StrategyWeighted, []string{"a", "b", "c"}, 1000)
	for u, want := range map[string]int{"a": 167, "b": 333, "c": 500} {
		if d := counts[u] - want; d < -1 || d > 1 {
			t.Errorf("%s picked %d times, want %d±1", u, counts[u], want)
		}
	}
	// Smooth: the first six picks already follow the weights, interleaved
	// instead of c, c, c, b, b, a.
	if got, want := seq[:6], []string{"c", "b", "c", "a", "b", "c"}; !slices.Equal(got, want) {
		t.Errorf("first picks %q, want %q", got, want)
	}
	// After any prefix no user is more than one pick ahead of its share.
	running := map[string]int{}
	for i, u := range seq {
		running[u]++
		for id, w := range map[string]float64{"a": 1, "b": 2, "c": 3} {
			if share := float64(i+1) * w / 6; float64(running[id]) > share+1 {
				t.Fatalf("after %d picks %s has %d, share %.2f", i+1, id, running[id], share)
			}
		}
	}

	even := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a"}, {UserID: "b"}, {UserID: "c", Weight: 1}}}
	counts, _ = simulatePicks(even, livecode.StrategyWeighted, []string{"a", "b", "c"}, 999)
	if counts["a"] != 333 || counts["b"] != 333 || counts["c"] != 333 {
		t.Errorf("equal weights: %v", counts)
	}
}

func TestPickRoundRobinAndLeastLoadedAreEven(t *testing.T) {
	r := livecode.Roster{Members: []livecode.RosterMember{{UserID: "a"}, {UserID: "b"}, {UserID: "c"}}}
	counts, seq := simulatePicks(r, livecode.StrategyRoundRobin, []string{"a", "b", "c"}, 9)
	if want := []string{"a", "b", "c", "a", "b", "c", "a", "b", "c"}; !slices.Equal(seq, want) {
		t.Errorf("round robin sequence %q", seq)
	}
	if counts["a"] != 3 || counts["b"] != 3 || counts["c"] != 3 {
		t.Errorf("round robin counts %v", counts)
	}
	counts, seq = simulatePicks(r, livecode.StrategyLeastLoaded, []string{"a", "b", "c"}, 7)
	if want := []string{"a", "b", "c", "a", "b", "c", "a"}; !slices.Equal(seq, want) {
		t.Errorf("least loaded sequence %q (counts %v)", seq, counts)
	}
}

// randomRoster builds a valid roster from a small pool of userids and
// times, biased towards boundaries (midnight, 24:00, Start == End) and
// towards dates near the DST changes the instants are drawn from.
func randomRoster(rng *rand.Rand) livecode.Roster {
	zones := []string{"", "Asia/Shanghai", "America/New_York", "Europe/Berlin", "Australia/Lord_Howe"}
	clocks := []string{"00:00", "00:30", "01:00", "01:30", "02:00", "02:30", "03:00", "09:00", "12:00", "17:00", "22:00", "23:59"}
	days := []string{"2026-03-07", "2026-03-08", "2026-03-09", "2026-03-28", "2026-03-29", "2026-10-24", "2026-10-25", "2026-10-31", "2026-11-01", "2026-11-02"}
	randShifts := func(weekly bool) []livecode.Shift {
		var ss []livecode.Shift
		for range rng.IntN(3) {
			s := livecode.Shift{Start: clocks[rng.IntN(len(clocks))], End: clocks[rng.IntN(len(clocks))]}
			if rng.IntN(6) == 0 {
				s.End = "24:00"
			}
			if weekly {
				for d := range 7 {
					if rng.IntN(3) == 0 {
						s.Weekdays = append(s.Weekdays, d)
					}
				}
				if len(s.Weekdays) == 0 {
					s.Weekdays = []int{rng.IntN(7)}
				}
			}
			ss = append(ss, s)
		}
		return ss
	}
	pool := rng.Perm(10)
	r := livecode.Roster{TimeZone: zones[rng.IntN(len(zones))]}
	for i := range 1 + rng.IntN(6) {
		m := livecode.RosterMember{UserID: fmt.Sprintf("u%d", pool[i]), Shifts: randShifts(true)}
		if rng.IntN(4) == 0 {
			m.Offline = true
		}
		if rng.IntN(2) == 0 {
			m.DailyCap = rng.IntN(4)
		}
		m.Weight = rng.IntN(4)
		r.Members = append(r.Members, m)
	}
	for range rng.IntN(3) {
		r.Backups = append(r.Backups, fmt.Sprintf("u%d", rng.IntN(12)))
	}
	usedAll, usedUser := map[string]bool{}, map[string]bool{}
	for range rng.IntN(4) {
		o := livecode.DateOverride{Date: days[rng.IntN(len(days))]}
		if rng.IntN(2) == 0 {
			u := r.Members[rng.IntN(len(r.Members))].UserID
			if usedUser[o.Date+u] {
				continue
			}
			usedUser[o.Date+u] = true
			o.UserIDs = []string{u}
		} else {
			if usedAll[o.Date] {
				continue
			}
			usedAll[o.Date] = true
		}
		if o.Shifts = randShifts(false); len(o.Shifts) == 0 {
			o.Off = true
		}
		r.Overrides = append(r.Overrides, o)
	}
	return r
}

// For random rosters and instants: Eligible keeps its invariants, and it
// does not change anywhere between now and NextChange(now), which is what
// lets the scheduler sleep until then.
func TestRosterRandomProperties(t *testing.T) {
	rng := rand.New(rand.NewPCG(20260308, 1))
	anchors := []time.Time{
		rosterAt(t, "2026-03-07T12:00:00Z"), rosterAt(t, "2026-03-28T12:00:00Z"),
		rosterAt(t, "2026-10-24T12:00:00Z"), rosterAt(t, "2026-10-31T12:00:00Z"),
	}
	for i := range 3000 {
		r := randomRoster(rng)
		if err := r.Validate(); err != nil {
			t.Fatalf("generator made an invalid roster: %v\n%+v", err, r)
		}
		now := anchors[rng.IntN(len(anchors))].Add(time.Duration(rng.Int64N(int64(72 * time.Hour))))
		if rng.IntN(3) == 0 {
			now = now.Truncate(30 * time.Minute) // on a boundary
		}
		counts := map[string]int{}
		for _, m := range r.Members {
			counts[m.UserID] = rng.IntN(4)
		}
		e := r.Eligible(now, counts)
		ctx := fmt.Sprintf("case %d at %s, roster %+v, counts %v → %+v", i, now.Format(time.RFC3339), r, counts, e)

		if !slices.IsSorted(e.Users) || len(slices.Compact(slices.Clone(e.Users))) != len(e.Users) || slices.Contains(e.Users, "") {
			t.Fatalf("Users not sorted and unique: %s", ctx)
		}
		if e.Empty != (len(e.Users) == 0) || (e.Empty && e.UsingBackups) {
			t.Fatalf("Empty/UsingBackups inconsistent: %s", ctx)
		}
		members := map[string]livecode.RosterMember{}
		for _, m := range r.Members {
			members[m.UserID] = m
		}
		for _, u := range e.Users {
			m, isMember := members[u]
			if isMember && m.Offline {
				t.Fatalf("offline member %s on the way: %s", u, ctx)
			}
			if e.UsingBackups {
				if !slices.Contains(r.Backups, u) {
					t.Fatalf("%s is not a backup: %s", u, ctx)
				}
				continue
			}
			if !isMember {
				t.Fatalf("%s is not a member: %s", u, ctx)
			}
			if m.DailyCap > 0 && counts[u] >= m.DailyCap {
				t.Fatalf("member %s at cap on the way: %s", u, ctx)
			}
			if _, ok := e.Reasons[u]; ok {
				t.Fatalf("eligible %s has a reason: %s", u, ctx)
			}
		}
		for id := range members {
			if !e.UsingBackups && slices.Contains(e.Users, id) {
				continue
			}
			reason := e.Reasons[id]
			if reason == "" {
				t.Fatalf("ineligible %s has no reason: %s", id, ctx)
			}
			if (reason == livecode.ReasonOffline) != members[id].Offline {
				t.Fatalf("reason %q for %s: %s", reason, id, ctx)
			}
			if strings.HasPrefix(reason, "cap reached") && (members[id].DailyCap == 0 || counts[id] < members[id].DailyCap) {
				t.Fatalf("reason %q for %s: %s", reason, id, ctx)
			}
		}
		for _, s := range []livecode.Strategy{livecode.StrategyRoundRobin, livecode.StrategyLeastLoaded, livecode.StrategyWeighted} {
			p := r.Pick(s, e, counts, r.Members[rng.IntN(len(r.Members))].UserID)
			if (p == "") != e.Empty || (p != "" && !slices.Contains(e.Users, p)) {
				t.Fatalf("Pick(%s) = %q: %s", s, p, ctx)
			}
		}

		next := r.NextChange(now)
		if !next.After(now) || next.Sub(now) > 25*time.Hour {
			t.Fatalf("NextChange = %s: %s", next.Format(time.RFC3339), ctx)
		}
		probes := []time.Time{next.Add(-time.Nanosecond)}
		for range 4 {
			probes = append(probes, now.Add(time.Duration(rng.Int64N(int64(next.Sub(now))))))
		}
		for _, p := range probes {
			if got := r.Eligible(p, counts); !reflect.DeepEqual(got, e) {
				t.Fatalf("Eligible changed at %s before NextChange %s: %+v\n%s", p.Format(time.RFC3339Nano), next.Format(time.RFC3339), got, ctx)
			}
		}
	}
}
