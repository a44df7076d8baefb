package kernels

import (
	"runtime"
	"sync"
	"sync/atomic"
	"time"
)

// The worker pool: a bounded set of persistent goroutines that help
// callers of forkJoin. A caller never waits for a worker to become free:
// it posts its job to idle workers (if any), then claims and runs tasks
// itself until none is left, and finally waits only for tasks that other
// goroutines have already started. So a job always completes even when
// every worker is busy, which makes nested and concurrent calls safe.

// threadSetting is the value given to SetThreads; 0 means GOMAXPROCS.
var threadSetting atomic.Int64

// SetThreads sets how many goroutines (the caller included) a kernel call
// may use at once. n < 1 means GOMAXPROCS, read at each call. The
// effective count never exceeds GOMAXPROCS.
func SetThreads(n int) {
	if n < 1 {
		n = 0
	}
	threadSetting.Store(int64(n))
}

// Threads reports how many goroutines, the caller included, a kernel call
// may use at once: the SetThreads value capped at GOMAXPROCS.
func Threads() int {
	p := runtime.GOMAXPROCS(0)
	if t := int(threadSetting.Load()); t > 0 && t < p {
		return t
	}
	return p
}

// ParallelFor splits [0, n) into at most Threads() contiguous chunks of
// near-equal size and calls fn once for each, from the caller and from
// the package's worker goroutines, returning when all calls are done.
// fn must be safe to call concurrently on disjoint ranges.
//
// ParallelFor may be called from several goroutines at once and from
// inside fn itself: when no worker is free, the caller runs the chunks
// itself. A panic in fn running on a worker goroutine ends the program.
func ParallelFor(n int, fn func(lo, hi int)) {
	if n <= 0 {
		return
	}
	t := min(Threads(), n)
	if t <= 1 {
		fn(0, n)
		return
	}
	forkJoinFunc(t, nil, fn, n, t)
}

// runner is a body of tasks numbered from 0.
type runner interface{ run(i int) }

// job is one forkJoin call. Its tasks are claimed by incrementing the low
// half of state; the high half is a generation number, bumped each time
// the job is reused. A worker is posted the job together with the
// generation it was posted for, and can claim a task only while both
// match, so a worker that picks up a post late (after the call is over,
// or the job reused) just drops it. A job goes back to the free list as
// soon as its tasks are done. Task i runs body.run(i), or when body is
// nil fn on the i-th of tasks near-equal chunks of [0, n).
type job struct {
	state  atomic.Uint64 // generation<<32 | next task to claim
	tasks  atomic.Int64
	done   atomic.Int64
	body   runner
	fn     func(lo, hi int)
	n      int
	finish chan struct{} // receives once, when the last task is done
}

// post is a job offered to a worker, for one generation of it.
type post struct {
	j   *job
	gen uint32
}

// jobFree keeps finished jobs for reuse; it survives garbage collection,
// unlike a sync.Pool, so steady-state calls allocate nothing.
var jobFree = make(chan *job, 64)

// work carries posts to idle workers. idle counts workers polling or
// blocked on it, started counts workers ever started (they never exit).
var (
	work    = make(chan post, 64)
	idle    atomic.Int32
	started atomic.Int32
	startMu sync.Mutex
)

// claim takes the next task of generation gen of j, or returns -1 when
// none is left or the job has moved on to another generation.
func (j *job) claim(gen uint32) int {
	for {
		s := j.state.Load()
		if uint32(s>>32) != gen {
			return -1
		}
		next := int64(uint32(s))
		if next >= j.tasks.Load() {
			return -1
		}
		if j.state.CompareAndSwap(s, s+1) {
			return int(next)
		}
	}
}

// helpOut runs tasks of generation gen of j until none is left.
func (j *job) helpOut(gen uint32) {
	for {
		i := j.claim(gen)
		if i < 0 {
			return
		}
		tasks := int(j.tasks.Load())
		if j.body != nil {
			j.body.run(i)
		} else {
			j.fn(i*j.n/tasks, (i+1)*j.n/tasks)
		}
		if j.done.Add(1) == int64(tasks) {
			j.finish <- struct{}{}
		}
	}
}

// spinFor is how long a worker that ran out of work keeps polling for
// more before it parks (and how long a caller polls for its helpers to
// finish). Waking a parked goroutine took 50-200 µs on the 2-vCPU VM this
// was tuned on, which would lose the next fork-join of a run of kernel
// calls; polling (with runtime.Gosched, so it yields to any other
// goroutine) hands work over in about a microsecond. Longer windows did
// not help there: with other processes competing for the CPUs, a thread
// that spins longer is scheduled worse when it has real work.
const spinFor = 200 * time.Microsecond

func worker() {
	for {
		idle.Add(1)
		p, ok := pollWork()
		if !ok {
			p = <-work
		}
		idle.Add(-1)
		p.j.helpOut(p.gen)
	}
}

// pollWork polls work for up to spinFor and reports whether a post came.
func pollWork() (post, bool) {
	var t0 time.Time
	for i := 0; ; i++ {
		select {
		case p := <-work:
			return p, true
		default:
		}
		if i&63 == 0 {
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > spinFor {
				return post{}, false
			}
		}
		runtime.Gosched()
	}
}

// forkJoin runs body.run(i) for every i in [0, tasks) using up to
// threads goroutines (the caller included) and returns when all are done.
func forkJoin(tasks int, body runner, threads int) {
	forkJoinFunc(tasks, body, nil, 0, threads)
}

// forkJoinFunc is forkJoin for either a runner or a chunked function.
func forkJoinFunc(tasks int, body runner, fn func(lo, hi int), n int, threads int) {
	if tasks <= 0 {
		return
	}
	helpers := min(tasks, threads) - 1
	if helpers <= 0 {
		for i := 0; i < tasks; i++ {
			if body != nil {
				body.run(i)
			} else {
				fn(i*n/tasks, (i+1)*n/tasks)
			}
		}
		return
	}
	var j *job
	select {
	case j = <-jobFree:
	default:
		j = &job{finish: make(chan struct{}, 1)}
	}
	// Move to a new generation with no task claimable (next at its
	// maximum) before touching the fields, then open it.
	gen := uint32(j.state.Load()>>32) + 1
	j.state.Store(uint64(gen)<<32 | 0xffffffff)
	j.body, j.fn, j.n = body, fn, n
	j.tasks.Store(int64(tasks))
	j.done.Store(0)
	j.state.Store(uint64(gen) << 32)

	// Grow the pool up to threads-1 workers, never more than GOMAXPROCS-1;
	// in steady state it is full and nothing is started.
	if want := min(threads, runtime.GOMAXPROCS(0)) - 1; int(started.Load()) < want {
		startMu.Lock()
		for int(started.Load()) < want {
			started.Add(1)
			go worker()
		}
		startMu.Unlock()
	}
	for h := min(helpers, int(idle.Load())); h > 0; h-- {
		select {
		case work <- post{j, gen}:
		default:
			h = 0
		}
	}
	j.helpOut(gen)
	// The tasks still running were claimed by workers that are running
	// now; they usually end soon, so poll a while before parking.
	var t0 time.Time
	for i := 0; j.done.Load() < int64(tasks); i++ {
		if i&63 == 0 {
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > spinFor {
				break
			}
		}
		runtime.Gosched()
	}
	<-j.finish
	j.body, j.fn = nil, nil
	select {
	case jobFree <- j:
	default:
	}
}
