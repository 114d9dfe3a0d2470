package verify

import (
	"bufio"
	"bytes"
	"errors"
	"io"

	"github.com/hushbuild/hushbuild/internal/nest"
	"github.com/hushbuild/hushbuild/secretscan"
)

// Besides what its first bytes say is compressed or an archive, a layer
// file is opened for what the build-time check (checker/embedded.go)
// opens, with the same code (internal/nest) and names:
//
//   - an ar archive (a .deb): its members that are compressed or tar
//     archives, at PATH:data.tar.xz (xz):MEMBER;
//   - a git packfile: its objects decompressed, at PATH (git pack);
//   - a script (#!) followed by a compressed payload (makeself) at
//     PATH (after the script) (gzip), or by a zip archive (python -m
//     zipapp -p, a Spring Boot executable jar) at PATH:NAME;
//   - a whole file (one that fits in a block) that ends as a zip archive
//     starting anywhere (a self-extracting zip after an ELF stub);
//   - a whole text file's base64 runs, decoded: what is compressed or an
//     archive is opened, at PATH (base64) (gzip); the rest is searched, at
//     PATH (base64), for what base64 of base64 hides (a value found
//     in the file already, base64'd once, is not reported twice).
//
// All count against the file's limits (nest.Limit, nest.MaxNest).

// embeddable tells whether a file starting with head, read as a stream,
// is opened for an embedded form.
func embeddable(head []byte) bool {
	return nest.IsAr(head) || nest.IsPack(head) || nest.IsScript(head) || nest.KeystoreKind(head) != ""
}

// maxZipPrefix is how much of a script streamed before the zip archive
// that follows it is kept, to open the archive with it (offsets counted
// from the file's start); past it the archive is opened alone (Go's zip
// reader finds where it starts).
const maxZipPrefix = 1 << 20

// embedded opens the embedded forms of the file that br reads (searched
// as it is already), head its first bytes; data is its whole content
// when it is in memory, else nil.
func (n *nester) embedded(br *bufio.Reader, head []byte, name string, data []byte) error {
	switch {
	case nest.KeystoreKind(head) != "":
		_, err := n.keystore(br, nest.KeystoreKind(head), "", name, 0, true, data)
		return err
	case nest.IsAr(head):
		return n.arMembers(br)
	case nest.IsPack(head):
		pr, err := nest.NewPackReader(br)
		if err != nil {
			return nil
		}
		cr := &counted{r: pr, n: n}
		db := n.reader(cr)
		_, err = n.content(db, nest.PackSuffix, name, 1, false)
		n.putReader(db)
		if errors.Is(err, errTooBig) {
			return err
		}
		if err != nil {
			n.note(nest.PackSuffix, "a git packfile that cannot be read after %d bytes of objects (%v): the rest was searched as raw bytes only", cr.k, err)
		}
		return nil
	}
	if data != nil {
		if len(data) >= 22 && nest.ZipAtEnd(data[len(data)-min(len(data), nest.ZipTail):]) {
			zb := n.reader(bytes.NewReader(data))
			_, err := n.zip(zb, "", name, 0, true)
			n.putReader(zb)
			if err != nil {
				return err
			}
		}
		if nest.IsScript(head) {
			if off, _ := nest.ScriptPayload(data); off > 0 {
				return n.payload(n.reader(bytes.NewReader(data[off:])), name)
			}
		}
		return nil
	}
	if !nest.IsScript(head) {
		return nil
	}
	// What precedes a zip archive, kept up to maxZipPrefix bytes.
	var prefix []byte
	keep := true
	kind, err := nest.SkipToPayload(br, func(b []byte) {
		if keep = keep && len(prefix)+len(b) <= maxZipPrefix; keep {
			prefix = append(prefix, b...)
		} else {
			prefix = nil
		}
	})
	switch {
	case err != nil:
		n.note("", "a script that cannot be read to its end (%v): searched as raw bytes only", err)
	case kind == "zip":
		zb := n.reader(io.MultiReader(bytes.NewReader(prefix), br))
		_, err = n.zip(zb, "", name, 0, true)
		n.putReader(zb)
		return err
	case kind != "":
		return n.payload(br, name)
	}
	return nil
}

