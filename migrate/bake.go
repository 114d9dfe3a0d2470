package migrate

import (
	"fmt"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
)

// bakeArg is one secret arg of a bake target.
type bakeArg struct {
	name, env string
	// start, end is the byte range of its item in the args object.
	start, end int
}

// secretEntry is the bake secret of a build-arg read from env.
func secretEntry(name, env string) string { return "id=" + name + ",env=" + env }

// migrateBakeHCL moves the secret args of each target of a bake HCL file
// to its secret attribute.
func migrateBakeHCL(src []byte, rel string, sec *secrets) ([]edit, []Note, error) {
	f, diags := hclsyntax.ParseConfig(src, rel, hcl.InitialPos)
	if diags.HasErrors() {
		// The summary and the place only: a detail may quote the file.
		for _, d := range diags {
			if d.Severity == hcl.DiagError {
				line := 0
				if d.Subject != nil {
					line = d.Subject.Start.Line
				}
				return nil, nil, fmt.Errorf("line %d: %s", line, d.Summary)
			}
		}
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil, fmt.Errorf("not an HCL native syntax body")
	}
	j := newJob(src, rel, sec)
	for _, b := range body.Blocks {
		if b.Type == "target" {
			j.bakeTarget(b)
		}
	}
	j.leftovers()
	return j.edits, j.notes, nil
}

// staticString returns the value of a string literal expression.
func staticString(e hclsyntax.Expression) (string, bool) {
	switch x := e.(type) {
	case *hclsyntax.TemplateExpr:
		if len(x.Parts) == 1 {
			if l, ok := x.Parts[0].(*hclsyntax.LiteralValueExpr); ok && l.Val.Type().FriendlyName() == "string" {
				return l.Val.AsString(), true
			}
		}
		if len(x.Parts) == 0 {
			return "", true
		}
	case *hclsyntax.LiteralValueExpr:
		if !x.Val.IsNull() && x.Val.Type().FriendlyName() == "string" {
			return x.Val.AsString(), true
		}
	}
	return "", false
}

// traversalVar returns the name of a bare variable reference.
func traversalVar(e hclsyntax.Expression) (string, bool) {
	if t, ok := e.(*hclsyntax.ScopeTraversalExpr); ok && len(t.Traversal) == 1 {
		return t.Traversal.RootName(), true
	}
	return "", false
}

func (j *job) bakeTarget(b *hclsyntax.Block) {
	target := ""
	if len(b.Labels) > 0 {
		target = b.Labels[0]
	}
	attr, ok := b.Body.Attributes["args"]
	if !ok {
		return
	}
	obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return
	}
	ctx, file := ".", ""
	if a, ok := b.Body.Attributes["context"]; ok {
		if s, ok := staticString(a.Expr); ok {
			ctx = s
		} else {
			ctx = "${}"
		}
	}
	if a, ok := b.Body.Attributes["dockerfile"]; ok {
		if s, ok := staticString(a.Expr); ok {
			file = s
		} else {
			file = "${}"
		}
	}
	dockerfile := dockerfileAt(pathDir(j.rel), ctx, file)
	var found []bakeArg
	for _, it := range obj.Items {
		var name string
		key := it.KeyExpr
		if k, ok := key.(*hclsyntax.ObjectConsKeyExpr); ok {
			key = k.Wrapped
		}
		if n, ok := traversalVar(key); ok {
			name = n
		} else if s, ok := staticString(key); ok {
			name = s
		} else {
			continue
		}
		if !j.sec.isSecret(name, dockerfile) {
			continue
		}
		env := name
		start := it.KeyExpr.Range().Start.Byte
		if v, ok := traversalVar(it.ValueExpr); ok {
			env = v
		} else if t, ok := it.ValueExpr.(*hclsyntax.TemplateWrapExpr); ok {
			if v, ok := traversalVar(t.Wrapped); ok {
				env = v
			} else {
				j.note(start, "target %s: arg %s takes a computed value: not rewritten; pass it as secret = [\"id=%s,env=%s\"] with the value in %s", target, name, name, name, name)
				continue
			}
		} else if l, ok := it.ValueExpr.(*hclsyntax.LiteralValueExpr); ok && l.Val.IsNull() {
			// null: the arg is unset; the secret reads NAME.
		} else if s, ok := staticString(it.ValueExpr); ok {
			if s != "" {
				j.note(start, "target %s: arg %s had its value written in this file, a leak (it is in the repository's history too): the secret now reads the environment variable %s; set it there and rotate the value", target, name, name)
			}
		} else {
			j.note(start, "target %s: arg %s takes a computed value: not rewritten; pass it as secret = [\"id=%s,env=%s\"] with the value in %s", target, name, name, name, name)
			continue
		}
		found = append(found, bakeArg{name: name, env: env, start: start, end: it.ValueExpr.Range().End.Byte})
	}
	if len(found) == 0 {
		return
	}
	var entries []string
	for _, f := range found {
		entries = append(entries, secretEntry(f.name, f.env))
	}
	existing, hasSecret := b.Body.Attributes["secret"]
	if len(found) == len(obj.Items) {
		// Nothing is left of args: the secret attribute takes its place.
		r := attr.SrcRange
		if hasSecret {
			s, e := j.lineSpan(r.Start.Byte, r.End.Byte)
			j.edit(s, e, "")
		} else {
			j.edit(r.Start.Byte, r.End.Byte, "secret = "+hclList(entries))
		}
	} else {
		for _, f := range found {
			s, e := j.itemSpan(f.start, f.end)
			j.edit(s, e, "")
		}
		if !hasSecret {
			at := j.idx.start(j.idx.lineOf(attr.SrcRange.End.Byte) + 1)
			ind := j.lineIndentString(j.idx.lineOf(attr.SrcRange.Start.Byte))
			j.edit(at, at, j.atEnd(at)+ind+"secret = "+hclList(entries)+"\n")
		}
	}
	if hasSecret {
		j.bakeAppendSecret(target, existing, entries)
	}
}

