package backup

import (
	"archive/tar"
	"bytes"
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"sync"
)

// How backup.sh seals an encrypted backup (format 2). Each payload file is
// what `openssl enc -aes-256-ctr -pbkdf2 -iter KDFIter -md sha256` writes:
// "Salted__", a random 8-byte salt, then AES-256-CTR with the key and IV
// taken from PBKDF2-HMAC-SHA256 of the passphrase and that salt (OpenSSL
// apps/enc.c). manifest.hmac is HMAC-SHA256 of manifest.json, which holds
// every payload's SHA-256: encrypt, then MAC. Its key and the passphrase
// check are bytes 0-31 and 32-47 of PBKDF2-HMAC-SHA256 of the passphrase
// and the manifest's mac_salt (what `openssl enc -P -S mac_salt` prints as
// key and iv), so a wrong passphrase is told from a changed backup.
const (
	Cipher  = "aes-256-ctr"
	KDF     = "pbkdf2-sha256"
	KDFIter = 600000
	MAC     = "hmac-sha256"
	// MACFile is the archive member that holds the manifest's MAC (hex).
	MACFile = "manifest.hmac"
)

// Encryption is the manifest's description of how an encrypted format 2
// backup is sealed.
type Encryption struct {
	Cipher  string `json:"cipher"`
	KDF     string `json:"kdf"`
	Iter    int    `json:"iter"`
	MAC     string `json:"mac"`
	MACSalt string `json:"mac_salt"`
	// Check is derived from the passphrase with the MAC key: it tells a
	// wrong passphrase from a changed backup.
	Check string `json:"check"`
}

func (e *Encryption) check() error {
	if e == nil {
		return fmt.Errorf("%w (it says encrypted, and its manifest does not say how)", ErrNotBackup)
	}
	if e.Cipher != Cipher || e.KDF != KDF || e.Iter != KDFIter || e.MAC != MAC {
		return fmt.Errorf("encrypted with %s, %s (%d iterations), %s, and this rcgen knows %s, %s (%d), %s: use the rcgen that wrote it",
			e.Cipher, e.KDF, e.Iter, e.MAC, Cipher, KDF, KDFIter, MAC)
	}
	if s, err := hex.DecodeString(e.MACSalt); err != nil || len(s) != 8 {
		return fmt.Errorf("%w (its mac_salt %q is not 8 bytes of hex)", ErrNotBackup, e.MACSalt)
	}
	if c, err := hex.DecodeString(e.Check); err != nil || len(c) != 16 {
		return fmt.Errorf("%w (its passphrase check %q is not 16 bytes of hex)", ErrNotBackup, e.Check)
	}
	return nil
}

// ErrWrongPassphrase: the backup was encrypted with another passphrase.
var ErrWrongPassphrase = errors.New("it was encrypted with another passphrase")

// ErrAltered: the backup's manifest does not match its MAC: it was changed
// (or damaged) after it was written.
var ErrAltered = errors.New("it was changed after it was written")

// Authenticate checks an encrypted backup against passphrase before
// anything decrypts it: its manifest's MAC (format 2; with the checksums
// Verify compares, that covers every byte), or, for format 1, which has no
// MAC, that the passphrase opens its dump. Run Verify first. An
// unencrypted backup has nothing to check.
func Authenticate(path string, m Manifest, passphrase string) error {
	if !m.Encrypted {
		return nil
	}
	name := filepath.Base(path)
	if passphrase == "" {
		return fmt.Errorf("%s is encrypted, and no passphrase was given", name)
	}
	wrong := fmt.Errorf("%s does not decrypt with this deployment's BACKUP_PASSPHRASE: %w", name, ErrWrongPassphrase)
	if m.Format == FormatV1 {
		ok, err := opensV1(path, passphrase)
		if err != nil {
			return err
		}
		if !ok {
			return wrong
		}
		return nil
	}
	if err := m.Encryption.check(); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	manifest, mac, err := members(path, "manifest.json", MACFile)
	if err != nil {
		return err
	}
	key, check, err := MACKey(passphrase, m.Encryption.MACSalt)
	if err != nil {
		return err
	}
	want, _ := hex.DecodeString(m.Encryption.Check)
	if subtle.ConstantTimeCompare(check, want) != 1 {
		return wrong
	}
	got := hmac.New(sha256.New, key)
	got.Write(manifest)
	sum, err := hex.DecodeString(strings.TrimSpace(string(mac)))
	if err != nil || !hmac.Equal(got.Sum(nil), sum) {
		return fmt.Errorf("%s is damaged or %w: its manifest does not match its authentication code (%s)", name, ErrAltered, MACFile)
	}
	return nil
}

// MACKey derives the MAC key and the passphrase check from passphrase and
// the manifest's mac_salt (hex), as backup.sh does with openssl enc -P.
func MACKey(passphrase, salt string) (key, check []byte, err error) {
	s, err := hex.DecodeString(salt)
	if err != nil {
		return nil, nil, err
	}
	k, err := pbkdf2.Key(sha256.New, passphrase, s, KDFIter, 48)
	if err != nil {
		return nil, nil, err
	}
	return k[:32], k[32:], nil
}

// KeyIV derives an openssl enc file's AES-256 key and IV from passphrase
// and the salt in its header.
func KeyIV(passphrase string, salt []byte, iter int) (key, iv []byte, err error) {
	k, err := pbkdf2.Key(sha256.New, passphrase, salt, iter, 48)
	if err != nil {
		return nil, nil, err
	}
	return k[:32], k[32:], nil
}

