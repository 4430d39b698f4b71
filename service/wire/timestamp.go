package wire

import (
	"encoding/json"
	"time"
)

// Timestamp is a time as the API and the payloads write it: RFC 3339 in
// UTC with exactly three fractional digits ("2026-11-23T10:00:00.000Z").
type Timestamp struct{ time.Time }

// TimestampLayout is the layout of a Timestamp.
const TimestampLayout = "2006-01-02T15:04:05.000Z"

// At wraps t as a Timestamp.
func At(t time.Time) Timestamp { return Timestamp{t} }

// AtPtr wraps t as a Timestamp; nil stays nil.
func AtPtr(t *time.Time) *Timestamp {
	if t == nil {
		return nil
	}
	return &Timestamp{*t}
}

// String formats the timestamp.
func (t Timestamp) String() string { return t.UTC().Format(TimestampLayout) }

// MarshalJSON writes the timestamp as a JSON string.
func (t Timestamp) MarshalJSON() ([]byte, error) { return []byte(`"` + t.String() + `"`), nil }

// UnmarshalJSON reads any RFC 3339 time.
func (t *Timestamp) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	t.Time = v
	return nil
}
