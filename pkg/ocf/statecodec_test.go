package ocf

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"math"
	"net"
	"net/netip"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

// The shapes of the records the agents keep (agents/vip record,
// agents/bond record with pkg/bond LinkState, agents/linkhealth Config,
// Target, Status, LinkReport and record), copied here so the codec is
// tested on exactly what is stored.
type vipRecord struct {
	IP     string `json:"ip"`
	NIC    string `json:"nic"`
	Prefix int    `json:"prefix"`
	Label  string `json:"label,omitempty"`
}

type bondLinkState struct {
	Name   string `json:"name"`
	Index  int    `json:"index"`
	Up     bool   `json:"up"`
	MTU    int    `json:"mtu"`
	MAC    string `json:"mac,omitempty"`
	Master string `json:"master,omitempty"`
}

type bondRecord struct {
	Instance string          `json:"instance"`
	Bond     string          `json:"bond"`
	Index    int             `json:"index,omitempty"`
	Created  bool            `json:"created"`
	Mode     string          `json:"mode"`
	Slaves   []bondLinkState `json:"slaves,omitempty"`
	Options  []string        `json:"options,omitempty"`
}

type lhTarget struct {
	Addr  netip.Addr `json:"addr"`
	Iface string     `json:"iface"`
}

type lhConfig struct {
	Interfaces    []string      `json:"interfaces"`
	Name          string        `json:"name"`
	Multiplier    int           `json:"multiplier"`
	Targets       []lhTarget    `json:"targets,omitempty"`
	ProbeInterval time.Duration `json:"probe_interval"`
	ProbeTimeout  time.Duration `json:"probe_timeout"`
	FailCount     int           `json:"fail_count"`
	RecoverCount  int           `json:"recover_count"`
	Dampen        time.Duration `json:"dampen"`
	Health        bool          `json:"health_attribute"`
	MinHealthy    int           `json:"min_healthy"`
	Generation    int           `json:"generation"`
}

type lhLinkReport struct {
	Name    string `json:"name"`
	Healthy bool   `json:"healthy"`
	Partial bool   `json:"partial,omitempty"`
	Detail  string `json:"detail"`
}

type lhStatus struct {
	Pid        int            `json:"pid"`
	Generation int            `json:"generation"`
	Started    bool           `json:"started"`
	Fatal      string         `json:"fatal,omitempty"`
	FatalCode  int            `json:"fatal_code,omitempty"`
	Value      int            `json:"value"`
	Published  string         `json:"published,omitempty"`
	Healthy    int            `json:"healthy"`
	Total      int            `json:"total"`
	MinHealthy int            `json:"min_healthy"`
	Short      bool           `json:"short"`
	Color      string         `json:"color"`
	HealthName string         `json:"health_name,omitempty"`
	AttrdError string         `json:"attrd_error,omitempty"`
	Links      []lhLinkReport `json:"links"`
	Updated    time.Time      `json:"updated"`
}

type lhRecord struct {
	Pid        int    `json:"pid"`
	Name       string `json:"name"`
	HealthName string `json:"health_name,omitempty"`
}

// Beyond the agents: every supported kind.
type namedString string

type Inner struct {
	A int
	B int `json:"b"`
	C int
}

type inner2 struct {
	A int
	C int `json:"C"`
	E string
}

type Deep struct{ Inner }

type kitchen struct {
	Inner
	*Deep
	B      bool
	I8     int8
	I16    int16
	I32    int32
	I64    int64
	U      uint
	U8     uint8
	U16    uint16
	U32    uint32
	U64    uint64
	Uptr   uintptr
	F32    float32
	F64    float64
	S      string
	NS     namedString
	D      time.Duration
	P      *int
	PP     **int
	PS     *vipRecord
	Bytes  []byte
	Arr    [3]int
	Sl     []int
	Empty  []string
	Nested [][]string
	M      map[string]int
	MS     map[namedString]*vipRecord
	Prefix netip.Prefix
	Addr   netip.Addr
	Addr6  netip.Addr
	T      time.Time
	TP     *time.Time
	Skip   int `json:"-"`
	Dash   int `json:"-,"`
	hidden int
	Omit   string         `json:",omitempty"`
	OmitP  *int           `json:"omit_p,omitempty"`
	OmitM  map[string]int `json:"omit_m,omitempty"`
	OmitF  float64        `json:"omit_f,omitempty"`
	OmitB  bool           `json:"omit_b,omitempty"`
	OmitU  uint           `json:"omit_u,omitempty"`
	Tagged int            `json:"x-y.z"`
	BadTag int            `json:"a\"b"`
	Quote  string         `json:"<&>"`
	Other  int            `xml:"a\nb" json:"other"`
}

