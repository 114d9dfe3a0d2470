package rewrite

import (
	"path"
	"slices"
	"strconv"
	"strings"
)

// Programs that run a command as another user, as data.
//
// su, runuser, sudo, gosu, su-exec, setpriv and doas start the command
// after their options (a shell's -c script, or a program and its
// arguments) as another user. The engine reads that command as it reads
// any nested one (taint.go: shellCallOf, nestedWrites), in the
// environment the program gives it: what it does to the environment and
// HOME, whether it moves to the user's home directory, and who the user
// is. Each program is one row of switchProgs; an option the row does not
// list, or lists as refused, makes the command's effects unknown, and a
// secret it writes into a file is refused (CannotRewrite).
//
// HOME: a program that sets HOME from the user's /etc/passwd entry gives
// /root for root and /home/USER for a user name. The engine reads no
// /etc/passwd: the RUNs that rely on it ask the program itself, through
// the same words, what HOME the command gets (switchUse.homeGuard), and
// stop when it is another, before anything is written.
//
// The environment: a secret variable the RUN gets from an env mount
// reaches the command exactly as the legacy build's ARG did, both being
// variables of the RUN's process: a program that resets the environment
// (sudo without -E, su -) drops both alike. The engine keeps reading the
// command's words as seeing every secret of the RUN, which can only find
// more writes than there are.
//
// Who runs the cleanup: the RUN's EXIT trap removes what the command
// wrote as the other user, which only root may do for certain: a RUN of
// another user is refused, one whose user is unknown checks that it runs
// as root (rootGuard).

// envMode is what a program does to the environment of the command.
type envMode int

const (
	// envKeep: the environment as it is, HOME included (setpriv, su -m,
	// sudo -E).
	envKeep envMode = iota
	// envSetHome: the environment as it is, HOME (and SHELL, USER,
	// LOGNAME) the user's (su, runuser, gosu, su-exec).
	envSetHome
	// envReset: a new environment with a few variables, HOME the user's
	// (sudo, su -, doas, setpriv --reset-env).
	envReset
)

// optEffect is what an option of a user-switching program does.
type optEffect int

const (
	optNone     optEffect = iota // nothing the engine follows
	optUser                      // its value is the user
	optUserArgv                  // its value is the user, and the command is a program, not a -c script (runuser -u)
	optScript                    // its value is the script (su -c)
	optLogin                     // a login: a new environment, in the user's home directory
	optKeepEnv                   // the environment as it is, HOME included
	optSetHome                   // HOME the user's (sudo -H)
	optResetEnv                  // a new environment (setpriv --reset-env)
	optEnvList                   // a new environment but the listed variables (sudo --preserve-env=LIST)
	optRefuse                    // an effect the engine does not follow (Why)
)

// switchOpt is one option of a user-switching program.
type switchOpt struct {
	// Names are its spellings: "-u", "--user". A short one may be
	// grouped with others (-EHu app) and take its value in the same
	// word; a long one may take it after = (--user=app).
	Names []string
	// Value: it takes a value.
	Value bool
	Does  optEffect
	// Why says, for optRefuse, what it does.
	Why string
}

// switchProg is what the engine knows about one user-switching program.
type switchProg struct {
	Names []string
	Opts  []switchOpt
	// UserFirst: the user is the first operand (su USER, gosu
	// USER[:GROUP]); otherwise an option names it.
	UserFirst bool
	// Script: the command is the value of the optScript option, which
	// the user's shell runs (su -c SCRIPT); the operands after the user
	// are its $0, $1, ... Otherwise the words after the options (and the
	// user) are the program and its arguments (gosu USER PROG ARGS),
	// options ending at the first other word.
	Script bool
	// Env is what it does to the environment without options.
	Env envMode
	// DefaultRoot: without a user it runs the command as root (su, sudo,
	// doas); otherwise as the caller (setpriv).
	DefaultRoot bool
	// Refuse, when set, is why a command behind it is never followed.
	Refuse string
}

