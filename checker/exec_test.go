package checker

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hushbuild/hushbuild/verify"
)

// The tests run Exec in a subprocess: this test binary, run again with
// execHelperEnv set, is `hushbuild-frontend exec`.
const execHelperEnv = "HUSHBUILD_TEST_EXEC_HELPER"

func init() {
	if os.Getenv(execHelperEnv) == "1" {
		os.Exit(Exec(os.Args[1:]))
	}
}

// execCanary returns a fresh random secret value.
func execCanary(t *testing.T) string {
	t.Helper()
	b := make([]byte, 16)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return "hc-" + hex.EncodeToString(b)
}

// execRun is one run of the wrapper.
type execRun struct {
	secrets map[string]string // id -> value; ids in sorted order
	missing []string          // ids given without a file (optional)
	caches  []string
	argv    []string
	args    []string // instead of the flags built from the above
	stdin   io.Reader
	dir     string
	env     []string // added to the environment

	// set by run
	secretDir string
	ids       []string
}

type execResult struct {
	stdout, stderr []byte
	code           int
	elapsed        time.Duration
}

func (r *execRun) command(t *testing.T, prefix ...string) *exec.Cmd {
	t.Helper()
	if r.secretDir == "" {
		r.secretDir = t.TempDir()
	}
	for id := range r.secrets {
		r.ids = append(r.ids, id)
	}
	slices.Sort(r.ids)
	for i, id := range r.ids {
		if err := os.WriteFile(filepath.Join(r.secretDir, strconv.Itoa(i)), []byte(r.secrets[id]), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	r.ids = append(r.ids, r.missing...)
	args := r.args
	if args == nil {
		args = []string{"--secrets", r.secretDir}
		for _, id := range r.ids {
			args = append(args, "--id", id)
		}
		for _, c := range r.caches {
			args = append(args, "--cache", c)
		}
		args = append(append(args, "--"), r.argv...)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	argv := append(append(prefix, self), args...)
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = append(append(os.Environ(), execHelperEnv+"=1", "D="+r.secretDir), r.env...)
	cmd.Dir = r.dir
	cmd.Stdin = r.stdin
	return cmd
}

func (r *execRun) run(t *testing.T, prefix ...string) execResult {
	t.Helper()
	cmd := r.command(t, prefix...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	begin := time.Now()
	err := cmd.Run()
	res := execResult{stdout: out.Bytes(), stderr: errb.Bytes(), elapsed: time.Since(begin)}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		res.code = ee.ExitCode()
	default:
		t.Fatalf("running the wrapper: %v", err)
	}
	return res
}

// redact replaces every form of every secret value in b, for messages.
func redact(b []byte, secrets map[string]string) string {
	s := string(b)
	for id, v := range secrets {
		for _, n := range verify.Needles(v) {
			s = strings.ReplaceAll(s, string(n.Value), "<"+id+":"+n.Encoding+">")
		}
		if v != "" {
			s = strings.ReplaceAll(s, v, "<"+id+">")
		}
	}
	return s
}

// noSecret fails if b holds a secret value in any encoding; it says
// where, never the value.
func noSecret(t *testing.T, where string, b []byte, secrets map[string]string) {
	t.Helper()
	for id, v := range secrets {
		if v != "" && bytes.Contains(b, []byte(v)) {
			t.Errorf("%s holds secret %s (raw)", where, id)
		}
		for _, n := range verify.Needles(v) {
			if bytes.Contains(b, n.Value) {
				t.Errorf("%s holds secret %s (%s)", where, id, n.Encoding)
			}
		}
	}
}

func checkExit(t *testing.T, res execResult, want int, secrets map[string]string) {
	t.Helper()
	if res.code != want {
		t.Fatalf("exit code %d, want %d; stdout %q; stderr %q", res.code, want, redact(res.stdout, secrets), redact(res.stderr, secrets))
	}
}

func TestExecMasksOutput(t *testing.T) {
	t.Parallel()
	secret := execCanary(t)
	other := execCanary(t)
	secrets := map[string]string{"api_token": secret, "npmrc": "//registry/:_authToken=" + other + "\n"}
	script := `s=$(cat "$D/0")
printf 'before %s' "$(printf %s "$s" | head -c 7)"; sleep 0.2
printf '%s after\n' "$(printf %s "$s" | tail -c +8)"
printf 'err %s' "$(printf %s "$s" | head -c 12)" >&2; sleep 0.2
printf '%s end\n' "$(printf %s "$s" | tail -c +13)" >&2
printf 'b64 %s\n' "$(printf %s "$s" | base64 | tr -d '\n')"
printf 'field [%s]\n' "$(cut -d= -f2 "$D/1")"
printf 'partial %s' "$(printf %s "$s" | head -c 5)"`
	r := &execRun{secrets: secrets, argv: []string{"/bin/sh", "-c", script}}
	res := r.run(t)
	checkExit(t, res, 0, secrets)
	noSecret(t, "stdout", res.stdout, secrets)
	noSecret(t, "stderr", res.stderr, secrets)
	lines := strings.Split(string(res.stdout), "\n")
	if len(lines) != 4 || lines[0] != "before "+Replacement+" after" || !strings.HasPrefix(lines[1], "b64 "+Replacement) ||
		lines[2] != "field ["+Replacement+"]" || lines[3] != "partial "+secret[:5] {
		t.Errorf("stdout %q", redact(res.stdout, secrets))
	}
	if string(res.stderr) != "err "+Replacement+" end\n" {
		t.Errorf("stderr %q", redact(res.stderr, secrets))
	}
}

func TestExecMasksOutputLarge(t *testing.T) {
	t.Parallel()
	secret := execCanary(t)
	secrets := map[string]string{"tok": secret}
	// A few megabytes with the secret every 4000 bytes, written in odd
	// pieces by dd.
	script := `i=0; while [ $i -lt 1000 ]; do printf '%04000d%s' 0 "$(cat "$D/0")"; i=$((i+1)); done | dd bs=997 2>/dev/null`
	r := &execRun{secrets: secrets, argv: []string{"/bin/sh", "-c", script}}
	res := r.run(t)
	checkExit(t, res, 0, secrets)
	noSecret(t, "stdout", res.stdout, secrets)
	if n := bytes.Count(res.stdout, []byte(Replacement)); n != 1000 {
		t.Errorf("%d replacements, want 1000", n)
	}
	if len(res.stdout) != 1000*(4000+len(Replacement)) {
		t.Errorf("stdout has %d bytes", len(res.stdout))
	}
}

func TestExecExitCodes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		script string
		want   int
	}{
		{"exit 0", 0},
		{"exit 3", 3},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
	} {
		r := &execRun{secrets: map[string]string{"s": execCanary(t)}, argv: []string{"sh", "-c", tc.script}}
		if res := r.run(t); res.code != tc.want {
			t.Errorf("%q: exit code %d, want %d (stderr %q)", tc.script, res.code, tc.want, redact(res.stderr, r.secrets))
		}
	}
}

func TestExecStdinEnvCwd(t *testing.T) {
	t.Parallel()
	secret := execCanary(t)
	secrets := map[string]string{"s": secret}
	r := &execRun{secrets: secrets, argv: []string{"cat"}, stdin: strings.NewReader("in: " + secret + " :out\n")}
	res := r.run(t)
	checkExit(t, res, 0, secrets)
	if string(res.stdout) != "in: "+Replacement+" :out\n" {
		t.Errorf("stdin through cat: %q", redact(res.stdout, secrets))
	}

	// The environment and working directory are the wrapper's own:
	// compare with the same command run directly.
	dir := t.TempDir()
	r = &execRun{secrets: secrets, argv: []string{"sh", "-c", `pwd; env | LC_ALL=C sort`}, dir: dir, env: []string{"HUSHBUILD_TEST_VAR=a b=c"}}
	res = r.run(t)
	checkExit(t, res, 0, secrets)
	direct := r.command(t)
	direct.Path, direct.Args = "/bin/sh", []string{"sh", "-c", `pwd; env | LC_ALL=C sort`}
	want, err := direct.Output()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(res.stdout, want) {
		t.Errorf("environment or working directory differ:\n wrapped: %q\n direct:  %q", res.stdout, want)
	}
	if !bytes.HasPrefix(res.stdout, []byte(dir+"\n")) {
		t.Errorf("working directory: %q", strings.SplitN(string(res.stdout), "\n", 2)[0])
	}
}

func TestExecStartErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	noexec := filepath.Join(dir, "noexec")
	if err := os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		argv0 string
		want  int
		msg   string
	}{
		{"hushbuild-no-such-command", 127, `exec: "hushbuild-no-such-command": executable file not found in $PATH`},
		{"./hushbuild-no-such-command", 127, `exec: "./hushbuild-no-such-command": stat ./hushbuild-no-such-command: no such file or directory`},
		{noexec, 126, `exec: "` + noexec + `": permission denied`},
	} {
		r := &execRun{secrets: map[string]string{"s": execCanary(t)}, argv: []string{tc.argv0, "arg"}, dir: dir}
		res := r.run(t)
		if res.code != tc.want || !strings.Contains(string(res.stderr), tc.msg) || len(res.stdout) != 0 {
			t.Errorf("%s: exit code %d (want %d), stderr %q", tc.argv0, res.code, tc.want, redact(res.stderr, r.secrets))
		}
	}
	// A name without a slash is looked up on the PATH Exec runs with.
	bin := t.TempDir()
	if err := os.WriteFile(filepath.Join(bin, "hushbuild-hello"), []byte("#!/bin/sh\necho hello \"$@\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := &execRun{secrets: map[string]string{"s": execCanary(t)}, argv: []string{"hushbuild-hello", "x"}, env: []string{"PATH=" + bin + ":/usr/bin:/bin"}}
	res := r.run(t)
	checkExit(t, res, 0, r.secrets)
	if string(res.stdout) != "hello x\n" {
		t.Errorf("stdout %q", res.stdout)
	}
}

func TestExecFailsClosed(t *testing.T) {
	t.Parallel()
	// Bad arguments.
	for _, args := range [][]string{
		{"--secrets", "/nonexistent", "--id", "a", "true"},
		{"--secrets", "/nonexistent", "--id", "a", "--"},
		{"--bogus", "x", "--", "true"},
		{"--id"},
	} {
		r := &execRun{args: args}
		if res := r.run(t); res.code != ExitInternal {
			t.Errorf("%q: exit code %d, want %d", args, res.code, ExitInternal)
		}
	}
	// A secret that cannot be read: the command does not run.
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "0"), 0o755); err != nil {
		t.Fatal(err)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	r := &execRun{args: []string{"--secrets", dir, "--id", "deploy_key", "--", "touch", marker}}
	res := r.run(t)
	if res.code != ExitInternal || !strings.Contains(string(res.stderr), "secret deploy_key") {
		t.Errorf("unreadable secret: exit code %d, stderr %q", res.code, res.stderr)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran although its output could not be masked")
	}
}

