package checker

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/hushbuild/hushbuild/internal/nest"
)

// Suffixes of what embedded and base64View open.
const (
	packSuffix    = nest.PackSuffix
	payloadSuffix = nest.PayloadSuffix
	base64Suffix  = nest.Base64Suffix
)

// limits returns the most j's file (size bytes) may decompress to and the
// error past it.
func (w *walker) limits(j *job, size int64) (int64, func(string) error) {
	limit := min(maxDecompressed, max(ratioFloor, maxRatio*size))
	return limit, func(suffix string) error {
		return fmt.Errorf("checker: %s%s: decompresses to more than %d bytes, the limit for a file of %d bytes (2 GiB, and past 64 MiB %d times its size): not scanned", j.red, suffix, limit, size, maxRatio)
	}
}

// embedded opens what j's file f (size bytes; data, its content when it
// was read whole, or nil) holds that its first bytes do not say: the
// members of an ar archive (a .deb's data.tar.xz) that are compressed or
// archives, the objects of a git packfile (zlib streams), the files of a
// zip archive that starts after a launcher (python -m zipapp -p, an
// executable jar, a self-extracting zip), the compressed payload a
// self-extracting installer appends to its script, and the compressed
// streams appended to an executable (see appended). Each counts against
// the limits of decompress; what cannot be read is a note.
func (w *walker) embedded(j *job, f *os.File, c *contentScan, data []byte, size int64) error {
	// A file read whole is looked at in memory: no more reads for the
	// many small files.
	h := data[:min(len(data), 512)]
	if data == nil {
		var head [512]byte
		n, _ := f.ReadAt(head[:], 0)
		h = head[:n]
	}
	limit, tooBig := w.limits(j, size)
	var used int64
	switch {
	case nest.KeystoreKind(h) != "":
		kind := nest.KeystoreKind(h)
		if data == nil || int64(len(data)) != size {
			if size > nest.MaxKeystore {
				j.notes = append(j.notes, fmt.Sprintf("%s: a %s keystore of more than %d bytes: searched as raw bytes only", j.red, kind, nest.MaxKeystore))
				return nil
			}
			data = make([]byte, size)
			if k, err := f.ReadAt(data, 0); int64(k) != size {
				return pathError("reading", j.red, err)
			}
		}
		if err := w.keystore(j, c.innerScan(), kind, data, "", &used, limit); err != nil {
			return tooBig("")
		}
	case nest.IsAr(h):
		if err := w.arMembers(j, f, c, size, &used, limit, tooBig); err != nil {
			return err
		}
	case nest.IsPack(h):
		pr, err := nest.NewPackReader(io.NewSectionReader(f, 0, size))
		if err == nil {
			var k int64
			k, err = w.nested(j, c.innerScan(), pr, packSuffix, 1, &used, limit, tooBig)
			if errors.Is(err, errTooBig) {
				return tooBig(packSuffix)
			}
			if failed(err) {
				return err
			}
			if err != nil {
				j.notes = append(j.notes, fmt.Sprintf("%s%s: a git packfile that cannot be read after %d bytes of objects (%v): the rest was searched as raw bytes only", j.red, packSuffix, k, err))
			}
		}
	}
	if size >= 22 && compression(h) != "zip" {
		var tail []byte
		if data != nil && int64(len(data)) == size {
			tail = data[len(data)-int(min(size, nest.ZipTail)):]
		} else {
			tail = make([]byte, min(size, nest.ZipTail))
			if k, _ := f.ReadAt(tail, size-int64(len(tail))); k != len(tail) {
				tail = nil
			}
		}
		if tail != nil && nest.ZipAtEnd(tail) {
			if err := w.unzip(j, io.NewSectionReader(f, 0, size), size, c, limit, tooBig); err != nil {
				return err
			}
		}
	}
	if from, what := nest.PayloadStart(f, h, size); from >= 0 {
		if err := w.appended(j, f, c, from, what, size, &used, limit, tooBig); err != nil {
			return err
		}
	}
	if nest.IsScript(h) {
		off, kind := payloadAt(f, data, size)
		if off > 0 {
			br := bufio.NewReaderSize(io.NewSectionReader(f, off, size-off), 64<<10)
			if err := w.decompressed(j, c.innerScan(), br, kind, payloadSuffix+" ("+kind+")", 1, &used, limit, tooBig); err != nil {
				return err
			}
		}
	}
	return nil
}

