package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"net"
	"testing"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
)

func TestListIdentities(t *testing.T) {
	keyring := agent.NewKeyring()
	var want []ssh.PublicKey
	for _, comment := range []string{"first", "second"} {
		_, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		if err := keyring.Add(agent.AddedKey{PrivateKey: priv, Comment: comment}); err != nil {
			t.Fatal(err)
		}
		signer, err := ssh.NewSignerFromKey(priv)
		if err != nil {
			t.Fatal(err)
		}
		want = append(want, signer.PublicKey())
	}
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		_ = agent.ServeAgent(keyring, server)
	}()

	ids, err := listIdentities(client)
	if err != nil {
		t.Fatalf("listIdentities: %v", err)
	}
	if len(ids) != len(want) {
		t.Fatalf("got %d identities, want %d", len(ids), len(want))
	}
	for i, id := range ids {
		if string(id.blob) != string(want[i].Marshal()) {
			t.Errorf("identity %d: blob differs from the key's wire form", i)
		}
		if id.comment != []string{"first", "second"}[i] {
			t.Errorf("identity %d: comment %q", i, id.comment)
		}
	}
}

func TestListIdentitiesBadReply(t *testing.T) {
	client, server := net.Pipe()
	defer client.Close()
	go func() {
		defer server.Close()
		buf := make([]byte, 5)
		_, _ = server.Read(buf)
		_, _ = server.Write([]byte{0, 0, 0, 1, 5}) // SSH_AGENT_FAILURE
	}()
	if _, err := listIdentities(client); err == nil {
		t.Fatal("want an error for a failure reply")
	}
}
