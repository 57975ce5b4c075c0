package ocf

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// parse runs parseValues over testSpec with the given OCF_RESKEY_* values
// (name=value, without the prefix) and flags.
func parse(t testing.TB, envKV map[string]string, flags map[string]string) (*Values, []string, []error) {
	t.Helper()
	spec := testSpec()
	return parseValues(spec.Params, func(k string) (string, bool) {
		v, ok := envKV[strings.TrimPrefix(k, "OCF_RESKEY_")]
		return v, ok
	}, flags)
}

func TestParseValues(t *testing.T) {
	type check func(t *testing.T, v *Values)
	str := func(name, want string) check {
		return func(t *testing.T, v *Values) {
			if got := v.String(name); got != want {
				t.Errorf("String(%s) = %q, want %q", name, got, want)
			}
		}
	}
	integer := func(name string, want int64) check {
		return func(t *testing.T, v *Values) {
			if got := v.Int(name); got != want {
				t.Errorf("Int(%s) = %d, want %d", name, got, want)
			}
		}
	}
	boolean := func(name string, want bool) check {
		return func(t *testing.T, v *Values) {
			if got := v.Bool(name); got != want {
				t.Errorf("Bool(%s) = %v, want %v", name, got, want)
			}
		}
	}
	dur := func(name string, want time.Duration) check {
		return func(t *testing.T, v *Values) {
			if got := v.Duration(name); got != want {
				t.Errorf("Duration(%s) = %v, want %v", name, got, want)
			}
		}
	}
	list := func(name string, want ...string) check {
		return func(t *testing.T, v *Values) {
			if got := v.List(name); !reflect.DeepEqual(got, want) && (len(got) != 0 || len(want) != 0) {
				t.Errorf("List(%s) = %q, want %q", name, got, want)
			}
		}
	}
	isSet := func(name string, want bool) check {
		return func(t *testing.T, v *Values) {
			if got := v.IsSet(name); got != want {
				t.Errorf("IsSet(%s) = %v, want %v", name, got, want)
			}
		}
	}
	ip := map[string]string{"ip": "192.0.2.10"}
	with := func(kv ...string) map[string]string {
		m := map[string]string{"ip": "192.0.2.10"}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}

	tests := []struct {
		name    string
		env     map[string]string
		flags   map[string]string
		errs    []string // substrings, one per expected error
		ignored []string
		checks  []check
	}{
		{name: "defaults", env: ip, checks: []check{
			str("ip", "192.0.2.10"), isSet("ip", true),
			integer("arp_count", 5), isSet("arp_count", false), str("arp_count", "5"),
			boolean("arp_bg", true), str("mode", "active-backup"),
			dur("arp_interval", 200*time.Millisecond), dur("dampen", 5*time.Second),
			list("slaves"), str("slaves", ""), str("label", "vip"), isSet("label", false),
			integer("cidr_netmask", 0), isSet("cidr_netmask", false), str("cidr_netmask", ""),
			boolean("lvs_support", false),
		}},
		{name: "required unset", env: nil, errs: []string{"required parameter ip is not set"}},
		{name: "required empty", env: with("ip", ""), errs: []string{"required parameter ip is not set"}},
		{name: "required blank", env: with("ip", "  \t"), errs: []string{"required parameter ip is not set"}},

		{name: "integer", env: with("cidr_netmask", "24"), checks: []check{integer("cidr_netmask", 24), isSet("cidr_netmask", true)}},
		{name: "integer trimmed", env: with("cidr_netmask", " 24\n"), checks: []check{integer("cidr_netmask", 24), str("cidr_netmask", "24")}},
		{name: "integer plus sign", env: with("arp_count", "+7"), checks: []check{integer("arp_count", 7)}},
		{name: "integer min edge", env: with("cidr_netmask", "0"), checks: []check{integer("cidr_netmask", 0), isSet("cidr_netmask", true)}},
		{name: "integer max edge", env: with("cidr_netmask", "128"), checks: []check{integer("cidr_netmask", 128)}},
		{name: "integer below min", env: with("cidr_netmask", "-1"), errs: []string{"cidr_netmask=-1: below the minimum 0"}},
		{name: "integer above max", env: with("cidr_netmask", "129"), errs: []string{"cidr_netmask=129: above the maximum 128"}},
		{name: "integer malformed", env: with("arp_count", "5x"), errs: []string{`arp_count="5x": not an integer`},
			checks: []check{integer("arp_count", 5), isSet("arp_count", false)}},
		{name: "integer overflow", env: with("arp_count", "99999999999999999999"), errs: []string{"not an integer"}},
		{name: "integer empty is unset", env: with("arp_count", ""), checks: []check{integer("arp_count", 5), isSet("arp_count", false)}},

		{name: "boolean malformed", env: with("arp_bg", "maybe"), errs: []string{`arp_bg: "maybe" is not a boolean`},
			checks: []check{boolean("arp_bg", true)}},
		{name: "boolean empty is unset", env: with("arp_bg", ""), checks: []check{boolean("arp_bg", true), isSet("arp_bg", false)}},

		{name: "select", env: with("mode", "802.3ad"), checks: []check{str("mode", "802.3ad"), isSet("mode", true)}},
		{name: "select case", env: with("mode", "Active-Backup"), checks: []check{str("mode", "active-backup")}},
		{name: "select alias", env: with("mode", "4"), checks: []check{str("mode", "802.3ad")}},
		{name: "select alias case", env: with("mode", "LACP"), checks: []check{str("mode", "802.3ad")}},
		{name: "select alias trimmed", env: with("mode", " 0 "), checks: []check{str("mode", "balance-rr")}},
		{name: "select unknown", env: with("mode", "xor"), errs: []string{`mode="xor": want one of balance-rr, active-backup, 802.3ad`},
			checks: []check{str("mode", "active-backup"), isSet("mode", false)}},
		{name: "select empty is unset", env: with("mode", ""), checks: []check{str("mode", "active-backup"), isSet("mode", false)}},

		{name: "duration with unit", env: with("arp_interval", "1.5s"), checks: []check{dur("arp_interval", 1500*time.Millisecond)}},
		{name: "duration bare in ms", env: with("arp_interval", "300"), checks: []check{dur("arp_interval", 300*time.Millisecond)}},
		{name: "duration bare in s", env: with("dampen", "10"), checks: []check{dur("dampen", 10*time.Second)}},
		{name: "duration bare fraction", env: with("dampen", "0.5"), checks: []check{dur("dampen", 500*time.Millisecond)}},
		{name: "duration minutes", env: with("dampen", "1m30s"), checks: []check{dur("dampen", 90*time.Second)}},
		{name: "duration zero", env: with("dampen", "0"), checks: []check{dur("dampen", 0), isSet("dampen", true)}},
		{name: "duration negative", env: with("dampen", "-1s"), errs: []string{"dampen: \"-1s\": want a non-negative duration"}},
		{name: "duration negative bare", env: with("dampen", "-3"), errs: []string{"non-negative"}},
		{name: "duration malformed", env: with("dampen", "soon"), errs: []string{`dampen: "soon" is not a duration`},
			checks: []check{dur("dampen", 5*time.Second)}},

		{name: "list spaces", env: with("slaves", "eth0 eth1"), checks: []check{list("slaves", "eth0", "eth1"), str("slaves", "eth0 eth1")}},
		{name: "list commas", env: with("slaves", "eth0,eth1"), checks: []check{list("slaves", "eth0", "eth1")}},
		{name: "list mixed", env: with("slaves", " eth0 ,, eth1\teth2\n"), checks: []check{list("slaves", "eth0", "eth1", "eth2")}},
		{name: "list empty is unset", env: with("slaves", ""), checks: []check{list("slaves"), isSet("slaves", false)}},

		{name: "string empty is unset", env: with("label", ""), checks: []check{str("label", "vip"), isSet("label", false)}},
		{name: "string set", env: with("label", "web"), checks: []check{str("label", "web"), isSet("label", true)}},

		{name: "ignored given", env: with("lvs_support", "true"), ignored: []string{"lvs_support"}, checks: []check{isSet("lvs_support", true)}},
		{name: "ignored malformed is no error", env: with("lvs_support", "bogus"), ignored: []string{"lvs_support"},
			checks: []check{str("lvs_support", "bogus"), boolean("lvs_support", false)}},
		{name: "ignored empty", env: with("lvs_support", ""), checks: []check{isSet("lvs_support", false)}},

		{name: "flags win", env: with("arp_count", "9"), flags: map[string]string{"arp_count": "3", "ip": "198.51.100.1"},
			checks: []check{integer("arp_count", 3), str("ip", "198.51.100.1")}},
		{name: "flag alone", env: nil, flags: map[string]string{"ip": "198.51.100.1"}, checks: []check{str("ip", "198.51.100.1"), isSet("ip", true)}},
		{name: "empty flag unsets", env: with("label", "web"), flags: map[string]string{"label": ""}, checks: []check{str("label", "vip"), isSet("label", false)}},

		{name: "several errors", env: map[string]string{"arp_count": "x", "mode": "y"},
			errs: []string{"required parameter ip", "arp_count", "mode"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v, ignored, errs := parse(t, tt.env, tt.flags)
			if len(errs) != len(tt.errs) {
				t.Fatalf("errors = %v, want %d matching %q", errs, len(tt.errs), tt.errs)
			}
			for i, e := range errs {
				if !strings.Contains(e.Error(), tt.errs[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e, tt.errs[i])
				}
			}
			if !reflect.DeepEqual(ignored, tt.ignored) {
				t.Errorf("ignored = %v, want %v", ignored, tt.ignored)
			}
			for _, c := range tt.checks {
				c(t, v)
			}
		})
	}
}

