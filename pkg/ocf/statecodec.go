package ocf

import (
	"encoding"
	"encoding/base64"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// The state codec writes and reads the JSON that encoding/json would, for
// the values agents keep in state files, without encoding/json itself (whose
// reflection machinery, generic sorting and scanner cost every agent binary
// about 280 KB). It follows encoding/json's rules: struct fields by their
// `json:"name,omitempty,omitzero,string"` tags ("-" skips a field), embedded
// structs promoted with the same dominance rules, unexported fields skipped,
// map keys sorted, []byte as base64, nil slices, maps and pointers as null,
// time.Duration and every other integer as a number, strings escaped for
// HTML as encoding/json does, and types implementing encoding.TextMarshaler
// and encoding.TextUnmarshaler (netip.Addr, time.Time, ...) as their text.
// Decoding matches field names exactly, then case-insensitively, ignores
// unknown fields and leaves v untouched on a syntax error. The one omission:
// json.Marshaler and json.Unmarshaler (MarshalJSON, UnmarshalJSON) are not
// called; a type with only those methods is encoded by its structure.

// MarshalState returns v as the indented JSON State.Save writes (two
// spaces per level, no trailing newline): the bytes
// json.MarshalIndent(v, "", "  ") returns.
func MarshalState(v any) ([]byte, error) {
	e := encoder{indent: true}
	if err := e.value(reflect.ValueOf(v), false); err != nil {
		return nil, err
	}
	return e.buf, nil
}

// UnmarshalState parses JSON data into v, a non-nil pointer, as
// json.Unmarshal would. A syntax error leaves v unchanged; a value of the
// wrong type for its destination is skipped and reported after the rest is
// stored.
func UnmarshalState(data []byte, v any) error {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() {
		return fmt.Errorf("state: decode into non-pointer or nil %T", v)
	}
	d := decoder{data: data}
	if err := d.check(); err != nil {
		return err
	}
	d.off = 0
	if err := d.value(rv); err != nil {
		return err
	}
	return d.saved
}

var (
	textMarshalerType   = reflect.TypeFor[encoding.TextMarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	isZeroerType        = reflect.TypeFor[interface{ IsZero() bool }]()
)

// maxDepth bounds nesting, in values decoded and in pointers followed while
// encoding (a cycle ends in an error, not a stack overflow).
const maxDepth = 10000

// A field is a struct field as the codec sees it.
type field struct {
	name      string
	tagged    bool  // name came from the tag
	index     []int // path through embedded structs
	typ       reflect.Type
	omitEmpty bool
	omitZero  bool
	quoted    bool // ",string"
}

// structFields lists t's JSON fields in index order, applying
// encoding/json's rules for tags and embedded structs.
func structFields(t reflect.Type) []field {
	var fields []field
	current, next := []field{}, []field{{typ: t}}
	var count, nextCount map[reflect.Type]int
	visited := map[reflect.Type]bool{}
	for len(next) > 0 {
		current, next = next, current[:0]
		count, nextCount = nextCount, map[reflect.Type]int{}
		for _, f := range current {
			if visited[f.typ] {
				continue
			}
			visited[f.typ] = true
			for i := 0; i < f.typ.NumField(); i++ {
				sf := f.typ.Field(i)
				if sf.Anonymous {
					t := sf.Type
					if t.Kind() == reflect.Pointer {
						t = t.Elem()
					}
					if !sf.IsExported() && t.Kind() != reflect.Struct {
						continue
					}
				} else if !sf.IsExported() {
					continue
				}
				tag := sf.Tag.Get("json")
				if tag == "-" {
					continue
				}
				name, opts, _ := strings.Cut(tag, ",")
				if !validTag(name) {
					name = ""
				}
				index := make([]int, len(f.index)+1)
				copy(index, f.index)
				index[len(f.index)] = i
				ft := sf.Type
				if ft.Name() == "" && ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				if name != "" || !sf.Anonymous || ft.Kind() != reflect.Struct {
					nf := field{name: name, tagged: name != "", index: index, typ: sf.Type}
					if name == "" {
						nf.name = sf.Name
					}
					for opts != "" {
						var o string
						o, opts, _ = strings.Cut(opts, ",")
						switch o {
						case "omitempty":
							nf.omitEmpty = true
						case "omitzero":
							nf.omitZero = true
						case "string":
							switch ft.Kind() {
							case reflect.Bool, reflect.String, reflect.Float32, reflect.Float64,
								reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
								reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
								nf.quoted = true
							}
						}
					}
					fields = append(fields, nf)
					if count[f.typ] > 1 {
						// Twice, so the dominance pass sees the conflict.
						fields = append(fields, nf)
					}
					continue
				}
				nextCount[ft]++
				if nextCount[ft] == 1 {
					next = append(next, field{index: index, typ: ft})
				}
			}
		}
	}
	// Keep, for each name, the one dominant field: the shallowest, or the
	// only tagged one among the shallowest; none when that is ambiguous.
	out := fields[:0:0]
	for i, f := range fields {
		if dominant(fields, f.name) == i {
			out = append(out, f)
		}
	}
	for i := 1; i < len(out); i++ {
		for j := i; j > 0 && indexLess(out[j].index, out[j-1].index); j-- {
			out[j], out[j-1] = out[j-1], out[j]
		}
	}
	return out
}

// A fieldCache keeps structFields' answers for one encoding or decoding.
type fieldCache map[reflect.Type][]field

func (c *fieldCache) fields(t reflect.Type) []field {
	if *c == nil {
		*c = fieldCache{}
	}
	f, ok := (*c)[t]
	if !ok {
		f = structFields(t)
		(*c)[t] = f
	}
	return f
}

// dominant returns the position in fields of the field that name refers
// to, or -1.
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
		n++
		if f.tagged {
			if tagged == 0 {
				best = i
			}
			tagged++
		} else if n == 1 {
			best = i
		}
	}
	if tagged == 1 || (tagged == 0 && n == 1) {
		return best
	}
	return -1
}