// suOpts are the options of su, and of runuser's su-like form
// (util-linux's and busybox's su).
var suOpts = []switchOpt{
	{Names: []string{"-", "-l", "--login"}, Does: optLogin},
	{Names: []string{"-m", "-p", "--preserve-environment"}, Does: optKeepEnv},
	{Names: []string{"-c", "--command", "--session-command"}, Value: true, Does: optScript},
	{Names: []string{"-s", "--shell", "-g", "--group", "-G", "--supp-group", "-w", "--whitelist-environment"}, Value: true},
	{Names: []string{"-f", "--fast", "-P", "--pty"}},
}

// switchProgs is the table.
var switchProgs = []switchProg{
	{Names: []string{"su"}, Opts: suOpts, UserFirst: true, Script: true, Env: envSetHome, DefaultRoot: true},
	{Names: []string{"runuser"}, Opts: append([]switchOpt{{Names: []string{"-u", "--user"}, Value: true, Does: optUserArgv}}, suOpts...),
		UserFirst: true, Script: true, Env: envSetHome, DefaultRoot: true},
	{Names: []string{"sudo"}, Env: envReset, DefaultRoot: true, Opts: []switchOpt{
		{Names: []string{"-u", "--user"}, Value: true, Does: optUser},
		{Names: []string{"-E", "--preserve-env"}, Does: optKeepEnv},
		{Names: []string{"--preserve-env="}, Value: true, Does: optEnvList},
		{Names: []string{"-H", "--set-home"}, Does: optSetHome},
		{Names: []string{"-n", "--non-interactive", "-S", "--stdin", "-k", "--reset-timestamp", "-A", "--askpass", "-B", "--bell",
			"-P", "--preserve-groups", "-N", "--no-update"}},
		{Names: []string{"-g", "--group", "-C", "--close-from", "-p", "--prompt", "-r", "--role", "-t", "--type", "-T", "--command-timeout",
			"-U", "--other-user", "-h", "--host"}, Value: true},
		{Names: []string{"-i", "--login"}, Does: optRefuse, Why: "runs it through the user's login shell, after its login scripts, in the user's home directory"},
		{Names: []string{"-s", "--shell"}, Does: optRefuse, Why: "runs it through a shell of its own"},
		{Names: []string{"-b", "--background"}, Does: optRefuse, Why: "runs it in the background, where it may write after the RUN's cleanup"},
		{Names: []string{"-D", "--chdir"}, Value: true, Does: optRefuse, Why: "runs it in another directory"},
		{Names: []string{"-R", "--chroot"}, Value: true, Does: optRefuse, Why: "runs it in another root directory"},
		{Names: []string{"-e", "--edit", "-l", "--list", "-v", "--validate", "-K", "--remove-timestamp", "-V", "--version"}, Does: optRefuse, Why: "runs no command of its own"},
	}},
	{Names: []string{"doas"}, Env: envReset, DefaultRoot: true, Opts: []switchOpt{
		{Names: []string{"-u"}, Value: true, Does: optUser},
		{Names: []string{"-n"}},
		{Names: []string{"-s"}, Does: optRefuse, Why: "runs it through the user's shell"},
		{Names: []string{"-C"}, Value: true, Does: optRefuse, Why: "runs no command of its own"},
		{Names: []string{"-L"}, Does: optRefuse, Why: "runs no command of its own"},
	}},
	{Names: []string{"gosu", "su-exec"}, UserFirst: true, Env: envSetHome},
	{Names: []string{"setpriv"}, Env: envKeep, Opts: []switchOpt{
		{Names: []string{"--reuid", "--ruid", "--euid"}, Value: true, Does: optUser},
		{Names: []string{"--regid", "--rgid", "--egid", "--groups", "--inh-caps", "--ambient-caps", "--bounding-set", "--securebits", "--pdeathsig",
			"--selinux-label", "--apparmor-profile", "--landlock-access", "--landlock-rule", "--seccomp-filter"}, Value: true},
		{Names: []string{"--init-groups", "--clear-groups", "--keep-groups", "--nnp", "--no-new-privs"}},
		{Names: []string{"--reset-env"}, Does: optResetEnv},
		{Names: []string{"-d", "--dump"}, Does: optRefuse, Why: "runs no command of its own"},
	}},
	{Names: []string{"chroot"}, Refuse: "runs it in another root directory, where its files are other files"},
}