func TestExecOptionalAndShortSecrets(t *testing.T) {
	t.Parallel()
	secrets := map[string]string{"pin": "4711\n"}
	r := &execRun{secrets: secrets, missing: []string{"absent"}, argv: []string{"sh", "-c", `echo "pin [$(cat "$D/0")]"; cat "$D/1" 2>/dev/null; echo done`}}
	res := r.run(t)
	checkExit(t, res, 0, secrets)
	if string(res.stdout) != "pin ["+Replacement+"]\ndone\n" {
		t.Errorf("stdout %q", redact(res.stdout, secrets))
	}
	if !strings.Contains(string(res.stderr), "secret pin is shorter than") {
		t.Errorf("no note about the short secret: %q", redact(res.stderr, secrets))
	}
}

func TestExecForwardsSignals(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		sig  syscall.Signal
		name string
	}{{syscall.SIGTERM, "TERM"}, {syscall.SIGUSR1, "USR1"}, {syscall.SIGHUP, "HUP"}, {syscall.SIGINT, "INT"}} {
		sig, name := tc.sig, tc.name
		script := `trap 'echo got; exit 7' ` + name + `
echo ready
while :; do sleep 0.05; done`
		r := &execRun{secrets: map[string]string{"s": execCanary(t)}, argv: []string{"sh", "-c", script}}
		cmd := r.command(t)
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(out)
		line, err := br.ReadString('\n')
		if err != nil || line != "ready\n" {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("%s: first line %q, %v", name, line, err)
		}
		if err := cmd.Process.Signal(sig); err != nil {
			t.Fatal(err)
		}
		rest, _ := io.ReadAll(br)
		err = cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 || string(rest) != "got\n" {
			t.Errorf("%s: %v, output %q", name, err, rest)
		}
	}
}

