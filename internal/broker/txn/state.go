package txn

import (
	"cmp"
	"slices"
)

// State is a transaction's state, named as Kafka names them in
// DescribeTransactions and ListTransactions.
type State int8

const (
	Empty State = iota
	Ongoing
	PrepareCommit
	PrepareAbort
	CompleteCommit
	CompleteAbort
)

var stateNames = [...]string{"Empty", "Ongoing", "PrepareCommit", "PrepareAbort", "CompleteCommit", "CompleteAbort"}

func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "Unknown"
}

// ParseState is the inverse of String; ok is false for an unknown name.
func ParseState(name string) (State, bool) {
	i := slices.Index(stateNames[:], name)
	return State(i), i >= 0
}

// Partition names one topic partition.
type Partition struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
}

func comparePartitions(a, b Partition) int {
	return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
}

// Offset is one offset a transaction commits for a consumer group
// (TxnOffsetCommit); the group sees it only if the transaction commits.
type Offset struct {
	Topic       string `json:"topic"`
	Partition   int32  `json:"partition"`
	Offset      int64  `json:"offset"`
	LeaderEpoch int32  `json:"leader_epoch"`
	Metadata    string `json:"metadata,omitempty"`
}

// Transaction is a snapshot of one transactional id, for
// DescribeTransactions and ListTransactions.
type Transaction struct {
	ID            string
	ProducerID    int64
	ProducerEpoch int16
	TimeoutMs     int32
	State         State
	StartMs       int64 // when the open transaction began; -1 if none
	Partitions    []Partition
	Groups        []string
}

// txnState is what the journal keeps per transactional id: the last
// record of an id is its state.
type txnState struct {
	ProducerID int64 `json:"producer_id"`
	Epoch      int16 `json:"epoch"`
	// LastEpoch is the epoch the producer last knew when the coordinator
	// bumped it (timeout abort), so a KIP-360 InitProducerId naming it is
	// a recovery, not a zombie; -1 otherwise.
	LastEpoch  int16               `json:"last_epoch"`
	TimeoutMs  int32               `json:"timeout_ms"`
	State      string              `json:"state"`
	StartMs    int64               `json:"start_ms"`
	UpdateMs   int64               `json:"update_ms"`
	Partitions []Partition         `json:"partitions,omitempty"`
	Offsets    map[string][]Offset `json:"offsets,omitempty"` // by group; a group added without offsets has an empty list
}

// entry is one transactional id in memory.
type entry struct {
	id string
	// op serializes the operations of one transactional id across their
	// journal and marker I/O.
	op chan struct{}
	// st is guarded by Coordinator.mu; it is replaced, never mutated in
	// place, so a snapshot taken under mu stays valid after.
	st    txnState
	state State
}

func (e *entry) lock()   { e.op <- struct{}{} }
func (e *entry) unlock() { <-e.op }

func (e *entry) hasPartition(p Partition) bool {
	_, ok := slices.BinarySearchFunc(e.st.Partitions, p, comparePartitions)
	return ok
}

// withPartitions returns st with ps added (sorted, without duplicates).
func (st txnState) withPartitions(ps []Partition) txnState {
	out := slices.Clone(st.Partitions)
	for _, p := range ps {
		if i, ok := slices.BinarySearchFunc(out, p, comparePartitions); !ok {
			out = slices.Insert(out, i, p)
		}
	}
	st.Partitions = out
	return st
}

// withOffsets returns st with the group's offsets merged in (a later
// commit of a partition replaces an earlier one).
func (st txnState) withOffsets(group string, offs []Offset) txnState {
	m := make(map[string][]Offset, len(st.Offsets)+1)
	for g, o := range st.Offsets {
		m[g] = o
	}
	cur := slices.Clone(m[group])
	if cur == nil {
		cur = []Offset{}
	}
	for _, o := range offs {
		i := slices.IndexFunc(cur, func(c Offset) bool { return c.Topic == o.Topic && c.Partition == o.Partition })
		if i >= 0 {
			cur[i] = o
		} else {
			cur = append(cur, o)
		}
	}
	m[group] = cur
	st.Offsets = m
	return st
}

func (st txnState) snapshot(id string, state State) Transaction {
	t := Transaction{
		ID: id, ProducerID: st.ProducerID, ProducerEpoch: st.Epoch, TimeoutMs: st.TimeoutMs,
		State: state, StartMs: st.StartMs, Partitions: slices.Clone(st.Partitions),
	}
	for g := range st.Offsets {
		t.Groups = append(t.Groups, g)
	}
	slices.Sort(t.Groups)
	return t
}
