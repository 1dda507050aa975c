// Command rcgen generates a complete, validated Docker Compose deployment of
// Rocket.Chat sized for a host.
package main

import (
	"os"

	"github.com/rcgen/rcgen/internal/cli"
)

func main() { os.Exit(cli.Main()) }
