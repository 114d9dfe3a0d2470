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
		// A file without an extension, copied by name (to a path, into
		// a directory, with --parents).
		{"FROM alpine\nCOPY ci/buildvars /opt/buildvars\nRUN . /opt/buildvars && make\n", []string{"ci/buildvars"}},
		{"FROM alpine\nCOPY ci/buildvars /opt/\nRUN . /opt/buildvars && make\n", []string{"ci/buildvars", "ci/buildvars/buildvars"}},
		{"FROM alpine\nCOPY --parents ci/build.sh /opt/\nRUN . /opt/ci/build.sh && make\n", []string{"ci/build.sh"}},
		// Brought by a COPY --from of a stage that copied it from the
		// context: the context's files it may be.
		{"FROM alpine AS src\nCOPY ci/build.sh /s/\nFROM alpine\nCOPY --from=src /s/build.sh /opt/\nRUN . /opt/build.sh && make\n", []string{"ci/build.sh"}},
		{"FROM alpine AS src\nCOPY . /src/\nFROM alpine\nCOPY --from=src /src /app\nRUN . /app/ci/build.sh && make\n", []string{"app/ci/build.sh", "build.sh", "ci/build.sh"}},
		{"FROM alpine AS src\nCOPY . /src/\nFROM alpine\nRUN . /etc/profile && make\n", nil},
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
