package ocf

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/beevik/etree"
)

// DefaultTimeout is the timeout of an action whose ActionSpec gives none, or
// that the Spec does not list, when the caller passes no
// OCF_RESKEY_CRM_meta_timeout. The meta-data advertises it too.
const DefaultTimeout = 20 * time.Second

// An ActionSpec is an action advertised in the meta-data with its default
// timeout (and, for monitor, interval and depth).
type ActionSpec struct {
	Name     string
	Timeout  time.Duration // 0 means DefaultTimeout
	Interval time.Duration // monitor only
	Depth    int           // OCF_CHECK_LEVEL for a monitor or validate-all entry
	Depths   bool          // render depth="N" even when 0
}

// A Spec describes an agent: its type name, descriptions, parameter table
// and actions. It drives meta-data, flags, usage and the README.
type Spec struct {
	Name    string // agent type, e.g. "vip"
	Version string // agent version, e.g. "0.1.0"
	Short   string
	Long    string
	Params  []Param
	Actions []ActionSpec
}

// A Form is a meta-data dialect.
type Form int

// The two meta-data forms.
const (
	// OCF10 is the form for callers announcing no version or 1.0
	// (ocf-tester, ocft, manual runs): DOCTYPE, <version>1.0</version>,
	// valid against ra-api-1.dtd (what ocf-tester checks) and the OCF 1.1
	// RELAX NG schema.
	OCF10 Form = iota
	// OCF11 is the form for callers announcing 1.1 or later (Pacemaker):
	// <version>1.1</version>, reload-agent, reloadable parameters,
	// unique-group and selects.
	OCF11
)

// FormFor returns the meta-data form a caller announcing OCF version
// major.minor understands: OCF11 for 1.1 or later, OCF10 otherwise
// (including unset, as ocf-tester and manual runs leave it).
func FormFor(major, minor string) Form {
	ma, err1 := strconv.Atoi(strings.TrimSpace(major))
	mi, err2 := strconv.Atoi(strings.TrimSpace(minor))
	if err1 != nil {
		return OCF10
	}
	if ma > 1 || (ma == 1 && err2 == nil && mi >= 1) {
		return OCF11
	}
	return OCF10
}

