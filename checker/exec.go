package checker

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/hushbuild/hushbuild/internal/mask"
	"github.com/hushbuild/hushbuild/verify"
)

// Exit codes of Exec besides the command's own.
const (
	// ExitLeak: the command wrote a secret into a cache mount. The files
	// holding it were removed from the cache (if that failed, stderr says
	// so), and the step fails: a cache mount outlives the step.
	ExitLeak = 86
	// ExitInternal: Exec could not do its job and did not run the command
	// (bad arguments, secrets that cannot be read, a mask that cannot be
	// built), or could not scan a cache mount after it. Exec fails closed:
	// it never runs a command whose output it cannot mask.
	ExitInternal = 87
)

// Exit codes for a command that cannot be started, as a shell (and
// BuildKit's runc) reports them.
const (
	exitNotFound   = 127
	exitCannotExec = 126
)

// Replacement is what Exec writes in place of a secret value in the
// command's output.
const Replacement = "****"

// pipeGrace is how long Exec keeps reading the command's output after the
// command exited, when processes it left behind still hold the pipes (and
// Exec is not PID 1, so they are not killed).
const pipeGrace = 2 * time.Second

// cacheSlack is how much older than Exec's start a cache file may be and
// still be scanned (file system timestamps are coarse).
const cacheSlack = 2 * time.Second

// forwarded are the signals Exec passes on to the command.
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2}

// Exec runs a build step's command under supervision; args are what
// follows `hushbuild-frontend exec`:
//
//	--secrets DIR --id ID0 [--id ID1 ...] [--cache PATH ...] [--fingerprint FP ...] -- COMMAND [ARG...]
//
// (--fingerprint is ignored: the frontend puts the secrets' fingerprints
// there so that the step's cache key depends on their values.)
//
// Secret ids[i] is read from DIR/<i> (a missing file is an optional secret
// that was not given). The command is looked up as runc would (a name
// without a slash on $PATH) and started with Exec's own environment,
// working directory and stdin; its stdout and stderr pass through pipes
// and reach Exec's own with every secret value, in every encoding package
// verify knows (verify.Needles), replaced by Replacement, however the
// output is cut into writes. SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1 and
// SIGUSR2 are forwarded to the command.
//
// As PID 1 (the container's first process), Exec also reaps every orphan
// and, once the command exited, kills every process left in the PID
// namespace, as the container's end would have. Otherwise it waits for
// the command only, and stops reading its output pipes 2 s after it
// exited if something left behind still holds them.
//
// After that, each --cache PATH (a cache mount of the step) is scanned for
// files changed since the step started that hold a secret: each is
// removed, reported on stderr by secret id, encoding and path (never the
// value), and Exec returns ExitLeak. Otherwise it returns the command's
// exit status (128+N if signal N killed it; 127 if the command was not
// found, 126 if it could not be executed). ExitInternal says Exec could
// not do its job; it never runs the command unmasked.
func Exec(args []string) int {
	// Not dumpable: /proc/<pid>/fd of the wrapper is then closed to the
	// step's processes (even root lacks CAP_SYS_PTRACE in a build step),
	// so they cannot write to the log around the masks through
	// /proc/1/fd/1. The command's own execve makes it dumpable again.
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	return runExec(args, os.Stdin, os.Stdout, os.Stderr)
}

type execOptions struct {
	secrets string
	ids     []string
	caches  []string
	argv    []string
}