// appended searches the compressed streams of j's file f (size bytes)
// from offset from on, named by what (see nest.PayloadStart): those
// appended to an ELF executable past the end of its own content (pkg's
// files, a gzip stream each; Nuitka's onefile payload, zstd; warp's
// .tar.gz) and an RPM package's payload. Each stream is decompressed on
// its own (a gzip stream is read to the end of its member) and searched
// at PATH WHAT at byte N (KIND); what does not decompress (bytes that
// only look like a stream's start) is skipped.
func (w *walker) appended(j *job, f *os.File, c *contentScan, from int64, what string, size int64, used *int64, limit int64, tooBig func(string) error) error {
	streams := nest.NewStreamFinder(f, size)
	for n, off := 0, from; off < size; n++ {
		at, kind := streams.Next(off)
		if at < 0 {
			return nil
		}
		if n == nest.MaxAppendedStreams {
			// What the streams past the bound hold cannot be proven:
			// the build stops, as past the decompression limits.
			return fmt.Errorf("checker: %s%s: more than %d compressed streams appended (past byte %d): not scanned; pack fewer files into the executable, or build it in a stage whose files no secret reaches", j.red, what, nest.MaxAppendedStreams, at)
		}
		off = at + 1
		suffix := fmt.Sprintf("%s at byte %d (%s)", what, at, kind)
		r, release, err := nest.Decompress(kind, bufio.NewReaderSize(io.NewSectionReader(f, at, size-at), 64<<10))
		if err != nil {
			release()
			continue
		}
		if z, ok := r.(*gzip.Reader); ok {
			z.Multistream(false)
		}
		_, err = w.nested(j, c.innerScan(), r, suffix, 1, used, limit, tooBig)
		release()
		switch {
		case errors.Is(err, errTooBig):
			return tooBig(suffix)
		case err != nil && failed(err):
			return err
		}
	}
	return nil
}

// keystore searches what the conventional passwords decrypt of data, a
// keystore of kind (see nest.KeystoreKind) of j's file found at suffix
// (its bytes were searched as they are), through c, reported at suffix
// (PKCS #12, password PASSWORD); used counts the bytes decrypted against
// limit (errTooBig). A keystore that cannot be read is a note; one that
// no password opens is not (see ScanTree).
func (w *walker) keystore(j *job, c *contentScan, kind string, data []byte, suffix string, used *int64, limit int64) error {
	parts, _, err := nest.OpenKeystore(kind, data)
	if err != nil {
		j.notes = append(j.notes, fmt.Sprintf("%s%s: a %s keystore that cannot be opened (%v): searched as raw bytes only", j.red, suffix, kind, err))
	}
	for _, p := range parts {
		if *used += int64(len(p.Data)); *used > limit {
			return errTooBig
		}
		if lits := c.scanWhole(p.Data); len(lits) > 0 {
			j.parts = append(j.parts, part{suffix + nest.KeystoreSuffix(kind, p.Password), lits})
		}
	}
	return nil
}

// pyinstaller opens the entries of the PyInstaller archive that ends j's
// file f (size bytes; data, its content when read whole): each
// decompressed (a compressed entry) and searched, at PATH
// (PyInstaller):NAME (zlib), and the modules of its PYZ archive, at PATH
// (PyInstaller):NAME (PYZ).
// Whatever the file starts as: build/NAME/NAME.pkg, the archive without
// the bootloader, starts as the zlib stream of its first entry.
func (w *walker) pyinstaller(j *job, f *os.File, c *contentScan, data []byte, size int64) error {
	if size < 88 {
		return nil
	}
	limit, tooBig := w.limits(j, size)
	var n int64
	used := &n
	var tail []byte
	if data != nil && int64(len(data)) == size {
		tail = data[len(data)-int(min(size, nest.MEITail)):]
	} else {
		tail = make([]byte, min(size, nest.MEITail))
		if k, _ := f.ReadAt(tail, size-int64(len(tail))); k != len(tail) {
			return nil
		}
	}
	// nested searches what r reads at at, of entry: past the limit (said
	// of entry) or on a failed read the scan stops; what is only
	// unreadable is skipped.
	nested := func(r io.Reader, at, entry string) error {
		_, err := w.nested(j, c.innerScan(), r, at, 1, used, limit, tooBig)
		switch {
		case errors.Is(err, errTooBig):
			return tooBig(entry)
		case err != nil && failed(err):
			return err
		}
		return nil
	}
	for _, e := range nest.CArchive(f, size, tail) {
		suffix := nest.PyInstallerSuffix + ":" + redactSpans(e.Name, w.s.matchAll([]byte(e.Name)))
		sr := io.NewSectionReader(f, e.Offset, e.Length)
		if !e.Compressed {
			if err := nested(sr, suffix, suffix); err != nil {
				return err
			}
			continue
		}
		if e.PYZ {
			// The modules: zlib streams inside a compressed entry.
			zr, err := zlib.NewReader(sr)
			if err != nil {
				continue
			}
			pyz, err := io.ReadAll(io.LimitReader(zr, max(0, limit-*used)+1))
			zr.Close()
			if err != nil {
				continue
			}
			if *used += int64(len(pyz)); *used > limit {
				return tooBig(suffix)
			}
			if pr := nest.NewPYZReader(pyz); pr != nil {
				if err := nested(pr, suffix+" (PYZ)", suffix); err != nil {
					return err
				}
			}
			continue
		}
		if err := w.decompressed(j, c.innerScan(), bufio.NewReaderSize(sr, 64<<10), "zlib", suffix+" (zlib)", 1, used, limit, tooBig); err != nil {
			return err
		}
	}
	return nil
}

