// Package atomicfile replaces files atomically: the new content is written to
// a temporary file in the destination's directory, flushed to stable storage,
// and renamed over the destination. A reader (or a crash) sees either the old
// file or the complete new one, never a half-written file.
//
// The package exists for checkpoints written during long training runs: if the
// disk fills up or the process is killed half-way, the previous checkpoint is
// left untouched.
package atomicfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
)

// file is the part of *os.File that WriteFile uses; tests substitute a
// failing implementation to simulate a full disk.
type file interface {
	io.Writer
	io.ReaderAt
	Name() string
	Sync() error
	Close() error
	Chmod(mode os.FileMode) error
	Stat() (os.FileInfo, error)
}

// createTemp creates the temporary file; a variable so tests can inject
// failures that cannot be provoked portably (ENOSPC on write or close).
var createTemp = func(dir, pattern string) (file, error) {
	return os.CreateTemp(dir, pattern)
}

// WriteFile atomically replaces the file at path with the bytes that write
// produces. The new file gets permission bits perm (subject to the umask
// only in that the temporary file is created 0600 and then chmod-ed to perm).
//
// Steps: create a temporary file ".NAME.tmp*" in the same directory, call
// write with a buffered writer on it, flush, fsync, close, rename it over
// path, and fsync the directory so the rename itself is durable.
//
// On any error before the rename (write returns an error, the disk is full,
// fsync or close fail) the temporary file is removed and the previous file at
// path, if any, is left intact. The returned error starts with path and states
// the cause in plain words, e.g.
//
//	runs/x/ckpt.safetensors: no space left on device
//
// An error from the final directory fsync is reported too, but by then the
// new file is already in place.
//
// If path is a symbolic link, the link itself is replaced by a regular file.
func WriteFile(path string, perm os.FileMode, write func(w io.Writer) error) error {
	return WriteFileVerified(path, perm, write, nil)
}

// WriteFileVerified is WriteFile with a verification step: after the
// temporary file has been written and fsync-ed, verify is called with the
// temporary file (as an io.ReaderAt) and its size. If verify returns an
// error the temporary file is removed, the previous file is kept, and the
// error is returned (prefixed with path). A nil verify skips the step.
//
// The read-back sees what the operating system returns for the file, which
// is usually its page cache: it catches short or wrong writes by the program,
// not corruption that happens later on the medium.
func WriteFileVerified(path string, perm os.FileMode, write func(w io.Writer) error,
	verify func(r io.ReaderAt, size int64) error) error {
	if write == nil {
		return fmt.Errorf("%s: atomicfile: nil write function", path)
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	if base == "" {
		return fmt.Errorf("%s: not a file name", path)
	}
	f, err := createTemp(dir, "."+base+".tmp*")
	if err != nil {
		return &Error{Path: path, Op: "cannot create a temporary file in " + dir, Err: plain(err)}
	}
	tmp := f.Name()
	closed, renamed := false, false
	defer func() {
		// Runs on errors and on a panic in write alike.
		if !renamed {
			if !closed {
				_ = f.Close()
			}
			_ = os.Remove(tmp)
		}
	}()

	bw := bufio.NewWriterSize(plainWriter{f}, 1<<20)
	if err = write(bw); err != nil {
		return &Error{Path: path, Err: plain(err)}
	}
	if err = bw.Flush(); err != nil {
		return &Error{Path: path, Err: plain(err)}
	}
	if err = f.Chmod(perm); err != nil {
		return &Error{Path: path, Op: "cannot set permissions", Err: plain(err)}
	}
	if err = f.Sync(); err != nil {
		return &Error{Path: path, Err: plain(err)}
	}
	if verify != nil {
		var st os.FileInfo
		if st, err = f.Stat(); err != nil {
			return &Error{Path: path, Err: plain(err)}
		}
		if err = verify(f, st.Size()); err != nil {
			return &Error{Path: path, Op: "verification of the written file failed", Err: err}
		}
	}
	closed = true
	if err = f.Close(); err != nil {
		return &Error{Path: path, Err: plain(err)}
	}
	if err = os.Rename(tmp, path); err != nil {
		return &Error{Path: path, Op: "cannot replace the file", Err: plain(err)}
	}
	renamed = true
	// The new file is in place; from here on nothing is removed.
	if derr := SyncDir(dir); derr != nil {
		return &Error{Path: path, Op: "written, but syncing directory " + dir + " failed", Err: plain(derr)}
	}
	return nil
}

// Error is the error returned by WriteFile: the destination path, an optional
// description of the step that failed, and the cause. Its message reads
// "PATH: CAUSE" or "PATH: STEP: CAUSE"; errors.Is and errors.As see the cause
// (for example syscall.ENOSPC).
type Error struct {
	Path string // destination path given to WriteFile
	Op   string // failed step in plain words; empty when the cause says it all
	Err  error  // the cause
}

// Error implements the error interface.
func (e *Error) Error() string {
	if e.Op == "" {
		return e.Path + ": " + e.Err.Error()
	}
	return e.Path + ": " + e.Op + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// plainWriter hands the caller's write function errors without the temporary
// file's name: a failed write reports just "no space left on device" (as a
// syscall.Errno, so errors.Is works), which the caller may wrap with its own
// context before WriteFile prefixes the destination path.
type plainWriter struct{ f file }

func (w plainWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	return n, plain(err)
}

// SyncDir fsyncs a directory so that a rename in it survives a crash. A
// file system that cannot fsync a directory is not an error.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	// Some file systems do not support fsync on directories; that is not a
	// failure of the write.
	if errors.Is(err, syscall.EINVAL) || errors.Is(err, syscall.ENOTSUP) {
		return nil
	}
	return err
}

// plain strips the file name and operation from *fs.PathError and
// *os.LinkError (whose names would be the temporary file's), keeping the
// underlying cause, e.g. syscall.ENOSPC. Other errors are returned unchanged.
func plain(err error) error {
	switch e := err.(type) {
	case *fs.PathError:
		return e.Err
	case *os.LinkError:
		return e.Err
	}
	return err
}
