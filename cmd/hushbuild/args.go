package main

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite/report"
	"github.com/spf13/cobra"
)

// isDockerfileName reports whether a file name is a Dockerfile's as docker
// and buildx name them: Dockerfile, NAME.Dockerfile or Dockerfile.NAME, in
// any case, but never an ignore file (Dockerfile.dockerignore,
// NAME.Dockerfile.dockerignore).
func isDockerfileName(name string) bool {
	l := strings.ToLower(name)
	if isIgnoreFileName(l) {
		return false
	}
	return l == "dockerfile" || strings.HasPrefix(l, "dockerfile.") || strings.HasSuffix(l, ".dockerfile")
}

// isIgnoreFileName reports whether name is a build context ignore file.
func isIgnoreFileName(name string) bool {
	return strings.HasSuffix(strings.ToLower(name), ".dockerignore")
}

// expandArgs turns the FILE|DIR arguments of check and rewrite into
// Dockerfiles: a directory stands for the Dockerfiles under it (see
// isDockerfileName; directories whose name starts with a dot, such as
// .git, are not entered), in lexical order; an ignore file named
// explicitly, as a glob such as Dockerfile* names it, is skipped with a
// note on stderr. A name that does not exist is kept: reading it reports
// the error. A directory without a Dockerfile is an error: a check that
// reads nothing must not pass.
func expandArgs(args []string, s stdio) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "-" {
			out = append(out, a)
			continue
		}
		st, err := os.Stat(a)
		if err != nil || !st.IsDir() {
			if isIgnoreFileName(filepath.Base(a)) {
				fmt.Fprintf(s.err, "%s: skipped: an ignore file, not a Dockerfile\n", a)
				continue
			}
			out = append(out, a)
			continue
		}
		n := len(out)
		err = filepath.WalkDir(a, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if p != a && strings.HasPrefix(d.Name(), ".") {
					return filepath.SkipDir
				}
				return nil
			}
			if !isDockerfileName(d.Name()) {
				return nil
			}
			if d.Type()&fs.ModeSymlink != 0 {
				if st, err := os.Stat(p); err != nil || !st.Mode().IsRegular() {
					return nil
				}
			} else if !d.Type().IsRegular() {
				return nil
			}
			out = append(out, p)
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("%s: %v", a, err)
		}
		if len(out) == n {
			return nil, fmt.Errorf("%s: no Dockerfile in this directory (looked for Dockerfile, *.Dockerfile and Dockerfile.*)", a)
		}
	}
	return out, nil
}

// writeReport renders a report with render and writes it to the file
// output, or to stdout when output is empty. The report is rendered in
// full first, so that a failed rendering leaves no partial file.
func writeReport(output string, s stdio, render func(io.Writer) error) error {
	if output == "" {
		return render(s.out)
	}
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	if err := os.WriteFile(output, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("-o: %w", err)
	}
	return nil
}

// markdownFiles are the inputs of a Markdown report.
func markdownFiles(ins []input) []report.MarkdownFile {
	out := make([]report.MarkdownFile, len(ins))
	for i, in := range ins {
		out[i] = report.MarkdownFile{File: in.File, Original: in.data}
	}
	return out
}

// completeDockerfiles completes FILE|DIR arguments: directories and the
// files docker would take for Dockerfiles.
func completeDockerfiles(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	dir, prefix := filepath.Split(toComplete)
	list := dir
	if list == "" {
		list = "."
	}
	entries, err := os.ReadDir(list)
	if err != nil {
		return nil, cobra.ShellCompDirectiveDefault
	}
	var out []cobra.Completion
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), prefix) {
			continue
		}
		switch {
		case e.IsDir():
			out = append(out, dir+e.Name()+"/")
		case isDockerfileName(e.Name()):
			out = append(out, dir+e.Name())
		}
	}
	return out, cobra.ShellCompDirectiveNoSpace | cobra.ShellCompDirectiveNoFileComp
}

// completeValues completes the values of flag name with values.
func completeValues(cmd *cobra.Command, name string, values ...string) {
	_ = cmd.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
}

// orList is "a, b or c".
func orList(values []string) string {
	if len(values) < 2 {
		return strings.Join(values, "")
	}
	return strings.Join(values[:len(values)-1], ", ") + " or " + values[len(values)-1]
}
