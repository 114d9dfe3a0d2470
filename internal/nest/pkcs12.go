package nest

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rc4"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"hash"
	"unicode/utf16"
)

// A PKCS #12 keystore (.p12, .pfx: what `openssl pkcs12 -export` and
// `keytool -storetype PKCS12` write, what Tomcat and Spring Boot read)
// holds its private keys encrypted under a password (see keystore.go).
// The MAC is not checked: a password is taken when the data it decrypts
// has a valid padding and is one DER element.

// maxPKCS12Work bounds the key derivation iterations spent on one file,
// all passwords and encrypted parts together (a keystore takes 2048 to
// 10000 per part and password; the bound is under a second of work). A
// variable for the tests.
var maxPKCS12Work = 1 << 22

// IsPKCS12 reports whether head starts a PKCS #12 file: a DER (or BER)
// SEQUENCE holding version 3 and an authSafe of content type pkcs7-data
// (a password-protected PFX, RFC 7292).
func IsPKCS12(head []byte) bool {
	rest, ok := derHeader(head, 0x30)
	if !ok || !bytes.HasPrefix(rest, []byte{0x02, 0x01, 0x03}) {
		return false
	}
	rest, ok = derHeader(rest[3:], 0x30)
	return ok && bytes.HasPrefix(rest, []byte{0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01})
}

// derHeader skips the tag and length of the element b starts with, which
// must have tag; BER's indefinite length is taken.
func derHeader(b []byte, tag byte) ([]byte, bool) {
	if len(b) < 2 || b[0] != tag {
		return nil, false
	}
	n := int(b[1])
	switch {
	case n < 0x80 || n == 0x80:
		return b[2:], true
	case n > 0x84 || len(b) < 2+n-0x80:
		return nil, false
	}
	return b[2+n-0x80:], true
}

// OpenPKCS12 decrypts what the PKCS #12 file data holds under
// KeystorePasswords: the encrypted SafeContents (certificates and the bags
// in them) and each shrouded private key, in its own bag or in a secret
// bag (Java's secret keys), grouped by the password that opened them, in
// the order of KeystorePasswords. unopened counts the encrypted parts no
// password opened (or whose cipher is not known). The error is for data
// that is no PKCS #12 file that can be read, or that asks for too much
// work; what was opened before is returned with it.
func OpenPKCS12(data []byte) (parts []KeystorePart, unopened int, err error) {
	o, err := openPKCS12(data, KeystorePasswords)
	if o == nil {
		return nil, 0, err
	}
	for i, b := range o.out {
		if len(b) > 0 {
			parts = append(parts, KeystorePart{KeystorePasswords[i], b})
		}
	}
	return parts, o.unopened, err
}

// openPKCS12 decrypts the PKCS #12 file data under passwords (see
// OpenPKCS12); nil when data cannot be read at all.
func openPKCS12(data []byte, passwords []string) (*p12Opener, error) {
	var pfx struct {
		Version  int
		AuthSafe contentInfo
		MacData  asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(data, &pfx); err != nil {
		return nil, errors.New("not a PKCS #12 file that can be read: " + err.Error())
	}
	if pfx.Version != 3 || !pfx.AuthSafe.ContentType.Equal(oidData) {
		return nil, errors.New("not a password-protected PKCS #12 file")
	}
	var safe []byte
	if _, err := asn1.Unmarshal(pfx.AuthSafe.Content.Bytes, &safe); err != nil {
		return nil, errors.New("a PKCS #12 authSafe that cannot be read: " + err.Error())
	}
	var infos []contentInfo
	if _, err := asn1.Unmarshal(safe, &infos); err != nil {
		return nil, errors.New("a PKCS #12 authSafe that cannot be read: " + err.Error())
	}
	o := &p12Opener{passwords: passwords, out: make([][]byte, len(passwords)), last: -1, first: -1}
	for _, ci := range infos {
		var contents []byte
		switch {
		case ci.ContentType.Equal(oidData):
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &contents); err != nil {
				o.err = errors.New("a PKCS #12 SafeContents that cannot be read: " + err.Error())
			}
		case ci.ContentType.Equal(oidEncryptedData):
			var ed struct {
				Version int
				Info    struct {
					ContentType asn1.ObjectIdentifier
					Algorithm   pkix.AlgorithmIdentifier
					Encrypted   []byte `asn1:"tag:0,optional"`
				}
			}
			if _, err := asn1.Unmarshal(ci.Content.Bytes, &ed); err != nil {
				o.err = errors.New("a PKCS #12 encryptedData that cannot be read: " + err.Error())
				break
			}
			contents = o.decrypt(ed.Info.Algorithm, ed.Info.Encrypted)
		default:
			// An envelope (public-key privacy mode) cannot be opened.
			o.unopened++
		}
		if o.err != nil {
			break
		}
		if contents != nil {
			o.bags(contents, 0)
		}
		if o.err != nil {
			break
		}
	}
	return o, o.err
}

