package ocf

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// DefaultStateDir is HA_RSCTMP's default (ocf-directories): a tmpfs emptied
// at boot, so state never survives a reboot.
const DefaultStateDir = "/run/resource-agents"

// SafeName turns s (a resource instance such as "vip-clone:1", an address,
// an interface name) into a file-name component: letters, digits, '.', '-'
// and '_' stay; every other byte becomes "%XX", so distinct inputs never
// collide and no input can climb out of the state directory.
func SafeName(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		case c == '.' && i > 0:
			b.WriteByte(c)
		default:
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	if b.Len() == 0 {
		return "%"
	}
	return b.String()
}

// A State is the directory of an agent's state files (HA_RSCTMP).
type State struct {
	Dir string
}

// Path returns the state file of agent type typ for key (an instance or a
// managed object): <Dir>/hanet-<SafeName(typ)>-<SafeName(key)><suffix>.
// For one typ and suffix, distinct keys give distinct paths, all directly
// inside Dir.
func (s State) Path(typ, key, suffix string) string {
	return filepath.Join(s.Dir, "hanet-"+SafeName(typ)+"-"+SafeName(key)+suffix)
}

func (s State) ensure() error {
	if err := os.MkdirAll(s.Dir, 0o755); err != nil {
		return fmt.Errorf("create state directory %s: %w", s.Dir, err)
	}
	return nil
}

// Save writes v as JSON (MarshalState) to path atomically (a temporary file in the same
// directory, fsync, rename), creating the state directory when absent. A
// reader sees the old content or the new, never a mix, even with concurrent
// writers.
func (s State) Save(path string, v any) error {
	if err := s.ensure(); err != nil {
		return err
	}
	data, err := MarshalState(v)
	if err != nil {
		return fmt.Errorf("encode state %s: %w", path, err)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("write state %s: %w", path, err)
	}
	tmp := f.Name()
	_, werr := f.Write(append(data, '\n'))
	serr := f.Sync()
	cerr := f.Close()
	if err := errors.Join(werr, serr, cerr); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write state %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write state %s: %w", path, err)
	}
	return nil
}

// Load reads the JSON state at path into v (UnmarshalState). It reports os.ErrNotExist
// (through errors.Is) when there is none.
func (s State) Load(path string, v any) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if err := UnmarshalState(data, v); err != nil {
		return fmt.Errorf("read state %s: %w", path, err)
	}
	return nil
}

// Remove deletes path; a missing file is not an error.
func (s State) Remove(path string) error {
	if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove state %s: %w", path, err)
	}
	return nil
}

// A Lock is an exclusive flock on a lock file in the state directory.
type Lock struct{ f *os.File }

// Lock takes the exclusive lock named key for agent type typ, waiting until
// ctx ends. Instances of one type may run concurrently; locking per managed
// object (an address, a bond) keeps them from interleaving.
func (s State) Lock(ctx context.Context, typ, key string) (*Lock, error) {
	if err := s.ensure(); err != nil {
		return nil, err
	}
	path := s.Path(typ, key, ".lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock %s: %w", path, err)
	}
	delay := time.Millisecond
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return &Lock{f: f}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-time.After(delay):
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// Unlock releases the lock. The lock file stays (removing it would race with
// a waiter); it lives on tmpfs.
func (l *Lock) Unlock() {
	if l != nil && l.f != nil {
		_ = l.f.Close()
		l.f = nil
	}
}
