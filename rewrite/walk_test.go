package rewrite

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"mvdan.cc/sh/v3/syntax"
)

// TestWalkAsSyntaxWalk: walk visits the nodes syntax.Walk visits, in the
// same order, with the same f(nil) after each node's children, and prunes
// where f returns false.
func TestWalkAsSyntaxWalk(t *testing.T) {
	scripts := []string{
		`echo hi && npm ci --prefix /app/0`,
		"# lead\nA=1 B=${C:-d} cmd \"$X\" 'y' $(cat /run/secrets/t) <(ls) > out 2>&1 <<< \"$T\" # trail\n# after\n",
		"if [ -f a ]; then # c1\n  x=1\nelif test -n \"$B\"; then :; else y=2; fi # c2\n",
		"while read -r l; do echo \"$l\"; done < f; until false; do break; done",
		"for i in a b \"$T\"; do echo $i; done; for ((i=0; i<3; i++)); do :; done",
		"f() { local a=$1; echo ${a#x} ${a/b/c} ${a:1:2} ${#a} ${!a} ${a[0]}; }; f \"$T\"",
		"case $x in a|b) echo a ;; # c\n *) echo b ;;\nesac",
		"arr=(1 [2]=b # e\n c); declare -x Y=1; export Z; let 'a=1+2'; ((a++)); echo $((a*2+(3-1)))",
		"[[ -n $a && ( $b == c || ! -z $d ) ]]; time ls; coproc cat; { echo; } | tee f; (cd /x && ls)",
		"cat > f <<EOF\n$T ${U}\nEOF\necho @(a|b) $'x' $\"y\"",
	}
	corpus, _ := filepath.Glob(filepath.Join("..", "examples", "*", "Dockerfile"))
	for _, p := range corpus {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		scripts = append(scripts, string(b)) // parsed as a script: a rich enough tree
	}
	parser := syntax.NewParser(syntax.KeepComments(true), syntax.Variant(syntax.LangBash))
	trace := func(w func(syntax.Node, func(syntax.Node) bool), f *syntax.File, prune bool) []string {
		var out []string
		i := 0
		w(f, func(n syntax.Node) bool {
			i++
			if n == nil {
				out = append(out, "end")
				return true
			}
			if c, ok := n.(*syntax.Comment); ok {
				// syntax.Walk passes a copy of a comment, walk the element.
				out = append(out, fmt.Sprintf("comment %q %d", c.Text, c.Pos().Offset()))
			} else {
				out = append(out, fmt.Sprintf("%T %p %d-%d", n, n, n.Pos().Offset(), n.End().Offset()))
			}
			return !prune || i%3 != 0
		})
		return out
	}
	parsed := 0
	for i, src := range scripts {
		f, err := parser.Parse(strings.NewReader(src), "")
		if err != nil {
			continue
		}
		parsed++
		for _, prune := range []bool{false, true} {
			want, got := trace(syntax.Walk, f, prune), trace(walk, f, prune)
			if fmt.Sprint(want) != fmt.Sprint(got) {
				t.Errorf("script %d (prune %v): walk visits\n%v\nsyntax.Walk\n%v", i, prune, got, want)
			}
		}
	}
	if parsed < 10 {
		t.Fatalf("only %d scripts parsed", parsed)
	}
}

// TestNamesToolEnvAsContains checks namesToolEnv against the search it
// stands for: strings.Contains(script, NAME+"=") for each NAME of
// toolEnvNames.
func TestNamesToolEnvAsContains(t *testing.T) {
	want := func(s string) bool {
		for _, n := range toolEnvNames {
			if strings.Contains(s, n+"=") {
				return true
			}
		}
		return false
	}
	scripts := []string{"", "=", "==", "a=b", "echo hi", "PIP_CONFIG_FILE=/x pip install", "X=1 PIP_CONFIG_FILE=", "XPIP_CONFIG_FILE=1",
		"PIP_CONFIG_FILE", "PIP_CONFIG_FILE =1", "a=b; CARGO_HOME=/c cargo build", "=CARGO_HOME"}
	for _, n := range toolEnvNames {
		scripts = append(scripts, n+"=", "x "+n+"=y", n, "="+n, n+" =", n[1:]+"=", "a=b "+n+"=c")
	}
	for _, s := range scripts {
		if got := namesToolEnv(s); got != want(s) {
			t.Errorf("namesToolEnv(%q) = %v, want %v", s, got, want(s))
		}
	}
}

