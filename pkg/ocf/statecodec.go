package ocf

import (
	"encoding"
	"errors"
	"fmt"
	"math"
	"net/netip"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The state codec writes and reads the JSON encoding/json would for the
// values agents keep in state files, without encoding/json, whose
// reflection machinery, scanner and generic sorting cost every agent binary
// about 350 KB; this one is written for size.
//
// It covers: structs (exported fields; `json:"name,omitempty"` tags, "-"
// skipping a field; embedded structs promoted by encoding/json's dominance
// rules), bool, every int, uint and float kind (time.Duration is an integer
// of nanoseconds), string, slices and arrays of any supported type ([]byte
// as base64), maps with string keys (sorted), pointers (nil is null),
// interfaces (written as the value they hold, read only through a non-nil
// pointer they hold), and the text types time.Time, netip.Addr and
// netip.Prefix (as their MarshalText: "2006-01-02T15:04:05.5Z",
// "192.0.2.1", "192.0.2.0/24"). A cycle is an error. Decoding matches keys
// to field names exactly, then case-insensitively, ignores unknown keys,
// leaves v untouched on a syntax error, and on a value of the wrong type for
// its destination stores the rest and reports the first mismatch.
//
// Deliberately left out, each costing code in every binary for no agent's
// benefit: other encoding.TextMarshaler and TextUnmarshaler types (an error,
// never a silent structural encoding: calling MarshalText through the
// interface keeps every such method linked in, time.Parse with them),
// json.Marshaler and json.Unmarshaler, the ",string" and ",omitzero" tag
// options (ignored: the field is written as usual), maps with non-string
// keys and decoding into an empty interface.

// MarshalState returns v as the indented JSON State.Save writes: the bytes
// json.MarshalIndent(v, "", "  ") returns (no trailing newline).
func MarshalState(v any) ([]byte, error) {
	e := encoder{fields: fieldCache{}}
	if err := e.value(reflect.ValueOf(v)); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// UnmarshalState parses JSON data into v, a non-nil pointer, as
// json.Unmarshal would for the types MarshalState supports.
func UnmarshalState(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return errors.New("state: decode into a non-pointer or nil value")
	}
	d := decoder{data: data, fields: fieldCache{}}
	if err := d.skip(); err != nil {
		return err
	}
	if d.peek() != 0 || d.off < len(data) {
		return d.syntax("after top-level value")
	}
	d.off = 0
	if err := d.value(rv); err != nil {
		return err
	}
	return d.err
}

// maxDepth bounds nesting in decoding: values, pointers followed.
const maxDepth = 10000

func unsupported(t reflect.Type) error {
	return errors.New("state: unsupported type " + t.String())
}

// isText reports whether t is one of the text types. (Not package
// variables: those would link the types' methods into every binary.)
func isText(t reflect.Type) bool {
	return t == reflect.TypeFor[time.Time]() || t == reflect.TypeFor[netip.Addr]() || t == reflect.TypeFor[netip.Prefix]()
}

// otherText reports whether t (not a pointer or interface) has a text
// form the codec does not know: it implements encoding.TextMarshaler or
// encoding.TextUnmarshaler and is not one of the text types.
func otherText(t reflect.Type) bool {
	if isText(t) {
		return false
	}
	switch reflect.New(t).Interface().(type) {
	case encoding.TextMarshaler, encoding.TextUnmarshaler:
		return true
	}
	return false
}

// A field is a struct field as JSON sees it.
type field struct {
	name      string
	tagged    bool  // the name comes from the tag
	index     []int // through embedded structs
	omitEmpty bool
}

// A fieldCache keeps the fields of the struct types met in one call.
type fieldCache map[reflect.Type][]field

// of returns t's fields in index order: exported fields and the fields of
// embedded structs, where for each name the shallowest field wins, or the
// only tagged one among the shallowest; none when that is ambiguous.
func (c fieldCache) of(t reflect.Type) []field {
	if fs, ok := c[t]; ok {
		return fs
	}
	var all []field
	var walk func(t reflect.Type, index []int, path []reflect.Type)
	walk = func(t reflect.Type, index []int, path []reflect.Type) {
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			ft := sf.Type
			if ft.Name() == "" && ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			embeddedStruct := sf.Anonymous && ft.Kind() == reflect.Struct
			tag := jsonTag(sf.Tag)
			if !sf.IsExported() && !embeddedStruct || tag == "-" {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			if !validTag(name) {
				name = ""
			}
			idx := append(index[:len(index):len(index)], i)
			if name == "" && embeddedStruct {
				if !containsType(path, ft) { // else a cycle
					walk(ft, idx, append(path, ft))
				}
				continue
			}
			tagged := name != ""
			if !tagged {
				name = sf.Name
			}
			all = append(all, field{name: name, tagged: tagged, index: idx,
				omitEmpty: strings.Contains(","+opts+",", ",omitempty,")})
		}
	}
	walk(t, nil, []reflect.Type{t})
	fs := all[:0:0]
	for i, f := range all {
		if dominant(all, f.name) == i {
			fs = append(fs, f)
		}
	}
	c[t] = fs
	return fs
}

func containsType(list []reflect.Type, t reflect.Type) bool {
	for _, x := range list {
		if x == t {
			return true
		}
	}
	return false
}

// dominant returns the position in fields of the field name refers to, or
// -1.
func dominant(fields []field, name string) int {
	depth := -1
	for _, f := range fields {
		if f.name == name && (depth < 0 || len(f.index) < depth) {
			depth = len(f.index)
		}
	}
	best, n, tagged := -1, 0, 0
	for i, f := range fields {
		if f.name != name || len(f.index) != depth {
			continue
		}
		if n++; f.tagged {
			if tagged++; tagged == 1 {
				best = i
			}
		} else if n == 1 {
			best = i
		}
	}
	if tagged == 1 || tagged == 0 && n == 1 {
		return best
	}
	return -1
}

// jsonTag returns the value of the json key in tag, as tag.Get("json")
// does, but with only \" and \\ as escapes (a tag with another escape has
// no json value here): strconv.Unquote, which Get calls, is not otherwise
// linked into the agents.
func jsonTag(tag reflect.StructTag) string {
	s := string(tag)
	for {
		s = strings.TrimLeft(s, " ")
		i := 0
		for i < len(s) && s[i] > ' ' && s[i] != ':' && s[i] != '"' && s[i] != 0x7f {
			i++
		}
		if i == 0 || i+1 >= len(s) || s[i] != ':' || s[i+1] != '"' {
			return ""
		}
		key := s[:i]
		s = s[i+1:]
		for i = 1; i < len(s) && s[i] != '"'; i++ {
			if s[i] == '\\' {
				i++
			}
		}
		if i >= len(s) {
			return ""
		}
		quoted := s[1:i]
		if s = s[i+1:]; key != "json" {
			continue
		}
		var value []byte
		for i := 0; i < len(quoted); i++ {
			c := quoted[i]
			if c == '\\' {
				i++
				c = quoted[i]
				if c != '"' && c != '\\' {
					return ""
				}
			} else if c == '\n' {
				return ""
			}
			value = append(value, c)
		}
		return string(value)
	}
}

// validTag reports whether s may name a field (encoding/json's rule).
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c) && !unicode.IsLetter(c) && !unicode.IsDigit(c) {
			return false
		}
	}
	return true
}