// embedded unexported pointer (encodes; decodes only when allocated).
type withInner2 struct {
	*inner2
	D int
}

func fullKitchen() kitchen {
	n := 7
	pn := &n
	ts := time.Date(2024, 2, 29, 23, 59, 58, 123456789, time.FixedZone("", 5*3600+1800))
	return kitchen{
		Inner: Inner{A: 1, B: 2, C: 3},
		Deep:  &Deep{Inner{A: 10, B: 20, C: 30}},
		B:     true, I8: -8, I16: -16, I32: -32, I64: math.MinInt64,
		U: 1, U8: 255, U16: 65535, U32: 1 << 31, U64: math.MaxUint64, Uptr: 42,
		F32: 0.1, F64: 1e21,
		S:  "quote\" backslash\\ slash/ <tag> & \u2028\u2029 \x00\x01\x1f\x7f \b\f\n\r\t é😀 \xff\xfe bad \xed\xa0\x80",
		NS: "named", D: 1500 * time.Millisecond,
		P: pn, PP: &pn, PS: &vipRecord{IP: "192.0.2.1", NIC: "eth0", Prefix: 24},
		Bytes:  []byte("\x00\x01\x02hello\xff"),
		Arr:    [3]int{1, 2, 3},
		Sl:     []int{-1, 0, 1},
		Empty:  []string{},
		Nested: [][]string{{"a"}, {}, nil},
		M:      map[string]int{"b": 2, "a": 1, "<": 0, "é": 3, "": 4},
		MS:     map[namedString]*vipRecord{"x": {IP: "::1"}, "nil": nil},
		Prefix: netip.MustParsePrefix("192.0.2.0/24"),
		Addr:   netip.MustParseAddr("192.0.2.10"),
		Addr6:  netip.MustParseAddr("fe80::1%eth0"),
		T:      ts, TP: &ts,
		Skip: 1, Dash: 2, hidden: 3, Tagged: 4, BadTag: 5, Quote: "q", Other: 6,
	}
}

