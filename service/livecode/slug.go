package livecode

import "crypto/rand"

// RandomSlug is a new code's slug, the path of its landing page (/c/, /g/,
// /s/) and, with the family's prefix, its WeCom state: ten characters
// without look-alikes.
func RandomSlug() (string, error) {
	const alphabet = "abcdefghijkmnpqrstuvwxyz23456789" // no look-alikes on a poster
	var b [10]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b[:]), nil
}
