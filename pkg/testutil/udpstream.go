package testutil

import (
	"encoding/binary"
	"errors"
	"net"
	"sync"
	"time"
)

// A UDPStream sends numbered UDP datagrams to an echo server at a fixed
// interval and records when each came back, to measure the traffic a
// failover loses. Open it on the thread (namespace) the traffic belongs to.
type UDPStream struct {
	conn  *net.UDPConn
	done  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	sent  int
	got   map[uint32]bool
	times []time.Time
}

// StartUDPStream starts sending a datagram to dst every interval.
func StartUDPStream(dst *net.UDPAddr, interval time.Duration) (*UDPStream, error) {
	conn, err := net.DialUDP("udp4", nil, dst)
	if err != nil {
		return nil, err
	}
	s := &UDPStream{conn: conn, done: make(chan struct{}), got: map[uint32]bool{}}
	s.wg.Add(2)
	go func() { // receiver
		defer s.wg.Done()
		buf := make([]byte, 64)
		for {
			n, err := conn.Read(buf)
			if err != nil {
				if errors.Is(err, net.ErrClosed) {
					return
				}
				continue // ECONNREFUSED and the like while the path is down
			}
			if n >= 4 {
				seq := binary.BigEndian.Uint32(buf)
				s.mu.Lock()
				if !s.got[seq] {
					s.got[seq] = true
					s.times = append(s.times, time.Now())
				}
				s.mu.Unlock()
			}
		}
	}()
	go func() { // sender
		defer s.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		var b [4]byte
		for seq := uint32(0); ; seq++ {
			binary.BigEndian.PutUint32(b[:], seq)
			_, _ = conn.Write(b[:])
			s.mu.Lock()
			s.sent++
			s.mu.Unlock()
			select {
			case <-s.done:
				return
			case <-tick.C:
			}
		}
	}()
	return s, nil
}

// EchoedAfter reports whether an echo came back after t.
func (s *UDPStream) EchoedAfter(t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.times) > 0 && s.times[len(s.times)-1].After(t)
}

// Stop ends the stream, waits drain for the last echoes, and returns how
// many datagrams were sent and lost and the longest time without an echo.
// Stopping twice returns the same figures.
func (s *UDPStream) Stop(drain time.Duration) (sent, lost int, gap time.Duration) {
	select {
	case <-s.done:
	default:
		close(s.done)
		time.Sleep(drain)
		s.conn.Close()
	}
	s.wg.Wait()
	s.mu.Lock()
	defer s.mu.Unlock()
	for i := 1; i < len(s.times); i++ {
		gap = max(gap, s.times[i].Sub(s.times[i-1]))
	}
	return s.sent, s.sent - len(s.got), gap
}