// payloadAt returns where the first compressed stream after a script's
// first line is in f (size bytes; data, its content if read whole) and
// its kind, or -1.
func payloadAt(f *os.File, data []byte, size int64) (int64, string) {
	if data != nil {
		return nest.ScriptPayload(data)
	}
	return nest.ScriptPayloadAt(f, size)
}

// arMembers opens the members of the ar archive f (size bytes) that are
// compressed or archives themselves (a .deb's control.tar.gz and
// data.tar.xz), as plainTar opens a tar's: the raw bytes were searched.
func (w *walker) arMembers(j *job, f *os.File, c *contentScan, size int64, used *int64, limit int64, tooBig func(string) error) error {
	ar := nest.NewArReader(io.NewSectionReader(f, 0, size))
	mr := bufio.NewReaderSize(ar, 4096)
	for {
		m, err := ar.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			j.notes = append(j.notes, fmt.Sprintf("%s: an ar archive that cannot be read to its end (%v): the rest was searched as raw bytes only", j.red, err))
			return nil
		}
		if m.Size == 0 {
			continue
		}
		mr.Reset(ar)
		if err := w.member(j, c, mr, m.Name, used, limit, tooBig); err != nil {
			return err
		}
	}
}

// base64View searches data, a whole text file of j (size bytes), again
// where base64 is undone: each run of base64 in it (and in its wrapped
// runs joined, c.join) is decoded, the decoded bytes searched (a value
// base64'd twice: a config.json's auth inside a Kubernetes Secret), and
// those that are compressed, an archive or a keystore opened (`gzip -c |
// base64`, cloud-init's gz+b64, a keystore in a Kubernetes Secret),
// reported at "PATH (base64)".
func (w *walker) base64View(j *job, c *contentScan, data []byte, size int64) error {
	limit, tooBig := w.limits(j, size)
	var used int64
	var ferr error
	// A wrapped run's lines are runs of data too, each cut short: the
	// whole run is decoded from c.join, and what the lines' parts cannot
	// give is no note.
	quiet := len(c.join) > 0
	c.b64 = c.b64[:0]
	each := func(dec []byte) {
		if ferr != nil {
			return
		}
		if kind := compression(dec); kind != "" || isTar(dec) || nest.KeystoreKind(dec) != "" {
			_, err := w.nested(j, c.innerScan(), bytes.NewReader(dec), base64Suffix, 1, &used, limit, tooBig)
			switch {
			case errors.Is(err, errTooBig):
				ferr = tooBig(base64Suffix)
			case failed(err):
				ferr = err
			case err != nil && !quiet:
				j.notes = append(j.notes, fmt.Sprintf("%s%s: %s data that cannot be read to its end (%v): the rest was searched as raw bytes only", j.red, base64Suffix, kind, err))
			}
			return
		}
		c.b64 = append(append(c.b64, dec...), '\n')
	}
	notes := len(j.notes)
	c.b64run = nest.Base64Runs(c.b64run, data, each)
	if len(c.join) > 0 {
		j.notes = j.notes[:notes]
		quiet = false
		c.b64run = nest.Base64Runs(c.b64run, c.join, each)
	}
	if ferr != nil {
		return ferr
	}
	if len(c.b64) > 0 {
		if lits := w.s.newValues(c.scanWhole(c.b64), j.lits); len(lits) > 0 {
			j.parts = append(j.parts, part{base64Suffix, lits})
		}
	}
	return nil
}

// newValues returns the literals of lits that stand for a value none of
// the literals of found stands for: a value base64'd once is found in
// the text as base64 already, and again, raw, once its runs are decoded;
// it is reported once.
func (s *Secrets) newValues(lits, found []int) []int {
	if len(lits) == 0 || len(found) == 0 {
		return lits
	}
	seen := map[int]bool{}
	for _, l := range found {
		for _, o := range s.origins[l] {
			seen[o.value] = true
		}
	}
	var out []int
	for _, l := range lits {
		for _, o := range s.origins[l] {
			if !seen[o.value] {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
