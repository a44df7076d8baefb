package atomicfile

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func writeString(s string) func(io.Writer) error {
	return func(w io.Writer) error {
		_, err := io.WriteString(w, s)
		return err
	}
}

// dirEntries lists the names in dir, to check that no temporary file is left.
func dirEntries(t *testing.T, dir string) []string {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.Name())
	}
	return names
}

func mustRead(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestWriteFileCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.bin")
	if err := WriteFile(path, 0o640, writeString("first")); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "first" {
		t.Fatalf("content %q, want %q", got, "first")
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", st.Mode().Perm())
	}
	// Larger than the internal buffer, to exercise more than one write.
	big := strings.Repeat("0123456789abcdef", 200_000)
	if err := WriteFile(path, 0o644, writeString(big)); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != big {
		t.Fatalf("replacement content differs (len %d, want %d)", len(got), len(big))
	}
	if names := dirEntries(t, dir); len(names) != 1 || names[0] != "ckpt.bin" {
		t.Errorf("directory holds %v, want only ckpt.bin", names)
	}
}

func TestWriteFileRelativePath(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	if err := WriteFile("plain.txt", 0o644, writeString("x")); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, filepath.Join(dir, "plain.txt")); got != "x" {
		t.Fatalf("got %q", got)
	}
}

func TestWriteFileCallbackErrorKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.bin")
	if err := WriteFile(path, 0o644, writeString("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("encoder exploded")
	err := WriteFile(path, 0o644, func(w io.Writer) error {
		// Write more than the buffer so some bytes reach the temp file.
		if _, err := w.Write(bytes.Repeat([]byte{1}, 3<<20)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v does not wrap the callback's error", err)
	}
	if want := path + ": encoder exploded"; err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("old file changed to %d bytes", len(got))
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("temporary file left behind: %v", names)
	}
}

func TestWriteFilePanicRemovesTemp(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.bin")
	if err := WriteFile(path, 0o644, writeString("old")); err != nil {
		t.Fatal(err)
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Fatal("panic did not propagate")
			}
		}()
		_ = WriteFile(path, 0o644, func(w io.Writer) error { panic("bug") })
	}()
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("old file changed: %q", got)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("temporary file left behind: %v", names)
	}
}

func TestWriteFileVerifyFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.bin")
	if err := WriteFile(path, 0o644, writeString("old")); err != nil {
		t.Fatal(err)
	}
	var seen string
	err := WriteFileVerified(path, 0o644, writeString("new content"), func(r io.ReaderAt, size int64) error {
		b := make([]byte, size)
		if _, err := r.ReadAt(b, 0); err != nil && err != io.EOF {
			return err
		}
		seen = string(b)
		return errors.New("checksum mismatch")
	})
	if seen != "new content" {
		t.Errorf("verify saw %q, want the new content", seen)
	}
	if err == nil || !strings.Contains(err.Error(), "checksum mismatch") || !strings.HasPrefix(err.Error(), path+": ") {
		t.Fatalf("error %v", err)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("old file changed: %q", got)
	}
	if names := dirEntries(t, dir); len(names) != 1 {
		t.Errorf("temporary file left behind: %v", names)
	}
	// A passing verification installs the file.
	if err := WriteFileVerified(path, 0o644, writeString("new"), func(io.ReaderAt, int64) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if got := mustRead(t, path); got != "new" {
		t.Fatalf("content %q", got)
	}
}

func TestWriteFileDirectoryIsAFile(t *testing.T) {
	dir := t.TempDir()
	notDir := filepath.Join(dir, "file")
	if err := os.WriteFile(notDir, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(notDir, "ckpt.bin")
	err := WriteFile(path, 0o644, writeString("y"))
	if !errors.Is(err, syscall.ENOTDIR) {
		t.Fatalf("error %v, want ENOTDIR", err)
	}
	if !strings.HasPrefix(err.Error(), path+": ") || !strings.HasSuffix(err.Error(), ": not a directory") {
		t.Errorf("error %q does not name the path and the cause", err)
	}
}

func TestWriteFileMissingDirectory(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no", "such", "ckpt.bin")
	err := WriteFile(path, 0o644, writeString("y"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("error %v, want not-exist", err)
	}
	if !strings.HasPrefix(err.Error(), path+": ") {
		t.Errorf("error %q does not start with the path", err)
	}
}

func TestWriteFileUnwritableDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: directory permissions are not enforced")
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "ckpt.bin")
	if err := WriteFile(path, 0o644, writeString("old")); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	err := WriteFile(path, 0o644, writeString("new"))
	if !errors.Is(err, os.ErrPermission) {
		t.Fatalf("error %v, want permission denied", err)
	}
	want := path + ": cannot create a temporary file in " + dir + string(filepath.Separator) + ": permission denied"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if got := mustRead(t, path); got != "old" {
		t.Fatalf("old file changed: %q", got)
	}
}

