package model

// testKeys is the keyring of this package's internal tests.
var testKeys = func() *Keyring {
	kr, err := NewKeyring(DataKey{ID: "test", Secret: []byte("0123456789abcdef0123456789abcdef")})
	if err != nil {
		panic(err)
	}
	return kr
}()