// An encoder appends indented JSON to buf.
type encoder struct {
	buf    []byte
	depth  int // nesting, for indentation
	fields fieldCache

	nesting int     // pointers, maps and slices being encoded
	seen    []visit // those of them past the 100th
}

// A visit is a pointer, map or slice being encoded.
type visit struct {
	t reflect.Type
	p uintptr
	n int // a slice's length
}

func (e *encoder) newline() {
	e.buf = append(e.buf, '\n')
	for range e.depth {
		e.buf = append(e.buf, ' ', ' ')
	}
}

// open and close bracket a non-empty array or object.
func (e *encoder) open(c byte) {
	e.buf = append(e.buf, c)
	e.depth++
}

func (e *encoder) close(c byte) {
	e.depth--
	e.newline()
	e.buf = append(e.buf, c)
}

// value appends v, watching for cycles.
func (e *encoder) value(v reflect.Value) error {
	k := v.Kind()
	if k != reflect.Pointer && k != reflect.Map && k != reflect.Slice || v.IsNil() {
		return e.value1(v)
	}
	// Past 100 nested pointers, maps and slices, remember them: one met
	// again on the way down is a cycle, which would never end.
	n := len(e.seen)
	if e.nesting > 100 {
		key := visit{v.Type(), v.Pointer(), 0}
		if k == reflect.Slice {
			key.n = v.Len()
		}
		for _, seen := range e.seen {
			if seen == key {
				return errors.New("state: cycle via " + key.t.String())
			}
		}
		e.seen = append(e.seen, key)
	}
	e.nesting++
	err := e.value1(v)
	e.nesting--
	e.seen = e.seen[:n]
	return err
}

