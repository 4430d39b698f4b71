package livecode_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/livecode"
)

// benchRoster is a full contact way (100 members, WeCom's maximum) as a
// busy corp runs it: two weekday shifts, one crossing midnight, a weekend
// shift, caps on some, a few offline, backups, and a month of holiday and
// replacement overrides, both corp-wide and per member.
func benchRoster() livecode.Roster {
	r := livecode.Roster{TimeZone: "Asia/Shanghai", Backups: []string{"backup1", "backup2"}}
	weekdays := []int{1, 2, 3, 4, 5}
	for i := range 100 {
		m := livecode.RosterMember{UserID: fmt.Sprintf("staff%03d", i)}
		switch i % 3 {
		case 0:
			m.Shifts = []livecode.Shift{{Weekdays: weekdays, Start: "09:00", End: "18:00"}}
		case 1:
			m.Shifts = []livecode.Shift{{Weekdays: weekdays, Start: "14:00", End: "02:00"}}
		case 2:
			m.Shifts = []livecode.Shift{
				{Weekdays: weekdays, Start: "08:00", End: "12:00"},
				{Weekdays: []int{0, 6}, Start: "10:00", End: "22:00"},
			}
		}
		if i%4 == 0 {
			m.DailyCap = 30
		}
		m.Offline = i%17 == 0
		r.Members = append(r.Members, m)
	}
	day := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for d := range 30 {
		date := day.AddDate(0, 0, d).Format("2006-01-02")
		switch {
		case d%7 == 3:
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: date, Off: true})
		case d%2 == 0:
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: date,
				UserIDs: []string{fmt.Sprintf("staff%03d", d), fmt.Sprintf("staff%03d", d+40)},
				Shifts:  []livecode.Shift{{Start: "10:00", End: "14:00"}}})
		default:
			r.Overrides = append(r.Overrides, livecode.DateOverride{Date: date,
				UserIDs: []string{fmt.Sprintf("staff%03d", d+1)}, Off: true})
		}
	}
	return r
}

// BenchmarkRosterEligible is the roster decision a random-mode code makes
// on every tick and cap change, and a precise-mode landing page on every
// visit.
func BenchmarkRosterEligible(b *testing.B) {
	r := benchRoster()
	if err := r.Validate(); err != nil {
		b.Fatal(err)
	}
	counts := map[string]int{}
	for i := 0; i < 100; i += 4 {
		counts[fmt.Sprintf("staff%03d", i)] = 10 + i%25
	}
	// Tuesday 15:30 in Shanghai: both weekday shifts on, one override day.
	now := time.Date(2026, 11, 10, 7, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		e := r.Eligible(now, counts)
		if len(e.Users) == 0 {
			b.Fatal("nobody eligible")
		}
	}
}

// BenchmarkRosterNextChange is what the scheduler computes to know when to
// look at a code again.
func BenchmarkRosterNextChange(b *testing.B) {
	r := benchRoster()
	now := time.Date(2026, 11, 10, 7, 30, 0, 0, time.UTC)
	b.ReportAllocs()
	for b.Loop() {
		if !r.NextChange(now).After(now) {
			b.Fatal("next change is not after now")
		}
	}
}
