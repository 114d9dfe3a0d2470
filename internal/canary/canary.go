// Package canary makes the random credential values tests plant and then
// search for. Every value is new per call, so a value found in an output
// can only have come from the test run that planted it. Tests never print
// a canary: they print where it was found.
package canary

import (
	"crypto/rand"
	"math/big"
	"testing"
)

// Character sets canaries are drawn from.
const (
	Lower  = "abcdefghijklmnopqrstuvwxyz"
	Upper  = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	Digits = "0123456789"
)

// Random returns n characters drawn uniformly from chars.
func Random(t testing.TB, chars string, n int) string {
	t.Helper()
	b := make([]byte, n)
	for i := range b {
		x, err := rand.Int(rand.Reader, big.NewInt(int64(len(chars))))
		if err != nil {
			t.Fatal(err)
		}
		b[i] = chars[x.Int64()]
	}
	return string(b)
}

// GoogleKey is a random value in the form of a Google API key ("AIza" and
// 35 more characters), which the HardcodedSecret rule reports by its form.
func GoogleKey(t testing.TB) string {
	t.Helper()
	return "AIza" + Random(t, Upper+Lower+Digits, 35)
}

// Shapes are random values of the shapes credentials take: a token with a
// known prefix, mixed case and digits, lower-case letters only (a
// passphrase), upper-case letters only, symbols.
func Shapes(t testing.TB) map[string]string {
	t.Helper()
	return map[string]string{
		"github token":  "ghp_" + Random(t, Lower+Upper+Digits, 36),
		"mixed":         Random(t, Lower+Upper+Digits, 24),
		"lower letters": Random(t, Lower, 14),
		"upper letters": Random(t, Upper, 14),
		"symbols":       Random(t, Lower+Digits, 8) + "!%+" + Random(t, Upper, 6),
	}
}