var (
	oidData            = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	oidEncryptedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidKeyBag          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 1}
	oidShroudedKeyBag  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 2}
	oidSecretBag       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 5}
	oidSafeContentsBag = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 10, 1, 6}
	oidPBES2           = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 13}
	oidPBKDF2          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5, 12}
	oidDESEDE3CBC      = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidHMACWithSHA1    = asn1.ObjectIdentifier{1, 2, 840, 113549, 2, 7}
	oidAES128CBC       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC       = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidDESCBC          = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 7}
	oidRC2CBC          = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 2}
	// pkcs-12PbeIds: pbeWithSHAAnd... (RFC 7292, appendix C).
	oidPBEPrefix = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 12, 1}
	// pkcs-5: PBES1's pbeWith... and, as 13, PBES2 (RFC 8018, appendix C).
	oidPBES1Prefix = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 5}
)

// The HMACs PBKDF2 is used with (RFC 8018, appendix B.1).
var pbkdf2PRFs = map[string]func() hash.Hash{
	"1.2.840.113549.2.7":  sha1.New,
	"1.2.840.113549.2.8":  sha256.New224,
	"1.2.840.113549.2.9":  sha256.New,
	"1.2.840.113549.2.10": sha512.New384,
	"1.2.840.113549.2.11": sha512.New,
}

