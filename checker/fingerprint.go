package checker

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
)

// FingerprintKeyFile is the builder's fingerprint key, in the cache mount
// the fingerprint exec gets.
const FingerprintKeyFile = "fingerprint.key"

// FingerprintAbsent is the fingerprint of a secret the build was not
// given.
const FingerprintAbsent = "absent"

// Fingerprint writes, for each secret of a build, a keyed hash of its
// value (HMAC-SHA256 with a random key kept on the builder, in a cache
// mount, never in an image or a cache export); args are what follows
// `hushbuild-frontend fingerprint`:
//
//	--secrets DIR --id ID0 [--id ID1 ...] --key DIR --out FILE [--build NONCE]
//
// FILE is a JSON object from id to fingerprint (hex, or FingerprintAbsent).
// The frontend puts them in the steps that get those secrets, so that
// BuildKit's cache keys of those steps depend on the values: two builds
// with different values never share a step (BuildKit runs a step once for
// every build that has it running at the same time, whatever secrets each
// build was given), and the check of each build searches the very values
// its steps saw. The key makes the fingerprints, which the provenance
// records, worthless for guessing a value. NONCE is ignored: it keeps two
// builds from sharing this exec.
func Fingerprint(args []string) int {
	return fingerprint(args, os.Stderr)
}

func fingerprint(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("fingerprint", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("secrets", "", "directory holding secret i as file <i>")
	keyDir := fs.String("key", "", "directory keeping the key")
	out := fs.String("out", "", "file to write")
	_ = fs.String("build", "", "ignored")
	var ids stringList
	fs.Var(&ids, "id", "secret id (repeated, in the order of the files)")
	if err := fs.Parse(args); err != nil {
		return ExitInternal
	}
	if *dir == "" || *keyDir == "" || *out == "" || fs.NArg() != 0 {
		fmt.Fprintln(stderr, "hushbuild: fingerprint: usage: fingerprint --secrets DIR --id ID... --key DIR --out FILE")
		return ExitInternal
	}
	fps, err := Fingerprints(*dir, ids, *keyDir)
	if err == nil {
		var dt []byte
		if dt, err = json.Marshal(fps); err == nil {
			err = os.WriteFile(*out, dt, 0o644)
		}
	}
	if err != nil {
		fmt.Fprintf(stderr, "hushbuild: fingerprint: %v\n", err)
		return ExitInternal
	}
	return 0
}

// Fingerprints are the fingerprints of the secrets ids, ids[i] read from
// dir/<i>, with the key kept in keyDir (made on first use).
func Fingerprints(dir string, ids []string, keyDir string) (map[string]string, error) {
	key, err := fingerprintKey(keyDir)
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for i, id := range ids {
		data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if errors.Is(err, fs.ErrNotExist) {
			out[id] = FingerprintAbsent
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", id, err)
		}
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(id))
		mac.Write([]byte{0})
		mac.Write(data)
		out[id] = hex.EncodeToString(mac.Sum(nil))
	}
	return out, nil
}

// fingerprintKey reads the key in dir, or makes it.
func fingerprintKey(dir string) ([]byte, error) {
	p := filepath.Join(dir, FingerprintKeyFile)
	if key, err := os.ReadFile(p); err == nil && len(key) == 32 {
		return key, nil
	}
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		return nil, err
	}
	tmp := p + ".tmp"
	if err := os.WriteFile(tmp, key, 0o600); err != nil {
		return nil, fmt.Errorf("writing the fingerprint key: %w", err)
	}
	if err := os.Rename(tmp, p); err != nil {
		return nil, fmt.Errorf("writing the fingerprint key: %w", err)
	}
	return key, nil
}
