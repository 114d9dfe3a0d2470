package frontend

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hushfile/hushfile/rewrite"
)

// checkBuildArgs fails when a build-arg carries a secret: one the rewrite
// turned into a secret mount, or one whose name the engine's classifier
// calls a secret. Only the names of buildArgs are read; the error says
// which flag to use instead and never holds a value.
func checkBuildArgs(buildArgs map[string]string, df *dockerfile) error {
	flags := map[string]string{}
	for _, r := range df.requirements {
		if r.Kind != rewrite.SecretEnv {
			continue
		}
		for _, name := range []string{r.ID, r.Env} {
			if name != "" {
				if _, ok := flags[name]; !ok {
					flags[name] = r.Flag
				}
			}
		}
	}

	removed := map[string]bool{}
	for _, name := range df.secretArgs {
		removed[name] = true
	}
	var names []string
	for name := range buildArgs {
		if _, ok := flags[name]; ok || removed[name] || rewrite.IsSecretName(name, df.classifier) {
			names = append(names, name)
		}
	}
	if len(names) == 0 {
		return nil
	}
	slices.Sort(names)

	var msgs []string
	var locs [][]parser.Range
	for _, name := range names {
		flag := flags[name]
		if flag == "" && removed[name] && !rewrite.IsSecretName(name, df.classifier) {
			// A value the Dockerfile builds from secrets: the rewrite
			// builds it inside the RUNs from the secrets' mounts.
			where := "a value built from secrets"
			if lines := df.argLines[name]; len(lines) > 0 {
				where = fmt.Sprintf("built from secrets (line %d: ARG %s)", lines[0], name)
				locs = append(locs, lineRange(lines[0], lines[0]))
			}
			msgs = append(msgs, fmt.Sprintf("build-arg %s is %s: drop it and pass the secrets it is built from with --secret", name, where))
			continue
		}
		if flag == "" {
			flag = fmt.Sprintf("--secret id=%s,env=%s", name, name)
		}
		where := "a secret"
		if lines := df.argLines[name]; len(lines) > 0 {
			where = fmt.Sprintf("a secret (line %d: ARG %s)", lines[0], name)
			locs = append(locs, lineRange(lines[0], lines[0]))
		}
		msgs = append(msgs, fmt.Sprintf("build-arg %s is %s: pass it with %s instead of --build-arg", name, where, flag))
	}
	var err error = &secretBuildArgError{names: names, msg: strings.Join(msgs, "\n")}
	for _, l := range locs {
		err = parser.WithLocation(err, l)
	}
	return err
}

// secretBuildArgError is the error of checkBuildArgs.
type secretBuildArgError struct {
	names []string
	msg   string
}

func (e *secretBuildArgError) Error() string { return e.msg }

// IsSecretBuildArg reports whether err stopped a build because a secret
// was passed as a build-arg.
func IsSecretBuildArg(err error) bool {
	var e *secretBuildArgError
	return errors.As(err, &e)
}

func lineRange(start, end int) []parser.Range {
	if end < start {
		end = start
	}
	return []parser.Range{{Start: parser.Position{Line: start}, End: parser.Position{Line: end}}}
}
