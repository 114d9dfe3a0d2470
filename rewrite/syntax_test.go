package rewrite

import (
	"strings"
	"testing"
)

// TestSyntaxPin: a pin older than what the rewrite writes is raised to the
// lowest version that has it all, and reported; other pins are left alone.
func TestSyntaxPin(t *testing.T) {
	const envMount = "FROM alpine\nARG NPM_TOKEN\nRUN npm ci\n"
	tests := []struct {
		name, pin, body string
		cfg             Config
		// want is the pin line of the output; "" for the input's.
		want  string
		fixed bool
		found bool
	}{
		{"env= needs 1.10", "# syntax=docker/dockerfile:1.4\n", envMount, Config{}, "# syntax=docker/dockerfile:1.10", true, true},
		{"a patch version", "# syntax=docker.io/docker/dockerfile:1.4.3\n", envMount, Config{}, "# syntax=docker.io/docker/dockerfile:1.10", true, true},
		{"spaces and case", "#  syntax = docker/dockerfile:1.2\n", envMount, Config{}, "#  syntax = docker/dockerfile:1.10", true, true},
		{"upstream", "# syntax=docker/dockerfile-upstream:1.9\n", envMount, Config{}, "# syntax=docker/dockerfile-upstream:1.10", true, true},
		{"--exclude needs 1.19", "# syntax=docker/dockerfile:1.4\n", "FROM alpine\nCOPY . .\nRUN npm ci\n",
			Config{ContextFiles: []string{".npmrc"}, ContextListed: true}, "# syntax=docker/dockerfile:1.19", true, true},
		{"labs has --exclude since 1.7", "# syntax=docker/dockerfile:1.7-labs\n", "FROM alpine\nCOPY . .\nRUN npm ci\n",
			Config{ContextFiles: []string{".npmrc"}, ContextListed: true}, "", false, false},
		{"labs still needs 1.10 for env=", "# syntax=docker/dockerfile:1.7-labs\n", envMount, Config{}, "# syntax=docker/dockerfile:1.10-labs", true, true},
		{"recent enough", "# syntax=docker/dockerfile:1.10\n", envMount, Config{}, "", false, false},
		{"newer", "# syntax=docker/dockerfile:1.19.1\n", envMount, Config{}, "", false, false},
		{"a floating major", "# syntax=docker/dockerfile:1\n", envMount, Config{}, "", false, false},
		{"another frontend", "# syntax=ghcr.io/hushbuild/hushbuild-frontend:1.4\n", envMount, Config{}, "", false, false},
		{"a digest is kept, and reported", "# syntax=docker/dockerfile:1.4@sha256:" + strings.Repeat("ab", 32) + "\n", envMount, Config{}, "", false, true},
		{"nothing rewritten: nothing changed", "# syntax=docker/dockerfile:1.4\n", "FROM alpine\nRUN --mount=type=secret,id=T,env=T true\n", Config{}, "", false, false},
		{"disabled: raised, not reported", "# syntax=docker/dockerfile:1.4\n", envMount, Config{Disable: []string{"SyntaxPin"}}, "# syntax=docker/dockerfile:1.10", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := tt.pin + tt.body
			res, err := Rewrite([]byte(src), tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			first, _, _ := strings.Cut(string(res.Output), "\n")
			want := tt.want
			if want == "" {
				want = strings.TrimSuffix(tt.pin, "\n")
			}
			if first != want {
				t.Errorf("pin line %q, want %q", first, want)
			}
			var found *Finding
			for i, f := range res.Findings {
				if f.Rule == RuleSyntaxPin.Name {
					found = &res.Findings[i]
				}
			}
			if (found != nil) != tt.found {
				t.Fatalf("SyntaxPin finding: %v, want %v (%+v)", found != nil, tt.found, res.Findings)
			}
			if found != nil && (found.Fixed != tt.fixed || found.Range.Start != 1 || found.Severity != SeverityWarning) {
				t.Errorf("finding %+v: want fixed=%v on line 1, a warning", *found, tt.fixed)
			}
			// The output is stable: its own rewrite changes nothing more.
			again, err := Rewrite(res.Output, tt.cfg)
			if err != nil {
				t.Fatal(err)
			}
			if tt.fixed && string(again.Output) != string(res.Output) {
				t.Errorf("the rewrite of the output changes it again:\n%s", again.Output)
			}
		})
	}
}

// TestContainsSyntax holds raiseSyntaxPin's cheap test to what it stands
// for: the word syntax in any case.
func TestContainsSyntax(t *testing.T) {
	for _, s := range []string{"", "s", "syntax", "# SYNTAX=x", "# Syntax = x", "ssyntax", "synta", "xsyntaxx", "sssss", "# syntaX=docker/dockerfile:1.4", "FROM a\nRUN x", "syntaS", "ſyntax", "syntaxsyntax", "ntax", "yntax", "xx syntax", "SyNtAx"} {
		want := strings.Contains(strings.ToLower(s), "syntax")
		if s == "ſyntax" {
			want = false // BuildKit's keys are ASCII
		}
		if got := containsSyntax([]byte(s)); got != want {
			t.Errorf("containsSyntax(%q) = %v, want %v", s, got, want)
		}
	}
	out, f, ok := raiseSyntaxPin([]byte("# SYNTAX=docker/dockerfile:1.2\nFROM alpine\nRUN --mount=type=secret,id=t,env=T true\n"))
	if !ok || f.Rule != RuleSyntaxPin.Name || !strings.Contains(string(out), "dockerfile:1.10") {
		t.Errorf("an upper-case syntax directive is not raised: %v %+v\n%s", ok, f, out)
	}
}
