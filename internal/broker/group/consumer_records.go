package group

import (
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// Consumer group records, in Kafka 4.0's __consumer_offsets encoding. The
// key version is the record type; keys are not flexible (int16 version,
// int16-length strings), values are flexible version 0 (compact strings
// and arrays, tagged fields) as in Kafka's generated coordinator records:
//
//	3 ConsumerGroupMetadata                key: group           value: epoch int32
//	4 ConsumerGroupPartitionMetadata       key: group           value: [topic id uuid, name, partitions int32, [partition metadata]]
//	5 ConsumerGroupMemberMetadata          key: group, member   value: instance id?, rack id?, client id, client host,
//	                                                                   [subscribed topic], regex?, rebalance timeout ms, assignor?
//	6 ConsumerGroupTargetAssignmentMetadata key: group          value: assignment epoch int32
//	7 ConsumerGroupTargetAssignmentMember  key: group, member   value: [topic id uuid, [partition int32]]
//	8 ConsumerGroupCurrentMemberAssignment key: group, member   value: member epoch, previous epoch, state int8,
//	                                                                   [assigned], [pending revocation]
//
// Every key names one piece of state, so the last record per key is the
// state and a nil value (tombstone) deletes it. Tern leaves out Kafka's
// type 16 (resolved regular expressions): resolving is a function of the
// catalog, which is durable in the metadata log, so the first heartbeat
// after a restart resolves again; the partition metadata record tells
// whether the result differs from what the target assignment used.
const (
	keyConsumerMetadata     int16 = 3
	keyConsumerPartitions   int16 = 4
	keyConsumerMember       int16 = 5
	keyConsumerTargetEpoch  int16 = 6
	keyConsumerTargetMember int16 = 7
	keyConsumerCurrent      int16 = 8
)

// flexible value encoding.

func (w *encoder) uvarint(v uint64) { w.b = binary.AppendUvarint(w.b, v) }

func (w *encoder) compactStr(s string) {
	w.uvarint(uint64(len(s)) + 1)
	w.b = append(w.b, s...)
}

// compactNullStr writes "" as null.
func (w *encoder) compactNullStr(s string) {
	if s == "" {
		w.uvarint(0)
		return
	}
	w.compactStr(s)
}

func (w *encoder) compactLen(n int) { w.uvarint(uint64(n) + 1) }
func (w *encoder) uuid(id [16]byte) { w.b = append(w.b, id[:]...) }
func (w *encoder) noTags()          { w.uvarint(0) }

func (w *encoder) assignment(a assignment) {
	w.compactLen(len(a))
	for _, t := range a.topics() {
		w.uuid(t)
		w.compactLen(len(a[t]))
		for _, p := range a[t] {
			w.i32(p)
		}
		w.noTags()
	}
}

func (r *decoder) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b)
	if n <= 0 {
		r.err = fmt.Errorf("%w: bad varint", ErrCorruptRecord)
		return 0
	}
	r.b = r.b[n:]
	return v
}

// compactLen returns -1 for null.
func (r *decoder) compactLen() int {
	n := r.uvarint()
	if r.err == nil && n > uint64(len(r.b))+1 {
		r.err = fmt.Errorf("%w: length %d past the end", ErrCorruptRecord, n)
		return -1
	}
	return int(n) - 1
}

func (r *decoder) compactStr() string {
	n := r.compactLen()
	if n < 0 {
		return ""
	}
	return string(r.take(n))
}

func (r *decoder) uuid() (id [16]byte) {
	copy(id[:], r.take(16))
	return id
}

// skipTags skips a tagged-field section (fields Tern does not know).
func (r *decoder) skipTags() {
	for n := r.uvarint(); n > 0 && r.err == nil; n-- {
		r.uvarint() // tag
		r.take(int(r.uvarint()))
	}
}

func (r *decoder) assignment() assignment {
	a := assignment{}
	n := r.compactLen()
	for range max(n, 0) {
		t := r.uuid()
		np := r.compactLen()
		for range max(np, 0) {
			a.add(t, r.i32())
		}
		r.skipTags()
		if r.err != nil {
			break
		}
	}
	return a
}

// Keys.

func consumerKey(kind int16, group, member string) []byte {
	w := encoder{b: make([]byte, 0, 6+len(group)+len(member))}
	w.i16(kind)
	w.str(group)
	switch kind {
	case keyConsumerMember, keyConsumerTargetMember, keyConsumerCurrent:
		w.str(member)
	}
	return w.b
}

// decodeConsumerKey reads the rest of a consumer key of version kind into
// k; false if kind is not a consumer record type.
func decodeConsumerKey(kind int16, r *decoder, k *recordKey) bool {
	if kind < keyConsumerMetadata || kind > keyConsumerCurrent {
		return false
	}
	k.consumerKind = kind
	k.group = r.str()
	switch kind {
	case keyConsumerMember, keyConsumerTargetMember, keyConsumerCurrent:
		k.member = r.str()
	}
	return true
}

