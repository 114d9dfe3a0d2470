package e2e

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"debug/buildinfo"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// frontendBinary is where the root Dockerfile puts the frontend in the image.
const frontendBinary = "bin/hushbuild-frontend"

// elfWant is what the ELF header of a platform's binary says.
type elfWant struct {
	class   elf.Class
	order   binary.ByteOrder
	machine elf.Machine
	goarch  string
	goarm   string // GOARM in the binary's build settings, "" when not arm
}

// releaseELF is, for each platform a release publishes, the binary it needs.
var releaseELF = map[string]elfWant{
	"linux/amd64":   {elf.ELFCLASS64, binary.LittleEndian, elf.EM_X86_64, "amd64", ""},
	"linux/arm64":   {elf.ELFCLASS64, binary.LittleEndian, elf.EM_AARCH64, "arm64", ""},
	"linux/arm/v7":  {elf.ELFCLASS32, binary.LittleEndian, elf.EM_ARM, "arm", "7"},
	"linux/s390x":   {elf.ELFCLASS64, binary.BigEndian, elf.EM_S390, "s390x", ""},
	"linux/ppc64le": {elf.ELFCLASS64, binary.LittleEndian, elf.EM_PPC64, "ppc64le", ""},
}

// TestReleaseImageMultiPlatform builds the frontend image from the root
// Dockerfile for every platform .github/workflows/release.yml publishes, as
// its docker/build-push-action step does (docker buildx build --platform
// ... with a provenance attestation, mode=max), to an OCI archive. The lab
// has no binfmt emulation: the build works only because the Dockerfile
// cross-compiles on the build platform and its last stage runs nothing.
// Then it reads each platform's binary out of the archive and checks its
// ELF header and Go build settings, the image config, the labels, and the
// provenance attestation of each platform.
//
// golang:<GO_VERSION>-alpine (Docker Hub) is mapped with --build-context
// to an image of the local Go toolchain pushed to the lab registry
// (labGoImage), as the Dockerfile's header says to do where Docker Hub is
// out of reach. The SBOM attestation (sbom: true in release.yml) needs
// Docker's scanner image from Docker Hub, so it is not built here.
func TestReleaseImageMultiPlatform(t *testing.T) {
	l := needLab(t)
	t.Parallel()
	platforms := releasePlatforms(t, l.root)
	goVersion := dockerfileArg(t, filepath.Join(l.root, "Dockerfile"), "GO_VERSION")
	goImage := l.labGoImage(t)
	version := "v0.0.0-e2e." + randomSuffix(t)
	revision := randomSuffix(t) + randomSuffix(t)
	out := filepath.Join(t.TempDir(), "frontend.tar")

	args := []string{"buildx", "build", "--progress=plain",
		"--platform", strings.Join(platforms, ","),
		"--attest", "type=provenance,mode=max",
		"--build-context", "golang:" + goVersion + "-alpine=docker-image://" + goImage,
		"--build-arg", "VERSION=" + version,
		"--build-arg", "REVISION=" + revision,
		"--output", "type=oci,dest=" + out,
		"."}
	buildSlots <- struct{}{}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	cmd := exec.CommandContext(ctx, "docker", args...)
	cmd.Dir = l.root
	cmd.Env = l.env.Environ()
	start := time.Now()
	log, err := cmd.CombinedOutput()
	cancel()
	<-buildSlots
	t.Logf("docker %s: %s (%s)", strings.Join(args, " "), errString(err), time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("the multi-platform build of the root Dockerfile failed: %v\n%s", err, tailLines(log, 60))
	}
	if n := foreignBinfmt(); n != "" {
		t.Logf("note: binfmt_misc has %s registered on this machine; the build did not need it (the last stage runs nothing)", n)
	}

	blobs, err := readArchive(out)
	if err != nil {
		t.Fatal(err)
	}
	images, attestations, err := platformManifests(blobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(images) != len(platforms) {
		t.Errorf("the archive has %d platform images, want %d (%s)", len(images), len(platforms), strings.Join(platforms, ", "))
	}
	for _, p := range platforms {
		t.Run(strings.ReplaceAll(p, "/", "-"), func(t *testing.T) {
			want, ok := releaseELF[p]
			if !ok {
				t.Fatalf("release.yml publishes %s, which this test does not know the ELF machine of: add it to releaseELF", p)
			}
			img, ok := images[p]
			if !ok {
				t.Fatalf("no image for %s in the archive (it has %s)", p, keys(images))
			}
			checkReleaseImage(t, blobs, img, p, version, revision)
			bin, err := fileFromImage(blobs, img, frontendBinary)
			if err != nil {
				t.Fatalf("%s: %v", p, err)
			}
			checkELF(t, p, bin, want, version)
			att, ok := attestations[img.Digest]
			if !ok {
				t.Fatalf("%s: no attestation manifest refers to the image %s", p, img.Digest)
			}
			checkProvenance(t, blobs, att, p)
		})
	}
}

// releasePlatforms reads the PLATFORMS the release workflow builds the
// frontend image for.
func releasePlatforms(t *testing.T, root string) []string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, ".github", "workflows", "release.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var wf struct {
		Env map[string]string `yaml:"env"`
	}
	if err := yaml.Unmarshal(data, &wf); err != nil {
		t.Fatalf("release.yml: %v", err)
	}
	var out []string
	for _, p := range strings.Split(wf.Env["PLATFORMS"], ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	if len(out) == 0 {
		t.Fatal("release.yml: no env.PLATFORMS")
	}
	return out
}

