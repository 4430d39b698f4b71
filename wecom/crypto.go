package wecom

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha1"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Errors returned by the callback crypto. Handlers map them to HTTP statuses.
var (
	ErrBadSignature = errors.New("wecom: callback signature mismatch")
	ErrDecrypt      = errors.New("wecom: callback payload cannot be decrypted")
	ErrReceiveID    = errors.New("wecom: callback receiveid is not ours")
)

// blockSize is WeCom's PKCS#7 block: 32 bytes, not AES's 16, so a stock
// unpadder would reject valid messages.
const blockSize = 32

// Crypter signs, verifies, encrypts and decrypts callback payloads for one
// receiver (the CorpID of an in-house app). It is safe for concurrent use.
//
// We do not use silenceper's util.DecryptMsg: it recovers from panics instead
// of validating input, accepts malformed padding, decodes the AES key on every
// call and compares the receiveid in variable time.
type Crypter struct {
	token     string
	key       []byte
	block     cipher.Block
	receiveID string
}

// DecodeAESKey turns a 43-character EncodingAESKey into the 32-byte AES key.
func DecodeAESKey(encodingAESKey string) ([]byte, error) {
	if len(encodingAESKey) != 43 {
		return nil, fmt.Errorf("EncodingAESKey must be 43 characters, got %d", len(encodingAESKey))
	}
	key, err := base64.StdEncoding.DecodeString(encodingAESKey + "=")
	if err != nil {
		return nil, fmt.Errorf("EncodingAESKey is not base64: %w", err)
	}
	if len(key) != 32 {
		return nil, fmt.Errorf("EncodingAESKey decodes to %d bytes, want 32", len(key))
	}
	return key, nil
}

// NewCrypter builds a Crypter for the callback token, the EncodingAESKey and the
// expected receiveid.
func NewCrypter(token, encodingAESKey, receiveID string) (*Crypter, error) {
	if token == "" {
		return nil, errors.New("callback token is empty")
	}
	key, err := DecodeAESKey(encodingAESKey)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return &Crypter{token: token, key: key, block: block, receiveID: receiveID}, nil
}

// ReceiveID is the receiver this Crypter accepts and writes.
func (c *Crypter) ReceiveID() string { return c.receiveID }

// Signature computes msg_signature: SHA-1 over the lexicographically sorted
// token, timestamp, nonce and encrypted payload, as lowercase hex.
func Signature(token, timestamp, nonce, encrypt string) string {
	parts := []string{token, timestamp, nonce, encrypt}
	sort.Strings(parts)
	sum := sha1.Sum([]byte(strings.Join(parts, "")))
	return hex.EncodeToString(sum[:])
}

// Sign returns the msg_signature for a payload under this Crypter's token.
func (c *Crypter) Sign(timestamp, nonce, encrypt string) string {
	return Signature(c.token, timestamp, nonce, encrypt)
}

// Verify checks msg_signature in constant time.
func (c *Crypter) Verify(msgSignature, timestamp, nonce, encrypt string) error {
	want := c.Sign(timestamp, nonce, encrypt)
	if subtle.ConstantTimeCompare([]byte(strings.ToLower(msgSignature)), []byte(want)) != 1 {
		return ErrBadSignature
	}
	return nil
}

// Decrypt opens a base64 payload and returns the message it carries after
// checking the padding, the length field and the receiveid.
func (c *Crypter) Decrypt(encrypt string) ([]byte, error) {
	raw, err := base64.StdEncoding.DecodeString(encrypt)
	if err != nil {
		return nil, fmt.Errorf("%w: base64: %v", ErrDecrypt, err)
	}
	if len(raw) == 0 || len(raw)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: ciphertext length %d is not a multiple of the AES block", ErrDecrypt, len(raw))
	}
	plain := make([]byte, len(raw))
	cipher.NewCBCDecrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(plain, raw)

	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > blockSize || pad > len(plain) {
		return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, fmt.Errorf("%w: bad padding", ErrDecrypt)
		}
	}
	plain = plain[:len(plain)-pad]
	if len(plain) < 20 {
		return nil, fmt.Errorf("%w: plaintext too short", ErrDecrypt)
	}
	n := binary.BigEndian.Uint32(plain[16:20])
	if uint64(n) > uint64(len(plain)-20) {
		return nil, fmt.Errorf("%w: message length %d exceeds payload", ErrDecrypt, n)
	}
	msg := plain[20 : 20+int(n)]
	rid := plain[20+int(n):]
	if subtle.ConstantTimeCompare(rid, []byte(c.receiveID)) != 1 {
		return nil, ErrReceiveID
	}
	return msg, nil
}

// Encrypt seals a message for the receiver with fresh random bytes.
func (c *Crypter) Encrypt(msg []byte) (string, error) {
	var random [16]byte
	if _, err := rand.Read(random[:]); err != nil {
		return "", err
	}
	return c.EncryptWithRandom(random[:], msg), nil
}

// EncryptWithRandom seals a message with the given 16 random bytes; tests use
// it to reproduce known vectors.
func (c *Crypter) EncryptWithRandom(random, msg []byte) string {
	n := 16 + 4 + len(msg) + len(c.receiveID)
	pad := blockSize - n%blockSize
	plain := make([]byte, n+pad)
	copy(plain, random[:16])
	binary.BigEndian.PutUint32(plain[16:20], uint32(len(msg)))
	copy(plain[20:], msg)
	copy(plain[20+len(msg):], c.receiveID)
	for i := n; i < len(plain); i++ {
		plain[i] = byte(pad)
	}
	cipher.NewCBCEncrypter(c.block, c.key[:aes.BlockSize]).CryptBlocks(plain, plain)
	return base64.StdEncoding.EncodeToString(plain)
}
