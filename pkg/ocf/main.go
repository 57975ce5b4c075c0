package ocf

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// An Agent is a resource agent's policy: what each action does for its
// resource. Methods return nil, ErrNotRunning, or an error carrying an OCF
// code (Errorf); an error without a code ends the action with ErrGeneric.
type Agent interface {
	// Spec returns the agent's description and parameter table.
	Spec() *Spec
	// Start makes the resource usable, or fails after undoing partial work.
	Start(ctx context.Context, c *Call) error
	// Stop removes what start created; a stopped resource is success.
	Stop(ctx context.Context, c *Call) error
	// Monitor reports nil (running), ErrNotRunning, a Degraded error or a
	// failure. c.Probe tells a probe from a recurring monitor.
	Monitor(ctx context.Context, c *Call) error
	// Validate checks the parameters beyond the table's own checks, looking
	// at the host only when c.CheckLevel >= 10.
	Validate(ctx context.Context, c *Call) error
}

// A Reloader applies changed reloadable parameters in place (reload-agent).
type Reloader interface {
	Reload(ctx context.Context, c *Call) error
}

// A Helper runs the hidden actions ("__name") an agent starts in detached
// children of itself (Spawn), such as a background ARP burst or a watcher.
type Helper interface {
	Helper(ctx context.Context, c *Call, name string) error
}

// A Call is one invocation of an action with everything the contract parsed
// for it.
type Call struct {
	Action     string        // the action run ("status" arrives as "monitor")
	Type       string        // agent type (OCF_RESOURCE_TYPE or the spec name)
	Instance   string        // OCF_RESOURCE_INSTANCE, or "<type>-manual"
	Params     *Values       // parsed parameters, defaults applied
	Invalid    []error       // parameter problems (only a stop goes on despite them)
	Probe      bool          // monitor with interval absent, empty or 0
	Interval   time.Duration // OCF_RESKEY_CRM_meta_interval
	CheckLevel int           // OCF_CHECK_LEVEL (0 when unset)
	Timeout    time.Duration // the operation timeout (0 for a helper run without --timeout)
	Log        *Logger
	State      State
	Getenv     func(string) string // the raw environment
	Stdout     io.Writer
}

// Meta returns the OCF_RESKEY_CRM_meta_<name> value.
func (c *Call) Meta(name string) string { return c.Getenv("OCF_RESKEY_CRM_meta_" + name) }

// An Option adjusts Main for tests or for Run.
type Option func(*options)

type options struct {
	terminal bool
	dial     SyslogDialer
}

// WithTerminal tells Main that stderr is a terminal, so logs go there too.
func WithTerminal(t bool) Option { return func(o *options) { o.terminal = t } }

// WithSyslog replaces the syslog connection used when HA_LOGFACILITY is set.
func WithSyslog(d SyslogDialer) Option { return func(o *options) { o.dial = d } }

// The actions every agent answers.
var publicActions = []string{"start", "stop", "monitor", "status", "validate-all", "meta-data", "reload-agent", "usage", "help"}

// Run runs agent as the current process and exits with its code. It is the
// only function in hanet that exits.
func Run(agent Agent) {
	_, err := unix.IoctlGetTermios(2, unix.TCGETS)
	os.Exit(int(Main(context.Background(), agent, os.Args, os.Environ(), os.Stdout, os.Stderr, WithTerminal(err == nil))))
}

