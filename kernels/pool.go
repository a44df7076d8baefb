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

// job is one forkJoin call: its tasks are claimed through next. Task i
// runs body.run(i), or when body is nil fn on the i-th of tasks near-equal
// chunks of [0, n).
type job struct {
	body   runner
	fn     func(lo, hi int)
	n      int
	tasks  int64
	next   atomic.Int64
	done   atomic.Int64
	refs   atomic.Int32 // the caller plus every worker it was posted to
	finish chan struct{}
}

// jobFree keeps finished jobs for reuse; it survives garbage collection,
// unlike a sync.Pool, so steady-state calls allocate nothing.
var jobFree = make(chan *job, 64)

// work carries jobs to idle workers. idle counts workers blocked on it,
// started counts workers ever started (they never exit).
var (
	work    = make(chan *job, 64)
	idle    atomic.Int32
	started atomic.Int32
	startMu sync.Mutex
)

// helpOut runs tasks of j until none is left.
func (j *job) helpOut() {
	for {
		i := j.next.Add(1) - 1
		if i >= j.tasks {
			return
		}
		if j.body != nil {
			j.body.run(int(i))
		} else {
			t := j.tasks
			j.fn(int(i*int64(j.n)/t), int((i+1)*int64(j.n)/t))
		}
		if j.done.Add(1) == j.tasks {
			j.finish <- struct{}{}
		}
	}
}

func (j *job) release() {
	if j.refs.Add(-1) == 0 {
		j.body, j.fn = nil, nil
		select {
		case jobFree <- j:
		default:
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
		j := pollWork()
		if j == nil {
			j = <-work
		}
		idle.Add(-1)
		j.helpOut()
		j.release()
	}
}

// pollWork polls work for up to spinFor and returns nil if none came.
func pollWork() *job {
	var t0 time.Time
	for i := 0; ; i++ {
		select {
		case j := <-work:
			return j
		default:
		}
		if i&63 == 0 {
			if i == 0 {
				t0 = time.Now()
			} else if time.Since(t0) > spinFor {
				return nil
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
	j.body, j.fn, j.n = body, fn, n
	j.tasks = int64(tasks)
	j.next.Store(0)
	j.done.Store(0)
	j.refs.Store(1)

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
		j.refs.Add(1)
		select {
		case work <- j:
		default:
			j.refs.Add(-1)
			h = 0
		}
	}
	j.helpOut()
	// The tasks still running were claimed by workers that are running
	// now; they usually end soon, so poll a while before parking.
	var t0 time.Time
	for i := 0; j.done.Load() < j.tasks; i++ {
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
	j.release()
}
