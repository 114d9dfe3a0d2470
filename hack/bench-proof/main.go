// Command bench-proof measures what the build-time proof costs: for every
// example whose rewrite mounts secrets and that builds offline on the lab,
// the wall time of the hushbuild build of the legacy Dockerfile (rewrite,
// instrumented steps, checks) next to the stock frontend building the
// already rewritten Dockerfile.hushbuild with the same flags (the same
// build, without the proof). It alternates the two, takes medians, and
// prints a table. Both builds export an OCI archive. Run it through
// hack/bench-proof.sh, with the lab up.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// bases are the images the examples pull, mapped to the lab's test base.
var bases = []string{"alpine", "python:3.9-alpine", "python:3.12.2-slim", "node:20", "golang:1.22"}

func main() {
	rounds := flag.Int("rounds", 3, "builds of each kind per example")
	only := flag.String("run", "", "only examples whose name contains this")
	flag.Parse()
	if err := run(*rounds, *only); err != nil {
		fmt.Fprintln(os.Stderr, "bench-proof:", err)
		os.Exit(1)
	}
}

type result struct {
	name          string
	steps         int
	stock, hushed time.Duration
}

func run(rounds int, only string) error {
	env := os.Environ()
	frontend, stock, testbase := os.Getenv("HUSHBUILD_FRONTEND_IMAGE"), os.Getenv("HUSHBUILD_STOCK_FRONTEND_IMAGE"), os.Getenv("HUSHBUILD_TESTBASE_IMAGE")
	if frontend == "" || stock == "" || testbase == "" {
		return fmt.Errorf("run it with the lab's environment (hack/bench-proof.sh)")
	}
	tmp, err := os.MkdirTemp("", "bench-proof-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	cli := filepath.Join(tmp, "hushbuild")
	if out, err := exec.Command("go", "build", "-o", cli, "./cmd/hushbuild").CombinedOutput(); err != nil {
		return fmt.Errorf("building the CLI: %v\n%s", err, out)
	}
	dirs, err := filepath.Glob("examples/[0-9]*")
	if err != nil {
		return err
	}
	var results []result
	var skipped []string
	for _, dir := range dirs {
		name := filepath.Base(dir)
		if only != "" && !strings.Contains(name, only) {
			continue
		}
		rewritten, err := os.ReadFile(filepath.Join(dir, "Dockerfile.hushbuild"))
		if err != nil || !bytes.Contains(rewritten, []byte("type=secret")) {
			continue
		}
		original, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
		if err != nil {
			return err
		}
		// --no-context: Dockerfile.hushbuild is the rewrite without a context.
		out, err := exec.Command(cli, "secrets", "--no-context", filepath.Join(dir, "Dockerfile")).Output()
		if err != nil {
			skipped = append(skipped, name+" (hushbuild secrets failed)")
			continue
		}
		flags := strings.Fields(string(out))
		if slices.Contains(flags, "--ssh") {
			skipped = append(skipped, name+" (needs an ssh agent)")
			continue
		}
		buildEnv := slices.Clone(env)
		for i := 0; i+1 < len(flags); i++ {
			if flags[i] != "--secret" {
				continue
			}
			for _, kv := range strings.Split(flags[i+1], ",") {
				if k, v, ok := strings.Cut(kv, "="); ok && k == "env" {
					buildEnv = append(buildEnv, v+"="+canary())
				}
			}
		}
		for _, b := range bases {
			flags = append(flags, "--build-context", b+"=docker-image://"+testbase)
		}
		r := result{name: name, steps: secretSteps(rewritten)}
		var st, hu []time.Duration
		ok := true
		for i := 0; i < rounds && ok; i++ {
			d, err := build(dir, tmp, append([]byte("# syntax="+stock+"\n"), rewritten...), flags, buildEnv)
			if err != nil {
				skipped = append(skipped, name+" (stock build of Dockerfile.hushbuild failed)")
				ok = false
				break
			}
			st = append(st, d)
			d, err = build(dir, tmp, append([]byte("# syntax="+frontend+"\n"), original...), flags, buildEnv)
			if err != nil {
				skipped = append(skipped, name+" (hushbuild build failed)")
				ok = false
				break
			}
			hu = append(hu, d)
		}
		if !ok {
			continue
		}
		r.stock, r.hushed = median(st), median(hu)
		results = append(results, r)
		fmt.Fprintf(os.Stderr, ".")
	}
	fmt.Fprintln(os.Stderr)
	fmt.Printf("%-48s %5s %10s %10s %9s %10s\n", "example", "steps", "stock s", "proof s", "overhead", "per step")
	var pct []float64
	var perStep []time.Duration
	for _, r := range results {
		over := r.hushed - r.stock
		p := 100 * float64(over) / float64(r.stock)
		pct = append(pct, p)
		ps := over / time.Duration(max(r.steps, 1))
		perStep = append(perStep, ps)
		fmt.Printf("%-48s %5d %10.2f %10.2f %8.1f%% %9.3fs\n", trim(r.name, 48), r.steps, r.stock.Seconds(), r.hushed.Seconds(), p, ps.Seconds())
	}
	if len(results) > 0 {
		slices.Sort(pct)
		fmt.Printf("\n%d examples, %d rounds each: median overhead %.1f%% per build, median %.3fs per secret-bearing step\n",
			len(results), rounds, pct[len(pct)/2], median(perStep).Seconds())
	}
	for _, s := range skipped {
		fmt.Println("skipped:", s)
	}
	return nil
}

// secretSteps counts the RUN instructions with a secret mount.
func secretSteps(df []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(df))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(strings.ToUpper(line), "RUN ") && strings.Contains(line, "type=secret") {
			n++
		}
	}
	return n
}

func build(dir, tmp string, dockerfile []byte, flags, env []string) (time.Duration, error) {
	ctx, err := os.MkdirTemp(tmp, "ctx-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(ctx)
	if out, err := exec.Command("cp", "-a", dir+"/.", ctx).CombinedOutput(); err != nil {
		return 0, fmt.Errorf("%v: %s", err, out)
	}
	if err := os.WriteFile(filepath.Join(ctx, "Dockerfile"), dockerfile, 0o644); err != nil {
		return 0, err
	}
	// Exported, as a build's result is: an OCI archive.
	args := append([]string{"buildx", "build", "--progress=quiet", "--no-cache", "--output", "type=oci,dest=" + filepath.Join(ctx, ".out.tar")}, flags...)
	cmd := exec.Command("docker", append(args, ".")...)
	cmd.Dir, cmd.Env = ctx, env
	start := time.Now()
	err = cmd.Run()
	return time.Since(start), err
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

func canary() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return "hfb_" + hex.EncodeToString(b)
}

func trim(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}
