package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"runtime/debug"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/onnx"
	"github.com/spf13/cobra"
)

func newExportCmd() *cobra.Command {
	var model, direction, out string
	c := &cobra.Command{
		Use:   "export",
		Short: "Export a generator as an ONNX model",
		Long: fmt.Sprintf(`Write the generator of a run directory, of a PyTorch .pth state_dict (the
CycleGAN reference's latest_net_G_A.pth) or of a .safetensors file as an ONNX
model (opset %d) for ONNX Runtime and other inference engines.

The model takes "input", a float32 tensor [N, 3, H, W]: RGB images scaled to
[-1, 1] (pixel/127.5 - 1). N, H and W are symbolic, so one file serves every
size, but H and W must be multiples of 4 and at least 8 (the generator halves
them twice): pad other sizes by reflection and crop the output. "output" has
the same shape, in [-1, 1] (pixel = (v + 1) * 127.5).`, onnx.Opset),
		Example: `  doggogan export --model runs/cat2dog --direction a2b --onnx cat2dog.onnx
  doggogan export --model latest_net_G_A.pth --onnx horse2zebra.onnx`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if model == "" || out == "" {
				return errors.New("--model and --onnx are required")
			}
			dir, err := cyclegan.ParseDirection(direction)
			if err != nil {
				return err
			}
			g, _, err := cyclegan.LoadGenerator(model, dir)
			if err != nil {
				return err
			}
			m, err := onnx.FromGenerator(g, onnx.Options{
				GraphName:       "doggogan_" + string(dir),
				ProducerVersion: version(),
				Metadata: map[string]string{
					"doggogan.direction": string(dir),
					"doggogan.source":    filepath.Base(filepath.Clean(model)),
				},
			})
			if err != nil {
				return err
			}
			if err := mkdirParent(out); err != nil {
				return err
			}
			if err := onnx.WriteFile(out, m); err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "%s → %s: ResnetGenerator (ngf %d, %d blocks), ONNX opset %d; input %q [N, 3, H, W] RGB in [-1, 1], H and W multiples of 4 (at least 8)\n",
				model, out, g.NGF, g.Blocks, onnx.Opset, onnx.InputName)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&model, "model", "", "run directory, PyTorch .pth or .safetensors generator")
	f.StringVar(&direction, "direction", "a2b", "a2b (G_A) or b2a (G_B); for a run directory")
	f.StringVar(&out, "onnx", "", "ONNX file to write")
	return c
}

// version is the module version of this build ("(devel)" from a checkout).
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}
