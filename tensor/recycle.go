package tensor

import "unsafe"

// recycler hands storage back to arenas during a backward pass: a buffer
// is free once every node of the pass that holds it has run its backward
// function and no live gradient shares it. Buffers of tensors without
// recorded history (inputs, constants) are never freed here.
type recycler struct {
	nodeRefs map[unsafe.Pointer]int  // nodes of the pass still to run that hold the buffer
	gradRefs map[unsafe.Pointer]int  // live gradients sharing the buffer
	pinned   map[unsafe.Pointer]bool // held by a tensor without recorded history
	pending  []*Tensor               // candidates, freed by flush
}

// storageKey identifies a tensor's arena buffer, or is nil for heap
// storage.
func storageKey(t *Tensor) unsafe.Pointer {
	if t == nil || t.arena == nil {
		return nil
	}
	if t.dtype == Float32 && len(t.f32) > 0 {
		return unsafe.Pointer(unsafe.SliceData(t.f32))
	}
	if t.dtype == Float64 && len(t.f64) > 0 {
		return unsafe.Pointer(unsafe.SliceData(t.f64))
	}
	return nil
}

func newRecycler(order []*Tensor) *recycler {
	r := &recycler{nodeRefs: map[unsafe.Pointer]int{}, gradRefs: map[unsafe.Pointer]int{},
		pinned: map[unsafe.Pointer]bool{}}
	for _, t := range order {
		n := t.node
		if n == nil {
			continue
		}
		for _, x := range append(n.inputs[:len(n.inputs):len(n.inputs)], n.out) {
			k := storageKey(x)
			if k == nil {
				continue
			}
			r.nodeRefs[k]++
			if x.node == nil {
				r.pinned[k] = true
			}
		}
	}
	return r
}

func (r *recycler) gradRef(g *Tensor, d int) {
	if k := storageKey(g); k != nil {
		r.gradRefs[k] += d
	}
}

// maybeFree marks t's buffer as a candidate for flush.
func (r *recycler) maybeFree(t *Tensor) {
	if storageKey(t) != nil {
		r.pending = append(r.pending, t)
	}
}

// flush frees the candidates nothing holds any more. It runs between
// nodes, so a buffer freed here cannot have been handed out again while it
// was a candidate.
func (r *recycler) flush() {
	for _, t := range r.pending {
		k := storageKey(t)
		if r.pinned[k] || r.nodeRefs[k] > 0 || r.gradRefs[k] > 0 {
			continue
		}
		t.arena.free(t) // a no-op for a buffer already freed
		delete(r.nodeRefs, k)
		delete(r.gradRefs, k)
	}
	clear(r.pending)
	r.pending = r.pending[:0]
}

// nodeDone drops a node's hold on its inputs' and output's buffers once its
// backward function has run (or been skipped).
func (r *recycler) nodeDone(n *node) {
	for _, x := range append(n.inputs[:len(n.inputs):len(n.inputs)], n.out) {
		k := storageKey(x)
		if k == nil {
			continue
		}
		r.nodeRefs[k]--
		if r.nodeRefs[k] == 0 {
			r.maybeFree(x)
		}
	}
}
