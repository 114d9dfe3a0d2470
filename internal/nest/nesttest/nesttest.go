// Package nesttest makes, for tests, the forms package nest opens that
// the standard library cannot write: ar archives (a .deb), git packfiles,
// brotli data, PKCS #12 keystores and Java KeyStores.
package nesttest

import (
	"bytes"
	"compress/zlib"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha512"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"encoding/pem"
	"fmt"
	"math/big"
	"time"
	"unicode/utf16"

	"github.com/andybalholm/brotli"
	gopkcs12 "software.sslmate.com/src/go-pkcs12"
)

// Brotli is data brotli-compressed (at level 5, as a build's
// precompression step would).
func Brotli(data []byte) []byte {
	var b bytes.Buffer
	w := brotli.NewWriterLevel(&b, 5)
	w.Write(data) // a bytes.Buffer does not fail
	w.Close()
	return b.Bytes()
}

// Ar is an ar archive of members (name, content, ...), as dpkg-deb
// writes a .deb.
func Ar(members ...string) []byte {
	var b bytes.Buffer
	b.WriteString("!<arch>\n")
	for i := 0; i+1 < len(members); i += 2 {
		fmt.Fprintf(&b, "%-16s%-12d%-6d%-6d%-8s%-10d`\n", members[i], 0, 0, 0, "100644", len(members[i+1]))
		b.WriteString(members[i+1])
		if len(members[i+1])%2 == 1 {
			b.WriteByte('\n')
		}
	}
	return b.Bytes()
}

// Pack is a git packfile of blobs, and of a delta object inserting
// insert (an OFS_DELTA on the first blob; its sizes are cut to a byte,
// which a reader that does not apply deltas does not mind).
func Pack(insert string, blobs ...string) []byte {
	var b bytes.Buffer
	n := len(blobs)
	if insert != "" {
		n++
	}
	b.WriteString("PACK\x00\x00\x00\x02")
	b.Write([]byte{byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)})
	header := func(typ byte, size int) {
		c := typ<<4 | byte(size&15)
		size >>= 4
		for size > 0 {
			b.WriteByte(c | 0x80)
			c, size = byte(size&0x7f), size>>7
		}
		b.WriteByte(c)
	}
	deflate := func(data []byte) {
		zw := zlib.NewWriter(&b)
		zw.Write(data) // a bytes.Buffer does not fail
		zw.Close()
	}
	first := b.Len()
	for _, blob := range blobs {
		header(3, len(blob))
		deflate([]byte(blob))
	}
	if insert != "" {
		at := b.Len()
		// base size, result size, copy the base's first 4 bytes, insert.
		delta := []byte{byte(len(blobs[0])), byte(4 + len(insert)), 0x90, 4, byte(len(insert))}
		delta = append(delta, insert...)
		header(6, len(delta))
		b.WriteByte(byte(at - first)) // the base's offset back (< 128)
		deflate(delta)
	}
	b.Write(make([]byte, 20)) // the checksum
	return b.Bytes()
}

// Keystore is a private key and its certificate packed into a PKCS #12
// keystore, with the key's other encodings to look for.
type Keystore struct {
	P12   []byte // the keystore (PKCS #12, or JKS for JKS)
	PEM   []byte // the key as a PKCS #8 PEM file (what a secret mount holds)
	PKCS1 []byte // the key's PKCS #1 DER
	PKCS8 []byte // the key's PKCS #8 DER
	Cert  []byte // the certificate's DER
}

// PKCS12Encoders are the encodings PKCS12 writes: "legacy-rc2" (what
// OpenSSL 1.x and Java 8 write: the key under 3DES, the certificates under
// 40-bit RC2), "legacy-des" (all under 3DES) and "modern" (what OpenSSL 3
// and Java 11 write: PBES2, AES-256-CBC, PBKDF2 with HMAC-SHA-256).
var PKCS12Encoders = []string{"legacy-rc2", "legacy-des", "modern"}

// NewKey is a fresh 2048-bit RSA key and a self-signed certificate for it.
func NewKey() (*rsa.PrivateKey, *x509.Certificate, error) { return NewKeySize(2048) }

