package rewrite

// COPY and ADD from the build context: credential files copied into the
// image become secret mounts of the RUNs that read them.

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// copyCmd handles COPY and ADD from the build context.
func (a *analyzer) copyCmd(st *stageState, n *parser.Node, excludes []string, from string, sd instructions.SourcesAndDest, chown, chmod string, parents, isAdd bool) {
	if from != "" {
		// What another stage copied from the context may come with it.
		st.copiedFrom = true
		return
	}
	dest, ok := a.eval(sd.DestPath, st.vars)
	if !ok {
		dest = sd.DestPath
	}
	destDir := strings.HasSuffix(dest, "/") || dest == "." || dest == ".." || strings.HasSuffix(dest, "/.") || len(sd.SourcePaths) > 1
	destAbs := dest
	if !path.IsAbs(dest) {
		if st.workdir != "" {
			destAbs = path.Join(st.workdir, dest)
		} else if st.vars["\x00wdset"] != "" {
			destAbs = ""
		} else {
			destAbs = path.Clean(dest)
		}
	} else {
		destAbs = path.Clean(dest)
	}
	var removedSrc []string
	var files []*fileSecret
	var extraFlags []string // --exclude flags for broad sources
	for _, srcRaw := range sd.SourcePaths {
		src, ok := a.eval(srcRaw, st.vars)
		if !ok {
			src = srcRaw
		}
		if isAdd && (strings.Contains(src, "://") || strings.HasPrefix(src, "git@")) {
			continue
		}
		clean := secretID(src)
		if isSecretDir(clean) {
			// A credential directory of the context (COPY .aws /root/.aws)
			// is mounted from there for the RUNs after it, as its files
			// are: a secret mount cannot hold a directory, and the legacy
			// build read it from the context, so it is there. With the
			// context listed, one that holds no credential file is an
			// ordinary copy.
			if a.cfg.ContextListed && !hasFileUnder(a.cfg.ContextFiles, clean) {
				continue
			}
			if chown == "" && chmod == "" && !parents && destAbs != "" && safeMountValue(clean) && safeMountValue(destAbs) {
				removedSrc = append(removedSrc, srcRaw)
				files = append(files, &fileSecret{id: clean, target: destAbs, line: n.StartLine, rule: RuleSecretFile, copied: true, context: true, dir: true})
				continue
			}
		}
		if isSecretDir(clean) {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"copy only the files the build needs, one COPY each (they become secret mounts), or use RUN --mount=type=ssh for ssh keys",
				"%s copies the credential directory %s into a layer; a directory cannot be a secret mount", strings.ToUpper(n.Value), clean)
			continue
		}
		// A file copied to a credential file's name is one too:
		// COPY npmrc /root/.npmrc.
		destPath := destAbs
		if destPath == "" {
			destPath = dest
		}
		destNamed := len(sd.SourcePaths) == 1 && !destDir && isSecretFile(destPath, a.cfg) && !isTemplateName(clean)
		inCredDir := underSecretDir(destPath)
		if inCredDir && (strings.HasSuffix(src, "/") || clean == "." || !strings.Contains(path.Base(clean), ".") && !isSecretFile(clean, a.cfg) && destDir) {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"copy only the key or credential files the build needs, one COPY each (they become secret mounts), or use RUN --mount=type=ssh for ssh keys",
				"%s copies %s into the credential directory %s; a directory cannot be a secret mount", strings.ToUpper(n.Value), clean, destPath)
			continue
		}
		// The public files of a credential directory stay public under
		// any source name: COPY ssh_config /root/.ssh/config.
		destFile := destPath
		if destDir {
			destFile = path.Join(destPath, path.Base(clean))
		}
		// Where the stage's environment moves a tool's credential file
		// (COPY ci/cargo-credentials.toml $CARGO_HOME/credentials.toml), or
		// one of its own name into a directory (COPY credentials.toml
		// /usr/local/cargo/).
		toolLoc := false
		if len(sd.SourcePaths) == 1 && !isTemplateName(clean) && !strings.HasSuffix(src, "/") && !strings.ContainsAny(clean, "*?[") && clean != "." {
			if toolEnvFile(destFile, st.toolEnv()) || a.seenToolFile(destFile) {
				destNamed, toolLoc = true, true
			} else if destDir && isSecretFile(destFile, a.cfg) && !isSecretDir(clean) && strings.Contains(path.Base(clean), ".") {
				destNamed = true
			}
		}
		if inCredDir && !isTemplateName(clean) && !strings.HasSuffix(clean, ".pub") && path.Base(clean) != "known_hosts" && path.Base(clean) != "config" && !matchPathPatterns(publicInSecretDir, destFile) {
			destNamed = true
		}
		if len(sd.SourcePaths) == 1 && !destNamed && path.IsAbs(destFile) {
			a.plainCopies = append(a.plainCopies, path.Clean(destFile))
		}
		if strings.ContainsAny(path.Base(clean), "*?[") && !strings.ContainsAny(path.Dir(clean), "*?[") && destDir && path.IsAbs(destAbs) {
			st.patterns = append(st.patterns, patternCopy{srcDir: path.Dir(clean), glob: path.Base(clean), destAbs: path.Clean(destAbs)})
		}
		if strings.ContainsAny(clean, "*?[") && a.cfg.ContextListed {
			// The build context is listed: the pattern is resolved
			// against its credential files.
			direct, under := resolvePattern(clean, a.cfg.ContextFiles)
			if len(direct) > 0 {
				// BuildKit applies --exclude below each match, never to a
				// file the pattern matches itself.
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"keep "+strings.Join(direct, ", ")+" out of the build context (.dockerignore) or name each in its own COPY so that it can become a mount",
					"%s copies files by the pattern %s, which matches the credential files %s of the build context; a pattern cannot exclude the files it matches itself", strings.ToUpper(n.Value), clean, strings.Join(direct, ", "))
				continue
			}
			if destAbs == "" && len(under) > 0 {
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"use an absolute destination or a WORKDIR without build-time variables",
					"the destination of %s cannot be resolved, so the credential files its pattern brings in have no mount target", clean)
				continue
			}
			for _, u := range under {
				if excludedBy(excludes, u.rel) || !safeMountValue(u.rel) || !safeMountValue(u.file) {
					continue
				}
				target := path.Join(destAbs, u.rel)
				if !safeMountValue(target) {
					continue
				}
				if flag := "--exclude=" + u.rel; !slices.Contains(extraFlags, flag) {
					extraFlags = append(extraFlags, flag)
				}
				f := &fileSecret{id: u.file, target: target, line: n.StartLine, rule: RuleSecretFile, context: true}
				st.files = append(st.files, f)
				a.files = append(a.files, f)
			}
			continue
		}
		// Without a listing, a pattern that could match a credential file
		// as well as others is reported; the frontend resolves it against
		// the context it lists. One whose every match is a credential file
		// (*.pem, secrets/*) is refused below.
		if strings.ContainsAny(clean, "*?[") && globMatchesSecretFile(clean) && !isSecretFile(strings.NewReplacer("*", "x", "?", "x").Replace(clean), a.cfg) {
			a.addSettled(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"build through the hushbuild frontend or give the CLI the build context (--context) so that the pattern is resolved; or name each credential file in its own COPY",
				"%s copies files by the pattern %s, which could match credential files; without the build context the files behind it are unknown", strings.ToUpper(n.Value), clean)
			continue
		}
		// A certificate for the system's trust store, whatever its name.
		if (destAbs != "" && inTrustStore(destAbs) || inTrustStore(destPath)) && !strings.HasPrefix(path.Base(clean), "id_") && !isEnvFile(clean) {
			continue
		}
		if !isSecretFile(clean, a.cfg) && !destNamed {
			if !a.cfg.ContextListed && IsFieldConfigFile(clean, a.cfg) && !isDependencyList(clean) && !strings.ContainsAny(clean, "*?[") {
				a.fieldConfigNote(n, clean)
			}
			// A file copied to a configuration file's name is read as
			// one: COPY ci/nuget.ci.config /root/.nuget/NuGet/NuGet.Config.
			if len(sd.SourcePaths) == 1 && !destDir && !strings.ContainsAny(clean, "*?[") && clean != "" && clean != "." &&
				!strings.HasSuffix(src, "/") && !isTemplateName(clean) && !IsFieldConfigFile(clean, a.cfg) && IsFieldConfigFile(destFile, a.cfg) {
				if a.fieldCopies == nil {
					a.fieldCopies = map[string]string{}
				}
				a.fieldCopies[clean] = path.Base(destFile)
				if !a.cfg.ContextListed && !isDependencyList(destFile) {
					a.fieldConfigNoteAs(n, clean, destFile)
				}
			}
			if destAbs != "" && len(sd.SourcePaths) == 1 && strings.Contains(path.Base(clean), ".") && !strings.HasSuffix(src, "/") && !strings.ContainsAny(clean, "*?[") {
				if st.copied == nil {
					st.copied = map[string]copiedFile{}
				}
				at := destFile
				if parents {
					// COPY --parents ci/vars.sh /opt/: /opt/ci/vars.sh
					at = path.Join(destAbs, clean)
				}
				st.copied[at] = copiedFile{src: clean, line: n.StartLine}
			}
			if clean == "" || clean == "." || !strings.Contains(path.Base(clean), ".") || strings.HasSuffix(src, "/") {
				if destAbs != "" && !strings.ContainsAny(clean, "*?[") {
					b := &broadCopy{node: n, excludes: excludes, srcDir: cleanDir(clean), destAbs: destAbs}
					a.broadSeen = append(a.broadSeen, b.srcDir)
					st.broad = append(st.broad, b)
					extraFlags = append(extraFlags, a.broadEnvFiles(st, b)...)
				}
			}
			continue
		}
		if strings.ContainsAny(clean, "*?[") {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"name each credential file in its own COPY so that it can become a secret mount",
				"%s copies credential files by the pattern %s; the files behind a pattern are unknown until the build", strings.ToUpper(n.Value), clean)
			continue
		}
		if destAbs == "" {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"use an absolute destination or a WORKDIR without build-time variables",
				"the destination of %s cannot be resolved, so its secret mount has no target", clean)
			continue
		}
		target := destAbs
		switch {
		case parents:
			target = path.Join(destAbs, clean)
		case destDir || isKnownDir(destAbs):
			target = path.Join(destAbs, path.Base(clean))
		}
		if !safeMountValue(clean) || !safeMountValue(target) {
			a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
				"rename the file or its destination without quotes, blanks, commas or '='",
				"the path of %s cannot be written into a --mount flag safely", strings.ToUpper(n.Value))
			continue
		}
		f := &fileSecret{id: clean, target: target, line: n.StartLine, rule: RuleSecretFile, copied: true, toolLoc: toolLoc}
		if chown != "" {
			uid, gid, ok := parseChown(chown)
			switch {
			case ok:
				f.uid, f.gid = uid, gid
			case chmod != "":
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"use numeric --chown=UID:GID so that the secret mount can carry the owner with the mode",
					"%s --chown names a user or group by name; a secret mount needs numeric ids to carry it with --chmod", strings.ToUpper(n.Value))
				continue
			default:
				// A user by name (BuildKit looks it up in the stage at
				// build time; a mount cannot): the file is readable by
				// every user of the RUN instead, as RUN chown NAME on a
				// mounted file makes it.
				f.owner = chown
			}
		}
		if chmod != "" {
			m, err := strconv.ParseUint(chmod, 8, 32)
			if err != nil {
				a.add(RuleCannotRewrite, n.StartLine, n.EndLine, false,
					"use an octal --chmod", "%s --chmod=%s is not an octal mode", strings.ToUpper(n.Value), chmod)
				continue
			}
			mi := int(m)
			f.mode = &mi
		}
		// In the build context (Config.ContextFiles), with no owner or
		// mode to carry: mounted from there, so the build command stays
		// as it was. Out of the context (.dockerignore), it is a secret
		// the build passes with --secret.
		if f.uid == nil && f.mode == nil && contains(a.cfg.ContextFiles, clean) {
			f.context = true
		}
		// A file copied to a credential file's name under a name of its
		// own (COPY ci/cargo-credentials.toml /root/.cargo/credentials.toml)
		// is in no listing of the context by its name: the caller that
		// reads the context says whether it holds it (Result.NamedCopies).
		if !f.context && f.uid == nil && f.mode == nil && destNamed && !isSecretFile(clean, a.cfg) && !slices.Contains(a.namedCopies, clean) {
			a.namedCopies = append(a.namedCopies, clean)
		}
		if f.owner != "" && !f.context {
			m := 0o444
			f.mode = &m
		}
		removedSrc = append(removedSrc, srcRaw)
		files = append(files, f)
		if !a.knownSecret[clean] {
			if a.knownSecret == nil {
				a.knownSecret = map[string]bool{}
			}
			a.knownSecret[clean] = true
			// Only a broad copy already passed needs another walk.
			for _, b := range a.broadSeen {
				if b == "." || strings.HasPrefix(clean, b+"/") {
					a.newPromotions = true
				}
			}
		}
	}
	if len(removedSrc) == 0 {
		a.addFlags(n, extraFlags)
		return
	}
	if a.cfg.AllowRuntimeSecretFiles && st.reaches.any() {
		a.addFlags(n, extraFlags)
		// The user keeps the file in the image; leave the COPY alone and
		// say so at the end of the stage if it stays.
		for _, f := range files {
			f.copied = false
			a.addSettled(RuleSecretFileInImage, n.StartLine, n.EndLine, false,
				"remove allow-runtime-secret-files to turn it into a secret mount",
				"%s stays in the image: allowed by allow-runtime-secret-files", f.id)
		}
		return
	}
	for _, f := range files {
		st.files = append(st.files, f)
		a.files = append(a.files, f)
	}
	a.rewriteCopy(n, sd, removedSrc, extraFlags)
}