// parseExecArgs reads Exec's arguments. Flags take their value as the
// next argument or after "="; "--" ends them and is required.
func parseExecArgs(args []string) (execOptions, error) {
	var o execOptions
	haveSecrets := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			o.argv = args[i+1:]
			if len(o.argv) == 0 {
				return o, errors.New("no command after --")
			}
			if !haveSecrets && len(o.ids) > 0 {
				return o, errors.New("--id without --secrets")
			}
			return o, nil
		}
		name, val, hasVal := strings.Cut(a, "=")
		switch name {
		case "--secrets", "-secrets", "--id", "-id", "--cache", "-cache", "--fingerprint", "-fingerprint":
		default:
			return o, fmt.Errorf("unknown argument %q (the command must follow --)", a)
		}
		if !hasVal {
			if i+1 >= len(args) {
				return o, fmt.Errorf("%s needs a value", name)
			}
			i++
			val = args[i]
		}
		switch strings.TrimLeft(name, "-") {
		case "secrets":
			o.secrets, haveSecrets = val, true
		case "id":
			o.ids = append(o.ids, val)
		case "cache":
			if val == "" {
				return o, errors.New("--cache needs a path")
			}
			o.caches = append(o.caches, val)
		}
	}
	return o, errors.New("missing -- before the command")
}

// execValue is one secret value to mask, named by its secret's id.
type execValue struct {
	id    string
	value string
	// pieces: its pieces are masked too (see maskPieces); for the values
	// LoadSecrets searches, not the broader ones only masked whole.
	pieces bool
}

// execSecrets are the build's secrets as Exec needs them: the values to
// mask, notes for the user, and the compiled secrets to scan cache mounts
// for.
type execSecrets struct {
	values  []execValue
	notes   []string
	secrets *Secrets
}

// loadExecSecrets loads the secrets Exec masks and scans for: what
// LoadSecrets searches for, every field verify.FileSecrets reads from a
// secret file, and, raw, each whole secret too short to search for
// (masking more in the output costs only readability).
func loadExecSecrets(dir string, ids []string) (*execSecrets, error) {
	s, err := LoadSecrets(dir, ids)
	if err != nil {
		return nil, err
	}
	es := &execSecrets{secrets: s}
	for _, v := range s.values {
		es.values = append(es.values, execValue{v.ID, v.Value, true})
	}
	for i, id := range ids {
		data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", id, err)
		}
		// Every field of the file, as hushbuild verify reads it (a .env's
		// SLACK_WEBHOOK_URL, a plain-looking password): the log may show
		// more masks than the layer check searches values.
		broad, _ := verify.FileSecrets(id, id, data)
		for _, v := range broad {
			es.values = append(es.values, execValue{id: v.ID, value: v.Value})
		}
		if t := strings.TrimSpace(string(data)); t != "" && len(t) < verify.MinValueLen {
			es.values = append(es.values, execValue{id: id, value: t})
			es.notes = append(es.notes, fmt.Sprintf("secret %s is shorter than %d bytes: every occurrence of it in the step's output is masked", id, verify.MinValueLen))
		}
	}
	return es, nil
}

