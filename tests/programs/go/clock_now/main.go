// clock_now MS: prints time.Now() as Unix seconds, sleeps MS milliseconds,
// and prints how long the sleep took by the monotonic clock (Go reads both
// through the vDSO symbols it finds itself at start-up):
//
//	now S.N
//	slept_ms X
package main

import (
	"fmt"
	"os"
	"strconv"
	"time"
)

func main() {
	ms := 0
	if len(os.Args) > 1 {
		ms, _ = strconv.Atoi(os.Args[1])
	}
	start := time.Now()
	fmt.Printf("now %d.%09d\n", start.Unix(), start.Nanosecond())
	time.Sleep(time.Duration(ms) * time.Millisecond)
	fmt.Printf("slept_ms %d\n", time.Since(start).Milliseconds())
}
