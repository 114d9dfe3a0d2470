package e2e

import (
	"bytes"
	"crypto/rsa"
	"strings"
	"testing"

	"golang.org/x/crypto/openpgp"
	"golang.org/x/crypto/openpgp/armor"
)

// advCases are more review cases (see reviewCase): Dockerfiles and build
// commands found by a later review, built and checked as TestReviewLeaks
// builds its cases.
var advCases = []reviewCase{
	{
		// pip's documented way to a private index: the URL with its
		// password at the top of requirements.txt, copied with the app.
		name:       "requirements.txt with an --extra-index-url password copied with the app",
		dockerfile: "FROM python:3.12.2-slim\nWORKDIR /app\nCOPY . .\nRUN pip install --no-cache-dir -r requirements.txt\nCMD [\"python\", \"app.py\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{
				"requirements.txt": "--extra-index-url https://ci:" + v + "@pypi.acme.io/simple\nacme-lib==1.0\nflask==3.0.0\n",
				"app.py":           "print('hi')\n",
			}
		},
	},
	{
		// Bundler's source with the gem server's credentials in the URL.
		name:       "Gemfile with a source URL password copied with the app",
		dockerfile: "FROM alpine\nWORKDIR /app\nCOPY . .\nRUN bundle install\nCMD [\"bundle\", \"exec\", \"puma\"]\n",
		files: func(v string) map[string]string {
			return map[string]string{
				"Gemfile":   "source \"https://ci:" + v + "@gems.acme.io\"\ngem \"rails\"\n",
				"config.ru": "run Rails.application\n",
			}
		},
	},
	{
		// An artifact fetched with its token in the query string, as
		// package registries' download URLs take it: ADD records the URL
		// in the image history and the provenance's materials, and the
		// build log prints it.
		name:       "hard-coded access_token in the query string of an ADD URL",
		dockerfile: "FROM alpine\nADD https://artifacts.acme.io/v1/projects/42/lib-1.0.tgz?access_token={{VALUE}} /tmp/lib.tgz\nRUN tar -xzf /tmp/lib.tgz -C /opt || true\n",
	},
	{
		// A package repository (apt, rpm, Maven Central) signed in the
		// build by a script: gpg --import of a key without a passphrase
		// (a CI bot's) hands it to gpg-agent, which writes its numbers in
		// the clear to ~/.gnupg/private-keys-v1.d/KEYGRIP.key, as hex cut
		// over lines: no encoding of the armoured key the secret is.
		name:       "gpg --import of the signing key in a script a RUN runs",
		dockerfile: "FROM python:3.12.2-slim\nCOPY --chmod=755 tools/gpg /usr/local/bin/gpg\nCOPY --chmod=755 scripts/ /usr/local/bin/\nWORKDIR /repo\nRUN printf 'Origin: acme\\nSuite: stable\\n' > Release\nRUN --mount=type=secret,id=gpg_key sign-repo.sh\nCMD [\"ls\", \"/repo\"]\n",
		value:      pgpKeyArmored,
		files: func(string) map[string]string {
			return map[string]string{"tools/gpg": gpgStandIn, "scripts/sign-repo.sh": "#!/bin/sh\nset -e\ngpg --batch --import /run/secrets/gpg_key\ngpg --batch --yes --clearsign -o InRelease Release\n"}
		},
		secretFile: func(v string) (string, string) { return "gpg_key", v },
		forms:      func(v string) []string { return []string{pgpSecretMiddle(v)} },
		realTools:  true,
	},
	{
		// A command-line client made one file with pyinstaller
		// --onefile, its settings (the API key) from a secret mount
		// bundled with --add-data: the settings are zlib-compressed in
		// the CArchive appended to the bootloader, in the executable and
		// in build/main/main.pkg, and nowhere as they are.
		name:       "pyinstaller --onefile bundles settings from a secret mount",
		dockerfile: "FROM python:3.12.2-slim AS build\nCOPY --chmod=755 tools/pyinstaller /usr/local/bin/pyinstaller\nWORKDIR /src\nCOPY main.py .\nRUN --mount=type=secret,id=app_settings,target=/src/settings.json pyinstaller --onefile --add-data settings.json:. main.py\nFROM python:3.12.2-slim\nCOPY --from=build /src/dist/main /usr/local/bin/acme\nCMD [\"acme\"]\n",
		files: func(string) map[string]string {
			return map[string]string{"tools/pyinstaller": pyinstallerStandIn, "main.py": "import json, os, sys\nbase = getattr(sys, \"_MEIPASS\", os.path.dirname(__file__))\ncfg = json.load(open(os.path.join(base, \"settings.json\")))\nprint(\"acme client for\", cfg[\"region\"])\n"}
		},
		secretFile: func(v string) (string, string) {
			return "app_settings", `{"region": "eu-west-1", "api_key": "` + v + `"}` + "\n"
		},
		realTools: true,
	},
}

