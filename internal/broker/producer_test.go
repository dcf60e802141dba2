package broker

import (
	"errors"
	"math"
	"testing"

	"github.com/ternmq/tern/internal/message"
)

func idemBatch(pid int64, epoch int16, seq int32, n int32, base int64) message.Batch {
	return message.Batch{ProducerID: pid, ProducerEpoch: epoch, BaseSequence: seq, LastOffsetDelta: n - 1, RecordCount: n, BaseOffset: base}
}

func TestProducerSequenceChecks(t *testing.T) {
	type step struct {
		b       message.Batch
		wantErr error
		dupOf   int64 // offset of the original when a duplicate; -1 otherwise
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"in order", []step{
			{idemBatch(1, 0, 0, 3, 0), nil, -1},
			{idemBatch(1, 0, 3, 2, 3), nil, -1},
		}},
		{"retry of a recent batch is a duplicate", []step{
			{idemBatch(1, 0, 0, 3, 0), nil, -1},
			{idemBatch(1, 0, 3, 2, 3), nil, -1},
			{idemBatch(1, 0, 0, 3, 99), nil, 0},
		}},
		{"gap is out of order", []step{
			{idemBatch(1, 0, 0, 3, 0), nil, -1},
			{idemBatch(1, 0, 5, 1, 3), ErrOutOfOrderSequence, -1},
		}},
		{"older epoch is fenced", []step{
			{idemBatch(1, 2, 0, 1, 0), nil, -1},
			{idemBatch(1, 1, 1, 1, 1), ErrInvalidProducerEpoch, -1},
		}},
		{"new epoch must restart at zero", []step{
			{idemBatch(1, 0, 0, 1, 0), nil, -1},
			{idemBatch(1, 1, 7, 1, 1), ErrOutOfOrderSequence, -1},
			{idemBatch(1, 1, 0, 1, 1), nil, -1},
		}},
		{"unknown producer may start anywhere", []step{
			{idemBatch(9, 0, 42, 1, 0), nil, -1},
			{idemBatch(9, 0, 43, 1, 1), nil, -1},
		}},
		{"sequence wraps at MaxInt32", []step{
			{idemBatch(1, 0, math.MaxInt32-1, 2, 0), nil, -1},
			{idemBatch(1, 0, 0, 1, 2), nil, -1},
		}},
		{"non-idempotent batches are not tracked", []step{
			{idemBatch(-1, -1, -1, 5, 0), nil, -1},
			{idemBatch(-1, -1, -1, 5, 5), nil, -1},
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := producerStates{}
			for i, s := range tc.steps {
				dup, err := ps.check(s.b)
				if !errors.Is(err, s.wantErr) {
					t.Fatalf("step %d: err %v, want %v", i, err, s.wantErr)
				}
				if (dup != nil) != (s.dupOf >= 0) || (dup != nil && dup.firstOffset != s.dupOf) {
					t.Fatalf("step %d: duplicate %+v, want of offset %d", i, dup, s.dupOf)
				}
				if err == nil && dup == nil {
					ps.record(s.b)
				}
			}
		})
	}
}

func TestProducerStateKeepsLastFiveBatches(t *testing.T) {
	ps := producerStates{}
	for i := int32(0); i < 8; i++ {
		ps.record(idemBatch(1, 0, i, 1, int64(i)))
	}
	if dup, _ := ps.check(idemBatch(1, 0, 2, 1, 0)); dup != nil {
		t.Fatal("a batch older than the last five was still remembered")
	}
	if dup, _ := ps.check(idemBatch(1, 0, 5, 1, 0)); dup == nil || dup.firstOffset != 5 {
		t.Fatalf("recent batch not recognised: %+v", dup)
	}
}
