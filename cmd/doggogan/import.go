package main

import (
	"errors"
	"fmt"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/spf13/cobra"
)

func newImportCmd() *cobra.Command {
	var from, reverse, direction, out string
	c := &cobra.Command{
		Use:   "import",
		Short: "Make a run directory from PyTorch CycleGAN generators (.pth)",
		Long: `Import generators trained with PyTorch — state_dicts of the CycleGAN
reference's ResnetGenerator saved by torch.save, such as latest_net_G_A.pth —
into a run directory that translate, serve and export use like a trained run.
The architecture (ngf, number of residual blocks) is read off the tensor
shapes; checkpoints saved from nn.DataParallel ("module." names) or built with
use_dropout load too. Files in the pre-1.6 torch.save format must first be
loaded and saved again with a recent PyTorch.

--from is the generator for --direction (a2b: G_A, domain A to B; b2a: G_B);
--reverse optionally adds the generator of the other direction. A .pth holds
no critics or optimiser state, so the run is marked as imported and cannot be
trained further.`,
		Example: `  doggogan import --from horse2zebra.pth --out runs/horse2zebra
  doggogan import --from latest_net_G_A.pth --reverse latest_net_G_B.pth --out runs/maps
  doggogan translate --model runs/horse2zebra --in horse.jpg --out zebra.png`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if from == "" || out == "" {
				return errors.New("--from and --out are required")
			}
			dir, err := cyclegan.ParseDirection(direction)
			if err != nil {
				return err
			}
			sources := map[cyclegan.Direction]string{dir: from}
			if reverse != "" {
				other := cyclegan.B2A
				if dir == cyclegan.B2A {
					other = cyclegan.A2B
				}
				sources[other] = reverse
			}
			cfg, err := cyclegan.ImportRun(out, sources)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			for _, d := range []cyclegan.Direction{cyclegan.A2B, cyclegan.B2A} {
				if src, ok := sources[d]; ok {
					fmt.Fprintf(w, "%s → %s (%s)\n", src, out, d)
				}
			}
			fmt.Fprintf(w, "ResnetGenerator: ngf %d, %d residual blocks. Translate with:\n  doggogan translate --model %s --direction %s --in IMAGE --out OUT.png\n",
				cfg.NGF, cfg.Blocks, out, dir)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&from, "from", "", "generator to import (.pth, or .safetensors)")
	f.StringVar(&reverse, "reverse", "", "optional generator of the opposite direction")
	f.StringVar(&direction, "direction", "a2b", "which generator --from is: a2b (G_A) or b2a (G_B)")
	f.StringVar(&out, "out", "", "run directory to create")
	return c
}
