package ocf

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// A Level is a log severity, mirroring ocf_log's crit/err/warn/info/debug.
type Level int

// The log levels.
const (
	// LevelDebug lines ("DEBUG:") appear only with HA_debug.
	LevelDebug Level = iota
	// LevelInfo lines start "INFO:".
	LevelInfo
	// LevelWarn lines start "WARNING:".
	LevelWarn
	// LevelErr lines start "ERROR:".
	LevelErr
	// LevelCrit lines start "CRIT:".
	LevelCrit
)

var levelPrefix = [...]string{"DEBUG", "INFO", "WARNING", "ERROR", "CRIT"}

// A Logger writes agent log lines where the shell agents' ocf_log would:
// syslog when HA_LOGFACILITY is set and not "none", HA_LOGFILE when set,
// debug lines also to HA_DEBUGLOG, and stderr when neither destination is
// configured (or syslog cannot be reached) or stderr is a terminal. Debug
// lines appear only when HA_debug is set and not 0. Syslog is dialled on
// the first line logged, so an action that logs nothing (meta-data) opens
// no connection. A Logger is safe for concurrent use; a nil *Logger
// discards everything.
type Logger struct {
	mu       sync.Mutex
	tag      string
	debug    bool
	stderr   io.Writer
	terminal bool
	facility string       // HA_LOGFACILITY, "" when syslog is off
	dial     SyslogDialer // used once, on the first line
	dialed   bool
	syslog   io.Writer // nil: none
	file     string
	debugLog string
	now      func() time.Time
}

// SyslogDialer opens a syslog writer for facility with tag; tests replace it
// (WithSyslog). When the writer has the methods of the syslog writer (Err,
// Warning, Info, Notice) each line goes out at its own priority; otherwise
// every line is written to it as text ending in a newline.
type SyslogDialer func(facility, tag string) (io.Writer, error)

// leveled is the part of the syslog writer that sets a line's priority.
type leveled interface {
	Err(string) error
	Warning(string) error
	Info(string) error
	Notice(string) error
}

// newLogger builds the logger an action uses from its environment.
func newLogger(getenv func(string) string, tag string, stderr io.Writer, terminal bool, dial SyslogDialer) *Logger {
	l := &Logger{tag: tag, stderr: stderr, terminal: terminal, dial: dial, now: time.Now}
	if d := getenv("HA_debug"); d != "" && d != "0" {
		l.debug = true
	}
	if f := getenv("HA_LOGFACILITY"); f != "" && f != "none" {
		l.facility = f
		if l.dial == nil {
			l.dial = dialSyslog
		}
	}
	l.file = getenv("HA_LOGFILE")
	l.debugLog = getenv("HA_DEBUGLOG")
	return l
}

// Debugf logs at debug level (only with HA_debug).
func (l *Logger) Debugf(format string, args ...any) { l.logf(LevelDebug, format, args...) }

// Infof logs at info level.
func (l *Logger) Infof(format string, args ...any) { l.logf(LevelInfo, format, args...) }

// Warnf logs a warning.
func (l *Logger) Warnf(format string, args ...any) { l.logf(LevelWarn, format, args...) }

// Errorf logs an error.
func (l *Logger) Errorf(format string, args ...any) { l.logf(LevelErr, format, args...) }

func (l *Logger) logf(level Level, format string, args ...any) {
	if l == nil || (level == LevelDebug && !l.debug) {
		return
	}
	msg := levelPrefix[level] + ": " + strings.TrimRight(fmt.Sprintf(format, args...), "\n")
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.facility != "" && !l.dialed {
		l.dialed = true
		if w, err := l.dial(l.facility, l.tag); err == nil && w != nil {
			l.syslog = w
		}
	}
	if l.syslog != nil {
		if sw, ok := l.syslog.(leveled); ok {
			switch level {
			case LevelErr, LevelCrit:
				_ = sw.Err(msg)
			case LevelWarn:
				_ = sw.Warning(msg)
			case LevelInfo:
				_ = sw.Info(msg)
			default:
				_ = sw.Notice(msg)
			}
		} else {
			fmt.Fprintln(l.syslog, msg)
		}
	}
	line := fmt.Sprintf("%s:\t%s %s\n", l.tag, l.now().Format("2006/01/02_15:04:05"), msg)
	if l.file != "" {
		appendFile(l.file, line)
	}
	if level == LevelDebug && l.debugLog != "" && l.debugLog != l.file {
		appendFile(l.debugLog, line)
	}
	if l.terminal || (l.syslog == nil && l.file == "") {
		fmt.Fprintln(l.stderr, msg)
	}
}

func appendFile(path, line string) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o640)
	if err != nil {
		return
	}
	_, _ = f.WriteString(line)
	_ = f.Close()
}
