package nest

import (
	"bytes"
	"crypto/sha1"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"unicode/utf16"
)

// A Java KeyStore (JKS: what keytool wrote before Java 9, and still writes
// with -storetype JKS) holds certificates in the clear and each private
// key as a PKCS #8 key XORed with a SHA-1 keystream of its password
// (sun.security.provider.KeyProtector): salt (20 bytes), the key XORed,
// then SHA-1(password, key), which tells the right password. The store's
// own digest is not checked.

// IsJKS reports whether head starts a Java KeyStore: magic 0xFEEDFEED,
// version 1 or 2.
func IsJKS(head []byte) bool {
	return len(head) >= 8 && binary.BigEndian.Uint32(head) == 0xfeedfeed && (binary.BigEndian.Uint32(head[4:]) == 1 || binary.BigEndian.Uint32(head[4:]) == 2)
}

// oidJKSKeyProtector is the algorithm of a JKS private key.
var oidJKSKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}

// OpenJKS decrypts the private keys of the Java KeyStore data under
// KeystorePasswords, grouped by the password that opened them, in the
// order of KeystorePasswords. unopened counts the keys no password
// opened. The error is for data that is no JKS keystore that can be
// read; what was opened before is returned with it.
func OpenJKS(data []byte) (parts []KeystorePart, unopened int, err error) {
	out, _, unopened, err := openJKS(data, KeystorePasswords)
	for i, b := range out {
		if len(b) > 0 {
			parts = append(parts, KeystorePart{KeystorePasswords[i], b})
		}
	}
	return parts, unopened, err
}

// openJKS decrypts the private keys of the Java KeyStore data under
// passwords: out holds them by password, keys one by one (see OpenJKS).
func openJKS(data []byte, passwords []string) (out, keys [][]byte, unopened int, err error) {
	out, keys, _, unopened, err = openJavaKeystore(data, passwords)
	return out, keys, unopened, err
}

// openJavaKeystore decrypts the private keys and, of a JCEKS keystore, the
// secret keys of the JKS or JCEKS keystore data under passwords: out holds
// them by password, keys and secrets one by one (a secret as the
// serialized key it was sealed as).
func openJavaKeystore(data []byte, passwords []string) (out, keys, secrets [][]byte, unopened int, err error) {
	kind := JKSKind
	switch {
	case IsJCEKS(data):
		kind = JCEKSKind
	case !IsJKS(data):
		return nil, nil, nil, 0, errors.New("not a JKS keystore")
	}
	r := &jksReader{b: data}
	r.u32()
	version := r.u32()
	count := r.u32()
	out = make([][]byte, len(passwords))
	jceks := &jceksOpener{passwords: passwords}
	last := 0
	for i := uint32(0); i < count && r.err == nil && jceks.err == nil; i++ {
		tag := r.u32()
		r.utf()   // the alias
		r.take(8) // the date
		var pw int
		var plain []byte
		switch {
		case tag == 1: // a private key and its certificate chain
			key := r.take(r.u32())
			for n, k := r.u32(), uint32(0); k < n && r.err == nil; k++ {
				r.cert(version)
			}
			if r.err != nil {
				break
			}
			var epki encryptedPrivateKeyInfo
			if _, err := asn1.Unmarshal(key, &epki); err == nil && kind == JCEKSKind && epki.Algorithm.Algorithm.Equal(oidJCEKSKeyProtector) {
				pw, plain = jceks.decrypt(epki.Algorithm.Parameters.FullBytes, epki.Encrypted, oneSequence)
			} else {
				pw, plain = jksKey(key, passwords, last)
			}
			if pw >= 0 {
				keys = append(keys, plain)
			}
		case tag == 2: // a trusted certificate, in the clear
			r.cert(version)
			continue
		case tag == 3 && kind == JCEKSKind: // a secret key, sealed
			params, sealed := r.sealedKey()
			if r.err != nil {
				break
			}
			pw, plain = jceks.decrypt(params, sealed, isJavaStream)
			if pw >= 0 {
				secrets = append(secrets, plain)
			}
		default:
			r.err = errors.New("an entry of an unknown kind")
		}
		if r.err != nil || jceks.err != nil {
			break
		}
		if pw < 0 {
			unopened++
			continue
		}
		last, jceks.last = pw, pw
		out[pw] = append(out[pw], plain...)
	}
	switch {
	case r.err != nil:
		err = errors.New("a " + kind + " keystore that cannot be read: " + r.err.Error())
	case jceks.err != nil:
		err = jceks.err
	}
	return out, keys, secrets, unopened, err
}

// jksKey recovers the protected private key key (an EncryptedPrivateKeyInfo)
// with passwords, first the one at first: the index of the one that opens
// it and the PKCS #8 key, or -1.
func jksKey(key []byte, passwords []string, first int) (int, []byte) {
	var epki encryptedPrivateKeyInfo
	if _, err := asn1.Unmarshal(key, &epki); err != nil || !epki.Algorithm.Algorithm.Equal(oidJKSKeyProtector) {
		return -1, nil
	}
	const saltLen, digestLen = 20, sha1.Size
	p := epki.Encrypted
	if len(p) <= saltLen+digestLen {
		return -1, nil
	}
	salt, enc, check := p[:saltLen], p[saltLen:len(p)-digestLen], p[len(p)-digestLen:]
	if len(passwords) == 0 {
		return -1, nil
	}
	order := []int{first}
	for i := range passwords {
		if i != first {
			order = append(order, i)
		}
	}
	plain := make([]byte, len(enc))
	for _, i := range order {
		// The password as Java's chars, big-endian, without a NUL.
		var pw []byte
		for _, c := range utf16.Encode([]rune(passwords[i])) {
			pw = append(pw, byte(c>>8), byte(c))
		}
		digest := salt
		for off := 0; off < len(enc); off += digestLen {
			h := sha1.New()
			h.Write(pw)
			h.Write(digest)
			digest = h.Sum(nil)
			for k := 0; k < digestLen && off+k < len(enc); k++ {
				plain[off+k] = enc[off+k] ^ digest[k]
			}
		}
		h := sha1.New()
		h.Write(pw)
		h.Write(plain)
		if bytes.Equal(h.Sum(nil), check) {
			return i, plain
		}
	}
	return -1, nil
}

// jksReader reads a JKS keystore's big-endian fields; past its end, or
// past a field too long, it keeps err and reads nothing.
type jksReader struct {
	b   []byte
	err error
}

func (r *jksReader) take(n uint32) []byte {
	if r.err != nil || uint64(n) > uint64(len(r.b)) {
		if r.err == nil {
			r.err = errors.New("truncated")
		}
		return nil
	}
	out := r.b[:n]
	r.b = r.b[n:]
	return out
}

func (r *jksReader) u32() uint32 {
	if b := r.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

// utf skips a Java modified UTF-8 string (its length in two bytes).
func (r *jksReader) utf() {
	if b := r.take(2); b != nil {
		r.take(uint32(binary.BigEndian.Uint16(b)))
	}
}

// cert skips a certificate: of version 2, its type ("X.509") first.
func (r *jksReader) cert(version uint32) {
	if version == 2 {
		r.utf()
	}
	r.take(r.u32())
}
