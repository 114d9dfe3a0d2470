package rewrite

import (
	"strings"
	"testing"
)

// TestPassesConverge: an ARG found to feed a secret ENV only after a RUN
// used it takes a second walk. Within the bound the RUN gets the secret;
// when the bound is reached while the walk still learns, the rewrite
// stops with an error instead of handing on what the last walk missed.
func TestPassesConverge(t *testing.T) {
	const src = "FROM alpine\nARG BUILD_INPUT\nRUN ./configure \"$BUILD_INPUT\"\nENV API_TOKEN=$BUILD_INPUT\n"
	notSettled := func(res *Result) bool {
		for _, f := range res.Findings {
			if f.Rule == RuleCannotRewrite.Name && strings.Contains(f.Message, "did not settle") {
				return true
			}
		}
		return false
	}
	defer func(n int) { maxPasses = n }(maxPasses)
	for _, tt := range []struct {
		passes  int
		settled bool
	}{
		{passes: 4, settled: true},
		{passes: 2, settled: true},
		{passes: 1, settled: false},
	} {
		maxPasses = tt.passes
		res, err := Rewrite([]byte(src), Config{})
		if err != nil {
			t.Fatal(err)
		}
		if got := !notSettled(res); got != tt.settled {
			t.Errorf("%d passes: settled = %v, want %v (findings %+v)", tt.passes, got, tt.settled, res.Findings)
		}
		if tt.settled {
			if !strings.Contains(string(res.Output), "RUN --mount=type=secret,id=BUILD_INPUT") {
				t.Errorf("%d passes: the RUN does not get BUILD_INPUT on a secret mount:\n%s", tt.passes, res.Output)
			}
		} else if res.Err() == nil {
			t.Errorf("%d passes: the rewrite that did not settle has no error", tt.passes)
		}
	}
}
