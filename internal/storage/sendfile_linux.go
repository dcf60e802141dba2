package storage

import (
	"io"
	"syscall"
)

// maxSendfileChunk keeps each sendfile(2) call below Linux's 2 GiB limit.
const maxSendfileChunk = 1 << 30

// sendfile copies n bytes at off of src to dst inside the kernel. The file
// offset is explicit (sendfile's offset argument), so the shared position of
// the *os.File is neither used nor moved. handled is false when sendfile
// cannot be used at all (nothing was written): the caller copies instead.
func sendfile(dst, src syscall.Conn, off, n int64) (written int64, handled bool, err error) {
	dstRC, err := dst.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	srcRC, err := src.SyscallConn()
	if err != nil {
		return 0, false, nil
	}
	var werr, serr error
	// Control pins the file descriptor (no close underneath us) while
	// dstRC.Write waits for socket writability with the poller, honouring
	// the connection's write deadline.
	cerr := srcRC.Control(func(sfd uintptr) {
		werr = dstRC.Write(func(dfd uintptr) bool {
			for written < n {
				o := off + written
				m, err := syscall.Sendfile(int(dfd), int(sfd), &o, int(min(n-written, maxSendfileChunk)))
				if m > 0 {
					written += int64(m)
				}
				switch {
				case err == syscall.EINTR:
					continue
				case err == syscall.EAGAIN:
					return false // wait until the socket is writable
				case err != nil:
					serr = err
					return true
				case m == 0:
					serr = io.ErrUnexpectedEOF // file shorter than the slice
					return true
				}
			}
			return true
		})
		if werr == nil {
			werr = serr
		}
	})
	if cerr != nil {
		return written, written > 0, cerr
	}
	if werr != nil && written == 0 && (werr == syscall.EINVAL || werr == syscall.ENOSYS || werr == syscall.EOPNOTSUPP) {
		// Not a sendfile-capable destination (e.g. an O_APPEND file).
		return 0, false, nil
	}
	return written, true, werr
}
