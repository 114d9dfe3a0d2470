package rewrite

import (
	"strings"
	"testing"
)

func TestPathSink(t *testing.T) {
	for p, want := range map[string]sink{
		"/dev/stdout":         sinkLog,
		"/dev/stderr":         sinkLog,
		"/dev/tty":            sinkLog,
		"/dev/fd/1":           sinkLog,
		"/dev/fd/2":           sinkLog,
		"/proc/1/fd/1":        sinkLog,
		"/proc/self/fd/2":     sinkLog,
		"/dev/./stderr":       sinkLog,
		"/dev/null":           sinkNone,
		"/dev/shm/token":      sinkNone,
		"/dev":                sinkNone,
		"/proc/sys/vm/x":      sinkNone,
		"/proc/1/environ":     sinkNone,
		"/sys/kernel/x":       sinkNone,
		"/tmp/token":          sinkFile,
		"/root/.npmrc":        sinkFile,
		"/dev/../tmp/x":       sinkFile,
		"/devices/x":          sinkFile,
		"/proc-data/x":        sinkFile,
		"/app/dev/null":       sinkFile,
		"dev/null":            sinkFile, // relative to an unknown directory
		"/system/dev/stderr":  sinkFile,
		"/run/secrets/token":  sinkFile,
		"/var/log/build.log":  sinkFile,
		"/proc/1/fd/1/../../": sinkNone,
	} {
		if got := pathSink(p); got != want {
			t.Errorf("pathSink(%q) = %v, want %v", p, got, want)
		}
	}
}

