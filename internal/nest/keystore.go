package nest

import "bytes"

// Keystores hold private keys encrypted under a password. A build that
// packs a key into one under a password anyone knows ("changeit") leaves
// the key in its layer as surely as the key file: a keystore (PKCS #12,
// or Java's older JKS) is opened with each of KeystorePasswords and its
// decrypted contents searched.
//
// A keystore that none of them opens cannot be proven either way: it is
// searched as bytes only, without a note (a keystore made from a key that
// is no build secret, under a real password, is common and no leak).

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
// (PKCS12Kind, JKSKind), or "".
func KeystoreKind(head []byte) string {
	switch {
	case IsPKCS12(head):
		return PKCS12Kind
	case IsJKS(head):
		return JKSKind
	}
	return ""
}

// keystoreHead reports whether head, the first 12 bytes of some data, may
// start a keystore: JKS's magic number and version, or the SEQUENCE,
// version 3 and SEQUENCE that start a PKCS #12 file (KeystoreKind needs
// more bytes to tell).
func keystoreHead(head []byte) bool {
	rest, ok := derHeader(head, 0x30)
	return IsJKS(head) || ok && bytes.HasPrefix(rest, []byte{0x02, 0x01, 0x03, 0x30})
}

// OpenKeystore decrypts what the keystore data, of kind (see
// KeystoreKind), holds under KeystorePasswords (see OpenPKCS12, OpenJKS).
func OpenKeystore(kind string, data []byte) (parts []KeystorePart, unopened int, err error) {
	if kind == JKSKind {
		return OpenJKS(data)
	}
	return OpenPKCS12(data)
}

// KeystoreSuffix is how the decrypted contents of a keystore of kind
// opened with password are reported: PATH (PKCS #12, password changeit).
func KeystoreSuffix(kind, password string) string {
	if password == "" {
		return " (" + kind + ", empty password)"
	}
	return " (" + kind + ", password " + password + ")"
}
