package checker

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"math/bits"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unsafe"

	"github.com/hushbuild/hushbuild/rewrite"
	"github.com/hushbuild/hushbuild/secretscan"
	"github.com/hushbuild/hushbuild/verify"
)

// Secrets are the secret values a check searches for, compiled into one
// matcher. It never reveals a value: it answers with secret ids, fields and
// encodings. It is safe for concurrent use.
type Secrets struct {
	values []verify.Secret
	notes  []string

	sc      *secretscan.Scanner
	lits    [][]byte   // every needle of every value, once
	origins [][]origin // by literal: the values and encodings it stands for
	filter  *gramFilter
}

// origin is what a literal stands for.
type origin struct {
	value    int // index in Secrets.values
	encoding string
}

// LoadSecrets reads the secrets the frontend mounted: ids[i] in the file
// dir/<i>. A missing file is an optional secret that was not given: it is
// skipped with a note. Any other error reading a file fails: a secret
// that cannot be read cannot be searched for. Each file yields its whole
// content and the values inside it that are secret by their place or name
// (verify.FileSecretValues: a finding fails the build, so a secret file's
// plain configuration, such as a .env's AWS_REGION, is not searched);
// values too short to search are left out with a note. A value longer than
// verify.MaxNeedleLen is searched by windows (verify.WindowNeedles), so
// that a part of it is found too.
func LoadSecrets(dir string, ids []string) (*Secrets, error) {
	return LoadSecretsFields(dir, ids, nil)
}

// LoadSecretsFields is LoadSecrets where the files of the ids in
// fieldsOnly are searched only for their secret fields, never as a whole:
// configuration files that may hold a credential (a NuGet.Config with a
// ClearTextPassword) and may as well be plain settings a COPY brings in.
func LoadSecretsFields(dir string, ids []string, fieldsOnly map[string]bool) (*Secrets, error) {
	var values []verify.Secret
	var notes []string
	var files []verify.SecretFile
	for i, id := range ids {
		data, err := os.ReadFile(filepath.Join(dir, strconv.Itoa(i)))
		if errors.Is(err, fs.ErrNotExist) {
			notes = append(notes, "secret "+id+": not given, not searched")
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("secret %s: %w", id, err)
		}
		files = append(files, verify.SecretFile{ID: id, Name: id, Data: data})
	}
	// Together: a secret that is a keystore may open with another's value
	// as its password.
	fileValues, fileNotes := verify.BuildSecretValues(files, true, secretName)
	for i, f := range files {
		id, v, n := f.ID, fileValues[i], fileNotes[i]
		if fieldsOnly[id] {
			// A field that only refers to the environment the tool fills
			// it from (%NAME%, ${env.NAME}) holds no secret: the copy of
			// the file holds the reference, the secret reaches the tool
			// through its own mount.
			v = slices.DeleteFunc(v, func(s verify.Secret) bool { return s.Field == "" || envReference(s.Value) })
		}
		values = append(values, v...)
		notes = append(notes, n...)
	}
	return newSecrets(values, notes)
}

// envReference reports a value that is only references to environment
// variables in the forms NuGet (%NAME%) and Maven (${env.NAME}, ${NAME})
// expand in their configuration files. A bare $NAME is not one: a
// password may start with a dollar sign.
func envReference(v string) bool {
	v = strings.TrimSpace(v)
	if v == "" {
		return false
	}
	for v != "" {
		var name string
		switch {
		case strings.HasPrefix(v, "%"):
			end := strings.IndexByte(v[1:], '%')
			if end < 0 {
				return false
			}
			name, v = v[1:end+1], v[end+2:]
		case strings.HasPrefix(v, "${"):
			end := strings.IndexByte(v, '}')
			if end < 0 {
				return false
			}
			name, v = strings.TrimPrefix(v[2:end], "env."), v[end+1:]
		default:
			return false
		}
		if name == "" || strings.TrimLeft(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") != "" {
			return false
		}
	}
	return true
}

// secretName is the rewrite engine's name rule, on a field's last key:
// the check and the engine agree on which names are secrets.
func secretName(field string) bool {
	if i := strings.LastIndexAny(field, ".]"); i >= 0 {
		field = field[i+1:]
	}
	return field != "" && rewrite.IsSecretName(field, rewrite.Config{})
}

