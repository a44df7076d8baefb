package kernels

import (
	"runtime"
	"sync"
)

// STUB pool: to be replaced by one bounded worker pool.

var threads = runtime.GOMAXPROCS(0)

// SetThreads sets how many goroutines kernels may use at once; n < 1
// means GOMAXPROCS.
func SetThreads(n int) {
	if n < 1 {
		n = runtime.GOMAXPROCS(0)
	}
	threads = n
}

// Threads reports the number of goroutines kernels may use at once.
func Threads() int { return threads }

// ParallelFor splits [0, n) into at most Threads() contiguous chunks and
// runs fn on each, returning when all are done. fn must be safe to call
// concurrently on disjoint ranges.
func ParallelFor(n int, fn func(lo, hi int)) {
	t := threads
	if t > n {
		t = n
	}
	if t <= 1 {
		if n > 0 {
			fn(0, n)
		}
		return
	}
	var wg sync.WaitGroup
	for i := 0; i < t; i++ {
		lo, hi := i*n/t, (i+1)*n/t
		wg.Add(1)
		go func() { defer wg.Done(); fn(lo, hi) }()
	}
	wg.Wait()
}
