package livecode

import "time"

// InWindow reports whether local (a time in the code's or rule's zone) falls
// on one of weekdays (0 = Sunday; none: every day) and within start and end
// ("HH:MM"; start empty: all day; end <= start crosses midnight). Welcome
// variants and tag rules' conditions choose by it.
func InWindow(weekdays []int, start, end string, local time.Time) bool {
	if len(weekdays) > 0 {
		hit := false
		for _, d := range weekdays {
			if time.Weekday(d) == local.Weekday() {
				hit = true
			}
		}
		if !hit {
			return false
		}
	}
	if start == "" {
		return true
	}
	s, _ := ParseClock(start, false)
	e, _ := ParseClock(end, true)
	m := local.Hour()*60 + local.Minute()
	if e <= s { // crosses midnight
		return m >= s || m < e
	}
	return m >= s && m < e
}