func TestBooleanSpellings(t *testing.T) {
	for _, s := range []string{"yes", "YES", "Yes", "true", "TRUE", "True", "on", "ON", "1", "y", "Y", "ja", " yes "} {
		v, _, errs := parse(t, map[string]string{"ip": "x", "arp_bg": "no", "lvs_support": "x"}, map[string]string{"arp_bg": s})
		if len(errs) != 0 || !v.Bool("arp_bg") {
			t.Errorf("%q: Bool = %v, errors %v; want true", s, v.Bool("arp_bg"), errs)
		}
		if b, err := ParseBool(s); err != nil || !b {
			t.Errorf("ParseBool(%q) = %v, %v", s, b, err)
		}
	}
	for _, s := range []string{"no", "NO", "No", "false", "FALSE", "False", "off", "OFF", "0", "n", "N", "nein"} {
		v, _, errs := parse(t, map[string]string{"ip": "x"}, map[string]string{"arp_bg": s})
		if len(errs) != 0 || v.Bool("arp_bg") {
			t.Errorf("%q: Bool = %v, errors %v; want false", s, v.Bool("arp_bg"), errs)
		}
	}
	for _, s := range []string{"2", "yess", "enabled", "-1", "t"} {
		if _, err := ParseBool(s); err == nil {
			t.Errorf("ParseBool(%q) succeeded", s)
		}
	}
	if b, err := ParseBool(""); b || err != nil {
		t.Errorf(`ParseBool("") = %v, %v; want false, nil`, b, err)
	}
}

