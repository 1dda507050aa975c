// Package swarmcheck validates rcgen's Swarm stacks the way `docker stack
// deploy` reads them: docker/cli's compose loader (its v3 schema) and its
// convert package, offline. It is a module of its own so docker/cli and its
// dependencies never reach rcgen's binary or go.mod; `make test` runs it.
package swarmcheck
