#!/usr/bin/env bash
# hack/lab.sh: a local BuildKit lab on loopback and unix sockets.
#
#   hack/lab.sh up        install, build, start and push everything (idempotent)
#   hack/lab.sh down      stop the registry and buildkitd this lab started
#   hack/lab.sh status    say what runs and what is pushed (exit 3 if not up)
#   hack/lab.sh env       print the lab's environment as shell exports
#   hack/lab.sh frontend  rebuild and push only the hushbuild frontend image
#   hack/lab.sh daemons   also build and start the older buildkitd versions of
#                         HUSHBUILD_LAB_DAEMONS, each beside the lab's own
#   hack/lab.sh deps      install only the Debian packages
#   hack/lab.sh realbase  build and push only the Debian base image (mmdebstrap)
#   hack/lab.sh realtools the base image, the real-tools image and servers only
#   hack/lab.sh clean     down, then remove the lab's state (keeps bin/)
#
# State lives in HUSHBUILD_LAB_DIR (default: .lab at the repository root).
# The registry listens on 127.0.0.1:HUSHBUILD_LAB_PORT (default 5000, or the
# next free port). Progress goes to stderr; only `env` writes to stdout.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
LAB=${HUSHBUILD_LAB_DIR:-$ROOT/.lab}
mkdir -p "$LAB"
LAB=$(cd "$LAB" && pwd)
case $LAB in *"'"* | *' '*) echo "lab: HUSHBUILD_LAB_DIR must not contain quotes or spaces: $LAB" >&2; exit 2 ;; esac
BIN=$LAB/bin
SOCK=$LAB/buildkitd.sock
RUN=$LAB/run
LOGS=$LAB/logs
BUILDER=hushbuild-lab
BUILDX_VERSION=v0.38.2
COMPOSE_VERSION=v5.6.0
# The older BuildKit daemons `daemons` runs beside the lab's own (the main
# module's version): the oldest hushbuild supports, one in the middle, and
# one below the minimum, on which the frontend must stop with a clear error.
LAB_DAEMONS=${HUSHBUILD_LAB_DAEMONS:-v0.10.6 v0.11.6 v0.17.3}
GO_FLAGS=(-trimpath -buildvcs=false)
export DEBIAN_FRONTEND=noninteractive
export DOCKER_CONFIG=$LAB/docker
mkdir -p "$BIN" "$RUN" "$LOGS" "$DOCKER_CONFIG/cli-plugins"