// stateValues are the values the codec must write exactly as
// json.MarshalIndent(v, "", "  ") and read back as json.Unmarshal does.
func stateValues() []any {
	n := 0
	return []any{
		vipRecord{IP: "192.0.2.10", NIC: "eth0", Prefix: 24},
		vipRecord{IP: "2001:db8::10", NIC: "bond0", Prefix: 64, Label: "eth0:ha"},
		bondRecord{Instance: "bond-clone:1", Bond: "bond0", Index: 7, Created: true, Mode: "active-backup",
			Slaves:  []bondLinkState{{Name: "eth1", Index: 3, Up: true, MTU: 1500, MAC: "52:54:00:12:34:56"}, {Name: "eth2", Index: 4, MTU: 9000, Master: "br0"}},
			Options: []string{"miimon", "primary"}},
		bondRecord{Instance: "b", Bond: "bond1", Mode: "802.3ad"},
		lhConfig{Interfaces: []string{"eth0", "eth1"}, Name: "lh", Multiplier: 100,
			Targets:       []lhTarget{{netip.MustParseAddr("192.0.2.1"), "eth0"}, {netip.MustParseAddr("2001:db8::1"), "eth1"}, {netip.MustParseAddr("fe80::1%eth1"), "eth1"}},
			ProbeInterval: 2 * time.Second, ProbeTimeout: 500 * time.Millisecond, FailCount: 3, RecoverCount: 2,
			Dampen: 5 * time.Second, Health: true, MinHealthy: 1, Generation: 3},
		lhConfig{},
		lhStatus{Pid: 1234, Generation: 2, Started: true, Value: 200, Published: "200", Healthy: 2, Total: 2,
			MinHealthy: 1, Color: "green", HealthName: "#health-lh",
			Links:   []lhLinkReport{{Name: "eth0", Healthy: true, Detail: "up"}, {Name: "bond0", Partial: true, Detail: "1/2 slaves"}},
			Updated: time.Date(2025, 11, 30, 22, 25, 1, 987654321, time.UTC)},
		lhStatus{Pid: 1, Fatal: "no such interface \"eth9\"", FatalCode: 6, Updated: time.Now()},
		lhStatus{},
		lhRecord{Pid: 99, Name: "lh", HealthName: "#health-lh"},
		lhRecord{},
		fullKitchen(),
		kitchen{},
		withInner2{inner2: &inner2{A: 1, C: 2, E: "e"}, D: 3},
		withInner2{},
		&vipRecord{IP: "x"},
		(*vipRecord)(nil),
		[]vipRecord{{IP: "a"}, {IP: "b"}},
		[]vipRecord{},
		map[string]lhRecord{"z": {Pid: 1}, "a": {Pid: 2}},
		map[string]any{"n": 1, "s": "x", "l": []any{true, nil, 1.5}},
		[]any{1, "two", nil, map[string]any{}},
		"string", 42, -1.5, true, nil, &n,
		struct{}{},
		struct{ A, B int }{1, 2},
		[]byte(nil), []byte{}, []byte("abc"), []byte("abcd"), []byte("abcde"),
		[2]bool{true, false},
		time.Duration(-5),
		time.Time{},
		time.Date(9999, 12, 31, 23, 59, 59, 999999999, time.FixedZone("", -12*3600)),
		time.Date(1, 1, 1, 0, 0, 0, 1, time.FixedZone("", 14*3600+59*60)),
		netip.Addr{}, netip.Prefix{},
		[]float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1e-6, 1e-7, 123456789, 1e20, 1e21, 1.5e300, math.MaxFloat64, math.SmallestNonzeroFloat64},
		[]float32{0, 0.1, 1e-7, 1e21, math.MaxFloat32, math.SmallestNonzeroFloat32},
	}
}

func TestMarshalStateMatchesEncodingJSON(t *testing.T) {
	for i, v := range stateValues() {
		want, werr := json.MarshalIndent(v, "", "  ")
		got, err := MarshalState(v)
		if err != nil || werr != nil {
			t.Errorf("%d (%T): MarshalState error %v, encoding/json error %v", i, v, err, werr)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%d (%T): MarshalState differs from json.MarshalIndent:\n got %s\nwant %s", i, v, got, want)
		}
	}
}

// decodeBoth decodes data into a new value of type typ with UnmarshalState
// and with json.Unmarshal, and reports a difference: in whether they fail,
// or in the value when both succeed.
func decodeBoth(t *testing.T, typ reflect.Type, data []byte) {
	t.Helper()
	ours, theirs := reflect.New(typ), reflect.New(typ)
	err := UnmarshalState(data, ours.Interface())
	jerr := json.Unmarshal(data, theirs.Interface())
	if err != nil && jerr == nil && strings.Contains(err.Error(), "as RFC 3339") {
		// The one known difference: time.Time's UnmarshalText falls back
		// on time.Parse(time.RFC3339, …), which also accepts what
		// time.Time.MarshalText never writes (a one-digit hour, a comma
		// before the fraction, zone offsets of 24 hours or 60 minutes);
		// the codec reads only the RFC 3339 MarshalText writes.
		return
	}
	if (err == nil) != (jerr == nil) {
		t.Errorf("%v from %q: UnmarshalState error %v, encoding/json error %v", typ, data, err, jerr)
		return
	}
	if err == nil && !reflect.DeepEqual(ours.Elem().Interface(), theirs.Elem().Interface()) {
		t.Errorf("%v from %q:\n got %#v\nwant %#v", typ, data, ours.Elem().Interface(), theirs.Elem().Interface())
	}
}

