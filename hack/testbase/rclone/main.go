// Command rclone is the test base image's stand-in for rclone: a small Go
// program, because rclone keeps passwords obscured (AES-256-CTR under a key
// built into rclone, then unpadded URL-safe base64), which busybox cannot
// compute.
//
//   - `config create NAME TYPE [KEY VALUE | KEY=VALUE]...`, `config update
//     NAME [KEY VALUE | KEY=VALUE]...` and `config password NAME [KEY
//     VALUE]...` write the remote's section into the configuration file
//     (`--config FILE`, else `RCLONE_CONFIG`, else
//     `$XDG_CONFIG_HOME/rclone/rclone.conf`, else
//     `~/.config/rclone/rclone.conf`), `type` first, each password option
//     (pass, password, password2, key_file_pass) obscured as rclone does,
//     unless `--no-obscure` (`config password` takes the values as plain and
//     always obscures them). rclone draws the obscuring's IV at random;
//     the stand-in derives it from the value (the first 16 bytes of its
//     sha256), so that a test can search its file for the form;
//   - `config dump` prints the remotes as JSON, passwords as stored;
//   - `obscure VALUE` (`-` or none: standard input's first line) prints the
//     obscured form, `reveal VALUE` the value;
//   - any other command reports, for each `REMOTE:` argument, the remote's
//     revealed passwords, `env` from RCLONE_CONFIG_<REMOTE>_<OPTION>
//     (obscured, as rclone reads it), else `config`, as
//     `hushbuild-probe rclone KIND sha256=<hex>`; `hushbuild-probe rclone
//     none` when there is none.
package main

import (
	"bufio"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/hushbuild/hushbuild/internal/obscure"
)

// passwordOptions are the options rclone obscures.
var passwordOptions = map[string]bool{"pass": true, "password": true, "password2": true, "key_file_pass": true}

func obscureValue(v string) string {
	sum := sha256.Sum256([]byte(v))
	return obscure.Rclone(sum[:16], v)
}

func reveal(s string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || len(b) < 16 {
		return "", errors.New("input too short when revealing password - is it obscured?")
	}
	// CTR: obscuring with the same IV reveals.
	r, _ := base64.RawURLEncoding.DecodeString(obscure.Rclone(b[:16], string(b[16:])))
	return string(r[16:]), nil
}

// section is one remote of the configuration file, its options in order.
type section struct {
	name string
	keys []string
	vals map[string]string
}

func readConfig(file string) []*section {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil
	}
	var out []*section
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		switch {
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			out = append(out, &section{name: line[1 : len(line)-1], vals: map[string]string{}})
		case len(out) > 0 && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			out[len(out)-1].set(strings.TrimSpace(k), strings.TrimSpace(v))
		}
	}
	return out
}

func (s *section) set(k, v string) {
	if _, ok := s.vals[k]; !ok {
		s.keys = append(s.keys, k)
	}
	s.vals[k] = v
}

func writeConfig(file string, secs []*section) error {
	var b strings.Builder
	for i, s := range secs {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "[%s]\n", s.name)
		for _, k := range s.keys {
			fmt.Fprintf(&b, "%s = %s\n", k, s.vals[k])
		}
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return err
	}
	return os.WriteFile(file, []byte(b.String()), 0o600)
}

func configFile(flag string) string {
	if flag != "" {
		return flag
	}
	if f := os.Getenv("RCLONE_CONFIG"); f != "" {
		return f
	}
	if x := os.Getenv("XDG_CONFIG_HOME"); x != "" {
		return filepath.Join(x, "rclone", "rclone.conf")
	}
	home := os.Getenv("HOME")
	if home == "" {
		home = "/root"
	}
	return filepath.Join(home, ".config", "rclone", "rclone.conf")
}

func probe(kind, v string) {
	fmt.Printf("hushbuild-probe rclone %s sha256=%x\n", kind, sha256.Sum256([]byte(v)))
}

func fail(format string, a ...any) {
	fmt.Fprintf(os.Stderr, "Failed: "+format+"\n", a...)
	os.Exit(1)
}

