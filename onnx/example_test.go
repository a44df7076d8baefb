package onnx_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/onnx"
)

// Export a generator (here an untrained one; normally from
// cyclegan.LoadGenerator) and read the file back.
func ExampleFromGenerator() {
	g := cyclegan.NewGenerator(8, 2)
	m, err := onnx.FromGenerator(g, onnx.Options{Metadata: map[string]string{"doggogan.direction": "a2b"}})
	if err != nil {
		log.Fatal(err)
	}
	dir, _ := os.MkdirTemp("", "onnx-example")
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "g.onnx")
	if err := onnx.WriteFile(path, m); err != nil {
		log.Fatal(err)
	}
	back, err := onnx.ReadFile(path)
	if err != nil {
		log.Fatal(err)
	}
	in := back.Graph.Input[0]
	fmt.Println("opset", back.OpsetImport[0].Version, "nodes", len(back.Graph.Node))
	fmt.Print(in.Name, ":")
	for _, d := range in.Type.Shape {
		if d.Param != "" {
			fmt.Print(" ", d.Param)
		} else {
			fmt.Print(" ", d.Value)
		}
	}
	fmt.Println()
	// Output:
	// opset 18 nodes 35
	// input: N 3 H W
}
