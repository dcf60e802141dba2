package vfs

import (
	"os"
	"syscall"
)

// fdatasync flushes data and the size, not mtime: one journal commit less
// than fsync(2) on ext4/xfs, which is most of the cost of a group commit.
func fdatasync(f *os.File) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return f.Sync()
	}
	var serr error
	// Control keeps the descriptor alive (not closed) for the duration.
	if err := rc.Control(func(fd uintptr) {
		for {
			serr = syscall.Fdatasync(int(fd))
			if serr != syscall.EINTR {
				return
			}
		}
	}); err != nil {
		return err
	}
	if serr != nil {
		return &os.PathError{Op: "fdatasync", Path: f.Name(), Err: serr}
	}
	return nil
}
