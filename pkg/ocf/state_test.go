package ocf

import (
	"context"
	"encoding/hex"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// unSafeName inverts SafeName, proving it injective.
func unSafeName(s string) (string, bool) {
	if s == "%" {
		return "", true
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		x, err := hex.DecodeString(s[i+1 : i+3])
		if err != nil {
			return "", false
		}
		b.Write(x)
		i += 2
	}
	return b.String(), true
}

func checkSafeName(t *testing.T, in string) string {
	t.Helper()
	out := SafeName(in)
	if back, ok := unSafeName(out); !ok || back != in {
		t.Errorf("SafeName(%q) = %q does not decode back (%q)", in, out, back)
	}
	if out == "" || out == "." || out == ".." || strings.HasPrefix(out, ".") {
		t.Errorf("SafeName(%q) = %q: empty or dot name", in, out)
	}
	for i := 0; i < len(out); i++ {
		c := out[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-_.%", c) >= 0) {
			t.Errorf("SafeName(%q) = %q has byte %q", in, out, c)
		}
	}
	dir := "/run/resource-agents"
	if p := filepath.Join(dir, out); filepath.Dir(p) != dir {
		t.Errorf("SafeName(%q) = %q leaves the directory: %s", in, out, p)
	}
	return out
}

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"vip", "vip"},
		{"vip-clone:1", "vip-clone%3A1"},
		{"web_ip.2", "web_ip.2"},
		{"192.0.2.10", "192.0.2.10"},
		{"fe80::1%eth0", "fe80%3A%3A1%25eth0"},
		{"a/b", "a%2Fb"},
		{"../../etc/passwd", "%2E.%2F..%2Fetc%2Fpasswd"},
		{"..", "%2E."},
		{".", "%2E"},
		{".hidden", "%2Ehidden"},
		{"", "%"},
		{"%", "%25"},
		{"%3A", "%253A"},
		{"ü", "%C3%BC"},
		{"a b\n", "a%20b%0A"},
		{"\x00", "%00"},
	}
	seen := map[string]string{}
	for _, tt := range tests {
		got := checkSafeName(t, tt.in)
		if got != tt.want {
			t.Errorf("SafeName(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if prev, dup := seen[got]; dup {
			t.Errorf("SafeName(%q) = SafeName(%q) = %q", tt.in, prev, got)
		}
		seen[got] = tt.in
	}
	rng := rand.New(rand.NewSource(1))
	alphabet := []byte("aZ09-_.:/%\x00\xff ü")
	for i := 0; i < 2000; i++ {
		b := make([]byte, rng.Intn(12))
		for j := range b {
			b[j] = alphabet[rng.Intn(len(alphabet))]
		}
		in := string(b)
		out := checkSafeName(t, in)
		if prev, dup := seen[out]; dup && prev != in {
			t.Fatalf("collision: %q and %q -> %q", in, prev, out)
		}
		seen[out] = in
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "vip-clone:1", "a/b", "%", "ü", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkSafeName(t, s)
	})
}

func TestStatePath(t *testing.T) {
	s := State{Dir: "/run/resource-agents"}
	for _, tt := range []struct{ typ, key, suffix, want string }{
		{"vip", "vip-1", ".json", "/run/resource-agents/hanet-vip-vip-1.json"},
		{"linkhealth", "lh-clone:0", "", "/run/resource-agents/hanet-linkhealth-lh-clone%3A0"},
		{"vip", "../x", ".lock", "/run/resource-agents/hanet-vip-%2E.%2Fx.lock"},
		{"vip", "", ".json", "/run/resource-agents/hanet-vip-%.json"},
	} {
		if got := s.Path(tt.typ, tt.key, tt.suffix); got != tt.want {
			t.Errorf("Path(%q, %q, %q) = %q, want %q", tt.typ, tt.key, tt.suffix, got, tt.want)
		}
		if filepath.Dir(s.Path(tt.typ, tt.key, tt.suffix)) != s.Dir {
			t.Errorf("Path(%q, %q) is not directly inside the directory", tt.typ, tt.key)
		}
	}
}

type testState struct {
	NIC    string   `json:"nic"`
	Slaves []string `json:"slaves"`
	N      int      `json:"n"`
}

