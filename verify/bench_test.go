package verify

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	kgzip "github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/zstd"
	"github.com/opencontainers/go-digest"
	specs "github.com/opencontainers/image-spec/specs-go"
	ocispec "github.com/opencontainers/image-spec/specs-go/v1"
)

var (
	benchSize = flag.Int("verify.benchsize", 64, "uncompressed size in MB of the benchmark image")
	benchComp = flag.String("verify.benchcomp", "gzip", "layer compression of the benchmark image: gzip, zstd or none")
	benchDir  = flag.String("verify.benchdir", "", "directory to keep the generated benchmark image in (default: a temporary one, removed)")
)

// benchImage returns an OCI layout of about -verify.benchsize MB of layer
// data: 16 layers of many files, two thirds text (words, code-like
// punctuation, URLs, base64 runs) and one third binary-like data, made
// from a fixed seed. It is generated once per process (and kept across
// runs with -verify.benchdir).
var benchImage = sync.OnceValues(func() (string, int64) {
	size := int64(*benchSize) << 20
	dir := *benchDir
	if dir == "" {
		d, err := os.MkdirTemp("", "hushbuild-verify-bench-")
		if err != nil {
			panic(err)
		}
		dir = d
		benchCleanup = func() { os.RemoveAll(d) }
	} else {
		dir = filepath.Join(dir, fmt.Sprintf("image-%dMB-%s", *benchSize, *benchComp))
		if data, err := os.ReadFile(filepath.Join(dir, "size")); err == nil {
			var n int64
			fmt.Sscan(string(data), &n)
			return dir, n
		}
	}
	n, err := writeBenchImage(dir, size, *benchComp)
	if err != nil {
		panic(err)
	}
	os.WriteFile(filepath.Join(dir, "size"), []byte(fmt.Sprint(n)), 0o644)
	return dir, n
})

var benchCleanup = func() {}

func TestMain(m *testing.M) {
	code := m.Run()
	benchCleanup()
	os.Exit(code)
}

func writeBenchImage(dir string, size int64, comp string) (int64, error) {
	if err := os.MkdirAll(filepath.Join(dir, "blobs", "sha256"), 0o755); err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(7, 11))
	const layers = 16
	per := size / layers
	var total int64
	var descs []ocispec.Descriptor
	var diffIDs []digest.Digest
	for i := 0; i < layers; i++ {
		d, diff, n, err := writeBenchLayer(dir, r, per, comp, i)
		if err != nil {
			return 0, err
		}
		total += n
		descs = append(descs, d)
		diffIDs = append(diffIDs, diff)
	}
	cfg := ocispec.Image{Platform: ocispec.Platform{OS: "linux", Architecture: "amd64"}, RootFS: ocispec.RootFS{Type: "layers", DiffIDs: diffIDs}}
	cd, err := writeBenchJSON(dir, ocispec.MediaTypeImageConfig, cfg)
	if err != nil {
		return 0, err
	}
	md, err := writeBenchJSON(dir, ocispec.MediaTypeImageManifest, ocispec.Manifest{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageManifest, Config: cd, Layers: descs})
	if err != nil {
		return 0, err
	}
	idx, _ := json.Marshal(ocispec.Index{Versioned: specs.Versioned{SchemaVersion: 2}, MediaType: ocispec.MediaTypeImageIndex, Manifests: []ocispec.Descriptor{md}})
	os.WriteFile(filepath.Join(dir, "oci-layout"), []byte(`{"imageLayoutVersion":"1.0.0"}`), 0o644)
	return total, os.WriteFile(filepath.Join(dir, "index.json"), idx, 0o644)
}

func writeBenchJSON(dir, mt string, v any) (ocispec.Descriptor, error) {
	data, _ := json.Marshal(v)
	d := digest.FromBytes(data)
	err := os.WriteFile(filepath.Join(dir, "blobs", "sha256", d.Encoded()), data, 0o644)
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: int64(len(data))}, err
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

