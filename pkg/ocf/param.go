package ocf

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// A Type is the kind of value a parameter holds.
type Type int

// The parameter types. Select, Duration and List are parsed by this package
// and rendered into the types the meta-data schemas know (select in OCF 1.1,
// string in OCF 1.0).
const (
	// String is free text.
	String Type = iota
	// Integer is a decimal integer, optionally bounded by Min and Max.
	Integer
	// Boolean is yes/no, true/false, on/off, 1/0 (see ParseBool).
	Boolean
	// Select is one of Choices (any case), or an alias from Aliases.
	Select
	// Duration is a Go duration ("500ms", "2s") or a bare number in Unit.
	Duration
	// List is words separated by spaces or commas (see SplitList).
	List
)

// A Param is one row of an agent's parameter table. The table drives the
// parsing of OCF_RESKEY_<Name>, the command-line flags, validation, the
// meta-data and the README.
type Param struct {
	Name        string
	Type        Type
	Default     string            // applied when the parameter is unset or empty
	Required    bool              // unset or empty (and no default) is ErrConfigured
	Unique      bool              // value must be unique across resources of this type
	UniqueGroup string            // OCF 1.1 unique-group
	Reloadable  bool              // changeable through reload-agent
	Choices     []string          // Select: the accepted values
	Aliases     map[string]string // Select: other spellings mapped to a choice
	Min, Max    *int64            // Integer bounds
	Unit        time.Duration     // Duration: unit of a bare number (default second)
	Ignored     bool              // accepted for compatibility, warned about, unused
	Short       string            // shortdesc
	Long        string            // longdesc
}

// Int64 returns a pointer to v, for Param.Min and Param.Max.
func Int64(v int64) *int64 { return &v }

func (p *Param) unit() time.Duration {
	if p.Unit == 0 {
		return time.Second
	}
	return p.Unit
}

// Values holds an action's parameter values after defaults and parsing.
type Values struct {
	table map[string]*Param
	raw   map[string]string // as given (after defaults)
	set   map[string]bool   // given by the caller, not defaulted
	ints  map[string]int64
	bools map[string]bool
	durs  map[string]time.Duration
}

func newValues(params []Param) *Values {
	v := &Values{
		table: make(map[string]*Param, len(params)),
		raw:   map[string]string{},
		set:   map[string]bool{},
		ints:  map[string]int64{},
		bools: map[string]bool{},
		durs:  map[string]time.Duration{},
	}
	for i := range params {
		v.table[params[i].Name] = &params[i]
	}
	return v
}

func (v *Values) param(name string) *Param {
	p, ok := v.table[name]
	if !ok {
		panic("ocf: parameter " + name + " is not in the agent's table")
	}
	return p
}

// IsSet reports whether the caller gave name a value (a default does not
// count).
func (v *Values) IsSet(name string) bool { v.param(name); return v.set[name] }

// String returns name's value as text (Select values in canonical form).
func (v *Values) String(name string) string { v.param(name); return v.raw[name] }

// Int returns an Integer parameter.
func (v *Values) Int(name string) int64 { v.param(name); return v.ints[name] }

// Bool returns a Boolean parameter.
func (v *Values) Bool(name string) bool { v.param(name); return v.bools[name] }

// Duration returns a Duration parameter.
func (v *Values) Duration(name string) time.Duration { v.param(name); return v.durs[name] }

// List returns a List parameter split on spaces and commas.
func (v *Values) List(name string) []string {
	v.param(name)
	return SplitList(v.raw[name])
}

// SplitList splits s on spaces, tabs, newlines and commas, dropping empty
// words.
func SplitList(s string) []string {
	return strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ' ' || r == '\t' || r == '\n'
	})
}

// Map returns every value (defaults included) keyed by parameter name.
func (v *Values) Map() map[string]string {
	m := make(map[string]string, len(v.raw))
	for k, s := range v.raw {
		m[k] = s
	}
	return m
}

// ParseBool parses a boolean: the spellings ocf_is_true accepts
// (yes/true/on/1/ja) and their opposites (no/false/off/0/nein), plus y/n,
// in any case; the empty string is false. Unlike ocf_is_true, anything else
// is an error rather than false.
func ParseBool(s string) (bool, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "yes", "true", "on", "1", "y", "ja":
		return true, nil
	case "no", "false", "off", "0", "n", "nein", "":
		return false, nil
	}
	return false, fmt.Errorf("%q is not a boolean (want yes/no, true/false, 1/0)", s)
}

