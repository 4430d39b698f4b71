package livecode

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/leadgate/scrm-gateway/service/apierr"
)

func TestValidateUTM(t *testing.T) {
	ok := []map[string]string{
		nil,
		{},
		{"utm_source": "poster", "utm_medium": "offline", "utm_campaign": "spring", "utm_term": "门店", "utm_content": "a&b<c>"},
		{"utm_source": strings.Repeat("界", 128)},
		{"utm_source": ""},
	}
	for _, m := range ok {
		if err := ValidateUTM(m); err != nil {
			t.Errorf("ValidateUTM(%v) = %v, want nil", m, err)
		}
	}
	bad := []struct {
		m     map[string]string
		field string
	}{
		{map[string]string{"utm_source": "x", "gclid": "y"}, "utm"},
		{map[string]string{"UTM_SOURCE": "x"}, "utm"},
		{map[string]string{"utm_campaign": strings.Repeat("a", 129)}, "utm.utm_campaign"},
		{map[string]string{"utm_term": "a\nb"}, "utm.utm_term"},
		{map[string]string{"utm_content": "\xff"}, "utm.utm_content"},
		{map[string]string{ // every value at the limit, but quotes double once encoded
			"utm_source": strings.Repeat(`"`, 128), "utm_medium": strings.Repeat(`"`, 128),
			"utm_campaign": strings.Repeat(`"`, 128), "utm_term": strings.Repeat(`"`, 128),
			"utm_content": strings.Repeat(`"`, 128),
		}, "utm"},
	}
	for _, c := range bad {
		err := ValidateUTM(c.m)
		var ve *apierr.ValidationError
		if !errors.As(err, &ve) || ve.Field != c.field {
			t.Errorf("ValidateUTM(%q) = %v, want a ValidationError on %s", c.m, err, c.field)
		}
	}
}

func TestEncodeDecodeUTM(t *testing.T) {
	if got := EncodeUTM(nil); got != "" {
		t.Errorf("EncodeUTM(nil) = %q", got)
	}
	if got := EncodeUTM(map[string]string{"utm_source": ""}); got != "" {
		t.Errorf("EncodeUTM(empty values) = %q", got)
	}
	m := map[string]string{"utm_source": "poster", "utm_medium": "a&b", "utm_term": ""}
	enc := EncodeUTM(m)
	if enc != `{"utm_medium":"a&b","utm_source":"poster"}` {
		t.Errorf("EncodeUTM = %s", enc)
	}
	if got := DecodeUTM(enc); !reflect.DeepEqual(got, map[string]string{"utm_source": "poster", "utm_medium": "a&b"}) {
		t.Errorf("DecodeUTM(%s) = %v", enc, got)
	}
	for _, s := range []string{"", "not json", "[]", "{}"} {
		if got := DecodeUTM(s); got != nil {
			t.Errorf("DecodeUTM(%q) = %v, want nil", s, got)
		}
	}
}
