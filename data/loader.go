package data

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
)

// LoaderOptions configures a Loader.
type LoaderOptions struct {
	// Transform resizes, crops and flips each image; CropSize is required.
	Transform Transform
	// Seed fixes the shuffling and the augmentation. The sample at stream
	// position i is file perm_e[i mod n] of epoch e = i / n, where perm_e is
	// a permutation seeded by (Seed, e), augmented with a generator seeded
	// by (Seed, i).
	Seed uint64
	// Start is the first stream position to read (to resume a run).
	Start int64
	// Workers is the number of decoding goroutines; 0 means GOMAXPROCS.
	Workers int
	// Prefetch bounds the number of samples decoded ahead of the reader
	// (and so the loader's memory); 0 means max(8, 4×Workers).
	Prefetch int
	// Sequential reads the files in the order given, every epoch, instead of
	// shuffling them.
	Sequential bool
	// Decode is passed to DecodeFile.
	Decode DecodeOptions
	// Name is the folder named in errors; empty means the paths' common
	// parent folder.
	Name string
	// OnSkip, if set, is called from Next, in stream order, once for each
	// file that cannot be used, with the decoding error.
	OnSkip func(path string, err error)
}

// Loader streams augmented training samples from image files, decoding
// them in a pool of worker goroutines that runs ahead of the reader, in
// parallel with training. Its output is a pure function of (Seed, position)
// whatever the number of workers and their timing. Files that fail to
// decode are skipped (the stream moves on to the next position) and
// counted. A Loader is not safe for concurrent use by several goroutines.
type Loader struct {
	paths     []string
	opt       LoaderOptions
	name      string
	sampleLen int
	workers   int
	prefetch  int
	bufs      [][]float32

	badMu sync.Mutex
	bad   map[int]error // files known to fail, shared with the workers

	reported map[int]bool // files reported through OnSkip (reader only)
	pos      int64
	closed   bool

	quit  chan struct{}
	order chan *job
	free  chan []float32
	wg    sync.WaitGroup
}

type job struct {
	pos  int64
	idx  int
	out  []float32
	err  error
	done chan struct{}
}

// NewLoader returns a Loader over paths and starts its workers. It returns
// an error when paths is empty or the options are invalid.
func NewLoader(paths []string, opt LoaderOptions) (*Loader, error) {
	name := opt.Name
	if name == "" {
		name = commonDir(paths)
	}
	if len(paths) == 0 {
		return nil, fmt.Errorf("%s: no image files to load", name)
	}
	if err := opt.Transform.Validate(); err != nil {
		return nil, err
	}
	if opt.Start < 0 {
		return nil, fmt.Errorf("data: negative start position %d", opt.Start)
	}
	l := &Loader{
		paths:     append([]string(nil), paths...),
		opt:       opt,
		name:      name,
		sampleLen: opt.Transform.SampleLen(),
		workers:   opt.Workers,
		prefetch:  opt.Prefetch,
		bad:       map[int]error{},
		reported:  map[int]bool{},
	}
	if l.workers <= 0 {
		l.workers = runtime.GOMAXPROCS(0)
	}
	if l.prefetch <= 0 {
		l.prefetch = max(8, 4*l.workers)
	}
	l.bufs = make([][]float32, l.prefetch)
	for i := range l.bufs {
		l.bufs[i] = make([]float32, l.sampleLen)
	}
	l.start(opt.Start)
	return l, nil
}

// NewFolderLoader indexes dir with IndexDir and returns a Loader over its
// images; errors name dir.
func NewFolderLoader(dir string, opt LoaderOptions) (*Loader, error) {
	paths, err := IndexDir(dir)
	if err != nil {
		return nil, err
	}
	if opt.Name == "" {
		opt.Name = dir
	}
	return NewLoader(paths, opt)
}

// commonDir returns the longest folder that contains every path.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return "."
	}
	d := filepath.Dir(paths[0])
	for _, p := range paths[1:] {
		for d != "." && d != string(filepath.Separator) && !strings.HasPrefix(p, d+string(filepath.Separator)) {
			d = filepath.Dir(d)
		}
	}
	return d
}

