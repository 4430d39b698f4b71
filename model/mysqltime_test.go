package model_test

import (
	"testing"
	"time"

	"github.com/leadgate/scrm-gateway/model/modeltest"
)

// On MySQL a time goes into a statement at the columns' millisecond
// precision: with nine fractional digits MariaDB reads every row of an
// index prefix instead of the range (`expires_at <= ?` in a pick's sweep
// read all live holds).
func TestMySQLTimesAreSentInMilliseconds(t *testing.T) {
	st := modeltest.Open(t, "mysql", nil)
	at := time.Date(2026, 12, 7, 17, 30, 41, 394572312, time.UTC)
	var sent string
	if err := st.RawDB().QueryRow("SELECT CAST(? AS CHAR)", at).Scan(&sent); err != nil {
		t.Fatal(err)
	}
	if sent != "2026-12-07 17:30:41.394" {
		t.Fatalf("the time was sent as %q, want 2026-12-07 17:30:41.394", sent)
	}
}