// hasFileUnder reports whether files holds a path under the directory dir.
func hasFileUnder(files []string, dir string) bool {
	for _, f := range files {
		if strings.HasPrefix(f, dir+"/") {
			return true
		}
	}
	return false
}

func cleanDir(p string) string {
	p = strings.TrimSuffix(p, "/")
	if p == "" {
		return "."
	}
	return p
}

func parseChown(s string) (*int, *int, bool) {
	u, g, hasG := strings.Cut(s, ":")
	ui, err := strconv.Atoi(u)
	if err != nil {
		return nil, nil, false
	}
	gi := ui
	if hasG {
		if gi, err = strconv.Atoi(g); err != nil {
			return nil, nil, false
		}
	}
	return &ui, &gi, true
}

// rewriteCopy removes sources from a COPY/ADD, keeping the others.
func (a *analyzer) rewriteCopy(n *parser.Node, sd instructions.SourcesAndDest, removed, extraFlags []string) {
	drop := map[string]int{}
	for _, r := range removed {
		drop[r]++
	}
	var words []string
	for w := n.Next; w != nil; w = w.Next {
		words = append(words, w.Value)
	}
	if len(words) == 0 {
		return
	}
	dest := words[len(words)-1]
	var kept []string
	for _, w := range words[:len(words)-1] {
		if drop[w] > 0 {
			drop[w]--
			continue
		}
		kept = append(kept, w)
	}
	note := fmt.Sprintf("hushbuild: %s of %s is a secret mount now", strings.ToUpper(n.Value), strings.Join(removed, " "))
	if len(kept) == 0 {
		a.replaceInstruction(n, nil, note)
		return
	}
	// With several sources the destination is a directory; with one left
	// it would be a file unless it ends in a slash.
	if len(kept) == 1 && len(words) > 2 && !strings.HasSuffix(strings.Trim(dest, `"'`), "/") {
		if q := dest[len(dest)-1]; q == '"' || q == '\'' {
			dest = dest[:len(dest)-1] + "/" + string(q)
		} else {
			dest += "/"
		}
	}
	if n.Attributes["json"] {
		q := make([]string, 0, len(kept)+1)
		for _, k := range append(kept, dest) {
			q = append(q, strconv.Quote(k))
		}
		a.replaceInstruction(n, []string{"[" + strings.Join(q, ", ") + "]"}, note, extraFlags...)
		return
	}
	a.replaceInstruction(n, append(kept, dest), note, extraFlags...)
}

