package data

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// ImageExts lists the file extensions that IndexDir collects (matched
// case-insensitively).
var ImageExts = []string{".jpg", ".jpeg", ".png", ".gif", ".bmp", ".webp", ".tif", ".tiff"}

// HasImageExt reports whether name ends in one of ImageExts, in any case.
func HasImageExt(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	for _, e := range ImageExts {
		if ext == e {
			return true
		}
	}
	return false
}

// IndexDir lists the image files under dir, recursively, sorted by path. A
// file counts as an image by its extension (see ImageExts); files are
// never opened, so a folder of a million images is indexed from directory
// listings alone. Hidden files and folders (names starting with ".") are
// left out. Symbolic links are followed, each real folder is visited at most
// once (so symlink loops end), broken links are ignored, and subfolders that
// cannot be read are skipped. It returns an error naming dir when dir is
// missing, is not a folder, cannot be read, or holds no image file.
func IndexDir(dir string) ([]string, error) {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s: folder does not exist", dir)
		}
		return nil, fmt.Errorf("%s: cannot read folder: %s", dir, plainOSError(err))
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("%s: not a folder", dir)
	}
	ix := indexer{visited: map[string]bool{}}
	if err := ix.walk(dir, true); err != nil {
		return nil, err
	}
	// Folders reached through links come last, so that files are listed
	// under their real folder when both paths lead to them.
	for len(ix.links) > 0 {
		l := ix.links[0]
		ix.links = ix.links[1:]
		ix.walk(l, false)
	}
	if len(ix.files) == 0 {
		return nil, fmt.Errorf("%s: no image files found (looked for %s)", dir, strings.Join(ImageExts, " "))
	}
	sort.Strings(ix.files)
	return ix.files, nil
}

type indexer struct {
	visited map[string]bool // real paths of the folders listed so far
	files   []string
	links   []string // linked folders still to list
}

func (ix *indexer) walk(dir string, top bool) error {
	real, err := filepath.EvalSymlinks(dir)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil {
		if top {
			return fmt.Errorf("%s: cannot read folder: %s", dir, plainOSError(err))
		}
		return nil
	}
	if ix.visited[real] {
		return nil // a loop, or a second link to a folder already listed
	}
	ix.visited[real] = true

	f, err := os.Open(dir)
	if err != nil {
		if top {
			return fmt.Errorf("%s: cannot read folder: %s", dir, plainOSError(err))
		}
		return nil
	}
	var subdirs, links []string
	for {
		ents, err := f.ReadDir(1024)
		for _, e := range ents {
			name := e.Name()
			if strings.HasPrefix(name, ".") {
				continue
			}
			p := filepath.Join(dir, name)
			mode := e.Type()
			link := mode&fs.ModeSymlink != 0
			if link {
				st, err := os.Stat(p)
				if err != nil {
					continue // broken link
				}
				mode = st.Mode().Type()
			}
			switch {
			case mode.IsDir() && link:
				links = append(links, p)
			case mode.IsDir():
				subdirs = append(subdirs, p)
			case mode.IsRegular() && HasImageExt(name):
				ix.files = append(ix.files, p)
			}
		}
		if err == io.EOF || len(ents) == 0 {
			break
		}
		if err != nil {
			if top {
				f.Close()
				return fmt.Errorf("%s: cannot read folder: %s", dir, plainOSError(err))
			}
			break
		}
	}
	f.Close()
	sort.Strings(subdirs)
	sort.Strings(links)
	ix.links = append(ix.links, links...)
	for _, s := range subdirs {
		if err := ix.walk(s, false); err != nil {
			return err
		}
	}
	return nil
}