// keystore opens the keystore of kind (see nest.KeystoreKind) br reads
// (data, when it is whole in memory), found at suffix, depth levels in:
// it is searched as it is (unless scanned says it was), and what the
// conventional passwords decrypt of it is searched one level deeper, at
// suffix (PKCS #12, password PASSWORD). A keystore larger than
// nest.MaxKeystore, or that cannot be read, is searched as bytes only,
// with a note; one that no password opens, without one.
func (n *nester) keystore(br *bufio.Reader, kind, suffix, name string, depth int, scanned bool, data []byte) (int64, error) {
	var st *secretscan.Stream
	var in io.Reader = br
	if !scanned {
		st = n.stream(depth, suffix, name)
		in = io.TeeReader(br, streamWriter{st})
	}
	var err error
	if data == nil {
		data, err = io.ReadAll(io.LimitReader(in, nest.MaxKeystore+1))
	}
	k := int64(len(data))
	if err == nil && k > nest.MaxKeystore {
		n.note(suffix, "a %s keystore of more than %d bytes: searched as raw bytes only", kind, nest.MaxKeystore)
		if st != nil {
			var m int64
			m, err = io.Copy(io.Discard, in)
			k += m
		}
		data = nil
	}
	if st != nil {
		st.Close()
	}
	if err != nil || data == nil {
		return k, err
	}
	parts, _, perr := nest.OpenKeystore(kind, data)
	if perr != nil {
		n.note(suffix, "a %s keystore that cannot be opened (%v): searched as raw bytes only", kind, perr)
	}
	for _, p := range parts {
		if n.used += int64(len(p.Data)); n.used > n.limit {
			return k, errTooBig
		}
		ps := n.stream(depth+1, suffix+nest.KeystoreSuffix(kind, p.Password), "")
		ps.Write(p.Data)
		ps.Close()
	}
	return k, nil
}

// payload opens the compressed payload br reads (part of the file,
// searched already), at PATH (after the script) (KIND).
func (n *nester) payload(br *bufio.Reader, name string) error {
	_, err := n.content(br, nest.PayloadSuffix, name, 0, true)
	if errors.Is(err, errTooBig) {
		return err
	}
	return nil
}

// arMembers opens the members of an ar archive (a .deb's control.tar.gz
// and data.tar.xz) that are compressed or tar archives, as tar opens a
// tar's: the members are in the file as they are, searched already.
func (n *nester) arMembers(br *bufio.Reader) error {
	ar := nest.NewArReader(br)
	mr := n.reader(ar)
	defer n.putReader(mr)
	for {
		m, err := ar.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			n.note("", "an ar archive that cannot be read to its end (%v): the rest was searched as raw bytes only", err)
			return nil
		}
		red, _ := n.sm.redact(m.Name)
		ms := ":" + red
		n.sm.scan("", []byte(m.Name), func(id matchID, off int64, _ int) {
			n.c.add(rawHit{id: id, path: n.path + ms, real: n.real, in: InName, history: -1, offset: off})
		})
		if m.Size == 0 {
			continue
		}
		mr.Reset(ar)
		mh, _ := mr.Peek(nestHead)
		d := 0
		switch {
		case nest.Kind(mh) != "":
		case nest.IsTar(mh):
			d++
		default:
			continue
		}
		if _, err := n.content(mr, ms, m.Name, d, true); err != nil {
			if errors.Is(err, errTooBig) {
				return err
			}
			n.note(ms, "cannot be read to its end (%v): the rest was searched as raw bytes only", err)
		}
	}
}

// base64View searches data, a whole text file (searched as it is
// already, its findings in base), where base64 is undone: each run of
// base64 in it, and each run wrapped across lines joined (`gzip -c |
// base64` wraps at 76 columns), is decoded when it starts as compressed
// data, an archive or text (nest.Base64RunsOfNote); what is compressed or
// an archive is opened at PATH (base64), the rest searched together at
// PATH (base64), but for the values the file holds base64'd once (found
// in it already, and again decoded).
func (n *nester) base64View(base *collector, data []byte) error {
	c := newCollector()
	n.c = c
	defer func() { n.c = base }()
	var text []byte
	var ferr error
	each := func(dec []byte) {
		if ferr != nil {
			return
		}
		if nest.Kind(dec) == "" && !nest.IsTar(dec) && nest.KeystoreKind(dec) == "" {
			text = append(append(text, dec...), '\n')
			return
		}
		db := n.reader(bytes.NewReader(dec))
		_, err := n.content(db, nest.Base64Suffix, "", 1, false)
		n.putReader(db)
		if errors.Is(err, errTooBig) {
			ferr = err
		}
	}
	notes := len(n.notes)
	n.b64 = nest.Base64RunsOfNote(n.b64, data, each)
	if n.join = nest.JoinWrapped(n.join[:0], data); len(n.join) > 0 {
		// A wrapped run's lines are runs too, each cut short: what
		// they could not give is no note.
		n.notes = n.notes[:notes]
		n.b64 = nest.Base64RunsOfNote(n.b64, n.join, each)
	}
	if ferr != nil {
		base.merge(c)
		return ferr
	}
	if len(text) > 0 {
		st := n.stream(1, nest.Base64Suffix, "")
		st.Write(text)
		st.Close()
	}
	if len(c.hits) == 0 {
		return nil
	}
	// What the file holds base64'd once is found in it, and again in its
	// decoded text: one finding.
	var found map[matchID]bool
	at := n.path + nest.Base64Suffix
	for k, h := range c.hits {
		if h.path != at {
			continue
		}
		if found == nil {
			found = map[matchID]bool{}
			for bk := range base.hits {
				if bk.path == n.path && bk.in == InContent {
					found[bk.id.what()] = true
				}
			}
		}
		if found[h.id.what()] {
			delete(c.hits, k)
		}
	}
	base.merge(c)
	return nil
}
