package kafka

import "github.com/twmb/franz-go/pkg/kmsg"

// apiSpec is one supported API: its key, the version range Tern speaks,
// and its handler. A handler must call r.respond exactly once, possibly
// later from another goroutine (conn.goAsync).
type apiSpec struct {
	key      int16
	min, max int16
	handle   func(c *conn, r *request)
}

const apiVersionsKey = 18

// apiTable is every API Tern answers, one literal table: dispatch and the
// ApiVersions answer both read it, so they cannot disagree. Minimum
// versions follow Kafka 4.0, which dropped the pre-0.11 message formats;
// maxima are the newest versions whose every field Tern handles
// (docs/kafka.md lists what is ignored).
func apiTable() []apiSpec {
	return []apiSpec{
		{0, 3, 11, (*conn).handleProduce},
		{1, 4, 16, (*conn).handleFetch},
		{2, 1, 6, (*conn).handleListOffsets},
		{3, 0, 12, (*conn).handleMetadata},
		{8, 2, 9, (*conn).handleOffsetCommit},
		{9, 1, 9, (*conn).handleOffsetFetch},
		{10, 0, 4, (*conn).handleFindCoordinator},
		{11, 0, 9, (*conn).handleJoinGroup},
		{12, 0, 4, (*conn).handleHeartbeat},
		{13, 0, 5, (*conn).handleLeaveGroup},
		{14, 0, 5, (*conn).handleSyncGroup},
		{15, 0, 6, (*conn).handleDescribeGroups},
		{16, 0, 5, (*conn).handleListGroups},
		{17, 0, 1, (*conn).handleSASLHandshake},
		{18, 0, 4, (*conn).handleApiVersions},
		{19, 2, 7, (*conn).handleCreateTopics},
		{20, 1, 6, (*conn).handleDeleteTopics},
		{21, 0, 2, (*conn).handleDeleteRecords},
		{22, 0, 4, (*conn).handleInitProducerID},
		{23, 2, 4, (*conn).handleOffsetForLeaderEpoch},
		{24, 0, 3, (*conn).handleAddPartitionsToTxn},
		{25, 0, 3, (*conn).handleAddOffsetsToTxn},
		{26, 0, 3, (*conn).handleEndTxn},
		{28, 0, 3, (*conn).handleTxnOffsetCommit},
		{29, 1, 3, (*conn).handleDescribeACLs},
		{30, 1, 3, (*conn).handleCreateACLs},
		{31, 1, 3, (*conn).handleDeleteACLs},
		{32, 1, 4, (*conn).handleDescribeConfigs},
		{33, 0, 2, (*conn).handleAlterConfigs},
		{35, 1, 4, (*conn).handleDescribeLogDirs},
		{36, 0, 2, (*conn).handleSASLAuthenticate},
		{37, 0, 3, (*conn).handleCreatePartitions},
		{42, 0, 2, (*conn).handleDeleteGroups},
		{44, 0, 1, (*conn).handleIncrementalAlterConfigs},
		{47, 0, 0, (*conn).handleOffsetDelete},
		{50, 0, 0, (*conn).handleDescribeUserSCRAMCredentials},
		{51, 0, 0, (*conn).handleAlterUserSCRAMCredentials},
		{60, 0, 1, (*conn).handleDescribeCluster},
		{65, 0, 0, (*conn).handleDescribeTransactions},
		{66, 0, 1, (*conn).handleListTransactions},
		{68, 0, 1, (*conn).handleConsumerGroupHeartbeat},
		{69, 0, 1, (*conn).handleConsumerGroupDescribe},
	}
}

// apiIndex is the table indexed by key for dispatch.
type apiIndex struct {
	byKey [128]apiSpec
	list  []apiSpec
}

func newAPIIndex() *apiIndex {
	idx := &apiIndex{list: apiTable()}
	for _, a := range idx.list {
		idx.byKey[a.key] = a
	}
	return idx
}

func (idx *apiIndex) lookup(key int16) (apiSpec, bool) {
	if key < 0 || int(key) >= len(idx.byKey) || idx.byKey[key].handle == nil {
		return apiSpec{}, false
	}
	return idx.byKey[key], true
}

func (idx *apiIndex) versionKeys() []kmsg.ApiVersionsResponseApiKey {
	out := make([]kmsg.ApiVersionsResponseApiKey, 0, len(idx.list))
	for _, a := range idx.list {
		k := kmsg.NewApiVersionsResponseApiKey()
		k.ApiKey, k.MinVersion, k.MaxVersion = a.key, a.min, a.max
		out = append(out, k)
	}
	return out
}
