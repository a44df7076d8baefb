// Package data gets pixels into and out of doggogan: it decodes image files
// (JPEG, PNG, GIF, BMP, WebP, TIFF) safely, converts every colour model to
// 8-bit RGB, turns images into CHW float32 tensors in [−1, 1] and back,
// applies the CycleGAN reference augmentation (resize the shorter side, random
// crop, random horizontal flip), indexes folders of images, streams training
// samples through a deterministic prefetching loader, renders built-in
// synthetic domains ("toys") procedurally, and writes sample grids.
//
// The package sits below the numeric core's users and imports no other
// doggogan package: images cross the boundary as []float32 in CHW layout
// (channel, row, column), 3 channels, values in [−1, 1] as produced by
// PyTorch's ToTensor followed by Normalize(0.5, 0.5).
//
// # Determinism
//
// Every stream ([Loader] and [ToySource]) is a pure function of its seed and
// the stream position: the sample at position i depends only on (seed, i),
// never on the number of workers or their timing, so a resumed run that
// seeks to the saved [Source.Position] continues bit-identically.
//
// # Alpha
//
// Images with transparency are composited over white when they are converted
// to RGB (a transparent pixel becomes white), in every code path: [ToRGB],
// [ToCHW] and [Transform].
package data
