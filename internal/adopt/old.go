// Package adopt brings a Rocket.Chat deployment rcgen did not write (the
// official compose files, the Bitnami era, a single docker run) over into
// an rcgen deployment: Read and Inspect find what runs, Probe asks the
// running stack what the files cannot say, Plan (pure) decides the target
// and the data moves or refuses with reasons, and Steps lists the commands
// that do it, none of which writes to the old directory or volumes.
package adopt

import (
	"context"
	"fmt"
	"strings"
)

// Runner runs docker with args in dir and returns its standard output
// (stack.Runner's shape).
type Runner func(ctx context.Context, dir string, args ...string) ([]byte, error)

// Layout is how the old deployment was started.
type Layout string

// Layouts.
const (
	LayoutCompose   Layout = "compose"
	LayoutContainer Layout = "docker-run"
)

// Old is what the old deployment runs, as read from its files and the
// running stack.
type Old struct {
	Layout Layout `json:"layout"`
	// Dir is --from; Files the compose files read, in order.
	Dir   string   `json:"dir"`
	Files []string `json:"files,omitempty"`
	// Project is the compose project name (or the container's name).
	Project string `json:"project"`
	// Network is the network the old app reaches MongoDB on.
	Network string `json:"network"`

	// App is the Rocket.Chat service (or container) name.
	App string `json:"app_service"`
	// Image is the app image and Tag its tag; Version the release ("" until
	// known: a tag "latest" is read through /api/info).
	Image   string `json:"image"`
	Tag     string `json:"tag"`
	Version string `json:"rocketchat"`
	// Port is the app's container port (PORT, 3000).
	Port string `json:"port"`

	RootURL string `json:"root_url"`
	Domain  string `json:"domain"`
	// License says a licence is set (ROCKETCHAT_LICENSE or
	// REG_TOKEN/cloud registration); the value is never kept.
	License bool `json:"license"`
	// SMTP is the mail server the app is told (OVERWRITE_SETTING_SMTP_Host
	// with its port), "" when none.
	SMTP string `json:"smtp,omitempty"`
	// Proxy is "traefik" (the official compose.traefik.yml, or labels) or
	// "none"; Email the ACME account email it uses, CertResolver whether
	// Let's Encrypt is on.
	Proxy       string   `json:"proxy"`
	Email       string   `json:"email,omitempty"`
	LetsEncrypt bool     `json:"lets_encrypt"`
	Stop        []string `json:"stop"`

	Mongo   Mongo   `json:"mongodb"`
	Uploads Uploads `json:"uploads"`
	Sizes   Sizes   `json:"sizes"`
}

// Mongo is the old MongoDB.
type Mongo struct {
	// Service is its compose service or container, "" when external.
	Service string `json:"service,omitempty"`
	Image   string `json:"image,omitempty"`
	// Version is the server's version from the image tag ("8.2", "6.0").
	Version string `json:"version"`
	// Bitnami: bitnami/mongodb, data under /bitnami/mongodb, UID 1001.
	Bitnami bool `json:"bitnami"`
	// Volume is the data volume's Docker name, HostPath the host directory
	// when a bind mount.
	Volume   string `json:"volume,omitempty"`
	HostPath string `json:"host_path,omitempty"`
	// Auth: MONGO_URL carries a user.
	Auth       bool   `json:"auth"`
	ReplicaSet string `json:"replica_set"`
	DB         string `json:"db"`
	// URL is MONGO_URL with its password masked; url the real one, used
	// only to dump.
	URL string `json:"url"`
	url string
	// External: MONGO_URL names a host no service of the project is.
	External bool `json:"external"`
}

// Uploads is where the files users upload live.
type Uploads struct {
	// Storage is FileUpload_Storage_Type: GridFS, FileSystem, AmazonS3,
	// GoogleCloudStorage or Webdav.
	Storage string `json:"storage"`
	// Path is FileUpload_FileSystemPath (FileSystem), inside the app
	// container.
	Path string `json:"path,omitempty"`
	// Volume or HostPath hold Path on the host side.
	Volume   string `json:"volume,omitempty"`
	HostPath string `json:"host_path,omitempty"`
}

// Sizes are what the moves carry, in bytes.
type Sizes struct {
	// DataSize and StorageSize are dbStats' (the dump is about DataSize;
	// the new volume about StorageSize).
	DataSize    int64 `json:"data_size"`
	StorageSize int64 `json:"storage_size"`
	Uploads     int64 `json:"uploads"`
}

// Missing is something rcgen could not read: the flag that gives it, and
// why it was not found.
type Missing struct {
	Key  string `json:"key"`
	Flag string `json:"flag"`
	Why  string `json:"why"`
}

func (m Missing) Error() string { return fmt.Sprintf("%s: %s: give %s", m.Key, m.Why, m.Flag) }

// Keys of what may be missing.
const (
	KeyVersion = "rocketchat-version"
	KeyDomain  = "domain"
	KeyEmail   = "email"
	KeyUploads = "uploads"
	KeyMongo   = "mongodb"
)

// SetURL records the real MONGO_URL and its masked form.
func (m *Mongo) SetURL(u string) { m.url = u; m.URL = maskURL(u) }

// RealURL is MONGO_URL unmasked (for the dump only).
func (m Mongo) RealURL() string { return m.url }

// maskURL hides a password in a mongodb:// URL.
func maskURL(u string) string {
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok {
		return u
	}
	at := strings.LastIndex(rest, "@")
	if at < 0 {
		return u
	}
	cred := rest[:at]
	if user, _, ok := strings.Cut(cred, ":"); ok {
		cred = user + ":***"
	}
	return scheme + "://" + cred + rest[at:]
}
