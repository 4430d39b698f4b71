package wecom

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"
)

// Shape limits of callback XML. WeCom's envelope is <xml> with three flat
// children; its messages nest at most <xml><MemChangeList><Item>. Anything
// deeper or wider is refused before encoding/xml builds a value from it, so
// a hostile body costs a bounded scan and no more.
const (
	envelopeMaxDepth = 2
	envelopeMaxElems = 16
	eventMaxDepth    = 3
	// eventMaxElems leaves room for a MemChangeList of a full 2,000-member group.
	eventMaxElems = 2100
)

// checkShape scans doc without building anything and refuses invalid UTF-8
// (which encoding/xml lets through in comments), a root other than <xml>,
// nesting deeper than maxDepth and more than maxElems elements.
func checkShape(doc []byte, maxDepth, maxElems int) error {
	if !utf8.Valid(doc) {
		return errors.New("not valid UTF-8")
	}
	d := xml.NewDecoder(bytes.NewReader(doc))
	depth, elems := 0, 0
	for {
		tok, err := d.RawToken()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			depth++
			elems++
			if depth == 1 && (elems > 1 || t.Name.Local != "xml") {
				return errors.New("the root element must be one <xml>")
			}
			if depth > maxDepth {
				return fmt.Errorf("nested deeper than %d elements", maxDepth)
			}
			if elems > maxElems {
				return fmt.Errorf("more than %d elements", maxElems)
			}
		case xml.EndElement:
			depth--
		case xml.Directive:
			return errors.New("directives (DOCTYPE) are not allowed")
		}
	}
	if elems == 0 {
		return errors.New("no <xml> element")
	}
	return nil
}

// ParseEnvelope reads a callback body: one flat <xml> with the Encrypt field.
func ParseEnvelope(body []byte) (*Envelope, error) {
	if err := checkShape(body, envelopeMaxDepth, envelopeMaxElems); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var env Envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if env.Encrypt == "" {
		return nil, fmt.Errorf("%w: Encrypt is missing", ErrMalformed)
	}
	return &env, nil
}

// Field limits of a message: WeCom's ids are at most 64 bytes (userid,
// external_userid, chat_id, tag ids; a customer_channel State at most 64),
// CreateTime is a Unix time in seconds. A field past its limit is not
// WeCom's, and would fail every later step, so the message is refused.
const (
	maxIDBytes      = 64
	maxKindBytes    = 48
	maxWelcomeBytes = 256
	maxMembers      = 2000
	// minCreateTime and maxCreateTime bound CreateTime to 2000-01-01 ..
	// 2100-01-01: any later step may add durations to it without overflow.
	minCreateTime = 946684800
	maxCreateTime = 4102444800
	maxCount      = 1 << 20
)

// FieldError names a message field that is out of range.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Check refuses a message whose routing fields are out of WeCom's range:
// too long, holding control characters, a CreateTime that is not a sane
// Unix time, counts that are negative or absurd.
func (e *Event) Check() error {
	if e.CreateTime < minCreateTime || e.CreateTime >= maxCreateTime {
		return &FieldError{"CreateTime", fmt.Sprintf("must be a Unix time between %d and %d", minCreateTime, maxCreateTime)}
	}
	for _, f := range []struct {
		name string
		v    string
		max  int
	}{
		{"ToUserName", e.ToUserName, maxIDBytes}, {"FromUserName", e.FromUserName, maxIDBytes},
		{"MsgType", e.MsgType, maxKindBytes}, {"Event", e.Event, maxKindBytes}, {"ChangeType", e.ChangeType, maxKindBytes},
		{"UserID", e.UserID, maxIDBytes}, {"ExternalUserID", e.ExternalUserID, maxIDBytes}, {"State", e.State, maxIDBytes},
		{"WelcomeCode", e.WelcomeCode, maxWelcomeBytes}, {"Source", e.Source, maxKindBytes}, {"FailReason", e.FailReason, maxKindBytes},
		{"ChatId", e.ChatID, maxIDBytes}, {"UpdateDetail", e.UpdateDetail, maxKindBytes},
		{"LastMemVer", e.LastMemVer, maxIDBytes}, {"CurMemVer", e.CurMemVer, maxIDBytes},
		{"Id", e.ID, maxIDBytes}, {"TagType", e.TagType, maxKindBytes}, {"StrategyId", e.StrategyID, maxIDBytes},
		{"LinkId", e.LinkID, maxIDBytes}, {"AgentID", e.AgentID, maxIDBytes}, {"MsgId", e.MsgID, maxIDBytes},
	} {
		if err := checkField(f.name, f.v, f.max); err != nil {
			return err
		}
	}
	if e.MemChangeList != nil {
		if len(e.MemChangeList.Item) > maxMembers {
			return &FieldError{"MemChangeList", fmt.Sprintf("must list at most %d members", maxMembers)}
		}
		for _, m := range e.MemChangeList.Item {
			if err := checkField("MemChangeList.Item", m, maxIDBytes); err != nil {
				return err
			}
		}
	}
	for _, f := range []struct {
		name string
		v    int
	}{{"JoinScene", e.JoinScene}, {"QuitScene", e.QuitScene}, {"MemChangeCnt", e.MemChangeCnt}} {
		if f.v < 0 || f.v > maxCount {
			return &FieldError{f.name, fmt.Sprintf("must be between 0 and %d", maxCount)}
		}
	}
	return nil
}

func checkField(name, v string, max int) error {
	if len(v) > max {
		return &FieldError{name, fmt.Sprintf("must be at most %d bytes", max)}
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c == 0x7f {
			return &FieldError{name, "must not hold control characters"}
		}
	}
	return nil
}