// dockerfileArg is the default of `ARG name=default` in a Dockerfile.
func dockerfileArg(t *testing.T, file, name string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^ARG ` + regexp.QuoteMeta(name) + `=(\S+)\s*$`).FindSubmatch(data)
	if m == nil {
		t.Fatalf("%s: no `ARG %s=...`", file, name)
	}
	return string(m[1])
}

// labGoImage pushes REGISTRY/hushbuild/golang:<go version> to the lab
// registry: the lab's busybox plus the Go toolchain that runs this test,
// with the golang image's GOPATH and this machine's CA certificates,
// standing in for golang:*-alpine. BuildKit
// caches the transfer and the layers: only the first run per lab pays for
// it.
func (l *labSetup) labGoImage(t *testing.T) string {
	t.Helper()
	goenv, err := exec.Command("go", "env", "GOROOT", "GOVERSION", "GOPROXY", "GOSUMDB").Output()
	if err != nil {
		t.Fatalf("go env: %v", err)
	}
	f := strings.Split(strings.TrimSpace(string(goenv)), "\n")
	if len(f) != 4 {
		t.Fatalf("go env GOROOT GOVERSION GOPROXY GOSUMDB: %q", goenv)
	}
	goroot, goversion, goproxy, gosumdb := f[0], f[1], f[2], f[3]
	ref := l.env.Registry + "/hushbuild/golang:" + goversion
	// The module downloads of the build trust what this machine trusts.
	caFile := os.Getenv("SSL_CERT_FILE")
	if caFile == "" {
		caFile = "/etc/ssl/certs/ca-certificates.crt"
	}
	ca, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatalf("the CA certificates for the Go image: %v", err)
	}
	certs := t.TempDir()
	writeFile(t, certs, "ca-certificates.crt", ca)
	dir := t.TempDir()
	writeFile(t, dir, "Dockerfile", []byte(fmt.Sprintf(`FROM %s
COPY --from=certs ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
COPY . /usr/local/go
ENV PATH=/go/bin:/usr/local/go/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    GOPATH=/go GOTOOLCHAIN=local GOPROXY=%s GOSUMDB=%s
`, l.env.BusyboxImage, goproxy, gosumdb)))
	// What a build does not read: Go's own tests, API lists and docs.
	writeFile(t, dir, "Dockerfile.dockerignore", []byte("test\napi\ndoc\nmisc\n**/testdata\n"))
	args := []string{"--addr", l.env.BuildkitHost, "build", "--progress=plain",
		"--frontend", "dockerfile.v0", "--local", "context=" + goroot, "--local", "dockerfile=" + dir,
		"--local", "certs=" + certs, "--opt", "context:certs=local:certs",
		"--output", "type=image,name=" + ref + ",push=true"}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(l.env.BinDir, "buildctl"), args...)
	cmd.Env = l.env.Environ()
	start := time.Now()
	log, err := cmd.CombinedOutput()
	t.Logf("buildctl: %s from %s: %s (%s)", ref, goroot, errString(err), time.Since(start).Round(time.Second))
	if err != nil {
		t.Fatalf("pushing the Go toolchain image: %v\n%s", err, tailLines(log, 40))
	}
	return ref
}

// ociPlatform is an OCI descriptor's platform.
type ociPlatform struct {
	OS           string `json:"os"`
	Architecture string `json:"architecture"`
	Variant      string `json:"variant"`
}

func (p ociPlatform) String() string {
	s := p.OS + "/" + p.Architecture
	if p.Variant != "" {
		s += "/" + p.Variant
	}
	return s
}

type releaseDescriptor struct {
	MediaType   string            `json:"mediaType"`
	Digest      string            `json:"digest"`
	Annotations map[string]string `json:"annotations"`
	Platform    *ociPlatform      `json:"platform"`
}

// platformManifests walks the archive's index: the image manifest of each
// platform ("linux/arm/v7"), and the attestation manifests by the digest
// of the image they describe.
func platformManifests(blobs map[string][]byte) (images, attestations map[string]releaseDescriptor, err error) {
	images, attestations = map[string]releaseDescriptor{}, map[string]releaseDescriptor{}
	var walk func(data []byte, depth int) error
	walk = func(data []byte, depth int) error {
		if depth > 4 {
			return errors.New("indexes nested too deep")
		}
		var idx struct {
			Manifests []releaseDescriptor `json:"manifests"`
		}
		if err := json.Unmarshal(data, &idx); err != nil {
			return fmt.Errorf("index: %w", err)
		}
		for _, d := range idx.Manifests {
			switch {
			case d.Annotations["vnd.docker.reference.type"] == "attestation-manifest":
				attestations[d.Annotations["vnd.docker.reference.digest"]] = d
			case strings.Contains(d.MediaType, "index") || strings.Contains(d.MediaType, "manifest.list"):
				sub, err := blob(blobs, d.Digest)
				if err != nil {
					return err
				}
				if err := walk(sub, depth+1); err != nil {
					return err
				}
			default:
				if d.Platform == nil {
					return fmt.Errorf("image manifest %s has no platform", d.Digest)
				}
				if prev, dup := images[d.Platform.String()]; dup {
					return fmt.Errorf("two images for %s: %s and %s", d.Platform, prev.Digest, d.Digest)
				}
				images[d.Platform.String()] = d
			}
		}
		return nil
	}
	index, ok := blobs["index.json"]
	if !ok {
		return nil, nil, errors.New("no index.json in the archive")
	}
	return images, attestations, walk(index, 0)
}

func manifestOf(blobs map[string][]byte, d releaseDescriptor) (ociManifest, error) {
	var m ociManifest
	data, err := blob(blobs, d.Digest)
	if err != nil {
		return m, err
	}
	if err := json.Unmarshal(data, &m); err != nil {
		return m, fmt.Errorf("manifest %s: %w", d.Digest, err)
	}
	return m, nil
}

// checkReleaseImage checks the image config: the platform, the entrypoint,
// the frontend's labels and the version and revision passed as build-args.
func checkReleaseImage(t *testing.T, blobs map[string][]byte, d releaseDescriptor, platform, version, revision string) {
	t.Helper()
	m, err := manifestOf(blobs, d)
	if err != nil {
		t.Fatal(err)
	}
	data, err := blob(blobs, m.Config.Digest)
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		ociPlatform
		Config struct {
			Entrypoint []string          `json:"Entrypoint"`
			Labels     map[string]string `json:"Labels"`
		} `json:"config"`
	}
	if err := json.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("%s: config: %v", platform, err)
	}
	if got := cfg.ociPlatform.String(); got != platform {
		t.Errorf("%s: the image config says %s", platform, got)
	}
	if got, want := strings.Join(cfg.Config.Entrypoint, " "), "/"+frontendBinary; got != want {
		t.Errorf("%s: entrypoint %q, want %q", platform, got, want)
	}
	for label, want := range map[string]string{
		"org.opencontainers.image.version":     version,
		"org.opencontainers.image.revision":    revision,
		"org.opencontainers.image.source":      "https://github.com/hushbuild/hushbuild",
		"moby.buildkit.frontend.network.none":  "true",
		"moby.buildkit.frontend.caps":          "",
		"org.opencontainers.image.title":       "hushbuild-frontend",
		"org.opencontainers.image.description": "",
	} {
		got, ok := cfg.Config.Labels[label]
		switch {
		case !ok:
			t.Errorf("%s: no label %s", platform, label)
		case want != "" && got != want:
			t.Errorf("%s: label %s is %q, want %q", platform, label, got, want)
		}
	}
	if caps := cfg.Config.Labels["moby.buildkit.frontend.caps"]; !strings.Contains(caps, "moby.buildkit.frontend.contexts") {
		t.Errorf("%s: the caps label %q lacks moby.buildkit.frontend.contexts", platform, caps)
	}
}

// fileFromImage returns the content of name in the image's layers (the
// last layer that has it).
func fileFromImage(blobs map[string][]byte, d releaseDescriptor, name string) ([]byte, error) {
	m, err := manifestOf(blobs, d)
	if err != nil {
		return nil, err
	}
	var found []byte
	for i, l := range m.Layers {
		data, err := blob(blobs, l.Digest)
		if err != nil {
			return nil, err
		}
		var r io.Reader = bytes.NewReader(data)
		switch {
		case strings.HasSuffix(l.MediaType, "gzip"):
			zr, err := gzip.NewReader(r)
			if err != nil {
				return nil, fmt.Errorf("layer %d: %w", i, err)
			}
			r = zr
		case strings.HasSuffix(l.MediaType, ".tar"):
		default:
			return nil, fmt.Errorf("layer %d: media type %s not supported by the test", i, l.MediaType)
		}
		tr := tar.NewReader(r)
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return nil, fmt.Errorf("layer %d: %w", i, err)
			}
			if cleanPath(hdr.Name) == name && hdr.Typeflag == tar.TypeReg {
				if found, err = io.ReadAll(io.LimitReader(tr, 512<<20)); err != nil {
					return nil, fmt.Errorf("layer %d: %s: %w", i, name, err)
				}
			}
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no regular file %s in the image's %d layers", name, len(m.Layers))
	}
	return found, nil
}

// checkELF checks that bin is a static Linux executable for the platform:
// the ELF class, byte order and machine, no program interpreter (the image
// is FROM scratch), the Go build settings (GOOS, GOARCH, GOARM, cgo off),
// and the version linked in.
func checkELF(t *testing.T, platform string, bin []byte, want elfWant, version string) {
	t.Helper()
	for _, p := range elfProblems(bin, want, version) {
		t.Errorf("%s: /%s %s", platform, frontendBinary, p)
	}
}

// elfProblems is what checkELF reports.
func elfProblems(bin []byte, want elfWant, version string) []string {
	f, err := elf.NewFile(bytes.NewReader(bin))
	if err != nil {
		return []string{fmt.Sprintf("is not an ELF file: %v", err)}
	}
	defer f.Close()
	var out []string
	if f.Class != want.class || f.ByteOrder != want.order || f.Machine != want.machine {
		out = append(out, fmt.Sprintf("is %s %s %s, want %s %s %s", f.Class, f.ByteOrder, f.Machine, want.class, want.order, want.machine))
	}
	if f.Type != elf.ET_EXEC {
		out = append(out, fmt.Sprintf("is of ELF type %s, want a static executable (%s)", f.Type, elf.ET_EXEC))
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
			out = append(out, fmt.Sprintf("has a %s program header: it would not run FROM scratch", p.Type))
		}
	}
	bi, err := buildinfo.Read(bytes.NewReader(bin))
	if err != nil {
		return append(out, fmt.Sprintf("has no Go build info: %v", err))
	}
	settings := map[string]string{}
	for _, s := range bi.Settings {
		settings[s.Key] = s.Value
	}
	for _, key := range []string{"GOOS", "GOARCH", "GOARM", "CGO_ENABLED"} {
		value := map[string]string{"GOOS": "linux", "GOARCH": want.goarch, "GOARM": want.goarm, "CGO_ENABLED": "0"}[key]
		if settings[key] != value {
			out = append(out, fmt.Sprintf("was built with %s=%q, want %q", key, settings[key], value))
		}
	}
	// -trimpath keeps -ldflags out of the build settings; the version is
	// random, so finding it in the binary shows the -X took.
	if !bytes.Contains(bin, []byte(version)) {
		out = append(out, fmt.Sprintf("does not hold the VERSION build-arg %q: main.Version was not set", version))
	}
	if bi.Path != "github.com/hushbuild/hushbuild/cmd/hushbuild-frontend" {
		out = append(out, fmt.Sprintf("is %s, want cmd/hushbuild-frontend", bi.Path))
	}
	return out
}

// TestELFProblems shows the architecture check is not vacuous: this test
// binary (linux/amd64 here) is not any of the other platforms' binaries.
func TestELFProblems(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	bin, err := os.ReadFile(exe)
	if err != nil {
		t.Fatal(err)
	}
	host, ok := "linux/"+runtime.GOARCH, runtime.GOOS == "linux"
	if _, known := releaseELF[host]; !ok || !known {
		t.Skipf("the test binary is %s/%s, not one of the release platforms", runtime.GOOS, runtime.GOARCH)
	}
	for platform, want := range releaseELF {
		problems := strings.Join(elfProblems(bin, want, "not-in-the-binary-"+randomSuffix(t)), "\n")
		if !strings.Contains(problems, "does not hold the VERSION build-arg") {
			t.Errorf("%s: a version absent from the binary is not reported:\n%s", platform, problems)
		}
		if !strings.Contains(problems, "is github.com/hushbuild/hushbuild/e2e.test") {
			t.Errorf("%s: another program than the frontend is not reported:\n%s", platform, problems)
		}
		wrongMachine := strings.Contains(problems, ", want "+want.class.String())
		if platform == host && wrongMachine || platform != host && !wrongMachine {
			t.Errorf("%s: the ELF header check of a %s binary says:\n%s", platform, host, problems)
		}
		wrongArch := strings.Contains(problems, "GOARCH=")
		if (platform == host) == wrongArch {
			t.Errorf("%s: the GOARCH check of a %s binary says:\n%s", platform, host, problems)
		}
	}
}

// checkProvenance checks that the attestation manifest of a platform's
// image holds a SLSA provenance statement about that image.
func checkProvenance(t *testing.T, blobs map[string][]byte, att releaseDescriptor, platform string) {
	t.Helper()
	m, err := manifestOf(blobs, att)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range m.Layers {
		if !strings.HasPrefix(l.Annotations["in-toto.io/predicate-type"], "https://slsa.dev/provenance/") {
			continue
		}
		data, err := blob(blobs, l.Digest)
		if err != nil {
			t.Fatal(err)
		}
		var st struct {
			Predicate struct {
				BuildDefinition struct {
					ExternalParameters struct {
						Request struct {
							Frontend string `json:"frontend"`
						} `json:"request"`
					} `json:"externalParameters"`
				} `json:"buildDefinition"`
				Invocation struct {
					Parameters struct {
						Frontend string `json:"frontend"`
					} `json:"parameters"`
				} `json:"invocation"`
				Metadata struct {
					Completeness struct {
						Materials bool `json:"materials"`
					} `json:"completeness"`
				} `json:"metadata"`
			} `json:"predicate"`
		}
		if err := json.Unmarshal(data, &st); err != nil {
			t.Fatalf("%s: provenance: %v", platform, err)
		}
		if st.Predicate.BuildDefinition.ExternalParameters.Request.Frontend == "" && st.Predicate.Invocation.Parameters.Frontend == "" {
			t.Errorf("%s: the provenance names no frontend: not a mode=max statement of this build", platform)
		}
		return
	}
	t.Errorf("%s: the attestation manifest %s has no SLSA provenance layer", platform, att.Digest)
}

// foreignBinfmt names the emulators registered with binfmt_misc, if any.
func foreignBinfmt() string {
	entries, err := os.ReadDir("/proc/sys/fs/binfmt_misc")
	if err != nil {
		return ""
	}
	var names []string
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "qemu-") {
			names = append(names, e.Name())
		}
	}
	return strings.Join(names, ", ")
}

// tailLines is the last n lines of out.
func tailLines(out []byte, n int) string {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func keys[V any](m map[string]V) string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return strings.Join(out, ", ")
}
