package main

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/doggogan/doggogan/cyclegan"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// reporter shows training progress: a progress bar with steps/s, ETA and
// the current losses on a terminal, plain log lines otherwise.
type reporter struct {
	mu    sync.Mutex
	w     io.Writer
	bar   *progressbar.ProgressBar
	total int
	last  time.Time
	every time.Duration
	start time.Time
	first int
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// newReporter returns a reporter writing to w; lines logged before begin
// are printed plainly.
func newReporter(w io.Writer) *reporter {
	return &reporter{w: w, every: 10 * time.Second}
}

// begin starts the display of a run at step done of total.
func (r *reporter) begin(done, total int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total, r.start, r.first = total, time.Now(), done
	if isTerminal(r.w) {
		r.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(r.w),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("steps"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionSetElapsedTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionSetWidth(24),
			progressbar.OptionShowDescriptionAtLineEnd(),
		)
		r.bar.Set(done)
	}
}

func lossSummary(ls cyclegan.Losses) string {
	return fmt.Sprintf("cyc %.3f/%.3f  G %.3f/%.3f  D %.3f/%.3f", ls.CycleA, ls.CycleB, ls.GA, ls.GB, ls.DA, ls.DB)
}

// setTotal changes the number of steps the run will make.
func (r *reporter) setTotal(n int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.total = n
	if r.bar != nil {
		r.bar.ChangeMax(n)
	}
}

func (r *reporter) step(ls cyclegan.Losses) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Describe(lossSummary(ls))
		r.bar.Set(ls.Step)
		return
	}
	now := time.Now()
	if now.Sub(r.last) < r.every && ls.Step != r.total && ls.Step != r.first+1 {
		return
	}
	r.last = now
	rate := float64(ls.Step-r.first) / now.Sub(r.start).Seconds()
	eta := "?"
	if rate > 0 {
		eta = (time.Duration(float64(r.total-ls.Step)/rate) * time.Second).Round(time.Second).String()
	}
	fmt.Fprintf(r.w, "step %d/%d  %.2f steps/s  eta %s  %s\n", ls.Step, r.total, rate, eta, lossSummary(ls))
}

// logf prints a line, above the bar on a terminal.
func (r *reporter) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Clear()
	}
	fmt.Fprintf(r.w, format+"\n", args...)
}

func (r *reporter) finish() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.bar != nil {
		r.bar.Finish()
		fmt.Fprintln(r.w)
	}
}