// seconds renders a duration as Pacemaker's interval specs read it: whole
// seconds as "20s", anything else as whole milliseconds (rounded up, so a
// positive duration never renders as 0).
func seconds(d time.Duration) string {
	if d%time.Second == 0 {
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	ms := (d + time.Millisecond - 1) / time.Millisecond
	return strconv.FormatInt(int64(ms), 10) + "ms"
}

// advertised reports whether an action belongs in the meta-data of form:
// hidden helpers ("__name") and the legacy reload never do (Pacemaker would
// use reload for every non-unique parameter of a 1.0 agent), reload-agent
// only in the 1.1 form (ra-api-1.dtd lacks it).
func advertised(name string, form Form) bool {
	switch {
	case strings.HasPrefix(name, "__"), name == "reload":
		return false
	case name == "reload-agent":
		return form == OCF11
	}
	return true
}

// paramLong is a parameter's long description, with the accepted values
// spelled out where the form or type cannot express them.
func paramLong(p *Param, form Form) string {
	long := p.Long
	if long == "" {
		long = p.Short
	}
	var extra []string
	switch {
	case p.Type == Select && form == OCF10:
		extra = append(extra, "Allowed values: "+strings.Join(p.Choices, ", ")+".")
	case p.Type == Duration:
		extra = append(extra, "A duration such as 500ms or 2s; a bare number counts in "+unitName(p.unit())+".")
	case p.Type == List:
		extra = append(extra, "A list separated by spaces or commas.")
	}
	if p.Ignored {
		extra = append(extra, "Accepted for IPaddr2 compatibility and ignored (a warning is logged).")
	}
	if len(extra) > 0 {
		long = strings.TrimSpace(long + "\n" + strings.Join(extra, " "))
	}
	return long
}

func unitName(u time.Duration) string {
	switch u {
	case time.Millisecond:
		return "milliseconds"
	case time.Minute:
		return "minutes"
	}
	return "seconds"
}

func contentType(p *Param, form Form) string {
	switch p.Type {
	case Integer:
		return "integer"
	case Boolean:
		return "boolean"
	case Select:
		if form == OCF11 {
			return "select"
		}
	}
	return "string"
}

// WriteMetadata writes spec's meta-data in the given form to w. The OCF10
// form carries the DOCTYPE line ocf-tester's xmllint --valid needs,
// <version>1.0</version>, only the name, unique and required parameter
// attributes, selects as strings with their choices in the longdesc, and no
// reload-agent; the OCF11 form has <version>1.1</version>, no DOCTYPE,
// reloadable and unique-group attributes, select contents and
// reload-agent. Neither lists hidden "__" actions or the legacy reload.
func WriteMetadata(w io.Writer, spec *Spec, form Form) error {
	doc := etree.NewDocument()
	doc.CreateProcInst("xml", `version="1.0"`)
	if form == OCF10 {
		doc.CreateDirective(`DOCTYPE resource-agent SYSTEM "ra-api-1.dtd"`)
	}
	ra := doc.CreateElement("resource-agent")
	ra.CreateAttr("name", spec.Name)
	if spec.Version != "" {
		ra.CreateAttr("version", spec.Version)
	}
	if form == OCF11 {
		ra.CreateElement("version").SetText("1.1")
	} else {
		ra.CreateElement("version").SetText("1.0")
	}
	desc := func(parent *etree.Element, long, short string) {
		l := parent.CreateElement("longdesc")
		l.CreateAttr("lang", "en")
		l.SetText(long)
		s := parent.CreateElement("shortdesc")
		s.CreateAttr("lang", "en")
		s.SetText(short)
	}
	desc(ra, spec.Long, spec.Short)

	params := ra.CreateElement("parameters")
	for i := range spec.Params {
		p := &spec.Params[i]
		pe := params.CreateElement("parameter")
		pe.CreateAttr("name", p.Name)
		pe.CreateAttr("unique", boolAttr(p.Unique))
		pe.CreateAttr("required", boolAttr(p.Required))
		if form == OCF11 {
			if p.UniqueGroup != "" {
				pe.CreateAttr("unique-group", p.UniqueGroup)
			}
			if p.Reloadable {
				pe.CreateAttr("reloadable", "1")
			}
		}
		desc(pe, paramLong(p, form), p.Short)
		c := pe.CreateElement("content")
		c.CreateAttr("type", contentType(p, form))
		if p.Default != "" {
			c.CreateAttr("default", p.Default)
		}
		if p.Type == Select && form == OCF11 {
			for _, o := range p.Choices {
				c.CreateElement("option").CreateAttr("value", o)
			}
		}
	}

	actions := ra.CreateElement("actions")
	for _, a := range spec.Actions {
		if !advertised(a.Name, form) {
			continue
		}
		timeout := a.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		ae := actions.CreateElement("action")
		ae.CreateAttr("name", a.Name)
		ae.CreateAttr("timeout", seconds(timeout))
		if a.Interval > 0 {
			ae.CreateAttr("interval", seconds(a.Interval))
		}
		if a.Depth > 0 || a.Depths {
			ae.CreateAttr("depth", strconv.Itoa(a.Depth))
		}
	}
	doc.Indent(2)
	if _, err := doc.WriteTo(w); err != nil {
		return fmt.Errorf("write meta-data: %w", err)
	}
	return nil
}

func boolAttr(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Check reports the mistakes in a Spec that would break the contract at run
// time or make the meta-data invalid: an empty agent name; a parameter name
// that is empty, repeated or not usable in OCF_RESKEY_<name>; a default that
// does not parse; a Select without choices or with an alias to no choice;
// Choices, Aliases, Min/Max or Unit on a type that ignores them; Min above
// Max; a negative timeout or interval; a required action (start, stop,
// monitor, meta-data) missing; an action listed twice (monitor excepted).
// Agents' tests call it through ocftest.CheckMetadata.
func (s *Spec) Check() error {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if s.Name == "" {
		bad("spec: empty agent name")
	}
	seen := map[string]bool{}
	for i := range s.Params {
		p := &s.Params[i]
		switch {
		case !validParamName(p.Name):
			bad("parameter %q: name must match [A-Za-z_][A-Za-z0-9_]*", p.Name)
		case seen[p.Name]:
			bad("parameter %s: listed twice", p.Name)
		}
		seen[p.Name] = true
		if p.Type != Select && (len(p.Choices) > 0 || len(p.Aliases) > 0) {
			bad("parameter %s: Choices and Aliases need type Select", p.Name)
		}
		if p.Type == Select {
			if len(p.Choices) == 0 {
				bad("parameter %s: Select without Choices", p.Name)
			}
			for a, c := range p.Aliases {
				if !containsFold(p.Choices, c) {
					bad("parameter %s: alias %q maps to %q, not a choice", p.Name, a, c)
				}
			}
		}
		if p.Type != Integer && (p.Min != nil || p.Max != nil) {
			bad("parameter %s: Min and Max need type Integer", p.Name)
		}
		if p.Min != nil && p.Max != nil && *p.Min > *p.Max {
			bad("parameter %s: Min %d above Max %d", p.Name, *p.Min, *p.Max)
		}
		if p.Type != Duration && p.Unit != 0 {
			bad("parameter %s: Unit needs type Duration", p.Name)
		}
		if p.Unit < 0 {
			bad("parameter %s: negative Unit", p.Name)
		}
		if p.Default != "" {
			if err := newValues(s.Params).store(p, p.Default, false); err != nil {
				bad("parameter %s: default: %v", p.Name, err)
			}
		}
	}
	listed := map[string]bool{}
	for _, a := range s.Actions {
		switch {
		case a.Name == "":
			bad("action with an empty name")
		case listed[a.Name] && a.Name != "monitor":
			bad("action %s: listed twice", a.Name)
		}
		listed[a.Name] = true
		if a.Timeout < 0 || a.Interval < 0 || a.Depth < 0 {
			bad("action %s: negative timeout, interval or depth", a.Name)
		}
	}
	for _, name := range []string{"start", "stop", "monitor", "meta-data"} {
		if !listed[name] {
			bad("action %s: not listed (OCF requires it)", name)
		}
	}
	return errors.Join(errs...)
}

func validParamName(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_', r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z':
		case r >= '0' && r <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
