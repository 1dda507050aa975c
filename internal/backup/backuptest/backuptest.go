// Package backuptest writes backups as the backup service's backup.sh does,
// with Go's crypto instead of openssl, for tests that need one without a
// shell (the render tests check that backup.sh restores what it writes).
package backuptest

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"strconv"

	"github.com/rcgen/rcgen/internal/backup"
)

// Member is one file of a backup archive, in order.
type Member struct {
	Name string
	Data []byte
	// Type is the member's tar type (a regular file when 0); Link the
	// target of a link.
	Type byte
	Link string
	// Sparse, when set, writes the member as a GNU sparse file (PAX
	// format 1.0, as GNU tar --sparse --format=pax does) of that many
	// bytes: a hole, then Data at its end.
	Sparse int64
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
	payload := []Member{{Name: "mongodb.archive.gz", Data: dump}, {Name: "files.tar.gz", Data: files}}
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
	out := []Member{{Name: "manifest.json", Data: append(j, '\n')}}
	if macKey != nil {
		out = append(out, Member{Name: backup.MACFile, Data: []byte(MAC(macKey, out[0].Data) + "\n")})
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
	b, err := Tar(members)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o600)
}

// Tar returns members as a tar archive.
func Tar(members []Member) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, x := range members {
		if x.Sparse > 0 {
			if err := tw.Flush(); err != nil {
				return nil, err
			}
			buf.Write(sparseMember(x))
			continue
		}
		h := &tar.Header{Name: x.Name, Mode: 0o600, Size: int64(len(x.Data)), Typeflag: tar.TypeReg}
		if x.Type != 0 && x.Type != tar.TypeReg {
			h.Typeflag, h.Linkname, h.Size = x.Type, x.Link, 0
			if x.Type == tar.TypeDir {
				h.Mode = 0o700
			}
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if h.Size > 0 {
			if _, err := tw.Write(x.Data); err != nil {
				return nil, err
			}
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// TarGz returns members as a gzipped tar archive (a files.tar.gz).
func TarGz(members []Member) ([]byte, error) {
	b, err := Tar(members)
	if err != nil {
		return nil, err
	}
	var z bytes.Buffer
	zw := gzip.NewWriter(&z)
	if _, err := zw.Write(b); err != nil {
		return nil, err
	}
	if err := zw.Close(); err != nil {
		return nil, err
	}
	return z.Bytes(), nil
}

// sparseMember is x as GNU tar writes a sparse file in PAX format 1.0
// (GNU tar manual, "Storing Sparse Files", format 1.0): a PAX header
// with GNU.sparse.name and GNU.sparse.realsize, then a member whose data
// starts with the map (the number of regions, then each one's offset and
// size, one number a line, padded to a block) and holds the regions' bytes
// only. Go's archive/tar reads it, and cannot write it.
func sparseMember(x Member) []byte {
	records := ""
	for _, kv := range [][2]string{{"GNU.sparse.major", "1"}, {"GNU.sparse.minor", "0"}, {"GNU.sparse.name", x.Name},
		{"GNU.sparse.realsize", strconv.FormatInt(x.Sparse, 10)}} {
		records += paxRecord(kv[0], kv[1])
	}
	sparseMap := pad([]byte(fmt.Sprintf("1\n%d\n%d\n", x.Sparse-int64(len(x.Data)), len(x.Data))))
	var b bytes.Buffer
	b.Write(ustarHeader("PaxHeaders/"+path.Base(x.Name), 'x', int64(len(records))))
	b.Write(pad([]byte(records)))
	b.Write(ustarHeader(path.Join(path.Dir(x.Name), "GNUSparseFile.0", path.Base(x.Name)), '0', int64(len(sparseMap)+len(x.Data))))
	b.Write(sparseMap)
	b.Write(pad(x.Data))
	return b.Bytes()
}

// paxRecord is "LEN key=value\n", LEN counting itself.
func paxRecord(k, v string) string {
	rest := " " + k + "=" + v + "\n"
	n := len(rest) + 1
	for len(strconv.Itoa(n))+len(rest) != n {
		n++
	}
	return strconv.Itoa(n) + rest
}

func pad(b []byte) []byte {
	if r := len(b) % 512; r != 0 {
		b = append(b, make([]byte, 512-r)...)
	}
	return b
}

// ustarHeader is a POSIX ustar header block.
func ustarHeader(name string, typeflag byte, size int64) []byte {
	b := make([]byte, 512)
	copy(b[0:100], name)
	copy(b[100:108], "0000600\x00")
	copy(b[108:116], "0000000\x00")
	copy(b[116:124], "0000000\x00")
	copy(b[124:136], fmt.Sprintf("%011o\x00", size))
	copy(b[136:148], fmt.Sprintf("%011o\x00", 1795143600))
	b[156] = typeflag
	copy(b[257:265], "ustar\x0000")
	copy(b[148:156], "        ")
	sum := 0
	for _, c := range b {
		sum += int(c)
	}
	copy(b[148:156], fmt.Sprintf("%06o\x00 ", sum))
	return b
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
		out = append(out, Member{Name: h.Name, Data: b.Bytes(), Type: h.Typeflag, Link: h.Linkname})
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
