// Package labenv gives tests the local BuildKit lab that hack/lab.sh runs:
// Up starts it (idempotent), Load reads the environment it wrote to
// HUSHBUILD_LAB_DIR/env (.lab/env at the repository root by default).
package labenv

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// Env is the lab as hack/lab.sh env describes it.
type Env struct {
	Dir                string // HUSHBUILD_LAB_DIR
	BinDir             string // HUSHBUILD_LAB_BIN: buildkitd, buildctl, ...
	BuildkitHost       string // BUILDKIT_HOST: unix:// address of buildkitd
	Registry           string // HUSHBUILD_REGISTRY: host:port of the lab registry
	DockerConfig       string // DOCKER_CONFIG holding the buildx plugin and builder
	BuildxBuilder      string // BUILDX_BUILDER
	FrontendImage      string // HUSHBUILD_FRONTEND_IMAGE (pushed by hack/lab.sh frontend)
	StockFrontendImage string // HUSHBUILD_STOCK_FRONTEND_IMAGE
	TestbaseImage      string // HUSHBUILD_TESTBASE_IMAGE
	BusyboxImage       string // HUSHBUILD_BUSYBOX_IMAGE
	// Buildkit is the version of the lab's own buildkitd
	// (HUSHBUILD_LAB_BUILDKIT), and Daemons the versions of the older
	// ones that run beside it (HUSHBUILD_LAB_DAEMONS, started by
	// StartDaemons); see Daemon.
	Buildkit string
	Daemons  []string

	// Vars holds every variable the env file exports, PATH excepted.
	Vars map[string]string
}

// Environ returns os.Environ() with the lab's variables set and BinDir
// first on PATH: the environment for running docker, buildctl and the like.
func (e Env) Environ() []string {
	out := make([]string, 0, len(os.Environ())+len(e.Vars)+1)
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if _, ok := e.Vars[name]; ok || name == "PATH" {
			continue
		}
		out = append(out, kv)
	}
	for name, value := range e.Vars {
		out = append(out, name+"="+value)
	}
	return append(out, "PATH="+e.BinDir+string(os.PathListSeparator)+os.Getenv("PATH"))
}

// Load reads the lab's env file: HUSHBUILD_LAB_DIR/env when that variable is
// set, else .lab/env at the repository root found from the working directory.
func Load() (Env, error) {
	dir := os.Getenv("HUSHBUILD_LAB_DIR")
	if dir == "" {
		root, err := RepoRoot()
		if err != nil {
			return Env{}, err
		}
		dir = filepath.Join(root, ".lab")
	}
	return parse(filepath.Join(dir, "env"))
}

// Up runs hack/lab.sh up, its output streamed to stderr, then loads the env.
func Up(ctx context.Context) (Env, error) {
	if err := run(ctx, "up"); err != nil {
		return Env{}, err
	}
	return Load()
}

// PushFrontend runs hack/lab.sh frontend: rebuilds cmd/hushbuild-frontend and
// pushes it as FrontendImage. Call it after Up.
func PushFrontend(ctx context.Context) error {
	return run(ctx, "frontend")
}

// StartDaemons runs hack/lab.sh daemons: builds (once) and starts the
// older buildkitd versions beside the lab's own, then loads the env. Call
// it after Up.
func StartDaemons(ctx context.Context) (Env, error) {
	if err := run(ctx, "daemons"); err != nil {
		return Env{}, err
	}
	return Load()
}

