package nest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/binary"
	"errors"
)

// An Elasticsearch keystore (elasticsearch.keystore, which
// `elasticsearch-keystore create` and `add` write) holds secure settings
// (bootstrap.password, s3.client.*.secret_key)
// encrypted under a password that is empty unless one was set
// (org.elasticsearch.common.settings.KeyStoreWrapper, format versions 3
// to 6):
//
//   - a Lucene codec header: magic 0x3fd76c17, the codec name
//     "elasticsearch.keystore" (a length byte and the name), the format
//     version; all big-endian;
//   - a byte: 1 when the keystore has a password;
//   - the data's length, then the data: the salt, the IV and the
//     encrypted bytes, each after its length; the integers are
//     big-endian up to version 4 and little-endian from version 5 (ES 8);
//   - a Lucene codec footer (its checksum is not checked).
//
// The encrypted bytes are AES-128-GCM, the salt as associated data, under
// a key PBKDF2-HMAC-SHA512 derives from the password (UTF-8) and the salt
// in 10000 iterations, 210000 from version 6 (ES 8.14). What they decrypt
// to is big-endian (Java's DataOutputStream): the number of settings,
// then each setting's name (a length in two bytes and modified UTF-8; of
// version 3, its type after it, the same way) and value (a length in four
// bytes and the bytes).

// esHeader is how an Elasticsearch keystore starts: the codec header's
// magic and name.
var esHeader = append([]byte{0x3f, 0xd7, 0x6c, 0x17, 22}, "elasticsearch.keystore"...)

// maxESWork bounds the key derivation iterations spent on one keystore,
// all passwords together: ten tries of a version 6 keystore's, well under
// a second of work. A variable for the tests.
var maxESWork = 1 << 21

// IsESKeystore reports whether head starts an Elasticsearch keystore of a
// format version that can be read (3 to 6).
func IsESKeystore(head []byte) bool {
	if len(head) < len(esHeader)+4 || !bytes.HasPrefix(head, esHeader) {
		return false
	}
	v := binary.BigEndian.Uint32(head[len(esHeader):])
	return v >= 3 && v <= 6
}

// OpenESKeystore decrypts the settings of the Elasticsearch keystore data
// under KeystorePasswords (the empty one when the keystore says it has
// none, else the others): one part, its settings' values one per line.
// unopened is 1 when no password opened it. The error is for data that
// is no Elasticsearch keystore that can be read, or that asks for too
// much work.
func OpenESKeystore(data []byte) (parts []KeystorePart, unopened int, err error) {
	pw, values, err := openES(data, KeystorePasswords)
	if pw < 0 {
		if err == nil {
			unopened = 1
		}
		return nil, unopened, err
	}
	return []KeystorePart{{KeystorePasswords[pw], bytes.Join(values, []byte("\n"))}}, 0, err
}

// openES decrypts the settings of the Elasticsearch keystore data with
// passwords: the index of the one that opens it (or -1) and the settings'
// values.
func openES(data []byte, passwords []string) (int, [][]byte, error) {
	if !IsESKeystore(data) {
		return -1, nil, errors.New("not an Elasticsearch keystore")
	}
	bad := func(what string) (int, [][]byte, error) {
		return -1, nil, errors.New("an Elasticsearch keystore that cannot be read: " + what)
	}
	rest := data[len(esHeader):]
	version := binary.BigEndian.Uint32(rest)
	rest = rest[4:]
	if len(rest) < 1+4 || rest[0] > 1 {
		return bad("no password flag")
	}
	hasPassword := rest[0] == 1
	var order binary.ByteOrder = binary.BigEndian
	if version >= 5 {
		order = binary.LittleEndian
	}
	field := func(b []byte) ([]byte, []byte, bool) {
		if len(b) < 4 {
			return nil, nil, false
		}
		n := order.Uint32(b)
		if uint64(n) > uint64(len(b)-4) {
			return nil, nil, false
		}
		return b[4 : 4+n], b[4+n:], true
	}
	body, _, ok := field(rest[1:])
	if !ok {
		return bad("truncated")
	}
	salt, body, ok1 := field(body)
	iv, body, ok2 := field(body)
	enc, body, ok3 := field(body)
	if !ok1 || !ok2 || !ok3 || len(body) != 0 || len(iv) == 0 || len(iv) > 64 || len(enc) < 16 {
		return bad("no salt, IV and encrypted data")
	}
	iterations := 10000
	if version >= 6 {
		iterations = 210000
	}
	work := 0
	for i, pw := range passwords {
		if (pw == "") == hasPassword {
			continue
		}
		if work += iterations; work > maxESWork {
			return -1, nil, errors.New("an Elasticsearch keystore that asks for too much key derivation work")
		}
		key, err := pbkdf2.Key(sha512.New, pw, salt, iterations, 16)
		if err != nil {
			return bad(err.Error())
		}
		block, _ := aes.NewCipher(key) // a 16-byte key is always taken
		gcm, err := cipher.NewGCMWithNonceSize(block, len(iv))
		if err != nil {
			return bad(err.Error())
		}
		plain, err := gcm.Open(nil, iv, enc, salt)
		if err != nil {
			continue // not this password
		}
		values, err := esSettings(plain, version)
		return i, values, err
	}
	return -1, nil, nil
}

// esSettings reads the values of the decrypted settings plain.
func esSettings(plain []byte, version uint32) ([][]byte, error) {
	r := &jksReader{b: plain}
	var values [][]byte
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.utf() // the name
		if version == 3 {
			r.utf() // the type
		}
		if v := r.take(r.u32()); r.err == nil {
			values = append(values, v)
		}
	}
	if r.err != nil {
		return values, errors.New("an Elasticsearch keystore whose settings cannot be read: " + r.err.Error())
	}
	return values, nil
}