func TestUnmarshalStateMatchesEncodingJSON(t *testing.T) {
	for _, v := range stateValues() {
		if v == nil {
			continue
		}
		typ := reflect.TypeOf(v)
		if typ.Kind() == reflect.Map && typ.Elem().Kind() == reflect.Interface ||
			typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Interface {
			continue // decoding into interface{} is not supported
		}
		indented, _ := json.MarshalIndent(v, "", "  ")
		compact, _ := json.Marshal(v)
		decodeBoth(t, typ, indented)
		decodeBoth(t, typ, compact)
		decodeBoth(t, typ, append([]byte(" \t\r\n"), append(indented, "\n\n"...)...))
	}
}

// decodeInputs are texts both decoders must agree on, for every target.
var decodeInputs = []string{
	`{}`, `null`, ` null `, `[]`, `""`, `0`, `true`, ``, ` `, `{`, `}`, `[`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `{,}`,
	`{"ip":"x","IP":"y","iP":"z"}`, `{"IP":"a","Nic":"n","PREFIX":24}`, `{"unknown":[1,{"x":[null]}],"ip":"k"}`,
	`{"prefix":null}`, `{"prefix":1.5}`, `{"prefix":"1"}`, `{"prefix":1e2}`, `{"prefix":-0}`, `{"prefix":01}`,
	`{"prefix":99999999999999999999}`, `{"prefix":-9223372036854775808}`, `{"prefix":-}`, `{"prefix":1.}`, `{"prefix":.5}`,
	`{"prefix":1e}`, `{"prefix":1E+2}`, `{"prefix":tru}`, `{"prefix":nul}`, `{"prefix":True}`,
	`{} x`, `{}}`, `[1,2]`, `{"ip":"\ud800"}`, `{"ip":"\ud83d\ude00"}`, `{"ip":"\ud83d\u0041"}`, `{"ip":"\udc00\ud800\udc00"}`,
	`{"ip":"\ud800\u"}`, `{"ip":"\uZZZZ"}`, `{"ip":"\x"}`, `{"ip":"\/\b\f\n\r\t\"\\"}`, "{\"ip\":\"\xff\xfe\xed\xa0\x80\"}",
	"{\"ip\":\"a\nb\"}", "{\"ip\":\"a\tb\"}", "{\"\xff\":1}", `{"ip":"é😀"}`, `{"ip":"unterminated}`,
	`{"slaves":[{"name":"a","up":true},{"name":"b","mtu":"x"}],"created":true}`, `{"slaves":null,"options":[]}`,
	`{"slaves":{}}`, `{"options":[1]}`, `{"options":["a",null,"b"]}`, `{"index":1,"index":2}`,
	`{"targets":[{"addr":"192.0.2.1","iface":"e"},{"addr":"","iface":"f"}]}`, `{"targets":[{"addr":"x"}]}`,
	`{"targets":[{"addr":1}]}`, `{"targets":[{"addr":null}]}`, `{"targets":[{"addr":{}}]}`, `{"targets":[{"addr":[]}]}`,
	`{"probe_interval":1000000000,"dampen":-1,"probe_timeout":1.5}`,
	`{"updated":"2025-11-30T22:25:01.987654321Z"}`, `{"updated":"2025-11-30T22:25:01+01:00"}`,
	`{"updated":"2025-11-30T22:25:01.5-23:59"}`, `{"updated":"2025-11-30T22:25:01.1234567891234Z"}`,
	`{"updated":"2025-02-29T00:00:00Z"}`, `{"updated":"2024-02-29T00:00:00Z"}`, `{"updated":"2025-11-30T24:00:00Z"}`,
	`{"updated":"2025-11-30T22:25:60Z"}`, `{"updated":"2025-11-30 22:25:01Z"}`, `{"updated":"2025-11-30T22:25:01"}`,
	`{"updated":"2025-11-30T22:25:01+24:00"}`, `{"updated":"2025-11-30T22:25:01+01:60"}`, `{"updated":"2025-11-30T22:25:01.Z"}`,
	`{"updated":"+025-11-30T22:25:01Z"}`, `{"updated":"2025-1-30T22:25:01Z"}`, `{"updated":"2025-11-30t22:25:01z"}`,
	`{"updated":"2025-11-30T22:25:01,5Z"}`, `{"updated":""}`, `{"updated":null}`, `{"updated":0}`, `{"updated":"0000-01-01T00:00:00Z"}`,
	`{"Bytes":"AAECaGVsbG//"}`, `{"Bytes":"AAE="}`, `{"Bytes":"AA=="}`, `{"Bytes":"AA="}`, `{"Bytes":"A==="}`, `{"Bytes":"AAE"}`,
	`{"Bytes":"AA\r\n=="}`, `{"Bytes":"AA==AA=="}`, `{"Bytes":"A-=="}`, `{"Bytes":""}`, `{"Bytes":null}`, `{"Bytes":[1,2]}`,
	`{"Arr":[1,2,3,4]}`, `{"Arr":[1]}`, `{"Arr":null}`, `{"M":{"a":1,"b":null}}`, `{"M":{"a":"x"}}`, `{"M":[]}`, `{"MS":{"k":{"ip":"1"},"n":null}}`,
	`{"P":5,"PP":6,"PS":{"ip":"a"}}`, `{"P":null,"PP":null,"PS":null}`, `{"A":1,"b":2,"C":3,"Deep":{"A":4}}`, `{"Inner":{"A":1}}`,
	`{"D":1,"A":9,"E":"e"}`, `{"U8":256}`, `{"U8":-1}`, `{"I8":-129}`, `{"F32":3.5e38}`, `{"F64":1e400}`, `{"F64":-1e-400}`,
	`{"Uptr":18446744073709551615}`, `{"U64":18446744073709551616}`, `{"NS":"named","T":"2000-01-01T00:00:00Z","TP":"2000-01-01T00:00:00Z"}`,
	`{"Skip":1,"-":2,"hidden":3,"x-y.z":4,"BadTag":5,"\u003c\u0026\u003e":"q","other":6}`, `{"Prefix":"192.0.2.0/24","Addr":"fe80::1%eth0"}`,
	`{"Prefix":"192.0.2.1/33"}`, `{"Prefix":""}`, `{"Addr":"1.2.3"}`, `{"Nested":[["a"],null,[]]}`, `{"Empty":null}`,
	strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100),
}

