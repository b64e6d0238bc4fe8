package main

import "runtime/debug"

// Garbage-collector settings for the long-running commands (serve, worker, and the load
// test's ceiling server, so that the two servers it compares run alike). A webhook allocates
// a few tens of kilobytes (the form, the signature check, sealing, the TwiML) that are dead
// as soon as it is answered, while the live heap is a few megabytes. Go's default (collect
// whenever the heap doubles) then collects several hundred times a second under load: at
// 8,000 messages a second on two cores, a tenth of the CPU. Letting the heap grow to five
// times the live data before collecting took the hotline's sustained rate from 8,000 to
// 10,000 messages a second on the measuring machine (docs/performance.md). The soft memory
// limit makes the collector work harder again before a small machine (Fly's 256 MB) runs
// short. GOGC and GOMEMLIMIT, when set, win.
const (
	gcPercent   = 400
	memoryLimit = 192 << 20
)

func tuneGC(getenv func(string) string) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
