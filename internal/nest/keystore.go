package nest

import (
	"bytes"
	"errors"
)

// Keystores hold private keys encrypted under a password. A build that
// packs a key into one under a password anyone knows ("changeit") leaves
// the key in its layer as surely as the key file: a keystore (PKCS #12,
// Java's older JKS and JCEKS, an Elasticsearch keystore) is opened with each of
// KeystorePasswords and its decrypted contents searched.
//
// A keystore that none of them opens cannot be proven either way: it is
// searched as bytes only, without a note (a keystore made from a key that
// is no build secret, under a real password, is common and no leak).
//
// A build secret that is itself a keystore is read entry by entry
// (ReadKeystore) with these passwords and the values of the build's other
// secrets: its keys and secrets are searched for, as values of their own.

// KeystorePasswords are the passwords a keystore is tried with, the
// conventional ones of the tools and of their documentation: none
// (`openssl pkcs12 -export -passout pass:`), "changeit" (keytool's and
// the JDK's cacerts' default, Tomcat's and Spring Boot's examples),
// "changeme", "password" and "secret" (tutorials' and charts' defaults).
var KeystorePasswords = []string{"", "changeit", "changeme", "password", "secret"}

// The kinds of keystores, as they are named in what is reported.
const (
	PKCS12Kind = "PKCS #12"
	JKSKind    = "JKS"
	JCEKSKind  = "JCEKS"
	ESKind     = "Elasticsearch"
)

// MaxKeystore bounds the size of a keystore that is opened (read into
// memory): keystores are kilobytes, a trust store of every public root a
// few hundred. A larger one is searched as raw bytes only.
const MaxKeystore = 16 << 20

// KeystorePart is what one password opened in a keystore: its decrypted
// private keys (PKCS #8 DER: a PKCS #1 key's DER is in it) and, of a
// PKCS #12 keystore, SafeContents (certificates, secret bags), one after
// another.
type KeystorePart struct {
	Password string
	Data     []byte
}

// KeystoreKind names the kind of keystore data starting with head is
// (PKCS12Kind, JKSKind, JCEKSKind, ESKind), or "".
func KeystoreKind(head []byte) string {
	switch {
	case IsPKCS12(head):
		return PKCS12Kind
	case IsJKS(head):
		return JKSKind
	case IsJCEKS(head):
		return JCEKSKind
	case IsESKeystore(head):
		return ESKind
	}
	return ""
}

// keystoreHead reports whether head, the first 12 bytes of some data, may
// start a keystore: JKS's magic number and version, the SEQUENCE,
// version 3 and SEQUENCE that start a PKCS #12 file, or the start of an
// Elasticsearch keystore's header (KeystoreKind needs more bytes to tell).
func keystoreHead(head []byte) bool {
	rest, ok := derHeader(head, 0x30)
	return IsJKS(head) || IsJCEKS(head) || ok && bytes.HasPrefix(rest, []byte{0x02, 0x01, 0x03, 0x30}) ||
		len(head) >= 12 && bytes.HasPrefix(esHeader, head[:12])
}

// OpenKeystore decrypts what the keystore data, of kind (see
// KeystoreKind), holds under KeystorePasswords (see OpenPKCS12, OpenJKS,
// OpenESKeystore).
func OpenKeystore(kind string, data []byte) (parts []KeystorePart, unopened int, err error) {
	switch kind {
	case JKSKind, JCEKSKind:
		return OpenJKS(data)
	case ESKind:
		return OpenESKeystore(data)
	}
	return OpenPKCS12(data)
}

// KeystoreContents is what a keystore holds, one entry at a time: for a
// keystore that is itself a secret, whose entries are secrets too.
type KeystoreContents struct {
	// Password is the index, in the passwords it was opened with, of the
	// one that opened its first entry; -1 when none opened any, or when
	// none was needed (a PKCS #12 file's unencrypted key).
	Password int
	// Keys are its private keys (PKCS #8 DER).
	Keys [][]byte
	// Secrets are its secret values: a PKCS #12 secret bag's secret key
	// (keytool -importpass stores a password so), an Elasticsearch
	// keystore's settings.
	Secrets [][]byte
	// Unopened counts the encrypted parts none of the passwords opened.
	Unopened int
}

// ReadKeystore opens the keystore data of kind (see KeystoreKind) with
// each of passwords and returns its entries one by one. A PKCS #12 file's
// unencrypted keys are among Keys too. The error is for data that cannot
// be read (or asks for too much work); what was opened before is returned
// with it.
func ReadKeystore(kind string, data []byte, passwords []string) (KeystoreContents, error) {
	c := KeystoreContents{Password: -1}
	switch kind {
	case JKSKind, JCEKSKind:
		out, keys, sealed, unopened, err := openJavaKeystore(data, passwords)
		for i, b := range out {
			if len(b) > 0 {
				c.Password = i
				break
			}
		}
		c.Keys, c.Unopened = keys, unopened
		for _, s := range sealed {
			c.Secrets = append(c.Secrets, serializedKeyBytes(s)...)
		}
		return c, err
	case ESKind:
		pw, values, err := openES(data, passwords)
		if pw < 0 && err == nil {
			c.Unopened = 1
		}
		c.Password, c.Secrets = pw, values
		return c, err
	case PKCS12Kind:
		o, err := openPKCS12(data, passwords)
		if o != nil {
			c.Password, c.Keys, c.Secrets, c.Unopened = o.first, o.keys, o.secrets, o.unopened
		}
		return c, err
	}
	return c, errors.New("not a keystore")
}

// KeystoreSuffix is how the decrypted contents of a keystore of kind
// opened with password are reported: PATH (PKCS #12, password changeit).
func KeystoreSuffix(kind, password string) string {
	if password == "" {
		return " (" + kind + ", empty password)"
	}
	return " (" + kind + ", password " + password + ")"
}
