package rewrite

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestEveryToolRowIsExercised: each write and clone row of the tools table
// is used by a case of the tools tests or by a golden example, so that no
// row of the table is knowledge nothing checks. A row counts as used when
// one of its commands appears followed by one of its subcommands.
func TestEveryToolRowIsExercised(t *testing.T) {
	var corpus strings.Builder
	for _, glob := range []string{"*_test.go", "../examples/*/Dockerfile"} {
		files, err := filepath.Glob(glob)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if strings.HasSuffix(f, "tools_rows_test.go") {
				continue
			}
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			corpus.Write(data)
			corpus.WriteByte('\n')
		}
	}
	text := corpus.String()
	used := func(cmds, subs []string) bool {
		if len(subs) == 0 {
			subs = []string{""}
		}
		for _, c := range cmds {
			for _, s := range subs {
				// The command, then (after flags and their values) the
				// subcommand's words.
				pat := `(^|[\s;&|(` + "`" + `"'])` + regexp.QuoteMeta(c) + `\b`
				for _, w := range strings.Fields(s) {
					pat += `(\s+\S+)*?\s+` + regexp.QuoteMeta(w) + `\b`
				}
				if regexp.MustCompile(pat).MatchString(text) {
					return true
				}
			}
		}
		return false
	}
	for _, tl := range tools {
		for i, w := range tl.Writes {
			if !used(w.Cmds, w.Sub) {
				t.Errorf("tool %s, write row %d (%v %v): no test case or example uses it", tl.Name, i, w.Cmds, w.Sub)
			}
		}
		for i, c := range tl.Clones {
			if !used(c.Cmds, c.Sub) {
				t.Errorf("tool %s, clone row %d (%v %v): no test case or example uses it", tl.Name, i, c.Cmds, c.Sub)
			}
		}
	}
}
