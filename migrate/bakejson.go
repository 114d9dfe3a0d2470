package migrate

import (
	"encoding/json"
	"fmt"
	"strings"
)

// jnode is a JSON value with its byte range.
type jnode struct {
	kind       byte // '{', '[', '"', or 'v' for numbers, true, false, null
	start, end int
	str        string    // the value of a string
	members    []jmember // of an object
	elems      []*jnode  // of an array
}

type jmember struct {
	key      string
	keyStart int
	value    *jnode
}

func (n *jnode) get(key string) (*jmember, int) {
	if n == nil || n.kind != '{' {
		return nil, -1
	}
	for i := range n.members {
		if n.members[i].key == key {
			return &n.members[i], i
		}
	}
	return nil, -1
}

// jscan parses JSON that json.Valid accepted, keeping offsets.
type jscan struct {
	src []byte
	pos int
}

func (s *jscan) space() {
	for s.pos < len(s.src) && strings.IndexByte(" \t\r\n", s.src[s.pos]) >= 0 {
		s.pos++
	}
}

func (s *jscan) value() (*jnode, error) {
	s.space()
	if s.pos >= len(s.src) {
		return nil, fmt.Errorf("unexpected end of JSON")
	}
	n := &jnode{start: s.pos}
	switch c := s.src[s.pos]; c {
	case '{':
		n.kind = '{'
		s.pos++
		for {
			s.space()
			if s.src[s.pos] == '}' {
				s.pos++
				break
			}
			if s.src[s.pos] == ',' {
				s.pos++
				continue
			}
			k, err := s.value()
			if err != nil {
				return nil, err
			}
			s.space()
			s.pos++ // ':'
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			n.members = append(n.members, jmember{k.str, k.start, v})
		}
	case '[':
		n.kind = '['
		s.pos++
		for {
			s.space()
			if s.src[s.pos] == ']' {
				s.pos++
				break
			}
			if s.src[s.pos] == ',' {
				s.pos++
				continue
			}
			v, err := s.value()
			if err != nil {
				return nil, err
			}
			n.elems = append(n.elems, v)
		}
	case '"':
		n.kind = '"'
		s.pos++
		for s.src[s.pos] != '"' {
			if s.src[s.pos] == '\\' {
				s.pos++
			}
			s.pos++
		}
		s.pos++
		if err := json.Unmarshal(s.src[n.start:s.pos], &n.str); err != nil {
			return nil, err
		}
	default:
		n.kind = 'v'
		for s.pos < len(s.src) && strings.IndexByte(",]} \t\r\n", s.src[s.pos]) < 0 {
			s.pos++
		}
	}
	n.end = s.pos
	return n, nil
}

func parseJSON(src []byte) (*jnode, error) {
	if !json.Valid(src) {
		var v any
		err := json.Unmarshal(src, &v)
		return nil, fmt.Errorf("invalid JSON: %v", err)
	}
	s := &jscan{src: src}
	return s.value()
}

// memberSpan returns the range that removes member i of object o: its key,
// value and one comma with the space that follows it.
func memberSpan(o *jnode, i int) (int, int) {
	m := o.members[i]
	if i+1 < len(o.members) {
		return m.keyStart, o.members[i+1].keyStart
	}
	if i > 0 {
		return o.members[i-1].value.end, m.value.end
	}
	return m.keyStart, m.value.end
}

// runs groups sorted indexes into runs of consecutive ones, [first, last].
func runs(idx []int) [][2]int {
	var out [][2]int
	for _, i := range idx {
		if n := len(out); n > 0 && out[n-1][1] == i-1 {
			out[n-1][1] = i
			continue
		}
		out = append(out, [2]int{i, i})
	}
	return out
}

// runSpan returns the range that removes members a..b of object o, with
// one comma and the space after it.
func runSpan(o *jnode, a, b int) (int, int) {
	if b+1 < len(o.members) {
		return o.members[a].keyStart, o.members[b+1].keyStart
	}
	if a > 0 {
		return o.members[a-1].value.end, o.members[b].value.end
	}
	return o.members[a].keyStart, o.members[b].value.end
}