var benchWords = strings.Fields(`the of and to in is for on that with as by this be are from or an it
	func return if else import package struct int string byte error nil true false var const type
	http https www com org net example api v1 json yaml config data value key name path file user
	install build run copy env arg from workdir apt-get pip npm go make cmake gcc python node
	= == != := ( ) { } [ ] ; , . : / // # -- -> => <= >= && || + - * % @ $ "" ''`)

func writeBenchLayer(dir string, r *rand.Rand, size int64, comp string, li int) (ocispec.Descriptor, digest.Digest, int64, error) {
	tmp, err := os.CreateTemp(filepath.Join(dir, "blobs", "sha256"), "layer-")
	if err != nil {
		return ocispec.Descriptor{}, "", 0, err
	}
	defer os.Remove(tmp.Name())
	blobHash := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, blobHash)}
	var zw io.WriteCloser
	mt := ocispec.MediaTypeImageLayer
	switch comp {
	case "gzip":
		zw, _ = kgzip.NewWriterLevel(cw, kgzip.BestSpeed)
		mt = ocispec.MediaTypeImageLayerGzip
	case "zstd":
		zw, _ = zstd.NewWriter(cw, zstd.WithEncoderLevel(zstd.SpeedFastest))
		mt = ocispec.MediaTypeImageLayerZstd
	case "none":
		zw = nopWriteCloser{cw}
	default:
		return ocispec.Descriptor{}, "", 0, fmt.Errorf("-verify.benchcomp %q: want gzip, zstd or none", comp)
	}
	diffHash := sha256.New()
	tw := tar.NewWriter(io.MultiWriter(zw, diffHash))
	var written int64
	buf := make([]byte, 0, 1<<20)
	for f := 0; written < size; f++ {
		// Sizes from 100 bytes to 1 MB, most of them small.
		n := int(100 * math.Pow(10, 4*r.Float64()))
		n = int(min(int64(n), size-written+1))
		buf = buf[:0]
		if f%3 == 2 {
			buf = benchBinary(r, buf, n)
		} else {
			buf = benchText(r, buf, n)
		}
		hdr := &tar.Header{Name: fmt.Sprintf("usr/share/l%d/d%d/f%d.dat", li, f/100, f), Mode: 0o644, Size: int64(len(buf)), Typeflag: tar.TypeReg, ModTime: time.Unix(1700000000, 0)}
		if err := tw.WriteHeader(hdr); err != nil {
			return ocispec.Descriptor{}, "", 0, err
		}
		tw.Write(buf)
		written += int64(len(buf))
	}
	tw.Close()
	zw.Close()
	tmp.Close()
	d := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(blobHash.Sum(nil)))
	if err := os.Rename(tmp.Name(), filepath.Join(dir, "blobs", "sha256", d.Encoded())); err != nil {
		return ocispec.Descriptor{}, "", 0, err
	}
	diff := digest.NewDigestFromEncoded(digest.SHA256, hex.EncodeToString(diffHash.Sum(nil)))
	return ocispec.Descriptor{MediaType: mt, Digest: d, Size: cw.n}, diff, written, nil
}

type nopWriteCloser struct{ io.Writer }

func (nopWriteCloser) Close() error { return nil }

func benchText(r *rand.Rand, buf []byte, n int) []byte {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	for len(buf) < n {
		switch k := r.IntN(100); {
		case k < 2:
			buf = append(buf, "https://"...)
			buf = append(buf, benchWords[r.IntN(len(benchWords))]...)
			buf = append(buf, ".example.org/"...)
		case k < 3:
			for i := 0; i < 60; i++ {
				buf = append(buf, b64[r.IntN(64)])
			}
		case k < 15:
			buf = append(buf, '\n')
		default:
			buf = append(buf, benchWords[r.IntN(len(benchWords))]...)
			buf = append(buf, ' ')
		}
	}
	return buf[:n]
}

func benchBinary(r *rand.Rand, buf []byte, n int) []byte {
	for len(buf) < n {
		if r.IntN(2) == 0 {
			// A run of repeated structure, like tables and padding.
			c := byte(r.IntN(256))
			for i := 0; i < 16+r.IntN(64); i++ {
				buf = append(buf, c, byte(i))
			}
		} else {
			for i := 0; i < 32+r.IntN(64); i++ {
				buf = append(buf, byte(r.Uint32()))
			}
		}
	}
	return buf[:n]
}