// NewKeySize is NewKey with a key of bits bits (1024 is quicker to make,
// for fuzzing's seeds).
func NewKeySize(bits int) (*rsa.PrivateKey, *x509.Certificate, error) {
	key, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "app.example.com"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		DNSNames:     []string{"app.example.com"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return key, cert, err
}

// PKCS12 packs key and cert into a keystore under password with the
// encoder enc (one of PKCS12Encoders), as `openssl pkcs12 -export` does.
func PKCS12(key *rsa.PrivateKey, cert *x509.Certificate, enc, password string) (Keystore, error) {
	encoders := map[string]*gopkcs12.Encoder{"legacy-rc2": gopkcs12.LegacyRC2, "legacy-des": gopkcs12.LegacyDES, "modern": gopkcs12.Modern}
	e, ok := encoders[enc]
	if !ok {
		return Keystore{}, fmt.Errorf("no PKCS #12 encoder %q", enc)
	}
	p12, err := e.WithRand(rand.Reader).Encode(key, cert, nil, password)
	if err != nil {
		return Keystore{}, err
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Keystore{}, err
	}
	return Keystore{
		P12:   p12,
		PEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		PKCS1: x509.MarshalPKCS1PrivateKey(key),
		PKCS8: p8,
		Cert:  cert.Raw,
	}, nil
}

// JKS packs key and cert into a Java KeyStore (version 2) under password,
// as keytool -storetype JKS does: the key protected by the JDK's
// KeyProtector (a SHA-1 keystream of the password), the store's digest
// keyed with the password and "Mighty Aphrodite".
func JKS(key *rsa.PrivateKey, cert *x509.Certificate, password string) (Keystore, error) {
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return Keystore{}, err
	}
	var pw []byte
	for _, c := range utf16.Encode([]rune(password)) {
		pw = append(pw, byte(c>>8), byte(c))
	}
	protected := make([]byte, 20, 20+len(p8)+20)
	if _, err := rand.Read(protected); err != nil {
		return Keystore{}, err
	}
	digest := protected[:20]
	for off := 0; off < len(p8); off += 20 {
		d := sha1.Sum(append(append([]byte(nil), pw...), digest...))
		digest = d[:]
		for k := 0; k < 20 && off+k < len(p8); k++ {
			protected = append(protected, p8[off+k]^digest[k])
		}
	}
	check := sha1.Sum(append(append([]byte(nil), pw...), p8...))
	protected = append(protected, check[:]...)
	epki, err := asn1.Marshal(struct {
		Algorithm pkix.AlgorithmIdentifier
		Encrypted []byte
	}{pkix.AlgorithmIdentifier{Algorithm: asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 17, 1, 1}, Parameters: asn1.NullRawValue}, protected})
	if err != nil {
		return Keystore{}, err
	}
	var b bytes.Buffer
	u32 := func(v int) { binary.Write(&b, binary.BigEndian, uint32(v)) }
	utf := func(s string) { binary.Write(&b, binary.BigEndian, uint16(len(s))); b.WriteString(s) }
	u32(0xfeedfeed)
	u32(2)
	u32(1)
	u32(1) // a private key entry
	utf("app")
	binary.Write(&b, binary.BigEndian, time.Now().UnixMilli())
	u32(len(epki))
	b.Write(epki)
	u32(1) // its chain: one certificate
	utf("X.509")
	u32(len(cert.Raw))
	b.Write(cert.Raw)
	sum := sha1.Sum(append(append(pw, "Mighty Aphrodite"...), b.Bytes()...))
	b.Write(sum[:])
	return Keystore{
		P12:   b.Bytes(),
		PEM:   pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: p8}),
		PKCS1: x509.MarshalPKCS1PrivateKey(key),
		PKCS8: p8,
		Cert:  cert.Raw,
	}, nil
}

// ESKeystore is an Elasticsearch keystore of format version (3 to 6)
// holding settings (name, value, ...) under password, as
// elasticsearch-keystore writes it (see nest's es.go).
func ESKeystore(version int, password string, settings ...string) ([]byte, error) {
	iterations := 10000
	if version >= 6 {
		iterations = 210000
	}
	var plain bytes.Buffer
	binary.Write(&plain, binary.BigEndian, uint32(len(settings)/2))
	for i := 0; i+1 < len(settings); i += 2 {
		binary.Write(&plain, binary.BigEndian, uint16(len(settings[i])))
		plain.WriteString(settings[i])
		if version == 3 {
			binary.Write(&plain, binary.BigEndian, uint16(len("STRING")))
			plain.WriteString("STRING")
		}
		binary.Write(&plain, binary.BigEndian, uint32(len(settings[i+1])))
		plain.WriteString(settings[i+1])
	}
	salt := make([]byte, 64)
	iv := make([]byte, 12)
	rand.Read(salt)
	rand.Read(iv)
	key, err := pbkdf2.Key(sha512.New, password, salt, iterations, 16)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	enc := gcm.Seal(nil, iv, plain.Bytes(), salt)
	var order binary.ByteOrder = binary.BigEndian
	if version >= 5 {
		order = binary.LittleEndian
	}
	var data bytes.Buffer
	for _, f := range [][]byte{salt, iv, enc} {
		binary.Write(&data, order, uint32(len(f)))
		data.Write(f)
	}
	var b bytes.Buffer
	b.Write([]byte{0x3f, 0xd7, 0x6c, 0x17, 22})
	b.WriteString("elasticsearch.keystore")
	binary.Write(&b, binary.BigEndian, uint32(version))
	if password != "" {
		b.WriteByte(1)
	} else {
		b.WriteByte(0)
	}
	binary.Write(&b, order, uint32(data.Len()))
	b.Write(data.Bytes())
	b.Write([]byte{0xc0, 0x28, 0x93, 0xe8, 0, 0, 0, 0}) // the footer's magic and algorithm
	b.Write(make([]byte, 8))                            // its checksum
	return b.Bytes(), nil
}
