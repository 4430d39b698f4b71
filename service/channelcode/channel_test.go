package channelcode

import (
	"strings"
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/service/livecode"
)

func TestFillRemarkFitsWeComLimit(t *testing.T) {
	cases := []struct {
		tmpl, name, code, want string
	}{
		{"{name}-{code}", "王小明", "秋季展会", "王小明-秋季展会"},
		{"{name}", "", "x", ""},
		{"{date} {name}", "张三", "x", "2026-11-23 张三"},
		// The name is cut so the whole stays within 20 characters.
		{"{name}-{code}", "一二三四五六七八九十一二三四五六七八九十", "展会", "一二三四五六七八九十一二三四五六七-展会"},
		{"客户{name}{name}", "ABCDEFGHIJKLMNOPQRSTUVWXYZ", "x", "客户ABCDEFGHIABCDEFGHI"},
		{"固定文字", "任何人", "x", "固定文字"},
	}
	for _, c := range cases {
		got := FillRemark(c.tmpl, c.name, c.code, "2026-11-23")
		if got != c.want {
			t.Errorf("FillRemark(%q, %q) = %q, want %q", c.tmpl, c.name, got, c.want)
		}
		if n := len([]rune(got)); n > 20 {
			t.Errorf("FillRemark(%q) is %d characters", c.tmpl, n)
		}
	}
}

func TestPlaceholders(t *testing.T) {
	got := strings.Join(placeholders("{name} at {code} on {date} {"), ",")
	if got != "{name},{code},{date}" {
		t.Fatalf("placeholders = %q", got)
	}
}

func TestWelcomeVariantChosenInRosterZone(t *testing.T) {
	v := &CodeView{Roster: livecode.Roster{TimeZone: "Asia/Shanghai"}, media: map[uint64]string{7: "MEDIA7"},
		welcome: WelcomeSpec{Text: "日间 {name}", Variants: []WelcomeVariant{
			{Name: "night", Start: "22:00", End: "08:00", Text: "夜间 {name}"},
			{Name: "weekend", Weekdays: []int{0, 6}, Text: "周末", Attachments: []AttachmentSpec{{Type: AttachImage, MediaAssetID: 7}}},
		}}}
	sh := time.FixedZone("CST", 8*3600)
	cases := []struct {
		at   time.Time
		text string
		atts int
	}{
		{time.Date(2026, 11, 23, 10, 0, 0, 0, sh), "日间 李", 0},        // Monday morning
		{time.Date(2026, 11, 23, 23, 30, 0, 0, sh), "夜间 李", 0},       // crosses midnight: late
		{time.Date(2026, 11, 24, 7, 59, 0, 0, sh), "夜间 李", 0},        // crosses midnight: early
		{time.Date(2026, 11, 24, 8, 0, 0, 0, sh), "日间 李", 0},         // end is exclusive
		{time.Date(2026, 11, 28, 12, 0, 0, 0, sh), "周末", 1},          // Saturday
		{time.Date(2026, 11, 23, 14, 30, 0, 0, time.UTC), "夜间 李", 0}, // 22:30 in Shanghai
	}
	for _, c := range cases {
		msg, ok := v.Welcome(c.at, "李")
		if !ok || msg.Text == nil || msg.Text.Content != c.text || len(msg.Attachments) != c.atts {
			t.Errorf("at %v: %+v", c.at, msg)
		}
	}
	if !v.NeedsName() {
		t.Fatal("NeedsName = false")
	}
	// An image whose media is not uploaded is left out rather than sent empty.
	v.media = map[uint64]string{}
	msg, ok := v.Welcome(time.Date(2026, 11, 28, 12, 0, 0, 0, sh), "")
	if !ok || len(msg.Attachments) != 0 {
		t.Fatalf("unuploaded image: %+v", msg)
	}
}

func TestWayUsers(t *testing.T) {
	r := livecode.Roster{Members: []livecode.RosterMember{{UserID: "b"}, {UserID: "a"}}}
	users, alert := livecode.WayUsers(r, livecode.Eligibility{Users: []string{"a"}}, []string{"a", "b"})
	if strings.Join(users, ",") != "a" || alert != "" {
		t.Fatalf("normal: %v %q", users, alert)
	}
	users, alert = livecode.WayUsers(r, livecode.Eligibility{Empty: true}, []string{"b"})
	if strings.Join(users, ",") != "b" || alert == "" {
		t.Fatalf("empty keeps current: %v %q", users, alert)
	}
	users, _ = livecode.WayUsers(r, livecode.Eligibility{Empty: true}, nil)
	if strings.Join(users, ",") != "a,b" {
		t.Fatalf("empty on a new code uses every member: %v", users)
	}
	users, alert = livecode.WayUsers(r, livecode.Eligibility{Users: []string{"z"}, UsingBackups: true}, nil)
	if strings.Join(users, ",") != "z" || !strings.Contains(alert, "backups") {
		t.Fatalf("backups: %v %q", users, alert)
	}
}
