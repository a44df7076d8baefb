package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/data"
	"github.com/doggogan/doggogan/kernels"
	"github.com/spf13/cobra"
)

func newTranslateCmd() *cobra.Command {
	var (
		model, direction, in, out, format string
		threads                           int
		maxPixels                         int64
	)
	c := &cobra.Command{
		Use:   "translate",
		Short: "Translate an image, or a folder of images, with a trained generator",
		Long: `Translate images with G_A (--direction a2b) or G_B (b2a) of a run directory,
or with a generator file: safetensors, or a PyTorch .pth state_dict of the
CycleGAN reference's ResnetGenerator (latest_net_G_A.pth; architecture read off
the tensor shapes). Any input size works: the image is
padded by reflection to a multiple of 4, translated and cropped back. The
output format follows the output file's extension (.png, .jpg); for a folder,
every image in it (recursively) is written under --out with the same relative
path and the --format extension.`,
		Example: `  doggogan translate --model runs/cat2dog --direction a2b --in cat.jpg --out dog.png
  doggogan translate --model runs/cat2dog --direction b2a --in dogs/ --out cats/
  doggogan translate --model latest_net_G_A.pth --in horse.jpg --out zebra.png`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			kernels.SetThreads(threads)
			if model == "" || in == "" || out == "" {
				return errors.New("--model, --in and --out are required")
			}
			dir, err := cyclegan.ParseDirection(direction)
			if err != nil {
				return err
			}
			g, _, err := cyclegan.LoadGenerator(model, dir)
			if err != nil {
				return err
			}
			opt := data.DecodeOptions{MaxPixels: maxPixels}
			st, err := os.Stat(in)
			if err != nil {
				return fmt.Errorf("%s: %v", in, plainErr(err))
			}
			if !st.IsDir() {
				if err := translateFile(g, in, out, opt); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "%s → %s\n", in, out)
				return nil
			}
			return translateDir(c, g, in, out, format, opt)
		},
	}
	f := c.Flags()
	f.StringVar(&model, "model", "", "run directory, or generator .safetensors or PyTorch .pth file")
	f.StringVar(&direction, "direction", "a2b", "a2b (G_A) or b2a (G_B)")
	f.StringVar(&in, "in", "", "input image file or folder")
	f.StringVar(&out, "out", "", "output image file or folder")
	f.StringVar(&format, "format", "png", "output format for folders: png or jpg")
	f.IntVar(&threads, "threads", 0, "threads for the numeric kernels (0: all cores)")
	f.Int64Var(&maxPixels, "max-pixels", data.DefaultMaxPixels, "refuse images with more pixels than this")
	return c
}

func plainErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func translateFile(g *cyclegan.Generator, in, out string, opt data.DecodeOptions) error {
	if _, err := data.FormatByExt(out); err != nil {
		return fmt.Errorf("%s: %v", out, err)
	}
	img, err := data.DecodeFile(in, opt)
	if err != nil {
		return err
	}
	res, err := g.Translate(img)
	if err != nil {
		return fmt.Errorf("%s: %v", in, err)
	}
	if err := mkdirParent(out); err != nil {
		return err
	}
	return data.SaveImage(out, res)
}

func translateDir(c *cobra.Command, g *cyclegan.Generator, in, out, format string, opt data.DecodeOptions) error {
	format = strings.TrimPrefix(strings.ToLower(format), ".")
	if _, err := data.FormatByExt("x." + format); err != nil {
		return fmt.Errorf("--format %s: %v", format, err)
	}
	paths, err := data.IndexDir(in)
	if err != nil {
		return err
	}
	failed := 0
	for _, p := range paths {
		rel, err := filepath.Rel(in, p)
		if err != nil {
			rel = filepath.Base(p)
		}
		dst := filepath.Join(out, strings.TrimSuffix(rel, filepath.Ext(rel))+"."+format)
		if err := translateFile(g, p, dst, opt); err != nil {
			fmt.Fprintln(c.ErrOrStderr(), "doggogan: "+oneLine(err.Error()))
			failed++
			continue
		}
		fmt.Fprintf(c.OutOrStdout(), "%s → %s\n", p, dst)
	}
	if failed > 0 {
		return &exitError{1, fmt.Sprintf("%d of %d images in %s could not be translated", failed, len(paths), in)}
	}
	return nil
}

// mkdirParent makes the folder a file is to be written in.
func mkdirParent(path string) error {
	d := filepath.Dir(path)
	if err := os.MkdirAll(d, 0o755); err != nil {
		return fmt.Errorf("%s: %v", d, plainErr(err))
	}
	return nil
}