func main() {
	var args []string
	flag, noObscure := "", false
	in := os.Args[1:]
	for i := 0; i < len(in); i++ {
		switch a := in[i]; {
		case a == "--config" && i+1 < len(in):
			flag = in[i+1]
			i++
		case strings.HasPrefix(a, "--config="):
			flag = strings.TrimPrefix(a, "--config=")
		case a == "--no-obscure":
			noObscure = true
		case a == "--obscure" || a == "--non-interactive":
		case strings.HasPrefix(a, "-") && a != "-":
			// other flags carry no credential
		default:
			args = append(args, a)
		}
	}
	file := configFile(flag)
	if len(args) == 0 {
		fail("no command")
	}
	switch args[0] {
	case "obscure", "reveal":
		v := ""
		if len(args) > 1 && args[1] != "-" {
			v = args[1]
		} else {
			sc := bufio.NewScanner(os.Stdin)
			sc.Scan()
			v = sc.Text()
		}
		if args[0] == "obscure" {
			fmt.Println(obscureValue(v))
			return
		}
		r, err := reveal(v)
		if err != nil {
			fail("%v", err)
		}
		fmt.Println(r)
		return
	case "config":
		if len(args) < 2 {
			fail("config: no subcommand")
		}
		switch args[1] {
		case "file":
			fmt.Printf("Configuration file is stored at:\n%s\n", file)
			return
		case "dump":
			// The remotes as JSON, passwords as stored (obscured).
			out := map[string]map[string]string{}
			for _, s := range readConfig(file) {
				out[s.name] = s.vals
			}
			b, _ := json.MarshalIndent(out, "", "    ")
			fmt.Println(string(b))
			return
		case "create", "update", "password":
			if len(args) < 3 {
				fail("config %s: no remote name", args[1])
			}
			name, rest := args[2], args[3:]
			secs := readConfig(file)
			var s *section
			for _, x := range secs {
				if x.name == name {
					s = x
				}
			}
			if args[1] == "create" {
				if len(rest) == 0 {
					fail("config create: no type")
				}
				s = &section{name: name, vals: map[string]string{}}
				kept := secs[:0]
				for _, x := range secs {
					if x.name != name {
						kept = append(kept, x)
					}
				}
				secs = append(kept, s)
				s.set("type", rest[0])
				rest = rest[1:]
			} else if s == nil {
				fail("couldn't find remote %q", name)
			}
			for i := 0; i < len(rest); i++ {
				k, v, ok := strings.Cut(rest[i], "=")
				if !ok {
					if i+1 >= len(rest) {
						fail("found key without value: %q", k)
					}
					v = rest[i+1]
					i++
				}
				if passwordOptions[k] && (args[1] == "password" || !noObscure) {
					v = obscureValue(v)
				}
				s.set(k, v)
			}
			if err := writeConfig(file, secs); err != nil {
				fail("%v", err)
			}
			return
		default:
			fail("config %s: not emulated", args[1])
		}
	}
	secs := readConfig(file)
	found := false
	for _, a := range args[1:] {
		name, _, ok := strings.Cut(a, ":")
		if !ok || name == "" || strings.Contains(name, "/") {
			continue
		}
		env := "RCLONE_CONFIG_" + strings.ToUpper(strings.NewReplacer("-", "_", ".", "_").Replace(name)) + "_"
		for _, e := range os.Environ() {
			k, v, _ := strings.Cut(e, "=")
			if strings.HasPrefix(k, env) && passwordOptions[strings.ToLower(strings.TrimPrefix(k, env))] {
				if r, err := reveal(v); err == nil {
					probe("env", r)
					found = true
				}
			}
		}
		for _, s := range secs {
			if s.name != name {
				continue
			}
			for _, k := range s.keys {
				if passwordOptions[k] {
					if r, err := reveal(s.vals[k]); err == nil {
						probe("config", r)
						found = true
					}
				}
			}
		}
	}
	if !found {
		fmt.Println("hushbuild-probe rclone none")
		if os.Getenv("HUSHBUILD_PROBE_REQUIRE") == "1" {
			fmt.Fprintln(os.Stderr, "rclone: no credential found (HUSHBUILD_PROBE_REQUIRE=1)")
			os.Exit(1)
		}
	}
}
