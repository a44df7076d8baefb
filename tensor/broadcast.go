package tensor

import "fmt"

// BroadcastShapes returns the shape two shapes broadcast to under NumPy's
// rules, or an error.
func BroadcastShapes(a, b []int) ([]int, error) {
	n := len(a)
	if len(b) > n {
		n = len(b)
	}
	out := make([]int, n)
	for i := 0; i < n; i++ {
		da, db := 1, 1
		if j := len(a) - n + i; j >= 0 {
			da = a[j]
		}
		if j := len(b) - n + i; j >= 0 {
			db = b[j]
		}
		switch {
		case da == db:
			out[i] = da
		case da == 1:
			out[i] = db
		case db == 1:
			out[i] = da
		default:
			return nil, fmt.Errorf("tensor: shapes %v and %v do not broadcast", a, b)
		}
	}
	return out, nil
}

// bstrides returns the element strides of a contiguous tensor of shape s
// seen as the (longer or equal) shape out: 0 on broadcast dimensions.
func bstrides(s, out []int) []int {
	st := make([]int, len(out))
	acc := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := len(s) - len(out) + i
		if j >= 0 && s[j] != 1 {
			st[i] = acc
			acc *= s[j]
		}
	}
	return st
}

// plan is an iteration over a shape for several operands with their own
// strides, with adjacent dimensions merged wherever every operand allows.
type plan struct {
	shape   []int
	strides [][]int // per operand
}

func makePlan(shape []int, strides ...[]int) plan {
	p := plan{strides: make([][]int, len(strides))}
	for i := range shape {
		if shape[i] == 1 {
			continue // size-1 dimensions contribute nothing
		}
		if k := len(p.shape) - 1; k >= 0 {
			merge := true
			// Dimension i continues kept dimension k for an operand when
			// that operand's stride at k is its stride at i times shape[i].
			for o, st := range strides {
				if p.strides[o][k] != st[i]*shape[i] {
					merge = false
					break
				}
			}
			if merge {
				p.shape[k] *= shape[i]
				for o, st := range strides {
					p.strides[o][k] = st[i]
				}
				continue
			}
		}
		p.shape = append(p.shape, shape[i])
		for o, st := range strides {
			p.strides[o] = append(p.strides[o], st[i])
		}
	}
	if len(p.shape) == 0 {
		p.shape = []int{1}
		for o := range strides {
			p.strides[o] = []int{0}
		}
	}
	return p
}

// runs calls fn for every innermost run of the plan with each operand's
// starting offset; the run has length p.shape[last] and operand strides
// p.strides[o][last].
func (p plan) runs(fn func(offs []int)) {
	nd := len(p.shape)
	no := len(p.strides)
	offs := make([]int, no)
	if nd == 1 {
		fn(offs)
		return
	}
	idx := make([]int, nd-1)
	for {
		fn(offs)
		d := nd - 2
		for ; d >= 0; d-- {
			idx[d]++
			for o := 0; o < no; o++ {
				offs[o] += p.strides[o][d]
			}
			if idx[d] < p.shape[d] {
				break
			}
			for o := 0; o < no; o++ {
				offs[o] -= p.strides[o][d] * p.shape[d]
			}
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

func contiguousStrides(shape []int) []int {
	st := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = acc
		acc *= shape[i]
	}
	return st
}