// TestDeviceWrites: a write into a device or a kernel file is no file of
// the layer (no save/replay/restore, no SecretWrittenToFile); the RUN's
// output and terminal are the build log (SecretInLog); /dev/null is
// nothing. Real files, also reached through relative paths, stay files.
func TestDeviceWrites(t *testing.T) {
	const arg = "FROM alpine\nARG NPM_TOKEN\n"
	const mount = "FROM alpine\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN "
	for _, tt := range []struct {
		name, src string
		log       string // part of the SecretInLog message, "" for none
		file      string // the file of a SecretWrittenToFile, "" for none
		refused   string // part of a CannotRewrite message, "" for none
	}{
		{name: "stderr", src: mount + `echo "using npm token ${NPM_TOKEN}" > /dev/stderr && npm install`, log: "echo writes NPM_TOKEN to /dev/stderr"},
		{name: "stderr append", src: mount + `echo "$NPM_TOKEN" >> /dev/stderr`, log: "echo writes NPM_TOKEN to /dev/stderr"},
		{name: "stdout", src: arg + `RUN echo "$NPM_TOKEN" >/dev/stdout`, log: "echo writes NPM_TOKEN to /dev/stdout"},
		{name: "tty", src: arg + `RUN echo "$NPM_TOKEN" >/dev/tty`, log: "echo writes NPM_TOKEN to /dev/tty"},
		{name: "stderr redirected to tty", src: arg + `RUN echo "$NPM_TOKEN" 2>/dev/tty`, log: "echo prints NPM_TOKEN"},
		{name: "proc fd", src: arg + `RUN echo "$NPM_TOKEN" > /proc/1/fd/1`, log: "echo writes NPM_TOKEN to /proc/1/fd/1"},
		{name: "proc self fd", src: arg + `RUN printenv >> /proc/self/fd/2`, log: "printenv writes NPM_TOKEN to /proc/self/fd/2"},
		{name: "dev fd", src: arg + `RUN echo "$NPM_TOKEN" > /dev/fd/2`, log: "echo writes NPM_TOKEN to /dev/fd/2"},
		{name: "all output", src: arg + `RUN echo "$NPM_TOKEN" &>> /dev/stderr`, log: "echo writes NPM_TOKEN to /dev/stderr"},
		{name: "tee", src: arg + `RUN echo "$NPM_TOKEN" | tee /dev/stderr > /dev/null`, log: "tee writes NPM_TOKEN to /dev/stderr"},
		{name: "tee append", src: arg + `RUN echo "$NPM_TOKEN" | tee -a /dev/stderr > /dev/null`, log: "tee writes NPM_TOKEN to /dev/stderr"},
		{name: "dd", src: arg + `RUN printf %s "$NPM_TOKEN" | dd of=/dev/stdout`, log: "dd writes NPM_TOKEN to /dev/stdout"},
		{name: "cp stdin", src: arg + `RUN echo "$NPM_TOKEN" | cp /dev/stdin /dev/stderr`, log: "cp writes NPM_TOKEN to /dev/stderr"},
		{name: "through a variable", src: arg + `RUN T="$NPM_TOKEN"; echo "$T" > /dev/stderr`, log: "echo writes T to /dev/stderr"},
		{name: "workdir relative", src: arg + "WORKDIR /dev\nRUN echo \"$NPM_TOKEN\" > stderr", log: "echo writes NPM_TOKEN to /dev/stderr"},
		{name: "heredoc", src: arg + "RUN <<EOF\necho \"$NPM_TOKEN\" > /dev/stderr\nEOF", log: "echo writes NPM_TOKEN to /dev/stderr"},

		{name: "null", src: arg + `RUN echo "$NPM_TOKEN" > /dev/null && npm install`},
		{name: "null append", src: mount + `echo "$NPM_TOKEN" >>/dev/null`},
		{name: "null all", src: arg + `RUN npm whoami --token "$NPM_TOKEN" &>/dev/null`},
		{name: "tee null", src: arg + `RUN echo "$NPM_TOKEN" | tee /dev/null > /dev/null`},
		{name: "shm", src: arg + `RUN echo "$NPM_TOKEN" > /dev/shm/token && npm install`},
		{name: "sys", src: arg + `RUN echo "$NPM_TOKEN" > /sys/kernel/x`},
		{name: "workdir relative null", src: arg + "WORKDIR /dev\nRUN echo \"$NPM_TOKEN\" > null"},
		{name: "sh -c", src: arg + `RUN sh -c 'echo "$NPM_TOKEN" > /dev/null'`},
		{name: "heredoc null", src: arg + "RUN <<EOF\necho \"$NPM_TOKEN\" > /dev/null\nEOF"},

		// Real files stay files.
		{name: "file", src: arg + `RUN echo "$NPM_TOKEN" > /tmp/token`, file: "/tmp/token"},
		{name: "dotdot out of dev", src: arg + `RUN echo "$NPM_TOKEN" > /dev/../tmp/token`, file: "/tmp/token"},
		{name: "relative out of dev", src: arg + "WORKDIR /dev\nRUN echo \"$NPM_TOKEN\" > ../tmp/token", file: "/tmp/token"},
		{name: "tee file and stderr", src: arg + `RUN echo "$NPM_TOKEN" | tee /tmp/token /dev/stderr > /dev/null`, file: "/tmp/token", log: "tee writes NPM_TOKEN to /dev/stderr"},
		{name: "a dev directory elsewhere", src: arg + `RUN echo "$NPM_TOKEN" > /app/dev/null`, file: "/app/dev/null"},
		{name: "heredoc file", src: arg + "RUN <<EOF\necho \"$NPM_TOKEN\" > /tmp/token\nEOF", file: "/tmp/token"},
		// Documents that are not the script's text verbatim stay refused.
		{name: "heredoc chomped", src: arg + "RUN <<-EOF\n\techo \"$NPM_TOKEN\" > /tmp/token\nEOF", refused: "it writes a secret into a file"},
		{name: "heredoc shebang", src: arg + "RUN <<EOF\n#!/bin/sh\necho \"$NPM_TOKEN\" > /tmp/token\nEOF", refused: "it writes a secret into a file"},
		// CRLF: the shell reads the \r as part of the path (/tmp/token\r).
		{name: "heredoc CRLF", src: arg + "RUN <<EOF\r\necho \"$NPM_TOKEN\" > /tmp/token\r\nEOF\r", refused: "it writes a secret into a file"},
		{name: "sh heredoc CRLF", src: arg + "RUN sh <<EOS\r\necho \"$NPM_TOKEN\" > /tmp/token\r\nEOS\r", refused: "runs a script that hushbuild cannot parse"},
		{name: "cat heredoc CRLF", src: arg + "RUN cat <<EOS > /tmp/token\r\n$NPM_TOKEN\r\nEOS\r", file: "/tmp/token"},
		// A script's own GIT_CONFIG_COUNT= is not hushbuild's prelude.
		{name: "own GIT_CONFIG_COUNT", src: arg + `RUN export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' && echo "$NPM_TOKEN" > /tmp/token`, file: "/tmp/token"},
		{name: "heredoc own GIT_CONFIG_COUNT", src: arg + "RUN <<EOF\nGIT_CONFIG_COUNT=1; GIT_CONFIG_KEY_0=safe.directory; export GIT_CONFIG_COUNT GIT_CONFIG_KEY_0\necho \"$NPM_TOKEN\" > /tmp/token\nEOF", file: "/tmp/token"},
		{name: "unknown fd number", src: arg + `RUN echo "$NPM_TOKEN" > /proc/$$/fd/1`, refused: "not a plain path"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(res.Output), hushbuildBackup) != (tt.file != "") {
				t.Errorf("save/restore prelude: got\n%s", res.Output)
			}
			var log, files, refused []string
			for _, f := range res.Findings {
				switch f.Rule {
				case RuleSecretInLog.Name:
					log = append(log, f.Message)
				case RuleSecretWrittenToFile.Name:
					files = append(files, f.Message)
				case RuleCannotRewrite.Name:
					refused = append(refused, f.Message)
				}
			}
			check := func(what string, got []string, want string) {
				t.Helper()
				switch {
				case want == "" && len(got) > 0:
					t.Errorf("unexpected %s: %q", what, got)
				case want != "" && (len(got) != 1 || !strings.Contains(got[0], want)):
					t.Errorf("%s = %q, want one with %q", what, got, want)
				}
			}
			check("SecretInLog", log, tt.log)
			if tt.file != "" {
				check("SecretWrittenToFile", files, "writes a secret into "+tt.file+",")
			} else {
				check("SecretWrittenToFile", files, "")
			}
			check("CannotRewrite", refused, tt.refused)
		})
	}
}