// SecretsFromValues compiles secrets given by id, each value read as the
// content of a secret file would be (see LoadSecrets). Ids are taken in
// sorted order.
func SecretsFromValues(values map[string]string) (*Secrets, error) {
	ids := make([]string, 0, len(values))
	for id := range values {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var files []verify.SecretFile
	for _, id := range ids {
		files = append(files, verify.SecretFile{ID: id, Name: id, Data: []byte(values[id])})
	}
	fileValues, fileNotes := verify.BuildSecretValues(files, true, nil)
	var vs []verify.Secret
	var notes []string
	for i := range files {
		vs = append(vs, fileValues[i]...)
		notes = append(notes, fileNotes[i]...)
	}
	return newSecrets(vs, notes)
}

func newSecrets(values []verify.Secret, notes []string) (*Secrets, error) {
	s := &Secrets{values: values, notes: notes}
	index := map[string]int{}
	for vi, v := range values {
		ns := verify.WindowNeedles(v)
		if len(ns) == 0 {
			label := "secret " + v.ID
			if v.Field != "" {
				label += " field " + v.Field
			}
			s.notes = append(s.notes, label+": only public material (certificates, public keys), not searched")
		}
		for _, n := range ns {
			li, ok := index[string(n.Value)]
			if !ok {
				li = len(s.lits)
				index[string(n.Value)] = li
				s.lits = append(s.lits, n.Value)
				s.origins = append(s.origins, nil)
			}
			s.origins[li] = append(s.origins[li], origin{vi, n.Encoding})
		}
	}
	sc, err := secretscan.NewScanner(secretscan.Options{Literals: s.lits, Rules: []string{}})
	if err != nil {
		return nil, fmt.Errorf("compiling the secret matcher: %w", err)
	}
	s.sc = sc
	if len(s.lits) > 0 {
		s.filter = newGramFilter(s.lits)
	}
	return s, nil
}

// Empty reports whether there is no value to search for.
func (s *Secrets) Empty() bool { return len(s.lits) == 0 }

// Notes say which secrets or values are not searched, and why. They never
// hold a value.
func (s *Secrets) Notes() []string { return append([]string(nil), s.notes...) }

// findings calls fn with the secret, field and encoding each of the
// literals lits stands for.
func (s *Secrets) findings(lits []int, fn func(secret, field, encoding string)) {
	for _, li := range lits {
		for _, o := range s.origins[li] {
			v := s.values[o.value]
			fn(v.ID, v.Field, o.encoding)
		}
	}
}

// gramLen is the length of the grams the filter samples.
const gramLen = 4

// maxGrams bounds the grams a filter samples (about the number of
// literals times the stride): with many long literals (the windows of a
// key), the stride is made shorter, so that the table stays sparse.
const maxGrams = 1 << 14

// gramFilter finds the places in a long input where a literal may start,
// without looking at every byte. Every literal is at least minLen long, so
// an occurrence at p covers the stride gram positions p .. p+back (back =
// stride-1, and stride is at most minLen-gramLen+1, less when there are
// many literals: see maxGrams), and exactly one of them is a multiple of
// stride. The filter holds every gram found at offsets 0 .. back of each
// literal, and checks the input's gram at every multiple of stride: an
// occurrence always shows up at one of them, at most back bytes after its
// start. The region around each hit is then scanned with the real
// matcher, so the filter decides only where to look, never what matches.
type gramFilter struct {
	stride int
	back   int
	maxLen int // the longest literal
	// table is a bit set of gram hashes (see gramBit), small enough to
	// stay in the first-level cache. Its hits are confirmed in grams.
	table *[tableWords]uint64
	grams gramSet // the exact grams, to confirm the table's hits
}

// tableBits is the size of a gramFilter's table: 2^18 bits, 32 KiB. The
// needles of ten secret values fill about 2% of it.
const (
	tableBits  = 18
	tableWords = 1 << (tableBits - 6)
)

// gramHash mixes a gram for the table and the exact set.
const gramHash = 0x9E3779B1

// gramBit returns the table bit of gram g.
func gramBit(g uint32) uint32 { return (g * gramHash) >> (32 - tableBits) }

func newGramFilter(lits [][]byte) *gramFilter {
	minLen, maxLen := len(lits[0]), 0
	for _, l := range lits {
		minLen = min(minLen, len(l))
		maxLen = max(maxLen, len(l))
	}
	if minLen < gramLen {
		// verify.Needles never returns one (MinValueLen is longer).
		panic("checker: a literal shorter than a gram")
	}
	stride := minLen - gramLen + 1
	if lim := maxGrams / len(lits); stride > lim {
		stride = max(lim, 1)
	}
	f := &gramFilter{stride: stride, back: stride - 1, maxLen: maxLen, table: new([tableWords]uint64)}
	var grams []uint32
	for _, l := range lits {
		for i := 0; i <= f.back; i++ {
			g := binary.NativeEndian.Uint32(l[i:])
			h := gramBit(g)
			f.table[h>>6] |= 1 << (h & 63)
			grams = append(grams, g)
		}
	}
	f.grams = newGramSet(grams)
	return f
}

// gramSet is a set of grams, open-addressed.
type gramSet struct {
	slots []uint32 // 0 is an empty slot
	shift uint32
	zero  bool // the gram 0 is in the set
}

func newGramSet(grams []uint32) gramSet {
	b := max(bits.Len(uint(4*len(grams))), 4)
	s := gramSet{slots: make([]uint32, 1<<b), shift: uint32(32 - b)}
	mask := uint32(len(s.slots) - 1)
	for _, g := range grams {
		if g == 0 {
			s.zero = true
			continue
		}
		for i := (g * gramHash) >> s.shift; ; i = (i + 1) & mask {
			if s.slots[i] == g {
				break
			}
			if s.slots[i] == 0 {
				s.slots[i] = g
				break
			}
		}
	}
	return s
}

func (s *gramSet) has(g uint32) bool {
	if g == 0 {
		return s.zero
	}
	mask := uint32(len(s.slots) - 1)
	for i := (g * gramHash) >> s.shift; ; i = (i + 1) & mask {
		switch s.slots[i] {
		case g:
			return true
		case 0:
			return false
		}
	}
}

// next returns the first of i, i+stride, ... up to lim whose gram in buf
// is one of the filter's, or the first past lim.
func (f *gramFilter) next(buf []byte, i, lim int) int {
	for {
		i = nextBit(f.table, f.stride, buf, i, lim)
		if i > lim || f.grams.has(binary.NativeEndian.Uint32(buf[i:])) {
			return i
		}
		i += f.stride
	}
}

// fastLoads says that unaligned 4-byte loads are cheap and allowed.
const fastLoads = runtime.GOARCH == "amd64" || runtime.GOARCH == "arm64"

// nextBit returns the first of i, i+stride, ... up to lim whose gram in
// buf has its bit set in t, or the first past lim. This loop is where a
// scan spends its time; grams are read in the machine's byte order.
func nextBit(t *[tableWords]uint64, stride int, buf []byte, i, lim int) int {
	if i > lim {
		return i
	}
	if i < 0 || lim > len(buf)-gramLen || stride <= 0 {
		panic("checker: gram filter out of bounds")
	}
	if fastLoads {
		// Every load is inside buf: 0 <= i <= lim <= len(buf)-4, checked
		// above once rather than at each step (which makes the loop 1.7
		// times faster).
		p := unsafe.Pointer(unsafe.SliceData(buf))
		for ; i <= lim; i += stride {
			h := (*(*uint32)(unsafe.Add(p, i)) * gramHash) >> (32 - tableBits)
			if t[h>>6]&(1<<(h&63)) != 0 {
				return i
			}
		}
		return i
	}
	for ; i <= lim; i += stride {
		h := (binary.NativeEndian.Uint32(buf[i:]) * gramHash) >> (32 - tableBits)
		if t[h>>6]&(1<<(h&63)) != 0 {
			return i
		}
	}
	return i
}

// matcher finds the values of a Secrets in short byte strings (names,
// link targets, extended attributes) with one stream it reuses: one per
// goroutine. The matches it returns are valid until its next match.
type matcher struct {
	st *secretscan.Stream
	ms []secretscan.Match
}

func newMatcher(s *Secrets) *matcher {
	m := &matcher{}
	m.st = s.sc.Stream("", m.add)
	return m
}

func (m *matcher) add(x secretscan.Match) { m.ms = append(m.ms, x) }

// match returns the matches in b; none from a nil matcher.
func (m *matcher) match(b []byte) []secretscan.Match {
	if m == nil {
		return nil
	}
	m.ms = m.ms[:0]
	m.st.Reset("", m.add)
	m.st.Write(b)
	m.st.Close()
	return m.ms
}

// matchAll returns the places of the values in b (a name: short).
func (s *Secrets) matchAll(b []byte) []secretscan.Match {
	var ms []secretscan.Match
	if s.Empty() {
		return nil
	}
	s.sc.Scan("", b, func(m secretscan.Match) { ms = append(ms, m) })
	return ms
}
