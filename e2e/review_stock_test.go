package e2e

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/buildcontext"
	"github.com/hushbuild/hushbuild/rewrite"
)

// stockCase is a legacy Dockerfile, found by review, that the CLI
// rewrites and a user builds with the stock frontend, where no build-time
// check runs: the rewrite must refuse it, or the rewritten build must
// fail, or it must keep the secret out of the image, its history, the
// provenance and the cache (and the tool must still get the credential).
type stockCase struct {
	name string
	// base, when set, is the Dockerfile of a base image pushed first (from
	// the lab's test image, as alpine): {{BASE}} in dockerfile names it.
	base string
	// dockerfile is the legacy Dockerfile, without its `# syntax=` line;
	// the secret is the ARG or secret NAME, given as
	// --secret id=NAME,env=NAME.
	dockerfile string
	secret     string
	// tool, when set, is the stand-in that must print the credential's
	// hash in a rewritten build that succeeds.
	tool string
	// files, when set, are the build context's files, made from the
	// value; the rewrite is told about the context as the CLI is.
	files func(v string) map[string]string
	// builds, when set, means the rewrite must neither refuse the file
	// nor break its build: the pattern has a safe rewrite.
	builds bool
}

var stockCases = []stockCase{
	{
		// A script fed to a shell on its standard input: the shell runs
		// it as sh -c would, but nothing reads it as a script.
		name:       "heredoc script fed to sh writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN sh <<'EOS'\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc\nnpm ci\nEOS\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "heredoc script fed to bash -e writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN sh -e <<EOS\necho \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > /root/.npmrc\nnpm ci\nEOS\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// npm writes the file NPM_CONFIG_USERCONFIG names; the script,
		// not the Dockerfile, sets it.
		name:       "npm config set after export NPM_CONFIG_USERCONFIG",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN export NPM_CONFIG_USERCONFIG=/app/.npmrc && npm config set //registry.npmjs.org/:_authToken ${NPM_TOKEN} && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "composer config -g after COMPOSER_HOME= in the script",
		dockerfile: "FROM alpine\nARG GITHUB_TOKEN\nWORKDIR /app\nRUN COMPOSER_HOME=/opt/composer; export COMPOSER_HOME; composer config -g github-oauth.github.com ${GITHUB_TOKEN} && composer install\n",
		secret:     "GITHUB_TOKEN",
		tool:       "composer",
	},
	{
		// cimg/node, bitnami and others run as a user of their own: the
		// CLI does not read the base image's configuration.
		name:       "base image with a user and HOME of its own",
		base:       "FROM alpine\nRUN echo 'circleci:x:3434:3434::/home/circleci:/bin/sh' >> /etc/passwd && mkdir -p /home/circleci/project && echo '{}' > /home/circleci/project/package.json && chown -R 3434 /home/circleci\nUSER circleci\nENV HOME=/home/circleci\nWORKDIR /home/circleci/project\n",
		dockerfile: "FROM {{BASE}}\nARG NPM_TOKEN\nRUN echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > ~/.npmrc && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// composer:2 sets COMPOSER_HOME=/tmp (rust CARGO_HOME, ruby
		// BUNDLE_APP_CONFIG): the CLI does not read the base image's
		// environment, so composer writes where the rewrite does not clean.
		name:       "base image that sets COMPOSER_HOME",
		base:       "FROM alpine\nENV COMPOSER_HOME=/tmp\nWORKDIR /app\n",
		dockerfile: "FROM {{BASE}}\nARG GITHUB_TOKEN\nRUN composer config -g github-oauth.github.com ${GITHUB_TOKEN} && composer install\n",
		secret:     "GITHUB_TOKEN",
		tool:       "composer",
	},
	{
		// The nested shell's cd moves only the nested shell; the later
		// RUN's replay must write where the first RUN did.
		name:       "cd inside sh -c replayed in a later RUN",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN mkdir web && echo '{}' > web/package.json\nRUN sh -c 'cd web && echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc'\nRUN cd web && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// eval runs in the shell itself: its cd moves the commands after it.
		name:       "cd inside eval then a relative write",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN mkdir web && echo '{}' > web/package.json\nRUN eval 'cd /app/web'; echo \"//registry.npmjs.org/:_authToken=${NPM_TOKEN}\" > .npmrc && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// env's assignment carries the secret into the nested shell
		// under another name.
		name:       "env T=$NPM_TOKEN sh -c writes $T into .npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN env T=$NPM_TOKEN sh -c 'echo \"//registry.npmjs.org/:_authToken=$T\" > /app/.npmrc' && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// The nested shell's HOME is not the RUN's: ~ is /tmp there.
		name:       "HOME=/tmp sh -c writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN HOME=/tmp sh -c 'echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc && npm ci'\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "env HOME=/tmp sh -c writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN env HOME=/tmp sh -c 'echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc && npm ci'\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// npm writes where NPM_CONFIG_USERCONFIG says, which env sets
		// for the nested shell only.
		name:       "env NPM_CONFIG_USERCONFIG=... sh -c npm config set",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN env NPM_CONFIG_USERCONFIG=/app/.npmrc sh -c 'npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && npm ci'\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// A shell started by another program (timeout, busybox).
		name:       "timeout 60 sh -c writes .npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN timeout 60 sh -c 'echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /app/.npmrc' && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "busybox sh -c writes .npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN busybox sh -c 'echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /app/.npmrc && npm ci'\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// The exec form of the same: no shell reads the RUN, the
		// program before the shell runs it.
		name:       "exec form timeout 60 sh -c writes .npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN [\"timeout\", \"60\", \"sh\", \"-c\", \"echo //registry.npmjs.org/:_authToken=$NPM_TOKEN > /app/.npmrc && npm ci\"]\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// A tool's config command behind a program that starts it: the
		// command was read by the program's name (timeout, gosu), not the
		// tool's.
		name:       "timeout 60 npm config set",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN timeout 60 npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "gosu node npm config set",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN gosu node npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && gosu node npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "echo | sudo tee ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" | sudo tee /root/.npmrc >/dev/null && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// The clone's .git/config keeps the URL, token included.
		name:       "sudo git clone of a token URL",
		dockerfile: "FROM alpine\nARG GITHUB_TOKEN\nRUN sudo git clone https://x-access-token:${GITHUB_TOKEN}@github.com/acme/lib.git /src/lib\n",
		secret:     "GITHUB_TOKEN",
	},
	{
		// npm writes where env's NPM_CONFIG_USERCONFIG says.
		name:       "env NPM_CONFIG_USERCONFIG=... npm config set",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN env NPM_CONFIG_USERCONFIG=/app/.npmrc npm config set //registry.npmjs.org/:_authToken $NPM_TOKEN && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// In double quotes, \$ reaches the nested shell as $: it expands
		// the secret, not the outer one.
		name:       "sh -c \"... \\$NPM_TOKEN > .npmrc\"",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN sh -c \"echo //registry.npmjs.org/:_authToken=\\$NPM_TOKEN > /app/.npmrc && npm ci\"\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "su node -c \"... \\$NPM_TOKEN > ~/.npmrc\"",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN su node -c \"echo //registry.npmjs.org/:_authToken=\\$NPM_TOKEN > ~/.npmrc && npm ci\"\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// A shell behind sudo that reads its script on standard input.
		name:       "sudo -u node sh <<EOS writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN sudo -u node sh <<EOS\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~/.npmrc\nnpm ci\nEOS\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// A copy of a file the nested shell wrote the secret into: the
		// copy was followed only in the RUN's own script.
		name:       "sh -c writes ~/.npmrc and copies it",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN sh -c 'echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc && cp /root/.npmrc /app/.npmrc' && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "su -c writes ~/.npmrc and copies it",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /home/node/app\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc && su node -c 'cat /root/.npmrc > /home/node/app/.npmrc' && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// The password on standard input of a login behind gosu.
		name:       "echo | gosu node docker login --password-stdin",
		dockerfile: "FROM alpine\nARG REGISTRY_PASSWORD\n" + nodeUser + "RUN echo \"$REGISTRY_PASSWORD\" | gosu node docker login -u ci --password-stdin registry.example.com && gosu node docker pull registry.example.com/acme/base:1\n",
		secret:     "REGISTRY_PASSWORD",
		tool:       "docker",
	},
	{
		// ~USER is the user's home from /etc/passwd, not a directory
		// named ~node under the working directory.
		name:       "echo > ~node/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\n" + nodeUser + "WORKDIR /srv\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~node/.npmrc && su node -c 'cd /home/node/app && npm ci'\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// A ~ before a quote is a literal ~: the file is ./~/.npmrc.
		name:       "echo > ~ before a quote is a literal directory",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nENV HOME=/root\nWORKDIR /srv\nRUN mkdir -p ./~ && echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > ~\"/.npmrc\"\n",
		secret:     "NPM_TOKEN",
	},
	{
		// A pattern the shell expands names the mounted file.
		name:       "cp of a pattern matching the context's mounted .npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp /app/.np* /root/ && npm ci\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		// A Dockerfile saved with CRLF line ends: BuildKit keeps the \r
		// of each line of a RUN <<EOF document, so the shell writes
		// "/root/.npmrc\r", a file the cleanup does not name.
		name:       "RUN <<EOF of a CRLF Dockerfile writes ~/.npmrc",
		dockerfile: "FROM alpine\r\nARG NPM_TOKEN\r\nRUN <<EOF\r\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\r\nEOF\r\n",
		secret:     "NPM_TOKEN",
	},
	{
		// The shell's [!.] is a negated class; path.Match's is not.
		name:       "cp of the dotfiles .[!.]* with the context's mounted .npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /srv/conf && cp -r /app/.[!.]* /srv/conf/ && npm ci\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// find hands the files of the mount's directory to cp.
		name:       "find -exec cp over the context's mounted .npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /srv/conf && find /app -type f -exec cp {} /srv/conf/ \\; && npm ci\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "find | xargs cp over the context's mounted .npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /srv/conf && find . -maxdepth 1 -type f | xargs -I{} cp {} /srv/conf/ && npm ci\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "sh <<EOS of a CRLF Dockerfile writes ~/.npmrc",
		dockerfile: "FROM alpine\r\nARG NPM_TOKEN\r\nRUN sh <<EOS\r\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\r\nEOS\r\n",
		secret:     "NPM_TOKEN",
	},
	{
		// GIT_CONFIG_COUNT= in the user's own script is not hushbuild's
		// prelude: the writes of the RUN must still be followed.
		name:       "GIT_CONFIG_COUNT= of the script's own then echo > ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN export GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' && echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "RUN <<EOF with GIT_CONFIG_COUNT= of its own writes ~/.npmrc",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN <<EOF\nexport GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*'\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\nnpm ci\nEOF\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		// exec run by eval or command replaces the shell: the EXIT trap
		// that removes the file never runs.
		name:       "RUN <<EOF writes ~/.npmrc then eval exec",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN <<EOF\necho \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc\neval \"exec npm ci\"\nEOF\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "echo > ~/.npmrc then command exec",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc && command exec npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	{
		name:       "echo > ~/.npmrc then eval trap - EXIT",
		dockerfile: "FROM alpine\nARG NPM_TOKEN\nWORKDIR /app\nRUN echo '{}' > package.json\nRUN echo \"//registry.npmjs.org/:_authToken=$NPM_TOKEN\" > /root/.npmrc && eval 'trap - EXIT' && npm ci\n",
		secret:     "NPM_TOKEN",
		tool:       "npm",
	},
	// A loop, find or xargs whose files may include a credential file
	// mounted from the context copies it onward: nothing names the file,
	// the shell or the program finds it.
	{
		name:       "for loop over docker/* copies the mounted npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && for f in docker/*; do cp \"$f\" /opt/conf/; done\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "for loop over an absolute pattern copies the mounted npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && for f in /app/docker/*; do cp $f /opt/conf/; done\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "for loop over .np* copies the mounted .npmrc home",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN for f in .np*; do cp \"$f\" /root/; done\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "for loop over $(find docker) cats into files",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && for f in $(find docker -type f); do cat \"$f\" > /opt/conf/$(basename \"$f\"); done\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "find | while read copies the mounted npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && find docker -type f | while read -r f; do cp \"$f\" /opt/conf/; done\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "find docker -exec cp {}",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && find docker -type f -exec cp {} /opt/conf/ \\;\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "find . -name '*rc' -exec cp {} +",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && find . -name '*rc' -exec cp -t /opt/conf/ {} +\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "ls docker/* | xargs cp -t",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && ls docker/* | xargs cp -t /opt/conf/\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "find docker | xargs -I{} cp {}",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt/conf && find docker -type f | xargs -I{} cp {} /opt/conf/\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "cp -r of the directory holding the mounted npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp -r docker /opt/\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "cp -a of the working directory",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp -a . /dest\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "tar c docker | tar x",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN mkdir -p /opt && tar c docker | tar x -C /opt\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
	},
	{
		// A named copy in a nested shell: only the RUN's own script's
		// copies are rewritten.
		name:       "sh -c cp of the mounted .npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN sh -c 'cp /app/.npmrc /root/.npmrc'\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		// A source path the engine cannot resolve: ENV's value in $APP_HOME.
		name:       "cp $APP_HOME/.npmrc with APP_HOME from ENV",
		dockerfile: "FROM alpine\nENV APP_HOME=/app\nWORKDIR $APP_HOME\nCOPY . .\nRUN cp $APP_HOME/.npmrc /root/.npmrc\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		name:       "cat < .npmrc > ~/.npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cat < .npmrc > /root/.npmrc\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		// cpio takes the names of the files to archive on its input.
		name:       "find | cpio -o into an archive",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN find . -name '.*rc' | cpio -o -H newc > /opt.cpio\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		// The paths a command substitution prints, as cp's operands.
		name:       "cp $(find . -name '.*rc') /root/",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp $(find . -name '.*rc') /root/\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
	},
	{
		// find -exec sed -i on the mounted file itself: a copy of the
		// mount for the RUN, the find run again in the later RUN.
		name:       "find -exec sed -i on the mounted .npmrc then npm ci here and later",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN find . -maxdepth 1 -name '.npmrc' -exec sed -i 's/\\r$//' {} + && npm ci\nRUN npm ci\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
		builds:     true,
	},
	{
		// The copy is mounted read-only at its path: a command that then
		// changes it in the same RUN must get a writable copy.
		name:       "cp docker/npmrc ~/.npmrc then sed -i on it",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp docker/npmrc ~/.npmrc && sed -i 's/^#.*//' ~/.npmrc && npm ci\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
		builds:     true,
	},
	{
		name:       "cp docker/npmrc ~/.npmrc then chmod 600 and append",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN cp docker/npmrc ~/.npmrc && chmod 600 ~/.npmrc && echo 'fund=false' >> ~/.npmrc && npm ci\n",
		files:      dockerDirContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
		builds:     true,
	},
	{
		// A command named by its path is the command: /bin/cp of the
		// mounted file was rewritten as if it were no copy.
		name:       "cp named by its path copies the mounted .npmrc to ~/.npmrc",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN /bin/cp /app/.npmrc /root/.npmrc && npm ci\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
		builds:     true,
	},
	{
		name:       "chown -R named by its path over the mounted .npmrc directory",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY .npmrc package.json ./\nRUN npm ci\nRUN /bin/chown -R 1000:1000 /app\n",
		files:      npmrcContext,
		secret:     "NPM_TOKEN",
		tool:       "npm",
		builds:     true,
	},
}

