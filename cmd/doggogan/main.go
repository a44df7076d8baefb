// Command doggogan trains Wasserstein CycleGANs on unpaired image folders
// and translates images with them.
//
//	doggogan demo                       # learn a built-in toy domain in minutes
//	doggogan train --data DIR --out RUN # learn trainA/ ↔ trainB/
//	doggogan translate --model RUN --direction a2b --in cat.jpg --out dog.png
//	doggogan serve --model RUN --run RUN # translate in the browser, watch training
//	doggogan import --from G_A.pth --out RUN   # PyTorch CycleGAN generators in
//	doggogan export --model RUN --onnx g.onnx  # ONNX out
//	doggogan bench gemm|step            # measure speed against PyTorch's scripts
//
// Every command has --help.
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// exitError carries an exit status other than 1.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// run executes the command line and returns the exit status. Errors are
// printed as one line; a panic is reported as an internal error without a
// stack trace unless DOGGOGAN_TRACEBACK is set.
func run(args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "doggogan: internal error: %v (please report it; set DOGGOGAN_TRACEBACK=1 for details)\n", r)
			if os.Getenv("DOGGOGAN_TRACEBACK") != "" {
				stderr.Write(debug.Stack())
			}
			code = 2
		}
	}()
	root := newRoot(stdout, stderr)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintln(stderr, "doggogan: "+ee.msg)
		}
		return ee.code
	}
	fmt.Fprintln(stderr, "doggogan: "+oneLine(err.Error()))
	return 1
}

func oneLine(s string) string {
	s = strings.TrimSpace(s)
	return strings.ReplaceAll(s, "\n", "; ")
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:   "doggogan",
		Short: "Unpaired image-to-image translation with a Wasserstein CycleGAN, in pure Go",
		Long: `doggogan learns to translate between two domains of images (cats and dogs,
summer and winter) from unpaired examples, with a CycleGAN whose critics are
trained with the Wasserstein loss and gradient penalty, on the CPU.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fmt.Errorf("%v (see '%s --help')", err, c.CommandPath())
	})
	root.AddCommand(newDemoCmd(), newTrainCmd(), newTranslateCmd(), newBenchCmd())
	root.AddCommand(newImportCmd())
	root.AddCommand(newExportCmd())
	root.AddCommand(newServeCmd())
	return root
}
