package testutil

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// SkipUnlessRoot skips the test unless the effective user is root, the only
// way to get CAP_NET_ADMIN and CAP_NET_RAW for namespaces and raw sockets.
func SkipUnlessRoot(t testing.TB) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root (CAP_NET_ADMIN, CAP_NET_RAW) to build network namespaces")
	}
}

// NewNS returns a new anonymous network namespace with lo up inside. The
// namespace is created on a dedicated locked thread, so the caller never
// moves; its handle is closed in t.Cleanup, after which the kernel frees the
// namespace once nothing else (sockets, processes) holds it.
func NewNS(t testing.TB) netns.NsHandle {
	t.Helper()
	ns, err := newNS()
	if err != nil {
		t.Fatalf("create network namespace: %v", err)
	}
	t.Cleanup(func() { ns.Close() })

	h := Handle(t, ns)
	lo, err := h.LinkByName("lo")
	if err != nil {
		t.Fatalf("find lo in new namespace: %v", err)
	}
	if err := h.LinkSetUp(lo); err != nil {
		t.Fatalf("set lo up in new namespace: %v", err)
	}
	return ns
}

// CreateNS is NewNS for code without a testing.TB (benchmark drivers): it
// returns a new anonymous network namespace with lo up inside, created from a
// throw-away locked thread so the caller never moves. The caller owns the
// handle; the kernel frees the namespace once the handle is closed and
// nothing else (sockets, processes) holds it.
func CreateNS() (netns.NsHandle, error) {
	ns, err := newNS()
	if err != nil {
		return netns.None(), fmt.Errorf("create network namespace: %w", err)
	}
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		ns.Close()
		return netns.None(), fmt.Errorf("open netlink handle in new namespace: %w", err)
	}
	defer h.Close()
	lo, err := h.LinkByName("lo")
	if err == nil {
		err = h.LinkSetUp(lo)
	}
	if err != nil {
		ns.Close()
		return netns.None(), fmt.Errorf("set lo up in new namespace: %w", err)
	}
	return ns, nil
}

// newNS creates an anonymous namespace from a throw-away locked thread.
func newNS() (netns.NsHandle, error) {
	type result struct {
		ns  netns.NsHandle
		err error
	}
	ch := make(chan result, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			ch <- result{netns.None(), fmt.Errorf("get current namespace: %w", err)}
			return
		}
		defer orig.Close()
		ns, err := netns.New() // unshare(CLONE_NEWNET): moves this thread
		if err != nil {
			if cur, gerr := netns.Get(); gerr == nil && cur.Equal(orig) {
				cur.Close()
				runtime.UnlockOSThread()
			}
			ch <- result{netns.None(), fmt.Errorf("unshare network namespace: %w", err)}
			return
		}
		if err := netns.Set(orig); err != nil {
			// Leave the thread locked: it dies with this goroutine.
			ns.Close()
			ch <- result{netns.None(), fmt.Errorf("restore network namespace: %w", err)}
			return
		}
		runtime.UnlockOSThread()
		ch <- result{ns, nil}
	}()
	r := <-ch
	return r.ns, r.err
}

// errSwitch marks failures to enter or leave a namespace, as opposed to
// errors returned by the function run inside it.
type errSwitch struct{ err error }

func (e errSwitch) Error() string { return e.err.Error() }
func (e errSwitch) Unwrap() error { return e.err }

// InNS runs fn on a dedicated goroutine whose OS thread is locked and switched
// into ns, and returns fn's error or the error of switching. The thread is
// switched back afterwards; if that fails, it is left locked so that it dies
// with the goroutine instead of serving others from the wrong namespace.
//
// Sockets and processes created by fn stay in ns; goroutines started by fn do
// not (they may run on any thread).
func InNS(ns netns.NsHandle, fn func() error) error {
	ch := make(chan error, 1)
	go func() {
		var err error
		finished := false
		defer func() {
			if !finished { // fn called runtime.Goexit (t.FailNow)
				err = errSwitch{errors.New("function in namespace exited its goroutine")}
			}
			ch <- err
		}()
		err = inNSLocked(ns, fn)
		finished = true
	}()
	return <-ch
}

func inNSLocked(ns netns.NsHandle, fn func() error) (err error) {
	runtime.LockOSThread()
	orig, err := netns.Get()
	if err != nil {
		runtime.UnlockOSThread()
		return errSwitch{fmt.Errorf("get current namespace: %w", err)}
	}
	defer orig.Close()
	if err := netns.Set(ns); err != nil {
		runtime.UnlockOSThread()
		return errSwitch{fmt.Errorf("enter namespace %s: %w", ns, err)}
	}
	defer func() {
		if rerr := netns.Set(orig); rerr != nil {
			// Keep the thread locked: it is terminated when the goroutine exits.
			err = errors.Join(err, errSwitch{fmt.Errorf("restore namespace: %w", rerr)})
			return
		}
		runtime.UnlockOSThread()
	}()
	return fn()
}

// Do runs fn inside ns like InNS and returns fn's error; failing to enter or
// leave ns fails the test at once.
func Do(t testing.TB, ns netns.NsHandle, fn func() error) error {
	t.Helper()
	err := InNS(ns, fn)
	var se errSwitch
	if errors.As(err, &se) {
		t.Fatalf("run in namespace: %v", err)
	}
	return err
}

// Handle returns a netlink handle bound to ns (NETLINK_ROUTE only), deleted
// in t.Cleanup.
func Handle(t testing.TB, ns netns.NsHandle) *netlink.Handle {
	t.Helper()
	h, err := netlink.NewHandleAt(ns, unix.NETLINK_ROUTE)
	if err != nil {
		t.Fatalf("open netlink handle in namespace %s: %v", ns, err)
	}
	t.Cleanup(h.Close)
	return h
}

// Path returns a file name for ns that other processes can open while this
// process keeps ns open, e.g. for nsenter --net=PATH or setns(2).
func Path(ns netns.NsHandle) string {
	return fmt.Sprintf("/proc/%d/fd/%d", os.Getpid(), int(ns))
}

// Sysctl writes value to the sysctl key as seen from inside ns: /proc/sys/net
// is per namespace, resolved when the file is opened. key is dotted
// ("net.ipv6.conf.veth0.accept_dad") or, when it names an interface with a dot
// in it, slashed ("net/ipv6/conf/veth0.1/accept_dad").
func Sysctl(t testing.TB, ns netns.NsHandle, key, value string) {
	t.Helper()
	if !strings.Contains(key, "/") {
		key = strings.ReplaceAll(key, ".", "/")
	}
	name := filepath.Join("/proc/sys", key)
	err := Do(t, ns, func() error {
		return os.WriteFile(name, []byte(value), 0o644)
	})
	if err != nil {
		t.Fatalf("set sysctl %s=%s: %v", key, value, err)
	}
}