// failingFile wraps a real temporary file and fails one operation with
// ENOSPC, as a full disk does.
type failingFile struct {
	*os.File
	failWriteAfter int // bytes accepted before writes fail; <0: never
	failClose      bool
	failSync       bool
	written        int
}

func (f *failingFile) Write(p []byte) (int, error) {
	if f.failWriteAfter >= 0 && f.written+len(p) > f.failWriteAfter {
		n := f.failWriteAfter - f.written
		if n > 0 {
			n, _ = f.File.Write(p[:n])
			f.written += n
		}
		return n, &os.PathError{Op: "write", Path: f.Name(), Err: syscall.ENOSPC}
	}
	n, err := f.File.Write(p)
	f.written += n
	return n, err
}

func (f *failingFile) Sync() error {
	if f.failSync {
		_ = f.File.Sync()
		return &os.PathError{Op: "sync", Path: f.Name(), Err: syscall.EIO}
	}
	return f.File.Sync()
}

func (f *failingFile) Close() error {
	err := f.File.Close()
	if f.failClose {
		return &os.PathError{Op: "close", Path: f.Name(), Err: syscall.ENOSPC}
	}
	return err
}

func withFailingFiles(t *testing.T, mk func(*os.File) file) {
	t.Helper()
	orig := createTemp
	createTemp = func(dir, pattern string) (file, error) {
		f, err := os.CreateTemp(dir, pattern)
		if err != nil {
			return nil, err
		}
		return mk(f), nil
	}
	t.Cleanup(func() { createTemp = orig })
}

func TestWriteFileSimulatedFailures(t *testing.T) {
	cases := []struct {
		name    string
		mk      func(*os.File) file
		payload int
		want    string
		errno   syscall.Errno
	}{
		{"ENOSPC on first write", func(f *os.File) file { return &failingFile{File: f, failWriteAfter: 0} },
			10, ": no space left on device", syscall.ENOSPC},
		{"ENOSPC mid-stream", func(f *os.File) file { return &failingFile{File: f, failWriteAfter: 1 << 20} },
			5 << 20, ": writing tensor data: no space left on device", syscall.ENOSPC},
		{"ENOSPC on close", func(f *os.File) file { return &failingFile{File: f, failWriteAfter: -1, failClose: true} },
			100, ": no space left on device", syscall.ENOSPC},
		{"EIO on fsync", func(f *os.File) file { return &failingFile{File: f, failWriteAfter: -1, failSync: true} },
			100, ": input/output error", syscall.EIO},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "ckpt.safetensors")
			if err := WriteFile(path, 0o644, writeString("old")); err != nil {
				t.Fatal(err)
			}
			withFailingFiles(t, tc.mk)
			payload := bytes.Repeat([]byte{7}, tc.payload)
			err := WriteFile(path, 0o644, func(w io.Writer) error {
				if _, err := w.Write(payload); err != nil {
					return fmt.Errorf("writing tensor data: %w", err)
				}
				return nil
			})
			if !errors.Is(err, tc.errno) {
				t.Fatalf("error %v, want %v", err, tc.errno)
			}
			if want := path + tc.want; err.Error() != want {
				t.Errorf("error %q\nwant  %q", err, want)
			}
			if strings.Contains(err.Error(), ".tmp") {
				t.Errorf("error %q mentions the temporary file", err)
			}
			if got := mustRead(t, path); got != "old" {
				t.Fatalf("old file changed (%d bytes)", len(got))
			}
			if names := dirEntries(t, dir); len(names) != 1 {
				t.Errorf("temporary file left behind: %v", names)
			}
		})
	}
}

func ExampleWriteFile() {
	dir, err := os.MkdirTemp("", "atomicfile-example")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, "notes.txt")
	err = WriteFile(path, 0o644, func(w io.Writer) error {
		_, err := fmt.Fprintln(w, "epoch 3 done")
		return err
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(path)
	fmt.Print(string(b))
	// Output: epoch 3 done
}