func TestStateSaveLoadRemove(t *testing.T) {
	s := State{Dir: filepath.Join(t.TempDir(), "not", "yet")}
	p := s.Path("vip", "vip-clone:1", ".json")

	var got testState
	if err := s.Load(p, &got); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load of a missing file = %v, want os.ErrNotExist", err)
	}
	want := testState{NIC: "eth0", Slaves: []string{"eth1", "eth2"}, N: 1}
	if err := s.Save(p, want); err != nil {
		t.Fatalf("Save: %v", err)
	}
	if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, %v", fi.Mode(), err)
	}
	if err := s.Load(p, &got); err != nil || got.NIC != "eth0" || len(got.Slaves) != 2 || got.N != 1 {
		t.Fatalf("Load = %+v, %v", got, err)
	}
	want.N = 2
	if err := s.Save(p, want); err != nil {
		t.Fatal(err)
	}
	got = testState{}
	if err := s.Load(p, &got); err != nil || got.N != 2 {
		t.Fatalf("Load after overwrite = %+v, %v", got, err)
	}
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries (temporary files left?): %v", len(entries), entries)
	}
	if err := s.Save(p, make(chan int)); err == nil {
		t.Error("Save of an unencodable value succeeded")
	}
	if err := s.Load(p, &got); err != nil || got.N != 2 {
		t.Errorf("failed Save damaged the file: %+v, %v", got, err)
	}
	if err := os.WriteFile(p, []byte("{"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := s.Load(p, &got); err == nil || errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a corrupt file = %v", err)
	}
	if err := s.Remove(p); err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(p); err != nil {
		t.Errorf("Remove of a missing file = %v", err)
	}
	if _, err := os.Stat(p); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("file still there: %v", err)
	}
	if err := (State{Dir: "/proc/no/such"}).Save("/proc/no/such/x", 1); err == nil {
		t.Error("Save into an impossible directory succeeded")
	}
}

func TestStateSaveAtomic(t *testing.T) {
	t.Parallel()
	s := State{Dir: t.TempDir()}
	p := s.Path("vip", "x", ".json")
	big := make([]string, 300)
	for i := range big {
		big[i] = strings.Repeat("x", 20)
	}
	if err := s.Save(p, testState{N: -1, Slaves: big}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var stop atomic.Bool
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 6; i++ {
				if err := s.Save(p, testState{N: w*100 + i, Slaves: big}); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	var reads atomic.Int64
	var rwg sync.WaitGroup
	for r := 0; r < 2; r++ {
		rwg.Add(1)
		go func() {
			defer rwg.Done()
			for !stop.Load() {
				var got testState
				if err := s.Load(p, &got); err != nil {
					t.Errorf("reader saw a partial file: %v", err)
					return
				}
				if len(got.Slaves) != len(big) {
					t.Errorf("reader saw %d slaves", len(got.Slaves))
					return
				}
				reads.Add(1)
			}
		}()
	}
	wg.Wait()
	stop.Store(true)
	rwg.Wait()
	entries, _ := os.ReadDir(s.Dir)
	if len(entries) != 1 {
		t.Errorf("%d entries left, want 1", len(entries))
	}
	if reads.Load() == 0 {
		t.Error("no reads")
	}
}

func TestStateLock(t *testing.T) {
	t.Parallel()
	s := State{Dir: filepath.Join(t.TempDir(), "new")}
	ctx := context.Background()
	l1, err := s.Lock(ctx, "vip", "192.0.2.10")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(s.Path("vip", "192.0.2.10", ".lock")); err != nil {
		t.Errorf("lock file: %v", err)
	}

	// Held: a second taker times out with the context's error.
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	start := time.Now()
	_, err = s.Lock(short, "vip", "192.0.2.10")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("second Lock = %v, want context.DeadlineExceeded", err)
	}
	if d := time.Since(start); d < 50*time.Millisecond || d > time.Second {
		t.Errorf("second Lock gave up after %v", d)
	}
	// Another key is independent.
	l3, err := s.Lock(short, "vip", "192.0.2.11")
	if err == nil {
		l3.Unlock()
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("other key: %v", err)
	}
	l3, err = s.Lock(ctx, "vip", "192.0.2.11")
	if err != nil {
		t.Errorf("other key: %v", err)
	}
	l3.Unlock()

	// A waiter gets the lock once it is released.
	got := make(chan error, 1)
	go func() {
		wctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		l, err := s.Lock(wctx, "vip", "192.0.2.10")
		if err == nil {
			l.Unlock()
		}
		got <- err
	}()
	time.Sleep(20 * time.Millisecond)
	select {
	case err := <-got:
		t.Fatalf("waiter returned while the lock was held: %v", err)
	default:
	}
	l1.Unlock()
	l1.Unlock() // twice is harmless
	if err := <-got; err != nil {
		t.Errorf("waiter: %v", err)
	}
	var nilLock *Lock
	nilLock.Unlock()
}

func TestStateLockExclusive(t *testing.T) {
	t.Parallel()
	s := State{Dir: t.TempDir()}
	var inside, overlaps, total atomic.Int32
	var wg sync.WaitGroup
	for g := 0; g < 2; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 10; i++ {
				ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
				l, err := s.Lock(ctx, "bond", "bond0")
				cancel()
				if err != nil {
					t.Error(err)
					return
				}
				if inside.Add(1) != 1 {
					overlaps.Add(1)
				}
				time.Sleep(time.Millisecond)
				total.Add(1)
				inside.Add(-1)
				l.Unlock()
			}
		}()
	}
	wg.Wait()
	if overlaps.Load() != 0 || total.Load() != 20 {
		t.Errorf("overlaps %d, total %d", overlaps.Load(), total.Load())
	}
}