func runExec(args []string, stdin, stdout, stderr *os.File) int {
	start := time.Now()
	fail := func(format string, a ...any) int {
		fmt.Fprintf(stderr, "hushbuild: "+format+"\n", a...)
		return ExitInternal
	}
	o, err := parseExecArgs(args)
	if err != nil {
		return fail("exec: %v", err)
	}
	secrets := &execSecrets{}
	if len(o.ids) > 0 || o.secrets != "" {
		secrets, err = loadExecSecrets(o.secrets, o.ids)
		if err != nil {
			return fail("cannot read the build's secrets, so the step's output cannot be masked: %v", err)
		}
	}
	masks, maskNotes, err := maskSet(secrets.values)
	if err != nil {
		return fail("%v", err)
	}
	for _, n := range append(secrets.notes, maskNotes...) {
		fmt.Fprintf(stderr, "hushbuild: %s\n", n)
	}

	// Catch the signals to forward before the command exists, so that
	// none is lost in between. SIGPIPE is caught so that a closed stdout
	// makes writes fail instead of killing Exec (and, unlike ignoring it,
	// catching is not inherited by the command).
	sigs := make(chan os.Signal, 32)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	pipeSig := make(chan os.Signal, 1)
	signal.Notify(pipeSig, syscall.SIGPIPE)
	defer signal.Stop(pipeSig)

	path, err := exec.LookPath(o.argv[0])
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: unable to start the step's command: %v\n", err)
		return startExitCode(err)
	}
	outR, outW, err := os.Pipe()
	if err != nil {
		return fail("exec: %v", err)
	}
	errR, errW, err := os.Pipe()
	if err != nil {
		return fail("exec: %v", err)
	}
	proc, err := os.StartProcess(path, o.argv, &os.ProcAttr{Files: []*os.File{stdin, outW, errW}})
	outW.Close()
	errW.Close()
	if err != nil {
		outR.Close()
		errR.Close()
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = &exec.Error{Name: o.argv[0], Err: pe.Err}
		}
		fmt.Fprintf(stderr, "hushbuild: unable to start the step's command: %v\n", err)
		return startExitCode(err)
	}

	var copying sync.WaitGroup
	for _, c := range []struct {
		r *os.File
		w io.Writer
	}{{outR, stdout}, {errR, stderr}} {
		m := masks.Writer(c.w, []byte(Replacement))
		copying.Add(1)
		go func() {
			defer copying.Done()
			drain(c.r, m)
		}()
	}

	forwarding := make(chan struct{})
	go func() {
		defer close(forwarding)
		for s := range sigs {
			_ = proc.Signal(s) // fails only once the command is gone
		}
	}()

	var status syscall.WaitStatus
	if os.Getpid() == 1 {
		status = reapAll(proc.Pid)
	} else {
		ps, err := proc.Wait()
		if err != nil {
			return fail("exec: waiting for the command: %v", err)
		}
		status = ps.Sys().(syscall.WaitStatus)
	}
	signal.Stop(sigs)
	close(sigs)
	<-forwarding

	// Read the output to its end; stop after pipeGrace if processes left
	// behind still hold the pipes.
	drained := make(chan struct{})
	go func() { copying.Wait(); close(drained) }()
	select {
	case <-drained:
	case <-time.After(pipeGrace):
		past := time.Unix(1, 0)
		outR.SetReadDeadline(past)
		errR.SetReadDeadline(past)
		<-drained
	}

	code := exitCode(status)
	leaked := false
	for _, root := range o.caches {
		if secrets.secrets == nil {
			break // no secret: nothing to find
		}
		rep, err := ScanTree(root, secrets.secrets, ScanOptions{ChangedSince: start.Add(-cacheSlack), Remove: true})
		if rep != nil {
			for _, f := range rep.Findings {
				leaked = true
				if err != nil {
					fmt.Fprintf(stderr, "hushbuild: secret %s (%s) was written to the cache mount %s at %s. A cache mount outlives the step: write credentials outside it, or remove them before the step ends.\n",
						f.Secret, f.Encoding, root, f.Path)
				} else {
					fmt.Fprintf(stderr, "hushbuild: secret %s (%s) was written to the cache mount %s at %s; the file was removed from the cache. A cache mount outlives the step: write credentials outside it, or remove them before the step ends.\n",
						f.Secret, f.Encoding, root, f.Path)
				}
			}
		}
		if err != nil {
			fmt.Fprintf(stderr, "hushbuild: cannot scan the cache mount %s for secrets, or remove them from it: %v\n", root, err)
			if !leaked {
				return ExitInternal
			}
		}
	}
	if leaked {
		return ExitLeak
	}
	return code
}

// drain copies r through m to its end (or until r's read deadline passes),
// then flushes m. A failing write does not stop the reading: the command
// must not block on a full pipe.
func drain(r *os.File, m *mask.Writer) {
	defer r.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			_, _ = m.Write(buf[:n])
		}
		if err != nil {
			break
		}
	}
	_ = m.Close()
}

