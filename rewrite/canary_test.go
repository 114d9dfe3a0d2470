package rewrite

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/canary"
)

// canaryShapes are random values of the shapes credentials take: a token
// with a known prefix, mixed case and digits, lower-case letters only
// (a passphrase), upper-case letters only, symbols. Each is new per run.
func canaryShapes(t testing.TB) map[string]string {
	return canary.Shapes(t)
}

// errorPaths are Dockerfiles that fail, or that the engine reports as
// unsafe, with the value V where a user could put a credential: every
// place BuildKit's parser quotes a word, the directive, the suppression
// comments.
var errorPaths = []string{
	"FROM alpine\nHEALTHCHECK --interval=V CMD true\n",
	"FROM alpine\nHEALTHCHECK --timeout=V CMD true\n",
	"FROM alpine\nHEALTHCHECK --start-period=V CMD true\n",
	"FROM alpine\nHEALTHCHECK --retries=V CMD true\n",
	"FROM alpine\nHEALTHCHECK V\n",
	"FROM alpine\nEXPOSE V\n",
	"FROM alpine\nSTOPSIGNAL V x\n",
	"FROM alpine\nCOPY --chmod=V a b\n",
	"FROM alpine\nCOPY --link=V a b\n",
	"FROM alpine\nCOPY --V a b\n",
	"FROM alpine\nRUN --mount=type=V true\n",
	"FROM alpine\nRUN --mount=type=secret,V true\n",
	"FROM alpine\nRUN --mount=type=secret,id=a,V=1 true\n",
	"FROM alpine\nRUN --mount=type=secret,id=a,required=V true\n",
	"FROM alpine\nRUN --network=V true\n",
	"FROM alpine\nRUN --security=V true\n",
	"FROM alpine\nRUN --V true\n",
	"FROM alpine\nADD --checksum=V https://example.com/a /a\n",
	"FROM alpine\nADD --keep-git-dir=V https://example.com/a.git /a\n",
	"FROM alpine\nONBUILD V\n",
	"FROM alpine\nV\n",
	"FROM alpine\nV x\n",
	"FROM alpine AS V!\nRUN true\n",
	"FROM alpine AS\nRUN true V\n",
	"FROM --platform=V alpine\n",
	"FROM --V alpine\n",
	"FROM alpine\nARG =V\n",
	"FROM alpine\nENV =V\n",
	"FROM alpine\nENV\n",
	"FROM alpine\nLABEL =V\n",
	"FROM alpine\nSHELL V\n",
	"FROM alpine\nSHELL [\"V\"\n",
	"FROM alpine\nUSER\n",
	"FROM alpine\nMAINTAINER\n",
	"FROM alpine\nCOPY V\n",
	"FROM alpine\nCOPY <<EOF /a\nV\n",
	"FROM alpine\nRUN <<EOF\nV\n",
	"# escape=V\nFROM alpine\n",
	"# syntax=V\nFROM alpine\nARG NPM_TOKEN\nRUN npm ci\n",
	"# check=V\nFROM alpine\n",
	"FROM alpine\nCMD [\"V\",\n",
	"V",
	"# hushbuild=V\nFROM alpine\n",
	"# hushbuild=V=1\nFROM alpine\n",
	"# hushbuild=optional=V\nFROM alpine\n",
	"# hushbuild=strict=V\nFROM alpine\n",
	"# hushbuild=not-secrets=V*;not-secrets=*\nFROM alpine\n",
	"# hushbuild=disable=V\nFROM alpine\n",
	"# hushbuild=secrets=A;V\nFROM alpine\n",
	"FROM alpine\n# hushbuild:ignore=V a reason\nRUN true\n",
	"FROM alpine\n# hushbuild:ignore=HardcodedSecret,V a reason\nRUN true\n",
	"FROM alpine\n# hushbuild:V\nRUN true\n",
	"FROM alpine\n# hushbuild:ignore=SecretArg,V\nARG NPM_TOKEN\nRUN npm ci\n",
	"FROM alpine\n# hushbuild:ignore=CannotRewrite V\nRUN true\n",
	"FROM alpine\n# hushbuild:ignore=SecretInBuildOutput V\nRUN true\n",
	"FROM alpine\n# hushbuild:ignore=Nope V\nRUN true\n",
	"FROM alpine\n# hushbuild:ignore=SecretArg V\n\nRUN true\n",
	"FROM alpine\nENV GITHUB_TOKEN=V\n",
	"FROM alpine\nARG NPM_TOKEN=V\nRUN npm ci\n",
	"FROM alpine\nRUN curl https://user:V@example.com/x\n",
	"FROM alpine\nLABEL token=V\n",
	"FROM alpine\nARG NPM_TOKEN\nLABEL token=$NPM_TOKEN-V\n",
	"FROM alpine\nCOPY --chown=V:V .npmrc /root/.npmrc\n",
	"FROM alpine\nCOPY .npmrc /V/\"x\n",
	// An ONBUILD ENV's values, which read like secret names when they
	// say pass, key or token.
	"FROM alpine\nONBUILD ENV API_KEY=MyPass_V\n",
	"FROM alpine\nONBUILD ENV API_KEY MyPass_V\n",
	"FROM alpine\nONBUILD ENV NODE_ENV=production DB_PASSWORD=token_V\n",
	"FROM alpine\nONBUILD ARG API_KEY=MyPass_V\n",
}

// Paths of the image (a WORKDIR, a COPY destination) are named in
// findings: they say where a secret mount goes, and are no place for a
// credential.

// TestNoErrorEchoesAValue feeds random credentials of every shape through
// every error path of the engine: parse errors, the directive, the
// suppression comments, the findings. No error, finding or suppression
// holds one, except the Dockerfile text of the output (which is the
// Dockerfile's own).
func TestNoErrorEchoesAValue(t *testing.T) {
	for shape, value := range canaryShapes(t) {
		for i, tmpl := range errorPaths {
			// V stands for the value, but not inside ENV (NODE_ENV).
			df := strings.ReplaceAll(strings.ReplaceAll(strings.ReplaceAll(tmpl, "ENV", "\x00"), "V", value), "\x00", "ENV")
			for _, strict := range []bool{false, true} {
				res, err := Rewrite([]byte(df), Config{Strict: strict})
				if err != nil {
					if strings.Contains(err.Error(), value) {
						t.Errorf("%s value, path %d: the error holds it", shape, i)
					}
					continue
				}
				findings, _ := json.Marshal(res.Findings)
				if strings.Contains(string(findings), value) {
					t.Errorf("%s value, path %d: a finding holds it", shape, i)
				}
				if e := res.Err(); e != nil && strings.Contains(e.Error(), value) {
					t.Errorf("%s value, path %d: Result.Err holds it", shape, i)
				}
				if strings.Contains(strings.Join(res.SecretArgs, ","), value) {
					t.Errorf("%s value, path %d: SecretArgs hold it", shape, i)
				}
			}
		}
	}
	for shape, value := range canaryShapes(t) {
		for _, text := range []string{value, value + "=1", "optional=" + value, "not-secrets=" + value + ";" + value, "disable=" + value, "secrets=" + value + ";x"} {
			if _, err := ParseConfig(Config{}, text); err != nil && strings.Contains(err.Error(), value) {
				t.Errorf("%s value: the configuration error of %q holds it", shape, strings.ReplaceAll(text, value, "<value>"))
			}
		}
	}
}
