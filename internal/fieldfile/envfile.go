package fieldfile

import (
	"bufio"
	"bytes"
	"regexp"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
)

// assignment is a shell line that sets a variable: NAME=VALUE, export
// NAME=VALUE, declare -x NAME=VALUE, readonly NAME=VALUE.
var assignment = regexp.MustCompile(`^\s*(?:(?:export|declare\s+-x|readonly|local)\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$`)

// AssignsSecret reports whether data, a shell file a RUN sources, assigns
// a secret-named variable (rewrite.IsSecretName) a value of its own: then
// it is an env file whatever its name. A value that is only expansions
// ($X, ${X:-}, $(cat /run/secrets/x)) or empty brings no secret of the
// file's own. Only the decision comes back, never a name's value.
func AssignsSecret(data []byte) bool {
	if len(data) > MaxSize {
		return false
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), MaxSize)
	for sc.Scan() {
		m := assignment.FindStringSubmatch(sc.Text())
		if m == nil || !rewrite.IsSecretName(m[1], rewrite.Config{}) {
			continue
		}
		v := strings.TrimSpace(m[2])
		if i := strings.Index(v, " #"); i >= 0 {
			v = v[:i]
		}
		v = strings.Trim(v, `"'`)
		if v != "" && !strings.HasPrefix(v, "$") {
			return true
		}
	}
	return false
}