type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"tag:0,explicit,optional"`
}

type safeBag struct {
	ID         asn1.ObjectIdentifier
	Value      asn1.RawValue `asn1:"tag:0,explicit"`
	Attributes asn1.RawValue `asn1:"optional"`
}

type encryptedPrivateKeyInfo struct {
	Algorithm pkix.AlgorithmIdentifier
	Encrypted []byte
}

// p12Opener decrypts the parts of one PKCS #12 file.
type p12Opener struct {
	passwords []string
	out       [][]byte // by password
	last      int      // the password that opened the last part, tried first
	first     int      // the password that opened the first part, or -1
	keys      [][]byte // the private keys (PKCS #8), one by one
	secrets   [][]byte // the secret bags' values, one by one
	work      int      // key derivation iterations spent
	unopened  int
	err       error
}

// bags searches the SafeContents contents for shrouded keys (in their
// own bags, in secret bags, in nested SafeContents) and decrypts them.
func (o *p12Opener) bags(contents []byte, depth int) {
	var bags []safeBag
	if _, err := asn1.Unmarshal(contents, &bags); err != nil {
		o.err = errors.New("a PKCS #12 SafeContents that cannot be read: " + err.Error())
		return
	}
	for _, b := range bags {
		var shrouded []byte
		secret := false
		switch {
		case b.ID.Equal(oidKeyBag):
			// A key in the clear (openssl pkcs12 -keypbe NONE).
			o.keys = append(o.keys, b.Value.Bytes)
		case b.ID.Equal(oidShroudedKeyBag):
			shrouded = b.Value.Bytes
		case b.ID.Equal(oidSecretBag):
			// SecretBag: secretTypeId, secretValue [0] EXPLICIT; Java
			// puts an OCTET STRING of an EncryptedPrivateKeyInfo there.
			var sb struct {
				Type  asn1.ObjectIdentifier
				Value asn1.RawValue `asn1:"tag:0,explicit"`
			}
			var inner []byte
			if _, err := asn1.Unmarshal(b.Value.Bytes, &sb); err == nil {
				if _, err := asn1.Unmarshal(sb.Value.Bytes, &inner); err == nil {
					var epki encryptedPrivateKeyInfo
					if _, err := asn1.Unmarshal(inner, &epki); err == nil {
						shrouded, secret = inner, true
					}
				}
			}
		case b.ID.Equal(oidSafeContentsBag) && depth < 4:
			o.bags(b.Value.Bytes, depth+1)
		}
		if shrouded != nil {
			var epki encryptedPrivateKeyInfo
			if _, err := asn1.Unmarshal(shrouded, &epki); err != nil {
				o.unopened++
				continue
			}
			plain := o.decrypt(epki.Algorithm, epki.Encrypted)
			switch {
			case plain == nil:
			case !secret:
				o.keys = append(o.keys, plain)
			default:
				// A secret key in a PKCS #8 PrivateKeyInfo: its
				// privateKey is the secret's bytes (keytool -importpass:
				// the password's).
				var p8 struct {
					Version   int
					Algorithm pkix.AlgorithmIdentifier
					Key       []byte
				}
				if _, err := asn1.Unmarshal(plain, &p8); err == nil && len(p8.Key) > 0 {
					o.secrets = append(o.secrets, p8.Key)
				}
			}
		}
		if o.err != nil {
			return
		}
	}
}

// decrypt tries the passwords on encrypted data (the one that opened the
// last part first), keeps what one opens in its part and returns it, or
// nil.
func (o *p12Opener) decrypt(alg pkix.AlgorithmIdentifier, encrypted []byte) []byte {
	order := make([]int, 0, len(o.passwords))
	if o.last >= 0 {
		order = append(order, o.last)
	}
	for i := range o.passwords {
		if i != o.last {
			order = append(order, i)
		}
	}
	for _, i := range order {
		plain, err := o.decryptWith(alg, encrypted, o.passwords[i])
		if err != nil {
			if errors.Is(err, errUnknownCipher) {
				break
			}
			if o.err != nil {
				return nil
			}
			continue
		}
		o.last = i
		if o.first < 0 {
			o.first = i
		}
		o.out[i] = append(o.out[i], plain...)
		return plain
	}
	o.unopened++
	return nil
}

var (
	errUnknownCipher = errors.New("an unknown cipher")
	errWrongPassword = errors.New("not this password")
)

// decryptWith decrypts encrypted under password with alg, a PKCS #12 PBE,
// a PBES1 or a PBES2 scheme, and checks that it gives one DER element.
func (o *p12Opener) decryptWith(alg pkix.AlgorithmIdentifier, encrypted []byte, password string) ([]byte, error) {
	switch a := alg.Algorithm; {
	case len(a) == len(oidPBEPrefix)+1 && a[:len(oidPBEPrefix)].Equal(oidPBEPrefix):
		return o.decryptPKCS12PBE(a[len(oidPBEPrefix)], alg.Parameters.FullBytes, encrypted, password)
	case len(a) == len(oidPBES1Prefix)+1 && a[:len(oidPBES1Prefix)].Equal(oidPBES1Prefix) && a[len(oidPBES1Prefix)] != 13:
		return o.decryptPBES1(a[len(oidPBES1Prefix)], alg.Parameters.FullBytes, encrypted, password)
	case a.Equal(oidPBES2):
		return o.decryptPBES2(alg.Parameters.FullBytes, encrypted, password)
	}
	return nil, errUnknownCipher
}

// pbeParameter is the parameters of a PKCS #12 PBE and of PBES1.
type pbeParameter struct {
	Salt       []byte
	Iterations int
}

// decryptPKCS12PBE decrypts with pkcs-12PbeIds id (RFC 7292, appendix C):
// the key and IV derived from the password by PKCS #12's own function.
func (o *p12Opener) decryptPKCS12PBE(id int, params, encrypted []byte, password string) ([]byte, error) {
	var p pbeParameter
	if _, err := asn1.Unmarshal(params, &p); err != nil {
		return nil, errUnknownCipher
	}
	var keyLen, bits int
	var newBlock func(key []byte) (cipher.Block, error)
	switch id {
	case 1: // pbeWithSHAAnd128BitRC4
		keyLen = 16
	case 2: // pbeWithSHAAnd40BitRC4
		keyLen = 5
	case 3: // pbeWithSHAAnd3-KeyTripleDES-CBC
		keyLen, newBlock = 24, des.NewTripleDESCipher
	case 4: // pbeWithSHAAnd2-KeyTripleDES-CBC
		keyLen, newBlock = 16, func(k []byte) (cipher.Block, error) { return des.NewTripleDESCipher(append(k[:16:16], k[:8]...)) }
	case 5: // pbeWithSHAAnd128BitRC2-CBC
		keyLen, bits = 16, 128
	case 6: // pbeWithSHAAnd40BitRC2-CBC
		keyLen, bits = 5, 40
	default:
		return nil, errUnknownCipher
	}
	if bits > 0 {
		newBlock = func(k []byte) (cipher.Block, error) { return newRC2(k, bits) }
	}
	// The password as a BMPString with its terminating NUL; an empty
	// one is also tried as no bytes at all, as some tools write it.
	pws := [][]byte{bmpPassword(password)}
	if password == "" {
		pws = append(pws, nil)
	}
	for _, pw := range pws {
		if err := o.spend(p.Iterations, 3); err != nil {
			return nil, err
		}
		key := pkcs12KDF(p.Salt, pw, p.Iterations, 1, keyLen)
		if newBlock == nil {
			if plain, ok := rc4Decrypt(key, encrypted); ok {
				return plain, nil
			}
			continue
		}
		iv := pkcs12KDF(p.Salt, pw, p.Iterations, 2, 8)
		block, err := newBlock(key)
		if err != nil {
			return nil, errUnknownCipher
		}
		if plain, ok := cbcDecrypt(block, iv, encrypted); ok {
			return plain, nil
		}
	}
	return nil, errWrongPassword
}

// decryptPBES1 decrypts with PBES1 scheme id (RFC 8018, appendix A.3:
// pbeWithMD5AndDES-CBC and the others but MD2's): the key and IV are the
// two halves of PBKDF1 of the password's bytes.
func (o *p12Opener) decryptPBES1(id int, params, encrypted []byte, password string) ([]byte, error) {
	var p pbeParameter
	if _, err := asn1.Unmarshal(params, &p); err != nil || len(p.Salt) != 8 {
		return nil, errUnknownCipher
	}
	var h func() hash.Hash
	rc2 := false
	switch id {
	case 3: // pbeWithMD5AndDES-CBC
		h = md5.New
	case 6: // pbeWithMD5AndRC2-CBC
		h, rc2 = md5.New, true
	case 10: // pbeWithSHA1AndDES-CBC
		h = sha1.New
	case 11: // pbeWithSHA1AndRC2-CBC
		h, rc2 = sha1.New, true
	default:
		return nil, errUnknownCipher
	}
	if err := o.spend(p.Iterations, 1); err != nil {
		return nil, err
	}
	d := h()
	d.Write([]byte(password))
	d.Write(p.Salt)
	t := d.Sum(nil)
	for i := 1; i < p.Iterations; i++ {
		d.Reset()
		d.Write(t)
		t = d.Sum(t[:0])
	}
	var block cipher.Block
	var err error
	if rc2 {
		block, err = newRC2(t[:8], 64)
	} else {
		block, err = des.NewCipher(t[:8])
	}
	if err != nil {
		return nil, errUnknownCipher
	}
	if plain, ok := cbcDecrypt(block, t[8:16], encrypted); ok {
		return plain, nil
	}
	return nil, errWrongPassword
}

// decryptPBES2 decrypts with PBES2 (RFC 8018, section 6.2): PBKDF2, then
// AES, DES-EDE3, DES or RC2 in CBC mode.
func (o *p12Opener) decryptPBES2(params, encrypted []byte, password string) ([]byte, error) {
	var p struct {
		KDF    pkix.AlgorithmIdentifier
		Scheme pkix.AlgorithmIdentifier
	}
	if _, err := asn1.Unmarshal(params, &p); err != nil || !p.KDF.Algorithm.Equal(oidPBKDF2) {
		return nil, errUnknownCipher
	}
	var kdf struct {
		Salt       []byte
		Iterations int
		KeyLength  int                      `asn1:"optional"`
		PRF        pkix.AlgorithmIdentifier `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(p.KDF.Parameters.FullBytes, &kdf); err != nil {
		return nil, errUnknownCipher
	}
	if len(kdf.PRF.Algorithm) == 0 {
		kdf.PRF.Algorithm = oidHMACWithSHA1
	}
	prf := pbkdf2PRFs[kdf.PRF.Algorithm.String()]
	var keyLen int
	var newBlock func(key []byte) (cipher.Block, error)
	var iv []byte
	ivErr := errUnknownCipher
	switch s := p.Scheme.Algorithm; {
	case s.Equal(oidAES128CBC):
		keyLen, newBlock = 16, aes.NewCipher
	case s.Equal(oidAES192CBC):
		keyLen, newBlock = 24, aes.NewCipher
	case s.Equal(oidAES256CBC):
		keyLen, newBlock = 32, aes.NewCipher
	case s.Equal(oidDESEDE3CBC):
		keyLen, newBlock = 24, des.NewTripleDESCipher
	case s.Equal(oidDESCBC):
		keyLen, newBlock = 8, des.NewCipher
	case s.Equal(oidRC2CBC):
		// RC2-CBC-Parameter: the effective key bits as a "version"
		// (RFC 8018, appendix B.2.3), then the IV; the key's length is
		// the KDF's.
		var rp struct {
			Version int `asn1:"optional"`
			IV      []byte
		}
		if _, err := asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &rp); err != nil || kdf.KeyLength < 1 || kdf.KeyLength > 128 {
			return nil, errUnknownCipher
		}
		bits := map[int]int{0: 32, 160: 40, 120: 64, 58: 128}[rp.Version]
		if rp.Version >= 256 {
			bits = rp.Version
		}
		if bits == 0 || bits > 1024 {
			return nil, errUnknownCipher
		}
		keyLen, iv, ivErr = kdf.KeyLength, rp.IV, nil
		newBlock = func(k []byte) (cipher.Block, error) { return newRC2(k, bits) }
	}
	if ivErr != nil {
		_, ivErr = asn1.Unmarshal(p.Scheme.Parameters.FullBytes, &iv)
	}
	if ivErr != nil || prf == nil || newBlock == nil || (kdf.KeyLength != 0 && kdf.KeyLength != keyLen) {
		return nil, errUnknownCipher
	}
	if err := o.spend(kdf.Iterations, 1+(keyLen-1)/prf().Size()); err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(prf, password, kdf.Salt, kdf.Iterations, keyLen)
	if err != nil {
		return nil, errUnknownCipher
	}
	block, err := newBlock(key)
	if err != nil || len(iv) != block.BlockSize() {
		return nil, errUnknownCipher
	}
	if plain, ok := cbcDecrypt(block, iv, encrypted); ok {
		return plain, nil
	}
	return nil, errWrongPassword
}