func TestParseDuration(t *testing.T) {
	for _, tt := range []struct {
		in   string
		unit time.Duration
		want time.Duration
		err  bool
	}{
		{"500ms", time.Second, 500 * time.Millisecond, false},
		{"2s", time.Millisecond, 2 * time.Second, false},
		{"2", time.Second, 2 * time.Second, false},
		{"2", time.Millisecond, 2 * time.Millisecond, false},
		{"2", time.Minute, 2 * time.Minute, false},
		{"1.5", time.Second, 1500 * time.Millisecond, false},
		{" 3 ", time.Second, 3 * time.Second, false},
		{"1h", time.Second, time.Hour, false},
		{"0", time.Second, 0, false},
		{"-1", time.Second, 0, true},
		{"-1s", time.Second, 0, true},
		{"1e30", time.Second, 0, true},
		{"NaN", time.Second, 0, true},
		{"Inf", time.Second, 0, true},
		{"", time.Second, 0, true},
		{"5 s", time.Second, 0, true},
		{"fast", time.Second, 0, true},
	} {
		got, err := ParseDuration(tt.in, tt.unit)
		if (err != nil) != tt.err || got != tt.want {
			t.Errorf("ParseDuration(%q, %v) = %v, %v; want %v, error %v", tt.in, tt.unit, got, err, tt.want, tt.err)
		}
	}
}

