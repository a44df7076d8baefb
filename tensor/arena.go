package tensor

import (
	"fmt"
	"math"
	"sync"
	"unsafe"
)

// An Arena recycles tensor storage across the steps of a loop that does
// the same work each time, such as a training step: without it, every step
// allocates (and the garbage collector and the operating system then clear)
// hundreds of megabytes.
//
// Tensors made by the arena's New and Copy belong to it, and so does every
// tensor computed from them (an operation's result belongs to the arena of
// its first input that has one; views such as Reshape and Detach share
// their source's). Reset hands all their storage back for reuse: after
// Reset, those tensors must not be used any more. Keep a result beyond a
// Reset by copying it with Clone, or reading it with Item or Values.
// Tensors made with New, Zeros, FromFloat32 and the like never belong to an
// arena. An Arena is safe for use by several goroutines.
type Arena struct {
	mu     sync.Mutex
	free32 map[int][][]float32
	free64 map[int][][]float64
	used32 map[*float32][]float32 // handed out since the last Reset
	used64 map[*float64][]float64
	inUse  int64            // bytes handed out since the last Reset
	held   int64            // bytes the arena holds, in use or free
	peak   int64            // the most bytes in use at once
	log    []unsafe.Pointer // buffers in the order handed out since the last Reset
	poison bool             // tests: fill recycled storage that is not cleared with NaN
}

// NewArena returns an empty arena.
func NewArena() *Arena {
	return &Arena{free32: map[int][][]float32{}, free64: map[int][][]float64{},
		used32: map[*float32][]float32{}, used64: map[*float64][]float64{}}
}

// New returns a zero-filled tensor that belongs to the arena.
func (a *Arena) New(dt DType, shape ...int) *Tensor { return a.newTensor(dt, true, shape...) }

// newTensor returns a tensor in the arena, zero-filled when zero is set
// (otherwise its contents are undefined and the caller overwrites them).
func (a *Arena) newTensor(dt DType, zero bool, shape ...int) *Tensor {
	checkShape(shape)
	t := &Tensor{shape: append([]int(nil), shape...), dtype: dt, arena: a}
	n := numel(shape)
	switch dt {
	case Float32:
		t.f32 = a.alloc32(n, zero)
	case Float64:
		t.f64 = a.alloc64(n, zero)
	default:
		panic("tensor: unknown dtype")
	}
	return t
}

// Copy returns a copy of x's values that belongs to the arena, with no
// graph attached.
func (a *Arena) Copy(x *Tensor) *Tensor {
	t := a.newTensor(x.dtype, false, x.shape...)
	copy(t.f32, x.f32)
	copy(t.f64, x.f64)
	return t
}

// Reset makes all storage handed out since the last Reset available again.
// Every tensor belonging to the arena becomes invalid.
func (a *Arena) Reset() {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, b := range a.used32 {
		a.free32[len(b)] = append(a.free32[len(b)], b)
	}
	for _, b := range a.used64 {
		a.free64[len(b)] = append(a.free64[len(b)], b)
	}
	clear(a.used32)
	clear(a.used64)
	clear(a.log)
	a.log = a.log[:0]
	a.inUse = 0
}

// Release drops everything the arena holds, for the garbage collector.
func (a *Arena) Release() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.free32, a.free64 = map[int][][]float32{}, map[int][][]float64{}
	a.used32, a.used64 = map[*float32][]float32{}, map[*float64][]float64{}
	a.log = nil
	a.inUse, a.held = 0, 0
}

// Bytes returns the storage handed out since the last Reset and all the
// storage the arena holds.
func (a *Arena) Bytes() (inUse, held int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.inUse, a.held
}

// Peak returns the most bytes that were in use at once.
func (a *Arena) Peak() int64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.peak
}

// String describes the arena's size.
func (a *Arena) String() string {
	u, h := a.Bytes()
	return fmt.Sprintf("Arena(%d MB in use, %d MB held)", u>>20, h>>20)
}

