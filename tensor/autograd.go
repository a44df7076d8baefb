package tensor

import (
	"fmt"
	"unsafe"
)

// backwardFunc computes the gradients of an operation's inputs from the
// gradient g of its output. It must use differentiable operations only (or
// check c.create and take a fused, unrecorded path when it is false), read
// its inputs and output through c, and may return nil for an input whose
// gradient c.needs says is not wanted or that is not differentiable.
type backwardFunc func(c *bctx, g *Tensor) []*Tensor

// node records one operation in the graph.
type node struct {
	op       string
	inputs   []*Tensor
	out      *Tensor
	backward backwardFunc
	freed    bool
}

// bctx is what a backward function sees of its node.
type bctx struct {
	n      *node
	create bool
	need   []bool
}

// in returns input i, detached unless the backward pass is being recorded.
func (c *bctx) in(i int) *Tensor {
	t := c.n.inputs[i]
	if t == nil || c.create {
		return t
	}
	return t.Detach()
}

// out returns the operation's output, detached unless recording.
func (c *bctx) out() *Tensor {
	if c.create {
		return c.n.out
	}
	return c.n.out.Detach()
}

// needs reports whether the gradient of input i is wanted.
func (c *bctx) needs(i int) bool { return c.need[i] }

// record attaches a node to out when any input requires a gradient.
func record(out *Tensor, op string, inputs []*Tensor, bw backwardFunc) *Tensor {
	for _, in := range inputs {
		if in != nil && in.RequiresGrad() {
			out.node = &node{op: op, inputs: inputs, out: out, backward: bw}
			return out
		}
	}
	return out
}

// Grad returns the gradients of the sum of outputs (each weighted by the
// matching gradOutputs entry, or by one for scalar outputs when gradOutputs
// is nil) with respect to each of inputs, like torch.autograd.grad. With
// createGraph the backward pass is itself recorded, so the returned
// gradients can be differentiated again; without it they carry no graph and
// the graph of outputs is freed. An input the outputs do not depend on gets
// a zero gradient. Only the parts of the graph that lead to inputs are
// walked. Leaves' accumulated gradients (Tensor.Grad) are left untouched.
func Grad(outputs, inputs, gradOutputs []*Tensor, createGraph bool) []*Tensor {
	targets := make(map[*Tensor]bool, len(inputs))
	for _, x := range inputs {
		if !x.RequiresGrad() {
			panic("tensor: Grad with respect to a tensor that does not require gradients")
		}
		targets[x] = true
	}
	grads := runBackward(outputs, gradOutputs, func(t *Tensor) bool { return targets[t] }, createGraph, false)
	res := make([]*Tensor, len(inputs))
	for i, x := range inputs {
		g := grads.m[x]
		if g == nil {
			g = ZerosLike(x)
		}
		res[i] = g
	}
	return res
}

// Backward accumulates into the Grad of every leaf that requires gradients
// the gradient of t, which must hold one element. The graph is freed
// afterwards.
func (t *Tensor) Backward() { BackwardAll([]*Tensor{t}, nil, false) }

// BackwardAll is Backward for several outputs at once, each weighted by the
// matching gradOutputs entry (nil means one for each scalar output). With
// createGraph the accumulated leaf gradients are themselves differentiable
// and the graph is kept.
func BackwardAll(outputs, gradOutputs []*Tensor, createGraph bool) {
	backwardLeaves(outputs, gradOutputs, createGraph, false)
}

// BackwardAndRecycle is BackwardAll without createGraph that, as the
// backward pass goes, hands the storage of the graph's tensors back to
// their arena as soon as the pass no longer needs it, which roughly halves
// the peak memory of a training step. Afterwards every tensor computed by
// the graph that belongs to an arena is invalid (values read before, with
// Item or Values, are fine); tensors without recorded history, such as
// inputs made with Arena.Copy, are left intact. Leaves' gradients are
// valid until the arena's Reset.
func BackwardAndRecycle(outputs ...*Tensor) { backwardLeaves(outputs, nil, false, true) }

func backwardLeaves(outputs, gradOutputs []*Tensor, createGraph, recycle bool) {
	isLeaf := func(t *Tensor) bool { return t.leafGrad && t.node == nil }
	grads := runBackward(outputs, gradOutputs, isLeaf, createGraph, recycle && !createGraph)
	shared := map[unsafe.Pointer]int{}
	if recycle {
		for _, g := range grads.m {
			if k := storageKey(g); k != nil {
				shared[k]++
			}
		}
	}
	for t, g := range grads.m {
		if !isLeaf(t) {
			continue
		}
		// After a recycling pass, an arena gradient nothing else shares is
		// the leaf's own.
		adopt := recycle && storageKey(g) != nil && shared[storageKey(g)] == 1
		switch {
		case t.grad == nil && (createGraph || grads.owned[t] || adopt):
			t.grad = g
		case t.grad == nil && g.arena != nil:
			t.grad = g.arena.Copy(g)
		case t.grad == nil:
			t.grad = g.Clone()
		case createGraph:
			t.grad = Add(t.grad, g)
		default:
			t.grad.AddScaled_(1, g)
		}
	}
}

