package ocf

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"syscall"
	"time"
)

// syslogFacilities maps HA_LOGFACILITY names to syslog facility numbers
// (RFC 5424 §6.2.1).
var syslogFacilities = map[string]int{
	"kern": 0, "user": 1, "mail": 2, "daemon": 3, "auth": 4, "syslog": 5,
	"lpr": 6, "news": 7, "uucp": 8, "cron": 9, "authpriv": 10, "ftp": 11,
	"local0": 16, "local1": 17, "local2": 18, "local3": 19,
	"local4": 20, "local5": 21, "local6": 22, "local7": 23,
}

// Severities (RFC 5424).
const (
	sevErr     = 3
	sevWarning = 4
	sevNotice  = 5
	sevInfo    = 6
)

// syslogWriter sends lines to the local syslog socket. It is a few lines of
// syscalls instead of log/syslog, whose network dialer (with the DNS
// resolver) would add 370 KB to every agent binary.
type syslogWriter struct {
	mu       sync.Mutex
	fd       int
	facility int
	tag      string
}

// dialSyslog connects to the local syslog daemon, as logger(1) does.
func dialSyslog(facility, tag string) (io.Writer, error) {
	fac, ok := syslogFacilities[strings.ToLower(facility)]
	if !ok {
		fac = syslogFacilities["daemon"]
	}
	var errs []error
	for _, path := range []string{"/dev/log", "/var/run/syslog", "/var/run/log"} {
		for _, typ := range []int{syscall.SOCK_DGRAM, syscall.SOCK_STREAM} {
			fd, err := syscall.Socket(syscall.AF_UNIX, typ|syscall.SOCK_CLOEXEC, 0)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			if err := syscall.Connect(fd, &syscall.SockaddrUnix{Name: path}); err != nil {
				syscall.Close(fd)
				errs = append(errs, fmt.Errorf("%s: %w", path, err))
				continue
			}
			return &syslogWriter{fd: fd, facility: fac, tag: tag}, nil
		}
	}
	return nil, fmt.Errorf("connect to syslog: %w", errors.Join(errs...))
}

func (w *syslogWriter) send(sev int, msg string) error {
	line := fmt.Sprintf("<%d>%s %s: %s\n", w.facility*8+sev, time.Now().Format(time.Stamp), w.tag, msg)
	w.mu.Lock()
	defer w.mu.Unlock()
	_, err := syscall.Write(w.fd, []byte(line))
	return err
}

// Write sends p as one notice.
func (w *syslogWriter) Write(p []byte) (int, error) {
	return len(p), w.send(sevNotice, strings.TrimRight(string(p), "\n"))
}

// Err sends msg at severity err.
func (w *syslogWriter) Err(msg string) error { return w.send(sevErr, msg) }

// Warning sends msg at severity warning.
func (w *syslogWriter) Warning(msg string) error { return w.send(sevWarning, msg) }

// Info sends msg at severity info.
func (w *syslogWriter) Info(msg string) error { return w.send(sevInfo, msg) }

// Notice sends msg at severity notice.
func (w *syslogWriter) Notice(msg string) error { return w.send(sevNotice, msg) }
