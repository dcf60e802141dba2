package message

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/s2"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// Compressor compresses the records section of batches the core writes
// again (log compaction), in the formats Kafka clients read: gzip, raw or
// xerial-framed snappy, the LZ4 frame format, zstd. It keeps its encoders
// and buffers between calls, because a cleaner compresses batch after
// batch. The zero value is ready; it is not safe for concurrent use. Call
// Close when done.
type Compressor struct {
	gz     *gzip.Writer
	lz     *lz4.Writer
	zs     *zstd.Encoder
	buf    bytes.Buffer
	plain  []byte // RebuildBatch's uncompressed records, reused
	snappy []byte // one encoded snappy block, reused
}

// xerialBlock is the block size snappy-java's framing uses.
const xerialBlock = 32 << 10

// isXerial reports a snappy batch framed the way the Java client writes
// it, so a rewrite keeps the framing its producer chose.
func isXerial(b Batch) bool {
	return b.Codec() == CodecSnappy && bytes.HasPrefix(b.Raw[HeaderSize:], xerialMagic)
}

// compress appends src compressed with codec to dst.
func (z *Compressor) compress(dst []byte, codec int, src []byte, xerial bool) ([]byte, error) {
	switch codec {
	case CodecGzip:
		z.buf.Reset()
		if z.gz == nil {
			z.gz = gzip.NewWriter(&z.buf)
		} else {
			z.gz.Reset(&z.buf)
		}
		if _, err := z.gz.Write(src); err != nil {
			return dst, fmt.Errorf("gzip: %w", err)
		}
		if err := z.gz.Close(); err != nil {
			return dst, fmt.Errorf("gzip: %w", err)
		}
		return append(dst, z.buf.Bytes()...), nil
	case CodecSnappy:
		if !xerial {
			z.snappy = s2.EncodeSnappy(z.snappy[:cap(z.snappy)], src)
			return append(dst, z.snappy...), nil
		}
		dst = append(dst, xerialMagic...)
		dst = binary.BigEndian.AppendUint32(dst, 1) // version
		dst = binary.BigEndian.AppendUint32(dst, 1) // minimum compatible version
		for len(src) > 0 {
			n := min(len(src), xerialBlock)
			z.snappy = s2.EncodeSnappy(z.snappy[:cap(z.snappy)], src[:n])
			dst = binary.BigEndian.AppendUint32(dst, uint32(len(z.snappy)))
			dst = append(dst, z.snappy...)
			src = src[n:]
		}
		return dst, nil
	case CodecLZ4:
		z.buf.Reset()
		if z.lz == nil {
			z.lz = lz4.NewWriter(&z.buf)
		} else {
			z.lz.Reset(&z.buf)
		}
		if _, err := z.lz.Write(src); err != nil {
			return dst, fmt.Errorf("lz4: %w", err)
		}
		if err := z.lz.Close(); err != nil {
			return dst, fmt.Errorf("lz4: %w", err)
		}
		return append(dst, z.buf.Bytes()...), nil
	case CodecZstd:
		if z.zs == nil {
			// One encoder goroutine-free (EncodeAll only), with a window
			// small enough for any consumer's decoder.
			enc, err := zstd.NewWriter(nil, zstd.WithEncoderConcurrency(1), zstd.WithWindowSize(64<<10), zstd.WithZeroFrames(true))
			if err != nil {
				return dst, fmt.Errorf("zstd: %w", err)
			}
			z.zs = enc
		}
		return z.zs.EncodeAll(src, dst), nil
	}
	return dst, fmt.Errorf("%w: unknown compression codec %d", ErrCorrupt, codec)
}

// Close releases the encoders.
func (z *Compressor) Close() {
	if z.zs != nil {
		_ = z.zs.Close()
		z.zs = nil
	}
	z.gz, z.lz = nil, nil
}