// value1 appends v.
func (e *encoder) value1(v reflect.Value) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	t := v.Type()
	if isText(t) && v.CanInterface() {
		var text []byte
		var err error
		switch x := v.Interface().(type) {
		case time.Time:
			text, err = x.MarshalText()
		case netip.Addr:
			text, err = x.MarshalText()
		case netip.Prefix:
			text, err = x.MarshalText()
		}
		if err != nil {
			return fmt.Errorf("state: %v: %w", t, err)
		}
		e.buf = appendString(e.buf, string(text))
		return nil
	}
	k := t.Kind()
	switch k {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem())
	default:
		if otherText(t) {
			return unsupported(t)
		}
		switch k {
		case reflect.Bool:
			e.buf = strconv.AppendBool(e.buf, v.Bool())
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			e.buf = strconv.AppendInt(e.buf, v.Int(), 10)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			e.buf = strconv.AppendUint(e.buf, v.Uint(), 10)
		case reflect.Float32, reflect.Float64:
			return e.float(v.Float(), t.Bits())
		case reflect.String:
			e.buf = appendString(e.buf, v.String())
		case reflect.Struct:
			return e.object(v)
		case reflect.Map:
			return e.mapValue(v)
		case reflect.Slice, reflect.Array:
			if k == reflect.Slice && v.IsNil() {
				e.buf = append(e.buf, "null"...)
				return nil
			}
			if k == reflect.Slice && t.Elem().Kind() == reflect.Uint8 {
				e.buf = append(appendBase64(append(e.buf, '"'), v.Bytes()), '"')
				return nil
			}
			if v.Len() == 0 {
				e.buf = append(e.buf, "[]"...)
				return nil
			}
			e.open('[')
			for i := range v.Len() {
				if i > 0 {
					e.buf = append(e.buf, ',')
				}
				e.newline()
				if err := e.value(v.Index(i)); err != nil {
					return err
				}
			}
			e.close(']')
		default:
			return unsupported(t)
		}
	}
	return nil
}

// float formats f as encoding/json does: the shortest representation,
// in exponent form only below 1e-6 or from 1e21.
func (e *encoder) float(f float64, bits int) error {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return errors.New("state: unsupported value " + strconv.FormatFloat(f, 'g', -1, bits))
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21)) {
		format = 'e'
	}
	b := strconv.AppendFloat(e.buf, f, format, -1, bits)
	if n := len(b); format == 'e' && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-09 becomes e-9
		b = b[:n-1]
	}
	e.buf = b
	return nil
}

// member starts an object member: separator, key, colon.
func (e *encoder) member(name string, first bool) {
	if !first {
		e.buf = append(e.buf, ',')
	}
	e.newline()
	e.buf = append(appendString(e.buf, name), ':', ' ')
}

func (e *encoder) object(v reflect.Value) error {
	first := true
fields:
	for _, f := range e.fields.of(v.Type()) {
		fv := v
		for _, i := range f.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields // in a nil embedded pointer
				}
				fv = fv.Elem()
			}
			fv = fv.Field(i)
		}
		if f.omitEmpty && isEmpty(fv) {
			continue
		}
		if first {
			e.open('{')
		}
		e.member(f.name, first)
		first = false
		if err := e.value(fv); err != nil {
			return err
		}
	}
	if first {
		e.buf = append(e.buf, "{}"...)
	} else {
		e.close('}')
	}
	return nil
}

// isEmpty is omitempty's test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool:
		return !v.Bool()
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return v.Int() == 0
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return v.Uint() == 0
	case reflect.Float32, reflect.Float64:
		return v.Float() == 0
	case reflect.Interface, reflect.Pointer:
		return v.IsNil()
	}
	return false
}