// Main runs the action named in args (args[0] is the program name) with the
// given environment ("KEY=value" entries; a later entry wins) and returns the
// exit code. It reads and writes nothing else of the process: stdout gets
// meta-data and usage, stderr gets logs and, as its last line, the
// ocf-exit-reason line. A panic in the agent's action (in the calling
// goroutine) ends the action with ErrGeneric rather than the runtime's exit
// status 2, which a probe would mask to "not running".
func Main(ctx context.Context, agent Agent, args, environ []string, stdout, stderr io.Writer, opts ...Option) ExitCode {
	var o options
	for _, f := range opts {
		f(&o)
	}
	env := make(map[string]string, len(environ))
	for _, kv := range environ {
		if k, v, ok := strings.Cut(kv, "="); ok {
			env[k] = v
		}
	}
	getenv := func(k string) string { return env[k] }
	spec := agent.Spec()

	typ := spec.Name
	if t := env["OCF_RESOURCE_TYPE"]; t != "" {
		typ = t
	}
	instance := env["OCF_RESOURCE_INSTANCE"]
	if instance == "" {
		instance = typ + "-manual"
	}
	tag := fmt.Sprintf("%s(%s)[%d]", typ, instance, os.Getpid())
	log := newLogger(getenv, tag, stderr, o.terminal, o.dial)
	reasonPrefix := env["OCF_EXIT_REASON_PREFIX"]
	if reasonPrefix == "" {
		reasonPrefix = "ocf-exit-reason:"
	}
	fail := func(code ExitCode, msg string) ExitCode {
		if msg = oneLine(msg); msg == "" {
			msg = code.Error()
		}
		log.Errorf("%s", msg)
		fmt.Fprintf(stderr, "%s%s\n", reasonPrefix, msg)
		return code
	}

	// Flags: every parameter, plus the contract's own knobs unless a
	// parameter already has that name.
	name := spec.Name
	if len(args) > 0 {
		name = args[0]
	}
	fs := &flagSet{}
	for i := range spec.Params {
		p := &spec.Params[i]
		fs.add(p.Name, 0, flagString, p.Short)
	}
	paramFlags := fs.defs
	timeoutFlag := fs.add("timeout", 0, flagDuration, "operation timeout (as OCF_RESKEY_CRM_meta_timeout)")
	intervalFlag := fs.add("interval", 0, flagDuration, "monitor interval; 0 = probe (as OCF_RESKEY_CRM_meta_interval)")
	levelFlag := fs.add("check-level", 0, flagInt, "OCF_CHECK_LEVEL for monitor and validate-all")
	helpFlag := fs.add("help", 'h', flagBool, "show this help")
	var rest []string
	if len(args) > 1 {
		rest = args[1:]
	}
	if err := fs.parse(rest); err != nil {
		usage(stderr, spec, fs, name)
		return fail(ErrArgs, "bad command line: "+err.Error())
	}
	if helpFlag.bool() {
		usage(stdout, spec, fs, name)
		return Success
	}
	flags := map[string]string{}
	for _, f := range paramFlags {
		if f.set {
			flags[f.name] = f.value
		}
	}
	if len(fs.args) == 0 {
		usage(stderr, spec, fs, name)
		return fail(ErrUnimplemented, "no action given")
	}
	action := fs.args[0]

	switch action {
	case "meta-data":
		form := FormFor(env["OCF_RA_VERSION_MAJOR"], env["OCF_RA_VERSION_MINOR"])
		if _, ok := agent.(Reloader); !ok {
			spec = withoutAction(spec, "reload-agent")
		}
		if err := WriteMetadata(stdout, spec, form); err != nil {
			return fail(ErrGeneric, err.Error())
		}
		return Success
	case "usage", "help":
		usage(stdout, spec, fs, name)
		return Success
	case "status":
		action = "monitor"
	}
	helper := strings.HasPrefix(action, "__")

	c := &Call{
		Action:   action,
		Type:     typ,
		Instance: instance,
		Log:      log,
		Getenv:   getenv,
		Stdout:   stdout,
		State:    State{Dir: DefaultStateDir},
	}
	if d := env["HA_RSCTMP"]; d != "" {
		c.State.Dir = d
	}
	// Interval and probe detection: absent, empty or 0 is a probe.
	if iv := strings.TrimSpace(env["OCF_RESKEY_CRM_meta_interval"]); iv != "" {
		if ms, err := strconv.ParseInt(iv, 10, 64); err == nil && ms > 0 {
			c.Interval = time.Duration(ms) * time.Millisecond
		}
	}
	if intervalFlag.changed() {
		c.Interval = intervalFlag.duration()
	}
	c.Probe = action == "monitor" && c.Interval <= 0
	lv := strings.TrimSpace(env["OCF_CHECK_LEVEL"])
	if lv == "" {
		lv = strings.TrimSpace(env["OCF_RESKEY_OCF_CHECK_LEVEL"])
	}
	if n, err := strconv.Atoi(lv); err == nil && n > 0 {
		c.CheckLevel = n
	}
	if levelFlag.changed() {
		c.CheckLevel = levelFlag.int()
	}
	// The deadline: the operation timeout minus a margin. A helper runs
	// detached, past the action that spawned it, so the timeout it
	// inherits in its environment does not bound it; only --timeout does.
	if !helper {
		c.Timeout = actionTimeout(spec, action)
		if t := strings.TrimSpace(env["OCF_RESKEY_CRM_meta_timeout"]); t != "" {
			if ms, err := strconv.ParseInt(t, 10, 64); err == nil && ms > 0 {
				c.Timeout = time.Duration(ms) * time.Millisecond
			}
		}
	}
	if timeoutFlag.changed() && timeoutFlag.duration() > 0 {
		c.Timeout = timeoutFlag.duration()
	}
	var cancel context.CancelFunc
	if c.Timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.Timeout-margin(c.Timeout))
	} else {
		ctx, cancel = context.WithCancel(ctx)
	}
	defer cancel()

	var ignored []string
	c.Params, ignored, c.Invalid = parseValues(spec.Params, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	}, flags)
	for _, n := range ignored {
		log.Warnf("parameter %s is not used by %s and is ignored", n, typ)
	}

	var run func(context.Context, *Call) error
	switch action {
	case "start":
		run = agent.Start
	case "stop":
		run = agent.Stop
	case "monitor":
		run = agent.Monitor
	case "validate-all":
		run = agent.Validate
	case "reload-agent":
		if r, ok := agent.(Reloader); ok {
			run = r.Reload
		}
	default:
		if h, ok := agent.(Helper); ok && helper {
			hname := strings.TrimPrefix(action, "__")
			run = func(ctx context.Context, c *Call) error { return h.Helper(ctx, c, hname) }
		}
	}
	if run == nil {
		usage(stderr, spec, fs, name)
		return fail(ErrUnimplemented, fmt.Sprintf("action %q is not supported by %s", fs.args[0], typ))
	}

	var err error
	switch {
	case len(c.Invalid) > 0 && action != "stop":
		msgs := make([]string, len(c.Invalid))
		for i, e := range c.Invalid {
			msgs[i] = e.Error()
		}
		err = &Error{Code: ErrConfigured, Err: errors.New(strings.Join(msgs, "; "))}
	default:
		if len(c.Invalid) > 0 {
			log.Warnf("stop with invalid parameters (%s): stopping what can be found", oneLine(errors.Join(c.Invalid...).Error()))
		}
		err = safeRun(ctx, run, c)
		if err != nil && ctx.Err() != nil && !errors.Is(err, ctx.Err()) && CodeOf(err) == ErrGeneric {
			err = fmt.Errorf("%w (%w)", err, ctx.Err())
		}
	}
	code, err := guard(c, action, CodeOf(err), err)
	switch {
	case code == Success:
		return Success
	case code == ErrNotRunning && isBareCode(err):
		return code
	case code == ErrNotRunning:
		log.Infof("%s", oneLine(err.Error()))
		if action == "monitor" && !c.Probe {
			// A recurring monitor's 7 is a failure Pacemaker recovers
			// from: say why (link down, address removed), so crm_mon shows
			// more than a bare "not running".
			fmt.Fprintf(stderr, "%s%s\n", reasonPrefix, oneLine(err.Error()))
		}
		return code
	case code == Degraded:
		msg := oneLine(err.Error())
		if msg == "" {
			msg = code.Error()
		}
		log.Warnf("%s", msg)
		fmt.Fprintf(stderr, "%s%s\n", reasonPrefix, msg)
		return code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fail(code, fmt.Sprintf("%v (operation timeout %s)", err, c.Timeout))
	}
	return fail(code, err.Error())
}