// pyinstallerStandIn stands for PyInstaller, which the lab's images
// lack: what pyinstaller --onefile writes, the ELF bootloader (here
// /bin/true) followed by a CArchive of zlib-compressed entries, its table
// of contents and its cookie.
const pyinstallerStandIn = `#!/usr/bin/env python3
# A stand-in for PyInstaller --onefile: the bootloader (an ELF program)
# followed by a CArchive whose entries (the script, compiled; each
# --add-data file) are zlib-compressed, its table of contents and its
# cookie (MEI\014\013\012\013\016), as PyInstaller 5 and 6 write it;
# build/NAME/NAME.pkg holds the same archive.
import marshal, os, shutil, struct, sys, zlib
args, data, script = sys.argv[1:], [], None
i = 0
while i < len(args):
    a = args[i]
    if a == "--add-data":
        src, dest = args[i + 1].split(":", 1)
        data.append((src, dest)); i += 2; continue
    if a.startswith("--add-data="):
        src, dest = a.split("=", 1)[1].split(":", 1); data.append((src, dest))
    elif not a.startswith("-"):
        script = a
    i += 1
name = os.path.splitext(os.path.basename(script))[0]
entries = [(name, b"s", marshal.dumps(compile(open(script).read(), script, "exec")))]
for src, dest in data:
    entries.append((os.path.join(dest, os.path.basename(src)).lstrip("./"), b"x", open(src, "rb").read()))
pkg, toc = b"", b""
for ename, typ, raw in entries:
    comp = zlib.compress(raw, 6)
    nm = ename.encode() + b"\0"
    nm += b"\0" * ((16 - (18 + len(nm)) % 16) % 16)
    toc += struct.pack("!IIIIBc", 18 + len(nm), len(pkg), len(comp), len(raw), 1, typ) + nm
    pkg += comp
toc_off = len(pkg)
pkg += toc
cookie_len = 88
pkg += struct.pack("!8sIIii64s", b"MEI\014\013\012\013\016", len(pkg) + cookie_len, toc_off, len(toc), 312, b"libpython3.12.so.1.0")
os.makedirs("build/" + name, exist_ok=True); os.makedirs("dist", exist_ok=True)
open("build/%s/%s.pkg" % (name, name), "wb").write(pkg)
with open("dist/" + name, "wb") as f:
    f.write(open("/bin/true", "rb").read() + pkg)
os.chmod("dist/" + name, 0o755)
print("INFO: Building EXE from EXE-00.toc completed successfully.")
`

// pgpKeyArmored is a fresh OpenPGP RSA key without a passphrase,
// armoured as gpg --armor --export-secret-keys writes it.
func pgpKeyArmored(t *testing.T) string {
	t.Helper()
	e, err := openpgp.NewEntity("CI Signer", "", "ci@acme.io", nil)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	w, err := armor.Encode(&b, openpgp.PrivateKeyType, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.SerializePrivate(w, nil); err != nil {
		t.Fatal(err)
	}
	w.Close()
	return b.String()
}

// pgpSecretMiddle is the middle 96 bytes of the private exponent of the
// armoured OpenPGP RSA key v: what every unencrypted form of it holds.
func pgpSecretMiddle(v string) string {
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(v))
	if err != nil || len(el) == 0 || el[0].PrivateKey == nil {
		return v
	}
	k, ok := el[0].PrivateKey.PrivateKey.(*rsa.PrivateKey)
	if !ok {
		return v
	}
	d := k.D.Bytes()
	return string(d[(len(d)-96)/2:][:96])
}

