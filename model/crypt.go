package model

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"gorm.io/gorm"
	"gorm.io/gorm/schema"
)

// Personal data at rest (customers' names, company names, mobiles, remarks,
// avatars; WeCom access tokens; webhook secrets) is sealed with AES-256-GCM
// under the store's Keyring. A sealed value reads
//
//	v1:<key id>:<base64(nonce | ciphertext | tag)>
//
// with the column ("table.column") as additional data, so a value copied
// into another column does not open. The key id says which key opens it, so
// keys rotate: a new key becomes active, new writes use it, old rows stay
// readable under their key until `gateway keys rotate` re-seals them. An
// empty string stays empty (erased and unset fields), and a value without
// the prefix is a row from before encryption, read as it is until sealed.
//
// Model fields carry the tag `gorm:"serializer:sealed"`: GORM seals them on
// insert and on struct updates and opens them on every scan, so the rest of
// the code keeps plain strings. The serializer is a process-wide registry
// entry, but the keyring is not: each Store installs callbacks that put its
// own keyring into every statement's context, where the serializer finds
// it. Two stores with different keys (tests, a rotation) never share state,
// and nothing is mutable after Open. Updates through a column map bypass
// serializers; those call Store.seal themselves.

const sealedPrefix = "v1:"

// DataKey is one configured key: an id (letters, digits, '-' and '.', up to
// 16) and 32 bytes of secret.
type DataKey struct {
	ID     string
	Secret []byte
}

// Keyring is the set of data keys a store reads with; the active one seals.
// It is immutable and safe for concurrent use.
type Keyring struct {
	active string
	ids    []string
	keys   map[string]*sealKey
}

type sealKey struct {
	aead  cipher.AEAD
	index []byte // HMAC key of the mobile blind index
}

// NewKeyring builds a keyring; the first key is the active one.
func NewKeyring(keys ...DataKey) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("model: no data key")
	}
	kr := &Keyring{active: keys[0].ID, keys: map[string]*sealKey{}}
	for _, k := range keys {
		if err := ValidKeyID(k.ID); err != nil {
			return nil, err
		}
		if len(k.Secret) != 32 {
			return nil, fmt.Errorf("model: data key %q must be 32 bytes, got %d", k.ID, len(k.Secret))
		}
		if _, dup := kr.keys[k.ID]; dup {
			return nil, fmt.Errorf("model: data key id %q given twice", k.ID)
		}
		// Separate keys for sealing and for the blind index, both derived
		// from the configured secret (HKDF-SHA256).
		enc, err := hkdf.Key(sha256.New, k.Secret, nil, "scrm-gateway data v1", 32)
		if err != nil {
			return nil, err
		}
		idx, err := hkdf.Key(sha256.New, k.Secret, nil, "scrm-gateway mobile index v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(enc)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		kr.keys[k.ID] = &sealKey{aead: aead, index: idx}
		kr.ids = append(kr.ids, k.ID)
	}
	return kr, nil
}

// ValidKeyID checks a data key id.
func ValidKeyID(id string) error {
	if id == "" || len(id) > 16 {
		return fmt.Errorf("model: data key id %q must be 1 to 16 characters", id)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return fmt.Errorf("model: data key id %q may hold only letters, digits, '-' and '.'", id)
		}
	}
	return nil
}

// GenerateDataKey returns a new random key written "id:base64".
func GenerateDataKey(id string) (string, error) {
	if err := ValidKeyID(id); err != nil {
		return "", err
	}
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return id + ":" + base64.StdEncoding.EncodeToString(b), nil
}

// Active is the id of the key new values are sealed under.
func (k *Keyring) Active() string { return k.active }

// IDs are the key ids, active first.
func (k *Keyring) IDs() []string { return append([]string(nil), k.ids...) }

// KeyError says why a sealed value did not open.
type KeyError struct {
	Column string // table.column
	KeyID  string
	Reason string
}

func (e *KeyError) Error() string {
	return fmt.Sprintf("model: %s: value sealed under data key %q %s", e.Column, e.KeyID, e.Reason)
}

// ErrNoKeyring is returned when a sealed column is read or written without
// a keyring (a store opened without one).
var ErrNoKeyring = errors.New("model: no data keyring: sealed columns cannot be read or written")

func (k *Keyring) seal(column, plain string) string {
	if plain == "" {
		return ""
	}
	key := k.keys[k.active]
	buf := make([]byte, 12, 12+len(plain)+16)
	_, _ = rand.Read(buf) // never fails (crypto/rand)
	buf = key.aead.Seal(buf, buf, []byte(plain), []byte(column))
	return sealedPrefix + k.active + ":" + base64.RawStdEncoding.EncodeToString(buf)
}

// sealedUnder returns the key id a stored value is sealed under, "" for a
// plain (or empty) value.
func sealedUnder(v string) string {
	if !strings.HasPrefix(v, sealedPrefix) {
		return ""
	}
	id, _, ok := strings.Cut(v[len(sealedPrefix):], ":")
	if !ok {
		return ""
	}
	return id
}

// Open opens a value stored in column ("table.column"); a plain value is
// returned as it is.
func (k *Keyring) Open(column, stored string) (string, error) { return k.open(column, stored) }

