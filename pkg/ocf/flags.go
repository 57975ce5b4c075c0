package ocf

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// The command line is parsed by hand rather than with spf13/pflag, which
// (with the flag, net and encoding/csv packages it brings) would cost every
// agent binary about 100 KB for the few forms Main accepts: "--name value",
// "--name=value", "-h"/"--help", the action as the first non-flag argument
// anywhere, and "--" ending the flags. The usage text is laid out as
// pflag's FlagUsages lays it out.

// Flag value kinds.
const (
	flagString = iota
	flagDuration
	flagInt
	flagBool
)

// A flagDef is one command-line flag.
type flagDef struct {
	name  string
	short byte // 0: none
	kind  int
	usage string
	value string // the last value given
	set   bool
}

// A flagSet is the command line's flags in usage order, with the arguments
// left after parsing.
type flagSet struct {
	defs []*flagDef
	args []string
}

func (fs *flagSet) lookup(name string) *flagDef {
	for _, f := range fs.defs {
		if f.name == name {
			return f
		}
	}
	return nil
}

// add defines a flag unless one of that name exists, returning it or nil.
func (fs *flagSet) add(name string, short byte, kind int, usage string) *flagDef {
	if fs.lookup(name) != nil {
		return nil
	}
	f := &flagDef{name: name, short: short, kind: kind, usage: usage}
	fs.defs = append(fs.defs, f)
	return f
}

// changed reports whether f (possibly nil) was given.
func (f *flagDef) changed() bool { return f != nil && f.set }

// parse reads args; the non-flag arguments end up in fs.args.
func (fs *flagSet) parse(args []string) error {
	for len(args) > 0 {
		a := args[0]
		args = args[1:]
		switch {
		case a == "--":
			fs.args = append(fs.args, args...)
			return nil
		case strings.HasPrefix(a, "--"):
			name, value, hasValue := strings.Cut(a[2:], "=")
			if name == "" || name[0] == '-' || name[0] == '=' {
				return fmt.Errorf("bad flag syntax: %s", a)
			}
			f := fs.lookup(name)
			if f == nil {
				return fmt.Errorf("unknown flag: --%s", name)
			}
			if !hasValue && f.kind != flagBool {
				if len(args) == 0 {
					return fmt.Errorf("flag needs an argument: --%s", name)
				}
				value, args = args[0], args[1:]
			}
			if err := f.setValue(value, hasValue); err != nil {
				return f.invalid(value, err)
			}
		case len(a) > 1 && a[0] == '-':
			if err := fs.shorthands(a); err != nil {
				return err
			}
		default:
			fs.args = append(fs.args, a)
		}
	}
	return nil
}

// shorthands handles "-h" (boolean shorthands only, possibly grouped).
func (fs *flagSet) shorthands(a string) error {
	for i := 1; i < len(a); i++ {
		var f *flagDef
		for _, d := range fs.defs {
			if d.short != 0 && d.short == a[i] {
				f = d
			}
		}
		if f == nil {
			return fmt.Errorf("unknown shorthand flag: %q in %s", a[i], a)
		}
		if i+1 < len(a) && a[i+1] == '=' {
			v := a[i+2:]
			if err := f.setValue(v, true); err != nil {
				return f.invalid(v, err)
			}
			return nil
		}
		if err := f.setValue("", false); err != nil {
			return err
		}
	}
	return nil
}

// invalid is the error for a bad value, naming the flag as pflag does.
func (f *flagDef) invalid(v string, err error) error {
	name := "--" + f.name
	if f.short != 0 {
		name = "-" + string(f.short) + ", " + name
	}
	return fmt.Errorf("invalid argument %q for %q flag: %w", v, name, err)
}

// setValue records a value, checking it for its kind; a boolean given
// without "=value" is true.
func (f *flagDef) setValue(v string, explicit bool) error {
	var err error
	switch f.kind {
	case flagBool:
		if !explicit {
			v = "true"
		}
		_, err = strconv.ParseBool(v)
	case flagDuration:
		_, err = time.ParseDuration(v)
	case flagInt:
		_, err = strconv.ParseInt(v, 0, strconv.IntSize)
	}
	if err != nil {
		return err
	}
	f.value, f.set = v, true
	return nil
}

func (f *flagDef) duration() time.Duration {
	d, _ := time.ParseDuration(f.value)
	return d
}

func (f *flagDef) int() int {
	n, _ := strconv.ParseInt(f.value, 0, strconv.IntSize)
	return int(n)
}

func (f *flagDef) bool() bool {
	if !f.changed() {
		return false
	}
	b, _ := strconv.ParseBool(f.value)
	return b
}

// usages writes one line per flag, descriptions aligned one column past
// the longest "-s, --name type" (pflag's layout).
func (fs *flagSet) usages(w io.Writer) {
	heads := make([]string, len(fs.defs))
	width := 0
	for i, f := range fs.defs {
		h := "      --" + f.name
		if f.short != 0 {
			h = "  -" + string(f.short) + ", --" + f.name
		}
		switch f.kind {
		case flagString:
			h += " string"
		case flagDuration:
			h += " duration"
		case flagInt:
			h += " int"
		}
		heads[i] = h
		width = max(width, len(h))
	}
	var b strings.Builder
	for i, f := range fs.defs {
		b.WriteString(heads[i])
		b.WriteString(strings.Repeat(" ", width-len(heads[i])+3))
		b.WriteString(f.usage)
		b.WriteByte('\n')
	}
	io.WriteString(w, b.String())
}
