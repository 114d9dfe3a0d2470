package report

import (
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/rewrite"
)

// rulesDocs is docs/rules/ from this package's directory.
const rulesDocs = "../../docs/rules"

const docsURLPrefix = "https://github.com/hushbuild/hushbuild/blob/main/docs/rules/"

// Sections every rule page has.
var ruleSections = []string{
	"## What it detects",
	"## Why it leaks",
	"## What the rewrite does",
	"## Build flags",
	"## Configure or disable",
}

// TestEveryRuleHasADocsPage checks that each rule in rewrite.Rules has the
// page its DocsURL points at, that the page describes that rule with the
// standard sections and the rule's severity and fixability, and that the
// overview lists it.
func TestEveryRuleHasADocsPage(t *testing.T) {
	overview, err := os.ReadFile(filepath.Join(rulesDocs, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rewrite.Rules {
		url := r.DocsURL()
		if !strings.HasPrefix(url, docsURLPrefix) {
			t.Errorf("rule %s: DocsURL %s is not under %s", r.Name, url, docsURLPrefix)
			continue
		}
		page := path.Base(url)
		data, err := os.ReadFile(filepath.Join(rulesDocs, page))
		if err != nil {
			t.Errorf("rule %s has no documentation page: %v (write docs/rules/%s)", r.Name, err, page)
			continue
		}
		doc := string(data)
		if first, _, _ := strings.Cut(doc, "\n"); first != "# "+r.Name {
			t.Errorf("docs/rules/%s: first line is %q, want %q", page, first, "# "+r.Name)
		}
		for _, sec := range ruleSections {
			if !strings.Contains(doc, "\n"+sec+"\n") {
				t.Errorf("docs/rules/%s lacks the section %q", page, sec)
			}
		}
		if want := "- Severity: " + r.Severity.String() + "\n"; !strings.Contains(doc, want) {
			t.Errorf("docs/rules/%s does not say %q", page, strings.TrimSpace(want))
		}
		fixed := "no"
		if r.Fixes {
			fixed = "yes"
		}
		if want := "- Fixed by the rewrite: " + fixed + "\n"; !strings.Contains(doc, want) {
			t.Errorf("docs/rules/%s does not say %q", page, strings.TrimSpace(want))
		}
		if !strings.Contains(string(overview), "["+r.Name+"]("+page+")") {
			t.Errorf("docs/rules/README.md does not link [%s](%s)", r.Name, page)
		}
	}
}

// TestNoOrphanDocsPages checks that every page in docs/rules documents a
// rule that exists, so renamed or removed rules do not leave stale pages.
func TestNoOrphanDocsPages(t *testing.T) {
	pages := map[string]bool{}
	for _, r := range rewrite.Rules {
		pages[path.Base(r.DocsURL())] = true
	}
	entries, err := os.ReadDir(rulesDocs)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.IsDir() || e.Name() == "README.md" || !strings.HasSuffix(e.Name(), ".md") {
			continue
		}
		if !pages[e.Name()] {
			t.Errorf("docs/rules/%s documents no rule in rewrite.Rules", e.Name())
		}
	}
}

// TestDocsLinksResolve checks the relative links between the pages.
func TestDocsLinksResolve(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(rulesDocs, "*.md"))
	files = append(files, filepath.Join(rulesDocs, "..", "cli.md"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Error(err)
			continue
		}
		for _, link := range markdownLinks(string(data)) {
			if strings.Contains(link, "://") || strings.HasPrefix(link, "#") {
				continue
			}
			target, _, _ := strings.Cut(link, "#")
			if _, err := os.Stat(filepath.Join(filepath.Dir(f), filepath.FromSlash(target))); err != nil {
				t.Errorf("%s: broken link %s", filepath.Base(f), link)
			}
		}
	}
}

// markdownLinks returns the targets of [text](target) links.
func markdownLinks(s string) []string {
	var out []string
	for {
		i := strings.Index(s, "](")
		if i < 0 {
			return out
		}
		s = s[i+2:]
		j := strings.IndexByte(s, ')')
		if j < 0 {
			return out
		}
		out = append(out, s[:j])
		s = s[j+1:]
	}
}
