package spec

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"time"
)

// ValidateCertificate checks the operator's own certificate: PEM that
// parses, a key that matches it, a name that covers domain, and dates that
// are valid today.
func ValidateCertificate(certPEM, keyPEM []byte, domain string) error {
	if len(certPEM) == 0 || len(keyPEM) == 0 {
		return fmt.Errorf("give both the certificate and its key (PEM files)")
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		return fmt.Errorf("the certificate and key do not form a pair: %v (both must be PEM, the key unencrypted)", err)
	}
	block, _ := pem.Decode(certPEM)
	if block == nil {
		return fmt.Errorf("the certificate is not PEM")
	}
	cert, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return fmt.Errorf("the certificate does not parse: %v", err)
	}
	if err := cert.VerifyHostname(domain); err != nil {
		return fmt.Errorf("the certificate is not valid for %s (it names %v): use one issued for the domain", domain, cert.DNSNames)
	}
	now := time.Now()
	if now.After(cert.NotAfter) {
		return fmt.Errorf("the certificate expired on %s: renew it", cert.NotAfter.Format("2006-01-02"))
	}
	if now.Before(cert.NotBefore) {
		return fmt.Errorf("the certificate is not valid before %s", cert.NotBefore.Format("2006-01-02"))
	}
	return nil
}