func hclList(entries []string) string {
	q := make([]string, len(entries))
	for i, e := range entries {
		q[i] = `"` + e + `"`
	}
	return "[" + strings.Join(q, ", ") + "]"
}

// bakeAppendSecret adds entries to a target's secret list.
func (j *job) bakeAppendSecret(target string, a *hclsyntax.Attribute, entries []string) {
	tup, ok := a.Expr.(*hclsyntax.TupleConsExpr)
	if !ok {
		j.note(a.SrcRange.Start.Byte, "target %s: add %s to its secret by hand (it is not a list)", target, hclList(entries))
		return
	}
	var have []string
	for _, e := range tup.Exprs {
		if s, ok := staticString(e); ok {
			have = append(have, s)
		}
	}
	var add []string
	for _, e := range entries {
		id, _, _ := strings.Cut(e, ",")
		dup := false
		for _, h := range have {
			if strings.HasPrefix(h+",", id+",") || strings.Contains(","+h+",", ","+id+",") {
				dup = true
			}
		}
		if !dup {
			add = append(add, e)
		}
	}
	if len(add) == 0 {
		return
	}
	q := strings.TrimSuffix(strings.TrimPrefix(hclList(add), "["), "]")
	if len(tup.Exprs) == 0 {
		at := tup.SrcRange.Start.Byte + 1
		j.edit(at, at, q)
		return
	}
	at := tup.Exprs[len(tup.Exprs)-1].Range().End.Byte
	j.edit(at, at, ", "+q)
}

// lineSpan widens [start, end) to whole lines when nothing else is on
// them.
func (j *job) lineSpan(start, end int) (int, int) {
	ls := j.idx.start(j.idx.lineOf(start))
	if strings.TrimSpace(string(j.src[ls:start])) != "" {
		return start, end
	}
	le := j.idx.start(j.idx.lineOf(end) + 1)
	if end > 0 && j.src[end-1] == '\n' {
		le = end
	}
	if strings.TrimSpace(string(j.src[end:le])) != "" {
		return start, end
	}
	return ls, le
}

// itemSpan returns the range to delete for the object or list item at
// [start, end): with its comma, and its whole line when it is alone there.
func (j *job) itemSpan(start, end int) (int, int) {
	e := end
	for e < len(j.src) && (j.src[e] == ' ' || j.src[e] == '\t') {
		e++
	}
	comma := e < len(j.src) && j.src[e] == ','
	if comma {
		e++
		end = e
	}
	s, le := j.lineSpan(start, end)
	if s != start || le != end {
		return s, le
	}
	if comma {
		// An item followed by others on its line: drop the spaces after
		// its comma too.
		for end < len(j.src) && (j.src[end] == ' ' || j.src[end] == '\t') {
			end++
		}
		return start, end
	}
	// The last item on a line of several: drop the comma before it.
	b := start
	for b > 0 && (j.src[b-1] == ' ' || j.src[b-1] == '\t') {
		b--
	}
	if b > 0 && j.src[b-1] == ',' {
		b--
	}
	return b, end
}
