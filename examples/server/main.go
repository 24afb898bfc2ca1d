// Command server is authplug's example server: the sample OAuth extension
// and servercmd, which is all a builder's own server needs.
//
//	go run ./examples/server
//	go run ./examples/server help
package main

import (
	_ "github.com/authplug/authplug/examples/oauth"

	"github.com/authplug/authplug/servercmd"
)

func main() { servercmd.Main() }