func (a *Arena) alloc32(n int, zero bool) []float32 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inUse += 4 * int64(n)
	a.peak = max(a.peak, a.inUse)
	var b []float32
	if l := a.free32[n]; len(l) > 0 {
		b = l[len(l)-1]
		l[len(l)-1] = nil
		a.free32[n] = l[:len(l)-1]
		if zero {
			clear(b)
		} else if a.poison {
			nan := float32(math.NaN())
			for i := range b {
				b[i] = nan
			}
		}
	} else {
		b = make([]float32, n)
		a.held += 4 * int64(n)
	}
	if n > 0 {
		a.used32[&b[0]] = b
		a.log = append(a.log, unsafe.Pointer(&b[0]))
	}
	return b
}

func (a *Arena) alloc64(n int, zero bool) []float64 {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.inUse += 8 * int64(n)
	a.peak = max(a.peak, a.inUse)
	var b []float64
	if l := a.free64[n]; len(l) > 0 {
		b = l[len(l)-1]
		l[len(l)-1] = nil
		a.free64[n] = l[:len(l)-1]
		if zero {
			clear(b)
		} else if a.poison {
			for i := range b {
				b[i] = math.NaN()
			}
		}
	} else {
		b = make([]float64, n)
		a.held += 8 * int64(n)
	}
	if n > 0 {
		a.used64[&b[0]] = b
		a.log = append(a.log, unsafe.Pointer(&b[0]))
	}
	return b
}

// Free hands the storage of t, which must belong to the arena, back
// before the next Reset: t and every tensor sharing its storage become
// invalid. It does nothing for tensors of other arenas or of the heap.
func (a *Arena) Free(t *Tensor) {
	if t != nil && t.arena == a {
		a.free(t)
	}
}

// free hands t's storage back before the next Reset; t and every tensor
// sharing its storage become invalid.
func (a *Arena) free(t *Tensor) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(t.f32) > 0 {
		if b, ok := a.used32[&t.f32[0]]; ok {
			delete(a.used32, &t.f32[0])
			a.free32[len(b)] = append(a.free32[len(b)], b)
			a.inUse -= 4 * int64(len(b))
		}
	}
	if len(t.f64) > 0 {
		if b, ok := a.used64[&t.f64[0]]; ok {
			delete(a.used64, &t.f64[0])
			a.free64[len(b)] = append(a.free64[len(b)], b)
			a.inUse -= 8 * int64(len(b))
		}
	}
}

// mark returns a position in the allocation log.
func (a *Arena) mark() int {
	a.mu.Lock()
	defer a.mu.Unlock()
	return len(a.log)
}

// freeSince hands back every buffer handed out after mark that is still in
// use and not in keep.
func (a *Arena) freeSince(mark int, keep map[unsafe.Pointer]bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if mark > len(a.log) {
		return
	}
	for _, k := range a.log[mark:] {
		if keep[k] {
			continue
		}
		if b, ok := a.used32[(*float32)(k)]; ok {
			delete(a.used32, (*float32)(k))
			a.free32[len(b)] = append(a.free32[len(b)], b)
			a.inUse -= 4 * int64(len(b))
		} else if b, ok := a.used64[(*float64)(k)]; ok {
			delete(a.used64, (*float64)(k))
			a.free64[len(b)] = append(a.free64[len(b)], b)
			a.inUse -= 8 * int64(len(b))
		}
	}
}

// Arena returns the arena t belongs to, or nil.
func (t *Tensor) Arena() *Arena { return t.arena }

// arenaOf returns the arena of the first tensor that has one.
func arenaOf(ts ...*Tensor) *Arena {
	for _, t := range ts {
		if t != nil && t.arena != nil {
			return t.arena
		}
	}
	return nil
}

// newIn returns a zero tensor in arena a, or on the heap when a is nil.
func newIn(a *Arena, dt DType, shape ...int) *Tensor {
	if a != nil {
		return a.New(dt, shape...)
	}
	return New(dt, shape...)
}

// newOut is newIn for results that the caller overwrites entirely: storage
// recycled by an arena is not cleared first.
func newOut(a *Arena, dt DType, shape ...int) *Tensor {
	if a != nil {
		return a.newTensor(dt, false, shape...)
	}
	return New(dt, shape...)
}
