package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"fmt"
	"io"
	"path/filepath"
	"strings"
)

// MaxInflate is the most deflate (gzip) expands its input: 1032 times
// (zlib's technical details, "Maximum compression factor").
const MaxInflate = 1032

// CheckContents reads the files archive of the backup at path (files.tar.gz,
// decrypted with passphrase when it is encrypted) and refuses a member
// the restore must not extract: a name that is absolute or climbs out
// with "..", a link, a device, a FIFO, a sparse file. backup.sh writes
// regular files and directories only, under relative names (tar -C). Run
// Verify first (it bounds the member to the size the manifest declares),
// and Authenticate, or Unlock, with passphrase.
func CheckContents(path string, m Manifest, passphrase string) error {
	name := filepath.Base(path)
	want := FilesFile
	if m.Encrypted {
		want += EncSuffix
	}
	var size int64 = -1
	for _, f := range m.Files {
		if f.Name == want {
			size = f.Size
		}
	}
	if size < 0 {
		return nil // no files archive: nothing is extracted
	}
	f, _, err := openRegular(path)
	if err != nil {
		return err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%s is incomplete: %s is missing (a truncated copy?): restore another backup", name, want)
		}
		if h.Name == want {
			break
		}
	}
	var r io.Reader = io.LimitReader(tr, size)
	if m.Encrypted {
		if r, err = decrypter(r, m, passphrase); err != nil {
			return fmt.Errorf("%s is damaged: its %s %v: restore another backup", name, want, err)
		}
	}
	damaged := func(err error) error {
		return fmt.Errorf("%s is damaged: its %s does not read as a gzipped tar (%v): restore another backup", name, FilesFile, err)
	}
	zr, err := gzip.NewReader(r)
	if err != nil {
		return damaged(err)
	}
	// One gzip stream: what follows it (format 1's padding) is not read.
	zr.Multistream(false)
	// Deflate expands at most 1032 times (zlib's limit): more declared is
	// a sparse or forged member, and no more is read.
	limit := MaxInflate * size
	inner := tar.NewReader(io.LimitReader(zr, limit+1<<20))
	for {
		h, err := inner.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return damaged(err)
		}
		if h.Size > limit {
			return fmt.Errorf("%s holds %q in its %s, declaring %d bytes, more than %d times the %d bytes it is compressed into (a sparse or forged file): nothing of it is extracted: restore another backup", name, h.Name, FilesFile, h.Size, MaxInflate, size)
		}
		if why := unsafeMember(h); why != "" {
			return fmt.Errorf("%s holds %q in its %s, %s: a backup rcgen wrote has none, so it was forged or changed; nothing of it is extracted: restore another backup", name, h.Name, FilesFile, why)
		}
	}
}

// unsafeMember says why extracting h could write outside the directory
// it is extracted into, or more than its bytes ("" when it cannot).
func unsafeMember(h *tar.Header) string {
	switch {
	case h.Name == "":
		return "an empty name"
	case strings.HasPrefix(h.Name, "/"):
		return "an absolute path"
	case climbs(h.Name):
		return "a path that leads out of the directory with .."
	}
	switch h.Typeflag {
	case tar.TypeReg, tar.TypeDir:
	default:
		return typeName(h)
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Sprintf("a sparse file (%d bytes declared)", h.Size)
		}
	}
	return ""
}

// climbs reports whether the slash-separated name has a ".." element.
func climbs(name string) bool {
	for _, e := range strings.Split(name, "/") {
		if e == ".." {
			return true
		}
	}
	return false
}

// decrypter decrypts r, a file openssl enc wrote ("Salted__", the salt,
// the ciphertext): AES-256-CTR for format 2, AES-256-CBC for format 1.
func decrypter(r io.Reader, m Manifest, passphrase string) (io.Reader, error) {
	head := make([]byte, 16)
	if _, err := io.ReadFull(r, head); err != nil || !bytes.HasPrefix(head, []byte("Salted__")) {
		return nil, fmt.Errorf("does not start as openssl enc writes")
	}
	iter := KDFIter
	if m.Format == FormatV1 {
		iter = 600000
	}
	key, iv, err := KeyIV(passphrase, head[8:16], iter)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	if m.Format == FormatV1 {
		return &cbcReader{r: r, mode: cipher.NewCBCDecrypter(b, iv)}, nil
	}
	return cipher.StreamReader{S: cipher.NewCTR(b, iv), R: r}, nil
}

// cbcReader decrypts AES-CBC as it reads, whole blocks at a time; the
// padding is left in (the gzip reader stops before it).
type cbcReader struct {
	r    io.Reader
	mode cipher.BlockMode
	buf  []byte
	out  []byte
	err  error
}

func (c *cbcReader) Read(p []byte) (int, error) {
	for len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.buf == nil {
			c.buf = make([]byte, 32<<10)
		}
		n, err := io.ReadFull(c.r, c.buf)
		n -= n % aes.BlockSize
		if err == io.ErrUnexpectedEOF {
			err = io.EOF
		}
		c.err = err
		c.mode.CryptBlocks(c.buf[:n], c.buf[:n])
		c.out = c.buf[:n]
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	return n, nil
}
