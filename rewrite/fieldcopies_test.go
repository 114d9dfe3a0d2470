package rewrite

import (
	"maps"
	"testing"
)

// TestFieldCopies checks which copies Result.FieldCopies names: a file of
// the context copied by name to a configuration file's name that may hold
// a credential field, read as a file of that name.
func TestFieldCopies(t *testing.T) {
	for _, tt := range []struct {
		copy string
		want map[string]string
	}{
		{"COPY ci/nuget.ci.config /root/.nuget/NuGet/NuGet.Config", map[string]string{"ci/nuget.ci.config": "NuGet.Config"}},
		{"COPY ci/maven-ci.xml /usr/share/maven/conf/settings.xml", map[string]string{"ci/maven-ci.xml": "settings.xml"}},
		{"COPY deploy/prod.json config/production.json", map[string]string{"deploy/prod.json": "production.json"}},
		// Its own name says it already, a directory or a pattern is not
		// one file, a template is filled in later.
		{"COPY NuGet.Config /root/.nuget/NuGet/NuGet.Config", nil},
		{"COPY ci/ /root/.nuget/NuGet/", nil},
		{"COPY ci/*.config /root/.nuget/NuGet/NuGet.Config", nil},
		{"COPY ci/settings.xml.template /usr/share/maven/conf/settings.xml", nil},
		{"COPY ci/app.json /app/app.json", nil},
	} {
		df := "FROM alpine\nWORKDIR /app\n" + tt.copy + "\nRUN echo build\n"
		res, err := Rewrite([]byte(df), Config{})
		if err != nil {
			t.Fatalf("%s: %v", tt.copy, err)
		}
		if !maps.Equal(res.FieldCopies, tt.want) {
			t.Errorf("%s: FieldCopies = %q, want %q", tt.copy, res.FieldCopies, tt.want)
		}
	}
}
