package testutil

import (
	"bytes"
	"errors"
	"os/exec"

	"github.com/vishvananda/netns"
)

// A Cmd is an exec.Cmd whose process starts inside a network namespace. Set
// its fields (Env, Stdin, Stdout, Dir, …) as for exec.Cmd, but start it with
// the Cmd methods below: the embedded exec.Cmd's own Start, Run, Output and
// CombinedOutput would start the program in the caller's namespace.
type Cmd struct {
	*exec.Cmd
	ns netns.NsHandle
}

// Exec returns a Cmd that runs program name with args inside ns. Like
// exec.Command, name is looked up in PATH when it has no slash.
func Exec(ns netns.NsHandle, name string, args ...string) *Cmd {
	return &Cmd{Cmd: exec.Command(name, args...), ns: ns}
}

// Start starts the program inside the namespace: fork(2) happens on a thread
// locked into it, and the child inherits that thread's namespace. Wait is
// the embedded exec.Cmd's.
func (c *Cmd) Start() error {
	return InNS(c.ns, c.Cmd.Start)
}

// Run starts the program inside the namespace and waits for it.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the program inside the namespace and returns its standard
// output. Unless Stderr is set, standard error is kept in the returned
// *exec.ExitError, as exec.Cmd.Output does.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var stdout, stderr bytes.Buffer
	c.Stdout = &stdout
	captureErr := c.Stderr == nil
	if captureErr {
		c.Stderr = &stderr
	}
	err := c.Run()
	var ee *exec.ExitError
	if captureErr && errors.As(err, &ee) {
		ee.Stderr = stderr.Bytes()
	}
	return stdout.Bytes(), err
}

// CombinedOutput runs the program inside the namespace and returns its
// standard output and standard error interleaved.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	if c.Stderr != nil {
		return nil, errors.New("exec: Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout = &b
	c.Stderr = &b
	err := c.Run()
	return b.Bytes(), err
}
