package checker

import (
	"encoding/base64"
	"flag"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

var benchMiB = flag.Int("checker.benchmib", 256, "size of the benchmarks' generated tree, in MiB")

// benchTree writes about size bytes of files under dir, from a fixed
// seed: 16 directories, files of 1 KiB to 4 MiB, half random bytes and half
// text (words, code punctuation, base64 runs), with each of values
// planted once (raw or base64) in some file. It returns the bytes written.
func benchTree(b *testing.B, dir string, size int64, values []string) int64 {
	b.Helper()
	rng := rand.New(rand.NewChaCha8([32]byte{'h', 'f'}))
	words := strings.Fields("the build step copies a file into the image and runs make install with the package index token from a secret mount; " +
		"func main() { fmt.Println(x) } if err != nil { return err } import os sys json http://example.com/path?q=1 " +
		"RUN apt-get update && apt-get install -y ca-certificates curl git binary dictionary ordinary canary summary")
	var text strings.Builder
	for text.Len() < 1<<20 {
		if rng.IntN(20) == 0 {
			raw := make([]byte, 12+rng.IntN(60))
			for i := range raw {
				raw[i] = byte(rng.Uint32())
			}
			text.WriteString(base64.StdEncoding.EncodeToString(raw))
		} else {
			text.WriteString(words[rng.IntN(len(words))])
		}
		if rng.IntN(12) == 0 {
			text.WriteByte('\n')
		} else {
			text.WriteByte(' ')
		}
	}
	textBlock := []byte(text.String())
	var total int64
	var plant []int
	for i := 0; total < size; i++ {
		n := int(1024 << rng.IntN(13)) // 1 KiB to 4 MiB
		n = min(n+rng.IntN(n), int(size-total)+1)
		data := make([]byte, n)
		if i%2 == 0 {
			for j := 0; j+8 <= n; j += 8 {
				v := rng.Uint64()
				for k := 0; k < 8; k++ {
					data[j+k] = byte(v >> (8 * k))
				}
			}
		} else {
			for j := 0; j < n; {
				off := rng.IntN(len(textBlock) / 2)
				j += copy(data[j:], textBlock[off:])
			}
		}
		if len(plant) < len(values) && i%7 == 3 && n > 200 {
			v := values[len(plant)]
			if len(plant)%2 == 1 {
				v = base64.StdEncoding.EncodeToString([]byte(v))
			}
			copy(data[rng.IntN(n-len(v)):], v)
			plant = append(plant, i)
		}
		p := filepath.Join(dir, fmt.Sprintf("d%02d", i%16), fmt.Sprintf("f%05d", i))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			b.Fatal(err)
		}
		total += int64(n)
	}
	if len(plant) < len(values) {
		b.Fatalf("planted %d of %d values: make the tree larger", len(plant), len(values))
	}
	return total
}

// benchSetup generates the tree and 10 secrets.
func benchSetup(b *testing.B) (string, *Secrets, int64) {
	b.Helper()
	dir := b.TempDir()
	vals := map[string]string{}
	var list []string
	for i := 0; i < 10; i++ {
		v := canary(b)
		vals[fmt.Sprintf("S%d", i)] = v
		list = append(list, v)
	}
	size := benchTree(b, dir, int64(*benchMiB)<<20, list)
	s := mustSecrets(b, vals)
	r, err := ScanTree(dir, s, ScanOptions{})
	if err != nil {
		b.Fatal(err)
	}
	if len(r.Findings) != len(list) {
		b.Fatalf("%d findings, want %d", len(r.Findings), len(list))
	}
	return dir, s, size
}