// migrateBakeJSON moves the secret args of each target of a bake JSON
// file to its secret list.
func migrateBakeJSON(src []byte, rel string, sec *secrets) ([]edit, []Note, error) {
	doc, err := parseJSON(src)
	if err != nil {
		return nil, nil, err
	}
	j := newJob(src, rel, sec)
	targets, _ := doc.get("target")
	if targets == nil || targets.value.kind != '{' {
		j.leftovers()
		return j.edits, j.notes, nil
	}
	for _, t := range targets.value.members {
		j.bakeJSONTarget(t.key, t.value)
	}
	j.leftovers()
	return j.edits, j.notes, nil
}

func (j *job) bakeJSONTarget(target string, t *jnode) {
	args, _ := t.get("args")
	if args == nil || args.value.kind != '{' {
		return
	}
	ctx, file := ".", ""
	if c, _ := t.get("context"); c != nil {
		ctx = c.value.str
	}
	if f, _ := t.get("dockerfile"); f != nil {
		file = f.value.str
	}
	dockerfile := dockerfileAt(pathDir(j.rel), ctx, file)
	var entries []string
	var remove []int
	for i, m := range args.value.members {
		if !j.sec.isSecret(m.key, dockerfile) {
			continue
		}
		env := m.key
		if m.value.kind == '"' {
			if v := composeVar.FindStringSubmatch(m.value.str); v != nil {
				env = v[1] + v[2]
			} else if strings.Contains(m.value.str, "$") {
				j.note(m.keyStart, "target %s: arg %s takes a computed value: not rewritten; pass it as \"secret\": [\"id=%s,env=%s\"] with the value in %s", target, m.key, m.key, m.key, m.key)
				continue
			} else if m.value.str != "" {
				j.note(m.keyStart, "target %s: arg %s had its value written in this file, a leak (it is in the repository's history too): the secret now reads the environment variable %s; set it there and rotate the value", target, m.key, m.key)
			}
		} else if string(j.src[m.value.start:m.value.end]) != "null" {
			j.note(m.keyStart, "target %s: arg %s had its value written in this file, a leak: the secret now reads the environment variable %s; set it there and rotate the value", target, m.key, m.key)
		}
		entries = append(entries, secretEntry(m.key, env))
		remove = append(remove, i)
	}
	if len(entries) == 0 {
		return
	}
	sm, _ := t.get("secret")
	q := make([]string, len(entries))
	for i, e := range entries {
		q[i] = `"` + e + `"`
	}
	list := strings.Join(q, ", ")
	if len(remove) == len(args.value.members) {
		if sm == nil {
			// The secret member takes the place of args.
			j.edit(args.keyStart, args.value.end, `"secret": [`+list+`]`)
		} else {
			_, ai := t.get("args")
			s, e := memberSpan(t, ai)
			j.edit(s, e, "")
		}
	} else {
		for _, r := range runs(remove) {
			s, e := runSpan(args.value, r[0], r[1])
			j.edit(s, e, "")
		}
		if sm == nil {
			l := j.idx.lineOf(args.keyStart)
			sep := ",\n" + j.lineIndentString(l)
			if j.idx.start(l)+len(j.lineIndentString(l)) != args.keyStart {
				// Not alone on its line: compact JSON stays compact.
				sep = ", "
			}
			j.edit(args.value.end, args.value.end, sep+`"secret": [`+list+`]`)
		}
	}
	if sm != nil {
		if sm.value.kind != '[' {
			j.note(sm.keyStart, "target %s: add %s to its secret by hand (it is not a list)", target, list)
			return
		}
		var add []string
		for k, e := range entries {
			id, _, _ := strings.Cut(e, ",")
			dup := false
			for _, h := range sm.value.elems {
				if strings.HasPrefix(h.str+",", id+",") || strings.Contains(","+h.str+",", ","+id+",") {
					dup = true
				}
			}
			if !dup {
				add = append(add, q[k])
			}
		}
		if len(add) == 0 {
			return
		}
		if n := len(sm.value.elems); n > 0 {
			at := sm.value.elems[n-1].end
			j.edit(at, at, ", "+strings.Join(add, ", "))
		} else {
			at := sm.value.start + 1
			j.edit(at, at, strings.Join(add, ", "))
		}
	}
}
