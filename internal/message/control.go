package message

import (
	"encoding/binary"
	"fmt"
)

// Control record types of a transaction marker (the key's second int16).
const (
	controlAbort  = 0
	controlCommit = 1
)

// EncodeMarker builds the control batch that ends a transaction in one
// partition: one record whose key is (version 0, type commit|abort) and
// whose value is (version 0, coordinator epoch), as Kafka writes it. The
// batch is transactional and control, with the producer's id and epoch
// and no sequence.
func EncodeMarker(commit bool, producerID int64, epoch int16, coordinatorEpoch int32, timestamp int64) []byte {
	typ := uint16(controlAbort)
	if commit {
		typ = controlCommit
	}
	key := binary.BigEndian.AppendUint16(binary.BigEndian.AppendUint16(nil, 0), typ)
	val := binary.BigEndian.AppendUint32(binary.BigEndian.AppendUint16(nil, 0), uint32(coordinatorEpoch))
	return EncodeBatch([]Record{{Key: key, Value: val, Timestamp: timestamp}}, BatchOptions{
		ProducerID: producerID, ProducerEpoch: epoch, BaseSequence: -1,
		Transactional: true, Control: true,
	})
}

// MarkerCommits decodes a control batch's marker: true for a commit,
// false for an abort. Other control records (Kafka's leader-change and
// snapshot records, types 2+) are an error.
func MarkerCommits(b Batch) (bool, error) {
	if !b.Control() {
		return false, fmt.Errorf("%w: batch at %d is not a control batch", ErrInvalidRecord, b.BaseOffset)
	}
	recs, err := Records(b, 1<<10)
	if err != nil {
		return false, err
	}
	if len(recs) != 1 || len(recs[0].Key) < 4 {
		return false, fmt.Errorf("%w: control batch at %d is not a transaction marker", ErrInvalidRecord, b.BaseOffset)
	}
	switch binary.BigEndian.Uint16(recs[0].Key[2:]) {
	case controlAbort:
		return false, nil
	case controlCommit:
		return true, nil
	default:
		return false, fmt.Errorf("%w: control batch at %d has type %d", ErrInvalidRecord, b.BaseOffset, binary.BigEndian.Uint16(recs[0].Key[2:]))
	}
}