// reapAll waits for every child of PID 1, orphans included, until none is
// left, and returns the status of the command (pid main). Once the
// command exited, it kills every process left in the PID namespace.
func reapAll(main int) syscall.WaitStatus {
	if os.Getpid() != 1 {
		panic("checker: reapAll outside PID 1")
	}
	var status syscall.WaitStatus
	for {
		var ws syscall.WaitStatus
		pid, err := syscall.Wait4(-1, &ws, 0, nil)
		if err == syscall.EINTR {
			continue
		}
		if err != nil { // ECHILD: nothing left
			return status
		}
		if pid == main {
			status = ws
			// The container ends with its first process: nothing
			// the command started may outlive it. As PID 1, -1 is
			// every other process of the namespace.
			_ = syscall.Kill(-1, syscall.SIGKILL)
		}
	}
}

// exitCode is a shell's view of a process's end.
func exitCode(ws syscall.WaitStatus) int {
	switch {
	case ws.Exited():
		return ws.ExitStatus()
	case ws.Signaled():
		return 128 + int(ws.Signal())
	}
	return ExitInternal
}

// startExitCode is the shell's exit code for a command that could not be
// started: 127 when it does not exist, 126 when it cannot be executed.
func startExitCode(err error) int {
	if errors.Is(err, exec.ErrNotFound) || errors.Is(err, fs.ErrNotExist) {
		return exitNotFound
	}
	return exitCannotExec
}

// maxRawMask bounds the whole values and lines masked raw besides the
// needles (see maskSet).
const maxRawMask = 16 << 10

// maskSet compiles the byte strings to mask for values: each value's
// needles in every encoding (verify.Needles). A value longer than
// verify.MaxNeedleLen has needles for its middle only, so the whole value
// and each of its lines are masked too, raw (up to maxRawMask bytes
// each); so is a value too short to have a raw needle. The pieces of the
// values marked so are masked too (see maskPieces), up to maxPieceBytes
// in all: a note says which values' pieces are not.
func maskSet(values []execValue) (*mask.Set, []string, error) {
	patterns, notes := maskPatterns(values, true)
	set, err := mask.Compile(patterns)
	if err != nil {
		var ids []string
		for _, v := range values {
			ids = append(ids, v.id)
		}
		return nil, nil, fmt.Errorf("cannot mask the secrets %s in the step's output: %v", strings.Join(dedupe(ids), ", "), err)
	}
	return set, notes, nil
}

// maskPatterns returns what maskSet masks; without pieces, the needles
// and raw forms only (for the benchmarks).
func maskPatterns(values []execValue, pieces bool) ([][]byte, []string) {
	var patterns [][]byte
	var notes []string
	seen := map[string]bool{}
	add := func(b []byte) {
		if len(b) > 0 && len(b) <= maxRawMask && !seen[string(b)] {
			seen[string(b)] = true
			patterns = append(patterns, b)
		}
	}
	budget := maxPieceBytes
	for _, v := range values {
		if pieces && v.pieces {
			ps := maskPieces(v.value)
			n := 0
			for _, p := range ps {
				if !seen[string(p)] {
					n += len(p)
				}
			}
			if n > budget {
				notes = append(notes, fmt.Sprintf("secret %s: too many secret values to also mask their pieces (a value wrapped over lines, cut in a hex dump) in the step's output: only whole values are masked", v.id))
			} else {
				budget -= n
				for _, p := range ps {
					add(p)
				}
			}
		}
		for _, n := range verify.Needles(v.value) {
			add(n.Value)
		}
		t := strings.TrimSpace(v.value)
		add([]byte(t)) // the needles' raw form, unless too short or too long
		if len(t) > verify.MaxNeedleLen {
			for _, line := range strings.Split(t, "\n") {
				if line = strings.TrimSpace(line); len(line) >= verify.MinValueLen {
					add([]byte(line))
				}
			}
		}
	}
	return patterns, dedupe(notes)
}

