package livecode

import (
	"testing"
	"time"
)

func TestLoadZoneKeepsWhatLoadsAndOnlyThat(t *testing.T) {
	a, err := LoadZone("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	b, err := LoadZone("Asia/Shanghai")
	if err != nil || a != b {
		t.Fatalf("second load: %p, %v; want the kept %p", b, err, a)
	}
	if off := time.Date(2026, 12, 7, 0, 0, 0, 0, a).Sub(time.Date(2026, 12, 7, 0, 0, 0, 0, time.UTC)); off != -8*time.Hour {
		t.Fatalf("Asia/Shanghai midnight is %v from UTC's", off)
	}
	if _, err := LoadZone("Mars/Olympus_Mons"); err == nil {
		t.Fatal("an unknown zone loaded")
	}
	if _, kept := zones.Load("Mars/Olympus_Mons"); kept {
		t.Fatal("an unknown zone's name was kept")
	}
}
