package rewrite

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// TestPlainWord holds plainWord to BuildKit's lexer: a word it calls
// plain comes back from the lexer as it is, with no variable matched or
// unmatched.
func TestPlainWord(t *testing.T) {
	pieces := []string{"a", "Z", "9", "/", ".", "-", "_", "=", ":", "@", " ", "\t", "\r", "~", "*", "{", "}", "(", "#", "é", "\uFEFF",
		"$", "${X}", "'", "\"", "\\", "`", "<", "<<", "<<EOF", "\n"}
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	plain := 0
	for _, escape := range []rune{'\\', '`'} {
		lex := shell.NewLex(escape)
		for i := 0; i < 20000; i++ {
			var b strings.Builder
			for n := r.IntN(8); n >= 0; n-- {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			word := b.String()
			if !lexable(word) || !plainWord(word, byte(escape)) {
				continue
			}
			plain++
			res, err := lex.ProcessWordWithMatches(word, envGetter{"X": "x"})
			if err != nil || res.Result != word || len(res.Matched) > 0 || len(res.Unmatched) > 0 {
				t.Fatalf("escape %q: plainWord(%q), but the lexer gives %q, %v (matched %v, unmatched %v)", escape, word, res.Result, err, res.Matched, res.Unmatched)
			}
		}
	}
	if plain < 1000 {
		t.Errorf("only %d plain words generated", plain)
	}
}

// TestQuotedPlainWord holds quotedPlainWord to BuildKit's lexer: what it
// takes out of the quotes is what the lexer gives, with no variable
// matched or unmatched.
func TestQuotedPlainWord(t *testing.T) {
	pieces := []string{"a", "Z", "9", "/", ".", "-", "_", "=", ":", "@", " ", "\t", "~", "*", "{", "}", "(", "#", "é", "\uFEFF",
		"$", "${X}", "'", "\"", "\\", "`", "<", "<<EOF", "\n"}
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	quoted := 0
	for _, escape := range []rune{'\\', '`'} {
		lex := shell.NewLex(escape)
		for i := 0; i < 20000; i++ {
			var b strings.Builder
			b.WriteString(`"`)
			for n := r.IntN(8); n >= 0; n-- {
				b.WriteString(pieces[r.IntN(len(pieces))])
			}
			b.WriteString(`"`)
			word := b.String()
			inner, ok := quotedPlainWord(word, byte(escape))
			if !lexable(word) || !ok {
				continue
			}
			quoted++
			res, err := lex.ProcessWordWithMatches(word, envGetter{"X": "x"})
			if err != nil || res.Result != inner || len(res.Matched) > 0 || len(res.Unmatched) > 0 {
				t.Fatalf("escape %q: quotedPlainWord(%q) = %q, but the lexer gives %q, %v (matched %v, unmatched %v)", escape, word, inner, res.Result, err, res.Matched, res.Unmatched)
			}
		}
	}
	if quoted < 1000 {
		t.Errorf("only %d quoted plain words generated", quoted)
	}
	for _, w := range []string{`""`, `"a b"`, `"/app/x.py"`} {
		inner, ok := quotedPlainWord(w, '\\')
		res, err := shell.NewLex('\\').ProcessWordWithMatches(w, envGetter{})
		if !ok || err != nil || res.Result != inner {
			t.Errorf("quotedPlainWord(%q) = %q, %v; the lexer gives %q, %v", w, inner, ok, res.Result, err)
		}
	}
	for _, w := range []string{`"`, `""x`, `x""`, `"a"b"`, `"$X"`, `"a\"b"`} {
		if _, ok := quotedPlainWord(w, '\\'); ok {
			t.Errorf("quotedPlainWord(%q) took it", w)
		}
	}
}