// safeRun runs an action, turning a panic into an ErrGeneric error (and
// logging the stack) so it cannot end the process with the runtime's status
// 2, which Pacemaker reads as ERR_ARGS and masks to 7 in a probe.
func safeRun(ctx context.Context, run func(context.Context, *Call) error, c *Call) (err error) {
	defer func() {
		if r := recover(); r != nil {
			c.Log.Errorf("panic in %s: %v\n%s", c.Action, r, debug.Stack())
			err = Errorf(ErrGeneric, "internal error in %s: %v", c.Action, r)
		}
	}()
	return run(ctx, c)
}

// oneLine folds a message onto one line, so the exit reason stays the last
// line on stderr and Pacemaker keeps all of it.
func oneLine(s string) string {
	s = strings.TrimSpace(s)
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	parts := strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == '\r' })
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	return strings.Join(parts, "; ")
}

// withoutAction returns spec without the advertised action name (a copy;
// spec is left alone).
func withoutAction(spec *Spec, name string) *Spec {
	cp := *spec
	cp.Actions = nil
	for _, a := range spec.Actions {
		if a.Name != name {
			cp.Actions = append(cp.Actions, a)
		}
	}
	return &cp
}

func isBareCode(err error) bool {
	_, ok := err.(ExitCode)
	return ok
}