// opensV1 reports whether passphrase opens a format 1 backup: the first
// block of its dump (openssl enc -aes-256-cbc -pbkdf2 -iter 600000,
// "Salted__" and the salt first) decrypts to gzip's magic bytes.
func opensV1(path, passphrase string) (bool, error) {
	head, err := memberHead(path, "mongodb.archive.gz.enc", 32)
	if err != nil {
		return false, err
	}
	if len(head) < 32 || !bytes.HasPrefix(head, []byte("Salted__")) {
		return false, fmt.Errorf("%s is damaged: its dump does not start as openssl enc writes: restore another backup", filepath.Base(path))
	}
	key, iv, err := KeyIV(passphrase, head[8:16], 600000)
	if err != nil {
		return false, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return false, err
	}
	block := make([]byte, 16)
	b.Decrypt(block, head[16:32])
	subtle.XORBytes(block, block, iv)
	return block[0] == 0x1f && block[1] == 0x8b, nil
}

// members reads the members a and b of the archive at path (each at most
// MaxManifest bytes).
func members(path, a, b string) ([]byte, []byte, error) {
	names := []string{a, b}
	f, _, err := openRegular(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	got := map[string][]byte{}
	tr := tar.NewReader(f)
	for len(got) < len(names) {
		h, err := tr.Next()
		if err != nil {
			break
		}
		for _, n := range names {
			if h.Name == n && got[n] == nil {
				b, err := io.ReadAll(io.LimitReader(tr, MaxManifest))
				if err != nil {
					return nil, nil, fmt.Errorf("%s is damaged (%v): restore another backup", path, err)
				}
				got[n] = b
			}
		}
	}
	for _, n := range names {
		if got[n] == nil {
			return nil, nil, fmt.Errorf("%s is incomplete: %s is missing (a truncated copy?): restore another backup", path, n)
		}
	}
	return got[a], got[b], nil
}

// memberHead reads the first n bytes of the member name.
func memberHead(path, name string, n int) ([]byte, error) {
	f, _, err := openRegular(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("%s is incomplete: %s is missing (a truncated copy?): restore another backup", path, name)
		}
		if h.Name == name {
			b := make([]byte, n)
			k, err := io.ReadFull(tr, b)
			if err != nil && err != io.ErrUnexpectedEOF {
				return nil, err
			}
			return b[:k], nil
		}
	}
}

// Key is a passphrase and the .env key that holds it (BACKUP_PASSPHRASE,
// or BACKUP_PASSPHRASE_1... for earlier ones that kept backups need).
type Key struct {
	Name       string
	Passphrase string
}

// Unlock finds which of keys opens the encrypted backup at path and
// authenticates the backup with it (Authenticate). An unencrypted backup
// needs none: the zero Key.
func Unlock(path string, m Manifest, keys []Key) (Key, error) {
	if !m.Encrypted {
		return Key{}, nil
	}
	var names []string
	for _, k := range keys {
		if k.Passphrase == "" {
			continue
		}
		names = append(names, k.Name)
		ok, err := Opens(path, m, k.Passphrase)
		if err != nil {
			return Key{}, err
		}
		if ok {
			return k, Authenticate(path, m, k.Passphrase)
		}
	}
	name := filepath.Base(path)
	switch len(names) {
	case 0:
		return Key{}, fmt.Errorf("%s is encrypted, and no passphrase was given", name)
	case 1:
		return Key{}, fmt.Errorf("%s does not decrypt with this deployment's %s: %w", name, names[0], ErrWrongPassphrase)
	}
	return Key{}, fmt.Errorf("%s does not decrypt with any of this deployment's passphrases (%s): %w", name, strings.Join(names, ", "), ErrWrongPassphrase)
}

// opensCache remembers which passphrase opens which format 2 backup (by
// its mac_salt and check): each answer costs a PBKDF2 of KDFIter rounds,
// and a run may ask twice (generate decides what to keep, then says it).
var opensCache sync.Map

// Opens reports whether passphrase opens the encrypted backup at path
// (manifest m): for format 2 its passphrase check, read from the
// manifest alone; for format 1 the first block of its dump. It does not
// authenticate the backup (Authenticate does).
func Opens(path string, m Manifest, passphrase string) (bool, error) {
	if !m.Encrypted || passphrase == "" {
		return false, nil
	}
	if m.Format == FormatV1 {
		return opensV1(path, passphrase)
	}
	if err := m.Encryption.check(); err != nil {
		return false, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	id := sha256.Sum256([]byte(m.Encryption.MACSalt + "\x00" + m.Encryption.Check + "\x00" + passphrase))
	if ok, found := opensCache.Load(id); found {
		return ok.(bool), nil
	}
	_, check, err := MACKey(passphrase, m.Encryption.MACSalt)
	if err != nil {
		return false, err
	}
	want, _ := hex.DecodeString(m.Encryption.Check)
	ok := subtle.ConstantTimeCompare(check, want) == 1
	opensCache.Store(id, ok)
	return ok, nil
}

// Opened reports, for each of passphrases, the encrypted backups in dir
// it opens (names, newest first): a passphrase no kept backup needs may
// go. An error means rcgen cannot tell: backups/ or a backup in it is
// unreadable (root's), or a backup is of a format this rcgen does not
// read, which may need any of them.
func Opened(dir string, passphrases []string) ([][]string, error) {
	list, err := List(dir)
	if err != nil {
		return nil, err
	}
	out := make([][]string, len(passphrases))
	for _, a := range list {
		if a.Problem != "" {
			if _, _, err := ReadManifest(a.Path); err != nil && !errors.Is(err, ErrNotBackup) {
				return nil, err
			}
		}
		if !a.Manifest.Encrypted {
			continue
		}
		for i, p := range passphrases {
			ok, err := Opens(a.Path, a.Manifest, p)
			if err != nil {
				break // a damaged backup: no passphrase opens it
			}
			if ok {
				out[i] = append(out[i], a.Name())
				break
			}
		}
	}
	return out, nil
}
