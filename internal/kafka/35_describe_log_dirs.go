package kafka

import (
	"syscall"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
)

// DescribeLogDirs, versions 1-4.
//
// One log directory, the node's data directory, with the size of every
// partition (or of the asked ones; a nil topic list means all). v4+
// reports the filesystem's total and usable bytes. OffsetLag is 0: there
// are no future replicas to lag. Needs DESCRIBE on the cluster: otherwise
// no directories, and CLUSTER_AUTHORIZATION_FAILED (v3+; older versions
// have no field for it). Stream topics (broker.IsStreamTopic) are left
// out for all but super users.
func (c *conn) handleDescribeLogDirs(r *request) {
	req := r.kreq.(*kmsg.DescribeLogDirsRequest)
	resp := req.ResponseKind().(*kmsg.DescribeLogDirsResponse)
	az := c.authz()
	if !allowedOnCluster(az, opDescribe) {
		resp.ErrorCode = kerr.ClusterAuthorizationFailed.Code
		r.respond(resp)
		return
	}
	dirName, parts := c.s.broker.LogDirs()
	want := func(string, int32) bool { return true }
	if req.Topics != nil {
		asked := map[string]map[int32]bool{}
		for _, t := range req.Topics {
			asked[t.Topic] = map[int32]bool{}
			for _, p := range t.Partitions {
				asked[t.Topic][p] = true
			}
		}
		want = func(t string, p int32) bool { return asked[t][p] }
	}
	dir := kmsg.NewDescribeLogDirsResponseDir()
	dir.Dir = dirName
	dir.TotalBytes, dir.UsableBytes = -1, -1
	var st syscall.Statfs_t
	if err := syscall.Statfs(dirName, &st); err == nil {
		dir.TotalBytes = int64(st.Blocks) * int64(st.Bsize)
		dir.UsableBytes = int64(st.Bavail) * int64(st.Bsize)
	}
	byTopic := map[string]int{}
	for _, p := range parts {
		if !want(p.Topic, p.Partition) || broker.IsStreamTopic(p.Topic) && !az.Allowed(opDescribe, resTopic, p.Topic) {
			continue
		}
		i, ok := byTopic[p.Topic]
		if !ok {
			i = len(dir.Topics)
			byTopic[p.Topic] = i
			t := kmsg.NewDescribeLogDirsResponseDirTopic()
			t.Topic = p.Topic
			dir.Topics = append(dir.Topics, t)
		}
		rp := kmsg.NewDescribeLogDirsResponseDirTopicPartition()
		rp.Partition, rp.Size, rp.OffsetLag = p.Partition, p.Size, p.OffsetLag
		dir.Topics[i].Partitions = append(dir.Topics[i].Partitions, rp)
	}
	resp.Dirs = []kmsg.DescribeLogDirsResponseDir{dir}
	r.respond(resp)
}