// guard enforces Pacemaker's rules on the code an action ended in: no 2, 5,
// 6 or 7 from a stop (a failed stop means fencing; nothing of ours can be
// active), no 2 or 5 from a probe (they are masked to 7 anyway), no 6 from a
// recurring monitor (6 bans the resource everywhere), 7 only from a
// monitor, degraded only from a monitor (elsewhere it is success), and
// nothing outside the OCF codes (unknown codes become ErrGeneric).
func guard(c *Call, action string, code ExitCode, err error) (ExitCode, error) {
	switch {
	case code == Success:
		return code, nil
	case action == "stop" && (code == ErrArgs || code == ErrInstalled || code == ErrConfigured || code == ErrNotRunning):
		if code != ErrNotRunning {
			c.Log.Warnf("stop: %s: nothing of ours can be active, stop succeeds", oneLine(err.Error()))
		}
		return Success, nil
	case action == "monitor" && c.Probe && (code == ErrArgs || code == ErrInstalled):
		c.Log.Infof("probe: %s: not running here", oneLine(err.Error()))
		return ErrNotRunning, ErrNotRunning
	case action == "monitor" && !c.Probe && code == ErrConfigured:
		c.Log.Debugf("recurring monitor: %s: reported as a generic error, not as 6", oneLine(err.Error()))
		return ErrGeneric, err
	case code == ErrNotRunning && action != "monitor":
		if isBareCode(err) {
			err = fmt.Errorf("%s: resource not running", action)
		}
		return ErrGeneric, err
	case code == Degraded && action != "monitor":
		c.Log.Warnf("%s: %s", action, oneLine(err.Error()))
		return Success, nil
	}
	if _, known := codeNames[code]; !known {
		if isBareCode(err) {
			return ErrGeneric, fmt.Errorf("%s: unknown exit status %d", action, int(code))
		}
		return ErrGeneric, fmt.Errorf("%w (unknown exit status %d)", err, int(code))
	}
	return code, err
}

// margin is how much earlier than the operation timeout an action's context
// ends, so the agent can still roll back and report before Pacemaker's
// SIGKILL: a tenth of the timeout, between 100 ms and 2 s.
func margin(t time.Duration) time.Duration {
	m := t / 10
	if m < 100*time.Millisecond {
		m = 100 * time.Millisecond
	}
	if m > 2*time.Second {
		m = 2 * time.Second
	}
	if m >= t {
		m = t / 2
	}
	return m
}

// actionTimeout is the timeout the meta-data advertises for action (the
// first entry of that name), or DefaultTimeout.
func actionTimeout(spec *Spec, action string) time.Duration {
	for _, a := range spec.Actions {
		if a.Name == action && a.Timeout > 0 {
			return a.Timeout
		}
	}
	return DefaultTimeout
}

func usage(w io.Writer, spec *Spec, fs *flagSet, name string) {
	fmt.Fprintf(w, "usage: %s {%s} [--param value ...]\n\n%s\n\nParameters (flags override OCF_RESKEY_<param>):\n",
		name, strings.Join(publicActions, "|"), spec.Short)
	fs.usages(w)
}

// Spawn starts a detached copy of the running agent that performs the
// hidden action "__helper": a new session (so Pacemaker's process-group kill
// on an action timeout does not reach it), stdin and stdout on /dev/null,
// stderr on logPath when given (else /dev/null), and the caller's
// environment plus extraEnv (an entry of extraEnv replaces the caller's of
// the same name). It returns the child's pid without waiting for it.
func Spawn(helper string, extraEnv []string, logPath string) (int, error) {
	self, err := os.Executable()
	if err != nil {
		return 0, fmt.Errorf("spawn %s: %w", helper, err)
	}
	null, err := os.OpenFile(os.DevNull, os.O_RDWR, 0)
	if err != nil {
		return 0, fmt.Errorf("spawn %s: %w", helper, err)
	}
	defer null.Close()
	stderr := null
	if logPath != "" {
		if f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640); err == nil {
			defer f.Close()
			stderr = f
		}
	}
	// syscall.ForkExec rather than os/exec, which costs each agent binary
	// about 40 KB for what this needs.
	pid, err := syscall.ForkExec(self, []string{self, "__" + helper}, &syscall.ProcAttr{
		Env:   dedupEnv(append(os.Environ(), extraEnv...)),
		Files: []uintptr{null.Fd(), null.Fd(), stderr.Fd()},
		Sys:   &syscall.SysProcAttr{Setsid: true},
	})
	if err != nil {
		return 0, fmt.Errorf("spawn %s: fork/exec %s: %w", helper, self, err)
	}
	return pid, nil
}

// dedupEnv keeps the last entry of each name, in the order of the entries
// kept (a Go child would see the first of duplicates).
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, 0, len(env))
	for i := len(env) - 1; i >= 0; i-- {
		k, _, _ := strings.Cut(env[i], "=")
		if !seen[k] {
			seen[k] = true
			out = append(out, env[i])
		}
	}
	for i, j := 0, len(out)-1; i < j; i, j = i+1, j-1 {
		out[i], out[j] = out[j], out[i]
	}
	return out
}
