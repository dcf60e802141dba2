package vfs

import (
	"io/fs"
	"syscall"
)

// Op names a filesystem operation seen by an Injector.
type Op uint8

// Operations reported to an Injector.
const (
	OpOpen Op = iota
	OpRead
	OpWrite
	OpSync
	OpTruncate
	OpClose
	OpRemove
	OpRemoveAll
	OpRename
	OpMkdirAll
	OpReadDir
	OpSyncDir
)

var opNames = [...]string{
	OpOpen: "open", OpRead: "read", OpWrite: "write", OpSync: "sync",
	OpTruncate: "truncate", OpClose: "close", OpRemove: "remove",
	OpRemoveAll: "removeall", OpRename: "rename", OpMkdirAll: "mkdirall",
	OpReadDir: "readdir", OpSyncDir: "syncdir",
}

func (o Op) String() string {
	if int(o) < len(opNames) {
		return opNames[o]
	}
	return "op?"
}

// Injector is called before every operation with the path it applies to
// (the old path for OpRename). A non-nil error is returned to the caller
// instead of performing the operation. It must be safe for concurrent use:
// storage calls it from appenders, readers and its flusher at once.
type Injector func(op Op, path string) error

// Inject wraps fs so that every operation first consults inj. It is how
// storage tests fail an fsync, count fsyncs, or record the sequence of
// operations an append performs. Files opened through the wrapper keep
// implementing syscall.Conn when the underlying file does, so sendfile
// stays on the tested path.
func Inject(inner FS, inj Injector) FS { return injectFS{inner, inj} }

type injectFS struct {
	fs  FS
	inj Injector
}

type injectFile struct {
	File
	name string
	inj  Injector
}

func (f injectFS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	if err := f.inj(OpOpen, name); err != nil {
		return nil, err
	}
	file, err := f.fs.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	if _, ok := file.(syscall.Conn); ok {
		return injectConnFile{injectFile{file, name, f.inj}}, nil
	}
	return injectFile{file, name, f.inj}, nil
}

func (f injectFS) Remove(name string) error {
	if err := f.inj(OpRemove, name); err != nil {
		return err
	}
	return f.fs.Remove(name)
}

func (f injectFS) RemoveAll(path string) error {
	if err := f.inj(OpRemoveAll, path); err != nil {
		return err
	}
	return f.fs.RemoveAll(path)
}

func (f injectFS) Rename(oldpath, newpath string) error {
	if err := f.inj(OpRename, oldpath); err != nil {
		return err
	}
	return f.fs.Rename(oldpath, newpath)
}

func (f injectFS) MkdirAll(path string, perm fs.FileMode) error {
	if err := f.inj(OpMkdirAll, path); err != nil {
		return err
	}
	return f.fs.MkdirAll(path, perm)
}

func (f injectFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if err := f.inj(OpReadDir, name); err != nil {
		return nil, err
	}
	return f.fs.ReadDir(name)
}

func (f injectFS) SyncDir(dir string) error {
	if err := f.inj(OpSyncDir, dir); err != nil {
		return err
	}
	return f.fs.SyncDir(dir)
}

func (f injectFile) ReadAt(p []byte, off int64) (int, error) {
	if err := f.inj(OpRead, f.name); err != nil {
		return 0, err
	}
	return f.File.ReadAt(p, off)
}

func (f injectFile) WriteAt(p []byte, off int64) (int, error) {
	if err := f.inj(OpWrite, f.name); err != nil {
		return 0, err
	}
	return f.File.WriteAt(p, off)
}

func (f injectFile) Sync() error {
	if err := f.inj(OpSync, f.name); err != nil {
		return err
	}
	return f.File.Sync()
}

func (f injectFile) Truncate(size int64) error {
	if err := f.inj(OpTruncate, f.name); err != nil {
		return err
	}
	return f.File.Truncate(size)
}

func (f injectFile) Close() error {
	if err := f.inj(OpClose, f.name); err != nil {
		return err
	}
	return f.File.Close()
}

// injectConnFile forwards SyscallConn so zero-copy reads keep working
// through the wrapper.
type injectConnFile struct{ injectFile }

func (f injectConnFile) SyscallConn() (syscall.RawConn, error) {
	return f.File.(syscall.Conn).SyscallConn()
}
