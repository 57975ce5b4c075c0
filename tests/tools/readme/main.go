// Command readme regenerates the parameter tables in README.md from the
// agents' parameter tables, between the markers
// "<!-- params:AGENT -->" and "<!-- /params:AGENT -->". With -check it only
// reports (exit 1) when README.md is out of date.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"strings"

	"github.com/hanet/hanet/pkg/ocf"
	"github.com/hanet/hanet/tests/tools/readme/specs"
)

func main() {
	check := flag.Bool("check", false, "report drift instead of rewriting")
	path := flag.String("file", "README.md", "file to update")
	flag.Parse()
	old, err := os.ReadFile(*path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	doc := string(old)
	for _, s := range specs.All() {
		begin, end := "<!-- params:"+s.Name+" -->", "<!-- /params:"+s.Name+" -->"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i < 0 || j < i {
			fmt.Fprintf(os.Stderr, "%s: no %s ... %s block\n", *path, begin, end)
			os.Exit(2)
		}
		doc = doc[:i+len(begin)] + "\n" + Table(s) + doc[j:]
	}
	if doc == string(old) {
		return
	}
	if *check {
		fmt.Fprintf(os.Stderr, "%s is out of date: run make docs\n", *path)
		os.Exit(1)
	}
	if err := os.WriteFile(*path, []byte(doc), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
}

// Table renders spec's parameters as a Markdown table.
func Table(s *ocf.Spec) string {
	var b bytes.Buffer
	b.WriteString("| parameter | default | reloadable | description |\n|---|---|---|---|\n")
	for _, p := range s.Params {
		if p.Ignored {
			continue
		}
		def := p.Default
		if p.Required {
			def = "**required**"
		}
		if def != "" && !p.Required {
			def = "`" + def + "`"
		}
		rel := ""
		if p.Reloadable {
			rel = "yes"
		}
		desc := p.Long
		if desc == "" {
			desc = p.Short
		}
		if p.Type == ocf.Select {
			desc += " One of: " + strings.Join(p.Choices, ", ") + "."
		}
		desc = strings.ReplaceAll(strings.ReplaceAll(desc, "\n", " "), "|", "\\|")
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", p.Name, def, rel, desc)
	}
	var ign []string
	for _, p := range s.Params {
		if p.Ignored {
			ign = append(ign, "`"+p.Name+"`")
		}
	}
	if len(ign) > 0 {
		fmt.Fprintf(&b, "\nAccepted for compatibility and ignored with a warning: %s.\n", strings.Join(ign, ", "))
	}
	return b.String()
}