// decodeTargets are the types decodeInputs are decoded into.
var decodeTargets = []reflect.Type{
	reflect.TypeFor[vipRecord](), reflect.TypeFor[bondRecord](), reflect.TypeFor[lhConfig](), reflect.TypeFor[lhStatus](),
	reflect.TypeFor[lhRecord](), reflect.TypeFor[kitchen](), reflect.TypeFor[*kitchen](), reflect.TypeFor[withInner2](),
	reflect.TypeFor[[]int](), reflect.TypeFor[[2]string](), reflect.TypeFor[map[string]string](), reflect.TypeFor[string](),
	reflect.TypeFor[[]byte](), reflect.TypeFor[float64](), reflect.TypeFor[bool](), reflect.TypeFor[*int](), reflect.TypeFor[time.Time](),
	reflect.TypeFor[netip.Addr](),
}

func TestUnmarshalStateInputs(t *testing.T) {
	for _, typ := range decodeTargets {
		for _, in := range decodeInputs {
			decodeBoth(t, typ, []byte(in))
		}
	}
}

func TestUnmarshalStateMerges(t *testing.T) {
	// Like json.Unmarshal: members absent from the text keep their value,
	// elements present are decoded into the existing ones.
	for _, in := range []string{`{"ip":"new"}`, `{"slaves":[{"name":"x"}]}`, `{"M":{"c":3}}`, `{"Sl":[9]}`, `{"Arr":[9]}`, `{"PS":{"nic":"n"}}`} {
		ours, theirs := fullKitchen(), fullKitchen()
		vr, jr := &vipRecord{IP: "old", NIC: "eth0"}, &vipRecord{IP: "old", NIC: "eth0"}
		br, jbr := &bondRecord{Slaves: []bondLinkState{{Name: "a", MTU: 1}, {Name: "b"}}}, &bondRecord{Slaves: []bondLinkState{{Name: "a", MTU: 1}, {Name: "b"}}}
		for _, pair := range [][2]any{{&ours, &theirs}, {vr, jr}, {br, jbr}} {
			err := UnmarshalState([]byte(in), pair[0])
			jerr := json.Unmarshal([]byte(in), pair[1])
			if (err == nil) != (jerr == nil) || !reflect.DeepEqual(pair[0], pair[1]) {
				t.Errorf("%s into %T: %v / %v\n got %+v\nwant %+v", in, pair[0], err, jerr, pair[0], pair[1])
			}
		}
	}
}

