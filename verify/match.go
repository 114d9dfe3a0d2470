package verify

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strconv"
	"strings"

	"github.com/hushbuild/hushbuild/secretscan"
)

// matcher finds the known secrets (in all their encodings) and the pattern
// rules with one secretscan.Scanner.
type matcher struct {
	sc      *secretscan.Scanner
	origins [][]origin // by literal: the secrets and encodings it stands for
	secrets []Secret
}

type origin struct {
	secret   int
	encoding string
}

// matchID is what matched: a rule, or a secret in an encoding.
type matchID struct {
	rule     string
	secret   int // -1 for a rule
	encoding string
}

// what identifies the match without its encoding: two encodings of one
// secret found in one place are one finding for the JSON walk.
func (id matchID) what() matchID { return matchID{rule: id.rule, secret: id.secret} }

func newMatcher(secrets []Secret, patterns bool, rules []string) (*matcher, error) {
	m := &matcher{secrets: secrets}
	index := map[string]int{}
	var lits [][]byte
	for si, s := range secrets {
		for _, n := range Needles(s.Value) {
			li, ok := index[string(n.Value)]
			if !ok {
				li = len(lits)
				index[string(n.Value)] = li
				lits = append(lits, n.Value)
				m.origins = append(m.origins, nil)
			}
			m.origins[li] = append(m.origins[li], origin{si, n.Encoding})
		}
	}
	opts := secretscan.Options{Literals: lits, Rules: rules}
	if !patterns {
		opts.Rules = []string{}
	}
	sc, err := secretscan.NewScanner(opts)
	if err != nil {
		return nil, err
	}
	m.sc = sc
	return m, nil
}

// ids calls fn for what a secretscan match stands for.
func (m *matcher) ids(sm secretscan.Match, fn func(matchID)) {
	if sm.Literal < 0 {
		fn(matchID{rule: sm.Rule, secret: -1})
		return
	}
	for _, o := range m.origins[sm.Literal] {
		fn(matchID{secret: o.secret, encoding: o.encoding})
	}
}

// rawHit is a finding inside one blob, before it is placed in the image.
type rawHit struct {
	id      matchID
	path    string // reported path (redacted)
	real    string // real path, for deletion checks; never reported
	in      string
	field   string
	history int // -1 when none
	offset  int64
	count   int
}

type hitKey struct {
	id              matchID
	path, in, field string
}

// collector gathers the findings of one blob, one per place and match.
type collector struct {
	hits map[hitKey]*rawHit
}

func newCollector() *collector { return &collector{hits: map[hitKey]*rawHit{}} }

func (c *collector) add(h rawHit) {
	k := hitKey{h.id, h.path, h.in, h.field}
	if old, ok := c.hits[k]; ok {
		old.count++
		old.offset = min(old.offset, h.offset)
		return
	}
	h.count = 1
	c.hits[k] = &h
}

// merge adds o's findings.
func (c *collector) merge(o *collector) {
	for k, h := range o.hits {
		if old, ok := c.hits[k]; ok {
			old.count += h.count
			old.offset = min(old.offset, h.offset)
			continue
		}
		x := *h
		c.hits[k] = &x
	}
}

func (c *collector) list() []rawHit {
	out := make([]rawHit, 0, len(c.hits))
	for _, h := range c.hits {
		out = append(out, *h)
	}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.path != b.path {
			return a.path < b.path
		}
		if a.field != b.field {
			return a.field < b.field
		}
		return fmt.Sprint(a.id) < fmt.Sprint(b.id)
	})
	return out
}

// small scans short strings (names, JSON values) with one reused stream.
type small struct {
	m  *matcher
	st *secretscan.Stream
}

func (m *matcher) small() *small {
	return &small{m: m, st: m.sc.Stream("", nil)}
}

// scan calls fn for each match in s; name enables file-name rules.
func (sm *small) scan(name string, s []byte, fn func(id matchID, off int64, n int)) {
	sm.st.Reset(name, func(x secretscan.Match) {
		sm.m.ids(x, func(id matchID) { fn(id, x.Offset, x.Len) })
	})
	sm.st.Write(s)
	sm.st.Close()
}