// switchProgOf is the row of a program name, or nil.
func switchProgOf(name string) *switchProg {
	for i := range switchProgs {
		for _, n := range switchProgs[i].Names {
			if n == name {
				return &switchProgs[i]
			}
		}
	}
	return nil
}

// opt is the row of an option spelling, or nil.
func (p *switchProg) opt(name string) *switchOpt {
	for i := range p.Opts {
		for _, n := range p.Opts[i].Names {
			if n == name {
				return &p.Opts[i]
			}
		}
	}
	return nil
}

// switchUse is one command's user switch: who the command runs as, in
// what environment, and where its words are.
type switchUse struct {
	name  string // the program, for messages
	user  string // "root" or a user name
	env   envMode
	login bool
	// first is the index of the program in argv; cmd the index of the
	// command (the script of a Script program, the program's first word
	// otherwise); args the operands after the user of a Script program
	// ($0, $1 of its script).
	first, cmd int
	args       []int
	// script: cmd is a script the user's shell runs (su -c), not a
	// program; stdin: the user's shell reads it on its standard input
	// (su USER <<EOF).
	script, stdin bool
	// assigns are sudo's VAR=VALUE words: variables the command sees.
	assigns []int
	// refuse says why the engine does not follow the command, when set.
	refuse string
	// Texts of the words, set by callOf from the source: replayHead
	// and replayTail are the source before and after the script (for a
	// program: before the program), from the switching program's first
	// word on; probeHead and probeTail go around a shell script that
	// runs as the command does (the same words, or "sh -c" after a
	// program's).
	replayHead, replayTail, probeHead, probeTail string
	// stdinHead replaces replayHead and probeHead when the command is a
	// shell that reads its script on standard input (sudo -u app sh
	// <<EOF): the words up to the end of the command, then -c.
	stdinHead string
}

// home is the command's HOME when the program sets it from the user's
// /etc/passwd entry (assumed: /root, /home/USER).
func (u *switchUse) home() string {
	if u.user == "root" {
		return "/root"
	}
	return "/home/" + u.user
}

// what names the switch for messages: "su node", "sudo -u app".
func (u *switchUse) what() string {
	return u.name + " (as " + u.user + ")"
}

