package rewrite

import (
	"strings"
	"testing"
)

// TestLogPrints: commands that print a secret into the build log are
// SecretInLog: a filter of every variable (env | grep), curl -v with a
// credential (it prints the Authorization header), cat of a file a
// command wrote a secret into. Their quiet forms are not.
func TestLogPrints(t *testing.T) {
	const arg = "FROM node:20\nARG NPM_TOKEN\n"
	for _, tt := range []struct {
		name, src string
		log       string // part of the SecretInLog message, "" for none
	}{
		{name: "env | grep", src: arg + `RUN env | grep -i npm && npm ci`, log: "env | grep prints the variables it matches"},
		{name: "printenv | sort", src: arg + `RUN printenv | sort; npm ci`, log: "printenv | sort prints"},
		{name: "env | grep | head", src: arg + `RUN env | grep NPM | head -n 3`, log: "env | head prints"},
		{name: "export -p | grep", src: arg + `RUN export -p | grep TOKEN; npm ci`, log: "export | grep prints"},
		{name: "export -p", src: arg + `RUN export -p && npm ci`, log: "export -p prints every variable"},
		{name: "declare -p", src: arg + `RUN declare -p; npm ci`, log: "declare -p prints every variable"},
		{name: "declare -x", src: arg + `RUN declare -x`, log: "declare -x prints every variable"},
		{name: "typeset -p", src: arg + `RUN typeset -p`, log: "typeset -p prints every variable"},
		{name: "export an assignment", src: arg + `RUN export NODE_ENV=production && npm ci`},
		{name: "export a name", src: arg + `RUN export PATH && npm ci`},
		{name: "export -p into a pipe", src: arg + `RUN export -p | wc -l`},
		{name: "env | grep -q", src: arg + `RUN env | grep -q NPM_TOKEN && npm ci`},
		{name: "env | grep -c", src: arg + `RUN env | grep -c NPM`},
		{name: "env | grep > file", src: arg + `RUN env | grep NPM > /dev/null`},
		{name: "env | wc", src: arg + `RUN env | wc -l`},
		{name: "env | grep without secrets", src: "FROM alpine\nRUN env | grep PATH"},
		{name: "curl -v header", src: arg + `RUN curl -v -H "Authorization: Bearer ${NPM_TOKEN}" https://api.example.com/x`, log: "curl -v prints the request headers with NPM_TOKEN"},
		{name: "curl -sSfv -u", src: arg + `RUN curl -sSfv -u "ci:$NPM_TOKEN" -o /tmp/x https://files.example.com/x && rm /tmp/x`, log: "curl -v prints"},
		{name: "curl --verbose url user", src: arg + `RUN curl --verbose https://ci:$NPM_TOKEN@files.example.com/x`, log: "curl -v prints"},
		{name: "curl --trace-ascii", src: arg + `RUN curl --trace-ascii - -H "X-Token: $NPM_TOKEN" https://x/`, log: "curl -v prints"},
		{name: "curl without -v", src: arg + `RUN curl -sSf -H "Authorization: Bearer ${NPM_TOKEN}" https://api.example.com/x`},
		{name: "curl -v stderr to null", src: arg + `RUN curl -v -H "Authorization: Bearer ${NPM_TOKEN}" https://api.example.com/x 2>/dev/null`},
		{name: "curl -v without secret", src: arg + `RUN curl -v https://api.example.com/x`},
		{name: "cat generated npmrc", src: arg + "RUN npm config set //r/:_authToken $NPM_TOKEN && cat ~/.npmrc", log: "cat prints the secret file /root/.npmrc"},
		{name: "cat generated file later", src: arg + "RUN echo \"//r/:_authToken=$NPM_TOKEN\" > /root/.npmrc\nRUN cat /root/.npmrc && npm ci", log: "cat prints the secret file /root/.npmrc"},
		{name: "cat generated file into pipe", src: arg + "RUN echo \"//r/:_authToken=$NPM_TOKEN\" > /root/.npmrc\nRUN cat /root/.npmrc | grep -q registry && npm ci"},
		{name: "cat plain file", src: arg + "RUN npm config set //r/:_authToken $NPM_TOKEN && cat package.json"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res, err := Rewrite([]byte(tt.src+"\n"), Config{})
			if err != nil {
				t.Fatal(err)
			}
			var logs []string
			for _, f := range res.Findings {
				if f.Rule == RuleSecretInLog.Name {
					logs = append(logs, f.Message)
				}
			}
			switch {
			case tt.log == "" && len(logs) > 0:
				t.Errorf("unexpected SecretInLog %q", logs)
			case tt.log != "" && !strings.Contains(strings.Join(logs, "\n"), tt.log):
				t.Errorf("want a SecretInLog with %q, got %q", tt.log, logs)
			}
		})
	}
}
