// Command testsum reads `go test -json` output on stdin, prints each
// package's result, the output of failed and skipped tests, and a closing
// line "N passed, N failed, N skipped". It exits non-zero when a test or a
// package failed, when no test ran, or, with -no-skip (CI), when any test
// was skipped: a root or qemu test that skips on CI is not a test.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
	Elapsed float64
}

func main() {
	noSkip := flag.Bool("no-skip", os.Getenv("HANET_NO_SKIP") == "1", "fail when a test is skipped")
	flag.Parse()
	out := map[string]*strings.Builder{}
	key := func(e event) string { return e.Package + " " + e.Test }
	var passed, failed, skipped int
	var failures, skips []string
	pkgFailed := false
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	start := time.Now()
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			fmt.Println(sc.Text()) // build errors and other plain lines
			continue
		}
		k := key(e)
		switch e.Action {
		case "output":
			if out[k] == nil {
				out[k] = &strings.Builder{}
			}
			out[k].WriteString(e.Output)
		case "pass", "fail", "skip":
			if e.Test == "" {
				fmt.Printf("%-4s %s (%.1fs)\n", map[string]string{"pass": "ok", "fail": "FAIL", "skip": "?"}[e.Action], e.Package, e.Elapsed)
				if e.Action == "fail" {
					pkgFailed = true
					if b := out[k]; b != nil {
						fmt.Print(indent(b.String()))
					}
				}
				continue
			}
			if strings.Contains(e.Test, "/") && e.Action == "pass" {
				continue // count top-level tests and failing/skipping subtests
			}
			switch e.Action {
			case "pass":
				passed++
			case "fail":
				failed++
				failures = append(failures, k)
				if b := out[k]; b != nil {
					fmt.Printf("--- FAIL: %s\n%s", k, indent(b.String()))
				}
			case "skip":
				skipped++
				reason := ""
				if b := out[k]; b != nil {
					reason = lastLine(b.String())
				}
				skips = append(skips, k+": "+reason)
			}
		}
	}
	sort.Strings(skips)
	for _, s := range skips {
		fmt.Println("--- SKIP:", s)
	}
	fmt.Printf("\ntests: %s\n", time.Since(start).Round(time.Second))
	fmt.Printf("%d passed, %d failed, %d skipped\n", passed, failed, skipped)
	switch {
	case failed > 0 || pkgFailed:
		os.Exit(1)
	case passed == 0:
		fmt.Println("no test ran")
		os.Exit(1)
	case *noSkip && skipped > 0:
		fmt.Println("skipped tests are failures here (-no-skip / HANET_NO_SKIP=1)")
		os.Exit(1)
	}
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    " + l)
		}
	}
	return b.String()
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if l != "" && !strings.HasPrefix(l, "---") && !strings.HasPrefix(l, "=== ") {
			return l
		}
	}
	return ""
}
