package compact

import (
	"math"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/storage"
)

func TestMakePlan(t *testing.T) {
	now := time.UnixMilli(1_000_000)
	// Four sealed segments of 100 bytes: [0,10) [10,20) [20,30) [30,40),
	// timestamps 1000 apart ending at now-1000; active segment at 40.
	seg := func(i int64) storage.SegmentInfo {
		return storage.SegmentInfo{Base: i * 10, End: i*10 + 10, Bytes: 100, MaxTimestamp: now.UnixMilli() - 1000*(4-i)}
	}
	sealed := []storage.SegmentInfo{seg(0), seg(1), seg(2), seg(3)}
	base := Settings{Compact: true, MinCleanableRatio: 0.5, MaxCompactionLag: math.MaxInt64, FirstUncleanable: -1, SegmentBytes: 1 << 30}
	tests := []struct {
		name       string
		checkpoint int64
		start      int64
		horizon    int64
		set        func(*Settings)
		firstTS    int64 // first batch time of every segment
		wantDirty  [2]int64
		wantClean  int64
		cleanable  bool
	}{
		{"never cleaned", -1, 0, -1, nil, 0, [2]int64{0, 40}, 0, true},
		{"half dirty is not above 0.5", 20, 0, -1, nil, 0, [2]int64{20, 40}, 200, false},
		{"ratio lowered", 20, 0, -1, func(s *Settings) { s.MinCleanableRatio = 0.4 }, 0, [2]int64{20, 40}, 200, true},
		{"checkpoint past the end starts over", 99, 0, -1, nil, 0, [2]int64{0, 40}, 0, true},
		{"checkpoint below the start starts there", 5, 10, -1, nil, 0, [2]int64{10, 40}, 100, true},
		{"owner's bound", -1, 0, -1, func(s *Settings) { s.FirstUncleanable = 25 }, 0, [2]int64{0, 25}, 0, true},
		{"min lag holds back young segments", -1, 0, -1, func(s *Settings) { s.MinCompactionLag = 2500 * time.Millisecond }, 0, [2]int64{0, 20}, 0, true},
		{"min lag holds back everything", 10, 0, -1, func(s *Settings) { s.MinCompactionLag = time.Hour }, 0, [2]int64{10, 10}, 100, false},
		{"max lag forces a clean below the ratio", 30, 0, -1, func(s *Settings) { s.MaxCompactionLag = time.Second }, now.UnixMilli() - 5000, [2]int64{30, 40}, 300, true},
		{"max lag not reached", 30, 0, -1, func(s *Settings) { s.MaxCompactionLag = time.Hour }, now.UnixMilli() - 5000, [2]int64{30, 40}, 300, false},
		{"tombstones due", 40, 0, now.UnixMilli(), nil, 0, [2]int64{40, 40}, 400, true},
		{"tombstones not due yet", 40, 0, now.UnixMilli() + 1, nil, 0, [2]int64{40, 40}, 400, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := base
			if tt.set != nil {
				tt.set(&s)
			}
			v := logView{sealed: sealed, activeBase: 40, start: tt.start, end: 45, checkpoint: tt.checkpoint, horizon: tt.horizon,
				firstBatchTime: func(storage.SegmentInfo) int64 { return tt.firstTS }}
			p := makePlan(v, s, now)
			if p.firstDirty != tt.wantDirty[0] || p.firstUncleanable != tt.wantDirty[1] || p.cleanBytes != tt.wantClean {
				t.Fatalf("plan [%d, %d) clean %d bytes; want [%d, %d) clean %d", p.firstDirty, p.firstUncleanable, p.cleanBytes, tt.wantDirty[0], tt.wantDirty[1], tt.wantClean)
			}
			if got := p.cleanable(s); got != tt.cleanable {
				t.Fatalf("cleanable = %v (ratio %.2f, overdue %v, tombstones %v)", got, p.dirtyRatio(), p.overdue, p.tombstonesDue)
			}
		})
	}
}