func (e *encoder) mapValue(v reflect.Value) error {
	if v.Type().Key().Kind() != reflect.String {
		return unsupported(v.Type())
	}
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	keys := v.MapKeys()
	if len(keys) == 0 {
		e.buf = append(e.buf, "{}"...)
		return nil
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j].String() < keys[j-1].String(); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	e.open('{')
	for i, k := range keys {
		e.member(k.String(), i == 0)
		if err := e.value(v.MapIndex(k)); err != nil {
			return err
		}
	}
	e.close('}')
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json quotes it: <, > and &
// escaped for HTML, invalid UTF-8 as U+FFFD, U+2028 and U+2029 escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c < utf8.RuneSelf && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
			i++
			continue
		}
		r, size := rune(c), 1
		if c >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
			if r != utf8.RuneError && r != '\u2028' && r != '\u2029' || size != 1 && r == utf8.RuneError {
				i += size
				continue
			}
		}
		b = append(b, s[start:i]...)
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', c)
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\f':
			b = append(b, '\\', 'f')
		default: // controls, <, >, &, U+2028, U+2029, and U+FFFD for a bad byte
			if r == utf8.RuneError {
				r = 0xfffd
			}
			b = append(b, '\\', 'u', hexDigits[r>>12&0xF], hexDigits[r>>8&0xF], hexDigits[r>>4&0xF], hexDigits[r&0xF])
		}
		i += size
		start = i
	}
	return append(append(b, s[start:]...), '"')
}

const base64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

// appendBase64 appends src in standard, padded base64.
func appendBase64(b, src []byte) []byte {
	for len(src) > 0 {
		var q [3]byte
		n := copy(q[:], src)
		src = src[n:]
		x := uint(q[0])<<16 | uint(q[1])<<8 | uint(q[2])
		out := [4]byte{base64Chars[x>>18], base64Chars[x>>12&63], base64Chars[x>>6&63], base64Chars[x&63]}
		for i := n + 1; i < 4; i++ {
			out[i] = '='
		}
		b = append(b, out[:]...)
	}
	return b
}

// decodeBase64 decodes standard, padded base64, ignoring '\r' and '\n'
// (as base64.StdEncoding does).
func decodeBase64(s []byte) ([]byte, bool) {
	out := make([]byte, 0, len(s)*3/4)
	var x uint
	n, pad := 0, 0 // characters in the quantum; '=' seen
	for _, c := range s {
		var d int
		switch {
		case c == '\r' || c == '\n':
			continue
		case c == '=':
			if n < 2 {
				return nil, false
			}
			pad++
			d = 0
		case pad > 0:
			return nil, false
		default:
			d = strings.IndexByte(base64Chars, c)
			if d < 0 {
				return nil, false
			}
		}
		x = x<<6 | uint(d)
		if n++; n == 4 {
			out = append(out, byte(x>>16), byte(x>>8), byte(x))
			out = out[:len(out)-pad]
			if pad > 0 {
				pad = 3 // nothing may follow
			}
			n, x = 0, 0
		}
	}
	return out, n == 0 && pad != 1 && pad != 2
}

// A decoder reads JSON from data. UnmarshalState checks the whole text
// with skip first, so the decoding pass meets only well-formed input.
type decoder struct {
	data   []byte
	off    int
	depth  int
	err    error // the first type mismatch, reported at the end
	fields fieldCache
}

func (d *decoder) syntax(context string) error {
	if d.off >= len(d.data) {
		return errors.New("state: unexpected end of JSON input")
	}
	return fmt.Errorf("state: invalid character %q at offset %d %s", d.data[d.off], d.off, context)
}

// mismatch records that a JSON value of kind what does not fit t.
func (d *decoder) mismatch(what string, t reflect.Type) {
	if d.err == nil {
		d.err = errors.New("state: cannot decode " + what + " at offset " + strconv.Itoa(d.off) + " into " + t.String())
	}
}

// peek skips white space and returns the next byte (0 at the end).
func (d *decoder) peek() byte {
	for ; d.off < len(d.data); d.off++ {
		switch c := d.data[d.off]; c {
		case ' ', '\t', '\n', '\r':
		default:
			return c
		}
	}
	return 0
}

