package kernels

// ConvParams describes a 2-D convolution of an N×C×H×W input with a
// K×C×KH×KW weight (OIHW, PyTorch's layout) giving an N×K×OH×OW output,
// with stride (SH, SW) and zero padding (PH, PW) on each side.
//
// OH must be (H+2·PH−KH)/SH+1 (integer division) and likewise OW: when the
// division is inexact, the last rows/columns of the padded input are not
// read. The same geometry describes a transposed convolution: its input is
// the N×K×OH×OW side and its output the N×C×H×W side, where H and W may
// include output padding.
type ConvParams struct {
	N, C, H, W int // input batch, channels, height, width
	K          int // output channels
	KH, KW     int // kernel height and width
	SH, SW     int // stride
	PH, PW     int // zero padding on each side
	OH, OW     int // output height and width
}

// Conv2d computes y = conv(x, w): x is N×C×H×W, w is K×C×KH×KW and y,
// N×K×OH×OW, is overwritten. No bias.
//
// STUB: to be implemented.
func Conv2d[T Float](p ConvParams, x, w, y []T) { panic("kernels: Conv2d not implemented") }

// Conv2dBackwardData computes gx = ∂L/∂x from gy = ∂L/∂y for y = conv(x, w);
// gx (N×C×H×W) is overwritten. It is also the forward pass of a transposed
// convolution from the N×K×OH×OW side to the N×C×H×W side.
//
// STUB: to be implemented.
func Conv2dBackwardData[T Float](p ConvParams, gy, w, gx []T) {
	panic("kernels: Conv2dBackwardData not implemented")
}

// Conv2dBackwardWeight computes gw = ∂L/∂w from x and gy = ∂L/∂y for
// y = conv(x, w); gw (K×C×KH×KW) is overwritten.
//
// STUB: to be implemented.
func Conv2dBackwardWeight[T Float](p ConvParams, x, gy, gw []T) {
	panic("kernels: Conv2dBackwardWeight not implemented")
}
