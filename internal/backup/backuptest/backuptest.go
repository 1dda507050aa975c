// Package backuptest writes backups as the backup service's backup.sh does,
// with Go's crypto instead of openssl, for tests that need one without a
// shell (the render tests check that backup.sh restores what it writes).
package backuptest

import (
	"archive/tar"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"

	"github.com/rcgen/rcgen/internal/backup"
)

// Member is one file of a backup archive, in order.
type Member struct {
	Name string
	Data []byte
}

// Seal encrypts plain as `openssl enc -aes-256-ctr -pbkdf2 -iter N -md
// sha256` does: "Salted__", a random salt, the ciphertext.
func Seal(passphrase string, plain []byte) ([]byte, error) {
	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	key, iv, err := backup.KeyIV(passphrase, salt, backup.KDFIter)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(plain))
	cipher.NewCTR(b, iv).XORKeyStream(out, plain)
	return append(append([]byte("Salted__"), salt...), out...), nil
}

// SealV1 encrypts plain as format 1 did: `openssl enc -aes-256-cbc -pbkdf2
// -iter 600000` (PKCS#7 padding).
func SealV1(passphrase string, plain []byte) ([]byte, error) {
	salt := make([]byte, 8)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	key, iv, err := backup.KeyIV(passphrase, salt, 600000)
	if err != nil {
		return nil, err
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	pad := 16 - len(plain)%16
	p := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	out := make([]byte, len(p))
	cipher.NewCBCEncrypter(b, iv).CryptBlocks(out, p)
	return append(append([]byte("Salted__"), salt...), out...), nil
}

// Build returns the members of a backup of m (its Files and encryption
// are filled in here) holding dump and files: encrypted with passphrase
// when it is not empty (format 2 as m.Format says; format 1 without a
// MAC).
func Build(m backup.Manifest, passphrase string, dump, files []byte) ([]Member, error) {
	if m.Format == 0 {
		m.Format = backup.Format
	}
	payload := []Member{{"mongodb.archive.gz", dump}, {"files.tar.gz", files}}
	m.Encrypted = passphrase != ""
	m.Encryption = nil
	var macKey []byte
	if m.Encrypted {
		for i := range payload {
			var err error
			payload[i].Name += ".enc"
			if m.Format == backup.FormatV1 {
				payload[i].Data, err = SealV1(passphrase, payload[i].Data)
			} else {
				payload[i].Data, err = Seal(passphrase, payload[i].Data)
			}
			if err != nil {
				return nil, err
			}
		}
		if m.Format == backup.Format {
			salt := make([]byte, 8)
			if _, err := rand.Read(salt); err != nil {
				return nil, err
			}
			key, check, err := backup.MACKey(passphrase, hex.EncodeToString(salt))
			if err != nil {
				return nil, err
			}
			macKey = key
			m.Encryption = &backup.Encryption{Cipher: backup.Cipher, KDF: backup.KDF, Iter: backup.KDFIter, MAC: backup.MAC,
				MACSalt: hex.EncodeToString(salt), Check: hex.EncodeToString(check)}
		}
	}
	m.Files = nil
	for _, p := range payload {
		sum := sha256.Sum256(p.Data)
		m.Files = append(m.Files, backup.File{Name: p.Name, Size: int64(len(p.Data)), SHA256: hex.EncodeToString(sum[:])})
	}
	j, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	out := []Member{{"manifest.json", append(j, '\n')}}
	if macKey != nil {
		out = append(out, Member{backup.MACFile, []byte(MAC(macKey, out[0].Data) + "\n")})
	}
	return append(out, payload...), nil
}

// MAC is the hex HMAC-SHA256 of b.
func MAC(key, b []byte) string {
	h := hmac.New(sha256.New, key)
	h.Write(b)
	return hex.EncodeToString(h.Sum(nil))
}

// WriteTar writes members as a tar file at path (mode 0600).
func WriteTar(path string, members []Member) error {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, x := range members {
		if err := tw.WriteHeader(&tar.Header{Name: x.Name, Mode: 0o600, Size: int64(len(x.Data)), Typeflag: tar.TypeReg}); err != nil {
			return err
		}
		if _, err := tw.Write(x.Data); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o600)
}

// ReadTar reads the members of the tar file at path.
func ReadTar(path string) ([]Member, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Member
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err != nil {
			if err == io.EOF {
				return out, nil
			}
			return out, err
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(tr); err != nil {
			return out, err
		}
		out = append(out, Member{h.Name, b.Bytes()})
	}
}

// Rehash sets the manifest's sizes and checksums to what members hold, as
// someone changing a payload would; the MAC stays as it was.
func Rehash(members []Member) ([]Member, error) {
	var m map[string]any
	if err := json.Unmarshal(members[0].Data, &m); err != nil {
		return nil, err
	}
	files, _ := m["files"].([]any)
	for _, f := range files {
		entry := f.(map[string]any)
		for _, x := range members {
			if x.Name == entry["name"] {
				sum := sha256.Sum256(x.Data)
				entry["size"], entry["sha256"] = len(x.Data), hex.EncodeToString(sum[:])
			}
		}
	}
	j, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	out := append([]Member(nil), members...)
	out[0].Data = append(j, '\n')
	return out, nil
}
