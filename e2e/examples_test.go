package e2e

import (
	"archive/tar"
	"bytes"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/hushbuild/hushbuild/internal/buildcontext"
	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/secretscan"
	"github.com/hushbuild/hushbuild/verify"
)

// requiredExamples are the patterns the suite must cover: if one of them
// stops being buildable offline, TestExamplesIndex fails instead of the
// suite silently testing less.
var requiredExamples = []string{
	"015-seed004-build-arg-defaults",   // secret build-args with defaults (seed 004)
	"108-env-from-arg",                 // ENV from ARG
	"114-rm-netrc-later-run",           // .netrc copied, removed later
	"116-cmd-then-rm-f-root-netrc",     // .netrc copied, removed in the RUN that uses it
	"017-seed004-source-env-legacy",    // a sourced .env
	"111-dotenv-set-a",                 // set -a . ./.env
	"110-script-reads-arg",             // a script that reads the variable without naming it
	"201-npmrc-echo-then-npm-ci",       // npm token echoed into .npmrc, npm ci later
	"202-git-clone-token-url",          // a token clone
	"203-git-insteadof-token",          // an insteadOf rule
	"217-ssh-key-arg-git-clone",        // an SSH key builder stage
	"204-pip-config-set-index-url",     // pip config set
	"012-seed004-demo-clean",           // nothing to rewrite
	"137-env-inherited-by-child-stage", // multi-stage
}

// refusedDespiteIndex are cases the index of examples/README.md calls
// buildable ("yes") but that the engine refuses, with the reason the case's
// own README accepts. They are tested as refusals.
var refusedDespiteIndex = map[string]string{}

// TestExamples builds every example that builds offline the legacy way
// (stock frontend, secrets as build-args and context files) and through
// hushbuild (secrets as --secret/--ssh), and checks (a)-(d) of the package
// documentation.
func TestExamples(t *testing.T) {
	l := needLab(t)
	examples := loadExamples(t, l.examplesDir())
	// TestExamplesIndex checks that the index lists requiredExamples as
	// buildable. The clean multi-stage example of the index (121) needs Go and the
	// network: a stand-in of the same shape.
	examples = append(examples, example{name: "e2e-clean-multistage", dir: filepath.Join("testdata", "clean-multistage"), offline: "yes"})
	for _, ex := range examples {
		if ex.offline != "yes" {
			continue
		}
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			l.testExample(t, ex)
		})
	}
}

// TestLegacyOnlyExamples: the cases the engine must refuse build the legacy
// way, and the hushbuild build stops, naming each error's rule and line and
// showing neither the credential nor the lines holding it.
func TestLegacyOnlyExamples(t *testing.T) {
	l := needLab(t)
	for _, ex := range loadExamples(t, l.examplesDir()) {
		if ex.offline != "legacy only" {
			continue
		}
		t.Run(ex.name, func(t *testing.T) {
			t.Parallel()
			l.testExample(t, ex)
		})
	}
}

// exampleBuild is everything the two builds of an example share.
type exampleBuild struct {
	ex       example
	original []byte // the legacy Dockerfile
	hushed   []byte // the Dockerfile of the hushbuild build: original plus the syntax line
	res      *rewrite.Result
	secrets  *secretSet
	base     string // the context with the canaries filled in
	cfg      rewrite.Config

	legacyFlags, hushFlags []string
	legacyEnv, hushEnv     []string
	// argValues are values for the README's build-args that are not
	// secrets (a URL a real tool must reach), in place of "e2e-NAME".
	argValues map[string]string
}

