package queue

import "fmt"

// recover loads a checkpointed LevelState into an empty level. Unsettled
// offsets below the old frontier were delivered (or requeued) before the
// restart: they come back requeued with a delivery count of 1, so they are
// delivered first and flagged redelivered. Sizes of recovered messages are
// unknown and count as 0 bytes.
func (l *level) recover(st LevelState) error {
	if st.LowWater < 0 || st.LowWater > st.Frontier || st.Frontier > st.End {
		return fmt.Errorf("%w: low-water %d, frontier %d, end %d", ErrInvalidState, st.LowWater, st.Frontier, st.End)
	}
	prev := st.LowWater
	for _, iv := range st.Acked {
		if iv.Start < prev || iv.Start >= iv.End || iv.End > st.End {
			return fmt.Errorf("%w: acked %v after %d within end %d", ErrInvalidState, iv, prev, st.End)
		}
		prev = iv.End
	}
	l.end, l.lowWater, l.frontier = st.End, st.LowWater, st.Frontier
	l.sizesFrom = st.End
	// Requeue the gaps of Acked below the frontier, highest first to build
	// the descending slice by appending.
	hi := st.Frontier
	for i := len(st.Acked) - 1; i >= -1; i-- {
		lo := st.LowWater
		if i >= 0 {
			iv := st.Acked[i]
			if iv.Start >= st.Frontier {
				continue
			}
			lo = iv.End
		}
		for off := hi - 1; off >= lo; off-- {
			l.requeued = append(l.requeued, ready{offset: off, count: 1})
		}
		if i >= 0 {
			hi = st.Acked[i].Start
		}
	}
	var fx Effects
	for _, iv := range st.Acked {
		l.acked.add(iv.Start, iv.End)
		if iv.End > st.Frontier {
			l.holes += iv.End - max(iv.Start, st.Frontier)
		}
	}
	l.skipSettled()
	l.advanceLowWater(&fx) // a checkpoint's Acked may start at LowWater
	return nil
}
