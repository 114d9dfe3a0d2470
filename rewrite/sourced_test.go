package rewrite

import (
	"slices"
	"testing"
)

// TestSourcedReads checks which copied files Result.Sourced names: a file
// read by `.` or `source`, and one whose content a command substitution
// gives to export, eval or env (export $(cat vars | xargs)).
func TestSourcedReads(t *testing.T) {
	for _, tt := range []struct {
		run  string
		want []string
	}{
		{". ci/build.vars && npm ci", []string{"ci/build.vars"}},
		{"export $(grep -v '^#' ci/build.vars | xargs) && npm ci", []string{"ci/build.vars"}},
		{"export $(cat ci/build.vars | xargs) && npm ci", []string{"ci/build.vars"}},
		{"eval \"$(cat ci/build.vars)\" && npm ci", []string{"ci/build.vars"}},
		{"env $(xargs < ci/build.vars) npm ci", []string{"ci/build.vars"}},
		{"export $(sed -e 's/#.*//' ci/build.vars | xargs) && npm ci", []string{"ci/build.vars"}},
		// A loop that exports each line of the file.
		{"while IFS= read -r kv; do export \"$kv\"; done < ci/build.vars; npm ci", []string{"ci/build.vars"}},
		{"for kv in $(grep -v '^#' ci/build.vars); do export \"$kv\"; done; npm ci", []string{"ci/build.vars"}},
		{"while read -r f; do echo \"$f\"; done < ci/build.vars", nil},
		{"cat ci/build.vars && npm ci", nil},
		{"export PATH=$(cat ci/build.vars)/bin; npm ci", nil},
	} {
		df := "FROM alpine\nWORKDIR /app\nCOPY ci/build.vars ci/\nRUN " + tt.run + "\n"
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatalf("%s: %v", tt.run, err)
		}
		if !slices.Equal(res.Sourced, tt.want) {
			t.Errorf("%s: Sourced = %q, want %q", tt.run, res.Sourced, tt.want)
		}
	}
}

// TestSourcedByCmd checks that a CMD or ENTRYPOINT that sources a copied
// file names it in Result.Sourced: the container reads it from the image;
// and so do the exec forms and heredoc scripts of RUN that source it.
func TestSourcedByCmd(t *testing.T) {
	for _, last := range []string{
		"CMD . ci/vars.sh && node index.js",
		"ENTRYPOINT [\"sh\", \"-c\", \". ./ci/vars.sh && exec node index.js\"]",
		"CMD [\"/bin/bash\", \"-lc\", \"source ci/vars.sh; node index.js\"]",
		"CMD [\"bash\", \"-euo\", \"pipefail\", \"-c\", \". ci/vars.sh && exec node index.js\"]",
		"ENTRYPOINT [\"timeout\", \"3600\", \"sh\", \"-c\", \". ci/vars.sh && exec node index.js\"]",
		"RUN [\"sh\", \"-c\", \". ci/vars.sh && npm ci\"]",
		"RUN [\"bash\", \"-o\", \"pipefail\", \"-c\", \". ci/vars.sh && npm ci\"]",
		"RUN [\"nice\", \"sh\", \"-c\", \". ci/vars.sh && npm ci\"]",
		"RUN <<EOF\n. ci/vars.sh\nnpm ci\nEOF",
	} {
		df := "FROM alpine\nWORKDIR /app\nCOPY ci/vars.sh ci/\n" + last + "\n"
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatalf("%s: %v", last, err)
		}
		if !slices.Equal(res.Sourced, []string{"ci/vars.sh"}) {
			t.Errorf("%s: Sourced = %q, want [ci/vars.sh]", last, res.Sourced)
		}
	}
}

// TestSourcedAtShellStart checks that a file a shell sources as it starts
// (BASH_ENV, ENV for an interactive sh, bash --rcfile) is named in
// Result.Sourced: the variables it assigns are in the layer of its copy,
// as with `. FILE`.
func TestSourcedAtShellStart(t *testing.T) {
	for _, tt := range []struct {
		lines string // after the copy of ci/vars.sh to /app/ci/
		want  []string
	}{
		{"RUN BASH_ENV=ci/vars.sh bash -c 'npm ci'", []string{"ci/vars.sh"}},
		{"RUN BASH_ENV=/app/ci/vars.sh npm run build", []string{"ci/vars.sh"}},
		{"RUN env BASH_ENV=ci/vars.sh bash -c 'npm ci'", []string{"ci/vars.sh"}},
		{"RUN export BASH_ENV=/app/ci/vars.sh && bash -c 'npm ci'", []string{"ci/vars.sh"}},
		{"RUN ENV=ci/vars.sh sh -ic 'npm ci'", []string{"ci/vars.sh"}},
		{"RUN bash --rcfile ci/vars.sh -ic 'npm ci'", []string{"ci/vars.sh"}},
		{"RUN bash --init-file=ci/vars.sh -ic 'npm ci'", []string{"ci/vars.sh"}},
		{"RUN [\"bash\", \"-c\", \"BASH_ENV=ci/vars.sh bash -c 'npm ci'\"]", []string{"ci/vars.sh"}},
		{"SHELL [\"/bin/bash\", \"-c\"]\nENV BASH_ENV=/app/ci/vars.sh\nRUN npm ci", []string{"ci/vars.sh"}},
		{"ENV ENV=/app/ci/vars.sh\nRUN npm ci", []string{"ci/vars.sh"}},
		{"ARG BASH_ENV=/app/ci/vars.sh\nRUN npm ci", []string{"ci/vars.sh"}},
		{"ENV BASH_ENV=/app/ci/vars.sh\nCMD [\"bash\", \"-c\", \"node index.js\"]", []string{"ci/vars.sh"}},
		// Set to nothing, or to a file that is not the copy.
		{"ENV BASH_ENV=\nRUN npm ci", nil},
		{"RUN BASH_ENV=/etc/profile bash -c 'npm ci'", nil},
		{"RUN bash -c 'npm ci'", nil},
	} {
		df := "FROM alpine\nWORKDIR /app\nCOPY ci/vars.sh ci/\n" + tt.lines + "\n"
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatalf("%s: %v", tt.lines, err)
		}
		if !slices.Equal(res.Sourced, tt.want) {
			t.Errorf("%s: Sourced = %q, want %q", tt.lines, res.Sourced, tt.want)
		}
	}
}
