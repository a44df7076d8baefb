package data

// Source is a deterministic stream of training samples, implemented by the
// folder Loader and by ToySource. Each sample is a 3×Size×Size CHW tensor
// in [−1, 1]; the sample at stream position i depends only on the source's
// seed and i.
type Source interface {
	// Next fills dst with the next len(dst)/SampleLen() samples, one after
	// the other. len(dst) must be a positive multiple of SampleLen().
	Next(dst []float32) error
	// SetPosition moves the stream so that the next sample read is the one at
	// position pos.
	SetPosition(pos int64) error
	// Position returns the stream position of the next sample (the number of
	// positions consumed since position 0, skipped ones included).
	Position() int64
	// SampleLen returns the number of float32 values in one sample.
	SampleLen() int
	// Size returns the side of the square samples, in pixels.
	Size() int
	// Close releases the source's resources (worker goroutines).
	Close() error
}
