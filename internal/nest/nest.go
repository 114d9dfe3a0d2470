// Package nest recognises compressed data and archives by their first
// bytes and opens them with bounded memory: the common part of how the
// build-time check (package checker) and the image verifier (package
// verify) search the content of a .tar.gz, a .jar or a .xz inside what
// they scan.
package nest

import (
	"archive/zip"
	"compress/bzip2"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"io"
	"strings"
	"sync"

	"github.com/andybalholm/brotli"
	"github.com/klauspost/compress/zstd"
	"github.com/ulikunitz/xz"
)

const (
	// MaxNest bounds how deep archives inside archives are opened: a
	// file's decompressed content is level 1; an archive inside it is
	// opened up to level MaxNest. Past it, an archive is searched as raw
	// bytes only, with a note: archives nested deeper are not made by
	// build steps.
	MaxNest = 4

	// MaxRatio and RatioFloor, with MaxDecompressed, bound what one file
	// may decompress to, all its levels together (zip bombs): at most
	// MaxDecompressed bytes, and past RatioFloor bytes at most MaxRatio
	// times the file's size (see Limit).
	MaxRatio   = 200
	RatioFloor = 64 << 20
	// MaxDecompressed is the most one file may decompress to.
	MaxDecompressed = 2 << 30

	// MaxZstdWindow bounds the memory a zstd stream may ask for (zstd
	// uses up to 8 MiB up to level 19, 128 MiB with --long and with
	// --ultra -22, more with --long=28 to 31); a stream that asks for
	// more is not decompressed (zstd.ErrWindowSizeExceeded). A stream
	// written to a pipe (tar -I 'zstd --long') asks for the whole window
	// however little it holds, and the decoder allocates it.
	MaxZstdWindow = 128 << 20
	// MaxXZDict bounds the memory an xz stream may ask for (xz -9 uses
	// 64 MiB).
	MaxXZDict = 64 << 20
	// MaxInnerZip bounds the size of a zip archive inside another
	// archive, read into memory to be opened.
	MaxInnerZip = 64 << 20
)

// Limit is the most a file of size bytes may decompress to, given the
// most any file may (MaxDecompressed, or less in tests).
func Limit(size, most int64) int64 {
	return min(most, max(RatioFloor, MaxRatio*size))
}

// Kind names the compressed format (gzip, zstd, bzip2, xz, zlib) or
// archive (zip) that data starting with head is in, or "".
func Kind(head []byte) string {
	switch {
	case len(head) >= 3 && head[0] == 0x1f && head[1] == 0x8b && head[2] == 8:
		return "gzip"
	case len(head) >= 4 && string(head[:4]) == "\x28\xb5\x2f\xfd":
		return "zstd"
	case len(head) >= 4 && string(head[:4]) == "PK\x03\x04":
		return "zip"
	case len(head) >= 4 && string(head[:3]) == "BZh" && head[3] >= '1' && head[3] <= '9':
		return "bzip2"
	case len(head) >= 6 && string(head[:6]) == "\xfd7zXZ\x00":
		return "xz"
	case len(head) >= 2 && head[0]&0x0f == 8 && head[0]>>4 <= 7 && head[1]&0x20 == 0 && (uint(head[0])<<8|uint(head[1]))%31 == 0:
		// zlib (RFC 1950), deflate, without a preset dictionary.
		return "zlib"
	}
	return ""
}

// KindByName names the compressed format of a file called name whose
// first bytes cannot tell: brotli, which has no magic number, is known by
// its extension, as web servers know their precompressed files
// (app.js.br); "" for other names.
func KindByName(name string) string {
	if len(name) > 3 && strings.EqualFold(name[len(name)-3:], ".br") {
		return "brotli"
	}
	return ""
}

// IsTar reports whether head starts a POSIX or GNU tar archive.
func IsTar(head []byte) bool {
	return len(head) >= 262 && string(head[257:262]) == "ustar"
}

var gzipPool sync.Pool

// Decompress returns the decompressed content of r, kind data (see
// Kind and KindByName; not zip), and a function to release the decompressor. Memory is
// bounded (MaxZstdWindow, MaxXZDict): a stream that asks for more fails.
func Decompress(kind string, r io.Reader) (io.Reader, func(), error) {
	none := func() {}
	switch kind {
	case "bzip2":
		return bzip2.NewReader(r), none, nil
	case "xz":
		z, err := (xz.ReaderConfig{DictCap: MaxXZDict, SingleStream: false}).NewReader(r)
		if err != nil {
			return nil, none, err
		}
		return z, none, nil
	case "gzip":
		// Readers are reused: a gzip reader holds 40 KB, and images hold
		// thousands of small .gz files.
		z, _ := gzipPool.Get().(*gzip.Reader)
		var err error
		if z == nil {
			z, err = gzip.NewReader(r)
		} else {
			err = z.Reset(r)
		}
		if err != nil {
			if z != nil {
				gzipPool.Put(z)
			}
			return nil, none, err
		}
		return z, func() { z.Close(); gzipPool.Put(z) }, nil
	case "zlib":
		z, err := zlib.NewReader(r)
		if err != nil {
			return nil, none, err
		}
		return z, func() { z.Close() }, nil
	case "brotli":
		// A brotli stream's window is at most 16 MiB.
		return brotli.NewReader(r), none, nil
	case "zstd":
		z, err := zstd.NewReader(r, zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(MaxZstdWindow))
		if err != nil {
			return nil, none, err
		}
		return z, z.Close, nil
	}
	return nil, none, errors.New("unknown compression " + kind)
}

// OpenZip opens the zip archive src (size bytes) with the bzip2 and
// zstd methods registered (zstd with bounded memory). An archive whose
// names are insecure (absolute, ..) is opened still: its files are data.
func OpenZip(src io.ReaderAt, size int64) (*zip.Reader, error) {
	zr, err := zip.NewReader(src, size)
	if err != nil && !(errors.Is(err, zip.ErrInsecurePath) && zr != nil) {
		return nil, err
	}
	zr.RegisterDecompressor(12, func(r io.Reader) io.ReadCloser { return io.NopCloser(bzip2.NewReader(r)) })
	zr.RegisterDecompressor(zstd.ZipMethodWinZip, zstd.ZipDecompressor(zstd.WithDecoderLowmem(true), zstd.WithDecoderMaxWindow(MaxZstdWindow)))
	return zr, nil
}
