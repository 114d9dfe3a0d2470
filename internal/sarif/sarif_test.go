package sarif_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/hushbuild/hushbuild/internal/sarif"
	"github.com/hushbuild/hushbuild/internal/sarif/sariftest"
)

func TestWrite(t *testing.T) {
	i := 0
	log := sarif.NewLog(sarif.Run{
		Tool: sarif.Tool{Driver: sarif.ToolComponent{Name: "hushbuild", Rules: []sarif.ReportingDescriptor{{ID: "R"}}}},
		Results: []sarif.Result{{
			RuleID: "R", RuleIndex: &i, Level: sarif.LevelError,
			Message: sarif.Message{Text: "a <b> & c"},
			Locations: []sarif.Location{{PhysicalLocation: &sarif.PhysicalLocation{
				ArtifactLocation: sarif.ArtifactLocation{URI: "Dockerfile"}, Region: &sarif.Region{StartLine: 1},
			}}},
			PartialFingerprints: map[string]string{"x/v1": "0"},
		}},
	})
	var buf bytes.Buffer
	if err := log.Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.ValidateGitHub(buf.Bytes()); err != nil {
		t.Fatalf("%v\n%s", err, buf.Bytes())
	}
	if !bytes.HasSuffix(buf.Bytes(), []byte("}\n")) || !strings.Contains(buf.String(), `"a <b> & c"`) {
		t.Errorf("want indented JSON with a final newline and no HTML escapes:\n%s", buf.Bytes())
	}
	// An empty log has runs: [], and validates.
	buf.Reset()
	if err := sarif.NewLog().Write(&buf); err != nil {
		t.Fatal(err)
	}
	if err := sariftest.ValidateGitHub(buf.Bytes()); err != nil || !strings.Contains(buf.String(), `"runs": []`) {
		t.Errorf("empty log: %v\n%s", err, buf.Bytes())
	}
}
