package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Decode reads one JSON value into v, as both transports read what a client
// sends (an MQTT command's envelope and arguments, an HTTP body): no field v
// does not have, one value and nothing after it, and text that is valid
// Unicode. encoding/json would silently turn invalid UTF-8 and a lone
// surrogate escape ("\ud800") into U+FFFD; Decode refuses them with
// invalid_argument instead, so that what a client sent is stored as it sent
// it or not at all. Other refusals are bad_request or unknown_field.
func Decode(data []byte, v any) *Error {
	if err := CheckText(data); err != nil {
		return &Error{Code: CodeInvalid, Message: err.Error()}
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if f, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			return &Error{Code: CodeUnknownField, Message: "unknown field " + f}
		}
		return &Error{Code: CodeBadRequest, Message: "malformed JSON: " + strings.TrimPrefix(err.Error(), "json: ")}
	}
	if dec.More() {
		return &Error{Code: CodeBadRequest, Message: "one JSON value expected"}
	}
	return nil
}

// CheckText reports whether the strings of a JSON document are valid
// Unicode: the document is UTF-8, and every \u escape of a surrogate is one
// half of a pair. It does not check the rest of the syntax (the decoder
// does).
func CheckText(doc []byte) error {
	if !utf8.Valid(doc) {
		return fmt.Errorf("the text is not UTF-8")
	}
	inString := false
	for i := 0; i < len(doc); i++ {
		switch c := doc[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString && i+1 < len(doc):
			if doc[i+1] != 'u' {
				i++ // \" \\ \n…: skip the escaped character
				continue
			}
			r, ok := hex4(doc, i+2)
			if !ok {
				i++ // malformed: the decoder says so
				continue
			}
			switch {
			case r >= 0xD800 && r <= 0xDBFF:
				low, ok := hex4(doc, i+8)
				if !ok || doc[i+6] != '\\' || doc[i+7] != 'u' || low < 0xDC00 || low > 0xDFFF {
					return fmt.Errorf("a string holds a lone surrogate (\\u%04x): not Unicode text", r)
				}
				i += 11
			case r >= 0xDC00 && r <= 0xDFFF:
				return fmt.Errorf("a string holds a lone surrogate (\\u%04x): not Unicode text", r)
			default:
				i += 5
			}
		}
	}
	return nil
}

// hex4 reads the 4 hexadecimal digits at doc[i:].
func hex4(doc []byte, i int) (rune, bool) {
	if i < 0 || i+4 > len(doc) {
		return 0, false
	}
	var r rune
	for _, c := range doc[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}
