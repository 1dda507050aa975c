package main

// version is the contrib release every collector module here is pinned
// to; scripts/install-test-tools names the binary after it.
const version = "0.161.0"
