package rewrite

import (
	"slices"
	"testing"
)

// TestSourcedUnresolvedOrNested: a RUN that sources a path the engine does
// not resolve, or sources one inside sh -c, names the files the stage
// copied by name in Result.Sourced, for the caller to read.
func TestSourcedUnresolvedOrNested(t *testing.T) {
	for _, tt := range []struct {
		df   string
		want []string
	}{
		{"FROM alpine\nENV DIR=/app\nCOPY ci/build.sh /app/\nRUN . $DIR/build.sh && make\n", []string{"ci/build.sh"}},
		{"FROM alpine\nWORKDIR /app\nCOPY ci/build.sh ./\nRUN sh -c '. ./build.sh && make'\n", []string{"ci/build.sh"}},
		{"FROM alpine\nCOPY ci/build.sh /app/\nRUN bash -c \"source /app/build.sh && make\"\n", []string{"ci/build.sh"}},
		{"FROM alpine\nCOPY ci/build.sh /app/\nRUN sh -c 'make'\n", nil},
		// Copied by a pattern: the file the pattern would bring.
		{"FROM alpine\nCOPY ci/*.sh /app/\nRUN . /app/build.sh && make\n", []string{"ci/build.sh"}},
		{"FROM alpine\nWORKDIR /app\nCOPY ci/*.sh ./\nRUN . ./build.sh && make\n", []string{"ci/build.sh"}},
		{"FROM alpine\nCOPY ci/*.sh /app/\nRUN . /app/build.env.txt && make\n", nil},
		// Copied in a stage a later stage is built FROM.
		{"FROM alpine AS base\nCOPY ci/build.sh /app/\nFROM base\nRUN . /app/build.sh && make\n", []string{"ci/build.sh"}},
		{"FROM alpine AS base\nCOPY ci/ /app/\nFROM base\nRUN . /app/build.sh && make\n", []string{"ci/build.sh"}},
		{"FROM alpine AS base\nCOPY ci/*.sh /app/\nFROM base\nRUN . /app/build.sh && make\n", []string{"ci/build.sh"}},
	} {
		res, err := Rewrite([]byte(tt.df), Config{})
		if err != nil {
			t.Fatalf("%q: %v", tt.df, err)
		}
		if !slices.Equal(res.Sourced, tt.want) {
			t.Errorf("%q: Sourced = %v, want %v", tt.df, res.Sourced, tt.want)
		}
	}
}
