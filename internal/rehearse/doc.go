// Package rehearse boots what of a generated deployment can run without
// Docker, in network namespaces of its own, and checks the wiring end to
// end: the real Caddy or Traefik (the images' versions; for traefik-labels
// the operator's Traefik, reading our labels from a stand-in of the Docker
// Engine API) in front of stand-in app processes, the real Prometheus,
// Alertmanager, NATS and node exporter (Debian's), stand-ins for
// Rocket.Chat, Grafana and the exporters. It is all in its tests; `make
// rehearse` runs them.
package rehearse
