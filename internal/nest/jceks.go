package nest

import (
	"bytes"
	"crypto/cipher"
	"crypto/des"
	"crypto/md5"
	"encoding/asn1"
	"encoding/binary"
	"errors"
)

// A JCEKS keystore (keytool -storetype JCEKS; Java's SunJCE provider) is
// laid out as JKS is, with magic 0xCECECECE, and protects its private keys
// with Sun's PBEWithMD5AndTripleDES (com.sun.crypto.provider.KeyProtector):
// an EncryptedPrivateKeyInfo whose key and IV are MD5 iterated over each
// half of the salt and the password. Its secret keys (keytool -importpass
// stores a password so) are Java-serialized SealedObjects sealed with the
// same cipher: the decrypted object, a serialized key, holds the secret's
// bytes as they are.

// IsJCEKS reports whether head starts a JCEKS keystore: magic 0xCECECECE,
// version 2.
func IsJCEKS(head []byte) bool {
	return len(head) >= 8 && binary.BigEndian.Uint32(head) == 0xcececece && binary.BigEndian.Uint32(head[4:]) == 2
}

// oidJCEKSKeyProtector is PBEWithMD5AndTripleDES, the algorithm of a
// JCEKS private key.
var oidJCEKSKeyProtector = asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 42, 2, 19, 1}

// maxJCEKSWork bounds the MD5 rounds spent on one JCEKS keystore: the JDK
// writes 200,000 iterations per key, two rounds each, so a few keys under
// every password.
var maxJCEKSWork = 1 << 24

// jceksOpener decrypts the keys of one JCEKS keystore under passwords.
type jceksOpener struct {
	passwords []string
	last      int // the password that opened the last key, tried first
	work      int
	err       error
}

// decrypt tries the passwords on encrypted, sealed with
// PBEWithMD5AndTripleDES under params (a DER PBEParameter): the index of
// the one that opens it and what it gives, or -1. ok tells what the right
// password gives: a DER SEQUENCE (a PKCS #8 key) or a serialization
// stream (a sealed key).
func (o *jceksOpener) decrypt(params, encrypted []byte, ok func([]byte) bool) (int, []byte) {
	var p pbeParameter
	if _, err := asn1.Unmarshal(params, &p); err != nil || len(p.Salt) != 8 || p.Iterations < 1 {
		return -1, nil
	}
	order := []int{o.last}
	for i := range o.passwords {
		if i != o.last {
			order = append(order, i)
		}
	}
	for _, i := range order {
		if i < 0 || i >= len(o.passwords) {
			continue
		}
		if o.work += 2 * p.Iterations; o.work > maxJCEKSWork {
			o.err = errors.New("a JCEKS keystore that asks for too much key derivation work")
			return -1, nil
		}
		key, iv := jceksKDF(p.Salt, o.passwords[i], p.Iterations)
		block, err := des.NewTripleDESCipher(key)
		if err != nil {
			return -1, nil
		}
		if plain, good := unpadCBC(block, iv, encrypted); good && ok(plain) {
			o.last = i
			return i, plain
		}
	}
	return -1, nil
}

// jceksKDF derives the 3DES key and IV of PBEWithMD5AndTripleDES
// (com.sun.crypto.provider.PBES1Core): each half of the salt (the first
// reversed when both are equal) and the password, through MD5 iterations
// times, each round hashing the last digest and the password; the two
// digests make the key (24 bytes) and the IV (8). The password is taken
// as ASCII, as the JDK's PBEKey does.
func jceksKDF(salt []byte, password string, iterations int) (key, iv []byte) {
	s := append([]byte(nil), salt...)
	if bytes.Equal(s[:4], s[4:]) {
		s[0], s[3], s[1], s[2] = s[3], s[0], s[2], s[1]
	}
	pw := make([]byte, 0, len(password))
	for _, r := range password {
		pw = append(pw, byte(r)&0x7f)
	}
	out := make([]byte, 0, 32)
	h := md5.New()
	for half := 0; half < 2; half++ {
		h.Reset()
		h.Write(s[half*4 : half*4+4])
		h.Write(pw)
		d := h.Sum(nil)
		for j := 1; j < iterations; j++ {
			h.Reset()
			h.Write(d)
			h.Write(pw)
			d = h.Sum(d[:0])
		}
		out = append(out, d...)
	}
	return out[:24], out[24:32]
}

