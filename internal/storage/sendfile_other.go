//go:build !linux

package storage

import "syscall"

// sendfile is Linux-only here; elsewhere Slice.WriteTo copies.
func sendfile(dst, src syscall.Conn, off, n int64) (int64, bool, error) {
	return 0, false, nil
}