// ParseDuration parses a Go duration ("1.5s", "200ms") or a bare
// non-negative number counted in unit.
func ParseDuration(s string, unit time.Duration) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		if f < 0 || math.IsNaN(f) || math.IsInf(f, 0) || f*float64(unit) > math.MaxInt64 {
			return 0, fmt.Errorf("%q: want a non-negative duration", s)
		}
		return time.Duration(f * float64(unit)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (want e.g. 500ms, 2s, or a number)", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("%q: want a non-negative duration", s)
	}
	return d, nil
}

// store parses and stores one value; s is the raw text, given says whether it
// came from the caller.
func (v *Values) store(p *Param, s string, given bool) error {
	s = strings.TrimSpace(s)
	if p.Type == Select && s != "" {
		for a, c := range p.Aliases {
			if strings.EqualFold(a, s) {
				s = c
				break
			}
		}
		found := false
		for _, c := range p.Choices {
			if strings.EqualFold(c, s) {
				s, found = c, true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s=%q: want one of %s", p.Name, s, strings.Join(p.Choices, ", "))
		}
	}
	v.raw[p.Name] = s
	v.set[p.Name] = given
	if s == "" {
		return nil
	}
	switch p.Type {
	case Integer:
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return fmt.Errorf("%s=%q: not an integer", p.Name, s)
		}
		if p.Min != nil && n < *p.Min {
			return fmt.Errorf("%s=%d: below the minimum %d", p.Name, n, *p.Min)
		}
		if p.Max != nil && n > *p.Max {
			return fmt.Errorf("%s=%d: above the maximum %d", p.Name, n, *p.Max)
		}
		v.ints[p.Name] = n
	case Boolean:
		b, err := ParseBool(s)
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		v.bools[p.Name] = b
	case Duration:
		d, err := ParseDuration(s, p.unit())
		if err != nil {
			return fmt.Errorf("%s: %w", p.Name, err)
		}
		v.durs[p.Name] = d
	}
	return nil
}

// parseValues reads every parameter from the environment (OCF_RESKEY_<name>)
// and then from flags (which win), applies defaults and checks types,
// bounds, choices and required values. An empty value counts as unset, so
// the default applies. Ignored parameters are reported when given and never
// validated. It returns the values parsed so far together with every
// problem found, so a stop can still act on what is sound.
func parseValues(params []Param, lookup func(string) (string, bool), flags map[string]string) (*Values, []string, []error) {
	v := newValues(params)
	var ignored []string
	var errs []error
	for i := range params {
		p := &params[i]
		s, given := lookup("OCF_RESKEY_" + p.Name)
		if f, ok := flags[p.Name]; ok {
			s, given = f, true
		}
		if given && strings.TrimSpace(s) == "" {
			given = false // an empty optional value means "unset"
		}
		if p.Ignored && given {
			ignored = append(ignored, p.Name)
		}
		if !given {
			s = p.Default
		}
		if err := v.store(p, s, given); err != nil {
			if p.Ignored {
				v.raw[p.Name], v.set[p.Name] = strings.TrimSpace(s), given
				continue
			}
			errs = append(errs, err)
			_ = v.store(p, p.Default, false) // keep the default for a lenient stop
			continue
		}
		if p.Required && v.raw[p.Name] == "" {
			errs = append(errs, fmt.Errorf("required parameter %s is not set", p.Name))
		}
	}
	return v, ignored, errs
}

// Environ returns the values the caller gave (not defaults) as sorted
// OCF_RESKEY_<name>=<value> entries, so a detached child of the agent sees
// the same parameters even when they came from command-line flags.
func (v *Values) Environ() []string {
	var env []string
	for name, given := range v.set {
		if given {
			env = append(env, "OCF_RESKEY_"+name+"="+v.raw[name])
		}
	}
	// An insertion sort: sort.Strings would link a generic sort into the
	// binary for a list of a few dozen entries at most.
	for i := 1; i < len(env); i++ {
		for j := i; j > 0 && env[j] < env[j-1]; j-- {
			env[j], env[j-1] = env[j-1], env[j]
		}
	}
	return env
}
