package labservers

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"time"
)

// LoadOrCreateCA returns the lab's CA kept in dir (ca.crt, ca.key), made
// on first use: builds trust it through the real-tools image.
func LoadOrCreateCA(dir string) (*x509.Certificate, *ecdsa.PrivateKey, error) {
	certPath, keyPath := filepath.Join(dir, "ca.crt"), filepath.Join(dir, "ca.key")
	certPEM, err1 := os.ReadFile(certPath)
	keyPEM, err2 := os.ReadFile(keyPath)
	if err1 == nil && err2 == nil {
		cb, _ := pem.Decode(certPEM)
		kb, _ := pem.Decode(keyPEM)
		if cb == nil || kb == nil {
			return nil, nil, fmt.Errorf("%s or %s: not PEM", certPath, keyPath)
		}
		cert, err := x509.ParseCertificate(cb.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", certPath, err)
		}
		key, err := x509.ParseECPrivateKey(kb.Bytes)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", keyPath, err)
		}
		return cert, key, nil
	}
	if !errors.Is(err1, os.ErrNotExist) && err1 != nil {
		return nil, nil, err1
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "hushbuild lab CA", Organization: []string{"hushbuild lab"}},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().AddDate(5, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, err
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(keyPath, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		return nil, nil, err
	}
	if err := os.WriteFile(certPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return nil, nil, err
	}
	cert, err := x509.ParseCertificate(der)
	return cert, key, err
}

// ServerCert issues a certificate for hosts and ips, signed by the CA.
func ServerCert(ca *x509.Certificate, caKey *ecdsa.PrivateKey, hosts []string, ips []net.IP) (tls.Certificate, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: "hushbuild lab"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(0, 3, 0),
		DNSNames:     hosts,
		IPAddresses:  ips,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	if err != nil {
		return tls.Certificate{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der, ca.Raw}, PrivateKey: key}, nil
}

// Repos are the repositories the git server has, by path under the git
// root, with their files.
var Repos = map[string]map[string]string{
	// A configuration repository (examples 116, 202, 203).
	"acme/private-config.git": {
		"config.yaml": "service: private-config\nlevel: info\n",
	},
	// A Python package (example 217 pip-installs the clone).
	"acme/private-lib.git": {
		"setup.py":                "from setuptools import setup\n\nsetup(name=\"private-lib\", version=\"0.3.0\", packages=[\"private_lib\"])\n",
		"private_lib/__init__.py": "VERSION = \"0.3.0\"\n",
	},
}

// MakeRepos creates the bare repositories of Repos under root, one commit
// each, unless they exist.
func MakeRepos(root string) error {
	for name, files := range Repos {
		bare := filepath.Join(root, filepath.FromSlash(name))
		if _, err := os.Stat(filepath.Join(bare, "HEAD")); err == nil {
			continue
		}
		work, err := os.MkdirTemp("", "hushbuild-lab-repo-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(work)
		for p, data := range files {
			f := filepath.Join(work, filepath.FromSlash(p))
			if err := os.MkdirAll(filepath.Dir(f), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(f, []byte(data), 0o644); err != nil {
				return err
			}
		}
		env := append(os.Environ(), "GIT_AUTHOR_NAME=hushbuild lab", "GIT_AUTHOR_EMAIL=lab@hushbuild.invalid",
			"GIT_COMMITTER_NAME=hushbuild lab", "GIT_COMMITTER_EMAIL=lab@hushbuild.invalid",
			"GIT_AUTHOR_DATE=1985-10-26T08:15:00Z", "GIT_COMMITTER_DATE=1985-10-26T08:15:00Z", "GIT_CONFIG_NOSYSTEM=1", "HOME="+work)
		for _, args := range [][]string{
			{"init", "-q", "-b", "main", work},
			{"-C", work, "add", "-A"},
			{"-C", work, "commit", "-q", "-m", "initial"},
			{"clone", "-q", "--bare", work, bare},
		} {
			cmd := exec.Command("git", args...)
			cmd.Env = env
			if out, err := cmd.CombinedOutput(); err != nil {
				return fmt.Errorf("git %v: %v: %s", args, err, out)
			}
		}
	}
	return nil
}