func (k *Keyring) open(column, stored string) (string, error) {
	if !strings.HasPrefix(stored, sealedPrefix) {
		return stored, nil // empty, or a row from before encryption
	}
	id, b64, ok := strings.Cut(stored[len(sealedPrefix):], ":")
	if !ok {
		return "", &KeyError{Column: column, Reason: "is malformed (no key id)"}
	}
	key := k.keys[id]
	if key == nil {
		return "", &KeyError{Column: column, KeyID: id, Reason: "cannot be read: that key is not configured (add it to the data keys, after the active one)"}
	}
	raw, err := base64.RawStdEncoding.DecodeString(b64)
	if err != nil || len(raw) < 12+16 {
		return "", &KeyError{Column: column, KeyID: id, Reason: "is malformed (not base64 of nonce and ciphertext)"}
	}
	plain, err := key.aead.Open(nil, raw[:12], raw[12:], []byte(column))
	if err != nil {
		return "", &KeyError{Column: column, KeyID: id, Reason: "failed authentication: the key's secret is not the one it was sealed with, or the stored value was altered"}
	}
	return string(plain), nil
}

// NormalizeMobile reduces a phone number to its digits without a +86 or
// 0086 country prefix: the form the blind index is computed on.
func NormalizeMobile(s string) string {
	var b strings.Builder
	for _, r := range s {
		if r >= '0' && r <= '9' {
			b.WriteRune(r)
		}
	}
	d := b.String()
	switch {
	case len(d) == 13 && strings.HasPrefix(d, "86"):
		d = d[2:]
	case len(d) == 15 && strings.HasPrefix(d, "0086"):
		d = d[4:]
	}
	return d
}

// blindIndex is the keyed blind index of a mobile under key id: HMAC-SHA256
// of the normalized number, hex. Empty for no number.
func (k *Keyring) blindIndex(id, mobile string) string {
	m := NormalizeMobile(mobile)
	if m == "" {
		return ""
	}
	mac := hmac.New(sha256.New, k.keys[id].index)
	mac.Write([]byte(m))
	return hex.EncodeToString(mac.Sum(nil))
}

// blindIndexes are a mobile's blind indexes under every key: rows not yet
// re-sealed after a rotation carry their old key's index.
func (k *Keyring) blindIndexes(mobile string) []string {
	out := make([]string, 0, len(k.ids))
	for _, id := range k.ids {
		out = append(out, k.blindIndex(id, mobile))
	}
	return out
}

// --- GORM wiring ---------------------------------------------------------------

type keyringCtxKey struct{}

func withKeyring(ctx context.Context, kr *Keyring) context.Context {
	if ctx == nil {
		ctx = context.Background()
	}
	if kr == nil || ctx.Value(keyringCtxKey{}) == kr {
		return ctx
	}
	return context.WithValue(ctx, keyringCtxKey{}, kr)
}

func keyringFrom(ctx context.Context) *Keyring {
	if ctx == nil {
		return nil
	}
	kr, _ := ctx.Value(keyringCtxKey{}).(*Keyring)
	return kr
}

// installKeyring makes every statement of db carry kr in its context.
func installKeyring(db *gorm.DB, kr *Keyring) error {
	put := func(tx *gorm.DB) { tx.Statement.Context = withKeyring(tx.Statement.Context, kr) }
	cb := db.Callback()
	for _, err := range []error{
		cb.Create().Before("*").Register("keyring:create", put),
		cb.Query().Before("*").Register("keyring:query", put),
		cb.Update().Before("*").Register("keyring:update", put),
		cb.Create().Before("gorm:create").Register("keyring:lead_mobile_index", keepMobileIndex),
		cb.Update().Before("gorm:update").Register("keyring:lead_mobile_index", keepMobileIndex),
		cb.Delete().Before("*").Register("keyring:delete", put),
		cb.Row().Before("*").Register("keyring:row", put),
		cb.Raw().Before("*").Register("keyring:raw", put),
	} {
		if err != nil {
			return err
		}
	}
	return nil
}

func init() { schema.RegisterSerializer("sealed", sealedSerializer{}) }

// sealedSerializer seals a string field on write and opens it on read.
type sealedSerializer struct{}

func columnOf(f *schema.Field) string { return f.Schema.Table + "." + f.DBName }

func (sealedSerializer) Scan(ctx context.Context, field *schema.Field, dst reflect.Value, dbValue any) error {
	var stored string
	switch v := dbValue.(type) {
	case nil:
	case string:
		stored = v
	case []byte:
		stored = string(v)
	default:
		return fmt.Errorf("model: %s: sealed column holds %T", columnOf(field), dbValue)
	}
	plain := stored
	if strings.HasPrefix(stored, sealedPrefix) {
		kr := keyringFrom(ctx)
		if kr == nil {
			return ErrNoKeyring
		}
		var err error
		if plain, err = kr.open(columnOf(field), stored); err != nil {
			return err
		}
	}
	field.ReflectValueOf(ctx, dst).SetString(plain)
	return nil
}

func (sealedSerializer) Value(ctx context.Context, field *schema.Field, dst reflect.Value, fieldValue any) (any, error) {
	plain, _ := fieldValue.(string)
	if plain == "" {
		return "", nil
	}
	kr := keyringFrom(ctx)
	if kr == nil {
		return nil, ErrNoKeyring
	}
	return kr.seal(columnOf(field), plain), nil
}

// seal seals a value for a column map update ("table.column").
func (s *Store) seal(column, plain string) string { return s.keys.seal(column, plain) }

// Keyring is the store's keyring.
func (s *Store) Keyring() *Keyring { return s.keys }
