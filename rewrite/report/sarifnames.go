package report

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"

	"github.com/hushbuild/hushbuild/rewrite"
)

// ruleNames are the friendly names of the engine's rules in SARIF
// (reportingDescriptor.name): PascalCase, saying what the rule asks for,
// distinct from the stable ids that findings, directives and suppressions
// use (the SARIF SDK's validator, rules SARIF1001 and SARIF2012).
var ruleNames = map[string]string{
	rewrite.RuleSecretArg.Name:           "MountSecretArgsInsteadOfBuildArgs",
	rewrite.RuleSecretEnv.Name:           "KeepSecretsOutOfImageEnv",
	rewrite.RuleSecretFile.Name:          "MountCredentialFilesInsteadOfCopying",
	rewrite.RuleSourcedEnvFile.Name:      "MountSourcedEnvFiles",
	rewrite.RuleSecretExpanded.Name:      "KeepSecretsOutOfParsedInstructions",
	rewrite.RuleHardcodedSecret.Name:     "DoNotHardcodeCredentials",
	rewrite.RuleSecretFileInImage.Name:   "KeepCredentialFilesOutOfImage",
	rewrite.RuleCannotRewrite.Name:       "UseSecretsInRewritableWays",
	rewrite.RuleSecretWrittenToFile.Name: "DoNotWriteSecretsToLayerFiles",
	rewrite.RuleSSHKeyFile.Name:          "UseSSHMountsForPrivateKeys",
	rewrite.RuleSecretInLog.Name:         "DoNotPrintSecretsToBuildLog",
	rewrite.RuleOnbuildSecret.Name:       "KeepSecretsOutOfOnbuild",
	rewrite.RuleSecretBuildArg.Name:      "PassSecretsWithSecretFlag",
	rewrite.RuleSecretInBuildOutput.Name: "KeepSecretsOutOfBuildOutput",
	rewrite.RuleInvalidSuppression.Name:  "WriteValidSuppressions",
	rewrite.RuleSyntaxPin.Name:           "PinASyntaxThatHasTheRewrite",
}

// ruleName is the SARIF name of a rule: its friendly name, or for a rule
// this list does not know "Check" + its id, which still differs from the
// id.
func ruleName(id string) string {
	if n, ok := ruleNames[id]; ok {
		return n
	}
	return "Check" + id
}

// FingerprintKey names hushbuild's partialFingerprints entry; the version
// changes only if the fingerprint's inputs do.
const FingerprintKey = "hushbuildFinding/v1"

// fingerprinter gives each SARIF result of check a partialFingerprints
// entry that GitHub code scanning uses to follow an alert from run to run:
// a hash of the rule, the file and the message, plus the rank of the
// finding among those with the same three. The line is left out, so that
// an edit above a finding keeps its alert; the line's text too, since it
// may hold a credential (the message never does).
type fingerprinter map[string]int

func (fp fingerprinter) next(rule, uri string, f rewrite.Finding) map[string]string {
	key := strings.Join([]string{rule, uri, oneLine(f.Message)}, "\x00")
	n := fp[key]
	fp[key]++
	sum := sha256.Sum256([]byte(key + "\x00" + strconv.Itoa(n)))
	return map[string]string{FingerprintKey: hex.EncodeToString(sum[:16])}
}