// npmrcContext is a build context with an .npmrc holding the token.
func npmrcContext(v string) map[string]string {
	return map[string]string{".npmrc": "//registry.npmjs.org/:_authToken=" + v + "\n", "package.json": "{}\n"}
}

// dockerDirContext is a build context with the token in docker/npmrc, a
// file no name tells (its content does), beside a file of no secret.
func dockerDirContext(v string) map[string]string {
	return map[string]string{"docker/npmrc": "//registry.npmjs.org/:_authToken=" + v + "\n", "docker/nginx.conf": "server {}\n", "package.json": "{}\n"}
}

// nodeUser is a RUN that adds the user node (home /home/node, which holds
// the app's package.json) to the test image, as node:20 has it.
const nodeUser = "RUN echo 'node:x:1000:1000::/home/node:/bin/sh' >> /etc/passwd && echo 'node:x:1000:' >> /etc/group && " +
	"mkdir -p /home/node/app && echo '{}' > /home/node/app/package.json && chown -R 1000:1000 /home/node\n"

// TestReviewStockLeaks rewrites each of stockCases as the CLI does and
// builds the result with the stock frontend.
func TestReviewStockLeaks(t *testing.T) {
	l := needLab(t)
	for _, tc := range stockCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			secrets := newSecretSet()
			value := secrets.canary(t, tc.secret)
			runSecrets.add(t.Name(), value.value)
			dockerfile := tc.dockerfile
			if tc.base != "" {
				dockerfile = strings.ReplaceAll(dockerfile, "{{BASE}}", l.pushBase(t, "review-stock", tc.base, secrets))
			}
			dir := t.TempDir()
			cfg := rewrite.Config{}
			if tc.files != nil {
				for name, content := range tc.files(value.value) {
					writeFile(t, dir, name, []byte(content))
				}
				listing, err := buildcontext.Scan(dir, "Dockerfile", cfg)
				if err != nil {
					t.Fatal(err)
				}
				cfg.ContextFiles, cfg.ContextListed = listing.Files, true
				cfg.ContextKeys, cfg.ContextToolFiles = listing.ByContent(), listing.Tools
			}
			res, err := rewrite.Rewrite([]byte(dockerfile), cfg)
			refused := func(format string, args ...any) {
				if tc.builds {
					t.Errorf("the rewrite refused a pattern it should rewrite: "+format, args...)
				} else {
					t.Logf("the rewrite refused it: "+format, args...)
				}
			}
			if err != nil {
				refused("%v", err)
				return
			}
			for _, f := range res.Findings {
				if f.Severity == rewrite.SeverityError && !f.Fixed {
					refused("line %d: [%s] %s", f.Range.Start, f.Rule, f.Message)
					return
				}
			}
			writeFile(t, dir, "Dockerfile", withSyntax(l.stock, res.Output))
			out := filepath.Join(t.TempDir(), "image.tar")
			flags := append([]string(nil), l.hostFlags...)
			if tc.base == "" {
				flags = l.baseImageFlags(t, []byte(tc.dockerfile))
			}
			flags = append(flags, "--secret", "id="+tc.secret+",env="+tc.secret)
			build := l.buildx(t, buildSpec{dir: dir, flags: flags, env: []string{tc.secret + "=" + value.value},
				output: out, provenance: true, cacheTo: cacheDir(out)})
			checkOutputClean(t, secrets, "the build output", build.out)
			if build.err != nil {
				if tc.builds {
					t.Errorf("the rewritten build failed: %v\n%s\nrewritten:\n%s", build.err, secrets.redact(build.out), res.Output)
				} else {
					t.Logf("the rewritten build failed: %v\n%s", build.err, secrets.redact(build.out))
				}
				return
			}
			var where []string
			if rep := scan(t, out, secrets.verifySecrets()); !rep.Clean() {
				where = append(where, "the image:"+hitLines(rep))
			}
			if rep := scanDir(t, cacheDir(out), secrets.verifySecrets()); rep != nil && !rep.Clean() {
				where = append(where, "the build cache:"+hitLines(rep))
			}
			if len(where) > 0 {
				t.Errorf("the CLI's rewrite built with the stock frontend succeeded and the secret is in: %s\nrewritten:\n%s", strings.Join(where, "\n"), res.Output)
			}
			if saw := secrets.toolsThatSaw(build.out)[value.id]; tc.tool != "" && !containsString(saw, tc.tool) {
				t.Errorf("%s did not get the credential (tools that saw it: %v):\n%s", tc.tool, saw, secrets.redact(build.out))
			}
		})
	}
}
