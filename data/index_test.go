package data

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestIndexDir(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{
		"b.jpg", "a.PNG", "c.JpEg", "notes.txt", "sub/d.gif", "sub/deeper/e.BMP", "sub/f.webp",
		"sub/g.tif", "sub/h.TIFF", ".hidden.jpg", ".git/i.jpg", "noext",
	} {
		writeFile(t, dir, name, []byte("not opened"))
	}
	// Links: a loop back to the root, a second link to sub, a link to a
	// file, a broken link, and a folder named like an image.
	must(t, os.Symlink(dir, filepath.Join(dir, "sub", "loop")))
	must(t, os.Symlink(filepath.Join(dir, "sub"), filepath.Join(dir, "sub-again")))
	must(t, os.Symlink(filepath.Join(dir, "b.jpg"), filepath.Join(dir, "link.jpg")))
	must(t, os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "broken.jpg")))
	must(t, os.MkdirAll(filepath.Join(dir, "folder.jpg"), 0o755))

	got, err := IndexDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var rel []string
	for _, p := range got {
		r, _ := filepath.Rel(dir, p)
		rel = append(rel, r)
	}
	want := []string{"a.PNG", "b.jpg", "c.JpEg", "link.jpg", "sub/d.gif", "sub/deeper/e.BMP", "sub/f.webp", "sub/g.tif", "sub/h.TIFF"}
	if !reflect.DeepEqual(rel, want) {
		t.Errorf("IndexDir = %q\nwant %q", rel, want)
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestIndexDirErrors(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope")
	if _, err := IndexDir(missing); err == nil || err.Error() != missing+": folder does not exist" {
		t.Errorf("missing: %v", err)
	}
	f := writeFile(t, dir, "file.jpg", nil)
	if _, err := IndexDir(f); err == nil || err.Error() != f+": not a folder" {
		t.Errorf("file: %v", err)
	}
	empty := filepath.Join(dir, "empty")
	must(t, os.MkdirAll(filepath.Join(empty, "sub"), 0o755))
	writeFile(t, empty, "readme.md", nil)
	if _, err := IndexDir(empty); err == nil || !strings.HasPrefix(err.Error(), empty+": no image files found") {
		t.Errorf("empty: %v", err)
	}
}

func TestIndexDirSkipsUnreadableSubfolder(t *testing.T) {
	dir := t.TempDir()
	writeFile(t, dir, "ok/a.jpg", nil)
	writeFile(t, dir, "locked/b.jpg", nil)
	locked := filepath.Join(dir, "locked")
	must(t, os.Chmod(locked, 0))
	defer os.Chmod(locked, 0o755)
	if f, err := os.Open(locked); err == nil {
		f.Close()
		t.Skip("running with privileges that read a chmod-000 folder (root?); the unreadable-folder case cannot be tested")
	}
	got, err := IndexDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || filepath.Base(got[0]) != "a.jpg" {
		t.Errorf("IndexDir = %q", got)
	}
}

func TestIndexDirManyFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	// More entries than one ReadDir batch, none of them readable as an
	// image: only the listing is used.
	dir := t.TempDir()
	for i := 0; i < 1100; i++ {
		writeFile(t, dir, "img"+itoa4(i)+".jpg", nil)
	}
	got, err := IndexDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1100 || filepath.Base(got[0]) != "img0000.jpg" || filepath.Base(got[1099]) != "img1099.jpg" {
		t.Errorf("got %d files, first %s", len(got), got[0])
	}
}

func itoa4(i int) string {
	b := []byte("0000")
	for k := 3; k >= 0; k-- {
		b[k] = byte('0' + i%10)
		i /= 10
	}
	return string(b)
}