func indexLess(a, b []int) bool {
	for i := 0; i < len(a) && i < len(b); i++ {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

// validTag reports whether s may name a field (encoding/json's rule).
func validTag(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		switch {
		case strings.ContainsRune("!#$%&()*+-./:;<=>?@[]^_{|}~ ", c):
		case !unicode.IsLetter(c) && !unicode.IsDigit(c):
			return false
		}
	}
	return true
}

// An encoder appends JSON to buf.
type encoder struct {
	fieldCache
	buf    []byte
	indent bool
	depth  int // nesting, for indentation
	ptrs   int // pointers followed, for cycles
}

func (e *encoder) newline() {
	if e.indent {
		e.buf = append(e.buf, '\n')
		for range e.depth {
			e.buf = append(e.buf, ' ', ' ')
		}
	}
}

func isInt(k reflect.Kind) bool {
	return k >= reflect.Int && k <= reflect.Int64
}

func unsupported(t reflect.Type) error {
	return fmt.Errorf("state: unsupported type %v", t)
}

// marshalsText reports whether v encodes as its MarshalText, and returns
// the value to call it on.
func marshalsText(v reflect.Value) (encoding.TextMarshaler, bool) {
	t := v.Type()
	if t.Kind() != reflect.Interface && t.Implements(textMarshalerType) {
		if t.Kind() == reflect.Pointer && v.IsNil() {
			return nil, true
		}
		return v.Interface().(encoding.TextMarshaler), true
	}
	if t.Kind() != reflect.Pointer && v.CanAddr() && reflect.PointerTo(t).Implements(textMarshalerType) {
		return v.Addr().Interface().(encoding.TextMarshaler), true
	}
	return nil, false
}

// value appends v; quoted applies a ",string" tag.
func (e *encoder) value(v reflect.Value, quoted bool) error {
	if !v.IsValid() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	if tm, ok := marshalsText(v); ok {
		if tm == nil {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		text, err := tm.MarshalText()
		if err != nil {
			return fmt.Errorf("state: %v: MarshalText: %w", v.Type(), err)
		}
		e.buf = appendString(e.buf, string(text))
		return nil
	}
	switch v.Kind() {
	case reflect.Bool:
		e.scalar(quoted, strconv.AppendBool(nil, v.Bool()))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		e.scalar(quoted, strconv.AppendInt(nil, v.Int(), 10))
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		e.scalar(quoted, strconv.AppendUint(nil, v.Uint(), 10))
	case reflect.Float32, reflect.Float64:
		b, err := appendFloat(nil, v.Float(), v.Type().Bits())
		if err != nil {
			return err
		}
		e.scalar(quoted, b)
	case reflect.String:
		if quoted {
			e.buf = appendString(e.buf, string(appendString(nil, v.String())))
		} else {
			e.buf = appendString(e.buf, v.String())
		}
	case reflect.Interface:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		return e.value(v.Elem(), false)
	case reflect.Pointer:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if e.ptrs++; e.ptrs > maxDepth {
			return fmt.Errorf("state: encountered a cycle via %v", v.Type())
		}
		err := e.value(v.Elem(), quoted)
		e.ptrs--
		return err
	case reflect.Struct:
		return e.object(v)
	case reflect.Map:
		return e.mapValue(v)
	case reflect.Slice:
		if v.IsNil() {
			e.buf = append(e.buf, "null"...)
			return nil
		}
		if v.Type().Elem().Kind() == reflect.Uint8 && !reflect.PointerTo(v.Type().Elem()).Implements(textMarshalerType) {
			e.buf = append(e.buf, '"')
			e.buf = base64.StdEncoding.AppendEncode(e.buf, v.Bytes())
			e.buf = append(e.buf, '"')
			return nil
		}
		return e.array(v)
	case reflect.Array:
		return e.array(v)
	default:
		return unsupported(v.Type())
	}
	return nil
}

func (e *encoder) scalar(quoted bool, b []byte) {
	if quoted {
		e.buf = append(e.buf, '"')
	}
	e.buf = append(e.buf, b...)
	if quoted {
		e.buf = append(e.buf, '"')
	}
}

// appendFloat formats f as encoding/json does: the shortest
// representation, in exponent form only for very large or small values.
func appendFloat(b []byte, f float64, bits int) ([]byte, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, fmt.Errorf("state: unsupported value %s", strconv.FormatFloat(f, 'g', -1, bits))
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 {
		if bits == 64 && (abs < 1e-6 || abs >= 1e21) || bits == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	b = strconv.AppendFloat(b, f, format, -1, bits)
	if n := len(b); format == 'e' && n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
		b[n-2] = b[n-1] // e-09 becomes e-9
		b = b[:n-1]
	}
	return b, nil
}

func (e *encoder) array(v reflect.Value) error {
	n := v.Len()
	if n == 0 {
		e.buf = append(e.buf, '[', ']')
		return nil
	}
	e.buf = append(e.buf, '[')
	e.depth++
	for i := range n {
		if i > 0 {
			e.buf = append(e.buf, ',')
		}
		e.newline()
		if err := e.value(v.Index(i), false); err != nil {
			return err
		}
	}
	e.depth--
	e.newline()
	e.buf = append(e.buf, ']')
	return nil
}

// key appends an object key and its separator.
func (e *encoder) key(name string, first bool) {
	if !first {
		e.buf = append(e.buf, ',')
	}
	e.newline()
	e.buf = appendString(e.buf, name)
	e.buf = append(e.buf, ':')
	if e.indent {
		e.buf = append(e.buf, ' ')
	}
}

func (e *encoder) object(v reflect.Value) error {
	e.buf = append(e.buf, '{')
	e.depth++
	first := true
fields:
	for _, f := range e.fields(v.Type()) {
		fv := v
		for _, i := range f.index {
			if fv.Kind() == reflect.Pointer {
				if fv.IsNil() {
					continue fields
				}
				fv = fv.Elem()
			}
			fv = fv.Field(i)
		}
		if f.omitEmpty && isEmpty(fv) || f.omitZero && isZero(fv) {
			continue
		}
		e.key(f.name, first)
		first = false
		if err := e.value(fv, f.quoted); err != nil {
			return err
		}
	}
	e.depth--
	if !first {
		e.newline()
	}
	e.buf = append(e.buf, '}')
	return nil
}

// isEmpty is omitempty's test.
func isEmpty(v reflect.Value) bool {
	switch v.Kind() {
	case reflect.Array, reflect.Map, reflect.Slice, reflect.String:
		return v.Len() == 0
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Interface, reflect.Pointer:
		return v.IsZero()
	}
	return false
}

// isZero is omitzero's test: the IsZero method when there is one.
func isZero(v reflect.Value) bool {
	t := v.Type()
	switch {
	case t.Implements(isZeroerType):
		if (t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface) && v.IsNil() {
			return true
		}
		if t.Kind() == reflect.Interface && v.Elem().Kind() == reflect.Pointer && v.Elem().IsNil() {
			return true
		}
		return v.Interface().(interface{ IsZero() bool }).IsZero()
	case t.Kind() != reflect.Interface && reflect.PointerTo(t).Implements(isZeroerType):
		if !v.CanAddr() {
			c := reflect.New(t).Elem()
			c.Set(v)
			v = c
		}
		return v.Addr().Interface().(interface{ IsZero() bool }).IsZero()
	}
	return v.IsZero()
}

func (e *encoder) mapValue(v reflect.Value) error {
	if v.IsNil() {
		e.buf = append(e.buf, "null"...)
		return nil
	}
	kt := v.Type().Key()
	switch kt.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !kt.Implements(textMarshalerType) {
			return unsupported(v.Type())
		}
	}
	type entry struct {
		key string
		val reflect.Value
	}
	entries := make([]entry, 0, v.Len())
	for it := v.MapRange(); it.Next(); {
		k := it.Key()
		var name string
		switch {
		case k.Kind() == reflect.String:
			name = k.String()
		case kt.Implements(textMarshalerType):
			if k.Kind() != reflect.Pointer || !k.IsNil() {
				text, err := k.Interface().(encoding.TextMarshaler).MarshalText()
				if err != nil {
					return fmt.Errorf("state: %v: MarshalText: %w", kt, err)
				}
				name = string(text)
			}
		case k.CanInt():
			name = strconv.FormatInt(k.Int(), 10)
		default:
			name = strconv.FormatUint(k.Uint(), 10)
		}
		entries = append(entries, entry{name, it.Value()})
	}
	for i := 1; i < len(entries); i++ {
		for j := i; j > 0 && entries[j].key < entries[j-1].key; j-- {
			entries[j], entries[j-1] = entries[j-1], entries[j]
		}
	}
	e.buf = append(e.buf, '{')
	e.depth++
	for i, en := range entries {
		e.key(en.key, i == 0)
		if err := e.value(en.val, false); err != nil {
			return err
		}
	}
	e.depth--
	if len(entries) > 0 {
		e.newline()
	}
	e.buf = append(e.buf, '}')
	return nil
}

const hexDigits = "0123456789abcdef"

// appendString appends s quoted as encoding/json does (HTML-safe, invalid
// UTF-8 as U+FFFD, U+2028 and U+2029 escaped).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// A decoder reads JSON from data. check validates the whole text first, so
// the decoding pass that follows meets only well-formed input.
type decoder struct {
	fieldCache
	data  []byte
	off   int
	depth int
	saved error // the first type mismatch, reported at the end
}

func (d *decoder) syntax(msg string) error {
	return fmt.Errorf("state: syntax error at offset %d: %s", d.off, msg)
}

func (d *decoder) unexpected(what string) error {
	if d.off >= len(d.data) {
		return d.syntax("unexpected end of input")
	}
	return d.syntax(fmt.Sprintf("invalid character %q %s", d.data[d.off], what))
}

func (d *decoder) save(err error) {
	if d.saved == nil {
		d.saved = err
	}
}

func (d *decoder) mismatch(what string, t reflect.Type) {
	d.save(fmt.Errorf("state: cannot decode %s at offset %d into a value of type %v", what, d.off, t))
}

func (d *decoder) ws() {
	for d.off < len(d.data) {
		switch d.data[d.off] {
		case ' ', '\t', '\n', '\r':
			d.off++
		default:
			return
		}
	}
}

// peek skips white space and returns the next byte (0 at the end).
func (d *decoder) peek() byte {
	d.ws()
	if d.off < len(d.data) {
		return d.data[d.off]
	}
	return 0
}

// check validates data as exactly one JSON value.
func (d *decoder) check() error {
	if err := d.skip(); err != nil {
		return err
	}
	if d.peek() != 0 || d.off < len(d.data) {
		return d.unexpected("after top-level value")
	}
	return nil
}

// skip reads one value, checking its syntax.
func (d *decoder) skip() error {
	switch c := d.peek(); c {
	case '{', '[':
		if d.depth++; d.depth > maxDepth {
			return d.syntax("exceeded max depth")
		}
		d.off++
		end := byte(']')
		if c == '{' {
			end = '}'
		}
		if d.peek() == end {
			d.off++
			d.depth--
			return nil
		}
		for {
			if c == '{' {
				if d.peek() != '"' {
					return d.unexpected("looking for beginning of object key string")
				}
				if _, err := d.str(); err != nil {
					return err
				}
				if d.peek() != ':' {
					return d.unexpected("after object key")
				}
				d.off++
			}
			if err := d.skip(); err != nil {
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
				if c == '{' {
					return d.unexpected("after object key:value pair")
				}
				return d.unexpected("after array element")
			}
		}
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
	for i := 0; i < len(s); i++ {
		if d.off >= len(d.data) || d.data[d.off] != s[i] {
			return d.unexpected("in literal " + s)
		}
		d.off++
	}
	return nil
}

// number reads a number, returning its text.
func (d *decoder) number() ([]byte, error) {
	start := d.off
	digits := func() error {
		if d.off >= len(d.data) || d.data[d.off] < '0' || d.data[d.off] > '9' {
			return d.unexpected("in numeric literal")
		}
		for d.off < len(d.data) && d.data[d.off] >= '0' && d.data[d.off] <= '9' {
			d.off++
		}
		return nil
	}
	if d.off < len(d.data) && d.data[d.off] == '-' {
		d.off++
	} else if d.off >= len(d.data) || d.data[d.off] < '0' || d.data[d.off] > '9' {
		return nil, d.unexpected("looking for beginning of value")
	}
	if d.off < len(d.data) && d.data[d.off] == '0' {
		d.off++
	} else if err := digits(); err != nil {
		return nil, err
	}
	if d.off < len(d.data) && d.data[d.off] == '.' {
		d.off++
		if err := digits(); err != nil {
			return nil, err
		}
	}
	if d.off < len(d.data) && (d.data[d.off] == 'e' || d.data[d.off] == 'E') {
		d.off++
		if d.off < len(d.data) && (d.data[d.off] == '+' || d.data[d.off] == '-') {
			d.off++
		}
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
	// Fast path: nothing to resolve.
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
			return nil, d.unexpected("in string literal")
		case c == '\\':
			d.off++
			if d.off >= len(d.data) {
				return nil, d.unexpected("in string escape code")
			}
			switch e := d.data[d.off]; e {
			case '"', '\\', '/':
				out = append(out, e)
			case 'b':
				out = append(out, '\b')
			case 'f':
				out = append(out, '\f')
			case 'n':
				out = append(out, '\n')
			case 'r':
				out = append(out, '\r')
			case 't':
				out = append(out, '\t')
			case 'u':
				d.off++
				r, ok := d.hex4()
				if !ok {
					return nil, d.unexpected("in \\u hexadecimal character escape")
				}
				if utf16.IsSurrogate(r) {
					r2 := unicode.ReplacementChar
					if d.off+1 < len(d.data) && d.data[d.off] == '\\' && d.data[d.off+1] == 'u' {
						save := d.off
						d.off += 2
						if lo, ok := d.hex4(); ok {
							if dec := utf16.DecodeRune(r, lo); dec != unicode.ReplacementChar {
								r2 = dec
							} else {
								d.off = save // the second escape stands alone
							}
						} else {
							return nil, d.unexpected("in \\u hexadecimal character escape")
						}
					}
					r = r2
				}
				out = utf8.AppendRune(out, r)
				continue
			default:
				return nil, d.unexpected("in string escape code")
			}
			d.off++
		case c < utf8.RuneSelf:
			out = append(out, c)
			d.off++
		default:
			r, size := utf8.DecodeRune(d.data[d.off:])
			if r == utf8.RuneError && size == 1 {
				out = utf8.AppendRune(out, unicode.ReplacementChar)
			} else {
				out = append(out, d.data[d.off:d.off+size]...)
			}
			d.off += size
		}
	}
	return nil, d.unexpected("in string literal")
}

// hex4 reads the four hex digits of a \u escape.
func (d *decoder) hex4() (rune, bool) {
	if d.off+4 > len(d.data) {
		d.off = len(d.data)
		return 0, false
	}
	var r rune
	for _, c := range d.data[d.off : d.off+4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r*16 + rune(c)
	}
	d.off += 4
	return r, true
}

// indirect follows pointers from v, allocating nil ones, and stops at a
// TextUnmarshaler (unless decoding null) or at a non-pointer. For null it
// stops at the first settable pointer, which the caller sets to nil.
// (encoding/json's indirect, without json.Unmarshaler.)
func indirect(v reflect.Value, null bool) (encoding.TextUnmarshaler, reflect.Value) {
	v0 := v
	haveAddr := false
	if v.Kind() != reflect.Pointer && v.Type().Name() != "" && v.CanAddr() {
		haveAddr = true
		v = v.Addr()
	}
	for {
		if v.Kind() == reflect.Interface && !v.IsNil() {
			e := v.Elem()
			if e.Kind() == reflect.Pointer && !e.IsNil() && (!null || e.Elem().Kind() == reflect.Pointer) {
				haveAddr = false
				v = e
				continue
			}
		}
		if v.Kind() != reflect.Pointer {
			break
		}
		if null && v.CanSet() {
			break
		}
		if v.Elem().Kind() == reflect.Interface && v.Elem().Elem().Equal(v) {
			v = v.Elem()
			break
		}
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		if !null && v.Type().NumMethod() > 0 && v.CanInterface() {
			if u, ok := v.Interface().(encoding.TextUnmarshaler); ok {
				return u, reflect.Value{}
			}
		}
		if haveAddr {
			v = v0
			haveAddr = false
		} else {
			v = v.Elem()
		}
	}
	return nil, v
}

// value decodes the next value into v.
func (d *decoder) value(v reflect.Value) error {
	switch c := d.peek(); c {
	case '{':
		return d.object(v)
	case '[':
		return d.array(v)
	case '"':
		s, err := d.str()
		if err != nil {
			return err
		}
		return d.store(v, s, true, false)
	default:
		start := d.off
		if err := d.skip(); err != nil {
			return err
		}
		return d.store(v, d.data[start:d.off], false, false)
	}
}

// store stores a scalar: the contents of a string when isStr, or the text
// of a literal or number. fromQuoted tells a ",string" field's contents.
func (d *decoder) store(v reflect.Value, item []byte, isStr, fromQuoted bool) error {
	null := !isStr && item[0] == 'n'
	ut, pv := indirect(v, null)
	badQuoted := func() error {
		return fmt.Errorf("state: invalid use of ,string struct tag, trying to decode %q into %v", item, v.Type())
	}
	kind := "number"
	switch {
	case isStr:
		kind = "string"
	case null:
		kind = "null"
	case item[0] == 't' || item[0] == 'f':
		kind = "bool"
	}
	if ut != nil {
		if !isStr {
			if fromQuoted {
				d.save(badQuoted())
				return nil
			}
			d.mismatch(kind, v.Type())
			return nil
		}
		return ut.UnmarshalText(item)
	}
	v = pv
	switch kind {
	case "null":
		if fromQuoted && string(item) != "null" {
			d.save(badQuoted())
			return nil
		}
		switch v.Kind() {
		case reflect.Interface, reflect.Pointer, reflect.Map, reflect.Slice:
			v.SetZero()
		}
	case "bool":
		if fromQuoted && string(item) != "true" && string(item) != "false" {
			d.save(badQuoted())
			return nil
		}
		b := item[0] == 't'
		switch {
		case v.Kind() == reflect.Bool:
			v.SetBool(b)
		case v.Kind() == reflect.Interface && v.NumMethod() == 0:
			v.Set(reflect.ValueOf(b))
		case fromQuoted:
			d.save(badQuoted())
		default:
			d.mismatch(kind, v.Type())
		}
	case "string":
		switch {
		case v.Kind() == reflect.String:
			v.SetString(string(item))
		case v.Kind() == reflect.Interface && v.NumMethod() == 0:
			v.Set(reflect.ValueOf(string(item)))
		case v.Kind() == reflect.Slice && v.Type().Elem().Kind() == reflect.Uint8:
			b := make([]byte, base64.StdEncoding.DecodedLen(len(item)))
			n, err := base64.StdEncoding.Decode(b, item)
			if err != nil {
				d.save(fmt.Errorf("state: %w", err))
				return nil
			}
			v.SetBytes(b[:n])
		default:
			d.mismatch(kind, v.Type())
		}
	default: // number
		if c := item[0]; c != '-' && (c < '0' || c > '9') {
			if fromQuoted {
				return badQuoted()
			}
			return d.syntax("invalid number") // not reached: check ran first
		}
		switch v.Kind() {
		case reflect.Interface:
			f, err := strconv.ParseFloat(string(item), 64)
			switch {
			case err != nil:
				d.mismatch("number "+string(item), reflect.TypeFor[float64]())
			case v.NumMethod() != 0:
				d.mismatch(kind, v.Type())
			default:
				v.Set(reflect.ValueOf(f))
			}
		case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			n, err := strconv.ParseInt(string(item), 10, 64)
			if err != nil || v.OverflowInt(n) {
				d.mismatch("number "+string(item), v.Type())
				return nil
			}
			v.SetInt(n)
		case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
			n, err := strconv.ParseUint(string(item), 10, 64)
			if err != nil || v.OverflowUint(n) {
				d.mismatch("number "+string(item), v.Type())
				return nil
			}
			v.SetUint(n)
		case reflect.Float32, reflect.Float64:
			n, err := strconv.ParseFloat(string(item), v.Type().Bits())
			if err != nil || v.OverflowFloat(n) {
				d.mismatch("number "+string(item), v.Type())
				return nil
			}
			v.SetFloat(n)
		default:
			if fromQuoted {
				return badQuoted()
			}
			d.mismatch(kind, v.Type())
		}
	}
	return nil
}

// generic decodes the next value as interface{}: map[string]any, []any,
// float64, string, bool or nil.
func (d *decoder) generic() (any, error) {
	var x any
	err := d.value(reflect.ValueOf(&x).Elem())
	return x, err
}

func (d *decoder) array(v reflect.Value) error {
	ut, pv := indirect(v, false)
	if ut != nil {
		d.mismatch("array", v.Type())
		return d.skip()
	}
	v = pv
	switch v.Kind() {
	case reflect.Interface:
		if v.NumMethod() == 0 {
			var list []any
			err := d.elements(func() error {
				x, err := d.generic()
				list = append(list, x)
				return err
			})
			if err == nil {
				if list == nil {
					list = []any{}
				}
				v.Set(reflect.ValueOf(list))
			}
			return err
		}
		fallthrough
	default:
		d.mismatch("array", v.Type())
		return d.skip()
	case reflect.Array, reflect.Slice:
	}
	i := 0
	err := d.elements(func() error {
		if v.Kind() == reflect.Slice && i >= v.Len() {
			v.Set(reflect.Append(v, reflect.Zero(v.Type().Elem())))
		}
		var err error
		if i < v.Len() {
			err = d.value(v.Index(i))
		} else {
			err = d.skip() // past the end of an array
		}
		i++
		return err
	})
	if err != nil {
		return err
	}
	if i < v.Len() {
		if v.Kind() == reflect.Array {
			for ; i < v.Len(); i++ {
				v.Index(i).SetZero()
			}
		} else {
			v.SetLen(i)
		}
	}
	if i == 0 && v.Kind() == reflect.Slice {
		v.Set(reflect.MakeSlice(v.Type(), 0, 0))
	}
	return nil
}

// elements calls each for every element of the array starting at d.off.
func (d *decoder) elements(each func() error) error {
	if d.depth++; d.depth > maxDepth {
		return d.syntax("exceeded max depth")
	}
	d.off++ // [
	if d.peek() == ']' {
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
		case ']':
			d.off++
			d.depth--
			return nil
		default:
			return d.unexpected("after array element")
		}
	}
}

