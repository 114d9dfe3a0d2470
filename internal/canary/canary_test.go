package canary

import (
	"strings"
	"testing"
)

func TestValuesHaveTheirShapeAndDiffer(t *testing.T) {
	k1, k2 := GoogleKey(t), GoogleKey(t)
	if len(k1) != 39 || !strings.HasPrefix(k1, "AIza") {
		t.Errorf("GoogleKey: length %d, prefix ok %v", len(k1), strings.HasPrefix(k1, "AIza"))
	}
	if k1 == k2 {
		t.Error("two GoogleKey calls gave the same value")
	}
	for name, v := range Shapes(t) {
		if len(v) < 14 {
			t.Errorf("%s: %d characters, want at least 14", name, len(v))
		}
	}
	if s := Random(t, "a", 5); s != "aaaaa" {
		t.Errorf("Random over one character = %d characters, not all 'a'", len(s))
	}
}
