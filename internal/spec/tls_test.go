package spec

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"strings"
	"testing"
)

func TestValidateCertificate(t *testing.T) {
	cert, err1 := os.ReadFile("../render/testdata/tls/cert.pem")
	key, err2 := os.ReadFile("../render/testdata/tls/key.pem")
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	if err := ValidateCertificate(cert, key, "chat.example.com"); err != nil {
		t.Errorf("the test certificate for chat.example.com: %v", err)
	}
	if err := ValidateCertificate(cert, key, "other.example.com"); err == nil || !strings.Contains(err.Error(), "not valid for other.example.com") {
		t.Errorf("wrong domain: %v", err)
	}
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, _ := x509.MarshalECPrivateKey(other)
	otherKey := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der})
	if err := ValidateCertificate(cert, otherKey, "chat.example.com"); err == nil || !strings.Contains(err.Error(), "do not form a pair") {
		t.Errorf("mismatched key: %v", err)
	}
	if err := ValidateCertificate([]byte("not pem"), key, "chat.example.com"); err == nil {
		t.Error("junk accepted as a certificate")
	}
}