// gpgStandIn stands for GnuPG 2.2 (Debian's gnupg), which the lab's
// images lack: `--import FILE` of an OpenPGP RSA secret key without a
// passphrase writes gpg-agent's key file as gpg-agent does (the extended
// key format: the S-expression with the numbers in upper-case hex, a
// leading 00 where the high bit is set, its long line cut and continued
// after a space), and `--clearsign -o OUT IN` writes a signed file (the
// signature made up).
const gpgStandIn = `#!/usr/bin/env python3
import base64, hashlib, os, sys, time
args = sys.argv[1:]
home = os.environ.get("GNUPGHOME") or os.path.expanduser("~/.gnupg")

def packets(b):
    i = 0
    while i < len(b):
        t = b[i]
        if t & 0x40:
            tag, l = t & 0x3F, b[i + 1]
            if l < 192:
                n, h = l, 2
            elif l < 224:
                n, h = ((l - 192) << 8) + b[i + 2] + 192, 3
            else:
                n, h = int.from_bytes(b[i + 2:i + 6], "big"), 6
        else:
            tag, h = (t >> 2) & 15, 1 + (1, 2, 4)[t & 3]
            n = int.from_bytes(b[i + 1:i + h], "big")
        yield tag, b[i + h:i + h + n]
        i += h + n

def mpis(p, k, count):
    out = []
    for _ in range(count):
        n = (int.from_bytes(p[k:k + 2], "big") + 7) // 8
        out.append(p[k + 2:k + 2 + n])
        k += 2 + n
    return out, k

def hexs(b):
    h = b.hex().upper()
    return "#" + ("00" + h if b and b[0] & 0x80 else h) + "#"

if "--import" in args:
    text = open(args[-1]).read()
    body = "".join(l.strip() for l in text.splitlines()
                   if l.strip() and not l.startswith("-----") and ":" not in l and not l.startswith("="))
    for tag, p in packets(base64.b64decode(body)):
        if tag != 5 or p[0] != 4 or p[5] != 1:
            continue
        (n, e), k = mpis(p, 6, 2)
        if p[k] != 0:
            sys.exit("gpg stand-in: a key with a passphrase")
        (d, pp, q, u), _ = mpis(p, k + 1, 4)
        sexp = "(private-key (rsa (n %s)(e %s)(d %s)(p %s)(q %s)(u %s)))" % tuple(hexs(x) for x in (n, e, d, pp, q, u))
        line = "Key: " + sexp
        cut = [line[:71]] + [line[i:i + 70] for i in range(71, len(line), 70)]
        os.makedirs(home + "/private-keys-v1.d", mode=0o700, exist_ok=True)
        grip = hashlib.sha1(b"\0" + n).hexdigest().upper()
        with open(home + "/private-keys-v1.d/" + grip + ".key", "w") as f:
            f.write(time.strftime("Created: %Y%m%dT%H%M%S\n") + "\n ".join(cut) + "\n")
        print("gpg: key imported")
elif "--clearsign" in args:
    out, src = args[args.index("-o") + 1], args[-1]
    with open(out, "w") as f:
        f.write("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + open(src).read() + "-----BEGIN PGP SIGNATURE-----\n\niQEzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n")
`

// TestReviewAdvLeaks builds each case of advCases through the frontend.
func TestReviewAdvLeaks(t *testing.T) {
	l := needLab(t)
	for _, tc := range advCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l.runReviewCase(t, tc)
		})
	}
}