// TestMountedFileIntoVariable: base64 of a mounted secret file into a
// shell variable writes no file; the variable is then followed like a
// secret: into a file or git's configuration it is refused, into the log
// it is SecretInLog.
func TestMountedFileIntoVariable(t *testing.T) {
	const mount = "FROM alpine\nRUN --mount=type=secret,id=sa.json "
	const copied = "FROM alpine\nWORKDIR /app\nCOPY service-account.json /app/service-account.json\nRUN "
	for _, tt := range []struct {
		name, src string
		refused   string // part of the CannotRewrite message, "" when accepted
		log       string
	}{
		{name: "mount", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && curl -H "X-Api-Key: $X" https://files.example/x`},
		{name: "unquoted", src: mount + `X=$(base64 /run/secrets/sa.json); export X; ./deploy.sh`},
		{name: "export", src: mount + `export X="$(base64 -w0 /run/secrets/sa.json)" && ./deploy.sh`},
		{name: "copied file", src: copied + `X="$(base64 -w0 service-account.json)" && curl -H "X-Api-Key: $X" https://files.example/x` + "\nRUN rm service-account.json"},
		{name: "to null", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && echo "$X" > /dev/null`},
		{name: "printed", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && echo "$X"`, log: "echo prints X"},
		{name: "to stderr", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && echo "$X" > /dev/stderr`, log: "echo writes X to /dev/stderr"},

		{name: "into a file", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && echo "$X" > /tmp/sa.b64`, refused: "into the variable X, and a command writes it into a file"},
		{name: "through another variable", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)"; Y="key=$X"; printf %s "$Y" | base64 -d > /tmp/sa.json`, refused: "into the variable X, and a command writes it into a file"},
		{name: "into git config", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && git config --global http.extraHeader "Authorization: Basic $X"`, refused: "into the variable X"},
		{name: "into a here-string file", src: mount + `X="$(base64 -w0 /run/secrets/sa.json)" && cat > /tmp/k <<< "$X"`, refused: "into the variable X"},
		{name: "into a nested shell", src: mount + `export X="$(base64 -w0 /run/secrets/sa.json)" && sh -c 'echo $X > /tmp/k'`, refused: "into the variable X"},
		{name: "copied file into a file", src: copied + `X="$(base64 -w0 service-account.json)" && echo "$X" > /app/sa.b64` + "\nRUN rm service-account.json", refused: "into the variable X"},
		{name: "pipeline", src: mount + `X="$(base64 /run/secrets/sa.json | tr -d '\n')"`, refused: "base64 copies the secret mounted at /run/secrets/sa.json into a file"},
		{name: "bsd output flag", src: mount + `X="$(base64 -o /tmp/out /run/secrets/sa.json)"`, refused: "base64 copies the secret"},
		{name: "redirected inside", src: mount + `X="$(base64 /run/secrets/sa.json > /tmp/out)"`, refused: "base64 copies the secret"},
		{name: "substitution in a word", src: mount + `echo "$(base64 -w0 /run/secrets/sa.json)" > /tmp/out`, refused: "base64 copies the secret"},
		{name: "not captured", src: mount + `base64 -w0 /run/secrets/sa.json > /tmp/out`, refused: "base64 copies the secret"},
		{name: "tar", src: mount + `X="$(tar -cf /tmp/a.tar /run/secrets/sa.json)"`, refused: "tar copies the secret"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			var refused, log []string
			for _, f := range res.Findings {
				switch f.Rule {
				case RuleCannotRewrite.Name:
					refused = append(refused, f.Message)
				case RuleSecretInLog.Name:
					log = append(log, f.Message)
				}
			}
			switch {
			case tt.refused == "" && len(refused) > 0:
				t.Errorf("refused: %q", refused)
			case tt.refused != "" && !strings.Contains(strings.Join(refused, "\n"), tt.refused):
				t.Errorf("CannotRewrite = %q, want one with %q", refused, tt.refused)
			}
			switch {
			case tt.log == "" && len(log) > 0:
				t.Errorf("unexpected SecretInLog: %q", log)
			case tt.log != "" && !strings.Contains(strings.Join(log, "\n"), tt.log):
				t.Errorf("SecretInLog = %q, want one with %q", log, tt.log)
			}
		})
	}
}
