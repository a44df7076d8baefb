package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/doggogan/doggogan/kernels"
	"github.com/doggogan/doggogan/web"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var (
		model, runDir, addr, direction string
		maxUploadMB, threads           int
		concurrency, queue             int
		maxPixels                      int64
		timeout                        time.Duration
	)
	c := &cobra.Command{
		Use:   "serve",
		Short: "Translate photos in the browser, and watch a training run",
		Long: `Serve a web page that translates an image dropped, pasted or picked on it
with a trained model (--model), a dashboard of a training run with live loss
curves, sample grids, speed and ETA (--run), or both. Everything the pages need
is built into the binary; nothing is fetched from elsewhere.

The same server answers an HTTP API:
  POST /api/translate?direction=a2b|b2a   the image as the body or a multipart
                                          field "image" → image/png
  GET  /api/model                         domains, training size, step
  GET  /api/run, /api/run/losses, /api/run/events, /api/run/sample.png
  GET  /healthz
Errors come back as {"error": "..."}. Uploads are limited in bytes and
pixels; at most --concurrency translations run at once and --queue more
wait, further ones get 503 with Retry-After.

It listens on the loopback interface unless --addr says otherwise.`,
		Example: `  doggogan serve --model runs/cat2dog
  doggogan serve --model runs/cat2dog --run runs/cat2dog --addr 127.0.0.1:8080
  doggogan serve --run runs/cat2dog          # the dashboard of a finished or running run
  doggogan serve --model net_G_A.safetensors # one generator: one direction
  doggogan serve --model latest_net_G_A.pth  # a PyTorch generator
  curl --data-binary @cat.jpg -o dog.png 'http://127.0.0.1:8080/api/translate?direction=a2b'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			kernels.SetThreads(threads)
			if model == "" && runDir == "" {
				return errors.New("nothing to serve: give --model RUN|FILE.safetensors|FILE.pth, --run RUN, or both")
			}
			if maxUploadMB < 1 || maxUploadMB > 1024 {
				return fmt.Errorf("--max-upload-mb %d is out of range [1, 1024]", maxUploadMB)
			}
			if maxPixels < 64 {
				return fmt.Errorf("--max-pixels %d is too small", maxPixels)
			}
			if concurrency < 1 || concurrency > 256 {
				return fmt.Errorf("--concurrency %d is out of range [1, 256]", concurrency)
			}
			if timeout < time.Second {
				return fmt.Errorf("--translate-timeout %v is under a second", timeout)
			}
			if queue < 0 || queue > 10000 {
				return fmt.Errorf("--queue %d is out of range [0, 10000]", queue)
			}
			opt := web.Options{
				MaxUploadBytes:   int64(maxUploadMB) << 20,
				MaxPixels:        maxPixels,
				Concurrency:      concurrency,
				MaxWaiting:       queue,
				TranslateTimeout: timeout,
			}
			if queue == 0 {
				opt.MaxWaiting = -1
			}
			stderr := c.ErrOrStderr()
			opt.Logf = func(format string, args ...any) { fmt.Fprintf(stderr, format+"\n", args...) }
			var what []string
			if model != "" {
				var dir cyclegan.Direction
				if direction != "" {
					d, err := cyclegan.ParseDirection(direction)
					if err != nil {
						return fmt.Errorf("--direction: %v", err)
					}
					dir = d
				}
				m, err := web.LoadModel(model, dir)
				if err != nil {
					return err
				}
				opt.Model = m
				what = append(what, describeModel(m, model))
			}
			if runDir != "" {
				st, err := os.Stat(runDir)
				if err != nil {
					return fmt.Errorf("%s: %v", runDir, plainErr(err))
				}
				if !st.IsDir() {
					return fmt.Errorf("%s: not a run directory", runDir)
				}
				opt.RunDir = runDir
				what = append(what, "the dashboard of "+runDir)
			}
			ctx, stop := signal.NotifyContext(c.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			srv, err := startServer(addr, opt)
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "serving %s\n", joinAnd(what))
			fmt.Fprintf(c.OutOrStdout(), "open http://%s/\n", srv.addr)
			warnIfPublic(stderr, srv.addr)
			select {
			case <-ctx.Done():
				fmt.Fprintln(stderr, "stopping")
			case err := <-srv.errc:
				return err
			}
			return srv.stop(5 * time.Second)
		},
	}
	f := c.Flags()
	f.StringVar(&model, "model", "", "run directory, or generator file (.safetensors, or a PyTorch .pth state_dict) to translate with")
	f.StringVar(&runDir, "run", "", "run directory whose training dashboard to show")
	f.StringVar(&addr, "addr", "127.0.0.1:8080", "address to listen on (host:port; port 0 picks a free one)")
	f.StringVar(&direction, "direction", "", "for a generator file: the direction it translates, a2b or b2a (default: from its name, G_A or G_B)")
	f.IntVar(&maxUploadMB, "max-upload-mb", web.DefaultMaxUploadBytes>>20, "largest upload accepted, in MB")
	f.Int64Var(&maxPixels, "max-pixels", web.DefaultMaxPixels, "largest image translated, in pixels (width×height); memory grows with it (about 1.3 GB a megapixel for a full-size model)")
	f.IntVar(&concurrency, "concurrency", web.DefaultConcurrency, "translations that run at once")
	f.IntVar(&queue, "queue", web.DefaultMaxWaiting, "translation requests that may wait for a free slot; more get 503")
	f.DurationVar(&timeout, "translate-timeout", web.DefaultTranslateTimeout, "longest a translation request may take, waiting included")
	f.IntVar(&threads, "threads", 0, "threads for the numeric kernels (0: all cores)")
	return c
}

func describeModel(m *web.Model, path string) string {
	a, b := "A", "B"
	if m.Config != nil {
		a, b = m.Config.DomainA, m.Config.DomainB
	}
	var dirs []string
	if _, ok := m.Generators[cyclegan.A2B]; ok {
		dirs = append(dirs, a+" → "+b)
	}
	if _, ok := m.Generators[cyclegan.B2A]; ok {
		dirs = append(dirs, b+" → "+a)
	}
	s := joinAnd(dirs) + " translations with " + path
	if m.Step > 0 {
		s += fmt.Sprintf(" (step %d)", m.Step)
	}
	return s
}

func joinAnd(s []string) string {
	switch len(s) {
	case 0:
		return ""
	case 1:
		return s[0]
	}
	out := s[0]
	for _, x := range s[1 : len(s)-1] {
		out += ", " + x
	}
	return out + " and " + s[len(s)-1]
}

// warnIfPublic says so when the server listens beyond the loopback
// interface.
func warnIfPublic(w io.Writer, addr string) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return
	}
	fmt.Fprintf(w, "note: listening on %s: anyone who can reach this machine can use the server\n", addr)
}

// server is a running web server.
type server struct {
	addr string
	hs   *http.Server
	errc chan error
}

// startServer listens on addr (so that a port in use is reported at once)
// and serves in the background.
func startServer(addr string, opt web.Options) (*server, error) {
	h, err := web.New(opt)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("cannot listen on %s: %v", addr, err)
	}
	s := &server{addr: ln.Addr().String(), hs: web.NewHTTPServer(addr, h), errc: make(chan error, 1)}
	go func() {
		if err := s.hs.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			s.errc <- err
		}
	}()
	return s, nil
}

// stop shuts the server down, giving requests in flight up to grace.
func (s *server) stop(grace time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := s.hs.Shutdown(ctx); err != nil {
		return s.hs.Close()
	}
	return nil
}

// startUI serves the dashboard of runDir on addr while a run trains: it
// only reads the run directory, so it takes nothing from a training step.
func startUI(stderr io.Writer, addr, runDir string) (func(), error) {
	s, err := startServer(addr, web.Options{RunDir: runDir})
	if err != nil {
		return nil, fmt.Errorf("--ui: %v", err)
	}
	fmt.Fprintf(stderr, "dashboard: http://%s/\n", s.addr)
	warnIfPublic(stderr, s.addr)
	return func() { s.stop(2 * time.Second) }, nil
}