// BenchmarkScanTree scans a generated tree for 10 values (each in all its
// encodings).
func BenchmarkScanTree(b *testing.B) {
	dir, s, size := benchSetup(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ScanTree(dir, s, ScanOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadTree only reads the same files the same way (same walk,
// same workers, same buffer): the limit for ScanTree.
func BenchmarkReadTree(b *testing.B) {
	dir, s, size := benchSetup(b)
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ScanTree(dir, s, ScanOptions{readOnly: true}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanVsRead alternates the two on one tree, so that both see the
// same machine load, and reports both throughputs and their ratio, by wall
// time and by CPU time (steadier on a shared machine).
func BenchmarkScanVsRead(b *testing.B) {
	dir, s, size := benchSetup(b)
	var scan, read, scanCPU, readCPU time.Duration
	n := 0
	b.ResetTimer()
	run := func(opt ScanOptions, wall, cpu *time.Duration) {
		t0, c0 := time.Now(), cpuTime(b)
		if _, err := ScanTree(dir, s, opt); err != nil {
			b.Fatal(err)
		}
		*wall += time.Since(t0)
		*cpu += cpuTime(b) - c0
	}
	for b.Loop() {
		// Alternate which goes first, lest one always find the other's
		// leftovers in the caches.
		if n%2 == 0 {
			run(ScanOptions{readOnly: true}, &read, &readCPU)
			run(ScanOptions{}, &scan, &scanCPU)
		} else {
			run(ScanOptions{}, &scan, &scanCPU)
			run(ScanOptions{readOnly: true}, &read, &readCPU)
		}
		n++
	}
	mbs := func(d time.Duration) float64 { return float64(size) * float64(n) / d.Seconds() / 1e6 }
	b.ReportMetric(mbs(scan), "scan-MB/s")
	b.ReportMetric(mbs(read), "read-MB/s")
	b.ReportMetric(mbs(scan)/mbs(read), "scan/read")
	b.ReportMetric(mbs(scanCPU)/mbs(readCPU), "scan/read-cpu")
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkContentScan feeds random bytes to the filtered scan, without
// reading files.
func BenchmarkContentScan(b *testing.B) {
	vals := map[string]string{}
	for i := 0; i < 10; i++ {
		vals[fmt.Sprintf("S%d", i)] = canary(b)
	}
	s := mustSecrets(b, vals)
	c := newContentScan(s)
	data := make([]byte, 64<<20)
	rng := rand.New(rand.NewChaCha8([32]byte{}))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		c.reset()
		for p := data; len(p) > 0; {
			k := copy(c.space()[:readBufSize], p)
			p = p[k:]
			c.wrote(k)
		}
		c.close()
	}
}

// BenchmarkScanTarGz compares a .tar.gz of many small files, whose
// members are walked (to open the archives among them), with the same
// bytes shifted by one so that they are not a tar (searched as one
// stream, as every .tar.gz was before).
func BenchmarkScanTarGz(b *testing.B) {
	s := mustSecrets(b, map[string]string{"TOKEN": canary(b)})
	rng := rand.New(rand.NewChaCha8([32]byte{1}))
	var files []string
	for i := 0; i < 8000; i++ {
		text := make([]byte, 4096)
		for k := range text {
			text[k] = "abcdefghij klmnop\n"[rng.IntN(18)]
		}
		files = append(files, fmt.Sprintf("node_modules/p%d/index.js", i), string(text))
	}
	tarData := tarOf(b, files...)
	for _, tc := range []struct {
		name string
		data []byte
	}{{"tar", tarData}, {"not a tar", append([]byte("x"), tarData...)}} {
		b.Run(tc.name, func(b *testing.B) {
			dir := b.TempDir()
			writeBytes(b, dir, "a.tgz", gzipped(b, tc.data))
			b.SetBytes(int64(len(tc.data)))
			for b.Loop() {
				if _, err := ScanTree(dir, s, ScanOptions{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkScanBinaryTree scans a tree of large binaries, the Go
// distribution's tools (compile, link, vet...: executables full of NUL
// bytes, the input where the UTF-16 forms of values are looked for most
// often), for 10 values.
func BenchmarkScanBinaryTree(b *testing.B) {
	benchScanDir(b, filepath.Join(runtime.GOROOT(), "pkg", "tool"))
}

// BenchmarkScanSourceTree scans a tree of small text files, the Go
// distribution's sources of package net (a layer of a language's
// libraries: many source files, base64-looking runs in identifiers and
// paths), for 10 values.
func BenchmarkScanSourceTree(b *testing.B) {
	benchScanDir(b, filepath.Join(runtime.GOROOT(), "src", "net"))
}

// benchScanDir scans dir for 10 values.
func benchScanDir(b *testing.B, dir string) {
	vals := map[string]string{}
	for i := 0; i < 10; i++ {
		vals[fmt.Sprintf("S%d", i)] = canary(b)
	}
	s := mustSecrets(b, vals)
	var size int64
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			if fi, err := d.Info(); err == nil {
				size += fi.Size()
			}
		}
		return nil
	})
	b.SetBytes(size)
	b.ResetTimer()
	for b.Loop() {
		if _, err := ScanTree(dir, s, ScanOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
