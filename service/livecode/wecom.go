package livecode

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/service/apierr"
	"github.com/leadgate/scrm-gateway/service/queue"
	"github.com/leadgate/scrm-gateway/wecom"
)

// What the three code families share in speaking to WeCom: the clients,
// how a WeCom failure reaches an admin or the job runner, the answers that
// mean a contact way or a chat is gone, and the alert of a failing sync.

// Clients finds the WeCom API client of a corp.
type Clients func(corpID string) (*wecom.Client, error)

// codeChatGone is WeCom's answer for an unknown or dismissed chat_id.
const codeChatGone = 40050

// IsWayGone reports a WeCom answer meaning the contact way no longer exists.
func IsWayGone(err error) bool {
	var ae *wecom.APIError
	return errors.As(err, &ae) && (ae.Code == 41044 || ae.Code == 40058 && strings.Contains(ae.Msg, "config_id"))
}

// IsChatGone reports a WeCom answer meaning the group chat does not exist
// (or was dismissed).
func IsChatGone(err error) bool {
	var ae *wecom.APIError
	return errors.As(err, &ae) && ae.Code == codeChatGone
}

// AdminError turns a WeCom failure during an admin action into an error the
// API can show.
func AdminError(err error) error {
	return &apierr.UpstreamError{Err: err}
}

// JobError maps a WeCom error for the job runner: permanent and
// configuration errors stop, the rest are retried (after WeCom's retry-after).
func JobError(err error) error {
	switch wecom.Classify(err) {
	case wecom.ActionPermanent:
		return queue.Permanent(err)
	case wecom.ActionConfig:
		return queue.Permanent(fmt.Errorf("configuration: %w", err))
	}
	return err
}

// SyncFailedAlertPrefix starts the alert of a code whose WeCom sync failed.
const SyncFailedAlertPrefix = "WeCom sync failed: "

// SyncFailedAlert is the alert a code carries while its WeCom sync fails.
func SyncFailedAlert(err error) string {
	return SyncFailedAlertPrefix + err.Error() + "; retrying until a sync succeeds"
}

// WayUsers is the list a contact way should carry for the eligibility e,
// and the alert the code shows for it ("" when the roster is served as
// planned). With nobody eligible the way keeps current (or the roster).
func WayUsers(r Roster, e Eligibility, current []string) ([]string, string) {
	switch {
	case e.Empty:
		keep := current
		if len(keep) == 0 {
			keep = r.MemberIDs()
		}
		return keep, "no staff member or backup is eligible now; the contact way keeps its last list"
	case e.UsingBackups:
		return e.Users, "no rostered staff member is eligible now; backups are receiving customers"
	}
	return e.Users, ""
}

// DecodeChats reads a stored list of chat ids (never nil).
func DecodeChats(s string) []string {
	var out []string
	if s != "" {
		_ = json.Unmarshal([]byte(s), &out)
	}
	if out == nil {
		out = []string{}
	}
	return out
}

// EncodeChats is the stored form of a list of chat ids.
func EncodeChats(chats []string) string {
	if chats == nil {
		chats = []string{}
	}
	b, _ := json.Marshal(chats)
	return string(b)
}

// DayRange fills a stats query's empty bounds: to defaults to today in
// China time, from to 29 days before to.
func DayRange(now time.Time, from, to string) (string, string) {
	if to == "" {
		to = Roster{}.LocalDay(now)
	}
	if from == "" {
		t, _ := time.Parse("2006-01-02", to)
		from = t.AddDate(0, 0, -29).Format("2006-01-02")
	}
	return from, to
}

// ClipRunes cuts s to at most n characters.
func ClipRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}
