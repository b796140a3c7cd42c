// Command island renders a personal site from Markdown, stores it as
// content-addressed IPFS blocks and serves it to peers and browsers.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/islandsite/island/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := cli.Run(ctx, os.Args[1:], cli.StdEnv())
	stop()
	os.Exit(code)
}
