package storecode

import "testing"

func TestWayStateFitsWeCom(t *testing.T) {
	s := wayState("abcdefghij", ^uint64(0))
	if len(s) > 30 || s != "s:abcdefghij.3w5e11264sgsf" {
		t.Fatalf("wayState = %q (%d chars)", s, len(s))
	}
}
