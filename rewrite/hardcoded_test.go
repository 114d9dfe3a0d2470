package rewrite

import (
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"testing"
)

func TestLiteralUserinfo(t *testing.T) {
	for text, want := range map[string]bool{
		"pip install --extra-index-url https://username:password@my.pypi.com/pypi x": true,
		"ADD https://deploy:Zt8qK2vLwP4xN7rB@artifacts.acme/app.tgz /app.tgz":        true,
		"git clone https://${USER}:${TOKEN}@github.com/acme/x.git":                   false,
		"pip install --index-url https://$PYPI_USER:$PYPI_PASS@pypi.acme/simple x":   false,
		"git clone https://$TOKEN:x-oauth-basic@github.com/acme/x.git":               false,
		"curl https://example.com/file":                                              false,
		"git clone git@github.com:acme/x.git":                                        false,
		"curl https://user@host/x":                                                   false,
	} {
		if got := literalUserinfo(text); got != want {
			t.Errorf("literalUserinfo(%q) = %v, want %v", text, got, want)
		}
	}
}

// userinfoRe is what literalUserinfo finds, as the regular expression it
// replaced.
var userinfoRe = regexp.MustCompile(`[A-Za-z][A-Za-z0-9+.-]*://([^\s/:@'"]+):([^\s/@'"]+)@`)

func literalUserinfoRegexp(text string) bool {
	for _, m := range userinfoRe.FindAllStringSubmatch(text, -1) {
		if !strings.ContainsAny(m[2], "$`") && !strings.ContainsAny(m[1], "$`") {
			return true
		}
	}
	return false
}

