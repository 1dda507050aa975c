// Package templates holds the files rcgen renders, embedded into the binary.
package templates

import "embed"

// FS is every template, keyed by its path under templates/.
//
//go:embed compose caddy traefik prometheus grafana mongodb docs alertmanager backup swarm proxy kubernetes loki otelcol
var FS embed.FS
