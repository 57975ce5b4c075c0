package benchkit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"

	"github.com/hanet/hanet/pkg/testutil"
)

// NewNS creates an anonymous network namespace with lo up, from a
// throw-away locked thread, so the caller never moves. It is freed when its
// handle is closed and no process or socket holds it. See testutil.CreateNS.
func NewNS() (netns.NsHandle, error) { return testutil.CreateNS() }

// InNS runs fn on a locked thread switched into ns. A thread that cannot be
// switched back stays locked and dies with its goroutine. See testutil.InNS.
func InNS(ns netns.NsHandle, fn func() error) error { return testutil.InNS(ns, fn) }

// Sysctl writes value to /proc/sys/<key> (slashes) as seen from ns.
func Sysctl(ns netns.NsHandle, key, value string) error {
	return InNS(ns, func() error { return os.WriteFile(filepath.Join("/proc/sys", key), []byte(value), 0) })
}

// KillIn sends SIGKILL to every process whose network namespace is ns
// (detached helpers an agent left behind), except this one.
func KillIn(ns netns.NsHandle) {
	var st unix.Stat_t
	if err := unix.Fstat(int(ns), &st); err != nil {
		return
	}
	want := fmt.Sprintf("net:[%d]", st.Ino)
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		link, err := os.Readlink(filepath.Join(d, "ns", "net"))
		if err != nil || link != want {
			continue
		}
		var pid int
		if _, err := fmt.Sscan(strings.TrimPrefix(d, "/proc/"), &pid); err == nil && pid != os.Getpid() {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

// Veth adds a veth pair, a in nsA and b in nsB, with the given interface
// index for a (0: any), and sets both up.
func Veth(nsA netns.NsHandle, a string, indexA int, nsB netns.NsHandle, b string) error {
	h, err := netlink.NewHandleAt(nsA, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	hb, err := netlink.NewHandleAt(nsB, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer hb.Close()
	attrs := netlink.NewLinkAttrs()
	attrs.Name, attrs.Index = a, indexA
	v := &netlink.Veth{LinkAttrs: attrs, PeerName: b}
	if !nsA.Equal(nsB) {
		v.PeerNamespace = netlink.NsFd(int(nsB))
	}
	if err := h.LinkAdd(v); err != nil {
		return fmt.Errorf("add veth %s/%s: %w", a, b, err)
	}
	for _, x := range []struct {
		h    *netlink.Handle
		name string
	}{{h, a}, {hb, b}} {
		l, err := x.h.LinkByName(x.name)
		if err != nil {
			return err
		}
		if err := x.h.LinkSetUp(l); err != nil {
			return err
		}
	}
	return nil
}

// AddAddr adds cidr to link name in ns.
func AddAddr(ns netns.NsHandle, name, cidr string) error {
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		return err
	}
	defer h.Close()
	l, err := h.LinkByName(name)
	if err != nil {
		return err
	}
	a, err := netlink.ParseAddr(cidr)
	if err != nil {
		return err
	}
	return h.AddrAdd(l, a)
}

// A Result is one finished program run.
type Result struct {
	T0        time.Time // just before fork
	Wall, CPU time.Duration
	Code      int
	Output    string // stdout and stderr
}

// Run runs path with args and env inside ns and measures it: wall time
// from just before fork to the reaping of the process, user+system CPU of
// it and of the children it waited for (rusage). Output goes to a file, not
// a pipe, so a detached child holding it cannot delay the end. A non-zero
// exit is not an error.
func Run(ns netns.NsHandle, env []string, path string, args ...string) (Result, error) {
	out, err := os.CreateTemp("", "hanet-bench-out-")
	if err != nil {
		return Result{}, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	var r Result
	start := func() error {
		r.T0 = time.Now()
		return cmd.Start()
	}
	if ns.IsOpen() {
		err = InNS(ns, start)
	} else {
		err = start()
	}
	if err != nil {
		return r, err
	}
	werr := cmd.Wait()
	r.Wall = time.Since(r.T0)
	var ee *exec.ExitError
	if werr != nil && !errors.As(werr, &ee) {
		return r, werr
	}
	r.Code = cmd.ProcessState.ExitCode()
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.CPU = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	}
	data, _ := os.ReadFile(out.Name())
	r.Output = string(data)
	return r, nil
}