// TestLiteralUserinfoMatchesRegexp holds literalUserinfo equal to the
// regular expression on random texts made of the characters that matter
// to it.
func TestLiteralUserinfoMatchesRegexp(t *testing.T) {
	pieces := []string{"://", "://", "@", ":", "/", "a", "Z", "7", "+", ".", "-", "_", "$", "`", "${T}", " ", "\t", "\v", "'", "\"", "é", "\xff", "https://", "u:p@", "git@h:x"}
	r := rand.New(rand.NewPCG(rand.Uint64(), rand.Uint64()))
	for i := 0; i < 50000; i++ {
		var b strings.Builder
		for n := r.IntN(14); n >= 0; n-- {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		text := b.String()
		if got, want := literalUserinfo(text), literalUserinfoRegexp(text); got != want {
			t.Fatalf("literalUserinfo(%q) = %v, the regular expression says %v", text, got, want)
		}
	}
}

func TestLiteralPasswordFlag(t *testing.T) {
	for cmd, want := range map[string]bool{
		"mysql -h db -u root -pXk29fLq7Wz appdb < schema.sql":            true,
		"mysqldump --password=Xk29fLq7Wz appdb":                          true,
		"sshpass -p 'Hn4sKe9Wq2Lp' scp a:b c":                            true,
		"unrar x assets.rar -pQv7rT2mWx9 /opt":                           true,
		"curl -fsS -u deploy:Zr8pLw3NqT6v -o x https://repo/x":           true,
		"wget --password=Zr8pLw3NqT6v https://repo/x":                    true,
		"mysql -h db -u root -p appdb":                                   false,
		"mysql -h db -u root -p$MYSQL_PASSWORD appdb":                    false,
		"sshpass -p \"$PASS\" scp a:b c":                                 false,
		"curl -u \"$USER:$TOKEN\" https://repo/x":                        false,
		"curl -u deploy: https://repo/x":                                 false,
		"mkdir -p /opt/app && cp -p a b":                                 false,
		"keytool -list -keystore cacerts -storepass changeit":            false,
		"zip -r out.zip dir":                                             false,
		"unzip -P \"$ZIP_PASSWORD\" secrets.zip":                         false,
		"wget -q https://repo/x && curl -sSf https://repo/y | sh":        false,
		"mysql --defaults-extra-file=/run/secrets/my.cnf -e 'select 1'":  false,
		"7z x -p\"${ARCHIVE_PASSWORD}\" data.7z":                         false,
		"sshpass -f /run/secrets/ssh_pass ssh host true":                 false,
		"curl --user=deploy:Zr8pLw3NqT6v https://repo/x":                 true,
		"mariadb -uroot -ps3cr3tPassw0rd -e 'create database app'":       true,
		"wget --http-password=Zr8pLw3NqT6v --http-user=u https://repo/x": true,
		// logins, tools' settings, headers, variables and .netrc lines
		"docker login -u ci -p Zr8pLw3NqT6vXk29 registry.acme.io":                          true,
		"podman login --username ci --password=Zr8pLw3NqT6vXk29 quay.io":                   true,
		"docker login -u ci -p \"$DOCKER_PASSWORD\" registry.acme.io":                      false,
		"docker login -u ci --password-stdin registry.acme.io":                             false,
		"npm config set //registry.npmjs.org/:_authToken 7f3c9a2e4b1d4e8f9a6c2d5e":         true,
		"npm config set //registry.npmjs.org/:_authToken=7f3c9a2e4b1d4e8f9a6c2d5e":         true,
		"npm config set //registry.npmjs.org/:_authToken ${NPM_TOKEN}":                     false,
		"yarn config set npmAuthToken 7f3c9a2e4b1d4e8f9a6c2d5e":                            true,
		"composer config -g http-basic.repo.acme.io ci Zr8pLw3NqT6vXk29":                   true,
		"composer config -g http-basic.repo.acme.io ci \"$REPO_PASSWORD\"":                 false,
		"composer config -g github-oauth.github.com 7f3c9a2e4b1d4e8f9a6c2d5e":              true,
		"aws configure set aws_secret_access_key wJalrXUtnFEMI/K7MDENG/bPxRfiCYz8a7k9":     true,
		"aws configure set region eu-west-1":                                               false,
		"wget --user ci --password Zr8pLw3NqT6v https://repo/x":                            true,
		"curl -H \"Authorization: Bearer 7f3c9a2e4b1d4e8f9a6c2d5e\" https://api.acme.io/x": true,
		"curl -H \"X-API-Key: 7f3c9a2e4b1d4e8f9a6c2d5e\" https://api.acme.io/x":            true,
		"curl -H \"Authorization: Bearer $TOKEN\" https://api.acme.io/x":                   false,
		"curl -H 'Content-Type: application/json' https://api.acme.io/x":                   false,
		"export API_KEY=7f3c9a2e4b1d4e8f9a6c2d5e && ./build.sh":                            true,
		"API_TOKEN=7f3c9a2e4b1d4e8f9a6c2d5e ./deploy.sh":                                   true,
		"export API_KEY=$API_KEY":                                                          false,
		"SECRET_KEY_BASE=dummy bundle exec rails assets:precompile":                        false,
		"export NODE_ENV=production PASSWORD_MIN_LENGTH=12":                                false,
		"echo \"machine repo.acme.io login ci password Zr8pLw3NqT6vXk29\" > /root/.netrc":  true,
		"echo \"machine repo.acme.io login ci password $PASS\" > /root/.netrc":             false,
		// secret-named settings, flags and URL tokens in any command
		"mvn -B -Dnexus.password=Zr8pLw3NqT6vXk29 deploy":                                                      true,
		"./gradlew publish -PmavenPassword=Zr8pLw3NqT6vXk29":                                                   true,
		"java -jar app.jar --spring.datasource.password=Zr8pLw3NqT6vXk29":                                      true,
		"echo \"spring.datasource.password=Zr8pLw3NqT6vXk29\" >> application.properties":                       true,
		"echo \"DB_PASSWORD=Zr8pLw3NqT6vXk29\" >> .env":                                                        true,
		"echo '{\"token\": \"7f3c9a2e4b1d4e8f9a6c2d5e\"}' > config.json":                                       true,
		"curl -fsSL \"https://api.acme.io/dl?token=7f3c9a2e4b1d4e8f9a6c2d5e\" -o x":                            true,
		"curl -o m.bin \"https://acme.blob.core.windows.net/m/m.bin?sv=2022-11-02&sig=Zr8pLw3NqT6vXk29\"":      true,
		"sentry-cli --auth-token 7f3c9a2e4b1d4e8f9a6c2d5e releases new 1":                                      true,
		"helm repo add acme https://charts.acme.io --username ci --password Zr8pLw3NqT6v":                      true,
		"git clone https://7f3c9a2e4b1d4e8f9a6c2d5e@github.com/acme/app.git":                                   true,
		"echo Zr8pLw3NqT6vXk29 | docker login -u ci --password-stdin registry.acme.io":                         true,
		"echo 'admin:Zr8pLw3NqT6vXk29' | chpasswd":                                                             true,
		"htpasswd -bc /etc/nginx/.htpasswd admin Zr8pLw3NqT6vXk29":                                             true,
		"twine upload -u __token__ -p Zr8pLw3NqT6vXk29 dist/*":                                                 true,
		"redis-cli -a Zr8pLw3NqT6vXk29 ping":                                                                   true,
		"npm config set _auth Zr8pLw3NqT6vXk29":                                                                true,
		"poetry config http-basic.acme ci Zr8pLw3NqT6vXk29":                                                    true,
		"bundle config set --global gems.acme.io ci:Zr8pLw3NqT6vXk29":                                          true,
		"mvn -B -Dnexus.password=$NEXUS_PASSWORD deploy":                                                       false,
		"mvn -Dmaven.repo.local=/root/.m2/repository -DskipTests package":                                      false,
		"echo \"$CR_PAT\" | docker login ghcr.io -u ci --password-stdin":                                       false,
		"docker login -u ci --password-stdin registry-1.docker.io < /run/secrets/pw":                           false,
		"gpg --batch --keyserver hkps://keys.openpgp.org --recv-keys 7169605F62C751356D054A26A821E680E5FA6305": false,
		"git clone https://github.com/acme/app.git":                                                            false,
		"git clone https://gitlab-ci-token@gitlab.acme.io/acme/app.git":                                        false,
		"curl --password-file /run/secrets/p --user ci https://repo/x":                                         false,
		"echo 'root:Docker!' | chpasswd":                                                                       false,
		"htpasswd -b /etc/nginx/.htpasswd admin \"$ADMIN_PASSWORD\"":                                           false,
		"app --auth-url=https://auth.acme.io/v3 --token-file=/run/secrets/t":                                   false,
	} {
		if got := literalPasswordFlag(cmd) != ""; got != want {
			t.Errorf("literalPasswordFlag(%q) = %v, want %v", cmd, got, want)
		}
	}
}

func TestLooksLikeCredential(t *testing.T) {
	for v, want := range map[string]bool{
		"AKIAIOSFODNN7EXAMPLE":                     true,
		"ghp_0123456789abcdefghijABCDEFGHIJ012345": true,
		"Zr8pLw3NqT6vXk29fLq7Wz":                   true,
		"pypi_pass":                                false,
		"changeme":                                 false,
		"":                                         false,
		"/run/secrets/token":                       false,
		"true":                                     false,
		"your-api-key-here":                        false,
	} {
		if got := looksLikeCredential("API_KEY", v); got != want {
			t.Errorf("looksLikeCredential(%q) = %v, want %v", v, got, want)
		}
	}
	if !looksLikePlaceholder("PYPI_PASS", "pypi_pass") || looksLikePlaceholder("API_KEY", "Zr8pLw3NqT6v") {
		t.Error("placeholder detection")
	}
	// Products' well-known defaults are placeholders, not secrets.
	for name, v := range map[string]string{"RABBITMQ_DEFAULT_PASS": "guest", "MINIO_ROOT_PASSWORD": "minioadmin", "KEYSTORE_PASSWORD": "changeit", "GRAFANA_ADMIN_PASSWORD": "admin"} {
		if !looksLikePlaceholder(name, v) {
			t.Errorf("%s=%s is not taken for a well-known default", name, v)
		}
	}
	if looksLikePlaceholder("RABBITMQ_DEFAULT_PASS", "guest-8f3Kq2") {
		t.Error("a value that starts with a default's word is taken for the default")
	}
}

// TestHardcodedInJSONEscapes: a token written with JSON escapes in an
// exec form is no token in the Dockerfile's text, but BuildKit decodes it
// into the history (RUN) or the config (CMD, ENTRYPOINT, HEALTHCHECK).
func TestHardcodedInJSONEscapes(t *testing.T) {
	b := make([]byte, 18)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	token := "ghp_" + hex.EncodeToString(b)
	var esc strings.Builder
	for _, r := range token {
		fmt.Fprintf(&esc, `\u%04x`, r)
	}
	for _, line := range []string{
		`RUN ["sh", "-c", "echo ` + esc.String() + ` > /dev/null"]`,
		`CMD ["curl", "-H", "Authorization: token ` + esc.String() + `", "https://api.github.com/user"]`,
		`ENTRYPOINT ["/app", "--token=` + esc.String() + `"]`,
		`HEALTHCHECK CMD ["/app", "--token=` + esc.String() + `"]`,
		`ONBUILD RUN ["/app", "--token=` + esc.String() + `"]`,
		// Only the decoded text has a user:password@: : and @ escaped.
		`CMD ["curl", "https://deploy\u003aQx` + hex.EncodeToString(b[:8]) + `Zq9\u0040example.com/x"]`,
	} {
		res, err := Rewrite([]byte("FROM alpine\n"+line+"\n"), Config{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, f := range res.Findings {
			found = found || f.Rule == RuleHardcodedSecret.Name && f.Range.Start == 2
		}
		if !found {
			t.Errorf("%s: no HardcodedSecret", strings.Fields(line)[0])
		}
	}
}

func TestLiteralInText(t *testing.T) {
	for text, want := range map[string]bool{
		"-Xmx2g -Djavax.net.ssl.keyStorePassword=Zr8pLw3NqT6vXk29":                      true,
		"https://Zr8pLw3NqT6vXk29fLq7Wz@github.com/acme/app.git":                        true,
		`{"password": "Zr8pLw3NqT6vXk29"}`:                                              true,
		"<server><id>nexus</id><password>Zr8pLw3NqT6vXk29</password></server>":          true,
		"[db]\npassword = Zr8pLw3NqT6vXk29\n":                                           true,
		"https://acme.blob.core.windows.net/m/m.bin?sv=2022-11-02&sig=Zr8pLw3NqT6vXk29": true,
		"-Xmx2g -Djavax.net.ssl.keyStorePassword=${KEYSTORE_PASSWORD}":                  false,
		"-Dspring.profiles.active=prod":                                                 false,
		"<server><id>nexus</id><password>${env.NEXUS_PASSWORD}</password></server>":     false,
		"https://github.com/acme/app.git":                                               false,
		"password = changeme":                                                           false,
		"token_url=https://auth.acme.io/Token2":                                         false,
		"PASSWORD_MIN_LENGTH=12":                                                        false,
	} {
		if got := literalInText(text) != ""; got != want {
			t.Errorf("literalInText(%q) = %v, want %v", text, got, want)
		}
	}
}

// FuzzSettingIn: build-arg values and the Dockerfile's literals are any
// text; the settings scanner never panics, and the key it names is a part
// of the text (never a value it made up).
func FuzzSettingIn(f *testing.F) {
	f.Add("Server=db;Database=app;User Id=sa;Password=Sup3rS3cret;")
	f.Add(`<settings><servers><server><id>n</id><password>s3cretP4ss</password></server></servers></settings>`)
	f.Add(`<add key="ClearTextPassword" value="p4ssW0rd" />`)
	f.Add("https://acct.blob.core.windows.net/c/m.bin?sv=2022-11-02&sig=abcDEF123%3D")
	f.Add("{\"auths\": {\"r\": {\"auth\": \"dXNlcjpwYXNz\"}}}")
	f.Add("token: abcdef123456\n")
	f.Fuzz(func(t *testing.T, v string) {
		key := SettingIn(v, func(key, val string) bool { return len(val) > 0 })
		if key != "" && !strings.Contains(strings.ToLower(v), strings.ToLower(strings.TrimSpace(key))) {
			t.Fatalf("SettingIn named a key that is not in the text")
		}
	})
}

// TestSettingInForms: SettingIn finds a setting in each of its forms, each
// with its '=', ':' or '<', and nothing in text without one of those.
func TestSettingInForms(t *testing.T) {
	yes := func(key, val string) bool { return true }
	for _, v := range []string{"a=b", "-Dx.y=z", "Server=db;Password=p", `{"k": "v"}`, "k: v", "<password>p</password>", `<add key="k" value="v"/>`} {
		if SettingIn(v, yes) == "" {
			t.Errorf("SettingIn(%q) found nothing", v)
		}
	}
	for _, v := range []string{"", "install", "-r requirements.txt", "a b c", `"quoted" 'x'`, "https//host/x"} {
		if k := SettingIn(v, yes); k != "" {
			t.Errorf("SettingIn(%q) = %q", v, k)
		}
	}
}

// TestHardcodedOutsideRun: a password given literally to a command the
// image keeps (CMD, ENTRYPOINT, HEALTHCHECK) or that an ONBUILD holds is in
// the image's config; an exec form's is in its history too. The value is
// no token of a known format: only where it stands says it is a secret.
func TestHardcodedOutsideRun(t *testing.T) {
	b := make([]byte, 20)
	if _, err := crand.Read(b); err != nil {
		t.Fatal(err)
	}
	v := "hfc_" + hex.EncodeToString(b)
	for line, want := range map[string]bool{
		`HEALTHCHECK CMD curl -fsS -H "Authorization: Bearer ` + v + `" http://localhost:8080/health || exit 1`: true,
		`HEALTHCHECK --interval=30s CMD ["curl", "-H", "Authorization: Bearer ` + v + `", "http://localhost/"]`: true,
		`CMD curl -H "X-Api-Key: ` + v + `" https://api.example.com/`:                                           true,
		`CMD ["sh", "-c", "curl -u ci:` + v + ` https://pkg.acme.io/x"]`:                                        true,
		`ENTRYPOINT ["app", "--db-password", "` + v + `"]`:                                                      true,
		`ENTRYPOINT mysql -uroot -p` + v + ` app`:                                                               true,
		`RUN ["mysql", "-uroot", "-p` + v + `", "-e", "select 1"]`:                                              true,
		`ONBUILD RUN npm config set //registry.npmjs.org/:_authToken ` + v:                                      true,
		`ONBUILD ENV NPM_TOKEN=` + v:                                                                            true,
		`ONBUILD CMD ["app", "--api-token", "` + v + `"]`:                                                       true,
		`ONBUILD LABEL com.acme.api_key="` + v + `"`:                                                            true,
		`ADD https://api.acme.io/v1/artifacts/lib.tgz?access_token=` + v + ` /tmp/lib.tgz`:                      true,
		`ADD --checksum=sha256:0123 https://acme.jfrog.io/libs/lib.tgz?apikey=` + v + ` /tmp/`:                  true,
		`ADD https://github.com/acme/lib/archive/refs/tags/v1.0.tar.gz?raw=true /tmp/`:                          false,
		`ADD https://example.com/dl?token=$DL_TOKEN /tmp/x`:                                                     false,
		// References and files, not values.
		`CMD ["redis-server", "--requirepass", "$REDIS_PASSWORD"]`:                               false,
		`CMD redis-server --requirepass "$REDIS_PASSWORD"`:                                       false,
		`ENTRYPOINT ["app", "--password-file", "/run/secrets/db_password"]`:                      false,
		`HEALTHCHECK CMD curl -H "Authorization: Bearer $API_TOKEN" http://localhost/ || exit 1`: false,
		`HEALTHCHECK NONE`:                            false,
		`ONBUILD ENV NPM_TOKEN=${NPM_TOKEN}`:          false,
		`ONBUILD ENV NODE_ENV=production`:             false,
		`CMD ["node", "server.js", "--port", "8080"]`: false,
		`ENTRYPOINT ["docker-entrypoint.sh"]`:         false,
	} {
		res, err := Rewrite([]byte("FROM alpine\n"+line+"\n"), Config{})
		if err != nil {
			t.Fatalf("%s: %v", strings.Fields(line)[0], err)
		}
		found := false
		for _, f := range res.Findings {
			found = found || f.Rule == RuleHardcodedSecret.Name && f.Range.Start == 2
		}
		if found != want {
			t.Errorf("%s: HardcodedSecret %v, want %v", strings.ReplaceAll(line, v, "VALUE"), found, want)
		}
	}
}

// FuzzLiteralPasswordFlagOneWord: literalPasswordFlag skips the parse of a
// text with no '=', '|' or blank; the parse would find nothing there.
func FuzzLiteralPasswordFlagOneWord(f *testing.F) {
	for _, s := range []string{"python", "/app/server", "a;b&c", "(x)&&{y;}", "$(--password)", "`-pXk29fLq7Wz`", "'--password'\"x\"", "$'a\\x20-p\\x20b'", "mysql;-pXk29fLq7Wz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if strings.ContainsAny(s, "=| \t\n\r\v\f") {
			return
		}
		file, err := parseShell(s)
		if err != nil {
			return
		}
		if r := passwordFlagIn(file); r != "" {
			t.Fatalf("passwordFlagIn found %s in a text with no '=', '|' or blank", r)
		}
	})
}
