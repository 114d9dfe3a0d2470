# Shared helpers of the test base image's stand-in tools (busybox sh).
#
# A stand-in never contacts anything. It prints one line per credential it
# would have sent:
#     hushbuild-probe TOOL KIND sha256=<hex>
# where the hash is of the secret's exact bytes (a password, a token, a key
# file), never the secret itself. See hack/testbase/README.md.

: "${HOME:=/root}"
PROBED=

# probe TOOL KIND VALUE: report one credential, by hash only.
probe() {
	[ -n "$3" ] || return 0
	printf 'hushbuild-probe %s %s sha256=%s\n' "$1" "$2" "$(printf %s "$3" | sha256sum | cut -d' ' -f1)"
	PROBED=1
}

# probe_file TOOL KIND FILE: report a credential file by the hash of its bytes.
probe_file() {
	printf 'hushbuild-probe %s %s sha256=%s\n' "$1" "$2" "$(sha256sum <"$3" | cut -d' ' -f1)"
	PROBED=1
}

# probe_end TOOL: when nothing was reported, say so, and fail if
# HUSHBUILD_PROBE_REQUIRE=1.
probe_end() {
	[ -n "$PROBED" ] && return 0
	printf 'hushbuild-probe %s none\n' "$1"
	if [ "${HUSHBUILD_PROBE_REQUIRE:-}" = 1 ]; then
		echo "$1: no credential found (HUSHBUILD_PROBE_REQUIRE=1)" >&2
		exit 1
	fi
}

# url_host URL: the host of an http(s) URL, without user info or port.
url_host() {
	printf %s "$1" | sed -E 's#^[A-Za-z][A-Za-z0-9+.-]*://##; s#/.*##; s#.*@##; s#:[0-9]*$##'
}

# url_secret URL: the password of an http(s) URL's user info, or the user
# name when there is no password (a token used as user name).
url_secret() {
	_ui=$(printf %s "$1" | sed -nE 's#^[Hh][Tt][Tt][Pp][Ss]?://([^/]*)@.*#\1#p')
	case $_ui in
	*:*) printf %s "${_ui#*:}" ;;
	*) printf %s "$_ui" ;;
	esac
}

# netrc_secret HOST FILE...: the password for HOST (else the default entry)
# in the first readable netrc file that has one.
netrc_secret() {
	_h=$1
	shift
	for _f; do
		[ -r "$_f" ] || continue
		_v=$(awk -v h="$_h" '
			{ for (i = 1; i <= NF; i++) t[++n] = $i }
			END {
				for (i = 1; i <= n; i++) {
					if (t[i] == "machine") { m = t[++i]; continue }
					if (t[i] == "default") { m = "\001"; continue }
					if (t[i] == "password") {
						i++
						if (m == h) { print t[i]; exit }
						if (m == "\001" && d == "") d = t[i]
					}
				}
				if (d != "") print d
			}' "$_f")
		[ -n "$_v" ] && { printf %s "$_v"; return 0; }
	done
	return 1
}

# netrc_files: the netrc files a tool reads, in order.
netrc_files() {
	echo "${NETRC:-$HOME/.netrc}"
	echo "$PWD/.netrc"
}

# expand_env VALUE: VALUE with each ${NAME} replaced by that variable's value.
expand_env() {
	printf '%s\n' "$1" | awk '{
		s = $0; out = ""
		while (match(s, /\$\{[A-Za-z_][A-Za-z0-9_]*\}/)) {
			out = out substr(s, 1, RSTART - 1) ENVIRON[substr(s, RSTART + 2, RLENGTH - 3)]
			s = substr(s, RSTART + RLENGTH)
		}
		printf "%s", out s
	}'
}

# auth_header_secret VALUE: the secret of an Authorization header value:
# the password of "Basic base64(user:pass)", else the last word.
auth_header_secret() {
	case $1 in
	[Bb]asic\ *)
		_d=$(printf %s "${1#* }" | base64 -d 2>/dev/null)
		printf %s "${_d#*:}"
		;;
	*) printf %s "${1##* }" ;;
	esac
}

# ini_get FILE SECTION KEY: the value of KEY in [SECTION] of an INI file
# ("-" and "_" in key names are the same, as pip reads them).
ini_get() {
	[ -r "$1" ] || return 0
	awk -v s="$2" -v k="$3" '
		/^[ \t]*\[/ { sec = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", sec); next }
		sec == s && match($0, /^[ \t]*[^=:#; \t]+[ \t]*[=:]/) {
			key = substr($0, 1, RLENGTH - 1); gsub(/[ \t]/, "", key); gsub(/_/, "-", key)
			if (key == k) { v = substr($0, RLENGTH + 1); gsub(/^[ \t]+|[ \t]+$/, "", v); val = v; cont = 1; next }
		}
		cont && /^[ \t]+[^ \t]/ { v = $0; gsub(/^[ \t]+|[ \t]+$/, "", v); val = val " " v; next }
		{ cont = 0 }
		END { if (val != "") print val }' "$1"
}

# ini_set FILE SECTION KEY VALUE: set KEY in [SECTION], as configparser
# writes it ("key = value").
ini_set() {
	mkdir -p "$(dirname "$1")"
	touch "$1"
	INI_VALUE=$4 awk -v s="$2" -v k="$3" 'BEGIN { v = ENVIRON["INI_VALUE"] }
		/^[ \t]*\[/ {
			if (in_s && !done) { print k " = " v; done = 1 }
			sec = $0; gsub(/^[ \t]*\[|\][ \t]*$/, "", sec); in_s = (sec == s); print; next
		}
		in_s && match($0, /^[ \t]*[^=:#; \t]+[ \t]*[=:]/) {
			key = substr($0, 1, RLENGTH - 1); gsub(/[ \t]/, "", key)
			if (key == k) { if (!done) print k " = " v; done = 1; next }
		}
		{ print }
		END { if (!done) { if (!in_s) { if (NR) print ""; print "[" s "]" }; print k " = " v } }' "$1" >"$1.tmp" && mv "$1.tmp" "$1"
}

# The user-switching stand-ins (gosu, su-exec, sudo, runuser) switch with
# busybox su, which root may run without a password.

# pw_entry USER: USER's /etc/passwd line (USER a name or a uid); fails
# when there is none.
pw_entry() {
	awk -F: -v u="$1" '$1 == u || $3 == u { print; found = 1; exit } END { exit !found }' /etc/passwd
}

# pw_field ENTRY N: field N of a passwd line (1 name, 6 home, 7 shell).
pw_field() {
	printf %s "$1" | cut -d: -f"$2"
}

# run_as NAME PROG ARG...: exec PROG as the user NAME (its uid and primary
# group), in this directory, the environment as it is: busybox su -m sets
# nothing, and -s runs PROG through the image's sh instead of NAME's shell.
# busybox su reads options among all its arguments: -- keeps PROG's own
# (sh -c) from being taken for su's.
run_as() {
	_u=$1
	shift
	exec su -m -s /bin/sh -c 'exec "$@"' -- "$_u" "$_u" "$@"
}