var templateNameRe = regexp.MustCompile(`(?i)(template|tmpl|tpl|example|sample|dist|skel|\.in$)`)

// isTemplateName reports a source that is a template of a credential file
// (npmrc.template, .env.example): what it holds is a placeholder.
func isTemplateName(p string) bool {
	base := path.Base(p)
	for i := 0; i < len(base); i++ {
		if base[i] >= utf8.RuneSelf {
			// Case folding beyond ASCII (the Kelvin sign is a k).
			return templateNameRe.MatchString(base)
		}
	}
	// An ASCII name: the regexp's words, in lower case.
	var buf [64]byte
	lower := appendLowerASCII(buf[:0], base)
	for _, w := range templateWords {
		if bytes.Contains(lower, []byte(w)) {
			return true
		}
	}
	return bytes.HasSuffix(lower, []byte(".in"))
}

// templateWords are templateNameRe's words.
var templateWords = []string{"template", "tmpl", "tpl", "example", "sample", "dist", "skel"}

// underSecretDir reports whether a path lies in a credential directory
// (~/.ssh, ~/.aws, ~/.docker, ~/.kube, ~/.gnupg).
func underSecretDir(p string) bool {
	for rest, more := path.Clean(p), true; more; {
		var part string
		part, rest, more = strings.Cut(rest, "/")
		if secretDirNames[part] {
			return true
		}
	}
	return false
}

