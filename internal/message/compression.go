package message

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
	"github.com/klauspost/compress/snappy"
	"github.com/klauspost/compress/zstd"
	"github.com/pierrec/lz4/v4"
)

// xerialMagic starts snappy data framed the way the Java client's
// snappy-java writes it; librdkafka and franz-go write raw snappy blocks.
var xerialMagic = []byte{0x82, 'S', 'N', 'A', 'P', 'P', 'Y', 0}

// decompress returns the records section of a batch body in plain form.
// It never produces more than max bytes, so a small compressed batch can't
// make the broker allocate gigabytes.
func decompress(codec int, body []byte, max int) ([]byte, error) {
	switch codec {
	case CodecNone:
		return body, nil
	case CodecGzip:
		r, err := gzip.NewReader(bytes.NewReader(body))
		if err != nil {
			return nil, fmt.Errorf("%w: gzip: %w", ErrCorrupt, err)
		}
		defer r.Close()
		return readCapped(r, max, "gzip")
	case CodecSnappy:
		if bytes.HasPrefix(body, xerialMagic) {
			return xerialDecode(body, max)
		}
		return snappyBlock(body, max)
	case CodecLZ4:
		return readCapped(lz4.NewReader(bytes.NewReader(body)), max, "lz4")
	case CodecZstd:
		d, err := zstd.NewReader(bytes.NewReader(body), zstd.WithDecoderConcurrency(1), zstd.WithDecoderMaxMemory(uint64(max)))
		if err != nil {
			return nil, fmt.Errorf("%w: zstd: %w", ErrCorrupt, err)
		}
		defer d.Close()
		out, err := readCapped(d, max, "zstd")
		if errors.Is(err, zstd.ErrWindowSizeExceeded) || errors.Is(err, zstd.ErrDecoderSizeExceeded) {
			return nil, fmt.Errorf("%w: zstd batch decompresses past %d bytes", ErrTooLarge, max)
		}
		return out, err
	default:
		return nil, fmt.Errorf("%w: unknown compression codec %d", ErrCorrupt, codec)
	}
}

func readCapped(r io.Reader, max int, name string) ([]byte, error) {
	out, err := io.ReadAll(io.LimitReader(r, int64(max)+1))
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorrupt, name, err)
	}
	if len(out) > max {
		return nil, fmt.Errorf("%w: %s batch decompresses past %d bytes", ErrTooLarge, name, max)
	}
	return out, nil
}

func snappyBlock(b []byte, max int) ([]byte, error) {
	n, err := snappy.DecodedLen(b)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %w", ErrCorrupt, err)
	}
	if n > max {
		return nil, fmt.Errorf("%w: snappy batch decompresses past %d bytes", ErrTooLarge, max)
	}
	out, err := snappy.Decode(nil, b)
	if err != nil {
		return nil, fmt.Errorf("%w: snappy: %w", ErrCorrupt, err)
	}
	return out, nil
}

// xerialDecode reads snappy-java's framing: the 8-byte magic, two int32
// versions, then blocks of int32 length + raw snappy.
func xerialDecode(b []byte, max int) ([]byte, error) {
	if len(b) < 16 {
		return nil, fmt.Errorf("%w: short xerial header", ErrCorrupt)
	}
	b = b[16:]
	var out []byte
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("%w: short xerial block length", ErrCorrupt)
		}
		n := binary.BigEndian.Uint32(b)
		b = b[4:]
		if uint64(n) > uint64(len(b)) {
			return nil, fmt.Errorf("%w: xerial block overruns batch", ErrCorrupt)
		}
		chunk, err := snappyBlock(b[:n], max-len(out))
		if err != nil {
			return nil, err
		}
		out = append(out, chunk...)
		b = b[n:]
	}
	return out, nil
}
