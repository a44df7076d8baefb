package cyclegan_test

import (
	"context"
	"fmt"
	"image"
	"log"
	"os"

	"github.com/doggogan/doggogan/cyclegan"
)

// Train a tiny model on the built-in seasons domains, then translate an
// image with it.
func Example() {
	dir, err := os.MkdirTemp("", "doggogan-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	cfg := cyclegan.DefaultConfig()
	cfg.Toy = "seasons"
	cfg.Size, cfg.LoadSize = 16, 16
	cfg.NGF, cfg.NDF, cfg.Blocks, cfg.CriticLayers = 4, 4, 1, 2
	cfg.Steps, cfg.SampleEvery, cfg.SaveEvery = 3, 0, 0
	t, err := cyclegan.NewTrainer(cfg, dir, cyclegan.TrainerOptions{})
	if err != nil {
		log.Fatal(err)
	}
	defer t.Close()
	if err := t.Run(context.Background(), cyclegan.Hooks{}); err != nil {
		log.Fatal(err)
	}

	g, _, err := cyclegan.LoadGenerator(dir, cyclegan.A2B) // summer → winter
	if err != nil {
		log.Fatal(err)
	}
	out, err := g.Translate(image.NewRGBA(image.Rect(0, 0, 40, 30)))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("trained", t.Learner.Steps, "steps; translated to", out.Bounds().Size())
	// Output: trained 3 steps; translated to (40,30)
}