// unpadCBC decrypts data in CBC mode and removes its PKCS #5 padding.
func unpadCBC(block cipher.Block, iv, data []byte) ([]byte, bool) {
	bs := block.BlockSize()
	if len(data) == 0 || len(data)%bs != 0 || len(iv) != bs {
		return nil, false
	}
	plain := make([]byte, len(data))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, data)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > bs {
		return nil, false
	}
	for _, c := range plain[len(plain)-pad:] {
		if int(c) != pad {
			return nil, false
		}
	}
	return plain[:len(plain)-pad], true
}

// javaStreamMagic starts a Java serialization stream (version 5).
var javaStreamMagic = []byte{0xac, 0xed, 0x00, 0x05}

func isJavaStream(b []byte) bool { return bytes.HasPrefix(b, javaStreamMagic) }

// serializedKeyBytes is the secret a sealed key holds: the byte arrays of
// the serialized key (a KeyRep's or a SecretKeySpec's encoded key), or the
// stream whole when it cannot be read.
func serializedKeyBytes(stream []byte) [][]byte {
	j := &javaReader{b: stream[len(javaStreamMagic):]}
	j.content(0)
	if j.err != nil || len(j.arrays) == 0 {
		return [][]byte{stream}
	}
	return j.arrays
}

// sealedKey reads the SealedObject a JCEKS secret key entry holds, at the
// start of r: its encodedParams and encryptedContent, the stream read
// past it.
func (r *jksReader) sealedKey() (params, encrypted []byte) {
	if r.err != nil {
		return nil, nil
	}
	j := &javaReader{b: r.b}
	if !bytes.HasPrefix(j.b, javaStreamMagic) {
		r.err = errors.New("a secret key entry that is no serialized object")
		return nil, nil
	}
	j.b = j.b[4:]
	j.content(0)
	if j.err != nil {
		r.err = errors.New("a secret key entry that cannot be read: " + j.err.Error())
		return nil, nil
	}
	r.b = j.b
	// SealedObject's fields in the stream's order: encodedParams,
	// encryptedContent (byte arrays), paramsAlg, sealAlg (strings).
	if len(j.arrays) < 2 {
		r.err = errors.New("a secret key entry without its sealed content")
		return nil, nil
	}
	return j.arrays[0], j.arrays[1]
}

// javaReader reads the part of Java's serialization format
// (java.io.ObjectOutputStream) that serialized keys use: objects of
// serializable classes, their class descriptions, strings, enums, arrays
// and references. It keeps the byte arrays it reads, in order.
type javaReader struct {
	b       []byte
	handles []*javaClass // by handle; nil for what is no class
	arrays  [][]byte
	err     error
}

// javaClass is a class description: its fields and its superclass.
type javaClass struct {
	name   string
	flags  byte
	fields []javaField
	super  *javaClass
}

type javaField struct {
	typ   byte   // B C D F I J S Z, L (an object), [ (an array)
	class string // of an array: its type ("[B")
}

const (
	tcNull      = 0x70
	tcReference = 0x71
	tcClassDesc = 0x72
	tcObject    = 0x73
	tcString    = 0x74
	tcArray     = 0x75
	tcBlockData = 0x77
	tcEndBlock  = 0x78
	tcLongStr   = 0x7c
	tcEnum      = 0x7e
	baseHandle  = 0x7e0000
)

func (j *javaReader) take(n uint64) []byte {
	if j.err != nil {
		return nil
	}
	if n > uint64(len(j.b)) {
		j.err = errors.New("truncated")
		return nil
	}
	out := j.b[:n]
	j.b = j.b[n:]
	return out
}

func (j *javaReader) u8() byte {
	if b := j.take(1); b != nil {
		return b[0]
	}
	return 0
}

func (j *javaReader) u16() uint16 {
	if b := j.take(2); b != nil {
		return binary.BigEndian.Uint16(b)
	}
	return 0
}

func (j *javaReader) u32() uint32 {
	if b := j.take(4); b != nil {
		return binary.BigEndian.Uint32(b)
	}
	return 0
}

func (j *javaReader) utf() string { return string(j.take(uint64(j.u16()))) }

func (j *javaReader) fail(msg string) {
	if j.err == nil {
		j.err = errors.New(msg)
	}
}

// handle registers a new handle for c (nil for what is no class).
func (j *javaReader) handle(c *javaClass) {
	if len(j.handles) > 1<<16 {
		j.fail("too many objects")
		return
	}
	j.handles = append(j.handles, c)
}