// skip reads one value, checking its syntax.
func (d *decoder) skip() error {
	switch d.peek() {
	case '{':
		return d.members(func([]byte) error { return d.skip() })
	case '[':
		return d.elements(d.skip)
	case '"':
		_, err := d.str()
		return err
	case 't':
		return d.literal("true")
	case 'f':
		return d.literal("false")
	case 'n':
		return d.literal("null")
	default:
		_, err := d.number()
		return err
	}
}

func (d *decoder) literal(s string) error {
	for i := 0; i < len(s); i, d.off = i+1, d.off+1 {
		if d.off >= len(d.data) || d.data[d.off] != s[i] {
			return d.syntax("in literal " + s)
		}
	}
	return nil
}

// number reads a number, returning its text.
func (d *decoder) number() ([]byte, error) {
	start := d.off
	digit := func() bool { return d.off < len(d.data) && d.data[d.off] >= '0' && d.data[d.off] <= '9' }
	digits := func() error {
		if !digit() {
			return d.syntax("in numeric literal")
		}
		for digit() {
			d.off++
		}
		return nil
	}
	is := func(set string) bool {
		if d.off < len(d.data) && strings.IndexByte(set, d.data[d.off]) >= 0 {
			d.off++
			return true
		}
		return false
	}
	if !is("-") && !digit() {
		return nil, d.syntax("looking for beginning of value")
	}
	if !is("0") {
		if err := digits(); err != nil {
			return nil, err
		}
	}
	if is(".") {
		if err := digits(); err != nil {
			return nil, err
		}
	}
	if is("eE") {
		is("+-")
		if err := digits(); err != nil {
			return nil, err
		}
	}
	return d.data[start:d.off], nil
}

