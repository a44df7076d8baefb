//go:build race

package kernels

// convRaceDetector is set in race builds, where sync.Pool drops items on
// purpose and allocation counts mean nothing.
const convRaceDetector = true
