package textdiff

import (
	"bytes"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestDiffExamples(t *testing.T) {
	tests := []struct {
		name string
		a, b string
		want string
	}{
		{name: "equal", a: "a\nb\n", b: "a\nb\n", want: ""},
		{name: "both empty", a: "", b: "", want: ""},
		{
			name: "one line changed",
			a:    "FROM alpine\nARG TOKEN\nRUN make\n",
			b:    "FROM alpine\n#\nRUN --mount=type=secret,id=TOKEN,env=TOKEN make\n",
			want: "--- a\n+++ b\n@@ -1,3 +1,3 @@\n FROM alpine\n-ARG TOKEN\n-RUN make\n+#\n+RUN --mount=type=secret,id=TOKEN,env=TOKEN make\n",
		},
		{
			name: "from empty",
			a:    "",
			b:    "x\n",
			want: "--- a\n+++ b\n@@ -0,0 +1 @@\n+x\n",
		},
		{
			name: "to empty",
			a:    "x\ny\n",
			b:    "",
			want: "--- a\n+++ b\n@@ -1,2 +0,0 @@\n-x\n-y\n",
		},
		{
			name: "missing final newline",
			a:    "a\nb",
			b:    "a\nb\n",
			want: "--- a\n+++ b\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+b\n",
		},
		{
			name: "two hunks",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n",
			b:    "1\nX\n3\n4\n5\n6\n7\n8\n9\n10\nY\n12\n",
			want: "--- a\n+++ b\n@@ -1,5 +1,5 @@\n 1\n-2\n+X\n 3\n 4\n 5\n@@ -8,5 +8,5 @@\n 8\n 9\n 10\n-11\n+Y\n 12\n",
		},
		{
			name: "close changes share a hunk",
			a:    "1\n2\n3\n4\n5\n6\n7\n8\n9\n",
			b:    "1\nX\n3\n4\n5\n6\n7\nY\n9\n",
			want: "--- a\n+++ b\n@@ -1,9 +1,9 @@\n 1\n-2\n+X\n 3\n 4\n 5\n 6\n 7\n-8\n+Y\n 9\n",
		},
		{
			name: "insert in the middle",
			a:    "a\nb\nc\nd\ne\nf\ng\nh\n",
			b:    "a\nb\nc\nd\nNEW\ne\nf\ng\nh\n",
			want: "--- a\n+++ b\n@@ -2,6 +2,7 @@\n b\n c\n d\n+NEW\n e\n f\n g\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Unified(&buf, "a", "b", []byte(tt.a), []byte(tt.b)); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("Diff:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestDiffProperties checks on random inputs that applying the diff to a
// gives b and that the edit script is minimal (as long as an LCS allows).
func TestDiffProperties(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for iter := 0; iter < 3000; iter++ {
		a := randomLines(rng)
		b := randomLines(rng)
		if rng.Intn(3) == 0 {
			b = mutate(rng, a)
		}
		var buf bytes.Buffer
		if err := Unified(&buf, "a", "b", []byte(a), []byte(b)); err != nil {
			t.Fatal(err)
		}
		got, err := applyDiff(a, buf.String())
		if err != nil {
			t.Fatalf("iteration %d: %v\na=%q\nb=%q\ndiff:\n%s", iter, err, a, b, buf.String())
		}
		if got != b {
			t.Fatalf("iteration %d: applying the diff gives %q, want %q\ndiff:\n%s", iter, got, b, buf.String())
		}
		al, bl := splitLines([]byte(a)), splitLines([]byte(b))
		edits := countEdits(buf.String())
		if want := len(al) + len(bl) - 2*lcs(al, bl); edits != want {
			t.Fatalf("iteration %d: %d edits, minimal is %d\na=%q\nb=%q\ndiff:\n%s", iter, edits, want, a, b, buf.String())
		}
	}
}

// TestDiffPatch checks the output against patch(1) when it is installed.
func TestDiffPatch(t *testing.T) {
	patch, err := exec.LookPath("patch")
	if err != nil {
		t.Fatalf("patch(1) is needed (Debian: apt-get install patch; hack/lab.sh deps installs it): %v", err)
	}
	rng := rand.New(rand.NewSource(2))
	dir := t.TempDir()
	for iter := 0; iter < 50; iter++ {
		a, b := randomLines(rng), ""
		b = mutate(rng, a)
		if a == b {
			continue
		}
		f := filepath.Join(dir, "f")
		if err := os.WriteFile(f, []byte(a), 0o644); err != nil {
			t.Fatal(err)
		}
		var d bytes.Buffer
		Unified(&d, "a/f", "b/f", []byte(a), []byte(b))
		cmd := exec.Command(patch, "-s", "-p1", "-d", dir)
		cmd.Stdin = &d
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("patch: %v: %s\ndiff:\n%s", err, out, d.String())
		}
		got, _ := os.ReadFile(f)
		if string(got) != b {
			t.Fatalf("patch result %q, want %q", got, b)
		}
	}
}

func BenchmarkDiff5000Lines(b *testing.B) {
	var x, y strings.Builder
	for i := 0; i < 5000; i++ {
		fmt.Fprintf(&x, "RUN step %d\n", i)
		if i%50 == 0 {
			fmt.Fprintf(&y, "RUN --mount=type=secret,id=T,env=T step %d\n", i)
		} else {
			fmt.Fprintf(&y, "RUN step %d\n", i)
		}
	}
	a, c := []byte(x.String()), []byte(y.String())
	for b.Loop() {
		Unified(&bytes.Buffer{}, "a", "b", a, c)
	}
}

// countEdits counts the deleted and inserted lines of a diff.
func countEdits(diff string) int {
	n := 0
	for i, l := range strings.Split(diff, "\n") {
		if i >= 2 && (strings.HasPrefix(l, "-") || strings.HasPrefix(l, "+")) {
			n++
		}
	}
	return n
}

func randomLines(rng *rand.Rand) string {
	var sb strings.Builder
	n := rng.Intn(12)
	for i := 0; i < n; i++ {
		sb.WriteString(strconv.Itoa(rng.Intn(4)))
		if i < n-1 || rng.Intn(4) != 0 {
			sb.WriteByte('\n')
		}
	}
	return sb.String()
}

func mutate(rng *rand.Rand, s string) string {
	lines := splitLines([]byte(s))
	for n := rng.Intn(4); n > 0; n-- {
		i := rng.Intn(len(lines) + 1)
		switch rng.Intn(3) {
		case 0:
			lines = append(lines[:i], append([]string{"new\n"}, lines[i:]...)...)
		case 1:
			if i < len(lines) {
				lines = append(lines[:i], lines[i+1:]...)
			}
		case 2:
			if i < len(lines) {
				lines[i] = "changed\n"
			}
		}
	}
	return strings.Join(lines, "")
}

func lcs(a, b []string) int {
	dp := make([][]int, len(a)+1)
	for i := range dp {
		dp[i] = make([]int, len(b)+1)
	}
	for i := len(a) - 1; i >= 0; i-- {
		for j := len(b) - 1; j >= 0; j-- {
			if a[i] == b[j] {
				dp[i][j] = dp[i+1][j+1] + 1
			} else {
				dp[i][j] = max(dp[i+1][j], dp[i][j+1])
			}
		}
	}
	return dp[0][0]
}

// applyDiff applies a unified diff produced by Diff to a, checking that
// context and deleted lines match and that hunk headers count right.
func applyDiff(a, diff string) (string, error) {
	if diff == "" {
		return a, nil
	}
	src := splitLines([]byte(a))
	lines := strings.SplitAfter(diff, "\n")
	if len(lines) < 2 || !strings.HasPrefix(lines[0], "--- ") || !strings.HasPrefix(lines[1], "+++ ") {
		return "", fmt.Errorf("missing headers")
	}
	var out []string
	pos := 0
	i := 2
	for i < len(lines) && lines[i] != "" {
		var as, ac, bs, bc int
		h := lines[i]
		if _, err := fmt.Sscanf(normalizeHeader(h), "@@ -%d,%d +%d,%d @@\n", &as, &ac, &bs, &bc); err != nil {
			return "", fmt.Errorf("bad hunk header %q: %v", h, err)
		}
		i++
		start := as - 1
		if ac == 0 {
			start = as
		}
		if start < pos {
			return "", fmt.Errorf("hunk %q overlaps the previous one", h)
		}
		out = append(out, src[pos:start]...)
		pos = start
		var gotA, gotB int
		for i < len(lines) && lines[i] != "" && !strings.HasPrefix(lines[i], "@@") {
			l := lines[i]
			i++
			body := l[1:]
			if i < len(lines) && lines[i] == "\\ No newline at end of file\n" {
				body = strings.TrimSuffix(body, "\n")
				i++
			}
			switch l[0] {
			case ' ', '-':
				if pos >= len(src) || src[pos] != body {
					return "", fmt.Errorf("line %d: context %q does not match %q", pos+1, body, at(src, pos))
				}
				pos++
				gotA++
				if l[0] == ' ' {
					out = append(out, body)
					gotB++
				}
			case '+':
				out = append(out, body)
				gotB++
			default:
				return "", fmt.Errorf("bad line %q", l)
			}
		}
		if gotA != ac || gotB != bc {
			return "", fmt.Errorf("hunk %q has %d/%d lines", h, gotA, gotB)
		}
	}
	out = append(out, src[pos:]...)
	return strings.Join(out, ""), nil
}

// normalizeHeader rewrites "-5" and "+5" ranges as "-5,1" and "+5,1".
func normalizeHeader(h string) string {
	f := strings.Fields(h)
	for i := 1; i <= 2 && i < len(f); i++ {
		if !strings.Contains(f[i], ",") {
			f[i] += ",1"
		}
	}
	return strings.Join(f, " ") + "\n"
}

func at(s []string, i int) string {
	if i < len(s) {
		return s[i]
	}
	return "<end>"
}