func (l *labSetup) testExample(t *testing.T, ex example) {
	original, err := os.ReadFile(filepath.Join(ex.dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	b := &exampleBuild{ex: ex, original: original, hushed: withSyntax(l.frontend, original), secrets: newSecretSet(), argValues: l.argValues}
	b.base = copyContext(t, ex.dir)
	b.secrets.fillCredentialFiles(t, b.base)
	// The frontend lists the build context, and reads the files that are
	// credential files by their content (a settings.xml with a password):
	// so does the prediction.
	listing, err := buildcontext.Scan(b.base, filepath.Join(b.base, "Dockerfile"), rewrite.Config{})
	if err != nil {
		t.Fatal(err)
	}
	predictCfg := rewrite.Config{ContextFiles: listing.Files, ContextListed: true, ContextKeys: listing.ByContent()}
	if b.res, err = rewrite.Rewrite(bytes.Clone(b.hushed), predictCfg); err != nil {
		t.Fatalf("the engine cannot read the Dockerfile: %v", err)
	}
	// The files the rewrite names to be read (sourced, copied to a
	// configuration file's name) are read as the frontend reads them.
	// So is a file copied to a credential file's name that the context
	// holds (Result.NamedCopies): it is mounted from the context.
	found := buildcontext.ReadByContent(b.base, b.res.Sourced, b.res.FieldCopies)
	found = append(found, listing.Holding(b.res.NamedCopies)...)
	if len(found) > 0 {
		predictCfg.ContextKeys = append(predictCfg.ContextKeys, found...)
		for _, f := range found {
			if !slices.Contains(predictCfg.ContextFiles, f) {
				predictCfg.ContextFiles = append(predictCfg.ContextFiles, f)
			}
		}
		if b.res, err = rewrite.Rewrite(bytes.Clone(b.hushed), predictCfg); err != nil {
			t.Fatalf("the engine cannot read the Dockerfile: %v", err)
		}
	}
	if text, _, ok := rewrite.FindDirective(b.hushed); ok {
		if b.cfg, err = rewrite.ParseConfig(rewrite.Config{}, text); err != nil {
			t.Fatal(err)
		}
	}
	b.legacyFlags = l.baseImageFlags(t, original)
	b.hushFlags = slices.Clone(b.legacyFlags)
	legacySecrets := b.legacyInputs(t)

	refusal := b.res.Err()
	reason, expectRefusal := refusedDespiteIndex[ex.name]
	switch {
	case ex.offline == "legacy only" || expectRefusal:
		if refusal == nil {
			t.Fatalf("the engine rewrites this example, but the index says it must refuse it (%s)", ex.offline)
		}
		if expectRefusal {
			t.Logf("refused although the index says it builds: %s", reason)
		}
		l.testRefusal(t, b)
		return
	case refusal != nil:
		t.Fatalf("the engine refuses an example the index says builds:\n%v", refusal)
	}
	b.hushInputs(t, legacySecrets)

	legacy, legacyOut := l.buildExample(t, b, "legacy")
	if gap, ok := labGaps[ex.name]; ok {
		l.testLabGap(t, b, gap, legacy)
		return
	}
	if legacy.err != nil {
		t.Fatalf("the legacy build failed: %v\n%s", legacy.err, b.secrets.redact(legacy.out))
	}
	hush, hushOut := l.buildExample(t, b, "hushbuild")
	if hush.err != nil {
		t.Fatalf("the hushbuild build failed: %v\n%s", hush.err, b.secrets.redact(hush.out))
	}
	if len(b.secrets.all) == 0 {
		// Nothing secret goes in (010, 011, 012, 120 ...): only the
		// images are compared.
		l.compareFiles(t, b, legacyOut, hushOut, nil)
		return
	}

	// (a) Positive control: the legacy image leaks, and verify says where.
	legacyRep := scan(t, legacyOut, b.secrets.verifySecrets())
	switch {
	case b.res.Changed && legacyRep.Clean() && l.cacheUnscanned != "":
		t.Logf("(a) the legacy image is clean; its build cache is not scanned on this daemon (%s)", l.cacheUnscanned)
	case b.res.Changed && legacyRep.Clean():
		// The secret is used in a stage that does not reach the image:
		// the leak is in that stage's layers, in the build cache.
		if rep := scan(t, cacheDir(legacyOut), b.secrets.verifySecrets()); rep.Clean() {
			t.Errorf("(a) positive control: neither the legacy image nor its build cache holds a canary, though the engine rewrote the Dockerfile")
		} else {
			t.Logf("(a) the legacy image is clean; its build cache (a stage that does not reach the image) leaks: %s", hitKinds(rep))
		}
	case b.res.Changed:
		t.Logf("(a) legacy image: %d hit(s): %s", len(legacyRep.Hits), hitKinds(legacyRep))
	case !legacyRep.Clean():
		t.Errorf("(a) the engine leaves this Dockerfile alone, but its legacy image holds a secret:%s", hitLines(legacyRep))
	default:
		t.Logf("(a) nothing to rewrite, and the legacy image holds no secret either")
	}

	// (b) The hushbuild image, its build cache and build output hold no
	// secret.
	b.checkClean(t, hushOut, hush.out, l.cacheUnscanned)

	// (c) The commands still saw the credentials.
	legacyTools, hushTools := b.secrets.toolsThatSaw(legacy.out), b.secrets.toolsThatSaw(hush.out)
	if len(legacyTools) == 0 {
		t.Logf("(c) no stand-in tool reported a secret in the legacy build either")
	}
	for id, tools := range legacyTools {
		for _, tool := range tools {
			if !slices.Contains(hushTools[id], tool) {
				t.Errorf("(c) %s saw %s in the legacy build but not in the hushbuild build (it saw: %v)", tool, id, hushTools)
			}
		}
		t.Logf("(c) %s seen by %v (legacy) and %v (hushbuild)", id, tools, hushTools[id])
	}

	// (d) Same files, apart from those that carried a secret.
	l.compareFiles(t, b, legacyOut, hushOut, legacyRep)
}

// buildExample builds the example's Dockerfile through the stock frontend
// ("legacy": secrets as build-args and context files) or through hushbuild
// (with the flags the engine asks for), into an OCI archive with a
// mode=max provenance attestation, and exports the build cache with
// mode=max (every stage's layers) to cacheDir(archive).
func (l *labSetup) buildExample(t *testing.T, b *exampleBuild, kind string) (buildResult, string) {
	t.Helper()
	dir := copyContext(t, b.base)
	flags, env := b.hushFlags, b.hushEnv
	if kind == "legacy" {
		writeFile(t, dir, "Dockerfile", withSyntax(l.stock, b.original))
		flags, env = b.legacyFlags, b.legacyEnv
	} else {
		writeFile(t, dir, "Dockerfile", b.hushed)
	}
	out := filepath.Join(t.TempDir(), kind+".tar")
	cacheTo := cacheDir(out)
	if l.cacheUnscanned != "" {
		cacheTo = ""
	}
	var mark any
	if l.servers != nil {
		mark = l.servers.mark(t, b)
	}
	res := l.buildx(t, buildSpec{dir: dir, flags: flags, env: env, output: out, provenance: true, cacheTo: cacheTo})
	if l.servers != nil && res.err == nil {
		l.servers.check(t, b, kind, mark, res.out)
	}
	return res, out
}

// cacheDir is where the build cache of the build writing archive goes.
func cacheDir(archive string) string { return strings.TrimSuffix(archive, ".tar") + "-cache" }

// checkClean asserts (b): no secret in the hushbuild image or its build
// cache (unless cacheUnscanned says why it cannot be scanned), nor in its
// build output: a command that prints a secret (SecretInLog) prints it
// masked.
func (b *exampleBuild) checkClean(t *testing.T, archive string, out []byte, cacheUnscanned string) {
	t.Helper()
	if rep := scan(t, archive, b.secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("(b) the hushbuild image holds a secret:%s", hitLines(rep))
	}
	if cacheUnscanned != "" {
		t.Logf("(b) the build cache is not scanned on this daemon (%s)", cacheUnscanned)
	} else if rep := scan(t, cacheDir(archive), b.secrets.verifySecrets()); !rep.Clean() {
		t.Errorf("(b) the hushbuild build cache holds a secret:%s", hitLines(rep))
	}
	if found := b.secrets.foundIn(out); len(found) > 0 {
		t.Errorf("(b) the hushbuild build output shows %s:\n%s", strings.Join(found, ", "), b.secrets.redact(out))
	}
	if logged := b.loggedByCommands(); logged != "" && !bytes.Contains(out, []byte("****")) {
		t.Errorf("(b) %s, and the output shows no masked value", logged)
	}
}

// labGaps are examples the lab cannot build yet, with the error their
// legacy build stops on. The test checks that both builds still stop there
// (and that the hushbuild one prints no secret), so that it notices when
// the gap is closed.
var labGaps = map[string]string{}

func (l *labSetup) testLabGap(t *testing.T, b *exampleBuild, gap string, legacy buildResult) {
	t.Helper()
	if legacy.err == nil || !bytes.Contains(legacy.out, []byte(gap)) {
		t.Fatalf("the legacy build no longer stops on %q (%v): remove the example from labGaps", gap, legacy.err)
	}
	hush, _ := l.buildExample(t, b, "hushbuild")
	if hush.err == nil || !bytes.Contains(hush.out, []byte(gap)) {
		t.Errorf("the legacy build stops on %q, the hushbuild build does not (%v):\n%s", gap, hush.err, b.secrets.redact(hush.out))
	}
	if found := b.secrets.foundIn(hush.out); len(found) > 0 {
		t.Errorf("(b) the hushbuild build output shows %s", strings.Join(found, ", "))
	}
	t.Logf("lab gap: both builds stop on %q; the example is not tested further", gap)
}

// legacyInputs turns the README's legacy command into flags: secret
// build-args get canaries (the ssh key for a key), other build-args a
// neutral value, --secret and --ssh get their sources. It returns the
// --secret flags by id.
func (b *exampleBuild) legacyInputs(t *testing.T) map[string]string {
	envReq := map[string]bool{}
	for _, r := range b.res.Requirements {
		if r.Kind == rewrite.SecretEnv {
			envReq[r.ID], envReq[r.Env] = true, true
		}
	}
	bySecretID := map[string]string{}
	for _, f := range b.ex.legacy {
		switch f.name {
		case "--build-arg":
			name, val, _ := strings.Cut(f.value, "=")
			switch v, given := b.argValues[name]; {
			case given:
				b.legacyFlags = append(b.legacyFlags, "--build-arg", name+"="+v)
				b.hushFlags = append(b.hushFlags, "--build-arg", name+"="+v)
			case strings.Contains(val, "id_rsa") || strings.Contains(val, ".ssh/"):
				key := b.secrets.sshKeyFor(t)
				b.legacyFlags = append(b.legacyFlags, "--build-arg", name+"="+key.secret.value)
			case envReq[name] || rewrite.IsSecretName(name, b.cfg):
				b.legacyFlags = append(b.legacyFlags, "--build-arg", name+"="+b.secrets.canary(t, name).value)
			default:
				v := "e2e-" + strings.ToLower(name)
				b.legacyFlags = append(b.legacyFlags, "--build-arg", name+"="+v)
				b.hushFlags = append(b.hushFlags, "--build-arg", name+"="+v)
			}
		case "--secret":
			spec, err := verify.ParseSecretSpec(f.value)
			if err != nil {
				t.Fatalf("README: %v", err)
			}
			switch {
			case spec.Env != "":
				b.legacyEnv = append(b.legacyEnv, spec.Env+"="+b.secrets.canary(t, spec.Env).value)
			case spec.Src != "":
				if _, ok := b.secrets.byFile[spec.Src]; !ok {
					t.Fatalf("README: --secret %s: %s holds no %s", f.value, spec.Src, placeholder)
				}
			}
			b.legacyFlags = append(b.legacyFlags, "--secret", f.value)
			bySecretID[spec.ID] = f.value
		case "--ssh":
			id, _, _ := strings.Cut(f.value, "=")
			b.legacyFlags = append(b.legacyFlags, "--ssh", id+"="+b.secrets.sshKeyFor(t).path)
		}
	}
	return bySecretID
}

// hushInputs turns the engine's requirements into the flags of the
// hushbuild build, as `hushbuild secrets` prints them: environment secrets
// read the canary of the same name, file secrets the context file, ssh the
// test's key. A secret the legacy build already passed with --secret keeps
// that flag.
func (b *exampleBuild) hushInputs(t *testing.T, legacySecrets map[string]string) {
	for _, r := range b.res.Requirements {
		flag, value, ok := strings.Cut(r.Flag, " ")
		if !ok {
			t.Fatalf("requirement %s has no usable flag %q", r.ID, r.Flag)
		}
		if r.Kind != rewrite.SSH {
			if legacy, ok := legacySecrets[r.ID]; ok {
				b.legacySecret(legacy)
				continue
			}
		}
		switch r.Kind {
		case rewrite.SecretEnv:
			env := r.Env
			if env == "" {
				env = r.ID
			}
			v, ok := b.secrets.byName[env]
			if !ok {
				// A credential written in the Dockerfile that the engine
				// turned into a secret (rewrite-hardcoded=true): the
				// legacy build uses the literal, the hushbuild build a
				// canary, and neither may be in the hushbuild image.
				literal, found := literalValue(b.original, r.ID)
				if !found || len(literal) < verify.MinValueLen {
					t.Fatalf("the rewrite needs %s from the variable %s, which the legacy build does not pass, and the Dockerfile has no literal value for it", r.ID, env)
				}
				v = b.secrets.canary(t, env)
				v.needles = append(v.needles, literal)
				v.hashes = append(v.hashes, sha256Hex(literal))
			}
			b.hushEnv = append(b.hushEnv, env+"="+v.value)
		case rewrite.SecretFile:
			if _, err := os.Stat(filepath.Join(b.base, filepath.FromSlash(r.Src))); r.Src == "" || err != nil {
				t.Fatalf("the rewrite needs the file secret %s (%s), which is not in the context", r.ID, r.Flag)
			}
		case rewrite.SSH:
			value = r.ID + "=" + b.secrets.sshKeyFor(t).path
		}
		b.hushFlags = append(b.hushFlags, flag, value)
	}
	// The Dockerfile's own secret mounts (RUN --mount=type=secret,id=npm)
	// take the same --secret flags as in the legacy build: the user's
	// command keeps them, and the rewrite may mount them on more steps
	// (a replayed write).
	required := map[string]bool{}
	for _, r := range b.res.Requirements {
		required[r.ID] = true
	}
	for _, id := range slices.Sorted(maps.Keys(legacySecrets)) {
		if required[id] || !bytes.Contains(b.res.Output, []byte("id="+id)) {
			continue
		}
		b.legacySecret(legacySecrets[id])
	}
	t.Logf("hushbuild flags: %s", strings.Join(redactArgs(b.hushFlags), " "))
}

// legacySecret passes a --secret flag of the legacy build to the hushbuild
// build as it is, with the variable it reads.
func (b *exampleBuild) legacySecret(flag string) {
	b.hushFlags = append(b.hushFlags, "--secret", flag)
	if spec, err := verify.ParseSecretSpec(flag); err == nil && spec.Env != "" {
		if v, ok := b.secrets.byName[spec.Env]; ok {
			b.hushEnv = append(b.hushEnv, spec.Env+"="+v.value)
		}
	}
}

// literalValue returns the literal value that an ENV or an ARG default of
// the Dockerfile gives name.
func literalValue(dockerfile []byte, name string) (string, bool) {
	res, err := parser.Parse(bytes.NewReader(dockerfile))
	if err != nil {
		return "", false
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		return "", false
	}
	args := slices.Clone(metaArgs)
	for _, st := range stages {
		for _, cmd := range st.Commands {
			switch c := cmd.(type) {
			case *instructions.EnvCommand:
				for _, kv := range c.Env {
					if kv.Key == name && !strings.Contains(kv.Value, "$") {
						return kv.Value, true
					}
				}
			case *instructions.ArgCommand:
				args = append(args, *c)
			}
		}
	}
	for _, a := range args {
		for _, kv := range a.Args {
			if kv.Key == name && kv.Value != nil && !strings.Contains(*kv.Value, "$") {
				return *kv.Value, true
			}
		}
	}
	return "", false
}

// loggedByCommands describes the SecretInLog findings: the commands that
// print a secret into the build log by design of the Dockerfile.
func (b *exampleBuild) loggedByCommands() string {
	var lines []string
	for _, f := range b.res.Findings {
		if f.Rule == rewrite.RuleSecretInLog.Name {
			lines = append(lines, fmt.Sprintf("line %d prints it", f.Range.Start))
		}
	}
	return strings.Join(lines, ", ")
}

// compareFiles checks (d): the merged filesystems of the two images differ
// only where the legacy image held a secret.
func (l *labSetup) compareFiles(t *testing.T, b *exampleBuild, legacyOut, hushOut string, legacyRep *verify.Report) {
	t.Helper()
	legacyImg, err := readOCIImage(legacyOut)
	if err != nil {
		t.Fatalf("(d) reading the legacy image: %v", err)
	}
	hushImg, err := readOCIImage(hushOut)
	if err != nil {
		t.Fatalf("(d) reading the hushbuild image: %v", err)
	}
	secretPaths := map[string]bool{}
	if legacyRep != nil {
		for _, h := range legacyRep.Hits {
			if h.Kind == verify.KindLayer && h.Path != "" {
				secretPaths[cleanPath(h.Path)] = true
			}
		}
	}
	var explained, unexplained []string
	diffs := diffFiles(legacyImg.files, hushImg.files)
	for _, d := range diffs {
		why := explainDiff(d, secretPaths, legacyImg.files)
		for _, v := range l.volatile {
			if why == "" && (d.path == v.path || under(d.path, v.path)) {
				why = v.why
			}
		}
		switch why {
		case "":
			unexplained = append(unexplained, d.String())
		default:
			explained = append(explained, d.String()+": "+why)
		}
	}
	for _, e := range explained {
		t.Logf("(d) %s", e)
	}
	if len(unexplained) > 0 {
		t.Errorf("(d) the images' files differ beyond the secret files:\n\t%s", strings.Join(unexplained, "\n\t"))
	} else {
		t.Logf("(d) %d files compared, %d expected difference(s)", len(legacyImg.files), len(explained))
	}
}

// explainDiff says why a difference is expected, or "".
func explainDiff(d fsDiff, secretPaths map[string]bool, legacy map[string]fileInfo) string {
	if secretPaths[d.path] && d.legacy != nil {
		return "held a secret in the legacy image"
	}
	if d.legacy != nil && d.hushed != nil && path.Base(d.path) == "Dockerfile" &&
		d.legacy.typ == d.hushed.typ && d.legacy.mode == d.hushed.mode {
		return "the context's Dockerfile, whose # syntax line names another frontend"
	}
	if d.hushed == nil && d.legacy.typ == tar.TypeDir { // a directory only in the legacy image
		only := true
		n := 0
		for p := range legacy {
			if under(p, d.path) {
				n++
				if !secretPaths[p] && legacy[p].typ != tar.TypeDir {
					only = false
				}
			}
		}
		if only {
			return fmt.Sprintf("a directory that held only secret files (%d entries)", n)
		}
	}
	return ""
}

// testRefusal checks a Dockerfile the engine refuses: the legacy build
// works, the hushbuild build stops before anything runs, naming each error
// finding's rule and line, and shows neither a canary, nor a credential the
// Dockerfile holds, nor the text of the lines holding it.
func (l *labSetup) testRefusal(t *testing.T, b *exampleBuild) {
	legacyDir := copyContext(t, b.base)
	writeFile(t, legacyDir, "Dockerfile", withSyntax(l.stock, b.original))
	legacy := l.buildx(t, buildSpec{dir: legacyDir, flags: b.legacyFlags, env: b.legacyEnv})
	if legacy.err != nil {
		t.Errorf("the legacy build failed, so the refusal proves little: %v\n%s", legacy.err, b.secrets.redact(legacy.out))
	}

	hushDir := copyContext(t, b.base)
	writeFile(t, hushDir, "Dockerfile", b.hushed)
	// The secret build-args of the legacy command are not passed: that
	// is another refusal (TestSecretBuildArgRefused).
	flags := b.hushFlags
	env := b.hushEnv
	if b.secrets.key != nil {
		flags = append(flags, "--ssh", "default="+b.secrets.key.path)
	}
	for rel := range b.secrets.byFile {
		flags = append(flags, "--secret", "id="+rel+",src="+rel)
	}
	hush := l.buildx(t, buildSpec{dir: hushDir, flags: flags, env: env})
	if hush.err == nil {
		t.Fatalf("the hushbuild build of a Dockerfile the engine refuses succeeded:\n%s", b.secrets.redact(hush.out))
	}
	checkRefusalOutput(t, b.secrets, hush.out, b.hushed, b.res)
}

// checkRefusalOutput asserts what a refused build printed.
func checkRefusalOutput(t *testing.T, secrets *secretSet, out, dockerfile []byte, res *rewrite.Result) {
	t.Helper()
	text := secrets.redact(out)
	if found := secrets.foundIn(out); len(found) > 0 {
		t.Errorf("the refused build's output shows %s", strings.Join(found, ", "))
	}
	if probeRe.Match(out) || bytes.Contains(out, []byte("hushbuild-probe")) {
		t.Errorf("a command ran in a build that must stop before anything runs:\n%s", text)
	}
	lines := strings.Split(string(dockerfile), "\n")
	for _, f := range res.Findings {
		if f.Severity < rewrite.SeverityError {
			continue
		}
		want := fmt.Sprintf("line %d: [%s]", f.Range.Start, f.Rule)
		if !strings.Contains(text, want) {
			t.Errorf("the error does not name %q:\n%s", want, text)
		}
		for n := f.Range.Start; n <= f.Range.End && n <= len(lines); n++ {
			line := strings.TrimSpace(strings.TrimSuffix(lines[n-1], "\r"))
			if len(line) > 12 && strings.Contains(string(out), line) {
				t.Errorf("the output shows line %d of the Dockerfile, which holds the credential", n)
			}
		}
	}
	// Credentials written in the Dockerfile, as the pattern rules see
	// them, must not be printed either.
	secretscan.Scan(dockerfile, func(m secretscan.Match) {
		v := dockerfile[m.Offset : m.Offset+int64(m.Len)]
		if len(bytes.TrimSpace(v)) >= 8 && bytes.Contains(out, v) {
			t.Errorf("the output shows the credential the Dockerfile holds (rule %s, offset %d)", m.Rule, m.Offset)
		}
	})
	t.Logf("refused: %s", firstErrorLine(text))
}

// firstErrorLine returns the client's ERROR line and the line after it.
func firstErrorLine(out string) string {
	lines := strings.Split(out, "\n")
	for i, line := range lines {
		if strings.HasPrefix(line, "ERROR") {
			if i+1 < len(lines) && strings.TrimSpace(lines[i+1]) != "" {
				line += " / " + strings.TrimSpace(lines[i+1])
			}
			return line
		}
	}
	return "(no ERROR line)"
}
