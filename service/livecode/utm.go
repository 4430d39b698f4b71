package livecode

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/leadgate/scrm-gateway/service/apierr"
)

// UTM parameters a code may carry: the campaign its poster belongs to. They
// are stored as a JSON object in the code's utm column (at most 1024
// characters) and copied into the source of leads the code brings in.
var utmKeys = []string{"utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content"}

const (
	utmMaxValue   = 128  // characters per value
	utmMaxEncoded = 1024 // characters, the column's size
)

// ValidateUTM checks a code's UTM object: only the keys utm_source,
// utm_medium, utm_campaign, utm_term and utm_content, each value valid UTF-8
// without control characters and at most 128 characters. A nil or empty map
// is valid (no UTM). The error is a *ValidationError with Field "utm" or
// "utm.<key>".
func ValidateUTM(m map[string]string) error {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys) // the same input reports the same field
	for _, k := range keys {
		if !isUTMKey(k) {
			return &apierr.ValidationError{Field: "utm", Reason: fmt.Sprintf("unknown key %q: only %s", k, strings.Join(utmKeys, ", "))}
		}
		v := m[k]
		switch {
		case !utf8.ValidString(v):
			return &apierr.ValidationError{Field: "utm." + k, Reason: "must be valid UTF-8"}
		case utf8.RuneCountInString(v) > utmMaxValue:
			return &apierr.ValidationError{Field: "utm." + k, Reason: fmt.Sprintf("must be at most %d characters", utmMaxValue)}
		case strings.IndexFunc(v, unicode.IsControl) >= 0:
			return &apierr.ValidationError{Field: "utm." + k, Reason: "must not contain control characters"}
		}
	}
	if utf8.RuneCountInString(EncodeUTM(m)) > utmMaxEncoded {
		return &apierr.ValidationError{Field: "utm", Reason: fmt.Sprintf("must be at most %d characters as JSON", utmMaxEncoded)}
	}
	return nil
}

func isUTMKey(k string) bool {
	for _, u := range utmKeys {
		if k == u {
			return true
		}
	}
	return false
}

// EncodeUTM renders a UTM object for the utm column: a JSON object with the
// keys sorted and empty values left out; "" when nothing is left.
func EncodeUTM(m map[string]string) string {
	kept := make(map[string]string, len(m))
	for k, v := range m {
		if v != "" {
			kept[k] = v
		}
	}
	if len(kept) == 0 {
		return ""
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false) // keep '&' and '<' one character each in the column
	if err := enc.Encode(kept); err != nil {
		return "" // a map of strings always encodes
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

// DecodeUTM reads the utm column back; "" or anything that is not a JSON
// object of strings gives nil.
func DecodeUTM(s string) map[string]string {
	if s == "" {
		return nil
	}
	var m map[string]string
	if err := json.Unmarshal([]byte(s), &m); err != nil || len(m) == 0 {
		return nil
	}
	return m
}

// UTMView shows a code's utm column as an object, {} when it has none.
func UTMView(col string) map[string]string {
	if m := DecodeUTM(col); m != nil {
		return m
	}
	return map[string]string{}
}