// start launches the dispatcher and the workers at stream position pos.
func (l *Loader) start(pos int64) {
	l.pos = pos
	l.quit = make(chan struct{})
	l.order = make(chan *job, l.prefetch)
	l.free = make(chan []float32, l.prefetch)
	for _, b := range l.bufs {
		l.free <- b
	}
	jobs := make(chan *job, l.prefetch)
	quit, order, free := l.quit, l.order, l.free
	n := int64(len(l.paths))

	l.wg.Add(1)
	go func() { // dispatcher: hands out positions in order
		defer l.wg.Done()
		defer close(jobs)
		var perm []int
		epoch := int64(-1)
		for p := pos; ; p++ {
			var buf []float32
			select {
			case buf = <-free:
			case <-quit:
				return
			}
			idx := int(p % n)
			if !l.opt.Sequential {
				if e := p / n; e != epoch {
					perm, epoch = permutation(l.opt.Seed, e, len(l.paths)), e
				}
				idx = perm[idx]
			}
			j := &job{pos: p, idx: idx, out: buf, done: make(chan struct{})}
			select {
			case order <- j:
			case <-quit:
				return
			}
			select {
			case jobs <- j:
			case <-quit:
				return
			}
		}
	}()
	for w := 0; w < l.workers; w++ {
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			for j := range jobs {
				select {
				case <-quit:
					j.err = errStopped
				default:
					j.err = l.load(j)
				}
				close(j.done)
			}
		}()
	}
}

var errStopped = errors.New("data: loader stopped")

// load decodes and augments the file of job j into j.out.
func (l *Loader) load(j *job) error {
	l.badMu.Lock()
	err, known := l.bad[j.idx]
	l.badMu.Unlock()
	if known {
		return err
	}
	img, err := DecodeFile(l.paths[j.idx], l.opt.Decode)
	if err != nil {
		l.badMu.Lock()
		l.bad[j.idx] = err
		l.badMu.Unlock()
		return err
	}
	// The transform runs under recover too: a file must never bring down
	// the training run.
	err = safely(func() error {
		crop, flip := l.opt.Transform.Crop(img, newRand(l.opt.Seed, streamAugment, uint64(j.pos)))
		toCHW(crop, j.out, flip)
		return nil
	})
	if err != nil {
		// Not cached in l.bad: the outcome may depend on the position's
		// crop, and caching it would make the stream depend on timing.
		err = &DecodeError{Name: l.paths[j.idx], Kind: ErrCorrupt, Reason: "cannot resize: " + err.Error(), Err: err}
	}
	return err
}

// stop ends the pipeline and waits for its goroutines.
func (l *Loader) stop() {
	if l.quit == nil {
		return
	}
	close(l.quit)
	l.wg.Wait()
	l.quit = nil
}

// Next fills dst with the next len(dst)/SampleLen() samples. Unusable files
// are skipped (see LoaderOptions.OnSkip); once every file has failed, Next
// returns an error "no usable images in DIR".
func (l *Loader) Next(dst []float32) error {
	if l.closed {
		return errors.New("data: Next on a closed Loader")
	}
	if len(dst) == 0 || len(dst)%l.sampleLen != 0 {
		return fmt.Errorf("data: batch buffer of %d values is not a positive multiple of the sample size %d", len(dst), l.sampleLen)
	}
	for s := 0; s < len(dst); {
		j := <-l.order
		<-j.done
		l.pos = j.pos + 1
		if j.err != nil {
			l.free <- j.out
			if !l.reported[j.idx] {
				l.reported[j.idx] = true
				if l.opt.OnSkip != nil {
					l.opt.OnSkip(l.paths[j.idx], j.err)
				}
			}
			if len(l.reported) == len(l.paths) {
				return fmt.Errorf("no usable images in %s (all %d files failed to decode)", l.name, len(l.paths))
			}
			continue
		}
		copy(dst[s:s+l.sampleLen], j.out)
		l.free <- j.out
		s += l.sampleLen
	}
	return nil
}

// SetPosition restarts the stream at position pos; the samples that follow are
// the same as those of a Loader created with Start = pos.
func (l *Loader) SetPosition(pos int64) error {
	if l.closed {
		return errors.New("data: SetPosition on a closed Loader")
	}
	if pos < 0 {
		return fmt.Errorf("data: negative position %d", pos)
	}
	l.stop()
	l.start(pos)
	return nil
}

// Position returns the stream position of the next sample.
func (l *Loader) Position() int64 { return l.pos }

// Skipped returns the number of distinct files found unusable so far.
func (l *Loader) Skipped() int { return len(l.reported) }

// Len returns the number of files, the length of one epoch.
func (l *Loader) Len() int { return len(l.paths) }

// SampleLen returns 3×CropSize×CropSize.
func (l *Loader) SampleLen() int { return l.sampleLen }

// Size returns the crop size.
func (l *Loader) Size() int { return l.opt.Transform.CropSize }

// Close stops the workers. It is safe to call more than once.
func (l *Loader) Close() error {
	if !l.closed {
		l.closed = true
		l.stop()
	}
	return nil
}

var _ Source = (*Loader)(nil)
