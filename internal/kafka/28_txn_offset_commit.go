package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker/txn"
)

// TxnOffsetCommit, versions 0-3.
//
// Offsets a transactional producer commits for a consumer group: kept
// with the transaction, durably, and visible to the group (OffsetFetch)
// only once the transaction commits; until then an OffsetFetch that
// requires stable offsets answers UNSTABLE_OFFSET_COMMIT for them. The
// group must have been added with AddOffsetsToTxn (INVALID_TXN_STATE).
// v3+ carries the consumer's member id and generation (KIP-447): a
// consumer that is no longer a member of the current generation gets
// ILLEGAL_GENERATION / UNKNOWN_MEMBER_ID / FENCED_INSTANCE_ID, so a
// zombie cannot commit. A fenced producer epoch is INVALID_PRODUCER_EPOCH,
// as Kafka's group coordinator answers.
//
// As Kafka: WRITE on the transactional id
// (TRANSACTIONAL_ID_AUTHORIZATION_FAILED), READ on the group
// (GROUP_AUTHORIZATION_FAILED), READ on each topic
// (TOPIC_AUTHORIZATION_FAILED, that topic only) and existence
// (UNKNOWN_TOPIC_OR_PARTITION). Metadata longer than the group limit is
// OFFSET_METADATA_TOO_LARGE.
func (c *conn) handleTxnOffsetCommit(r *request) {
	req := r.kreq.(*kmsg.TxnOffsetCommitRequest)
	resp := req.ResponseKind().(*kmsg.TxnOffsetCommitResponse)
	az := c.authz()
	var all int16
	switch {
	case !az.Allowed(opWrite, resTxnID, req.TransactionalID):
		all = kerr.TransactionalIDAuthorizationFailed.Code
	case !az.Allowed(opRead, resGroup, req.Group):
		all = kerr.GroupAuthorizationFailed.Code
	default:
		instance := ""
		if req.InstanceID != nil {
			instance = *req.InstanceID
		}
		if err := c.s.broker.Groups.ValidateTxnMember(req.Group, req.MemberID, instance, req.Generation); err != nil {
			all = errCode(err)
		}
	}
	codes := make([][]int16, len(req.Topics))
	var offs []txn.Offset
	for i, t := range req.Topics {
		readable := all == 0 && az.Allowed(opRead, resTopic, t.Topic)
		codes[i] = make([]int16, len(t.Partitions))
		for j, p := range t.Partitions {
			switch {
			case all != 0:
				codes[i][j] = all
				continue
			case !readable:
				codes[i][j] = kerr.TopicAuthorizationFailed.Code
				continue
			}
			if _, _, _, err := c.s.broker.PartitionOffsets(t.Topic, p.Partition); err != nil {
				codes[i][j] = errCode(err)
				continue
			}
			if max := c.s.broker.Groups.MaxOffsetMetadataBytes(); p.Metadata != nil && max > 0 && len(*p.Metadata) > max {
				codes[i][j] = kerr.OffsetMetadataTooLarge.Code
				continue
			}
			o := txn.Offset{Topic: t.Topic, Partition: p.Partition, Offset: p.Offset, LeaderEpoch: p.LeaderEpoch}
			if p.Metadata != nil {
				o.Metadata = *p.Metadata
			}
			offs = append(offs, o)
		}
	}
	if all == 0 && len(offs) > 0 {
		err := c.s.broker.Txns.CommitOffsets(c.ctx, req.TransactionalID, req.ProducerID, req.ProducerEpoch, req.Group, offs)
		code := errCode(err)
		if errors.Is(err, txn.ErrProducerFenced) {
			code = kerr.InvalidProducerEpoch.Code
		}
		for i := range codes {
			for j := range codes[i] {
				if codes[i][j] == 0 {
					codes[i][j] = code
				}
			}
		}
	}
	for i, t := range req.Topics {
		rt := kmsg.NewTxnOffsetCommitResponseTopic()
		rt.Topic = t.Topic
		for j, p := range t.Partitions {
			rp := kmsg.NewTxnOffsetCommitResponseTopicPartition()
			rp.Partition, rp.ErrorCode = p.Partition, codes[i][j]
			rt.Partitions = append(rt.Partitions, rp)
		}
		resp.Topics = append(resp.Topics, rt)
	}
	r.respond(resp)
}