// patternMatch is a credential file of the context below a directory a
// COPY pattern matches: rel is its path inside that directory.
type patternMatch struct{ file, rel string }

// resolvePattern resolves a COPY source pattern against the context's
// credential files as BuildKit does (the part before the first component
// with a wildcard is a directory; the rest is matched against the paths
// below it with path.Match, and a matched directory is copied whole):
// direct are the credential files the pattern matches themselves, under
// those inside a matched directory.
func resolvePattern(glob string, files []string) (direct []string, under []patternMatch) {
	parts := strings.Split(glob, "/")
	i := 0
	for i < len(parts) && !strings.ContainsAny(parts[i], "*?[") {
		i++
	}
	base := strings.Join(parts[:i], "/")
	rest := strings.Join(parts[i:], "/")
	n := len(parts) - i
	for _, f := range files {
		rel := f
		if base != "" {
			if !strings.HasPrefix(f, base+"/") {
				continue
			}
			rel = strings.TrimPrefix(f, base+"/")
		}
		comps := strings.Split(rel, "/")
		if len(comps) < n {
			continue
		}
		head := strings.Join(comps[:n], "/")
		if ok, _ := path.Match(rest, head); !ok {
			continue
		}
		if len(comps) == n {
			direct = append(direct, f)
			continue
		}
		under = append(under, patternMatch{file: f, rel: strings.Join(comps[n:], "/")})
	}
	return direct, under
}

// globMatchesSecretFile reports whether a source pattern can match a
// credential file by name (.npmrc*, *.pem).
func globMatchesSecretFile(glob string) bool {
	base := path.Base(glob)
	for _, pat := range secretFilePatterns {
		if strings.Contains(pat, "/") {
			continue
		}
		name := strings.ReplaceAll(pat, "*", "x")
		if ok, _ := path.Match(base, name); ok {
			return true
		}
	}
	return false
}
