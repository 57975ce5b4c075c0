package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"testing"
)

func TestCodeOf(t *testing.T) {
	var nilErr *Error
	tests := []struct {
		name string
		err  error
		want ExitCode
	}{
		{"nil", nil, Success},
		{"plain", errors.New("x"), ErrGeneric},
		{"deadline", context.DeadlineExceeded, ErrGeneric},
		{"wrapped deadline", fmt.Errorf("wait: %w", context.DeadlineExceeded), ErrGeneric},
		{"bare", ErrConfigured, ErrConfigured},
		{"bare 7", ErrNotRunning, ErrNotRunning},
		{"bare unknown", ExitCode(102), ExitCode(102)},
		{"Errorf", Errorf(ErrArgs, "nic %s", "eth9"), ErrArgs},
		{"Errorf wrapping a plain error", Errorf(ErrInstalled, "modprobe: %w", os.ErrNotExist), ErrInstalled},
		{"%w of Errorf", fmt.Errorf("start: %w", Errorf(ErrPerm, "x")), ErrPerm},
		{"%w of %w of bare", fmt.Errorf("a: %w", fmt.Errorf("b: %w", ErrInstalled)), ErrInstalled},
		{"outer Error over inner bare", Errorf(ErrGeneric, "x: %w", ErrConfigured), ErrGeneric},
		{"outer Error over inner Error", Errorf(ErrArgs, "x: %w", Errorf(ErrConfigured, "y")), ErrArgs},
		{"outer bare over inner Error", fmt.Errorf("%w: %w", ErrConfigured, Errorf(ErrArgs, "y")), ErrConfigured},
		{"join, first coded wins", errors.Join(errors.New("a"), ErrInstalled, ErrConfigured), ErrInstalled},
		{"Wrap", Wrap(ErrPerm, io.EOF, "read"), ErrPerm},
		{"Wrap without prefix", Wrap(ErrPerm, io.EOF, ""), ErrPerm},
		{"Error without Err", &Error{Code: ErrConfigured}, ErrConfigured},
		{"typed nil *Error", nilErr, ErrGeneric},
	}
	for _, tt := range tests {
		if got := CodeOf(tt.err); got != tt.want {
			t.Errorf("%s: CodeOf(%v) = %d, want %d", tt.name, tt.err, got, tt.want)
		}
	}
}

func TestErrorAPI(t *testing.T) {
	err := Errorf(ErrInstalled, "modprobe bonding: %w", os.ErrNotExist)
	if err.Error() != "modprobe bonding: file does not exist" {
		t.Errorf("Error() = %q", err)
	}
	if !errors.Is(err, ErrInstalled) || errors.Is(err, ErrConfigured) || !errors.Is(err, os.ErrNotExist) {
		t.Error("errors.Is does not see the code and the cause")
	}
	var e *Error
	if !errors.As(fmt.Errorf("x: %w", err), &e) || e.Code != ErrInstalled {
		t.Error("errors.As *Error")
	}
	if got := Wrap(ErrPerm, io.EOF, "read").Error(); got != "read: EOF" {
		t.Errorf("Wrap = %q", got)
	}
	if got := Wrap(ErrPerm, io.EOF, "").Error(); got != "EOF" {
		t.Errorf("Wrap without prefix = %q", got)
	}
	if Wrap(ErrPerm, nil, "x") != nil {
		t.Error("Wrap(nil) != nil")
	}
	if !errors.Is(Wrap(ErrPerm, io.EOF, "read"), io.EOF) {
		t.Error("Wrap loses the cause")
	}
	if got := (&Error{Code: ErrConfigured}).Error(); got != "not configured" {
		t.Errorf("empty Error = %q", got)
	}
	if !errors.Is(fmt.Errorf("x: %w", ErrNotRunning), ErrNotRunning) {
		t.Error("bare sentinel through %w")
	}
	for code, want := range map[ExitCode]string{
		Success: "success", ErrGeneric: "generic error", ErrArgs: "invalid argument on this node",
		ErrUnimplemented: "unimplemented", ErrPerm: "insufficient privileges", ErrInstalled: "not installed",
		ErrConfigured: "not configured", ErrNotRunning: "not running", Degraded: "degraded", 102: "exit code 102",
	} {
		if got := code.Error(); got != want {
			t.Errorf("ExitCode(%d).Error() = %q, want %q", int(code), got, want)
		}
	}
	for code, n := range map[ExitCode]int{Success: 0, ErrGeneric: 1, ErrArgs: 2, ErrUnimplemented: 3, ErrPerm: 4, ErrInstalled: 5, ErrConfigured: 6, ErrNotRunning: 7, Degraded: 190} {
		if int(code) != n {
			t.Errorf("%v = %d, want %d", code, int(code), n)
		}
	}
}