// Records.

func epochRecord(group string, epoch int32) JournalRecord {
	w := encoder{}
	w.i16(0)
	w.i32(epoch)
	w.noTags()
	return JournalRecord{Key: consumerKey(keyConsumerMetadata, group, ""), Value: w.b}
}

func partitionMetadataRecord(group string, topics []TopicMeta) JournalRecord {
	w := encoder{}
	w.i16(0)
	w.compactLen(len(topics))
	for _, t := range topics {
		w.uuid(t.ID)
		w.compactStr(t.Name)
		w.i32(t.Partitions)
		w.compactLen(0) // no rack metadata
		w.noTags()
	}
	w.noTags()
	return JournalRecord{Key: consumerKey(keyConsumerPartitions, group, ""), Value: w.b}
}

func memberRecord(group string, m *consumerMember) JournalRecord {
	w := encoder{}
	w.i16(0)
	w.compactNullStr(m.instanceID)
	w.compactNullStr(m.rackID)
	w.compactStr(m.clientID)
	w.compactStr(m.clientHost)
	w.compactLen(len(m.subscribedTopics))
	for _, t := range m.subscribedTopics {
		w.compactStr(t)
	}
	w.compactNullStr(m.subscribedRegex)
	w.i32(int32(m.rebalanceTimeout.Milliseconds()))
	w.compactNullStr(m.serverAssignor)
	w.noTags()
	return JournalRecord{Key: consumerKey(keyConsumerMember, group, m.id), Value: w.b}
}

func targetEpochRecord(group string, epoch int32) JournalRecord {
	w := encoder{}
	w.i16(0)
	w.i32(epoch)
	w.noTags()
	return JournalRecord{Key: consumerKey(keyConsumerTargetEpoch, group, ""), Value: w.b}
}

func targetRecord(group, member string, a assignment) JournalRecord {
	w := encoder{}
	w.i16(0)
	w.assignment(a)
	w.noTags()
	return JournalRecord{Key: consumerKey(keyConsumerTargetMember, group, member), Value: w.b}
}

func currentRecord(group string, m *consumerMember) JournalRecord {
	w := encoder{}
	w.i16(0)
	w.i32(m.epoch)
	w.i32(m.prevEpoch)
	w.b = append(w.b, byte(m.state))
	w.assignment(m.assigned)
	w.assignment(m.pending)
	w.noTags()
	return JournalRecord{Key: consumerKey(keyConsumerCurrent, group, m.id), Value: w.b}
}

func tombstone(kind int16, group, member string) JournalRecord {
	return JournalRecord{Key: consumerKey(kind, group, member)}
}

// memberTombstones delete a member, in Kafka's order (current assignment,
// target, metadata), so a replay never sees an assignment without its
// member.
func memberTombstones(group, member string) []JournalRecord {
	return []JournalRecord{
		tombstone(keyConsumerCurrent, group, member),
		tombstone(keyConsumerTargetMember, group, member),
		tombstone(keyConsumerMember, group, member),
	}
}

// consumerSnapshot is every record of the group's present state, to
// rewrite it after records failed to persist.
func consumerSnapshot(group string, cg *consumerGroup) []JournalRecord {
	recs := []JournalRecord{epochRecord(group, cg.epoch), partitionMetadataRecord(group, cg.subscribedMeta)}
	for _, id := range cg.memberIDs() {
		recs = append(recs, memberRecord(group, cg.members[id]))
	}
	for _, id := range sortedKeys(cg.targets) {
		recs = append(recs, targetRecord(group, id, cg.targets[id]))
	}
	recs = append(recs, targetEpochRecord(group, cg.assignmentEpoch))
	for _, id := range cg.memberIDs() {
		recs = append(recs, currentRecord(group, cg.members[id]))
	}
	return recs
}

// consumerTombstones delete every record of the group but its offsets.
func consumerTombstones(group string, cg *consumerGroup) []JournalRecord {
	var recs []JournalRecord
	ids := cg.memberIDs()
	for _, id := range ids {
		recs = append(recs, tombstone(keyConsumerCurrent, group, id))
	}
	for _, id := range sortedKeys(cg.targets) {
		recs = append(recs, tombstone(keyConsumerTargetMember, group, id))
	}
	recs = append(recs, tombstone(keyConsumerTargetEpoch, group, ""))
	for _, id := range ids {
		recs = append(recs, tombstone(keyConsumerMember, group, id))
	}
	return append(recs, tombstone(keyConsumerPartitions, group, ""), tombstone(keyConsumerMetadata, group, ""))
}

// Replay.