// readSwitch reads argv[i:] as a run of the program p: the user, the
// environment, and where the command is. ok is false when it runs no
// command (su without -c); a use with refuse set is one whose effects the
// engine does not follow.
func (p *switchProg) readSwitch(argv []string, i int) (*switchUse, bool) {
	u := &switchUse{name: path.Base(argv[i]), first: i, cmd: -1, env: p.Env}
	refuse := func(why string) {
		if u.refuse == "" {
			u.refuse = why
		}
	}
	user, userSet := "", false
	keep, setHome, reset := false, false, false
	argvMode := !p.Script // runuser -u makes it so
	operands := 0
	apply := func(o *switchOpt, spelled, value string, at int) {
		switch o.Does {
		case optUser, optUserArgv:
			user, userSet = value, true
			if o.Does == optUserArgv {
				argvMode = true
			}
		case optScript:
			if at < 0 {
				refuse(u.name + " " + spelled + " with the script in the same word")
			}
			u.cmd = at
		case optLogin:
			u.login = true
		case optKeepEnv:
			keep = true
		case optSetHome:
			setHome = true
		case optResetEnv:
			reset = true
		case optEnvList:
			reset = true
			for _, n := range strings.Split(value, ",") {
				if envMoves(n) {
					refuse(u.name + " --preserve-env=" + value + " keeps " + n + " for it")
				}
			}
		case optRefuse:
			refuse(u.name + " " + spelled + " " + o.Why)
		}
	}
	k := i + 1
	optionsEnd := false
	for ; k < len(argv); k++ {
		a := argv[k]
		isOpt := !optionsEnd && len(a) > 1 && a[0] == '-' || !optionsEnd && a == "-" && p.opt("-") != nil
		if !isOpt {
			if argvMode && (!p.UserFirst || userSet || p.Script) {
				break // the command
			}
			if p.UserFirst && !userSet {
				user, userSet = a, true
				continue
			}
			if p.Script && !argvMode {
				u.args = append(u.args, k)
				operands++
				continue
			}
			break
		}
		if a == "--" {
			optionsEnd = true
			if argvMode || !p.Script {
				k++
				if p.UserFirst && !userSet && k < len(argv) {
					user, userSet = argv[k], true
					k++
				}
				break
			}
			continue
		}
		if strings.HasPrefix(a, "--") {
			name, value, hasValue := strings.Cut(a, "=")
			o := p.opt(name)
			if o != nil && hasValue && !o.Value {
				o = p.opt(name + "=")
			}
			switch {
			case o == nil:
				refuse(u.name + " " + name + ", an option hushbuild does not know")
			case o.Value && !hasValue:
				k++
				if k >= len(argv) {
					return u, false
				}
				apply(o, name, argv[k], k)
			case o.Value:
				apply(o, name, value, -1)
			default:
				apply(o, name, "", -1)
			}
			continue
		}
		if a == "-" {
			apply(p.opt("-"), "-", "", -1)
			continue
		}
		// Short options, grouped: -EHu app, -lc SCRIPT.
		for j := 1; j < len(a); j++ {
			spelled := "-" + a[j:j+1]
			o := p.opt(spelled)
			if o == nil {
				refuse(u.name + " " + spelled + ", an option hushbuild does not know")
				continue
			}
			if !o.Value {
				apply(o, spelled, "", -1)
				continue
			}
			if j+1 < len(a) {
				apply(o, spelled, a[j+1:], -1)
			} else {
				k++
				if k >= len(argv) {
					return u, false
				}
				apply(o, spelled, argv[k], k)
			}
			break
		}
	}
	if argvMode {
		// sudo's VAR=VALUE words before the command.
		for ; k < len(argv) && !p.Script && u.name == "sudo"; k++ {
			name, _, ok := strings.Cut(argv[k], "=")
			if !ok || !isShellName(name) {
				break
			}
			if envMoves(name) {
				refuse(u.name + " sets " + name + " for it")
			}
			u.assigns = append(u.assigns, k)
		}
		if k >= len(argv) {
			return u, false
		}
		u.cmd = k
		u.args = nil
	} else if u.cmd < 0 && len(u.args) == 0 {
		u.stdin = true // su USER: its shell reads the script on standard input
	} else if u.cmd < 0 {
		// su USER -- -c SCRIPT: the words after the user go to the
		// user's shell, which reads -c as its own.
		j, letters := shellOptions(argv, u.args[0])
		if !strings.ContainsRune(letters, 'c') || j >= len(argv) || !slices.Contains(u.args, j) {
			return u, false // su USER FILE: a script file
		}
		u.cmd = j
		u.args = slices.DeleteFunc(u.args, func(k int) bool { return k <= j })
	}
	u.script = !argvMode && !u.stdin
	if p.Refuse != "" {
		refuse(u.name + " " + p.Refuse)
	}
	switch {
	case u.login:
		u.env = envReset
	case reset:
		u.env = envReset
	case keep && setHome:
		u.env = envSetHome
	case keep:
		u.env = envKeep
	case setHome && u.env == envKeep:
		u.env = envSetHome
	}
	if !userSet {
		if p.DefaultRoot {
			user = "root"
		} else {
			user = ""
		}
	}
	if i := strings.IndexByte(user, ':'); i >= 0 && (u.name == "gosu" || u.name == "su-exec") {
		user = user[:i] // USER:GROUP
	}
	user = strings.TrimPrefix(user, "#") // sudo -u '#1000'
	switch {
	case user == "" && u.env == envKeep:
		// The caller, in its own environment (setpriv --nnp): nothing
		// the engine follows changes.
	case user == "":
		refuse(u.name + " runs it with the home directory of the user running it, which hushbuild cannot tell")
	case user == "0" || user == "root":
		user = "root"
	case strings.Contains(user, "\x00") || strings.ContainsAny(user, "$`"):
		refuse(u.name + " runs it as a user named by a variable, whose home directory hushbuild cannot tell")
	case !isUserName(user):
		if _, err := strconv.Atoi(user); err == nil {
			refuse(u.name + " runs it as the uid " + user + ", whose home directory hushbuild cannot tell")
		} else {
			refuse(u.name + " runs it as " + strconv.Quote(user) + ", whose home directory hushbuild cannot tell")
		}
	}
	u.user = user
	return u, true
}