// spend counts rounds of iterations against maxPKCS12Work.
func (o *p12Opener) spend(iterations, rounds int) error {
	if iterations < 1 || iterations > maxPKCS12Work {
		o.err = errors.New("a PKCS #12 file that asks for too many key derivation iterations")
		return o.err
	}
	if o.work += iterations * rounds; o.work > maxPKCS12Work {
		o.err = errors.New("a PKCS #12 file that asks for too much key derivation work")
		return o.err
	}
	return nil
}

// cbcDecrypt decrypts data in CBC mode and removes its padding: ok when
// the padding is right and what remains is one DER SEQUENCE, as a PKCS #8
// key or a SafeContents is (a wrong password gives neither).
func cbcDecrypt(block cipher.Block, iv, data []byte) ([]byte, bool) {
	plain, ok := unpadCBC(block, iv, data)
	return plain, ok && oneSequence(plain)
}

// rc4Decrypt decrypts data with RC4 under key: ok when what it gives is
// one DER SEQUENCE (a stream cipher has no padding to check).
func rc4Decrypt(key, data []byte) ([]byte, bool) {
	c, err := rc4.NewCipher(key)
	if err != nil || len(data) == 0 {
		return nil, false
	}
	plain := make([]byte, len(data))
	c.XORKeyStream(plain, data)
	return plain, oneSequence(plain)
}

