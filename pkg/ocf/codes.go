package ocf

import (
	"fmt"
)

// An ExitCode is an OCF resource-agent exit status. ExitCode implements error
// so that the codes themselves serve as sentinels: errors.Is(err,
// ocf.ErrConfigured) reports whether err carries exit code 6.
type ExitCode int

// The OCF exit codes (OCF RA API 1.1 and Pacemaker's OCF_DEGRADED).
const (
	// Success (0): done; monitor: running.
	Success ExitCode = 0
	// ErrGeneric (1): runtime failure; monitor: broken or unsure. Soft.
	ErrGeneric ExitCode = 1
	// ErrArgs (2): the value is sound but unusable on this node (a NIC
	// absent here). Hard; masked to 7 in a probe.
	ErrArgs ExitCode = 2
	// ErrUnimplemented (3): action not supported.
	ErrUnimplemented ExitCode = 3
	// ErrPerm (4): privilege missing. Hard.
	ErrPerm ExitCode = 4
	// ErrInstalled (5): tool or kernel feature missing on this node. Hard;
	// masked to 7 in a probe.
	ErrInstalled ExitCode = 5
	// ErrConfigured (6): parameters wrong in themselves, on any node. Fatal:
	// the resource is banned everywhere.
	ErrConfigured ExitCode = 6
	// ErrNotRunning (7): monitor: cleanly stopped.
	ErrNotRunning ExitCode = 7
	// Degraded (190): monitor: working but impaired.
	Degraded ExitCode = 190
)

var codeNames = map[ExitCode]string{
	Success:          "success",
	ErrGeneric:       "generic error",
	ErrArgs:          "invalid argument on this node",
	ErrUnimplemented: "unimplemented",
	ErrPerm:          "insufficient privileges",
	ErrInstalled:     "not installed",
	ErrConfigured:    "not configured",
	ErrNotRunning:    "not running",
	Degraded:         "degraded",
}

// Error returns the code's OCF name, such as "not configured".
func (c ExitCode) Error() string {
	if s, ok := codeNames[c]; ok {
		return s
	}
	return fmt.Sprintf("exit code %d", int(c))
}

// An Error is a failure that carries the OCF exit code it must end in. Its
// message becomes the ocf-exit-reason line.
type Error struct {
	Code ExitCode
	Err  error
}

// Error returns the message without the code.
func (e *Error) Error() string {
	if e == nil {
		return "nil *ocf.Error"
	}
	if e.Err == nil {
		return e.Code.Error()
	}
	return e.Err.Error()
}

// Unwrap returns the underlying error.
func (e *Error) Unwrap() error {
	if e == nil {
		return nil
	}
	return e.Err
}

// Is reports whether target is e's exit code, so errors.Is(err,
// ocf.ErrArgs) works through wrapping.
func (e *Error) Is(target error) bool {
	c, ok := target.(ExitCode)
	return ok && e != nil && c == e.Code
}

// Errorf formats an error that ends the action with code. Wrapping with %w
// keeps the cause reachable through errors.Is and errors.As.
func Errorf(code ExitCode, format string, args ...any) error {
	return &Error{Code: code, Err: fmt.Errorf(format, args...)}
}

// Wrap gives err the exit code code unless err is nil. A prefix, when not
// empty, is prepended as "prefix: err".
func Wrap(code ExitCode, err error, prefix string) error {
	if err == nil {
		return nil
	}
	if prefix != "" {
		err = fmt.Errorf("%s: %w", prefix, err)
	}
	return &Error{Code: code, Err: err}
}

// CodeOf returns the exit code that err ends an action in: Success for nil,
// the code an *Error or ExitCode in err's tree carries, ErrGeneric for a
// deadline or any other error. The outermost code wins: the tree is
// searched depth-first in the order errors.Is uses, and the first *Error or
// ExitCode found decides.
func CodeOf(err error) ExitCode {
	if err == nil {
		return Success
	}
	if c, ok := codeIn(err, 0); ok {
		return c
	}
	return ErrGeneric
}

// codeIn finds the outermost code in err's tree.
func codeIn(err error, depth int) (ExitCode, bool) {
	if err == nil || depth > 100 {
		return 0, false
	}
	switch e := err.(type) {
	case *Error:
		if e == nil {
			return 0, false
		}
		return e.Code, true
	case ExitCode:
		return e, true
	}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		return codeIn(u.Unwrap(), depth+1)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			if c, ok := codeIn(e, depth+1); ok {
				return c, true
			}
		}
	}
	return 0, false
}