func TestStateCodecUnsupported(t *testing.T) {
	type textKey struct{ M map[netip.Addr]int }
	type intKey struct{ M map[int]int }
	type withIP struct{ IP net.IP }
	type stamp struct{ time.Time } // promotes MarshalText
	for _, v := range []any{
		make(chan int), func() {}, complex(1, 2), textKey{M: map[netip.Addr]int{}}, intKey{M: map[int]int{1: 1}},
		withIP{IP: net.IPv4(192, 0, 2, 1)}, stamp{}, math.NaN(), math.Inf(-1), float32(math.Inf(1)),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC),
	} {
		if b, err := MarshalState(v); err == nil {
			t.Errorf("MarshalState(%T) = %s, want an error", v, b)
		}
	}
	for _, p := range []any{new(withIP), new(stamp), new(intKey), new(any), new(chan int)} {
		if err := UnmarshalState([]byte(`{"IP":"192.0.2.1","M":{"1":1},"Time":"2000-01-01T00:00:00Z"}`), p); err == nil {
			t.Errorf("UnmarshalState into %T succeeded", p)
		}
	}
	var r vipRecord
	for _, p := range []any{r, nil, (*vipRecord)(nil)} {
		if err := UnmarshalState([]byte(`{}`), p); err == nil {
			t.Errorf("UnmarshalState into %#v succeeded", p)
		}
	}
	// A cycle ends in an error, not a stack overflow.
	type node struct{ Next *node }
	n := &node{}
	n.Next = n
	if _, err := MarshalState(n); err == nil {
		t.Error("MarshalState of a cycle succeeded")
	}
	m := map[string]any{}
	m["m"] = m
	l := []any{nil}
	l[0] = l
	for _, v := range []any{m, l, []any{m}} {
		if _, err := MarshalState(v); err == nil {
			t.Errorf("MarshalState of a cycle through %T succeeded", v)
		}
	}
	// Deep is not a cycle.
	deep := &node{}
	for range 2000 {
		deep = &node{Next: deep}
	}
	if _, err := MarshalState(deep); err != nil {
		t.Errorf("MarshalState of 2000 nested pointers: %v", err)
	}
	var x any
	x = &x
	if err := UnmarshalState([]byte(`1`), &x); err == nil {
		t.Error("UnmarshalState through a self-referencing interface succeeded")
	}
}

func TestUnmarshalStateSyntaxErrorLeavesValue(t *testing.T) {
	want := vipRecord{IP: "keep", Prefix: 8}
	got := want
	if err := UnmarshalState([]byte(`{"ip":"changed","prefix":9,`), &got); err == nil || got != want {
		t.Errorf("got %+v, %v", got, err)
	}
	if err := UnmarshalState([]byte(`{"ip":"changed","prefix":"nine"}`), &got); err == nil || got.IP != "changed" {
		t.Errorf("type mismatch: got %+v, %v (want the rest stored and an error)", got, err)
	}
}