// members calls each with every key of the object starting at d.off, with
// d.off on its value.
func (d *decoder) members(each func(key []byte) error) error {
	if d.depth++; d.depth > maxDepth {
		return d.syntax("exceeded max depth")
	}
	d.off++ // {
	if d.peek() == '}' {
		d.off++
		d.depth--
		return nil
	}
	for {
		if d.peek() != '"' {
			return d.unexpected("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return err
		}
		if d.peek() != ':' {
			return d.unexpected("after object key")
		}
		d.off++
		if err := each(key); err != nil {
			return err
		}
		switch d.peek() {
		case ',':
			d.off++
		case '}':
			d.off++
			d.depth--
			return nil
		default:
			return d.unexpected("after object key:value pair")
		}
	}
}

func (d *decoder) object(v reflect.Value) error {
	ut, pv := indirect(v, false)
	if ut != nil {
		d.mismatch("object", v.Type())
		return d.skip()
	}
	v = pv
	t := v.Type()
	switch {
	case v.Kind() == reflect.Interface && v.NumMethod() == 0:
		m := map[string]any{}
		err := d.members(func(key []byte) error {
			x, err := d.generic()
			m[string(key)] = x
			return err
		})
		if err == nil {
			v.Set(reflect.ValueOf(m))
		}
		return err
	case v.Kind() == reflect.Map:
		return d.mapValue(v)
	case v.Kind() != reflect.Struct:
		d.mismatch("object", t)
		return d.skip()
	}
	fields := d.fields(t)
	return d.members(func(key []byte) error {
		f := -1
		for i := range fields {
			if fields[i].name == string(key) {
				f = i
				break
			}
		}
		if f < 0 {
			for i := range fields {
				if strings.EqualFold(fields[i].name, string(key)) {
					f = i
					break
				}
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
						d.save(fmt.Errorf("state: cannot set embedded pointer to unexported struct: %v", sub.Type().Elem()))
						return d.skip()
					}
					sub.Set(reflect.New(sub.Type().Elem()))
				}
				sub = sub.Elem()
			}
			sub = sub.Field(i)
		}
		if !fields[f].quoted {
			return d.value(sub)
		}
		switch d.peek() {
		case 'n':
			d.off += 4
			return d.store(sub, []byte("null"), false, false)
		case '"':
			s, err := d.str()
			if err != nil {
				return err
			}
			return d.quoted(sub, s)
		default:
			d.save(fmt.Errorf("state: invalid use of ,string struct tag, trying to decode unquoted value into %v", sub.Type()))
			return d.skip()
		}
	})
}

