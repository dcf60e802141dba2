package kafka

import (
	"bytes"
	"encoding/binary"
	"fmt"

	"github.com/twmb/franz-go/pkg/kbin"

	"github.com/ternmq/tern/internal/storage"
)

// markerLen is the size of the placeholder a Fetch response carries in
// place of each partition's records until the writer splices the file
// range in: the server's random nonce and the slice's index.
const markerLen = 16

func spliceMarker(nonce [12]byte, i int) []byte {
	m := make([]byte, markerLen)
	copy(m, nonce[:])
	binary.BigEndian.PutUint32(m[12:], uint32(i))
	return m
}

// hole is where one marker, with the length prefix kmsg wrote for it,
// sits in the encoded response.
type hole struct {
	start, end int    // byte range of prefix+marker to replace
	prefix     []byte // the length prefix for the real records
	slice      storage.Slice
}

// findHoles locates the markers in order. The records field is nullable
// bytes: an int32 length before v12, a compact uvarint(len+1) from v12
// (flexible) on.
func findHoles(buf []byte, nonce [12]byte, slices []storage.Slice, flexible bool) ([]hole, error) {
	holes := make([]hole, 0, len(slices))
	from := 0
	for i, s := range slices {
		m := spliceMarker(nonce, i)
		at := bytes.Index(buf[from:], m)
		if at < 0 {
			return nil, fmt.Errorf("fetch splice marker %d missing", i)
		}
		at += from
		var h hole
		if flexible {
			h.start = at - kbin.UvarintLen(markerLen+1)
			h.prefix = kbin.AppendUvarint(nil, uint32(s.Size()+1))
		} else {
			h.start = at - 4
			h.prefix = kbin.AppendInt32(nil, int32(s.Size()))
		}
		h.end = at + markerLen
		h.slice = s
		holes = append(holes, h)
		from = h.end
	}
	return holes, nil
}