func TestJSONTag(t *testing.T) {
	for _, tag := range []reflect.StructTag{
		``, `json:"a"`, `json:"a,omitempty"`, `xml:"x" json:"b"`, `json:"-"`, `json:"-,"`, `json:""`, `json:`, `json`,
		`json:"a\"b"`, `json:"a\\b"`, `json:"a\nb"`, `json:"a\tb"`, `xml:"a\n" json:"c"`, `json:"c" json:"d"`, `  json:"e"`,
		`jsonx:"f" json:"g"`, `json:"unterminated`, `json:"x"y`, `x:"1"json:"z"`, "json:\"a\nb\"",
	} {
		if got, want := jsonTag(tag), tag.Get("json"); got != want && !strings.Contains(string(tag), `\`) && !strings.Contains(string(tag), "\n") {
			t.Errorf("jsonTag(%q) = %q, want %q", tag, got, want)
		}
	}
	for tag, want := range map[reflect.StructTag]string{`json:"a\"b"`: `a"b`, `json:"a\\b"`: `a\b`, `json:"a\nb"`: ``, `xml:"a\n" json:"c"`: "c"} {
		if got := jsonTag(tag); got != want {
			t.Errorf("jsonTag(%q) = %q, want %q", tag, got, want)
		}
	}
}

func TestStateSaveFormat(t *testing.T) {
	s := State{Dir: t.TempDir()}
	p := s.Path("linkhealth", "lh", ".conf")
	cfg := stateValues()[4]
	if err := s.Save(p, cfg); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := json.MarshalIndent(cfg, "", "  ")
	if string(got) != string(want)+"\n" {
		t.Errorf("state file:\n%s\nwant:\n%s", got, want)
	}
	var back lhConfig
	if err := s.Load(p, &back); err != nil || !reflect.DeepEqual(back, cfg) {
		t.Errorf("Load = %+v, %v", back, err)
	}
}

func TestBase64(t *testing.T) {
	for _, s := range []string{"", "f", "fo", "foo", "foob", "fooba", "foobar", "\x00\xff\xfe"} {
		want := base64.StdEncoding.EncodeToString([]byte(s))
		if got := string(appendBase64(nil, []byte(s))); got != want {
			t.Errorf("appendBase64(%q) = %q, want %q", s, got, want)
		}
		checkBase64(t, []byte(want))
	}
}

func checkBase64(t *testing.T, in []byte) {
	t.Helper()
	want, werr := base64.StdEncoding.DecodeString(string(in))
	got, ok := decodeBase64(in)
	if ok != (werr == nil) || ok && !bytes.Equal(got, want) {
		t.Errorf("decodeBase64(%q) = %q, %v; encoding/base64: %q, %v", in, got, ok, want, werr)
	}
}

func FuzzBase64(f *testing.F) {
	for _, s := range []string{"", "AA==", "AAE=", "AAEC", "A===", "AA=\n=", "AA==\r\n", "AB=C", "====", "A"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		checkBase64(t, in)
		want := base64.StdEncoding.EncodeToString(in)
		if got := string(appendBase64(nil, in)); got != want {
			t.Errorf("appendBase64(%q) = %q, want %q", in, got, want)
		}
	})
}

// FuzzUnmarshalState checks that decoding never panics and agrees with
// encoding/json on every target type.
func FuzzUnmarshalState(f *testing.F) {
	for _, in := range decodeInputs {
		f.Add([]byte(in))
	}
	for _, v := range stateValues() {
		b, _ := json.Marshal(v)
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, typ := range decodeTargets {
			decodeBoth(t, typ, data)
		}
	})
}

// FuzzMarshalState checks that encoding agrees byte for byte with
// json.MarshalIndent, and that the result decodes back.
func FuzzMarshalState(f *testing.F) {
	f.Add("eth0", int64(24), 1.5, []byte("x"), true, int64(0))
	f.Add("\xff<\u2028>", int64(-1), 1e-7, []byte(nil), false, int64(1700000000123456789))
	f.Fuzz(func(t *testing.T, s string, n int64, fl float64, b []byte, ok bool, ns int64) {
		k := kitchen{S: s, NS: namedString(s), I64: n, I8: int8(n), U64: uint64(n), F64: fl, F32: float32(fl), Bytes: b, B: ok,
			D: time.Duration(n), Sl: []int{int(n)}, M: map[string]int{s: 1, s + "x": 2},
			T: time.Unix(0, ns).In(time.FixedZone("", int(n%50400))), Omit: s}
		if a, err := netip.ParseAddr(s); err == nil {
			k.Addr = a
		}
		want, werr := json.MarshalIndent(k, "", "  ")
		got, err := MarshalState(k)
		if (err == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("MarshalState = %s, %v\njson.MarshalIndent = %s, %v", got, err, want, werr)
		}
		if err == nil {
			decodeBoth(t, reflect.TypeFor[kitchen](), got)
		}
	})
}