// quoted stores the contents s of a ",string" field's string.
func (d *decoder) quoted(v reflect.Value, s []byte) error {
	if len(s) == 0 {
		d.save(fmt.Errorf("state: invalid use of ,string struct tag, trying to decode %q into %v", s, v.Type()))
		return nil
	}
	sub := decoder{data: s}
	isStr := s[0] == '"'
	item := s
	var err error
	if isStr {
		item, err = sub.str()
	} else {
		err = sub.skip()
	}
	if err != nil || sub.off != len(s) || s[0] == '{' || s[0] == '[' {
		if !isStr && err == nil && (s[0] == '{' || s[0] == '[') {
			d.save(fmt.Errorf("state: invalid use of ,string struct tag, trying to decode %q into %v", s, v.Type()))
			return nil
		}
		return fmt.Errorf("state: invalid use of ,string struct tag, trying to decode %q into %v", s, v.Type())
	}
	if err := d.store(v, item, isStr, true); err != nil {
		return err
	}
	return nil
}

func (d *decoder) mapValue(v reflect.Value) error {
	t := v.Type()
	kt := t.Key()
	textKey := reflect.PointerTo(kt).Implements(textUnmarshalerType)
	switch kt.Kind() {
	case reflect.String, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
	default:
		if !textKey {
			d.mismatch("object", t)
			return d.skip()
		}
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(t))
	}
	return d.members(func(key []byte) error {
		elem := reflect.New(t.Elem()).Elem()
		if err := d.value(elem); err != nil {
			return err
		}
		var kv reflect.Value
		switch {
		case textKey:
			kp := reflect.New(kt)
			if err := kp.Interface().(encoding.TextUnmarshaler).UnmarshalText(key); err != nil {
				return err
			}
			kv = kp.Elem()
		case kt.Kind() == reflect.String:
			kv = reflect.New(kt).Elem()
			kv.SetString(string(key))
		case isInt(kt.Kind()):
			n, err := strconv.ParseInt(string(key), 10, 64)
			kv = reflect.New(kt).Elem()
			if err != nil || kv.OverflowInt(n) {
				d.mismatch("number "+string(key), kt)
				return nil
			}
			kv.SetInt(n)
		default:
			n, err := strconv.ParseUint(string(key), 10, 64)
			kv = reflect.New(kt).Elem()
			if err != nil || kv.OverflowUint(n) {
				d.mismatch("number "+string(key), kt)
				return nil
			}
			kv.SetUint(n)
		}
		v.SetMapIndex(kv, elem)
		return nil
	})
}
