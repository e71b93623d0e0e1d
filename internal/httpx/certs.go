package httpx

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"

	"github.com/bbimport/bbimport/internal/safefile"
)

// CABundle is a PEM file of extra trusted certificates and the setting that
// named it (an environment variable or a flag), for error messages.
type CABundle struct {
	Setting string
	Path    string
}

// ErrNoCertificates means a CA bundle file holds no PEM certificate.
var ErrNoCertificates = errors.New("no PEM certificate in the file")

// CABundleError is a CA bundle that cannot be used.
type CABundleError struct {
	CABundle
	Err error
}

func (e *CABundleError) Error() string {
	return fmt.Sprintf("%s=%s: %v", e.Setting, e.Path, e.Err)
}
func (e *CABundleError) Unwrap() error { return e.Err }

// BundleRules is what a CA bundle must be: a regular file (a FIFO would
// hang the run, /dev/zero fill its memory), found through links (bundles
// are often linked into /etc/ssl), of at most 8 MiB (the system's whole
// store is a few hundred KiB).
var BundleRules = safefile.Rules{FollowLinks: true, SharedInode: true, MaxSize: 8 << 20}

// RootsWithBundles returns the system's trusted roots plus the certificates
// of every bundle, and how many certificates each bundle added. The system
// roots are Go's: SSL_CERT_FILE and SSL_CERT_DIR, when set, replace the
// operating system's store, which is why extra bundles are added here
// rather than through them.
func RootsWithBundles(bundles []CABundle) (*x509.CertPool, []int, error) {
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	counts := make([]int, len(bundles))
	for i, b := range bundles {
		data, err := safefile.ReadFile(b.Path, BundleRules)
		if err != nil {
			return nil, nil, &CABundleError{CABundle: b, Err: err}
		}
		n := 0
		for _, c := range parsePEMCertificates(data) {
			pool.AddCert(c)
			n++
		}
		if n == 0 {
			return nil, nil, &CABundleError{CABundle: b, Err: ErrNoCertificates}
		}
		counts[i] = n
	}
	return pool, counts, nil
}

// parsePEMCertificates returns the certificates of a PEM bundle, skipping
// blocks that are not certificates (a key left in the file) or do not parse.
func parsePEMCertificates(data []byte) []*x509.Certificate {
	var out []*x509.Certificate
	for len(data) > 0 {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		if c, err := x509.ParseCertificate(block.Bytes); err == nil {
			out = append(out, c)
		}
	}
	return out
}

// NewTransport returns the base transport New would build, trusting roots
// instead of the system's when roots is not nil.
func NewTransport(roots *x509.CertPool) *http.Transport {
	t := defaultTransport()
	if roots != nil {
		t.TLSClientConfig = &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12}
	}
	return t
}