func TestExecBackgroundProcess(t *testing.T) {
	t.Parallel()
	secret := execCanary(t)
	secrets := map[string]string{"s": secret}
	pidFile := filepath.Join(t.TempDir(), "bg.pid")
	// The background process holds the output pipes: the wrapper stops
	// reading them 2 s after the command exited.
	r := &execRun{secrets: secrets, argv: []string{"sh", "-c", `sleep 100 & echo $! > "$P"; echo started; cat "$D/0"`}, env: []string{"P=" + pidFile}}
	res := r.run(t)
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		}
	}
	checkExit(t, res, 0, secrets)
	if string(res.stdout) != "started\n"+Replacement {
		t.Errorf("stdout %q", redact(res.stdout, secrets))
	}
	if res.elapsed < pipeGrace || res.elapsed > pipeGrace+3*time.Second {
		t.Errorf("took %v, want about %v", res.elapsed, pipeGrace)
	}

	// One that does not hold them does not delay the end.
	r = &execRun{secrets: secrets, argv: []string{"sh", "-c", `sleep 100 >/dev/null 2>&1 & echo $! > "$P"; echo started`}, env: []string{"P=" + pidFile}}
	res = r.run(t)
	if b, err := os.ReadFile(pidFile); err == nil {
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			t.Cleanup(func() { syscall.Kill(pid, syscall.SIGKILL) })
		}
	}
	checkExit(t, res, 0, secrets)
	if res.elapsed > pipeGrace {
		t.Errorf("took %v", res.elapsed)
	}
}