// loadConsumer applies one replayed consumer record to group g.
func (m *machine) loadConsumer(g *group, k recordKey, value []byte) error {
	if g.consumer == nil {
		if value == nil {
			return nil // a tombstone for state that is already gone
		}
		g.consumer = newConsumerGroup()
		g.consumer.exists = false
	}
	cg := g.consumer
	r := decoder{b: value}
	if value != nil {
		if v := r.i16(); r.err == nil && v != 0 {
			return fmt.Errorf("group %s: %w: unknown consumer record value version %d (type %d)", k.group, ErrCorruptRecord, v, k.consumerKind)
		}
	}
	member := func() *consumerMember {
		mem := cg.members[k.member]
		if mem == nil {
			mem = &consumerMember{id: k.member, assigned: assignment{}, pending: assignment{}}
			cg.members[k.member] = mem
		}
		return mem
	}
	switch k.consumerKind {
	case keyConsumerMetadata:
		if value == nil {
			cg.exists = false
			cg.epoch = 0
			break
		}
		cg.exists = true
		cg.epoch = r.i32()
	case keyConsumerPartitions:
		cg.subscribedMeta = nil
		if value == nil {
			break
		}
		n := r.compactLen()
		for range max(n, 0) {
			t := TopicMeta{ID: r.uuid(), Name: r.compactStr(), Partitions: r.i32()}
			for range max(r.compactLen(), 0) { // rack metadata, unused
				r.i32()
				for range max(r.compactLen(), 0) {
					r.compactStr()
				}
				r.skipTags()
			}
			r.skipTags()
			if r.err != nil {
				break
			}
			cg.subscribedMeta = append(cg.subscribedMeta, t)
		}
		sortTopicMetas(cg.subscribedMeta)
	case keyConsumerMember:
		if value == nil {
			delete(cg.members, k.member)
			break
		}
		mem := member()
		mem.instanceID = r.compactStr()
		mem.rackID = r.compactStr()
		mem.clientID = r.compactStr()
		mem.clientHost = r.compactStr()
		mem.subscribedTopics = nil
		for range max(r.compactLen(), 0) {
			mem.subscribedTopics = append(mem.subscribedTopics, r.compactStr())
		}
		slices.Sort(mem.subscribedTopics)
		mem.subscribedRegex = r.compactStr()
		mem.rebalanceTimeout = time.Duration(r.i32()) * time.Millisecond
		mem.serverAssignor = r.compactStr()
	case keyConsumerTargetEpoch:
		cg.assignmentEpoch = 0
		if value != nil {
			cg.assignmentEpoch = r.i32()
		}
	case keyConsumerTargetMember:
		if value == nil {
			delete(cg.targets, k.member)
			break
		}
		cg.targets[k.member] = r.assignment()
	case keyConsumerCurrent:
		if value == nil {
			// The member's other records have tombstones of their own.
			if mem := cg.members[k.member]; mem != nil {
				mem.epoch, mem.prevEpoch, mem.state = LeaveEpoch, LeaveEpoch, memberStable
				mem.assigned, mem.pending = assignment{}, assignment{}
			}
			break
		}
		mem := member()
		mem.epoch = r.i32()
		mem.prevEpoch = r.i32()
		if b := r.take(1); b != nil {
			mem.state = memberState(b[0])
		}
		mem.assigned = r.assignment()
		mem.pending = r.assignment()
	}
	if r.err != nil {
		return fmt.Errorf("group %s: consumer record type %d: %w", k.group, k.consumerKind, r.err)
	}
	return nil
}

// finishConsumerLoad makes a replayed consumer group serve: the indexes
// are rebuilt and every member's session (and pending revocation) starts
// now. It reports false if the group was deleted (only tombstones left).
func (m *machine) finishConsumerLoad(g *group, now time.Time) bool {
	cg := g.consumer
	if !cg.exists {
		g.consumer = nil
		return false
	}
	members := cg.members
	cg.members, cg.static, cg.owners = map[string]*consumerMember{}, map[string]string{}, map[topicPart]int32{}
	for _, id := range sortedKeys(members) {
		mem := members[id]
		if mem.epoch == LeaveEpoch {
			continue // its assignment was tombstoned: it left
		}
		switch mem.state {
		case memberStable, memberUnrevoked, memberUnreleased:
		default:
			// A state this version does not know: start the member over
			// as Kafka does (it is fenced on its next heartbeat).
			mem.state = memberStable
		}
		mem.sessionDeadline = now.Add(m.cfg.ConsumerSessionTimeout)
		if mem.state == memberUnrevoked {
			mem.revokeDeadline = now.Add(mem.rebalanceTimeout)
		}
		cg.setMember(mem)
	}
	for id := range cg.targets {
		if cg.members[id] == nil {
			delete(cg.targets, id)
		}
	}
	g.protocolType = GroupTypeConsumer
	g.persisted = true
	return true
}