// redact replaces the parts of s that match anything with <redacted>.
func (sm *small) redact(s string) (string, bool) {
	type span struct{ from, to int64 }
	var spans []span
	sm.scan("", []byte(s), func(_ matchID, off int64, n int) {
		spans = append(spans, span{off, off + int64(n)})
	})
	if len(spans) == 0 {
		return s, false
	}
	sort.Slice(spans, func(i, j int) bool { return spans[i].from < spans[j].from })
	var b strings.Builder
	pos := int64(0)
	for _, sp := range spans {
		if sp.from < pos {
			pos = max(pos, sp.to) // overlaps the last one
			continue
		}
		b.WriteString(s[pos:sp.from])
		b.WriteString("<redacted>")
		pos = sp.to
	}
	b.WriteString(s[pos:])
	return b.String(), true
}

// scanRaw streams r through the matcher, as one input called name.
func (m *matcher) scanRaw(r io.Reader, name string, c *collector, base rawHit) (int64, error) {
	st := m.sc.Stream(name, func(x secretscan.Match) {
		m.ids(x, func(id matchID) {
			h := base
			h.id, h.offset = id, x.Offset
			c.add(h)
		})
	})
	buf := make([]byte, 256<<10)
	var total int64
	for {
		n, err := r.Read(buf)
		if n > 0 {
			st.Write(buf[:n])
			total += int64(n)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return total, err
		}
	}
	st.Close()
	return total, nil
}

// scanJSON finds matches in a JSON document and places each at its JSON
// path (field). The raw bytes are scanned too, for what only exists in
// escaped form; those are reported without a field unless the walk found
// the same secret or rule already. Data that does not parse is scanned as
// bytes, and the parse error returned.
func (m *matcher) scanJSON(data []byte, c *collector, base rawHit) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		m.scanRaw(bytes.NewReader(data), "", c, base)
		return err
	}
	found := map[matchID]bool{}
	sm := m.small()
	var walk func(v any, path string)
	walk = func(v any, path string) {
		switch v := v.(type) {
		case map[string]any:
			keys := make([]string, 0, len(v))
			for k := range v {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				kp := strings.TrimPrefix(path+jsonKey(sm, k), ".")
				sm.scan("", []byte(k), func(id matchID, off int64, _ int) {
					found[id.what()] = true
					h := base
					h.id, h.field, h.offset = id, kp+" (key)", -1
					h.history = historyIndex(kp)
					c.add(h)
				})
				walk(v[k], kp)
			}
		case []any:
			for i, e := range v {
				walk(e, path+"["+strconv.Itoa(i)+"]")
			}
		case string:
			sm.scan("", []byte(v), func(id matchID, off int64, _ int) {
				found[id.what()] = true
				h := base
				h.id, h.field, h.offset = id, path, -1
				h.history = historyIndex(path)
				c.add(h)
			})
		}
	}
	walk(v, "")
	sm.scan("", data, func(id matchID, off int64, _ int) {
		if !found[id.what()] {
			h := base
			h.id, h.offset = id, off
			c.add(h)
		}
	})
	return nil
}

// jsonKey renders one step of a JSON path; a key that matches anything
// is redacted.
func jsonKey(sm *small, k string) string {
	if r, hit := sm.redact(k); hit {
		k = r
	}
	if k != "" && strings.IndexFunc(k, func(r rune) bool {
		return !(r == '_' || r == '-' || r == ':' || r == '/' || r == '.' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '<' || r == '>')
	}) < 0 {
		return "." + k
	}
	return "[" + strconv.Quote(k) + "]"
}

// historyIndex returns N for a path in a config's history[N], else -1.
func historyIndex(path string) int {
	rest, ok := strings.CutPrefix(path, "history[")
	if !ok {
		return -1
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return -1
	}
	n, err := strconv.Atoi(rest[:end])
	if err != nil {
		return -1
	}
	return n
}