func TestExecCacheScan(t *testing.T) {
	t.Parallel()
	secret := execCanary(t)
	secrets := map[string]string{"api_token": secret}
	cache := t.TempDir()
	other := t.TempDir()
	// An old file holds the secret too: a cache mount keeps what earlier
	// builds wrote, and only what this step wrote is its doing. The
	// scan widens "since the step started" by a few seconds, so the old
	// file must be older than that (its ctime cannot be set back).
	old := filepath.Join(cache, "old.txt")
	if err := os.WriteFile(old, []byte("old "+secret), 0o644); err != nil {
		t.Fatal(err)
	}
	time.Sleep(cacheSlack + ChangedSinceSlack + 500*time.Millisecond)

	r := &execRun{secrets: secrets, caches: []string{cache, other}, argv: []string{"sh", "-c",
		`mkdir -p "$C/sub"; cat "$D/0" > "$C/sub/new.txt"; echo clean > "$C/clean.txt"; base64 "$D/0" > "$O/b64"; exit 3`},
		env: []string{"C=" + cache, "O=" + other}}
	res := r.run(t)
	checkExit(t, res, ExitLeak, secrets)
	noSecret(t, "stderr", res.stderr, secrets)
	noSecret(t, "stdout", res.stdout, secrets)
	tail := "; the file was removed from the cache. A cache mount outlives the step: write credentials outside it, or remove them before the step ends.\n"
	for _, want := range []string{
		"hushbuild: secret api_token (raw) was written to the cache mount " + cache + " at /sub/new.txt" + tail,
		"hushbuild: secret api_token (base64) was written to the cache mount " + other + " at /b64" + tail,
	} {
		if !strings.Contains(string(res.stderr), want) {
			t.Errorf("stderr lacks %q:\n%s", want, redact(res.stderr, secrets))
		}
	}
	if strings.Contains(string(res.stderr), "old.txt") {
		t.Errorf("the old file was reported: %s", redact(res.stderr, secrets))
	}
	for _, p := range []string{filepath.Join(cache, "sub", "new.txt"), filepath.Join(other, "b64")} {
		if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s was not removed (%v)", p, err)
		}
	}
	for _, p := range []string{old, filepath.Join(cache, "clean.txt")} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}

	// Nothing written: the command's own exit code.
	r = &execRun{secrets: secrets, caches: []string{cache}, argv: []string{"sh", "-c", `echo fine > "$C/fine"; exit 3`}, env: []string{"C=" + cache}}
	res = r.run(t)
	checkExit(t, res, 3, secrets)
}

// TestExecPID1 runs the wrapper as the first process of a new PID
// namespace, as in a container: it reaps orphans, and once the command
// exited it kills what is left instead of waiting for the pipes.
func TestExecPID1(t *testing.T) {
	t.Parallel()
	unshare, err := exec.LookPath("unshare")
	if err != nil {
		t.Skip("no unshare")
	}
	if os.Geteuid() != 0 {
		t.Skip("not root")
	}
	probe := exec.Command(unshare, "--pid", "--fork", "--mount-proc", "true")
	if out, err := probe.CombinedOutput(); err != nil {
		t.Skipf("unshare --pid does not work here: %v %s", err, out)
	}
	secret := execCanary(t)
	secrets := map[string]string{"s": secret}
	script := `echo "ppid=$PPID"
for i in 1 2 3; do (sh -c 'exit 0' &); done
(sleep 100 &)
sleep 0.5
z=0
for f in /proc/[0-9]*/stat; do
	read -r l < "$f" || continue
	set -- $l
	[ "$3" = Z ] && z=$((z+1))
done
echo "zombies=$z"
cat "$D/0"
exit 5`
	r := &execRun{secrets: secrets, argv: []string{"sh", "-c", script}}
	res := r.run(t, unshare, "--pid", "--fork", "--mount-proc")
	checkExit(t, res, 5, secrets)
	if want := "ppid=1\nzombies=0\n" + Replacement; string(res.stdout) != want {
		t.Errorf("stdout %q, want %q", redact(res.stdout, secrets), want)
	}
	// The sleep left behind holds the pipes: killed, it does not make
	// the wrapper wait out pipeGrace.
	if res.elapsed > pipeGrace {
		t.Errorf("took %v: what the command left behind was not killed", res.elapsed)
	}
}