log() { printf 'lab: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }
# timed LABEL CMD...: run CMD, then log how long it took.
timed() {
	local label=$1 start=$SECONDS
	shift
	"$@"
	log "$label: $((SECONDS - start))s"
}

# ---- Debian packages -------------------------------------------------------

deps() {
	local missing=()
	command -v runc >/dev/null || missing+=(runc)
	command -v docker-registry >/dev/null || missing+=(docker-registry)
	# make runs a migrated Makefile in the e2e tests.
	command -v make >/dev/null || missing+=(make)
	command -v bzip2 >/dev/null || missing+=(bzip2)
	# The diff tests compare their output with patch(1).
	command -v patch >/dev/null || missing+=(patch)
	# The image needs the static build, not Debian's dynamically linked busybox.
	dpkg-query -W -f '${Status}' busybox-static 2>/dev/null | grep -q 'ok installed' || missing+=(busybox-static)
	# The real-tools lab: the Debian base image and the servers its builds reach.
	command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
	[ -x /usr/sbin/sshd ] || missing+=(openssh-server)
	[ -x /usr/lib/git-core/git-http-backend ] || missing+=(git)
	command -v ssh-keygen >/dev/null || missing+=(openssh-client)
	# The keystore tests make keystores with the real openssl and keytool.
	command -v openssl >/dev/null || missing+=(openssl)
	command -v keytool >/dev/null || missing+=(default-jre-headless)
	# An e2e case copies the host's zstd(1) into a build (the Debian image lacks it).
	command -v zstd >/dev/null || missing+=(zstd)
	[ ${#missing[@]} -eq 0 ] && return 0
	[ "$(id -u)" = 0 ] || die "missing ${missing[*]}; install them as root (apt-get install ${missing[*]})"
	log "installing ${missing[*]}"
	apt-get update -qq >&2
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
	# Debian may start its own registry on :5000; the lab runs its own.
	if [[ " ${missing[*]} " == *" docker-registry "* ]] && [ -x /etc/init.d/docker-registry ]; then
		/etc/init.d/docker-registry stop >/dev/null 2>&1 || true
	fi
	# Likewise Debian's sshd on :22; the lab runs its own on loopback.
	if [[ " ${missing[*]} " == *" openssh-server "* ]] && [ -x /etc/init.d/ssh ]; then
		/etc/init.d/ssh stop >/dev/null 2>&1 || true
	fi
}

# ---- binaries ----------------------------------------------------------------

# stamp_ok NAME KEY: whether NAME was built with KEY and is still there.
stamp_ok() { [ -f "$BIN/.$1.stamp" ] && [ "$(cat "$BIN/.$1.stamp")" = "$2" ] && [ -x "$BIN/$1" ]; }
stamp_set() { printf '%s\n' "$2" >"$BIN/.$1.stamp"; }

buildkit_version() { (cd "$ROOT" && go list -m -f '{{.Version}}' github.com/moby/buildkit); }

build_buildkit() {
	local v key
	v=$(buildkit_version)
	key="buildkit $v $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
	if stamp_ok buildkitd "$key" && stamp_ok buildctl "$key" && stamp_ok dockerfile-frontend "$key"; then
		return 0
	fi
	log "building buildkitd, buildctl, dockerfile-frontend $v"
	(cd "$ROOT" && CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -tags "osusergo netgo static_build seccomp" \
		-ldflags "-s -w -X github.com/moby/buildkit/version.Version=$v" -o "$BIN/" \
		github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl \
		github.com/moby/buildkit/frontend/dockerfile/cmd/dockerfile-frontend)
	for b in buildkitd buildctl dockerfile-frontend; do stamp_set "$b" "$key"; done
}

# build_plugin NAME VERSION TOOLDIR LDFLAG PKG: the docker CLI plugin
# docker-NAME from the tools module hack/tools/TOOLDIR (its own go.mod, so
# the main one is untouched), built once per version and Go toolchain, and
# linked into the lab's DOCKER_CONFIG.
build_plugin() {
	local name=$1 version=$2 dir=$3 ldflag=$4 pkg=$5 key
	local plugin=$DOCKER_CONFIG/cli-plugins/docker-$name
	key="$name $version $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
	if ! stamp_ok "docker-$name" "$key"; then
		log "building docker $name $version (hack/tools/$dir)"
		(cd "$ROOT/hack/tools/$dir" && CGO_ENABLED=0 go build "${GO_FLAGS[@]}" \
			-ldflags "-s -w -X $ldflag=$version" -o "$BIN/docker-$name" "$pkg")
		stamp_set "docker-$name" "$key"
	fi
	cmp -s "$BIN/docker-$name" "$plugin" || cp -f "$BIN/docker-$name" "$plugin"
}

build_buildx() {
	build_plugin buildx "$BUILDX_VERSION" buildx github.com/docker/buildx/version.Version github.com/docker/buildx/cmd/buildx
}

# docker compose, for the e2e tests that build migrated compose files: it
# hands builds to buildx bake, so it needs no docker daemon (with --push).
build_compose() {
	build_plugin compose "$COMPOSE_VERSION" compose github.com/docker/compose/v5/internal.Version github.com/docker/compose/v5/cmd
}

# build_daemon VERSION: buildkitd VERSION into bin/buildkit-VERSION/, with
# `go install` of BuildKit's module at that version (its own go.mod and
# go.sum, checked against the checksum database; the main module is not
# involved), or, for a version whose go.mod has replace or exclude
# directives (which `go install pkg@version` refuses: v0.10.6, v0.20.2 and
# later), from the tools module hack/tools/buildkit-VERSION that carries
# them. Built once: the stamp holds the version and the Go toolchain.
build_daemon() {
	local v=$1 key flags
	key="buildkitd $v $(go env GOVERSION GOOS GOARCH | tr '\n' ' ')"
	mkdir -p "$BIN/buildkit-$v" "$BIN/.buildkit-$v"
	stamp_ok "buildkit-$v/buildkitd" "$key" && return 0
	log "building buildkitd $v"
	flags=(-trimpath -buildvcs=false -tags "osusergo netgo static_build seccomp"
		-ldflags "-s -w -X github.com/moby/buildkit/version.Version=$v")
	if [ -f "$ROOT/hack/tools/buildkit-$v/go.mod" ]; then
		(cd "$ROOT/hack/tools/buildkit-$v" && CGO_ENABLED=0 go build "${flags[@]}" \
			-o "$BIN/buildkit-$v/buildkitd" github.com/moby/buildkit/cmd/buildkitd)
	else
		(cd "$ROOT" && GOBIN="$BIN/buildkit-$v" CGO_ENABLED=0 go install "${flags[@]}" \
			"github.com/moby/buildkit/cmd/buildkitd@$v")
	fi
	stamp_set "buildkit-$v/buildkitd" "$key"
}

build_ssh_add() {
	(cd "$ROOT" && CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -ldflags "-s -w" -o "$BIN/testbase-ssh-add" ./hack/testbase/ssh-add)
	(cd "$ROOT" && CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -ldflags "-s -w" -o "$BIN/testbase-rclone" ./hack/testbase/rclone)
}

# ---- processes -----------------------------------------------------------------

# alive NAME PATTERN: whether the PID recorded for NAME runs a command line
# containing PATTERN (so a reused PID is never taken for ours). A daemon that
# sets its process title (sshd's "[listener]") clears its command line for a
# moment: an empty one is read again.
alive() {
	local pid cmdline i
	pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 1
	[ -n "$pid" ] || return 1
	for i in 1 2 3 4 5 6 7 8 9 10; do
		[ -r "/proc/$pid/cmdline" ] || return 1
		cmdline=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null) || return 1
		[ -z "$cmdline" ] || break
		exited "$1" && return 1
		sleep 0.01
	done
	case $cmdline in *"$2"*) return 0 ;; esac
	return 1
}

# start NAME CMD...: run CMD in its own session, detached, logging to
# logs/NAME.log, and record its PID.
start() {
	local name=$1
	shift
	printf '\n==== %s %s\n' "$(date -u +%FT%TZ)" "$*" >>"$LOGS/$name.log"
	# 9>&-: the daemon must not hold the lab's lock file open.
	setsid "$@" </dev/null >>"$LOGS/$name.log" 2>&1 9>&- &
	echo $! >"$RUN/$name.pid"
}

# stop NAME PATTERN: stop the recorded process, if it is still ours.
stop() {
	local pid i
	if alive "$1" "$2"; then
		pid=$(cat "$RUN/$1.pid")
		log "stopping $1 (pid $pid)"
		kill -TERM "$pid" 2>/dev/null || true
		for i in $(seq 1 100); do
			[ -d "/proc/$pid" ] || break
			sleep 0.1
		done
		if [ -d "/proc/$pid" ]; then
			log "$1 (pid $pid) ignored SIGTERM; killing it"
			kill -KILL "$pid" 2>/dev/null || true
		fi
	fi
	rm -f "$RUN/$1.pid"
}

port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# exited NAME: whether the process just started for NAME has ended (gone, or
# a zombie not yet reaped). Not "! alive": between fork and exec the child's
# command line is still this script's, which no pattern matches.
exited() {
	local pid state
	pid=$(cat "$RUN/$1.pid" 2>/dev/null) || return 0
	state=$(sed 's/^.*) \(.\).*$/\1/' "/proc/$pid/stat" 2>/dev/null) || return 0
	[ -z "$state" ] || [ "$state" = Z ] || [ "$state" = X ]
}

# wait_for NAME PATTERN SECONDS CMD...: wait until CMD succeeds, failing early
# (with the log's tail) when the process dies.
wait_for() {
	local name=$1 pattern=$2 secs=$3 i
	shift 3
	for i in $(seq 1 $((secs * 10))); do
		"$@" >/dev/null 2>&1 && alive "$name" "$pattern" && return 0
		if exited "$name"; then
			tail -n 30 "$LOGS/$name.log" >&2 || true
			die "$name exited; see $LOGS/$name.log"
		fi
		sleep 0.1
	done
	tail -n 30 "$LOGS/$name.log" >&2 || true
	die "$name did not answer within ${secs}s; see $LOGS/$name.log"
}

http_ok() { curl -fsS -o /dev/null --max-time 2 "$1"; }

REGISTRY_PATTERN="serve $LAB/registry.yml"
BUILDKITD_PATTERN="--config $LAB/buildkitd.toml"

registry_port() {
	cat "$LAB/registry.port" 2>/dev/null || echo "${HUSHBUILD_LAB_PORT:-5000}"
}

start_registry() {
	local port
	if alive registry "$REGISTRY_PATTERN"; then
		port=$(registry_port)
		wait_for registry "$REGISTRY_PATTERN" 10 http_ok "http://127.0.0.1:$port/v2/"
		return 0
	fi
	port=${HUSHBUILD_LAB_PORT:-$(registry_port)}
	local first=$port
	while port_busy "$port"; do
		port=$((port + 1))
		[ "$port" -lt $((first + 100)) ] || die "no free port in $first..$port"
	done
	[ "$port" = "$first" ] || log "port $first is busy; the registry uses $port"
	echo "$port" >"$LAB/registry.port"
	mkdir -p "$LAB/registry"
	cat >"$LAB/registry.yml" <<EOF
version: 0.1
log:
  level: warn
storage:
  filesystem:
    rootdirectory: $LAB/registry
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
EOF
	log "starting registry on 127.0.0.1:$port"
	start registry docker-registry serve "$LAB/registry.yml"
	wait_for registry "$REGISTRY_PATTERN" 30 http_ok "http://127.0.0.1:$port/v2/"
}

buildkitd_config() {
	local port
	port=$(registry_port)
	cat <<EOF
root = "$LAB/buildkitd"
[log]
  format = "text"
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  networkMode = "host"
  gc = true
  gckeepstorage = "10GB"
[worker.containerd]
  enabled = false
[registry."127.0.0.1:$port"]
  http = true
  insecure = true
EOF
}

start_buildkitd() {
	local want
	want=$(buildkitd_config)
	if alive buildkitd "$BUILDKITD_PATTERN"; then
		if [ "$want" = "$(cat "$LAB/buildkitd.toml")" ]; then
			wait_for buildkitd "$BUILDKITD_PATTERN" 10 buildctl_ok
			return 0
		fi
		log "buildkitd config changed; restarting it"
		stop buildkitd "$BUILDKITD_PATTERN"
	fi
	[ ${#SOCK} -lt 100 ] || die "socket path too long for a unix socket: $SOCK (set HUSHBUILD_LAB_DIR to a shorter path)"
	mount | grep -q cgroup || log "warning: no cgroup filesystem mounted; runc may fail"
	printf '%s\n' "$want" >"$LAB/buildkitd.toml"
	rm -f "$SOCK"
	log "starting buildkitd on unix://$SOCK"
	start buildkitd "$BIN/buildkitd" --config "$LAB/buildkitd.toml" --addr "unix://$SOCK"
	wait_for buildkitd "$BUILDKITD_PATTERN" 60 buildctl_ok
}

buildctl_ok() { "$BIN/buildctl" --addr "unix://$SOCK" debug workers; }

# The extra daemons: state in daemons/VERSION/, socket
# daemons/VERSION/buildkitd.sock, log logs/buildkitd-VERSION.log, buildx
# builder hushbuild-lab-VERSION.
daemon_dir() { echo "$LAB/daemons/$1"; }
daemon_pattern() { echo "--config $LAB/daemons/$1/buildkitd.toml"; }

# daemon_config VERSION: the lab's configuration, without the gc settings
# whose syntax changed between versions (the defaults apply).
daemon_config() {
	local port
	port=$(registry_port)
	cat <<EOF
root = "$(daemon_dir "$1")/root"
[worker.oci]
  enabled = true
  snapshotter = "overlayfs"
  networkMode = "host"
[worker.containerd]
  enabled = false
[registry."127.0.0.1:$port"]
  http = true
  insecure = true
EOF
}

start_daemon() {
	local v=$1 dir want pattern sock
	dir=$(daemon_dir "$v")
	pattern=$(daemon_pattern "$v")
	sock=$dir/buildkitd.sock
	want=$(daemon_config "$v")
	mkdir -p "$dir"
	if alive "buildkitd-$v" "$pattern"; then
		if [ "$want" = "$(cat "$dir/buildkitd.toml")" ]; then
			wait_for "buildkitd-$v" "$pattern" 10 daemon_ok "$sock"
			return 0
		fi
		log "buildkitd $v: config changed; restarting it"
		stop "buildkitd-$v" "$pattern"
	fi
	[ ${#sock} -lt 100 ] || die "socket path too long for a unix socket: $sock (set HUSHBUILD_LAB_DIR to a shorter path)"
	printf '%s\n' "$want" >"$dir/buildkitd.toml"
	rm -f "$sock"
	log "starting buildkitd $v on unix://$sock"
	start "buildkitd-$v" "$BIN/buildkit-$v/buildkitd" --config "$dir/buildkitd.toml" --addr "unix://$sock"
	wait_for "buildkitd-$v" "$pattern" 60 daemon_ok "$sock"
}

daemon_ok() { "$BIN/buildctl" --addr "unix://$1" debug workers; }

# register_daemon_builder VERSION: the buildx builder hushbuild-lab-VERSION.
register_daemon_builder() {
	command -v docker >/dev/null || return 0
	local name=$BUILDER-$1 sock endpoint
	sock=$(daemon_dir "$1")/buildkitd.sock
	endpoint=$(docker buildx inspect "$name" 2>/dev/null | awk '$1 == "Endpoint:" { print $2; exit }') || true
	[ "$endpoint" = "unix://$sock" ] && return 0
	[ -n "$endpoint" ] && docker buildx rm "$name" >/dev/null 2>&1 || true
	log "registering buildx builder $name"
	docker buildx create --name "$name" --driver remote "unix://$sock" >/dev/null
}

# running_daemons: the versions of the extra daemons that run.
running_daemons() {
	local f v
	for f in "$RUN"/buildkitd-v*.pid; do
		[ -e "$f" ] || continue
		v=${f##*/buildkitd-}
		v=${v%.pid}
		alive "buildkitd-$v" "$(daemon_pattern "$v")" && echo "$v"
	done
	return 0
}

register_builder() {
	command -v docker >/dev/null || { log "warning: no docker CLI; the buildx builder is not registered"; return 0; }
	local endpoint
	endpoint=$(docker buildx inspect "$BUILDER" 2>/dev/null | awk '$1 == "Endpoint:" { print $2; exit }') || true
	[ "$endpoint" = "unix://$SOCK" ] && return 0
	[ -n "$endpoint" ] && docker buildx rm "$BUILDER" >/dev/null 2>&1 || true
	log "registering buildx builder $BUILDER"
	docker buildx create --name "$BUILDER" --driver remote --use "unix://$SOCK" >/dev/null
}

# ---- images --------------------------------------------------------------------

registry() { echo "127.0.0.1:$(registry_port)"; }

# pushed REPO TAG: whether the lab registry has that manifest.
pushed() {
	curl -fsS -o /dev/null --max-time 5 -I \
		-H 'Accept: application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json' \
		"http://$(registry)/v2/$1/manifests/$2"
}

# push_image NAME REF: build the context prepared in images/NAME (Dockerfile
# included) and push it as REF, unless the same context was pushed before.
push_image() {
	local name=$1 ref=$2 ctx=$LAB/images/$1 sum repo tag
	sum=$( (cd "$ctx" && find . -type f -print0 | sort -z | xargs -0 sha256sum; find . -type l -printf '%p -> %l\n' | sort) | sha256sum | cut -d' ' -f1)
	repo=${ref#*/}
	tag=${repo##*:}
	repo=${repo%:*}
	if [ "$(cat "$LAB/images/$name.stamp" 2>/dev/null)" = "$ref $sum" ] && pushed "$repo" "$tag"; then
		return 0
	fi
	log "building and pushing $ref"
	"$BIN/buildctl" --addr "unix://$SOCK" build --progress=plain \
		--frontend dockerfile.v0 --local "context=$ctx" --local "dockerfile=$ctx" \
		--output "type=image,name=$ref,push=true" >"$LOGS/image-$name.log" 2>&1 ||
		{ tail -n 40 "$LOGS/image-$name.log" >&2; die "building $ref failed; see $LOGS/image-$name.log"; }
	echo "$ref $sum" >"$LAB/images/$name.stamp"
}

# new_context NAME: an empty build context images/NAME.
new_context() {
	rm -rf "$LAB/images/$1"
	mkdir -p "$LAB/images/$1"
	echo "$LAB/images/$1"
}

frontend_labels='LABEL moby.buildkit.frontend.network.none="true"
LABEL moby.buildkit.frontend.caps="moby.buildkit.frontend.inputs,moby.buildkit.frontend.subrequests,moby.buildkit.frontend.contexts,moby.buildkit.frontend.gitquerystring,moby.buildkit.frontend.contexts.zstd"'

push_busybox() {
	local ctx
	ctx=$(new_context busybox)
	cp /bin/busybox "$ctx/busybox"
	cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY busybox /bin/busybox
RUN ["/bin/busybox", "--install", "-s", "/bin"]
RUN mkdir -p /etc /root /tmp && chmod 1777 /tmp && \
    echo 'root:x:0:0:root:/root:/bin/sh' >/etc/passwd && \
    echo 'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >>/etc/passwd && \
    echo 'root:x:0:' >/etc/group && echo 'nogroup:x:65534:' >>/etc/group
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
EOF
	push_image busybox "$(image_ref busybox)"
}

push_testbase() {
	local ctx
	build_ssh_add
	ctx=$(new_context testbase)
	mkdir -p "$ctx/bin"
	cp "$ROOT"/hack/testbase/bin/* "$ctx/bin/"
	cp "$BIN/testbase-ssh-add" "$ctx/bin/ssh-add"
	cp "$BIN/testbase-rclone" "$ctx/bin/rclone"
	cp "$ROOT/hack/testbase/lib.sh" "$ctx/lib.sh"
	cat >"$ctx/Dockerfile" <<EOF
FROM $(image_ref busybox)
COPY lib.sh /usr/local/lib/hushbuild-probe/lib.sh
COPY bin/ /usr/local/bin/
RUN ln -s pip /usr/local/bin/pip3 && ln -s python /usr/local/bin/python3 && ln -s /usr/local/bin/bash /bin/bash
# Login shells (su -, runuser -l, bash -l) start from a PATH of their own:
# Alpine's /etc/profile gives them /usr/local/bin, where the stand-ins are.
RUN echo 'export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:.' > /etc/profile
# Alpine's busybox and bash read \`source FILE\` from the current directory;
# Debian's busybox searches only PATH. A last "." makes it behave the same.
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:.
EOF
	push_image testbase "$(image_ref testbase)"
}

# push_frontend_image NAME BINARY: a gateway frontend image, built as the
# stock docker/dockerfile image is: the static binary alone, its labels.
push_frontend_image() {
	local ctx bin
	ctx=$(new_context "$1")
	bin=$(basename "$2")
	cp "$2" "$ctx/$bin"
	cat >"$ctx/Dockerfile" <<EOF
FROM scratch
COPY $bin /bin/$bin
ENTRYPOINT ["/bin/$bin"]
$frontend_labels
EOF
	push_image "$1" "$(image_ref "$1")"
}

push_frontend() {
	if [ ! -d "$ROOT/cmd/hushbuild-frontend" ]; then
		log "skipping the hushbuild frontend image: cmd/hushbuild-frontend does not exist yet"
		return 0
	fi
	log "building cmd/hushbuild-frontend"
	(cd "$ROOT" && CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -ldflags "-s -w" -o "$BIN/hushbuild-frontend" ./cmd/hushbuild-frontend)
	push_frontend_image frontend "$BIN/hushbuild-frontend"
}

image_ref() {
	case $1 in
	busybox) echo "$(registry)/hushbuild/busybox:latest" ;;
	testbase) echo "$(registry)/hushbuild/testbase:latest" ;;
	dockerfile-frontend) echo "$(registry)/hushbuild/dockerfile-frontend:$(buildkit_version)" ;;
	frontend) echo "$(registry)/hushbuild/frontend:dev" ;;
	realtools) echo "$(registry)/hushbuild/realtools:latest" ;;
	esac
}

# ---- the real-tools servers --------------------------------------------------------
#
# labservers (hack/labservers: npm registry, PEP 503 index, git over HTTP,
# one TLS listener) on REALTOOLS_ADDR:443 and sshd (git over ssh) on
# REALTOOLS_ADDR:22. REALTOOLS_ADDR is 127.0.0.1, or the next loopback
# address whose ports 443 and 22 are free (another lab may hold them);
# builds reach it by --add-host NAME:ADDR for each of REALTOOLS_HOSTS
# (buildkitd runs steps in the host's network). State in realtools/.

REALTOOLS=$LAB/realtools
REALTOOLS_HOSTS="github.com gitlab.com registry.npmjs.org pypi.example.com my.pypi.com artifactory.example.com pypi.org files.pythonhosted.org"
LABSERVERS_PATTERN="-state $REALTOOLS"
SSHD_PATTERN="-f $REALTOOLS/sshd_config"

realtools_addr() { cat "$LAB/realtools.addr" 2>/dev/null || echo 127.0.0.1; }

realtools_init() {
	mkdir -p "$REALTOOLS"
	(cd "$ROOT" && CGO_ENABLED=0 go build "${GO_FLAGS[@]}" -ldflags "-s -w" -o "$BIN/labservers" ./hack/labservers)
	"$BIN/labservers" -state "$REALTOOLS" -init
}

start_labservers() {
	local addr n want
	# Restarted when its binary or its host names change.
	want="$(sha256sum <"$BIN/labservers" | cut -d' ' -f1) $REALTOOLS_HOSTS"
	if alive labservers "$LABSERVERS_PATTERN"; then
		[ "$(cat "$REALTOOLS/labservers.key" 2>/dev/null)" = "$want" ] && return 0
		log "labservers changed; restarting it"
		stop labservers "$LABSERVERS_PATTERN"
	fi
	echo "$want" >"$REALTOOLS/labservers.key"
	# Keep the address of the last run unless another process took it
	# (port 22 may be this lab's own sshd, restarted below if need be).
	addr=$(realtools_addr)
	for n in $(seq 2 52); do
		port_busy_at "$addr" 443 || { port_busy_at "$addr" 22 && ! { alive sshd "$SSHD_PATTERN" && [ "$addr" = "$(realtools_addr)" ]; }; } || break
		[ "$n" -lt 52 ] || die "ports 443 and 22 are taken on 127.0.0.1 to 127.0.0.51 (a server on 0.0.0.0?)"
		addr=127.0.0.$n
	done
	echo "$addr" >"$LAB/realtools.addr"
	log "starting the lab's npm, PyPI and git servers on https://$addr"
	start labservers "$BIN/labservers" -addr "$addr:443" -state "$REALTOOLS" -hosts "$(echo $REALTOOLS_HOSTS | tr ' ' ',')"
	wait_for labservers "$LABSERVERS_PATTERN" 10 curl -sS -o /dev/null --max-time 2 --cacert "$REALTOOLS/ca.crt" \
		--resolve "pypi.org:443:$addr" https://pypi.org/
}

port_busy_at() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }

start_sshd() {
	local addr
	addr=$(realtools_addr)
	if alive sshd "$SSHD_PATTERN"; then
		grep -qxF "ListenAddress $addr:22" "$REALTOOLS/sshd_config" && return 0
		log "the servers' address changed; restarting sshd"
		stop sshd "$SSHD_PATTERN"
	fi
	if [ ! -x /usr/sbin/sshd ]; then
		log "warning: no sshd (openssh-server); the git-over-ssh server does not run"
		return 0
	fi
	# sshd serves the user the URL names (git@github.com:...).
	if ! id git >/dev/null 2>&1; then
		[ "$(id -u)" = 0 ] || die "the lab's sshd needs a user git; create it as root"
		useradd --system --no-create-home --home-dir /nonexistent --shell /bin/sh git
	fi
	[ "$(id -u)" != 0 ] || [ "$(getent shadow git | cut -d: -f2)" = '*' ] || usermod -p '*' git
	mkdir -p /run/sshd
	[ -f "$REALTOOLS/ssh_host_ed25519_key" ] || ssh-keygen -q -t ed25519 -N '' -f "$REALTOOLS/ssh_host_ed25519_key"
	touch "$REALTOOLS/authorized_keys" "$REALTOOLS/seen-ssh.jsonl"
	chown git "$REALTOOLS/seen-ssh.jsonl"
	cat >"$REALTOOLS/git-ssh-serve" <<EOF
#!/bin/sh
# ForceCommand of the lab's sshd: record the hash of the key that
# authenticated (never the key), then serve the git command read-only.
key=\$(awk '\$1 == "publickey" { print \$3; exit }' "\$SSH_USER_AUTH" 2>/dev/null)
hash=\$(printf '%s' "\$key" | sha256sum | cut -d' ' -f1)
path=\$(printf '%s' "\$SSH_ORIGINAL_COMMAND" | tr -cd 'A-Za-z0-9/._ -')
printf '{"time":"%s","service":"ssh","host":"ssh","path":"%s","status":200,"key_sha256":"%s"}\n' \\
	"\$(date -u +%Y-%m-%dT%H:%M:%SZ)" "\$path" "\$hash" >>"$REALTOOLS/seen-ssh.jsonl"
cd "$REALTOOLS/git" || exit 1
GIT_CONFIG_COUNT=1 GIT_CONFIG_KEY_0=safe.directory GIT_CONFIG_VALUE_0='*' exec git-shell -c "\$SSH_ORIGINAL_COMMAND"
EOF
	chmod 755 "$REALTOOLS/git-ssh-serve"
	cat >"$REALTOOLS/sshd_config" <<EOF
ListenAddress $addr:22
HostKey $REALTOOLS/ssh_host_ed25519_key
PidFile none
AuthorizedKeysFile $REALTOOLS/authorized_keys
StrictModes no
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
ExposeAuthInfo yes
AllowUsers git
ForceCommand $REALTOOLS/git-ssh-serve
PermitTTY no
AllowTcpForwarding no
X11Forwarding no
EOF
	log "starting sshd on $addr:22"
	start sshd /usr/sbin/sshd -D -e -f "$REALTOOLS/sshd_config"
	wait_for sshd "$SSHD_PATTERN" 10 port_busy_at "$addr" 22
}

# ---- the real base image ---------------------------------------------------------
#
# realbase: a minimal Debian root filesystem made by mmdebstrap from Debian's
# packages, with the real tools the examples name. It is tagged with a hash
# of what makes it (suite, variant, package list, mmdebstrap's version), so it
# is rebuilt only when that changes. realtools: realbase plus the lab's CA and
# the few settings that make an Alpine-minded Dockerfile run on Debian; it is
# cheap and rebuilt whenever the CA or those settings change.

REALBASE_SUITE=bookworm
REALBASE_PACKAGES="ca-certificates curl git nodejs npm openssh-client python-is-python3 python3 python3-pip python3-setuptools python3-wheel"

realbase_key() {
	printf 'suite=%s variant=minbase packages=%s mmdebstrap=%s arch=%s\n' "$REALBASE_SUITE" \
		"$(printf '%s\n' $REALBASE_PACKAGES | sort -u | tr '\n' ' ')" \
		"$(dpkg-query -W -f '${Version}' mmdebstrap 2>/dev/null)" "$(dpkg --print-architecture)"
}

realbase_tag() { realbase_key | sha256sum | cut -c1-16; }

push_realbase() {
	local tag ref dir start
	tag=$(realbase_tag)
	ref="$(registry)/hushbuild/realbase:$tag"
	pushed hushbuild/realbase "$tag" 2>/dev/null && return 0
	command -v mmdebstrap >/dev/null || die "mmdebstrap is missing (hack/lab.sh deps)"
	dir=$LAB/realbase
	rm -rf "$dir"
	mkdir -p "$dir"
	log "making the Debian $REALBASE_SUITE root filesystem (mmdebstrap): $REALBASE_PACKAGES"
	start=$SECONDS
	mmdebstrap --variant=minbase --include="$(echo $REALBASE_PACKAGES | tr ' ' ',')" \
		--aptopt='APT::Install-Recommends "false"' \
		--dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' --dpkgopt='path-exclude=/usr/share/info/*' \
		--skip=output/dev \
		"$REALBASE_SUITE" "$dir/rootfs.tar" >"$LOGS/mmdebstrap.log" 2>&1 ||
		{ tail -n 40 "$LOGS/mmdebstrap.log" >&2; die "mmdebstrap failed; see $LOGS/mmdebstrap.log"; }
	log "mmdebstrap: $((SECONDS - start))s, $(du -m "$dir/rootfs.tar" | cut -f1) MB"
	cat >"$dir/Dockerfile" <<'EOF'
FROM scratch
ADD rootfs.tar /
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
CMD ["/bin/bash"]
EOF
	log "building and pushing $ref"
	"$BIN/buildctl" --addr "unix://$SOCK" build --progress=plain \
		--frontend dockerfile.v0 --local "context=$dir" --local "dockerfile=$dir" \
		--output "type=image,name=$ref,push=true" >"$LOGS/image-realbase.log" 2>&1 ||
		{ tail -n 40 "$LOGS/image-realbase.log" >&2; die "building $ref failed; see $LOGS/image-realbase.log"; }
	rm -f "$dir/rootfs.tar"
}

push_realtools() {
	local ctx
	ctx=$(new_context realtools)
	cp "$REALTOOLS/ca.crt" "$ctx/lab-ca.crt"
	# The lab's sshd cannot hold github.com's host key, which Dockerfiles pin
	# in known_hosts: for the hosts the lab answers for, ssh reads no
	# known_hosts file and accepts the key it is shown.
	cat >"$ctx/ssh_config" <<EOF
Host $REALTOOLS_HOSTS
	StrictHostKeyChecking no
	UserKnownHostsFile /dev/null
	GlobalKnownHostsFile /dev/null
	LogLevel ERROR
EOF
	cat >"$ctx/Dockerfile" <<EOF
FROM $(registry)/hushbuild/realbase:$(realbase_tag)
COPY lab-ca.crt /usr/local/share/ca-certificates/hushbuild-lab.crt
COPY ssh_config /etc/ssh/ssh_config.d/hushbuild-lab.conf
# The examples are written for Alpine-based images (python:3.9-alpine,
# alpine): /bin/sh knows \`source\` and finds \`source .env\` in the current
# directory (a last "." in PATH), and pip installs into the system's Python
# (no PEP 668 marker) as in the python images.
RUN update-ca-certificates >/dev/null && ln -sf bash /bin/sh && rm -f /usr/lib/python3*/EXTERNALLY-MANAGED
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:. \\
    NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \\
    npm_config_update_notifier=false npm_config_fund=false
EOF
	push_image realtools "$(image_ref realtools)"
}

realtools_up() {
	timed "real-tools servers (build)" realtools_init
	timed "labservers" start_labservers
	timed "sshd" start_sshd
	timed "real base image" push_realbase
	timed "real-tools image" push_realtools
}


# ---- environment ---------------------------------------------------------------

env_lines() {
	cat <<EOF
export HUSHBUILD_LAB_DIR='$LAB'
export HUSHBUILD_LAB_BIN='$BIN'
export PATH="\$HUSHBUILD_LAB_BIN:\$PATH"
export BUILDKIT_HOST='unix://$SOCK'
export HUSHBUILD_REGISTRY='$(registry)'
export DOCKER_CONFIG='$DOCKER_CONFIG'
export BUILDX_BUILDER='$BUILDER'
export HUSHBUILD_FRONTEND_IMAGE='$(image_ref frontend)'
export HUSHBUILD_STOCK_FRONTEND_IMAGE='$(image_ref dockerfile-frontend)'
export HUSHBUILD_TESTBASE_IMAGE='$(image_ref testbase)'
export HUSHBUILD_BUSYBOX_IMAGE='$(image_ref busybox)'
export HUSHBUILD_REALTOOLS_IMAGE='$(image_ref realtools)'
export HUSHBUILD_REALTOOLS_ADDR='$(realtools_addr)'
export HUSHBUILD_REALTOOLS_HOSTS='$REALTOOLS_HOSTS'
export HUSHBUILD_REALTOOLS_DIR='$REALTOOLS'
export HUSHBUILD_LAB_BUILDKIT='$(buildkit_version)'
export HUSHBUILD_LAB_DAEMONS='$(running_daemons | tr '\n' ' ' | sed 's/ $//')'
EOF
}

write_env() { env_lines >"$LAB/env.tmp" && mv "$LAB/env.tmp" "$LAB/env"; }

# ---- commands --------------------------------------------------------------------

lock() {
	exec 9>"$LAB/lock"
	flock 9
}

cmd_up() {
	local start=$SECONDS
	lock
	timed "packages" deps
	command -v go >/dev/null || die "go is not on PATH"
	timed "buildkit binaries" build_buildkit
	timed "buildx" build_buildx
	timed "compose" build_compose
	timed "registry" start_registry
	timed "buildkitd" start_buildkitd
	timed "buildx builder" register_builder
	timed "busybox image" push_busybox
	timed "testbase image" push_testbase
	timed "stock frontend image" push_frontend_image dockerfile-frontend "$BIN/dockerfile-frontend"
	timed "hushbuild frontend image" push_frontend
	timed "real-tools servers" realtools_up
	write_env
	log "up in $((SECONDS - start))s; source it with: eval \"\$(hack/lab.sh env)\""
}

cmd_frontend() {
	lock
	alive registry "$REGISTRY_PATTERN" && alive buildkitd "$BUILDKITD_PATTERN" || die "the lab is not up; run hack/lab.sh up"
	[ -d "$ROOT/cmd/hushbuild-frontend" ] || die "cmd/hushbuild-frontend does not exist"
	push_frontend
	write_env
}

# cmd_daemons: build and start the extra daemons (the lab must be up).
cmd_daemons() {
	local start=$SECONDS v
	for v in $LAB_DAEMONS; do
		[[ $v =~ ^v[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "HUSHBUILD_LAB_DAEMONS: $v is not a BuildKit version (vX.Y.Z)"
	done
	# Compiling takes minutes: done before taking the lab's lock, so that
	# `up` and `frontend` of other test packages do not wait for it.
	for v in $LAB_DAEMONS; do
		timed "buildkitd $v binary" build_daemon "$v"
	done
	lock
	alive registry "$REGISTRY_PATTERN" && alive buildkitd "$BUILDKITD_PATTERN" || die "the lab is not up; run hack/lab.sh up"
	for v in $LAB_DAEMONS; do
		timed "buildkitd $v" start_daemon "$v"
		timed "buildx builder $BUILDER-$v" register_daemon_builder "$v"
	done
	write_env
	log "daemons up in $((SECONDS - start))s: $(running_daemons | tr '\n' ' ')"
}

cmd_down() {
	local v
	lock
	for v in $(running_daemons); do
		stop "buildkitd-$v" "$(daemon_pattern "$v")"
		rm -f "$(daemon_dir "$v")/buildkitd.sock"
	done
	stop sshd "$SSHD_PATTERN"
	stop labservers "$LABSERVERS_PATTERN"
	stop buildkitd "$BUILDKITD_PATTERN"
	stop registry "$REGISTRY_PATTERN"
	rm -f "$SOCK"
}

cmd_status() {
	local ok=0 name pattern v
	for name in registry buildkitd; do
		[ $name = registry ] && pattern=$REGISTRY_PATTERN || pattern=$BUILDKITD_PATTERN
		if alive $name "$pattern"; then
			log "$name: running (pid $(cat "$RUN/$name.pid"))"
		else
			log "$name: not running"
			ok=3
		fi
	done
	if [ $ok = 0 ]; then
		http_ok "http://$(registry)/v2/" && log "registry: answers on $(registry)" || { log "registry: does not answer"; ok=3; }
		buildctl_ok >/dev/null 2>&1 && log "buildkitd: answers on unix://$SOCK" || { log "buildkitd: does not answer"; ok=3; }
		for name in labservers sshd; do
			[ $name = labservers ] && pattern=$LABSERVERS_PATTERN || pattern=$SSHD_PATTERN
			if alive $name "$pattern"; then log "$name: running (pid $(cat "$RUN/$name.pid")) on $(realtools_addr)"; else log "$name: not running"; fi
		done
		for v in $(running_daemons); do
			daemon_ok "$(daemon_dir "$v")/buildkitd.sock" >/dev/null 2>&1 && log "buildkitd $v: answers on unix://$(daemon_dir "$v")/buildkitd.sock" || { log "buildkitd $v: does not answer"; ok=3; }
		done
		for name in busybox testbase dockerfile-frontend frontend realtools; do
			local ref repo
			ref=$(image_ref $name)
			repo=${ref#*/}
			if pushed "${repo%:*}" "${repo##*:}"; then log "image: $ref"; else log "image: $ref missing"; [ $name = frontend ] || ok=3; fi
		done
	fi
	return $ok
}

cmd_clean() {
	cmd_down
	local m
	# buildkitd unmounts on exit; drop whatever a killed one left behind.
	for m in $(awk -v p="$LAB/" 'index($2, p) == 1 { print $2 }' /proc/mounts | sort -r); do
		umount "$m" || umount -l "$m" || true
	done
	log "removing lab state under $LAB (keeping bin/)"
	rm -rf "$LAB/buildkitd" "$LAB/daemons" "$LAB/registry" "$LAB/images" "$LAB/docker" "$LAB/run" "$LAB/logs" \
		"$LAB/realtools" "$LAB/realtools.addr" "$LAB/realbase" "$LAB/env" "$LAB/registry.port" "$LAB/registry.yml" "$LAB/buildkitd.toml"
}

case ${1:-} in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
env) env_lines ;;
frontend) cmd_frontend ;;
daemons) cmd_daemons ;;
deps) lock && deps ;;
realbase)
	lock
	alive registry "$REGISTRY_PATTERN" && alive buildkitd "$BUILDKITD_PATTERN" || die "the lab is not up; run hack/lab.sh up"
	timed "real base image" push_realbase
	;;
realtools)
	lock
	alive registry "$REGISTRY_PATTERN" && alive buildkitd "$BUILDKITD_PATTERN" || die "the lab is not up; run hack/lab.sh up"
	realtools_up
	write_env
	;;
clean) cmd_clean ;;
*)
	sed -n '2,/^set -euo/{/^set -euo/d; s/^# \{0,1\}//p}' "$0" >&2
	exit 2
	;;
esac
