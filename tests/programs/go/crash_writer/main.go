// crash_writer FILE sync|nosync ACK: replaces FILE's contents with
// "version 2" lines (os.Create truncates it), calls f.Sync() (fsync) with
// "sync", then writes "ack" to ACK (meant to lie outside the crash root:
// the moment the program tells the world the data is safe) and exits 0.
package main

import (
	"os"
	"strings"
)

func main() {
	if len(os.Args) != 4 {
		os.Exit(2)
	}
	f, err := os.Create(os.Args[1])
	if err != nil {
		os.Exit(1)
	}
	if _, err := f.Write([]byte(strings.Repeat("version 2\n", 100))); err != nil {
		os.Exit(1)
	}
	if os.Args[2] == "sync" {
		if err := f.Sync(); err != nil {
			os.Exit(1)
		}
	}
	if err := os.WriteFile(os.Args[3], []byte("ack\n"), 0o644); err != nil {
		os.Exit(1)
	}
}
