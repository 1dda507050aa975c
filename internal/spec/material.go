package spec

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"syscall"
)

// MaxUserFile bounds every file a person names (licence, certificate, key,
// password, answers file): each is a few kilobytes at most.
const MaxUserFile = 1 << 20

// ReadUserFile reads a file a person named: it must be a regular file (not
// a directory, a FIFO or a device that would block) of at most MaxUserFile
// bytes. Symbolic links are followed, as a person expects.
func ReadUserFile(path string) ([]byte, error) {
	// O_NONBLOCK: opening a FIFO must not wait for a writer; it is then
	// refused as not regular. Regular files read as usual.
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			return nil, fmt.Errorf("cannot read %s: %v", path, pe.Err)
		}
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file: give the path of the file itself", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, MaxUserFile+1))
	if err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", path, err)
	}
	if len(b) > MaxUserFile {
		return nil, fmt.Errorf("%s is larger than %s, which no file rcgen reads is: check the path", path, FormatBytes(MaxUserFile))
	}
	return b, nil
}

// ReadLicense reads and checks a licence file.
func ReadLicense(path string) (string, error) {
	b, err := ReadUserFile(path)
	if err != nil {
		return "", err
	}
	l := NormalizeLicense(string(b))
	if l == "" {
		return "", fmt.Errorf("%s is empty: use the licence file Rocket.Chat Cloud gave you", path)
	}
	return l, ValidateLicense(l)
}

// LoadMaterial reads the files the answers name (licence, certificate and
// key) into a, reporting every problem under its answer's key. An answer
// without a file leaves its material as it is (kept from the deployment).
func LoadMaterial(a *Answers) error {
	var errs []error
	if a.LicenseFile != "" {
		l, err := ReadLicense(a.LicenseFile)
		if err != nil {
			errs = append(errs, fieldErr(KeyLicenseFile, err))
		} else {
			a.License = l
		}
	}
	read := func(key, path string, dst *string) {
		if path == "" {
			return
		}
		b, err := ReadUserFile(path)
		if err != nil {
			errs = append(errs, fieldErr(key, err))
			return
		}
		*dst = string(b)
	}
	read(KeyTLSCert, a.TLSCert, &a.TLSCertPEM)
	read(KeyTLSKey, a.TLSKey, &a.TLSKeyPEM)
	return errors.Join(errs...)
}
