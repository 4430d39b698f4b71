package livecode

import "testing"

func TestParseClock(t *testing.T) {
	for in, want := range map[string]int{"00:00": 0, "09:30": 570, "23:59": 1439} {
		if got, ok := ParseClock(in, false); !ok || got != want {
			t.Errorf("ParseClock(%q) = %d %v", in, got, ok)
		}
	}
	if got, ok := ParseClock("24:00", true); !ok || got != 1440 {
		t.Errorf("24:00 as end = %d %v", got, ok)
	}
	for _, in := range []string{"24:00", "9:30", "12:60", "ab:cd", "", "12:3x"} {
		if _, ok := ParseClock(in, false); ok {
			t.Errorf("ParseClock(%q) accepted", in)
		}
	}
}
