// Package backup reads the backups the backup service writes (one tar file
// each in the deployment's backups/ directory: manifest.json first, then,
// when encrypted, manifest.hmac, then the dump and the files, each with its
// size and checksum in the manifest), checks an encrypted one against its
// passphrase (auth.go), and decides whether one may be restored into a
// deployment. It runs nothing: the cli runs the backup service through
// Docker.
package backup

import (
	"archive/tar"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Format is the manifest format backup.sh writes. This rcgen also reads
// FormatV1, whose encryption (AES-256-CBC) is not authenticated.
const (
	Format   = 2
	FormatV1 = 1
)

// RestoreMarker is the file in backups/ that marks a restore under way
// (it names the backup): the backup service takes no backup while it is
// there, and rcgen restore finishes that restore before any other.
const RestoreMarker = ".restore-in-progress"

// Manifest describes one backup (manifest.json, written by backup.sh).
type Manifest struct {
	Format            int       `json:"format"`
	Name              string    `json:"name"`
	Label             string    `json:"label"`
	Project           string    `json:"project"`
	DeploymentID      string    `json:"deployment_id"`
	Created           time.Time `json:"created"`
	RocketChatVersion string    `json:"rocketchat_version"`
	MongoDBVersion    string    `json:"mongodb_version"`
	Encrypted         bool      `json:"encrypted"`
	// Encryption says how the files of an encrypted format 2 backup are
	// sealed (auth.go).
	Encryption *Encryption `json:"encryption,omitempty"`
	Counts     Counts      `json:"counts"`
	Files      []File      `json:"files"`
	Seconds    int         `json:"seconds"`
}

// Counts is what the restore check compares: collections of Rocket.Chat's
// database and its users.
type Counts struct {
	Collections int `json:"collections"`
	Users       int `json:"users"`
}

// File is one payload file of a backup.
type File struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Archive is one backup file on disk.
type Archive struct {
	Path     string
	Size     int64
	Manifest Manifest
	// Problem says why the archive cannot be restored ("" when it can,
	// as far as its manifest and checksums go).
	Problem string
}

// Name is the archive's file name, which rcgen restore takes.
func (a Archive) Name() string { return filepath.Base(a.Path) }

// MaxManifest bounds manifest.json: a manifest is a few hundred bytes.
const MaxManifest = 64 << 10

var nameRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*-[0-9]{8}T[0-9]{6}Z(-[a-z0-9-]+)?\.tar$`)

// ErrNotBackup: the file is not a backup rcgen wrote.
var ErrNotBackup = errors.New("not an rcgen backup")

// ReadManifest reads the manifest at the start of the archive at path
// (a regular file), without reading the rest.
func ReadManifest(path string) (Manifest, int64, error) {
	f, info, err := openRegular(path)
	if err != nil {
		return Manifest{}, 0, err
	}
	defer f.Close()
	tr := tar.NewReader(f)
	h, err := tr.Next()
	if err != nil || h.Name != "manifest.json" {
		return Manifest{}, info.Size(), fmt.Errorf("%s: %w (it does not start with a manifest.json: give a file from a deployment's backups/ directory)", path, ErrNotBackup)
	}
	if err := checkMember(h); err != nil {
		return Manifest{}, info.Size(), fmt.Errorf("%s: %w (it %v)", path, ErrNotBackup, err)
	}
	if h.Size > MaxManifest {
		return Manifest{}, info.Size(), fmt.Errorf("%s: %w (its manifest.json is %d bytes)", path, ErrNotBackup, h.Size)
	}
	var m Manifest
	dec := json.NewDecoder(io.LimitReader(tr, MaxManifest))
	if err := dec.Decode(&m); err != nil {
		return Manifest{}, info.Size(), fmt.Errorf("%s: %w (its manifest.json does not parse: %v)", path, ErrNotBackup, err)
	}
	if m.Format != Format && m.Format != FormatV1 {
		return m, info.Size(), fmt.Errorf("%s: manifest format %d, and this rcgen reads formats %d and %d: use the rcgen that wrote it", path, m.Format, FormatV1, Format)
	}
	if len(m.Files) == 0 {
		return m, info.Size(), fmt.Errorf("%s: %w (its manifest lists no files)", path, ErrNotBackup)
	}
	if err := m.checkFiles(info.Size()); err != nil {
		return m, info.Size(), fmt.Errorf("%s: %w", path, err)
	}
	if m.Format == Format && m.Encrypted {
		if err := m.Encryption.check(); err != nil {
			return m, info.Size(), fmt.Errorf("%s: %w", path, err)
		}
	}
	return m, info.Size(), nil
}

// Payload names: what backup.sh writes beside manifest.json and
// manifest.hmac, with ".enc" when encrypted. No other member is read.
const (
	DumpFile  = "mongodb.archive.gz"
	FilesFile = "files.tar.gz"
	// EncSuffix ends the name of an encrypted payload.
	EncSuffix = ".enc"
)

// checkFiles checks the manifest's list of payloads before anything is
// read: names backup.sh writes (so no path leads out of anywhere), each
// once, sizes that the archive, size bytes long, can hold. A manifest
// that declares more than the file holds is refused here, before a
// sparse or forged member is hashed.
func (m Manifest) checkFiles(size int64) error {
	suffix := ""
	if m.Encrypted {
		suffix = EncSuffix
	}
	allowed := []string{DumpFile + suffix, FilesFile + suffix}
	seen := map[string]bool{}
	var total int64
	for _, f := range m.Files {
		if !slices.Contains(allowed, f.Name) {
			return fmt.Errorf("%w (its manifest lists %q, and a backup holds only %s)", ErrNotBackup, f.Name, strings.Join(allowed, " and "))
		}
		if seen[f.Name] {
			return fmt.Errorf("%w (its manifest lists %s twice)", ErrNotBackup, f.Name)
		}
		seen[f.Name] = true
		if f.Size < 0 || f.Size > size || total+f.Size > size {
			return fmt.Errorf("%w (its manifest says %s is %d bytes, more than the %d bytes of the whole file: forged, or a cut copy)", ErrNotBackup, f.Name, f.Size, size)
		}
		total += f.Size
		if b, err := hex.DecodeString(f.SHA256); err != nil || len(b) != sha256.Size {
			return fmt.Errorf("%w (its manifest's checksum of %s, %q, is not a SHA-256)", ErrNotBackup, f.Name, f.SHA256)
		}
	}
	if !seen[DumpFile+suffix] {
		return fmt.Errorf("%w (its manifest lists no %s)", ErrNotBackup, DumpFile+suffix)
	}
	return nil
}

// checkMember refuses a member rcgen would not read as it is: anything
// but a regular file (a link, a device, a directory), and a sparse file,
// whose few bytes on disk may stand for terabytes once read. Go's reader
// expands GNU sparse members (old 'S' and the PAX GNU.sparse.* forms).
func checkMember(h *tar.Header) error {
	if h.Typeflag != tar.TypeReg {
		return fmt.Errorf("holds %q as %s, and a backup holds regular files only", h.Name, typeName(h))
	}
	for k := range h.PAXRecords {
		if strings.HasPrefix(k, "GNU.sparse.") {
			return fmt.Errorf("holds %q as a sparse file (%d bytes declared), and backup.sh writes none", h.Name, h.Size)
		}
	}
	return nil
}

// typeName names a tar member's type for a message.
func typeName(h *tar.Header) string {
	switch h.Typeflag {
	case tar.TypeSymlink:
		return fmt.Sprintf("a symbolic link to %q", h.Linkname)
	case tar.TypeLink:
		return fmt.Sprintf("a hard link to %q", h.Linkname)
	case tar.TypeChar, tar.TypeBlock:
		return "a device"
	case tar.TypeFifo:
		return "a FIFO"
	case tar.TypeDir:
		return "a directory"
	case tar.TypeGNUSparse:
		return fmt.Sprintf("a sparse file (%d bytes declared)", h.Size)
	}
	return fmt.Sprintf("a member of type %q", h.Typeflag)
}

// Verify reads the whole archive and checks every payload file against
// the manifest's size and checksum, that an encrypted format 2 backup has
// its manifest.hmac, and that nothing else is in it. Every member's
// declared size is checked against the manifest (which ReadManifest
// checked against the file's size) before a byte of it is read, and no
// read goes past it. It needs no passphrase: Authenticate checks an
// encrypted backup against one.
func Verify(path string) (Manifest, error) {
	m, _, err := ReadManifest(path)
	if err != nil {
		return m, err
	}
	f, _, err := openRegular(path)
	if err != nil {
		return m, err
	}
	defer f.Close()
	want := map[string]File{}
	for _, x := range m.Files {
		want[x.Name] = x
	}
	authenticated := m.Format == Format && m.Encrypted
	seen := map[string]bool{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return m, fmt.Errorf("%s is damaged (%v): take another backup, or restore an older one", path, err)
		}
		if seen[h.Name] {
			return m, fmt.Errorf("%s holds %s twice: it was changed after it was written", path, h.Name)
		}
		if err := checkMember(h); err != nil {
			return m, fmt.Errorf("%s %v: it was forged or changed after it was written; restore another backup", path, err)
		}
		if h.Name == "manifest.json" || h.Name == MACFile && authenticated {
			if h.Size > MaxManifest {
				return m, fmt.Errorf("%s: %w (its %s is %d bytes)", path, ErrNotBackup, h.Name, h.Size)
			}
			seen[h.Name] = true
			continue
		}
		x, ok := want[h.Name]
		if !ok {
			return m, fmt.Errorf("%s holds %q, which its manifest does not list: it was changed after it was written; restore another backup", path, h.Name)
		}
		if h.Size != x.Size {
			return m, fmt.Errorf("%s is damaged: %s is %d bytes and its manifest says %d (forged, or a cut copy): restore another backup", path, h.Name, h.Size, x.Size)
		}
		sum := sha256.New()
		n, err := io.Copy(sum, io.LimitReader(tr, x.Size))
		if err != nil {
			return m, fmt.Errorf("%s is damaged (%v): take another backup, or restore an older one", path, err)
		}
		if n != x.Size || hex.EncodeToString(sum.Sum(nil)) != x.SHA256 {
			return m, fmt.Errorf("%s is damaged: %s does not match its checksum in the manifest (a truncated copy?): restore another backup", path, h.Name)
		}
		seen[h.Name] = true
	}
	if authenticated {
		want[MACFile] = File{}
	}
	for _, name := range slices.Sorted(maps.Keys(want)) {
		if !seen[name] {
			return m, fmt.Errorf("%s is incomplete: %s is missing (a truncated copy?): restore another backup", path, name)
		}
	}
	return m, nil
}

// List reads the manifests of the backups in dir, newest first. A missing
// directory is no backups yet.
func List(dir string) ([]Archive, error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []Archive
	for _, e := range entries {
		if !nameRe.MatchString(e.Name()) {
			continue
		}
		a := Archive{Path: filepath.Join(dir, e.Name())}
		m, size, err := ReadManifest(a.Path)
		a.Size, a.Manifest = size, m
		if err != nil {
			a.Problem = err.Error()
		}
		out = append(out, a)
	}
	slices.SortFunc(out, func(a, b Archive) int { return strings.Compare(b.Name(), a.Name()) })
	return out, nil
}

func openRegular(path string) (*os.File, fs.FileInfo, error) {
	info, err := os.Lstat(path)
	if err != nil {
		return nil, nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, nil, fmt.Errorf("%s is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	return f, info, nil
}
