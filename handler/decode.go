package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"
)

// maxJSONBody is the size limit of an admin API JSON body unless its route
// sets another.
const maxJSONBody = 1 << 20

// bindJSON decodes the request's JSON body of at most maxJSONBody bytes into
// v (see decodeJSON).
func bindJSON(c *gin.Context, v any) bool { return decodeJSON(c, v, maxJSONBody) }

// decodeJSON is the admin API's one JSON body decoder. It reads a body of
// at most limit bytes into v and renders what is wrong, naming the field:
// a body over the limit is 413; an unknown field (a typo would otherwise do
// nothing), a value of the wrong JSON type, control characters in text, or a
// body that is not one JSON object is 400. It reports whether v was filled.
func decodeJSON(c *gin.Context, v any, limit int64) bool {
	body, ok := readBody(c, limit)
	return ok && decodeBody(c, body, v)
}

// readBody reads the request body of at most limit bytes; over it, it
// renders 413.
func readBody(c *gin.Context, limit int64) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			abortError(c, http.StatusRequestEntityTooLarge, "too_large", "the body may be at most "+byteSize(limit), "")
			return nil, false
		}
		abortError(c, http.StatusBadRequest, "invalid", "the body could not be read", "")
		return nil, false
	}
	return body, true
}

// decodeBody decodes a body already read into v (see decodeStrict), or
// renders why not.
func decodeBody(c *gin.Context, body []byte, v any) bool {
	if field, reason := decodeStrict(body, v); reason != "" {
		abortError(c, http.StatusBadRequest, "invalid", reason, field)
		return false
	}
	return true
}

// decodeStrict decodes one JSON object into v. It answers the field at fault
// (dotted, as in "conditions.code_ids") and why, in plain words; an empty
// reason means v was filled.
func decodeStrict(body []byte, v any) (field, reason string) {
	if len(bytes.TrimSpace(body)) == 0 {
		return "", "the body must be a JSON object"
	}
	if field, reason := checkText(body); reason != "" {
		return field, reason
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, err := dec.Token(); err != io.EOF {
			return "", "the body must be one JSON object with nothing after it"
		}
		return "", ""
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return "", fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "", "the body is not valid JSON (it ends too early)"
	case errors.As(err, &typ):
		if typ.Field == "" {
			return "", "the body must be a JSON object"
		}
		return typ.Field, "must be " + jsonKind(typ.Type, typ.Value)
	case strings.HasPrefix(err.Error(), `json: unknown field "`):
		name := strings.TrimSuffix(strings.TrimPrefix(err.Error(), `json: unknown field "`), `"`)
		return name, "is not a field of this object (check its spelling in docs/API.md)"
	}
	// A value's own UnmarshalJSON refused it (a time, say).
	return "", "the body has a value of the wrong form: " + strings.TrimPrefix(err.Error(), "json: ")
}

// requireFields renders 400 naming the first field of v's type (a struct)
// that the JSON object body leaves out; fields tagged omitempty may be left
// out. It is for a PUT that replaces a whole resource.
func requireFields(c *gin.Context, body []byte, v any) bool {
	var present map[string]json.RawMessage
	if err := json.Unmarshal(body, &present); err != nil {
		abortError(c, http.StatusBadRequest, "invalid", "the body must be a JSON object", "")
		return false
	}
	t := reflect.TypeOf(v)
	for i := 0; i < t.NumField(); i++ {
		name, opts, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		if name == "" || name == "-" || strings.Contains(opts, "omitempty") {
			continue
		}
		if _, ok := present[name]; !ok {
			abortError(c, http.StatusBadRequest, "invalid", "is required: this replaces the whole resource (PATCH changes only what it names)", name)
			return false
		}
	}
	return true
}

// jsonKind says in plain words what JSON value a Go type takes.
func jsonKind(t reflect.Type, got string) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if strings.HasPrefix(got, "number") {
			return "a whole number within range"
		}
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if strings.HasPrefix(got, "number") {
			return "a whole number, 0 or more"
		}
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "a list"
	case reflect.Map, reflect.Struct:
		return "an object"
	}
	return "of another type"
}

// checkText walks the body's strings: no text holds NUL or another control
// character but tab and line breaks (a welcome text may have those), and
// names, titles and object keys hold none at all.
func checkText(body []byte) (field, reason string) {
	var stack []*jsonFrame
	path := func() string {
		var b strings.Builder
		for _, f := range stack {
			if f.object {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(f.key)
			} else {
				b.WriteString("[" + strconv.Itoa(f.index) + "]")
			}
		}
		return b.String()
	}
	advance := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.object {
			top.wantKey = true
		} else {
			top.index++
		}
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	for {
		tok, err := dec.Token()
		if err != nil {
			return "", "" // the decoder proper reports malformed JSON
		}
		switch t := tok.(type) {
		case json.Delim:
			if t == '{' || t == '[' {
				stack = append(stack, &jsonFrame{object: t == '{', wantKey: t == '{'})
				continue
			}
			stack = stack[:len(stack)-1]
		case string:
			if n := len(stack); n > 0 && stack[n-1].object && stack[n-1].wantKey {
				top := stack[n-1]
				top.key, top.wantKey = t, false
				if hasControl(t, false) {
					return path(), "a name may not hold control characters"
				}
				continue
			}
			if hasControl(t, !isNameField(stack)) {
				if isNameField(stack) {
					return path(), "may not hold control characters (NUL, tabs, line breaks, ...)"
				}
				return path(), "may not hold NUL or control characters other than tabs and line breaks"
			}
		}
		advance()
	}
}

// jsonFrame is one open object or list on checkText's way through a body.
type jsonFrame struct {
	object  bool
	wantKey bool
	key     string
	index   int
}

// isNameField reports whether the innermost key names a name, a title or an
// id, which hold no control characters at all.
func isNameField(stack []*jsonFrame) bool {
	for i := len(stack) - 1; i >= 0; i-- {
		if stack[i].object {
			return isNameKey(stack[i].key)
		}
	}
	return false
}

func isNameKey(key string) bool {
	switch key {
	case "name", "names", "title", "group", "remark", "userid", "userids", "backup_userids":
		return true
	}
	return strings.HasSuffix(key, "_name") || strings.HasSuffix(key, "_title")
}

// hasControl reports a control character in s; text allows tabs and line
// breaks.
func hasControl(s string, text bool) bool {
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			if text && (r == '\t' || r == '\n' || r == '\r') {
				continue
			}
			return true
		}
	}
	return false
}

// byteSize renders a size limit for people: "64 KiB", "1 MiB".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.FormatInt(n>>20, 10) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.FormatInt(n>>10, 10) + " KiB"
	}
	return strconv.FormatInt(n, 10) + " bytes"
}