// gradMap holds gradients by tensor, remembering which ones the engine
// allocated itself and may therefore update in place.
type gradMap struct {
	m     map[*Tensor]*Tensor
	owned map[*Tensor]bool
}

func runBackward(outputs, gradOutputs []*Tensor, isTarget func(*Tensor) bool, create, recycle bool) gradMap {
	if gradOutputs != nil && len(gradOutputs) != len(outputs) {
		panic("tensor: outputs and gradOutputs differ in length")
	}
	// Depth-first post-order over recorded nodes, marking which tensors lead
	// to a target.
	relevant := map[*Tensor]bool{}
	visited := map[*Tensor]bool{}
	var order []*Tensor
	type frame struct {
		t *Tensor
		i int
	}
	for _, o := range outputs {
		if visited[o] {
			continue
		}
		stack := []frame{{o, 0}}
		visited[o] = true
		for len(stack) > 0 {
			f := &stack[len(stack)-1]
			t := f.t
			if t.node != nil && t.node.freed {
				panic(fmt.Sprintf("tensor: backward through the graph of %s a second time: it was freed by an earlier backward pass (use createGraph to keep it)", t.node.op))
			}
			if t.node != nil && f.i < len(t.node.inputs) {
				in := t.node.inputs[f.i]
				f.i++
				if in != nil && !visited[in] && in.RequiresGrad() {
					visited[in] = true
					stack = append(stack, frame{in, 0})
				}
				continue
			}
			rel := isTarget(t)
			if t.node != nil {
				for _, in := range t.node.inputs {
					if in != nil && relevant[in] {
						rel = true
					}
				}
			}
			relevant[t] = rel
			order = append(order, t)
			stack = stack[:len(stack)-1]
		}
	}

	gm := gradMap{m: map[*Tensor]*Tensor{}, owned: map[*Tensor]bool{}}
	var rc *recycler
	if recycle {
		rc = newRecycler(order)
	}
	setGrad := func(t, g *Tensor) {
		old := gm.m[t]
		gm.m[t] = g
		if rc != nil {
			rc.gradRef(g, 1)
			if old != nil {
				rc.gradRef(old, -1)
				rc.maybeFree(old)
			}
		}
	}
	accumulate := func(t, g *Tensor) {
		if !sameShape(t.shape, g.shape) {
			panic(fmt.Sprintf("tensor: internal error: gradient of shape %v for a tensor of shape %v", g.shape, t.shape))
		}
		old := gm.m[t]
		switch {
		case old == nil:
			setGrad(t, g)
		case create:
			setGrad(t, Add(old, g))
		case gm.owned[t]:
			old.AddScaled_(1, g)
		default:
			setGrad(t, Add(old.Detach(), g.Detach()))
			gm.owned[t] = true
		}
	}
	for i, o := range outputs {
		var g *Tensor
		if gradOutputs != nil && gradOutputs[i] != nil {
			g = gradOutputs[i]
			if !sameShape(g.shape, o.shape) {
				panic(fmt.Sprintf("tensor: gradOutput of shape %v for an output of shape %v", g.shape, o.shape))
			}
			if !create {
				g = g.Detach()
			}
		} else {
			if o.Numel() != 1 {
				panic(fmt.Sprintf("tensor: a gradOutput is needed for an output of shape %v", o.shape))
			}
			g = newIn(o.arena, o.dtype, o.shape...)
			g.Fill_(1)
		}
		if relevant[o] {
			accumulate(o, g)
		}
	}

	for k := len(order) - 1; k >= 0; k-- {
		t := order[k]
		n := t.node
		if n == nil {
			continue
		}
		if g := gm.m[t]; g != nil && relevant[t] {
			need := make([]bool, len(n.inputs))
			for i, in := range n.inputs {
				need[i] = in != nil && relevant[in]
			}
			var ar *Arena
			mark := 0
			if rc != nil {
				if ar = arenaOf(append([]*Tensor{g, n.out}, n.inputs...)...); ar != nil {
					mark = ar.mark()
				}
			}
			gs := n.backward(&bctx{n: n, create: create, need: need}, g)
			if ar != nil {
				// Temporaries of the backward function are dead once it
				// returns; only the gradients it returns live on.
				keep := map[unsafe.Pointer]bool{}
				for _, gi := range gs {
					if k := storageKey(gi); k != nil {
						keep[k] = true
					}
				}
				ar.freeSince(mark, keep)
			}
			for i, gi := range gs {
				if gi != nil && need[i] {
					accumulate(n.inputs[i], gi)
				}
			}
			if !isTarget(t) {
				// Intermediate gradients are not needed any more.
				if rc != nil {
					rc.gradRef(g, -1)
				}
				delete(gm.m, t)
			}
			if rc != nil {
				for i, gi := range gs {
					if gi != nil && need[i] {
						rc.maybeFree(gi)
					}
				}
				rc.maybeFree(g)
			}
		}
		if rc != nil {
			rc.nodeDone(n)
			rc.flush()
		}
	}
	if !create {
		for _, t := range order {
			if n := t.node; n != nil {
				n.inputs, n.out, n.backward, n.freed = nil, nil, nil, true
			}
		}
	}
	return gm
}
