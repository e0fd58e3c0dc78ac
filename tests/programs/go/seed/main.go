// The seed program: writes "some great stuff" to test.txt in its working
// directory, ignoring the result of the write, and exits 0.
package main

import "os"

func main() {
	f, err := os.Create("test.txt")
	if err != nil {
		os.Exit(1)
	}
	_, _ = f.Write([]byte("some great stuff"))
	_ = f.Close()
}
