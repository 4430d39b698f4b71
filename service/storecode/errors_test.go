package storecode

import (
	"errors"
	"fmt"
	"testing"

	"github.com/leadgate/scrm-gateway/service/apierr"
)

// A store's roster errors read under "staff", wherever they sit in a joined
// error; an error that is not a validation error stays as it is, and a CSV
// row's list has every one of them.
func TestRosterErrorsMoveUnderStaff(t *testing.T) {
	other := errors.New("boom")
	err := errors.Join(&apierr.ValidationError{Field: "roster.members[0].userid", Reason: "must be a WeCom userid"},
		errors.Join(&apierr.ValidationError{Field: "roster.strategy", Reason: "unknown"}, other))
	got := renameFields(err, "roster", "staff")
	var fields []string
	for _, ve := range flatten(got) {
		fields = append(fields, ve.Field+": "+ve.Reason)
	}
	if fmt.Sprint(fields) != "[staff.members[0].userid: must be a WeCom userid staff.strategy: unknown : boom]" {
		t.Fatalf("flattened = %q", fields)
	}
	if !errors.Is(got, other) {
		t.Fatal("the other error was not kept")
	}
	if renameFields(nil, "roster", "staff") != nil || flatten(nil) != nil {
		t.Fatal("nil in, something out")
	}
}
