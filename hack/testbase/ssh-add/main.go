// Command ssh-add is the test base image's stand-in for OpenSSH's ssh-add.
// It only lists: "ssh-add -L" prints the public keys of the agent at
// SSH_AUTH_SOCK, one "TYPE BASE64 COMMENT" line each, as OpenSSH does.
// The image's busybox cannot speak to a unix socket, so the ssh stand-in
// uses this to see which keys a build's ssh mount offers.
package main

import (
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
)

const (
	agentRequestIdentities = 11
	agentIdentitiesAnswer  = 12
)

// identity is one key an agent holds.
type identity struct {
	blob    []byte // the public key in SSH wire format
	comment string
}

func main() {
	if len(os.Args) != 2 || os.Args[1] != "-L" {
		fmt.Fprintln(os.Stderr, "usage: ssh-add -L (this stand-in only lists the agent's public keys)")
		os.Exit(2)
	}
	sock := os.Getenv("SSH_AUTH_SOCK")
	if sock == "" {
		fmt.Fprintln(os.Stderr, "Could not open a connection to your authentication agent.")
		os.Exit(2)
	}
	conn, err := net.Dial("unix", sock)
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error connecting to agent: %v\n", err)
		os.Exit(2)
	}
	defer conn.Close()
	ids, err := listIdentities(conn)
	if err != nil {
		fmt.Fprintf(os.Stderr, "ssh-add: %v\n", err)
		os.Exit(2)
	}
	if len(ids) == 0 {
		fmt.Fprintln(os.Stderr, "The agent has no identities.")
		os.Exit(1)
	}
	for _, id := range ids {
		keyType, _, err := readString(id.blob)
		if err != nil {
			fmt.Fprintf(os.Stderr, "ssh-add: bad key blob: %v\n", err)
			os.Exit(2)
		}
		fmt.Printf("%s %s %s\n", keyType, base64.StdEncoding.EncodeToString(id.blob), id.comment)
	}
}

// listIdentities asks the agent on rw for its keys (SSH agent protocol,
// SSH_AGENTC_REQUEST_IDENTITIES).
func listIdentities(rw io.ReadWriter) ([]identity, error) {
	if _, err := rw.Write([]byte{0, 0, 0, 1, agentRequestIdentities}); err != nil {
		return nil, fmt.Errorf("write request: %w", err)
	}
	var size uint32
	if err := binary.Read(rw, binary.BigEndian, &size); err != nil {
		return nil, fmt.Errorf("read reply length: %w", err)
	}
	if size < 5 || size > 1<<20 {
		return nil, fmt.Errorf("bad reply length %d", size)
	}
	msg := make([]byte, size)
	if _, err := io.ReadFull(rw, msg); err != nil {
		return nil, fmt.Errorf("read reply: %w", err)
	}
	if msg[0] != agentIdentitiesAnswer {
		return nil, fmt.Errorf("unexpected reply type %d", msg[0])
	}
	n := binary.BigEndian.Uint32(msg[1:5])
	rest := msg[5:]
	var ids []identity
	for i := uint32(0); i < n; i++ {
		blob, r, err := readString(rest)
		if err != nil {
			return nil, fmt.Errorf("key %d: %w", i, err)
		}
		comment, r, err := readString(r)
		if err != nil {
			return nil, fmt.Errorf("key %d comment: %w", i, err)
		}
		ids = append(ids, identity{blob: []byte(blob), comment: comment})
		rest = r
	}
	return ids, nil
}

// readString reads one SSH wire string (uint32 length, bytes) from b.
func readString(b []byte) (string, []byte, error) {
	if len(b) < 4 {
		return "", nil, errors.New("short string length")
	}
	n := binary.BigEndian.Uint32(b)
	if uint64(len(b)-4) < uint64(n) {
		return "", nil, errors.New("short string")
	}
	return string(b[4 : 4+n]), b[4+n:], nil
}