// str reads a quoted string, returning its contents with escapes
// resolved, invalid UTF-8 and lone surrogates as U+FFFD.
func (d *decoder) str() ([]byte, error) {
	d.off++ // the opening quote
	start := d.off
	for d.off < len(d.data) {
		c := d.data[d.off]
		if c == '"' {
			d.off++
			return d.data[start : d.off-1], nil
		}
		if c == '\\' || c < 0x20 || c >= utf8.RuneSelf {
			break
		}
		d.off++
	}
	out := append([]byte(nil), d.data[start:d.off]...)
	for d.off < len(d.data) {
		c := d.data[d.off]
		switch {
		case c == '"':
			d.off++
			return out, nil
		case c < 0x20:
			return nil, d.syntax("in string literal")
		case c == '\\':
			d.off++
			r, ok := d.escape()
			if !ok {
				return nil, d.syntax("in string escape code")
			}
			if utf16.IsSurrogate(r) {
				// A pair makes one rune; anything else leaves U+FFFD and
				// is read afresh.
				save := d.off
				r2, ok := rune(0), false
				if d.off+1 < len(d.data) && d.data[d.off] == '\\' && d.data[d.off+1] == 'u' {
					d.off++
					r2, ok = d.escape()
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == unicode.ReplacementChar {
					r, d.off = unicode.ReplacementChar, save
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			r, size := utf8.DecodeRune(d.data[d.off:])
			out = utf8.AppendRune(out, r) // U+FFFD for a bad byte
			d.off += size
		}
	}
	return nil, d.syntax("in string literal")
}

// escape reads the escape after a backslash.
func (d *decoder) escape() (rune, bool) {
	if d.off >= len(d.data) {
		return 0, false
	}
	c := d.data[d.off]
	d.off++
	if i := strings.IndexByte(`"\/bfnrt`, c); i >= 0 {
		return rune("\"\\/\b\f\n\r\t"[i]), true
	}
	if c != 'u' || d.off+4 > len(d.data) {
		return 0, false
	}
	r, err := strconv.ParseUint(string(d.data[d.off:d.off+4]), 16, 16)
	d.off += 4
	return rune(r), err == nil
}

// elements calls each for every element of the array at d.off.
func (d *decoder) elements(each func() error) error {
	return d.composite(']', func() error { return each() })
}

// members calls each with every key of the object at d.off, with d.off
// on its value.
func (d *decoder) members(each func(key []byte) error) error {
	return d.composite('}', func() error {
		if d.peek() != '"' {
			return d.syntax("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.syntax("after object key")
		}
		d.off++
		return each(key)
	})
}

func (d *decoder) composite(end byte, each func() error) error {
	if d.depth++; d.depth > maxDepth {
		return errors.New("state: exceeded max depth")
	}
	d.off++ // [ or {
	if d.peek() == end {
		d.off++
		d.depth--
		return nil
	}
	for {
		if err := each(); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.off++
		case end:
			d.off++
			d.depth--
			return nil
		default:
			return d.syntax("after element")
		}
	}
}

// value decodes the next value into v.
func (d *decoder) value(v reflect.Value) error {
	c := d.peek()
	if c == 'n' {
		d.off += len("null")
		// null sets the first settable pointer, map, slice or interface
		// to nil and leaves anything else alone.
		for v.Kind() == reflect.Pointer && !v.CanSet() {
			v = v.Elem()
		}
		switch v.Kind() {
		case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface:
			v.SetZero()
		}
		return nil
	}
	// Follow pointers (allocating), and interfaces holding one.
	for i := 0; ; i++ {
		if i > maxDepth {
			return errors.New("state: pointer cycle via " + v.Type().String())
		}
		if v.Kind() == reflect.Interface && !v.IsNil() && v.Elem().Kind() == reflect.Pointer && !v.Elem().IsNil() {
			v = v.Elem()
			continue
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		v = v.Elem()
	}
	t := v.Type()
	k := t.Kind()
	if k != reflect.Interface && otherText(t) {
		return unsupported(t)
	}
	switch c {
	case '{':
		switch {
		case isText(t):
		case k == reflect.Struct:
			return d.object(v)
		case k == reflect.Map && t.Key().Kind() == reflect.String:
			if v.IsNil() {
				v.Set(reflect.MakeMap(t))
			}
			return d.members(func(key []byte) error {
				elem := reflect.New(t.Elem()).Elem()
				if err := d.value(elem); err != nil {
					return err
				}
				kv := reflect.New(t.Key()).Elem()
				kv.SetString(string(key))
				v.SetMapIndex(kv, elem)
				return nil
			})
		}
		d.mismatch("object", t)
		return d.skip()
	case '[':
		if k != reflect.Slice && k != reflect.Array {
			d.mismatch("array", t)
			return d.skip()
		}
		i := 0
		if err := d.elements(func() error {
			if k == reflect.Slice && i >= v.Len() {
				v.Set(reflect.Append(v, reflect.New(t.Elem()).Elem()))
			}
			i++
			if i > v.Len() {
				return d.skip() // past the end of an array
			}
			return d.value(v.Index(i - 1))
		}); err != nil {
			return err
		}
		for ; k == reflect.Array && i < v.Len(); i++ {
			v.Index(i).SetZero()
		}
		if k == reflect.Slice {
			if i == 0 {
				v.Set(reflect.MakeSlice(t, 0, 0))
			}
			v.SetLen(i)
		}
		return nil
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		switch {
		case isText(t):
			return d.text(v, s)
		case k == reflect.String:
			v.SetString(string(s))
		case k == reflect.Slice && t.Elem().Kind() == reflect.Uint8:
			b, ok := decodeBase64(s)
			if !ok {
				d.mismatch("invalid base64 string", t)
				return nil
			}
			v.SetBytes(b)
		default:
			d.mismatch("string", t)
		}
		return nil
	case 't', 'f':
		d.off += 4
		if c == 'f' {
			d.off++
		}
		if k != reflect.Bool {
			d.mismatch("bool", t)
			return nil
		}
		v.SetBool(c == 't')
		return nil
	}
	num, err := d.number()
	if err != nil {
		return err
	}
	s := string(num)
	switch k {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		n, err := strconv.ParseInt(s, 10, 64)
		if err == nil && !v.OverflowInt(n) {
			v.SetInt(n)
			return nil
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		n, err := strconv.ParseUint(s, 10, 64)
		if err == nil && !v.OverflowUint(n) {
			v.SetUint(n)
			return nil
		}
	case reflect.Float32, reflect.Float64:
		n, err := strconv.ParseFloat(s, t.Bits())
		if err == nil && !v.OverflowFloat(n) {
			v.SetFloat(n)
			return nil
		}
	}
	d.mismatch("number "+s, t)
	return nil
}

// text parses s into v, a time.Time, netip.Addr or netip.Prefix, as its
// UnmarshalText would.
func (d *decoder) text(v reflect.Value, s []byte) error {
	var x any
	var err error
	switch v.Type() {
	case reflect.TypeFor[time.Time]():
		x, err = parseRFC3339(string(s))
	case reflect.TypeFor[netip.Addr]():
		var a netip.Addr
		if len(s) > 0 {
			a, err = netip.ParseAddr(string(s))
		}
		x = a
	default:
		var p netip.Prefix
		if len(s) > 0 {
			p, err = netip.ParsePrefix(string(s))
		}
		x = p
	}
	if err != nil {
		return fmt.Errorf("state: %v: %w", v.Type(), err)
	}
	v.Set(reflect.ValueOf(x))
	return nil
}

// parseRFC3339 parses the RFC 3339 text time.Time.MarshalText writes, with
// the zone as (*time.Time).UnmarshalText sets it: UTC for "Z", Local when
// its offset at that instant matches, else an unnamed fixed zone. (Calling
// UnmarshalText would link time.Parse into every agent.)
func parseRFC3339(s string) (time.Time, error) {
	bad := errors.New("parsing time " + strconv.Quote(s) + " as RFC 3339: invalid syntax")
	ok := true
	num := func(s string, lo, hi int) int {
		n, err := strconv.Atoi(s)
		if err != nil || s[0] < '0' || n < lo || n > hi {
			ok = false
		}
		return n
	}
	if len(s) < len("2006-01-02T15:04:05Z") || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' {
		return time.Time{}, bad
	}
	year, month := num(s[0:4], 0, 9999), num(s[5:7], 1, 12)
	day := num(s[8:10], 1, 31)
	hour, minute, sec := num(s[11:13], 0, 23), num(s[14:16], 0, 59), num(s[17:19], 0, 59)
	if ok && day > time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day() {
		ok = false // past the end of the month
	}
	s = s[19:]
	nsec := 0
	if len(s) >= 2 && s[0] == '.' && s[1] >= '0' && s[1] <= '9' {
		n := 1
		for ; n < len(s) && s[n] >= '0' && s[n] <= '9'; n++ {
			if n <= 9 {
				nsec = nsec*10 + int(s[n]-'0')
			}
		}
		for i := n; i <= 9; i++ {
			nsec *= 10
		}
		s = s[n:]
	}
	t := time.Date(year, time.Month(month), day, hour, minute, sec, nsec, time.UTC)
	if s != "Z" {
		if len(s) != len("-07:00") || s[0] != '+' && s[0] != '-' || s[3] != ':' {
			return time.Time{}, bad
		}
		offset := (num(s[1:3], 0, 23)*60 + num(s[4:6], 0, 59)) * 60
		if s[0] == '-' {
			offset = -offset
		}
		t = t.Add(-time.Duration(offset) * time.Second)
		if _, off := t.In(time.Local).Zone(); off == offset {
			t = t.In(time.Local)
		} else {
			t = t.In(time.FixedZone("", offset))
		}
	}
	if !ok {
		return time.Time{}, bad
	}
	return t, nil
}

func (d *decoder) object(v reflect.Value) error {
	fields := d.fields.of(v.Type())
	return d.members(func(key []byte) error {
		f := -1
		for i := range fields {
			if fields[i].name == string(key) {
				f = i
				break
			}
		}
		for i := 0; f < 0 && i < len(fields); i++ {
			if strings.EqualFold(fields[i].name, string(key)) {
				f = i
			}
		}
		if f < 0 {
			return d.skip()
		}
		sub := v
		for _, i := range fields[f].index {
			if sub.Kind() == reflect.Pointer {
				if sub.IsNil() {
					if !sub.CanSet() {
						d.mismatch("object member (embedded pointer to unexported struct)", sub.Type())
						return d.skip()
					}
					sub.Set(reflect.New(sub.Type().Elem()))
				}
				sub = sub.Elem()
			}
			sub = sub.Field(i)
		}
		return d.value(sub)
	})
}
