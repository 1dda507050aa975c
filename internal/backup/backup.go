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
	if m.Format == Format && m.Encrypted {
		if err := m.Encryption.check(); err != nil {
			return m, info.Size(), fmt.Errorf("%s: %w", path, err)
		}
	}
	return m, info.Size(), nil
}

// Verify reads the whole archive and checks every payload file against
// the manifest's size and checksum, that an encrypted format 2 backup has
// its manifest.hmac, and that nothing else is in it. It needs no
// passphrase: Authenticate checks an encrypted backup against one.
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
		if h.Name == "manifest.json" || h.Name == MACFile && authenticated {
			seen[h.Name] = true
			continue
		}
		x, ok := want[h.Name]
		if !ok {
			return m, fmt.Errorf("%s holds %s, which its manifest does not list: it was changed after it was written", path, h.Name)
		}
		sum := sha256.New()
		n, err := io.Copy(sum, tr)
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