func TestSplitList(t *testing.T) {
	for in, want := range map[string][]string{
		"":              nil,
		" , ":           nil,
		"a":             {"a"},
		"a b":           {"a", "b"},
		"a,b":           {"a", "b"},
		"a, b\tc\nd,,e": {"a", "b", "c", "d", "e"},
	} {
		got := SplitList(in)
		if len(got) == 0 && len(want) == 0 {
			continue
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("SplitList(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestValuesMapEnviron(t *testing.T) {
	v, _, errs := parse(t, map[string]string{"ip": "192.0.2.10", "slaves": "eth1,eth0", "arp_count": ""}, map[string]string{"mode": "lacp"})
	if len(errs) != 0 {
		t.Fatal(errs)
	}
	m := v.Map()
	want := map[string]string{
		"ip": "192.0.2.10", "cidr_netmask": "", "arp_count": "5", "arp_bg": "true", "mode": "802.3ad",
		"arp_interval": "200ms", "dampen": "5s", "slaves": "eth1,eth0", "label": "vip", "lvs_support": "",
	}
	if !reflect.DeepEqual(m, want) {
		t.Errorf("Map() = %v\nwant %v", m, want)
	}
	m["ip"] = "changed"
	if v.String("ip") != "192.0.2.10" {
		t.Error("Map() shares storage with Values")
	}
	gotEnv := v.Environ()
	wantEnv := []string{"OCF_RESKEY_ip=192.0.2.10", "OCF_RESKEY_mode=802.3ad", "OCF_RESKEY_slaves=eth1,eth0"}
	if !reflect.DeepEqual(gotEnv, wantEnv) {
		t.Errorf("Environ() = %q, want %q", gotEnv, wantEnv)
	}
}

func TestValuesUnknownNamePanics(t *testing.T) {
	v, _, _ := parse(t, nil, nil)
	for name, f := range map[string]func(){
		"String": func() { v.String("nope") }, "Int": func() { v.Int("nope") }, "Bool": func() { v.Bool("nope") },
		"Duration": func() { v.Duration("nope") }, "List": func() { v.List("nope") }, "IsSet": func() { v.IsSet("nope") },
	} {
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "nope") {
					t.Errorf("%s(unknown) recovered %v, want a panic naming it", name, r)
				}
			}()
			f()
		}()
	}
}

func TestSpecCheck(t *testing.T) {
	if err := testSpec().Check(); err != nil {
		t.Fatalf("testSpec().Check() = %v", err)
	}
	tests := []struct {
		name   string
		change func(s *Spec)
		want   string
	}{
		{"no name", func(s *Spec) { s.Name = "" }, "empty agent name"},
		{"bad param name", func(s *Spec) { s.Params[0].Name = "cidr-netmask" }, `parameter "cidr-netmask": name must match`},
		{"digit first", func(s *Spec) { s.Params[0].Name = "1ip" }, "name must match"},
		{"empty param name", func(s *Spec) { s.Params[0].Name = "" }, `parameter "": name must match`},
		{"duplicate", func(s *Spec) { s.Params[1].Name = "ip" }, "parameter ip: listed twice"},
		{"select without choices", func(s *Spec) { s.Params[4].Choices = nil; s.Params[4].Aliases = nil; s.Params[4].Default = "" }, "Select without Choices"},
		{"alias to nowhere", func(s *Spec) { s.Params[4].Aliases["6"] = "alb" }, `alias "6" maps to "alb"`},
		{"choices on string", func(s *Spec) { s.Params[0].Choices = []string{"a"} }, "Choices and Aliases need type Select"},
		{"bounds on string", func(s *Spec) { s.Params[0].Min = Int64(1) }, "Min and Max need type Integer"},
		{"min above max", func(s *Spec) { s.Params[1].Min = Int64(200) }, "Min 200 above Max 128"},
		{"unit on integer", func(s *Spec) { s.Params[1].Unit = time.Second }, "Unit needs type Duration"},
		{"bad integer default", func(s *Spec) { s.Params[2].Default = "lots" }, "parameter arp_count: default"},
		{"default out of bounds", func(s *Spec) { s.Params[2].Default = "1000" }, "above the maximum"},
		{"bad select default", func(s *Spec) { s.Params[4].Default = "xor" }, "parameter mode: default"},
		{"bad duration default", func(s *Spec) { s.Params[5].Default = "-1" }, "parameter arp_interval: default"},
		{"bad boolean default", func(s *Spec) { s.Params[3].Default = "sure" }, "parameter arp_bg: default"},
		{"action twice", func(s *Spec) { s.Actions = append(s.Actions, ActionSpec{Name: "start"}) }, "action start: listed twice"},
		{"empty action", func(s *Spec) { s.Actions = append(s.Actions, ActionSpec{}) }, "empty name"},
		{"negative timeout", func(s *Spec) { s.Actions[0].Timeout = -time.Second }, "action start: negative"},
		{"missing stop", func(s *Spec) { s.Actions = s.Actions[2:] }, "action stop: not listed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := testSpec()
			tt.change(s)
			err := s.Check()
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check() = %v, want an error containing %q", err, tt.want)
			}
		})
	}
	// Two monitors are fine.
	s := testSpec()
	s.Actions = append(s.Actions, ActionSpec{Name: "monitor", Interval: time.Hour, Depth: 20})
	if err := s.Check(); err != nil {
		t.Errorf("three monitors: %v", err)
	}
}