// Pieces: a value's forms cut into overlapping pieces, each masked on its
// own, so that a form the output shows in parts is masked part by part:
// base64 wrapped over lines (base64, openssl, set -x printing a variable),
// the whole length of a long value's encodings (whose needles cover the
// middle only), and hex dumps (xxd's grouped hex, and its text column of
// 16 bytes a line). A piece is masked wherever it is; pieces of one
// occurrence overlap, and are masked as one.
const (
	// rawPiece is the length of the raw pieces: xxd prints 16 bytes a
	// line. A value shorter has no pieces.
	rawPiece = 16
	// encPiece is the length of the pieces of the other forms, taken
	// every encStride bytes (every longStride of a value longer than
	// maxShortPieces): a part of a form of encPiece+stride-1 bytes or
	// more is masked whole, as is the whole form.
	encPiece       = 24
	encStride      = 4
	longStride     = 8
	maxShortPieces = 512
	// maxPieceValue bounds the values cut into pieces: a longer one (a
	// key file) is masked whole and by its lines only.
	maxPieceValue = 8 << 10
	// maxPieceBytes bounds the pieces of all values: they grow the
	// masker's automaton (about 100 bytes per piece byte).
	maxPieceBytes = 64 << 10
)

// maskPieces returns the pieces to mask for v (see rawPiece): of a value
// of one line of rawPiece to maxPieceValue bytes, the raw pieces (every
// rawPiece bytes from each byte; every longStride bytes past
// maxShortPieces), and pieces of its other forms: every form
// verify.Encodings knows, its xxd hex (two bytes a group, at both
// alignments) and its hexdump -C hex (a byte a group), or for a value longer than maxShortPieces its base64 forms
// only (a long token in a Basic header).
func maskPieces(v string) [][]byte {
	v = strings.TrimSpace(v)
	if len(v) >= verify.MinValueLen && len(v) < rawPiece && !strings.ContainsAny(v, "\n\r") {
		return shortDumps(v)
	}
	if len(v) < rawPiece || len(v) > maxPieceValue || strings.ContainsAny(v, "\n\r") {
		return nil
	}
	long := len(v) > maxShortPieces
	var out [][]byte
	cut := func(f string, m, stride int) {
		if len(f) <= m {
			return
		}
		for i := 0; i+m <= len(f); i += stride {
			out = append(out, []byte(f[i:i+m]))
		}
		out = append(out, []byte(f[len(f)-m:]))
	}
	if long {
		cut(v, rawPiece, longStride)
	} else {
		cut(v, rawPiece, 1)
	}
	for _, n := range verify.Encodings(v) {
		switch {
		case n.Encoding == verify.EncRaw, n.Encoding == verify.EncUTF16:
			// UTF-16 is masked whole: a terminal shows no piece of it.
		case long && n.Encoding == verify.EncBase64:
			cut(string(n.Value), encPiece, longStride)
		case !long:
			cut(string(n.Value), encPiece, encStride)
		}
	}
	if !long {
		for _, f := range xxdHex(v) {
			cut(f, encPiece, encStride)
		}
		// hexdump -C and od -An -tx1: a byte a group; hexdump puts two
		// spaces after 8 bytes, so these pieces fit in 8 bytes.
		var spaced strings.Builder
		for i := 0; i < len(v); i++ {
			if i > 0 {
				spaced.WriteByte(' ')
			}
			spaced.WriteString(hex.EncodeToString([]byte{v[i]}))
		}
		cut(spaced.String(), spacedPiece, 3)
		// od -c: a byte a field of four columns, right-aligned; hexdump's
		// and od -x's default: two-byte little-endian words.
		out = append(out, odCharPieces(v)...)
		out = append(out, hexWordPieces(v)...)
	}
	return out
}