// rootGuard stops a RUN that does not run as root: only root may remove
// for certain what a command wrote as another user.
const rootGuard = `[ "$(id -u)" = 0 ] || { echo "hushbuild: this RUN does not run as root, and the rewrite removes what a command writes as another user when the RUN ends, which only root can be sure to do: set USER root before this RUN" >&2; exit 1; };`

// homeGuard stops a RUN when the program does not give the command the
// HOME the rewrite assumed: it asks the program, with the same words.
func (u *switchUse) homeGuard(home string) string {
	return `[ "$(` + u.probeHead + `'printf %s "$HOME"'` + u.probeTail + `)" = ` + home + ` ] || { echo "hushbuild: ` + u.name + ` does not run commands as ` + u.user +
		` with HOME=` + home + `, the home directory the rewrite assumed for ` + u.user + `: write the file by its absolute path" >&2; exit 1; };`
}

// unsetGuard stops a RUN when the program gives the command one of the
// variables that would move a tool's file, which the rewrite assumed
// unset there.
func (u *switchUse) unsetGuard(vars []string) string {
	var probe strings.Builder
	for _, v := range vars {
		probe.WriteString("${" + v + "+" + v + " }")
	}
	return `[ -z "$(` + u.probeHead + `'printf %s "` + probe.String() + `"'` + u.probeTail + `)" ] || { echo "hushbuild: ` + u.name + ` gives ` + u.user + ` one of ` +
		strings.Join(vars, ", ") + ` (which would move the file), and the rewrite assumed none: write the file by its absolute path" >&2; exit 1; };`
}

// apply makes fl, a write of a command run under the switch, safe to
// save and restore from the RUN: the RUN must run as root (or as the
// user itself) to remove what the user wrote, and the HOME and variables
// the file's path assumed must be the ones the program gives, checked at
// the start of each RUN that writes it. outer is the RUN's environment
// where the command runs, inner the one the switch gives it.
func (u *switchUse) apply(fl *flow, outer, inner shellEnv) {
	fl.as = u.user
	switch root, known := outer.rootness(); {
	case !known:
		fl.guards = append(fl.guards, rootGuard)
	case !root:
		if name, _, _ := strings.Cut(outer.user, ":"); name != u.user {
			fl.problem = "it runs as " + u.user + " through " + u.name + " in a RUN of the user " + name +
				", which cannot be sure to remove what " + u.user + " writes"
			fl.fix = "write the file as the RUN's user, or set USER root before this RUN"
			return
		}
	}
	// The file's path relies on the HOME the program gives when it was
	// found through it (~, $HOME, a cd there, a login's directory, a
	// tool's home file): checked through the program, not the RUN's own
	// $HOME (which the path relies on only where the program keeps it).
	home := inner.programHome()
	under := func(p string) bool { return home != "" && (p == home || strings.HasPrefix(p, home+"/")) }
	onHome := u.login || under(fl.file)
	for _, a := range fl.also {
		onHome = onHome || under(a)
	}
	if u.env != envKeep && !inner.progHomeSet && fl.assumedHome != "" && fl.assumedHome == inner.home {
		onHome, fl.assumedHome = true, ""
	}
	if onHome && home != "" {
		fl.guards = append(fl.guards, u.homeGuard(home))
		how := u.user + "'s home directory, assumed: the image's /etc/passwd is not read"
		if u.env == envKeep {
			how = "the RUN's own"
		}
		fl.note = u.name + " runs the command as " + u.user + " with HOME=" + home + " (" + how + "), and these RUNs ask " + u.name + " first and stop if it is another"
	}
	if u.env == envReset && len(fl.assumedUnset) > 0 {
		// The program's new environment, not the RUN's, may set them.
		fl.guards = append(fl.guards, u.unsetGuard(fl.assumedUnset))
		if fl.note != "" {
			fl.note += "; "
		}
		fl.note += strings.Join(fl.assumedUnset, ", ") + " (which would move the file) was assumed unset in the environment " + u.name + " gives, and these RUNs stop if it is set"
		fl.assumedUnset = nil
	}
}