func benchSecrets() []Secret {
	r := rand.New(rand.NewPCG(1, 1))
	var out []Secret
	for i := 0; i < 20; i++ {
		b := make([]byte, 24)
		for j := range b {
			b[j] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[r.IntN(62)]
		}
		out = append(out, Secret{ID: fmt.Sprintf("S%d", i), Value: string(b)})
	}
	return out
}

// BenchmarkScan scans the benchmark image for 20 known values (each in
// all its encodings) with every pattern rule on.
func BenchmarkScan(b *testing.B) {
	dir, n := benchImage()
	b.SetBytes(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		r, err := Scan(context.Background(), Options{Image: dir, Secrets: benchSecrets(), Patterns: true})
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			b.ReportMetric(float64(r.Stats.Files), "files")
			b.ReportMetric(float64(len(r.Hits)), "hits")
		}
	}
}

// BenchmarkDecompressWalk reads the same layers the same way — same
// sources, same digest checks, same two-goroutine pipeline, the same
// number of layers at once — but scans nothing: the limit for the scan.
func BenchmarkDecompressWalk(b *testing.B) {
	dir, n := benchImage()
	b.SetBytes(n)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := decompressWalk(context.Background(), dir); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkScanVsLimit alternates the two above in each iteration, so
// that both see the same machine load, and reports their throughputs and
// the scan's share of the limit, by wall time and by CPU time.
func BenchmarkScanVsLimit(b *testing.B) {
	dir, n := benchImage()
	var wallScan, wallWalk, cpuScan, cpuWalk time.Duration
	measure := func(f func() error) (time.Duration, time.Duration) {
		c0, t0 := cpuTime(), time.Now()
		if err := f(); err != nil {
			b.Fatal(err)
		}
		return time.Since(t0), cpuTime() - c0
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w, c := measure(func() error { return decompressWalk(context.Background(), dir) })
		wallWalk += w
		cpuWalk += c
		w, c = measure(func() error {
			_, err := Scan(context.Background(), Options{Image: dir, Secrets: benchSecrets(), Patterns: true})
			return err
		})
		wallScan += w
		cpuScan += c
	}
	mbps := func(d time.Duration) float64 { return float64(n) * float64(b.N) / 1e6 / d.Seconds() }
	b.ReportMetric(mbps(wallScan), "scan-MB/s")
	b.ReportMetric(mbps(wallWalk), "limit-MB/s")
	b.ReportMetric(100*wallWalk.Seconds()/wallScan.Seconds(), "%-of-limit")
	b.ReportMetric(mbps(cpuScan), "scan-MB/cpu-s")
	b.ReportMetric(mbps(cpuWalk), "limit-MB/cpu-s")
	b.ReportMetric(100*cpuWalk.Seconds()/cpuScan.Seconds(), "%-of-limit-cpu")
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func decompressWalk(ctx context.Context, dir string) error {
	src, err := openLayout(dir)
	if err != nil {
		return err
	}
	idxData, _ := os.ReadFile(filepath.Join(dir, "index.json"))
	var idx ocispec.Index
	json.Unmarshal(idxData, &idx)
	mdata, err := os.ReadFile(filepath.Join(dir, "blobs", "sha256", idx.Manifests[0].Digest.Encoded()))
	if err != nil {
		return err
	}
	var man ocispec.Manifest
	json.Unmarshal(mdata, &man)
	queue := make(chan ocispec.Descriptor)
	errs := make(chan error, len(man.Layers))
	var wg sync.WaitGroup
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for d := range queue {
				rc, err := src.open(ctx, d)
				if err != nil {
					errs <- err
					continue
				}
				err = pipeline(ctx, rc, func(*block) error { return nil })
				if err != nil {
					errs <- err
				}
				rc.Close()
			}
		}()
	}
	for _, d := range man.Layers {
		queue <- d
	}
	close(queue)
	wg.Wait()
	close(errs)
	return <-errs
}