// shortDumps returns, for a value too short to be cut into pieces (a
// password of 6 to 15 bytes), its whole dump forms: xxd's hex groups and
// hexdump's two-byte words at both alignments, hexdump -C's bytes (its
// wider gap after any of them) and od -c's fields. A dump that cuts it over two lines shows its two parts.
func shortDumps(v string) [][]byte {
	var out [][]byte
	for _, f := range xxdHex(v) {
		out = append(out, []byte(f))
	}
	// hexdump -C puts two spaces after a line's eighth byte, which may
	// be any of v's.
	for gap := 0; gap < len(v); gap++ {
		var spaced strings.Builder
		for i := 0; i < len(v); i++ {
			switch {
			case i > 0 && i == gap:
				spaced.WriteString("  ")
			case i > 0:
				spaced.WriteByte(' ')
			}
			spaced.WriteString(hex.EncodeToString([]byte{v[i]}))
		}
		out = append(out, []byte(spaced.String()))
	}
	var odc strings.Builder
	for i := 0; i < len(v); i++ {
		fmt.Fprintf(&odc, "%4s", odChar(v[i]))
	}
	out = append(out, []byte(strings.TrimLeft(odc.String(), " ")))
	for a := 0; a < 2; a++ {
		var words []string
		for i := a; i+1 < len(v); i += 2 {
			words = append(words, hex.EncodeToString([]byte{v[i+1], v[i]}))
		}
		if len(words) >= 2 {
			out = append(out, []byte(strings.Join(words, " ")))
		}
	}
	return out
}

// odPiece is how many bytes of a value make a piece of its od -c form,
// and wordPiece how many words of its hexdump form: both fit in a line
// of 16 bytes wherever the value starts, so that a line's part of the
// value is masked but for a few bytes at the line's ends.
const (
	odPiece   = 7
	wordPiece = 4
)

// odCharPieces returns the pieces of v as `od -c` prints it: each byte in
// four columns, right-aligned, as itself when printable ASCII (a
// backslash too), as a C escape (\0 \a \b \f \n \r \t \v), else as
// three octal digits. A piece starts at a byte's first column.
func odCharPieces(v string) [][]byte {
	if len(v) < odPiece {
		return nil
	}
	fields := make([]string, len(v))
	for i := 0; i < len(v); i++ {
		fields[i] = fmt.Sprintf("%4s", odChar(v[i]))
	}
	var out [][]byte
	for i := 0; i+odPiece <= len(v); i++ {
		out = append(out, []byte(strings.TrimLeft(strings.Join(fields[i:i+odPiece], ""), " ")))
	}
	return out
}

func odChar(c byte) string {
	switch c {
	case 0:
		return `\0`
	case '\a':
		return `\a`
	case '\b':
		return `\b`
	case '\f':
		return `\f`
	case '\n':
		return `\n`
	case '\r':
		return `\r`
	case '\t':
		return `\t`
	case '\v':
		return `\v`
	}
	if c < 0x20 || c >= 0x7f {
		return fmt.Sprintf("%03o", c)
	}
	return string(c)
}

// hexWordPieces returns the pieces of v as `hexdump` and `od -x` print
// it: two-byte words, the second byte first, in lower-case hex separated
// by a space, with v starting at an even and at an odd offset.
func hexWordPieces(v string) [][]byte {
	var out [][]byte
	for a := 0; a < 2; a++ {
		var words []string
		for i := a; i+1 < len(v); i += 2 {
			words = append(words, hex.EncodeToString([]byte{v[i+1], v[i]}))
		}
		for i := 0; i+wordPiece <= len(words); i++ {
			out = append(out, []byte(strings.Join(words[i:i+wordPiece], " ")))
		}
	}
	return out
}

// spacedPiece is the length of the pieces of a value's hex written a byte a
// group (hexdump -C): 7 bytes, so that each half line of 8 holds two.
const spacedPiece = 20

// xxdHex returns v's bytes as xxd's hex column groups them (two bytes a
// group, groups separated by a space), with v starting at an even and at
// an odd offset, in lower case.
func xxdHex(v string) []string {
	var out []string
	for a := 0; a < 2; a++ {
		var b strings.Builder
		for i := 0; i < len(v); i++ {
			if i > 0 && (a+i)%2 == 0 {
				b.WriteByte(' ')
			}
			b.WriteString(hex.EncodeToString([]byte{v[i]}))
		}
		out = append(out, b.String())
	}
	return out
}

func dedupe(s []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, x := range s {
		if !seen[x] {
			seen[x] = true
			out = append(out, x)
		}
	}
	return out
}
