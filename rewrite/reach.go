package rewrite

import (
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// stageReach says how much of a stage's filesystem reaches the built
// image: all of it (the target, a stage it is built FROM, a stage a RUN
// mounts), or only the paths that COPY --from takes.
type stageReach struct {
	all   bool
	paths []string
}

// covers reports whether a file at target reaches the image.
func (r stageReach) covers(target string) bool {
	if r.all {
		return true
	}
	for _, p := range r.paths {
		if strings.ContainsAny(p, "*?[") || p == "/" || p == target || strings.HasPrefix(target, strings.TrimSuffix(p, "/")+"/") {
			return true
		}
		if !path.IsAbs(target) {
			return true // an unknown workdir: assume the worst
		}
	}
	return false
}

func (r stageReach) any() bool { return r.all || len(r.paths) > 0 }

// computeReach finds, for each stage, what of it reaches the built target.
func computeReach(stages []instructions.Stage, target string) []stageReach {
	reach := make([]stageReach, len(stages))
	if len(stages) == 0 {
		return reach
	}
	index := func(name string) int {
		name = strings.ToLower(name)
		for i, s := range stages {
			if s.Name != "" && strings.ToLower(s.Name) == name {
				return i
			}
		}
		if i, err := strconv.Atoi(name); err == nil && i >= 0 && i < len(stages) {
			return i
		}
		return -1
	}
	t := len(stages) - 1
	if target != "" {
		if i := index(target); i >= 0 {
			t = i
		}
	}
	visited := map[string]bool{}
	var visit func(i int, all bool, paths []string)
	visit = func(i int, all bool, paths []string) {
		if i < 0 || reach[i].all {
			return
		}
		key := reachKey(i, all, paths)
		if visited[key] {
			return
		}
		visited[key] = true
		if all {
			reach[i].all = true
		} else {
			reach[i].paths = append(reach[i].paths, paths...)
		}
		s := stages[i]
		if j := index(s.BaseName); j >= 0 && j < i {
			visit(j, all, paths)
		}
		for _, cmd := range s.Commands {
			switch c := cmd.(type) {
			case *instructions.CopyCommand:
				if c.From != "" {
					if j := index(c.From); j >= 0 && j < i {
						var ps []string
						for _, p := range c.SourcePaths {
							ps = append(ps, path.Clean("/"+p))
						}
						visit(j, false, ps)
					}
				}
			case *instructions.RunCommand:
				for _, m := range mountsOf(c) {
					if m.From != "" {
						if j := index(m.From); j >= 0 && j < i {
							visit(j, true, nil)
						}
					}
				}
			}
		}
	}
	visit(t, true, nil)
	return reach
}

// excludedBy reports whether a COPY --exclude pattern covers rel.
func excludedBy(excludes []string, rel string) bool {
	for _, e := range excludes {
		if e == rel || strings.TrimSuffix(e, "/") == path.Dir(rel) {
			return true
		}
		if ok, _ := path.Match(e, rel); ok {
			return true
		}
	}
	return false
}

// broadEnvFiles turns the env files that commands read, and that this
// broad COPY brings from the context, into secret mounts: the COPY
// excludes them and later RUNs mount them at the same path.
func (a *analyzer) broadEnvFiles(st *stageState, b *broadCopy) []string {
	prefix := ""
	var rels []string
	key := strconv.Itoa(b.node.StartLine) + ":"
	for k := range a.broadEnv {
		if strings.HasPrefix(k, key) {
			rels = append(rels, strings.TrimPrefix(k, key))
		}
	}
	sort.Strings(rels)
	var added []string
	// Credential files the Dockerfile copies by name elsewhere: the broad
	// copy would bring them in a second time.
	var known []string
	for id := range a.knownSecret {
		rel := id
		if b.srcDir != "." {
			if !strings.HasPrefix(id, b.srcDir+"/") {
				continue
			}
			rel = strings.TrimPrefix(id, b.srcDir+"/")
		}
		known = append(known, rel)
	}
	sort.Strings(known)
	for _, rel := range known {
		excluded := false
		for _, e := range b.excludes {
			if e == rel {
				excluded = true
			}
		}
		if excluded || !safeMountValue(rel) {
			continue
		}
		added = append(added, "--exclude="+rel)
		a.excluded = append(a.excluded, excludedFile{line: b.node.StartLine, rel: rel})
	}
	// Credential files of the build context under the copied directory
	// (Config.ContextFiles) that the Dockerfile names nowhere.
	ctxFiles := map[string]bool{}
	for _, cf := range a.cfg.ContextFiles {
		rel := cf
		if b.srcDir != "." {
			if !strings.HasPrefix(cf, b.srcDir+"/") {
				continue
			}
			rel = strings.TrimPrefix(cf, b.srcDir+"/")
		}
		if contains(known, rel) || contains(rels, rel) || excludedBy(b.excludes, rel) {
			continue
		}
		ctxFiles[rel] = true
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		excluded := false
		for _, e := range b.excludes {
			if e == rel {
				excluded = true
			}
		}
		target := path.Join(b.destAbs, rel)
		id := secretID(path.Join(b.srcDir, rel))
		if !safeMountValue(id) || !safeMountValue(target) || !safeMountValue(rel) {
			a.add(RuleCannotRewrite, b.node.StartLine, b.node.EndLine, false,
				"rename the env file without quotes, blanks, commas or '='", "the path of the env file %s cannot be written into a flag safely", rel)
			continue
		}
		if contains(added, prefix+"--exclude="+mountValue(rel)) {
			excluded = true
		}
		f := &fileSecret{id: id, target: target, line: b.node.StartLine, rule: RuleSourcedEnvFile, context: ctxFiles[rel]}
		if f.context {
			f.rule = RuleSecretFile
		}
		st.files = append(st.files, f)
		a.files = append(a.files, f)
		if !excluded {
			added = append(added, prefix+"--exclude="+mountValue(rel))
		}
	}
	return added
}

// addFlags inserts flags right after an instruction's keyword.
func (a *analyzer) addFlags(n *parser.Node, flags []string) {
	if len(flags) == 0 {
		return
	}
	l, err := a.src.join(n.StartLine)
	if err != nil || l.text != n.Original {
		a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
			"write the instruction without line continuations", "cannot edit this %s to exclude credential files", strings.ToUpper(n.Value))
		return
	}
	a.touch(n.StartLine)
	ke := keywordEnd(l)
	a.src.insert(l.srcOffset(ke-1)+1, " "+strings.Join(flags, " "))
}

var _ = parser.Node{}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// reachKey is fmt.Sprint(i, all, paths), the key of a visit of
// computeReach, without fmt.
func reachKey(i int, all bool, paths []string) string {
	return strconv.Itoa(i) + " " + strconv.FormatBool(all) + " [" + strings.Join(paths, " ") + "]"
}