// Daemon returns the environment for building on the lab's buildkitd of
// version v (one of Daemons, or Buildkit for the lab's own): BUILDKIT_HOST
// and BUILDX_BUILDER name that daemon, as hack/lab.sh sets them up
// (daemons/VERSION/buildkitd.sock, builder BUILDER-VERSION).
func (e Env) Daemon(v string) (Env, error) {
	if v == e.Buildkit {
		return e, nil
	}
	if !slices.Contains(e.Daemons, v) {
		return Env{}, fmt.Errorf("labenv: no buildkitd %s runs in the lab (running: %s %v); start it with HUSHBUILD_LAB_DAEMONS=%s hack/lab.sh daemons", v, e.Buildkit, e.Daemons, v)
	}
	d := e
	d.Vars = maps.Clone(e.Vars)
	d.BuildkitHost = "unix://" + filepath.Join(e.Dir, "daemons", v, "buildkitd.sock")
	d.BuildxBuilder = e.BuildxBuilder + "-" + v
	d.Vars["BUILDKIT_HOST"] = d.BuildkitHost
	d.Vars["BUILDX_BUILDER"] = d.BuildxBuilder
	return d, nil
}

// DaemonLog is the log of the lab's buildkitd of version v (its own, or
// one of Daemons): where the frontends' logs go too.
func (e Env) DaemonLog(v string) string {
	if v == "" || v == e.Buildkit {
		return filepath.Join(e.Dir, "logs", "buildkitd.log")
	}
	return filepath.Join(e.Dir, "logs", "buildkitd-"+v+".log")
}

func run(ctx context.Context, command string) error {
	root, err := RepoRoot()
	if err != nil {
		return err
	}
	cmd := exec.CommandContext(ctx, filepath.Join(root, "hack", "lab.sh"), command)
	cmd.Dir = root
	cmd.Stdout = os.Stderr
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("hack/lab.sh %s: %w", command, err)
	}
	return nil
}

// RepoRoot walks up from the working directory to the directory holding
// hack/lab.sh.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "hack", "lab.sh")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("labenv: no hack/lab.sh above the working directory")
		}
		dir = parent
	}
}

// parse reads "export NAME='value'" lines, as hack/lab.sh writes them.
func parse(path string) (Env, error) {
	f, err := os.Open(path)
	if err != nil {
		return Env{}, fmt.Errorf("labenv: %w (run hack/lab.sh up)", err)
	}
	defer f.Close()
	vars := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return Env{}, fmt.Errorf("labenv: %s:%d: not NAME=VALUE", path, n)
		}
		if name == "PATH" {
			continue // rebuilt by Environ from BinDir
		}
		if len(value) < 2 || value[0] != '\'' || value[len(value)-1] != '\'' {
			return Env{}, fmt.Errorf("labenv: %s:%d: %s: value is not single-quoted", path, n, name)
		}
		vars[name] = value[1 : len(value)-1]
	}
	if err := sc.Err(); err != nil {
		return Env{}, fmt.Errorf("labenv: %s: %w", path, err)
	}
	e := Env{
		Dir:                vars["HUSHBUILD_LAB_DIR"],
		BinDir:             vars["HUSHBUILD_LAB_BIN"],
		BuildkitHost:       vars["BUILDKIT_HOST"],
		Registry:           vars["HUSHBUILD_REGISTRY"],
		DockerConfig:       vars["DOCKER_CONFIG"],
		BuildxBuilder:      vars["BUILDX_BUILDER"],
		FrontendImage:      vars["HUSHBUILD_FRONTEND_IMAGE"],
		StockFrontendImage: vars["HUSHBUILD_STOCK_FRONTEND_IMAGE"],
		TestbaseImage:      vars["HUSHBUILD_TESTBASE_IMAGE"],
		BusyboxImage:       vars["HUSHBUILD_BUSYBOX_IMAGE"],
		Buildkit:           vars["HUSHBUILD_LAB_BUILDKIT"],
		Daemons:            strings.Fields(vars["HUSHBUILD_LAB_DAEMONS"]),
		Vars:               vars,
	}
	for name, v := range map[string]string{"HUSHBUILD_LAB_DIR": e.Dir, "HUSHBUILD_LAB_BIN": e.BinDir, "BUILDKIT_HOST": e.BuildkitHost, "HUSHBUILD_REGISTRY": e.Registry} {
		if v == "" {
			return Env{}, fmt.Errorf("labenv: %s: %s is missing", path, name)
		}
	}
	return e, nil
}
