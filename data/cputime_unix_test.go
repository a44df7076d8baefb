//go:build unix

package data

import (
	"syscall"
	"testing"
	"time"
)

// processCPU returns the CPU time (user + system) used by the process.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuTimer reports CPU time per operation as the "cpu-ns/op" metric, a
// figure that stays meaningful when other processes compete for the cores.
func cpuTimer(b *testing.B) func() {
	start := processCPU()
	return func() {
		if b.N > 0 {
			b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
		}
	}
}
