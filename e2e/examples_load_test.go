package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// example is one case of examples/, as its README and the index table in
// examples/README.md describe it.
type example struct {
	name string
	dir  string
	// offline is the index's "offline build" cell: "yes", "legacy only",
	// or "no (why)".
	offline string
	// legacy are the flags of the case's legacy build command.
	legacy []cliFlag
}

// cliFlag is one flag of a README's build command, value unquoted:
// {"--build-arg", "PYPI_PASS=..."}.
type cliFlag struct {
	name, value string
}

var tableRowRe = regexp.MustCompile(`^\| \[([0-9]{3}-[^\]]+)\]\([^)]*\) \|`)

// loadExamples reads the index of examples/README.md and each listed
// case's README.
func loadExamples(t *testing.T, examplesDir string) []example {
	t.Helper()
	f, err := os.Open(filepath.Join(examplesDir, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []example
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		m := tableRowRe.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		cells := strings.Split(strings.Trim(sc.Text(), "| "), " | ")
		ex := example{name: m[1], dir: filepath.Join(examplesDir, m[1]), offline: strings.TrimSpace(cells[len(cells)-1])}
		readme, err := os.ReadFile(filepath.Join(ex.dir, "README.md"))
		if err != nil {
			t.Fatalf("example %s: %v", ex.name, err)
		}
		cmd, err := readmeCommand(readme, "Legacy build")
		if err != nil {
			t.Fatalf("example %s: README: %v", ex.name, err)
		}
		ex.legacy = buildFlags(cmd)
		out = append(out, ex)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("examples/README.md: found only %d cases in the index", len(out))
	}
	return out
}

// readmeCommand returns the `docker buildx build` line that follows the
// paragraph starting with heading.
func readmeCommand(readme []byte, heading string) (string, error) {
	found := false
	for _, line := range strings.Split(string(readme), "\n") {
		if strings.HasPrefix(line, heading) {
			found = true
			continue
		}
		if found && strings.Contains(line, "docker buildx build") {
			if i := strings.Index(line, " #"); i >= 0 {
				line = line[:i]
			}
			return strings.TrimSpace(line), nil
		}
	}
	return "", fmt.Errorf("no %q command", heading)
}

// buildFlags picks the flags that supply values (--build-arg, --secret,
// --ssh) from a command line.
func buildFlags(cmd string) []cliFlag {
	words := splitWords(cmd)
	var out []cliFlag
	for i := 0; i < len(words); i++ {
		switch w := words[i]; w {
		case "--build-arg", "--secret", "--ssh":
			if i+1 < len(words) {
				out = append(out, cliFlag{w, words[i+1]})
				i++
			}
		default:
			for _, name := range []string{"--build-arg", "--secret", "--ssh"} {
				if v, ok := strings.CutPrefix(w, name+"="); ok {
					out = append(out, cliFlag{name, v})
				}
			}
		}
	}
	return out
}

// splitWords splits a command line on blanks outside double or single
// quotes and drops the quotes. It does not expand anything.
func splitWords(s string) []string {
	var words []string
	var cur strings.Builder
	var quote rune
	in := false
	for _, r := range s {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			cur.WriteRune(r)
		case r == '"' || r == '\'':
			quote, in = r, true
		case r == ' ' || r == '\t':
			if in {
				words = append(words, cur.String())
				cur.Reset()
				in = false
			}
		default:
			cur.WriteRune(r)
			in = true
		}
	}
	if in {
		words = append(words, cur.String())
	}
	return words
}

// knownBaseImages are the only images examples build FROM
// (examples/README.md, "Base images"); each is mapped to the lab's test
// base image.
var knownBaseImages = map[string]bool{
	"alpine": true, "python:3.9-alpine": true, "python:3.12.2-slim": true, "node:20": true, "golang:1.22": true,
	"maven:3.9-eclipse-temurin-21": true, "mcr.microsoft.com/dotnet/sdk:8.0": true,
}

// baseImages lists the images a Dockerfile pulls: FROM (expanded with the
// global ARG defaults), COPY --from and RUN --mount=from= that name no
// stage.
func baseImages(dockerfile []byte) ([]string, error) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return nil, err
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return nil, err
	}
	var env []string
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				env = append(env, kv.Key+"="+*kv.Value)
			}
		}
	}
	lex := shell.NewLex(res.EscapeToken)
	stageNames := map[string]bool{}
	images := map[string]bool{}
	add := func(ref string) error {
		name, _, err := lex.ProcessWord(ref, shell.EnvsFromSlice(env))
		if err != nil {
			return fmt.Errorf("expanding %q: %w", ref, err)
		}
		if n := strings.ToLower(name); !stageNames[n] && n != "scratch" && name != "" {
			images[name] = true
		}
		return nil
	}
	for i, st := range stages {
		if err := add(st.BaseName); err != nil {
			return nil, err
		}
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" && !isStageIndex(c.From, i) {
					if err := add(c.From); err != nil {
						return nil, err
					}
				}
			case *instructions.RunCommand:
				for _, m := range instructions.GetMounts(c) {
					if m.From != "" && !isStageIndex(m.From, i) {
						if err := add(m.From); err != nil {
							return nil, err
						}
					}
				}
			}
		}
		if st.Name != "" {
			stageNames[strings.ToLower(st.Name)] = true
		}
	}
	out := make([]string, 0, len(images))
	for name := range images {
		out = append(out, name)
	}
	sort.Strings(out)
	return out, nil
}

// isStageIndex reports whether ref is the number of a stage before stage i.
func isStageIndex(ref string, i int) bool {
	n := 0
	for _, r := range ref {
		if r < '0' || r > '9' {
			return false
		}
		n = n*10 + int(r-'0')
	}
	return n < i
}

// baseImageFlags maps every image the Dockerfile pulls to the lab's test
// base image, and fails the test for an image the examples may not use
// (it would be pulled from the internet).
func (l *labSetup) baseImageFlags(t *testing.T, dockerfile []byte) []string {
	t.Helper()
	images, err := baseImages(dockerfile)
	if err != nil {
		t.Fatalf("finding the base images: %v", err)
	}
	var flags []string
	for _, img := range images {
		if !knownBaseImages[img] {
			t.Fatalf("the Dockerfile pulls %s, which is not one of the base images of examples/README.md", img)
		}
		flags = append(flags, "--build-context", img+"=docker-image://"+l.testbase)
	}
	return append(flags, l.hostFlags...)
}

// copyContext copies an example's directory to a new temporary directory,
// without the files that describe the case rather than belong to it.
func copyContext(t *testing.T, src string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), "context")
	skip := map[string]bool{"README.md": true, "findings.json": true, "Dockerfile.hushbuild": true}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if rel == "." {
			return os.MkdirAll(dst, 0o755)
		}
		if filepath.Dir(rel) == "." && skip[rel] {
			return nil
		}
		target := filepath.Join(dst, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			return os.MkdirAll(target, info.Mode().Perm()|0o700)
		case d.Type()&fs.ModeSymlink != 0:
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, target)
		default:
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			return os.WriteFile(target, data, info.Mode().Perm())
		}
	})
	if err != nil {
		t.Fatalf("copying %s: %v", src, err)
	}
	return dst
}
