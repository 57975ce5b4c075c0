package linkhealth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/hanet/hanet/pkg/ocf"
)

// AttrdProgram is the program that publishes node attributes, looked up in
// PATH: the only external program hanet runs.
const AttrdProgram = "attrd_updater"

// attrdNotConnected is attrd_updater's exit status when pacemaker-attrd
// does not answer (CRM_EX_NOT_CONNECTED), e.g. on a node outside a cluster.
const attrdNotConnected = 102

// DefaultAttrdTimeout bounds one attrd_updater run when Attrd.Timeout is 0.
const DefaultAttrdTimeout = 10 * time.Second

// ErrNotConnected is wrapped by the error of an attrd_updater run that
// exited 102: pacemaker-attrd is not running or not reachable.
var ErrNotConnected = errors.New("attrd is not running (attrd_updater: not connected)")

// Attrd runs attrd_updater. The zero Attrd looks the program up in PATH
// and gives each run DefaultAttrdTimeout.
type Attrd struct {
	Program string        // path or name of attrd_updater; "" = AttrdProgram
	Timeout time.Duration // per run; 0 = DefaultAttrdTimeout
}

// An AttrdError is a failed attrd_updater run: it did not start, timed out,
// was killed, or exited non-zero. It unwraps to ErrNotConnected for exit
// status 102, to ErrNotFound or os.ErrPermission when it could not be
// started, and to context.DeadlineExceeded when it timed out.
type AttrdError struct {
	Args   []string // the arguments, program excluded
	Status int      // exit status, or -1 when it did not exit normally
	Stderr string   // what it said on stderr (trimmed, cut at 512 bytes)
	Err    error    // the cause
}

// Error describes the run: "attrd_updater -n X -B 1 -d 5s: exit 102: <stderr>".
func (e *AttrdError) Error() string {
	var b strings.Builder
	b.WriteString(AttrdProgram)
	for _, a := range e.Args {
		b.WriteByte(' ')
		b.WriteString(a)
	}
	b.WriteString(": ")
	switch {
	case e.Status == attrdNotConnected:
		b.WriteString("exit 102 (not connected: attrd is not running)")
	case e.Status >= 0:
		fmt.Fprintf(&b, "exit %d", e.Status)
	default:
		b.WriteString(e.Err.Error())
	}
	if e.Stderr != "" {
		b.WriteString(": ")
		b.WriteString(e.Stderr)
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *AttrdError) Unwrap() error { return e.Err }

// ErrNotFound is the error when attrd_updater is not in PATH.
var ErrNotFound = errors.New("executable file not found in $PATH")

// Path returns the program attrd_updater resolves to, or an error wrapping
// ErrNotFound.
func (a Attrd) Path() (string, error) {
	p := a.Program
	if p == "" {
		p = AttrdProgram
	}
	return lookPath(p)
}

// lookPath finds an executable like the shell does; a name with a slash is
// taken as is. (os/exec would do it, at 120 KB of binary size.)
func lookPath(name string) (string, error) {
	check := func(p string) error {
		fi, err := os.Stat(p)
		if err != nil {
			return err
		}
		if fi.IsDir() || fi.Mode()&0o111 == 0 {
			return os.ErrPermission
		}
		return nil
	}
	if strings.Contains(name, "/") {
		if err := check(name); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
		return name, nil
	}
	path := os.Getenv("PATH")
	if path == "" {
		path = "/usr/sbin:/usr/bin:/sbin:/bin"
	}
	for _, dir := range filepath.SplitList(path) {
		if dir == "" {
			dir = "."
		}
		p := filepath.Join(dir, name)
		if check(p) == nil {
			return p, nil
		}
	}
	return "", fmt.Errorf("%s: %w", name, ErrNotFound)
}

// runProgram runs path with args until it exits or ctx ends (then it is
// killed), with stdout discarded, and returns its stderr and exit status
// (-1 when it did not exit by itself). It dies with its caller
// (PR_SET_PDEATHSIG): a watcher killed mid-update must not leave an update
// behind that lands after stop removed the attribute.
func runProgram(ctx context.Context, path string, args []string) (stderr string, status int, err error) {
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		return "", -1, err
	}
	defer devnull.Close()
	r, w, err := os.Pipe()
	if err != nil {
		return "", -1, err
	}
	defer r.Close()
	proc, err := os.StartProcess(path, append([]string{path}, args...), &os.ProcAttr{
		Files: []*os.File{devnull, devnull, w},
		Sys:   &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL},
	})
	w.Close()
	if err != nil {
		return "", -1, err
	}
	out := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(io.LimitReader(r, 64<<10))
		out <- string(b)
	}()
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			_ = proc.Kill()
		case <-done:
		}
	}()
	st, werr := proc.Wait()
	close(done)
	r.SetReadDeadline(time.Now().Add(time.Second)) // a grandchild may hold the pipe
	stderr = <-out
	if werr != nil {
		return stderr, -1, werr
	}
	if ws, ok := st.Sys().(syscall.WaitStatus); ok && ws.Exited() {
		return stderr, ws.ExitStatus(), nil
	}
	return stderr, -1, fmt.Errorf("%s: %s", path, st)
}

// Update sets attribute name to value on this node, with dampening delay
// dampen. Equivalent to: attrd_updater -n $name -B $value -d $dampen.
func (a Attrd) Update(ctx context.Context, name, value string, dampen time.Duration) error {
	return a.run(ctx, "-n", name, "-B", value, "-d", attrdDuration(dampen))
}

// Delete clears attribute name on this node (attrd sets it to "", which
// rules see as undefined). Equivalent to: attrd_updater -n $name -D.
func (a Attrd) Delete(ctx context.Context, name string) error {
	return a.run(ctx, "-n", name, "-D")
}

func (a Attrd) run(ctx context.Context, args ...string) error {
	path, err := a.Path()
	if err != nil {
		return &AttrdError{Args: args, Status: -1, Err: err}
	}
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = DefaultAttrdTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	stderr, status, err := runProgram(ctx, path, args)
	if err == nil && status == 0 {
		return nil
	}
	if err == nil {
		err = fmt.Errorf("exit status %d", status)
	}
	e := &AttrdError{Args: args, Status: -1, Stderr: trimOutput(stderr), Err: err}
	switch {
	case ctx.Err() != nil:
		e.Err = fmt.Errorf("no answer within %s: %w", timeout, ctx.Err())
	case status >= 0:
		e.Status = status
		if e.Status == attrdNotConnected {
			e.Err = ErrNotConnected
		}
	}
	return e
}

// trimOutput folds program output onto one line of at most 512 bytes.
func trimOutput(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 512 {
		s = s[:512] + "…"
	}
	return s
}

// attrdError maps a failed attrd_updater run to the exit code it ends an
// action in, with a reason that leads with the decisive words: not
// installed 5, not permitted 4, anything else (attrd down, timeout,
// refusal) 1. Never 102.
func attrdError(err error, what string) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNotFound), errors.Is(err, os.ErrNotExist):
		return ocf.Errorf(ocf.ErrInstalled, "%s: %s not found in PATH (install pacemaker-cli-utils): %v", what, AttrdProgram, err)
	case errors.Is(err, os.ErrPermission):
		return ocf.Errorf(ocf.ErrPerm, "%s: cannot run %s: %v", what, AttrdProgram, err)
	case errors.Is(err, ErrNotConnected):
		return ocf.Errorf(ocf.ErrGeneric, "attrd is not running (is the cluster up on this node?): %s: %v", what, err)
	}
	return ocf.Errorf(ocf.ErrGeneric, "%s: %v", what, err)
}
