package storage

import (
	"errors"
	"fmt"
	"io"
	"syscall"
)

// Slice is a contiguous byte range of whole batches in one segment file,
// returned by Read. It is a small value; copies refer to the same range.
//
// Ownership: a non-empty Slice holds a reference to its segment, which keeps
// the file open (even after retention or Delete unlinked it) until Release.
// Call Release exactly once per Read, after the last AppendTo/WriteTo; an
// empty Slice needs no Release (calling it is a no-op).
//
// Concurrency: AppendTo and WriteTo use positioned reads (pread, sendfile
// with an explicit offset), never the file's shared seek position, so any
// number of Slices of one file may be read at once.
//
// A Slice over batches later removed by TruncateTo may read short (an error)
// or see the bytes appended since; replication truncates only when
// leadership changes and fetches started before that are answered with an
// error by the layers above.
type Slice struct {
	seg   *segment
	pos   int64
	size  int64
	first int64
	last  int64
}

// Size is the number of bytes in the slice; 0 for an empty read.
func (s Slice) Size() int64 { return s.size }

// FirstOffset is the base offset of the first batch, -1 if empty.
func (s Slice) FirstOffset() int64 {
	if s.size == 0 {
		return -1
	}
	return s.first
}

// LastOffset is the last offset of the last batch, -1 if empty. The next
// read continues at LastOffset()+1.
func (s Slice) LastOffset() int64 {
	if s.size == 0 {
		return -1
	}
	return s.last
}

// AppendTo appends the slice's bytes to dst with pread and returns the
// extended slice.
func (s Slice) AppendTo(dst []byte) ([]byte, error) {
	if s.size == 0 {
		return dst, nil
	}
	n := len(dst)
	dst = append(dst, make([]byte, s.size)...)
	m, err := s.seg.log.ReadAt(dst[n:], s.pos)
	if int64(m) == s.size {
		return dst, nil
	}
	if err == nil || errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return dst[:n], fmt.Errorf("storage: read %d bytes at %d of segment %d: %w", s.size, s.pos, s.seg.base, err)
}

// Header reads and parses the header of the slice's first batch: one
// 61-byte pread, for callers that need a batch's metadata (its timestamps)
// and not its records. Errors wrap ErrCorrupt for a damaged header;
// an empty slice has no header (ErrCorrupt too).
func (s Slice) Header() (BatchHeader, error) {
	if s.size < headerSize {
		return BatchHeader{}, fmt.Errorf("%w: %d-byte slice has no batch header", ErrCorrupt, s.size)
	}
	var b [headerSize]byte
	if m, err := s.seg.log.ReadAt(b[:], s.pos); m < headerSize {
		if err == nil || errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return BatchHeader{}, fmt.Errorf("storage: read batch header at %d of segment %d: %w", s.pos, s.seg.base, err)
	}
	return ParseBatchHeader(b[:])
}

// WriteTo writes the slice's bytes to w. When w is a socket (a
// syscall.Conn such as *net.TCPConn) and the segment is an OS file, the
// kernel copies file to socket with sendfile(2) at an explicit offset
// (Linux); otherwise it copies through an io.SectionReader. It honours w's
// write deadline.
func (s Slice) WriteTo(w io.Writer) (int64, error) {
	if s.size == 0 {
		return 0, nil
	}
	if dst, ok := w.(syscall.Conn); ok {
		if src, ok := s.seg.log.(syscall.Conn); ok {
			n, handled, err := sendfile(dst, src, s.pos, s.size)
			if handled {
				return n, err
			}
		}
	}
	return io.Copy(w, io.NewSectionReader(s.seg.log, s.pos, s.size))
}

// Release drops the Slice's segment reference. Call exactly once.
func (s Slice) Release() {
	if s.seg != nil {
		s.seg.decRef()
	}
}
