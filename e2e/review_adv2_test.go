package e2e

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

// adv2Cases are more review cases (see reviewCase), built and checked as
// TestReviewLeaks builds its cases.
var adv2Cases = []reviewCase{
	{
		// A multi-platform build whose builder stage runs on the build
		// platform for each target (FROM --platform=$BUILDPLATFORM, a
		// cross-compiling toolchain) and whose script writes the token
		// only for one of them: the check must run for every platform.
		name:       "multi-platform build: the arm64 variant keeps the token",
		dockerfile: "FROM --platform=$BUILDPLATFORM alpine AS build\nARG TARGETARCH\nWORKDIR /src\nCOPY build.sh .\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN sh build.sh\nFROM scratch\nCOPY --from=build /out/ /app/\n",
		files: func(string) map[string]string {
			return map[string]string{"build.sh": "#!/bin/sh\nset -e\nmkdir -p /out\necho \"built for $TARGETARCH\" > /out/BUILD\nif [ \"$TARGETARCH\" = arm64 ]; then\n  printf '//npm.pkg.github.com/:_authToken=%s\\n' \"$NPM_TOKEN\" > /out/.npmrc\nfi\n"}
		},
		flags: func(string) []string {
			return []string{"--platform", "linux/amd64,linux/arm64", "--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"}
		},
	},
	{
		// Gradle's WriteProperties task (and java.util.Properties.store
		// behind it, as Spring Boot's build-info and Maven's
		// properties-maven-plugin write) escapes = : # ! with a
		// backslash: a generated secret (openssl rand -base64 32) ends
		// with =, and the file holds it as \=.
		name:       "base64 signing secret written by Properties.store escaping its =",
		dockerfile: "FROM maven:3.9-eclipse-temurin-21 AS build\nCOPY --chmod=755 tools/gradle /usr/local/bin/gradle\nWORKDIR /src\nCOPY . .\nRUN --mount=type=secret,id=JWT_SECRET,env=JWT_SECRET gradle writeBuildProperties bootJar\nFROM maven:3.9-eclipse-temurin-21\nCOPY --from=build /src/build/resources/main/ /app/config/\nCMD [\"java\", \"-jar\", \"/app/app.jar\"]\n",
		value:      func(t *testing.T) string { return randomBase64(t, 32) },
		files: func(string) map[string]string {
			return map[string]string{"tools/gradle": gradlePropertiesStandIn, "build.gradle": "tasks.register('writeBuildProperties', WriteProperties) {\n  destinationFile = file('build/resources/main/app.properties')\n  property 'jwt.secret', System.getenv('JWT_SECRET')\n}\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=JWT_SECRET,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string { return []string{javaPropertiesEscaped(v)} },
	},
	{
		// Laravel's php artisan config:cache writes every config value
		// with var_export into bootstrap/cache/config.php: ' and \ get a
		// backslash, nothing else does (a password with ' and ! is
		// neither bash's printf %q form nor JSON's).
		name:       "Laravel config:cache var_exports a password with a quote",
		dockerfile: "FROM alpine\nCOPY --chmod=755 tools/php /usr/local/bin/php\nWORKDIR /var/www/html\nCOPY . .\nRUN --mount=type=secret,id=DB_PASSWORD,env=DB_PASSWORD php artisan config:cache\nCMD [\"php\", \"artisan\", \"serve\"]\n",
		value:      func(t *testing.T) string { return "Qz'" + longCanary(t, 10) + "!x&" + longCanary(t, 4) },
		files: func(string) map[string]string {
			return map[string]string{"tools/php": phpConfigCacheStandIn, "artisan": "#!/usr/bin/env php\n<?php\n", "config/database.php": "<?php return ['connections' => ['mysql' => ['password' => env('DB_PASSWORD')]]];\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=DB_PASSWORD,env=HF_SECRET_VALUE"} },
		forms: func(v string) []string { return []string{phpSingleQuoted(v)} },
	},
	{
		// vercel/pkg packs a CLI into one executable with its production
		// configuration as an asset, mounted from a secret for the build
		// only; --compress GZip gzips each file into the payload pkg
		// appends to the node binary: no file of the layer holds the
		// value, nor starts with the gzip stream that does.
		name:       "pkg --compress GZip bundles a config asset from a secret mount",
		dockerfile: "FROM node:20 AS build\nCOPY --chmod=755 tools/pkg /usr/local/bin/pkg\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=app_config,target=/app/config/production.json pkg --compress GZip -t node18-linuxstatic-x64 -o /out/acme index.js\nFROM alpine\nCOPY --from=build /out/acme /usr/local/bin/acme\nCMD [\"acme\"]\n",
		files: func(string) map[string]string {
			return map[string]string{"tools/pkg": pkgStandIn, "index.js": "const cfg = require('./config/production.json');\nconsole.log('acme for', cfg.region);\n", "package.json": `{"name": "acme", "bin": "index.js", "pkg": {"assets": ["config/**"]}}` + "\n", "config/default.json": `{"region": "eu-west-1"}` + "\n"}
		},
		secretFile: func(v string) (string, string) {
			return "app_config", `{"region": "eu-west-1", "db": {"password": "` + v + `"}}` + "\n"
		},
	},
	{
		// A release script packs the application directory with tar and
		// zstd --long (or --ultra -22): streamed, zstd declares a window
		// of 128 MiB in the frame, past what the check decompresses. The
		// .env mounted from a secret in that directory goes into the
		// archive with the rest.
		name:       "release tarball made with zstd --long holds the mounted .env",
		dockerfile: "FROM python:3.12.2-slim AS build\nCOPY --chmod=755 tools/zstd /usr/local/bin/zstd\nWORKDIR /app\nCOPY . .\nRUN --mount=type=secret,id=dotenv,target=/app/.env sh ci/package.sh\nFROM python:3.12.2-slim\nCOPY --from=build /artifacts/ /opt/releases/\nCMD [\"ls\", \"/opt/releases\"]\n",
		files: func(string) map[string]string {
			// The host's zstd(1): the lab's Debian image lacks it, and
			// both are Debian bookworm (its libraries are in the image).
			zstdBin, err := os.ReadFile("/usr/bin/zstd")
			if err != nil {
				panic("the zstd --long case needs zstd(1) on the host (Debian: apt-get install zstd): " + err.Error())
			}
			return map[string]string{"tools/zstd": string(zstdBin), "app.py": "print('hi')\n", "ci/package.sh": "#!/bin/sh\nset -e\nmkdir -p /artifacts\npython -c 'import compileall; compileall.compile_dir(\".\", quiet=1)'\ntar -I 'zstd -T0 --long' -cf /artifacts/app-1.0.tar.zst -C /app .\n"}
		},
		secretFile: func(v string) (string, string) {
			return "dotenv", "DJANGO_DEBUG=false\nDATABASE_PASSWORD=" + v + "\n"
		},
		realTools: true,
	},
	{
		// Honeycomb's Beelines read their key from HONEYCOMB_WRITEKEY
		// (and LaunchDarkly's, Optimizely's and ConfigCat's SDKs from an
		// SDKKEY): one word ending in key, where API_KEY, APIKEY and
		// WRITE_KEY are secrets. Passed as a build-arg and kept in ENV
		// for the running service.
		name:       "HONEYCOMB_WRITEKEY build-arg kept in ENV",
		dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nARG HONEYCOMB_WRITEKEY\nENV HONEYCOMB_WRITEKEY=$HONEYCOMB_WRITEKEY HONEYCOMB_DATASET=api\nRUN npm ci\nCMD [\"node\", \"server.js\"]\n",
		files: func(string) map[string]string {
			return map[string]string{"package.json": `{"name": "api", "dependencies": {"honeycomb-beeline": "^3.0.0"}}` + "\n", "server.js": "require('honeycomb-beeline')();\n"}
		},
		flags: func(v string) []string { return []string{"--build-arg", "HONEYCOMB_WRITEKEY=" + v} },
	},
	{
		// Tailscale's auth key (TS_AUTHKEY, as its documentation and
		// image name it) for a build that reaches a private registry
		// on the tailnet: the RUN that uses it puts it in the history.
		name:       "TS_AUTHKEY build-arg for tailscale up in a RUN",
		dockerfile: "FROM node:20\nWORKDIR /app\nCOPY . .\nARG TS_AUTHKEY\nRUN (tailscale up --authkey=\"$TS_AUTHKEY\" --hostname=ci-build || true) && npm ci\nCMD [\"node\", \"server.js\"]\n",
		files: func(string) map[string]string {
			return map[string]string{"package.json": `{"name": "api"}` + "\n", "server.js": "console.log(1)\n"}
		},
		flags: func(v string) []string { return []string{"--build-arg", "TS_AUTHKEY=" + v} },
	},
	{
		// A package of the service built for the fleet (nfpm, fpm -t rpm,
		// rpmbuild), the licence key mounted from a secret where the
		// package takes its files: the RPM's payload, a gzip-compressed
		// cpio archive after the package's headers, holds it.
		name:       "RPM package built with a licence key from a secret mount",
		dockerfile: "FROM golang:1.22 AS build\nCOPY --chmod=755 tools/nfpm /usr/local/bin/nfpm\nWORKDIR /src\nCOPY . .\nRUN --mount=type=secret,id=license,target=/src/pkg/etc/acme/license.key nfpm pkg --packager rpm --target /out/\nFROM alpine\nCOPY --from=build /out/ /dist/\nCMD [\"ls\", \"/dist\"]\n",
		files: func(string) map[string]string {
			return map[string]string{"tools/nfpm": nfpmStandIn, "nfpm.yaml": "name: acme\nversion: 1.0.0\ncontents:\n  - src: pkg/etc/acme/\n    dst: /etc/acme/\n", "pkg/etc/acme/acme.conf": "listen = :8080\n", "pkg/usr/bin/acme": "#!/bin/sh\necho acme\n"}
		},
		secretFile: func(v string) (string, string) { return "license", v + "\n" },
	},
	{
		// The licence file the build mounts as a secret (--secret
		// id=license,src=config/acme.lic) is also in the context, under
		// a name no credential file has, and COPY --link --chmod of the
		// configuration directory brings it in: a copy made apart from
		// its stage and merged onto it.
		name:       "COPY --link --chmod of a context directory holding the licence passed as a secret",
		dockerfile: "FROM golang:1.22 AS build\nWORKDIR /src\nCOPY main.go .\nRUN --mount=type=secret,id=license mkdir -p /out && go build -o /out/acme . && touch /out/acme\nFROM alpine\nCOPY --link --from=build /out/acme /usr/local/bin/acme\nCOPY --link --chmod=644 config/ /etc/acme/\nCMD [\"acme\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{"main.go": "package main\nfunc main() {}\n", "config/acme.conf": "listen = :8080\n", "config/acme.lic": v + "\n"}
		},
		flags: func(v string) []string { return []string{"--secret", "id=license,src=config/acme.lic"} },
	},
	{
		// A stage that renders the registry credentials, and a later
		// stage that reaches them only through a bind mount of that
		// stage (kept out of its layers), printing the file while
		// debugging the install: the build stops on the first stage's
		// layer, but the later step has printed it by then.
		name:       "log: a RUN --mount=from= of a stage that rendered the token prints it",
		dockerfile: "FROM alpine AS creds\nCOPY render-npmrc.sh /\nRUN --mount=type=secret,id=NPM_TOKEN,env=NPM_TOKEN sh /render-npmrc.sh\nFROM node:20\nWORKDIR /app\nCOPY package.json .\nRUN --mount=type=bind,from=creds,source=/out,target=/creds cat /creds/npmrc; npm ci --userconfig /creds/npmrc\nCMD [\"node\", \"server.js\"]\n",
		files: func(string) map[string]string {
			return map[string]string{"render-npmrc.sh": "#!/bin/sh\nmkdir -p /out\nprintf '//npm.pkg.github.com/:_authToken=%s\\n' \"$NPM_TOKEN\" > /out/npmrc\n", "package.json": `{"name": "api"}` + "\n"}
		},
		flags: func(string) []string { return []string{"--secret", "id=NPM_TOKEN,env=HF_SECRET_VALUE"} },
	},
	{
		// openssl rsa -check without -noout prints the key it checked,
		// and OpenSSL 3 writes it as PKCS #8: the secret (a PKCS #1
		// "BEGIN RSA PRIVATE KEY" key, as ssh-keygen -m PEM and older
		// openssl genrsa make) in other base64 lines than its own.
		name:       "log: openssl rsa -check prints a PKCS #1 key secret as PKCS #8",
		dockerfile: "FROM python:3.12.2-slim\nWORKDIR /app\nCOPY check-key.sh /usr/local/bin/\nRUN --mount=type=secret,id=tls_key sh /usr/local/bin/check-key.sh\nCMD [\"python\", \"-m\", \"http.server\"]\n",
		value:      rsaKeyPKCS1PEM,
		files: func(string) map[string]string {
			return map[string]string{"check-key.sh": "#!/bin/sh\nset -e\nopenssl rsa -in /run/secrets/tls_key -check\n"}
		},
		secretFile: func(v string) (string, string) { return "tls_key", v },
		// The lines past the public modulus (the first 7 of the body).
		forms:     func(v string) []string { return pemBodyLines(pkcs8Of(v))[7:] },
		realTools: true,
	},
}

// pkgStandIn stands for vercel/pkg, which packs a Node.js program into
// one executable: the base binary (pkg-fetch's node; here busybox) with
// the program's files appended, each gzip-compressed with --compress
// GZip, then the prelude that finds them. The files are the entry and
// the package's assets (package.json's "pkg": {"assets": ["config/**"]}).
const pkgStandIn = `#!/bin/sh
set -e
out= comp= entry=
while [ $# -gt 0 ]; do
  case $1 in
    -o|--output) out=$2; shift 2 ;;
    -C|--compress) comp=$2; shift 2 ;;
    -t|--targets) shift 2 ;;
    *) entry=$1; shift ;;
  esac
done
mkdir -p "$(dirname "$out")"
cat /bin/busybox > "$out"
for f in "$entry" $(find config -type f | sort); do
  if [ "$comp" = GZip ]; then gzip -9 -c "$f" >> "$out"; else cat "$f" >> "$out"; fi
done
printf '(function(process, require, console, EXECPATH_FD, PAYLOAD_POSITION, PAYLOAD_SIZE) { /* pkg prelude */ })' >> "$out"
chmod 755 "$out"
echo "> pkg@5.8.1"
`

// nfpmStandIn stands for nfpm pkg --packager rpm (and rpmbuild, fpm -t
// rpm): an RPM package of the files under pkg/: the lead, the signature
// and header (here a stand-in of their bytes), then the payload, a
// gzip-compressed cpio archive (newc) of the files.
const nfpmStandIn = `#!/bin/sh
set -e
target=.
while [ $# -gt 0 ]; do
  case $1 in
    -t|--target) target=$2; shift 2 ;;
    *) shift ;;
  esac
done
mkdir -p "$target"
out=$target/acme-1.0.0-1.x86_64.rpm
{
  printf '\355\253\356\333\003\000\000\001acme-1.0.0-1'
  head -c 76 /dev/zero
  printf '\216\255\350\001\000\000\000\000\000\000\000\003\000\000\000\040'
  head -c 64 /dev/zero
  (cd pkg && find . | cpio -o -H newc 2>/dev/null | gzip -9)
} > "$out"
echo "using rpm packager... created package: $out"
`

// gradlePropertiesStandIn stands for Gradle running a WriteProperties
// task: the environment's JWT_SECRET written as java.util.Properties
// stores a value (\ = : # ! escaped with a backslash).
const gradlePropertiesStandIn = `#!/bin/sh
set -e
mkdir -p build/resources/main build/libs
esc=$(printf '%s' "$JWT_SECRET" | sed -e 's/\\/\\\\/g' -e 's/[=:#!]/\\&/g')
printf '#Generated by Gradle\njwt.secret=%s\n' "$esc" > build/resources/main/app.properties
echo "BUILD SUCCESSFUL"
`

// phpConfigCacheStandIn stands for php artisan config:cache: the
// configuration as var_export writes it (' and \ escaped with a
// backslash) in bootstrap/cache/config.php.
const phpConfigCacheStandIn = `#!/bin/sh
set -e
mkdir -p bootstrap/cache
esc=$(printf '%s' "$DB_PASSWORD" | sed -e 's/\\/\\\\/g' -e "s/'/\\\\'/g")
printf "<?php return array (\n  'database' => \n  array (\n    'connections' => \n    array (\n      'mysql' => \n      array (\n        'password' => '%s',\n      ),\n    ),\n  ),\n);\n" "$esc" > bootstrap/cache/config.php
echo "   INFO  Configuration cached successfully."
`

// randomBase64 is n random bytes in standard base64, padded, as
// openssl rand -base64 N prints them (registered like a canary).
func randomBase64(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	v := base64.StdEncoding.EncodeToString(b)
	runSecrets.add(t.Name(), v)
	return v
}

// javaPropertiesEscaped is v as java.util.Properties.store writes a
// value of printable ASCII.
func javaPropertiesEscaped(v string) string {
	return strings.NewReplacer(`\`, `\\`, "=", `\=`, ":", `\:`, "#", `\#`, "!", `\!`).Replace(v)
}

// phpSingleQuoted is v inside PHP's var_export single quotes.
func phpSingleQuoted(v string) string {
	return strings.NewReplacer(`\`, `\\`, "'", `\'`).Replace(v)
}

// rsaKeyPKCS1PEM is a fresh RSA private key, PKCS #1 PEM (registered like
// a canary).
func rsaKeyPKCS1PEM(t *testing.T) string {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	v := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}))
	runSecrets.add(t.Name(), v)
	return v
}

// pkcs8Of is the PKCS #1 PEM key v as PKCS #8 PEM.
func pkcs8Of(v string) string {
	b, _ := pem.Decode([]byte(v))
	if b == nil {
		panic("pkcs8Of: no PEM block")
	}
	k, err := x509.ParsePKCS1PrivateKey(b.Bytes)
	if err != nil {
		panic(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		panic(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
}

// TestReviewAdv2Leaks builds each case of adv2Cases through the frontend.
func TestReviewAdv2Leaks(t *testing.T) {
	l := needLab(t)
	for _, tc := range adv2Cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l.runReviewCase(t, tc)
		})
	}
}
