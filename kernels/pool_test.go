package kernels

import (
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
)

// withThreads runs f with SetThreads(n) and restores the default after.
func withThreads(t testing.TB, n int, f func()) {
	t.Helper()
	SetThreads(n)
	defer SetThreads(0)
	f()
}

// checkCover runs ParallelFor(n) and checks that every index is visited
// exactly once, through contiguous non-empty chunks, at most Threads().
func checkCover(t *testing.T, n int) {
	t.Helper()
	hits := make([]atomic.Int32, n)
	var calls atomic.Int32
	ParallelFor(n, func(lo, hi int) {
		calls.Add(1)
		if lo >= hi || lo < 0 || hi > n {
			t.Errorf("n=%d: bad chunk [%d, %d)", n, lo, hi)
			return
		}
		for i := lo; i < hi; i++ {
			hits[i].Add(1)
		}
	})
	for i := range hits {
		if h := hits[i].Load(); h != 1 {
			t.Fatalf("n=%d: index %d visited %d times", n, i, h)
		}
	}
	if c := int(calls.Load()); c > Threads() || (n > 0 && c < min(n, Threads())) {
		t.Errorf("n=%d: %d chunks with Threads()=%d", n, c, Threads())
	}
}

func TestParallelForCoversEachIndexOnce(t *testing.T) {
	for _, th := range []int{1, 2, 3, 0} {
		withThreads(t, th, func() {
			for _, n := range []int{0, 1, 2, 3, 5, 7, 64, 1000, 4097} {
				checkCover(t, n)
			}
		})
	}
}

func TestParallelForNegative(t *testing.T) {
	ParallelFor(-3, func(lo, hi int) { t.Errorf("fn called with [%d, %d) for n < 0", lo, hi) })
}

func TestParallelForNested(t *testing.T) {
	withThreads(t, 0, func() {
		const outer, inner = 6, 50
		var hits [outer * inner]atomic.Int32
		ParallelFor(outer, func(lo, hi int) {
			for i := lo; i < hi; i++ {
				ParallelFor(inner, func(l2, h2 int) {
					for j := l2; j < h2; j++ {
						// and one level deeper
						ParallelFor(1, func(_, _ int) { hits[i*inner+j].Add(1) })
					}
				})
			}
		})
		for i := range hits {
			if h := hits[i].Load(); h != 1 {
				t.Fatalf("index %d visited %d times", i, h)
			}
		}
	})
}

func TestParallelForConcurrentCallers(t *testing.T) {
	const callers, rounds, n = 8, 50, 300
	var wg sync.WaitGroup
	errs := make(chan string, callers)
	for g := 0; g < callers; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := 0; r < rounds; r++ {
				var sum atomic.Int64
				ParallelFor(n, func(lo, hi int) {
					for i := lo; i < hi; i++ {
						sum.Add(int64(i))
					}
					if r%5 == 0 { // some nested work too
						ParallelFor(4, func(_, _ int) {})
					}
				})
				if s := sum.Load(); s != n*(n-1)/2 {
					errs <- "wrong sum"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Fatal(e)
	}
	// The pool is bounded: never more workers than GOMAXPROCS-1.
	if s, p := int(started.Load()), runtime.GOMAXPROCS(0); s > max(p-1, 0) {
		t.Errorf("%d workers started with GOMAXPROCS %d", s, p)
	}
}

func TestSetThreadsOne(t *testing.T) {
	withThreads(t, 1, func() {
		if Threads() != 1 {
			t.Fatalf("Threads() = %d after SetThreads(1)", Threads())
		}
		var calls int // no atomics: must all run on this goroutine
		ParallelFor(100, func(lo, hi int) {
			calls++
			if lo != 0 || hi != 100 {
				t.Errorf("chunk [%d, %d), want [0, 100)", lo, hi)
			}
		})
		if calls != 1 {
			t.Errorf("fn called %d times with one thread", calls)
		}
	})
}

func TestThreadsFollowsGOMAXPROCS(t *testing.T) {
	SetThreads(0)
	if Threads() != runtime.GOMAXPROCS(0) {
		t.Errorf("Threads() = %d, GOMAXPROCS = %d", Threads(), runtime.GOMAXPROCS(0))
	}
	withThreads(t, 1<<20, func() {
		if Threads() != runtime.GOMAXPROCS(0) {
			t.Errorf("Threads() = %d above GOMAXPROCS %d", Threads(), runtime.GOMAXPROCS(0))
		}
	})
	prev := runtime.GOMAXPROCS(1)
	defer runtime.GOMAXPROCS(prev)
	if Threads() != 1 {
		t.Errorf("Threads() = %d with GOMAXPROCS 1", Threads())
	}
}

// Steady-state calls start no goroutines: the workers are persistent.
func TestParallelForNoGoroutinePerCall(t *testing.T) {
	ParallelFor(8, func(_, _ int) {})
	before := runtime.NumGoroutine()
	for i := 0; i < 200; i++ {
		ParallelFor(8, func(_, _ int) {})
	}
	if after := runtime.NumGoroutine(); after > before {
		t.Errorf("goroutines grew from %d to %d", before, after)
	}
}

func TestParallelForNoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	var sink atomic.Int64
	fn := func(lo, hi int) { sink.Add(int64(hi - lo)) }
	for i := 0; i < 10; i++ {
		ParallelFor(64, fn)
	}
	if got := testing.AllocsPerRun(100, func() { ParallelFor(64, fn) }); got != 0 {
		t.Errorf("%v allocs per ParallelFor", got)
	}
}

// spin does about d nanoseconds of arithmetic per index.
func spin(iters int) float64 {
	x := 1.0
	for i := 0; i < iters; i++ {
		x = x*1.0000001 + 1e-9
	}
	return x
}

// BenchmarkParallelFor measures a fork-join of 2 chunks, each of a few
// microseconds of work; compare with the Serial variant for the overhead.
func BenchmarkParallelFor(b *testing.B) {
	for _, iters := range []int{0, 2000, 20000} {
		var sink atomic.Int64
		fn := func(lo, hi int) {
			for i := lo; i < hi; i++ {
				sink.Add(int64(spin(iters)))
			}
		}
		b.Run(fmt.Sprintf("pool/iters=%d", iters), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ParallelFor(2, fn)
			}
		})
		b.Run(fmt.Sprintf("serial/iters=%d", iters), func(b *testing.B) {
			for b.Loop() {
				fn(0, 2)
			}
		})
	}
}
