// Package vfs is the narrow filesystem interface the storage engine runs on.
//
// Storage never calls package os directly for data or metadata: it goes
// through an FS so tests can inject faults (a failed fsync, a failed write)
// and observe the exact order of create / write / sync / rename operations
// (see Inject). The interface is deliberately small — only what a segmented
// log needs — so other implementations stay easy to write.
//
// Import rule: vfs imports only the standard library.
package vfs

import (
	"io"
	"io/fs"
	"os"
)

// File is an open file. Implementations must be safe for concurrent ReadAt
// calls with one concurrent WriteAt caller, as *os.File is: storage readers
// pread while the single appender pwrites.
type File interface {
	io.ReaderAt
	io.WriterAt
	io.Closer
	// Sync makes the file's data durable. Implementations may use
	// fdatasync(2): storage never depends on metadata other than the size,
	// which fdatasync covers.
	Sync() error
	// Truncate changes the size of the file.
	Truncate(size int64) error
	// Stat describes the file; storage uses only Size.
	Stat() (fs.FileInfo, error)
}

// FS is a filesystem. All paths are OS paths (filepath.Join style).
type FS interface {
	// OpenFile is os.OpenFile.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// Remove is os.Remove.
	Remove(name string) error
	// RemoveAll is os.RemoveAll.
	RemoveAll(path string) error
	// Rename is os.Rename: atomic replacement of newpath on POSIX.
	Rename(oldpath, newpath string) error
	// MkdirAll is os.MkdirAll.
	MkdirAll(path string, perm fs.FileMode) error
	// ReadDir is os.ReadDir.
	ReadDir(name string) ([]fs.DirEntry, error)
	// SyncDir makes the directory entries of dir durable (fsync of the
	// directory), so a created, renamed or removed file survives a crash.
	SyncDir(dir string) error
}

// Default returns the operating system's filesystem.
func Default() FS { return osFS{} }

type osFS struct{}

// osFile embeds *os.File, so it also implements syscall.Conn; storage uses
// that to sendfile(2) straight from the file descriptor.
type osFile struct{ *os.File }

func (f osFile) Sync() error { return fdatasync(f.File) }

func (osFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

func (osFS) Remove(name string) error                     { return os.Remove(name) }
func (osFS) RemoveAll(path string) error                  { return os.RemoveAll(path) }
func (osFS) Rename(oldpath, newpath string) error         { return os.Rename(oldpath, newpath) }
func (osFS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }
func (osFS) ReadDir(name string) ([]fs.DirEntry, error)   { return os.ReadDir(name) }

func (osFS) SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	// A directory fsync must be a full fsync: fdatasync may skip the
	// directory entries on some filesystems.
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return serr
	}
	return cerr
}
