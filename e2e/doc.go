// Package e2e holds hushbuild's end-to-end tests: real `docker buildx build`
// runs on the local BuildKit lab (hack/lab.sh), comparing each example of
// examples/ built the legacy way, through BuildKit's stock Dockerfile
// frontend, with the same Dockerfile built through the hushbuild frontend.
//
// TestMain brings the lab up (labenv.Up) and rebuilds the hushbuild
// frontend image from this checkout (hack/lab.sh frontend) once per run; the
// tests then name both frontend images by digest, so a concurrent push to
// the lab's tags cannot change what they test. `go test -short` skips the
// whole suite.
//
// Every test makes its own random canaries (crypto/rand) for the secret
// values, and the image scanner in package verify is the oracle that says
// where a canary is. No test prints a canary: failures say where it was
// found (blob digest, file, history entry, attestation field) or print the
// build output with each canary replaced by <canary:ID>.
//
// What each test asserts:
//
//   - TestExamples, per example that builds offline (examples/README.md):
//     (a) the legacy build through the stock frontend leaks the canary and
//     verify finds it (in the image, or, for a secret used only in a stage
//     that does not reach the image, in the build cache exported with
//     mode=max); (b) the hushbuild build, with the flags the engine asks
//     for, leaves the canary nowhere in the OCI archive (index, manifests,
//     config, history, every layer including deleted files, provenance
//     mode=max), nor in its build cache, nor in its build output (unless
//     the Dockerfile itself prints it, which the engine reports as
//     SecretInLog); (c) every stand-in tool that saw a credential in the
//     legacy build saw the same one in the hushbuild build; (d) both images
//     have the same files (path, type, size, mode, owner, link), apart from
//     the ones that carried the secret.
//   - TestLegacyOnlyExamples: the examples the engine must refuse build the
//     legacy way and fail through hushbuild, naming rule and line.
//   - TestSameImageAsStock (e): a Dockerfile with nothing to rewrite gives
//     the same layers and config as the stock frontend.
//   - TestSecretBuildArgRefused (f), TestCallOutline and TestCallCheck (g),
//     TestHardcodedSecretFailsClosed and TestOriginalNeverBuilt (h).
//   - TestRealTools: the examples that name a tool, with the real tool (the
//     lab's Debian image made by mmdebstrap) against the lab's servers on
//     loopback (package labservers, and sshd), which refuse a request
//     without a credential: (a), (b) and (d) as TestExamples, and (c) the
//     server received each secret (by hash) in both builds, and the
//     build-time proof ran on the hushbuild build and passed.
//   - TestRealToolsProofCatchesLeaks: where the real tools keep a mounted
//     secret (npm's global config, git's credential store, a clone's
//     .git/config, pip.conf), the proof stops the build naming the file.
//   - After the tests, TestMain checks that the lines buildkitd logged for
//     hushbuild during the run (the frontend's logs and errors) hold none of
//     the run's secrets.
//
// The tests of helpers_test.go (command-line parsing, base images, layer
// merging, the examples index) need no lab and run under -short.
package e2e
