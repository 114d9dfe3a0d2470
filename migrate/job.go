package migrate

import (
	"fmt"
	"regexp"
)

// job is the migration of one file: the edits and notes found so far.
type job struct {
	src   []byte
	rel   string
	sec   *secrets
	idx   *lineIndex
	edits []edit
	notes []Note
	// handled holds the offsets of the --build-arg flags a rewriter dealt
	// with (edited or noted), so the final scan leaves them alone.
	handled map[int]bool
}

func newJob(src []byte, rel string, sec *secrets) *job {
	return &job{src: src, rel: rel, sec: sec, idx: newLineIndex(src), handled: map[int]bool{}}
}

func (j *job) edit(start, end int, text string) {
	j.edits = append(j.edits, edit{start, end, text})
}

// note records a note at byte offset off.
func (j *job) note(off int, format string, a ...any) {
	j.notes = append(j.notes, Note{Line: j.idx.lineOf(off), Message: fmt.Sprintf(format, a...)})
}

// buildArgFlag finds the --build-arg flags of a file and the name each
// passes.
var buildArgFlag = regexp.MustCompile(`--build-arg(?:=|\s+)["']?([A-Za-z_][A-Za-z0-9_]*)`)

// leftovers notes each --build-arg of a secret that no rewriter dealt
// with: a line this tool cannot read (a variable of a Makefile, a folded
// YAML string) still passes a secret as a build-arg. Fail closed: it is
// named, not skipped silently.
func (j *job) leftovers() {
	for _, m := range buildArgFlag.FindAllSubmatchIndex(j.src, -1) {
		if j.handled[m[0]] {
			continue
		}
		name := string(j.src[m[2]:m[3]])
		if !j.sec.isSecret(name, "") {
			continue
		}
		j.note(m[0], "--build-arg %s passes a secret, in a line hushbuild cannot rewrite: change it by hand to --secret id=%s,env=%s", name, name, name)
	}
}