// oneSequence reports whether b is one DER SEQUENCE and nothing more, as a
// PKCS #8 key or a SafeContents is (what a wrong password gives is not).
func oneSequence(b []byte) bool {
	var v asn1.RawValue
	rest, err := asn1.Unmarshal(b, &v)
	return err == nil && len(rest) == 0 && v.Tag == asn1.TagSequence && v.IsCompound
}

// bmpPassword is password as PKCS #12's key derivation takes it: UTF-16,
// big-endian, with a terminating NUL.
func bmpPassword(password string) []byte {
	u := utf16.Encode([]rune(password))
	b := make([]byte, 0, 2*len(u)+2)
	for _, c := range u {
		b = append(b, byte(c>>8), byte(c))
	}
	return append(b, 0, 0)
}

// pkcs12KDF derives size bytes of key material for id (1: a key, 2: an IV)
// from salt and password, with SHA-1 (RFC 7292, appendix B.2).
func pkcs12KDF(salt, password []byte, iterations int, id byte, size int) []byte {
	const u, v = sha1.Size, 64
	fill := func(b []byte) []byte { // b repeated to a multiple of v bytes
		if len(b) == 0 {
			return nil
		}
		out := make([]byte, v*((len(b)+v-1)/v))
		for i := range out {
			out[i] = b[i%len(b)]
		}
		return out
	}
	d := bytes.Repeat([]byte{id}, v)
	in := append(fill(salt), fill(password)...)
	var out []byte
	h := sha1.New()
	for len(out) < size {
		h.Reset()
		h.Write(d)
		h.Write(in)
		a := h.Sum(nil)
		for i := 1; i < iterations; i++ {
			s := sha1.Sum(a)
			a = s[:]
		}
		out = append(out, a...)
		if len(out) >= size {
			break
		}
		// Each v-byte block of in becomes (block + b + 1) mod 2^(8v),
		// b being a repeated to v bytes.
		for j := 0; j < len(in); j += v {
			carry := 1
			for k := v - 1; k >= 0; k-- {
				carry += int(in[j+k]) + int(a[k%u])
				in[j+k] = byte(carry)
				carry >>= 8
			}
		}
	}
	return out[:size]
}