// FuzzNamesToolEnv checks namesToolEnv against the search it stands for
// on any text.
func FuzzNamesToolEnv(f *testing.F) {
	f.Add("PIP_CONFIG_FILE=/etc/pip.conf pip install x")
	f.Add("a=b c=d")
	f.Fuzz(func(t *testing.T, s string) {
		want := false
		for _, n := range toolEnvNames {
			if strings.Contains(s, n+"=") {
				want = true
			}
		}
		if got := namesToolEnv(s); got != want {
			t.Fatalf("namesToolEnv(%q) = %v, want %v", s, got, want)
		}
	})
}

// FuzzIsTemplateName checks isTemplateName, which reads ASCII names
// without the regexp, against templateNameRe.
func FuzzIsTemplateName(f *testing.F) {
	for _, s := range []string{".npmrc.template", "x/.env.EXAMPLE", "a.in", "a.IN", "a.in.b", "Tmpl", "\u212askel", "sample\u017f", "dis\u017ft", "ok", "a/b/dist/x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		if got, want := isTemplateName(p), templateNameRe.MatchString(path.Base(p)); got != want {
			t.Fatalf("isTemplateName(%q) = %v, templateNameRe says %v", p, got, want)
		}
	})
}

// FuzzUnderSecretDir checks underSecretDir against the split it stands
// for.
func FuzzUnderSecretDir(f *testing.F) {
	for _, s := range []string{"/root/.ssh/id_rsa", ".aws", "a//.docker/", "", "/", "x/.kube/../y", ".gnupgx/a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, p string) {
		want := false
		for _, part := range strings.Split(path.Clean(p), "/") {
			if secretDirNames[part] {
				want = true
			}
		}
		if got := underSecretDir(p); got != want {
			t.Fatalf("underSecretDir(%q) = %v, want %v", p, got, want)
		}
	})
}

// FuzzLowerKeyword checks lowerKeyword against strings.ToLower.
func FuzzLowerKeyword(f *testing.F) {
	for _, s := range []string{"RUN", "run", "Run", "HEALTHCHEC\u212a", "ONBUILD", "x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := lowerKeyword(s), strings.ToLower(s); got != want {
			t.Fatalf("lowerKeyword(%q) = %q, want %q", s, got, want)
		}
	})
}

// FuzzIsPlaceholder checks isPlaceholder, which reads ASCII values
// without the regexp, against placeholderRe.
func FuzzIsPlaceholder(f *testing.F) {
	for _, s := range []string{"", "xXx", "***", "--", "..", "None", "CHANGE_ME", "dummy-1", "Fake\nx", "your-token", "<tok>", "<\n>",
		"{{ x }}", "{{}", "${A}", "${", "$A_1", "$1A", "$", "to\u212aen", "\u017fecret", "secretx", "y", "ROOT", "{{x}}\n"} {
		f.Add(s)
	}
	for w := range placeholderWords {
		for _, s := range []string{w, strings.ToUpper(w), w + "x", "x" + w, w[1:], w + "\n", strings.ToUpper(w[:1]) + w[1:]} {
			f.Add(s)
		}
	}
	f.Fuzz(func(t *testing.T, v string) {
		if got, want := isPlaceholder(v), placeholderRe.MatchString(v); got != want {
			t.Fatalf("isPlaceholder(%q) = %v, placeholderRe says %v", v, got, want)
		}
	})
}
