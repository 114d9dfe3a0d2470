package rewrite

import (
	"fmt"
	"testing"
)

// TestUniqueInts: sorted, without repeats, nil for nothing; the input is
// left as it was.
func TestUniqueInts(t *testing.T) {
	for _, tt := range []struct{ in, want []int }{
		{nil, nil}, {[]int{}, nil}, {[]int{3}, []int{3}}, {[]int{5, 3, 5, 1, 3}, []int{1, 3, 5}}, {[]int{2, 2, 2}, []int{2}},
	} {
		before := fmt.Sprint(tt.in)
		got := uniqueInts(tt.in)
		if fmt.Sprint(got) != fmt.Sprint(tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("uniqueInts(%v) = %#v, want %#v", tt.in, got, tt.want)
		}
		if fmt.Sprint(tt.in) != before {
			t.Errorf("uniqueInts changed its input %s to %v", before, tt.in)
		}
	}
	if got := linesText([]int{9, 4, 9}); got != "lines 4, 9" {
		t.Errorf("linesText = %q", got)
	}
}