func (j *javaReader) ref() *javaClass {
	h := int(j.u32()) - baseHandle
	if j.err == nil && (h < 0 || h >= len(j.handles)) {
		j.fail("a reference to no object")
		return nil
	}
	if j.err != nil {
		return nil
	}
	return j.handles[h]
}

// classDesc reads a class description (new, a reference or null).
func (j *javaReader) classDesc(depth int) *javaClass {
	if depth > 32 {
		j.fail("nested too deep")
		return nil
	}
	switch tc := j.u8(); tc {
	case tcNull:
		return nil
	case tcReference:
		return j.ref()
	case tcClassDesc:
		c := &javaClass{name: j.utf()}
		j.take(8) // serialVersionUID
		j.handle(c)
		c.flags = j.u8()
		n := int(j.u16())
		for i := 0; i < n && j.err == nil; i++ {
			f := javaField{typ: j.u8()}
			j.utf() // its name
			switch f.typ {
			case 'B', 'C', 'D', 'F', 'I', 'J', 'S', 'Z':
			case 'L', '[':
				f.class = j.stringValue(depth + 1)
			default:
				j.fail("a field of an unknown type")
			}
			c.fields = append(c.fields, f)
		}
		j.annotation(depth + 1)
		c.super = j.classDesc(depth + 1)
		return c
	default:
		j.fail("no class description")
		return nil
	}
}

// annotation skips a class's or an object's written data, up to its end.
func (j *javaReader) annotation(depth int) {
	for j.err == nil {
		if len(j.b) == 0 {
			j.fail("truncated")
			return
		}
		switch j.b[0] {
		case tcEndBlock:
			j.take(1)
			return
		case tcBlockData:
			j.take(1)
			j.take(uint64(j.u8()))
		default:
			j.content(depth + 1)
		}
	}
}

// stringValue reads a string (new or a reference), as field types are.
func (j *javaReader) stringValue(depth int) string {
	switch tc := j.u8(); tc {
	case tcString:
		s := j.utf()
		j.handle(nil)
		return s
	case tcReference:
		j.ref()
		return ""
	default:
		j.fail("no string")
		return ""
	}
}

// content reads one object, array, string, enum, reference or null.
func (j *javaReader) content(depth int) {
	if depth > 32 {
		j.fail("nested too deep")
		return
	}
	if len(j.b) == 0 {
		j.fail("truncated")
		return
	}
	switch tc := j.u8(); tc {
	case tcNull:
	case tcReference:
		j.ref()
	case tcString:
		j.utf()
		j.handle(nil)
	case tcLongStr:
		n := j.take(8)
		if n != nil {
			j.take(binary.BigEndian.Uint64(n))
		}
		j.handle(nil)
	case tcEnum:
		j.classDesc(depth + 1)
		j.handle(nil)
		j.stringValue(depth + 1)
	case tcArray:
		c := j.classDesc(depth + 1)
		j.handle(nil)
		n := uint64(j.u32())
		if c == nil || len(c.name) < 2 || c.name[0] != '[' {
			j.fail("an array of no array class")
			return
		}
		size := map[byte]uint64{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'I': 4, 'F': 4, 'J': 8, 'D': 8}[c.name[1]]
		if size == 0 {
			for i := uint64(0); i < n && j.err == nil; i++ {
				j.content(depth + 1)
			}
			return
		}
		data := j.take(n * size)
		if c.name == "[B" && data != nil {
			j.arrays = append(j.arrays, data)
		}
	case tcObject:
		c := j.classDesc(depth + 1)
		j.handle(nil)
		var chain []*javaClass
		for k := c; k != nil && len(chain) < 32; k = k.super {
			chain = append(chain, k)
		}
		for i := len(chain) - 1; i >= 0 && j.err == nil; i-- {
			k := chain[i]
			if k.flags&0x04 != 0 { // SC_EXTERNALIZABLE
				j.fail("an externalizable object")
				return
			}
			for _, f := range k.fields {
				switch f.typ {
				case 'B', 'Z':
					j.take(1)
				case 'C', 'S':
					j.take(2)
				case 'I', 'F':
					j.take(4)
				case 'J', 'D':
					j.take(8)
				default:
					j.content(depth + 1)
				}
			}
			if k.flags&0x01 != 0 { // SC_WRITE_METHOD: its own data follows
				j.annotation(depth + 1)
			}
		}
	default:
		j.fail("an unknown kind of content")
	}
}
