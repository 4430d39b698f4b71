package model

import (
	"strconv"
	"strings"
	"testing"
)

// testKeys is the keyring of this package's internal tests.
var testKeys = func() *Keyring {
	kr, err := NewKeyring(DataKey{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	return kr
}()

// BenchmarkSeal and BenchmarkOpen: one name-sized value and one 2 KiB
// webhook body, the cost a scan pays per sealed field it writes or reads.
//
//	go test -run '^$' -bench 'Seal|Open' ./model/
func BenchmarkSeal(b *testing.B) {
	for _, n := range []int{24, 2048} {
		v := strings.Repeat("客", n/3)
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				_ = testKeys.seal("contacts.name", v)
			}
		})
	}
}

func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{24, 2048} {
		sealed := testKeys.seal("contacts.name", strings.Repeat("客", n/3))
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			for b.Loop() {
				if _, err := testKeys.open("contacts.name", sealed); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
