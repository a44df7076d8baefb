package safetensors

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
)

// generatorLike returns tensors shaped like a CycleGAN ResNet generator
// layer list (conv weights in OIHW and biases), about 11.4M float32 in all.
func generatorLike() []Tensor {
	shapes := [][]int{{64, 3, 7, 7}, {128, 64, 3, 3}, {256, 128, 3, 3}}
	for i := 0; i < 18; i++ { // 9 residual blocks × 2 convs
		shapes = append(shapes, []int{256, 256, 3, 3})
	}
	shapes = append(shapes, []int{256, 128, 3, 3}, []int{128, 64, 3, 3}, []int{3, 64, 7, 7})
	var ts []Tensor
	for i, s := range shapes {
		n := 1
		for _, d := range s {
			n *= d
		}
		data := make([]float32, n)
		for j := range data {
			data[j] = float32(j%97) * 0.01
		}
		ts = append(ts, Float32Tensor(fmt.Sprintf("model.%d.weight", i), s, data))
		ts = append(ts, Float32Tensor(fmt.Sprintf("model.%d.bias", i), []int{s[0]}, data[:s[0]]))
	}
	return ts
}

func totalBytes(ts []Tensor) int64 {
	var n int64
	for _, t := range ts {
		n += int64(len(t.Data))
	}
	return n
}

// BenchmarkWrite measures serialising a generator-sized checkpoint to memory
// (checksum included).
func BenchmarkWrite(b *testing.B) {
	ts := generatorLike()
	b.SetBytes(totalBytes(ts))
	var buf bytes.Buffer
	buf.Grow(int(totalBytes(ts)) + 1<<16)
	for b.Loop() {
		buf.Reset()
		if err := Write(&buf, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteFile measures an atomic, fsync-ed, verified checkpoint write.
func BenchmarkWriteFile(b *testing.B) {
	ts := generatorLike()
	path := filepath.Join(b.TempDir(), "ckpt.safetensors")
	b.SetBytes(totalBytes(ts))
	for b.Loop() {
		if err := WriteFile(path, ts, nil); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkReadFloat32 measures opening a checkpoint (checksum verified) and
// decoding every tensor to float32.
func BenchmarkReadFloat32(b *testing.B) {
	ts := generatorLike()
	path := filepath.Join(b.TempDir(), "ckpt.safetensors")
	if err := WriteFile(path, ts, nil); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(totalBytes(ts))
	for b.Loop() {
		f, err := Open(path)
		if err != nil {
			b.Fatal(err)
		}
		for _, name := range f.Names() {
			if _, err := f.Float32(name); err != nil {
				b.Fatal(err)
			}
		}
		f.Close()
	}
}
