package kafka

import (
	"errors"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/broker/txn"
)

// errorCodes maps every sentinel of the core to the Kafka error a real
// broker returns in the same situation. It is the only place the adapter
// decides codes; TestErrorCodesTable checks it.
var errorCodes = []struct {
	err  error
	code *kerr.Error
}{
	{broker.ErrUnknownTopicOrPartition, kerr.UnknownTopicOrPartition},
	{broker.ErrUnknownTopicID, kerr.UnknownTopicID},
	{broker.ErrTopicExists, kerr.TopicAlreadyExists},
	{broker.ErrInvalidTopic, kerr.InvalidTopicException},
	{broker.ErrInvalidPartitions, kerr.InvalidPartitions},
	{broker.ErrInvalidReplicationFactor, kerr.InvalidReplicationFactor},
	{broker.ErrInvalidConfig, kerr.InvalidConfig},
	{broker.ErrInvalidRequest, kerr.InvalidRequest},
	{broker.ErrOffsetOutOfRange, kerr.OffsetOutOfRange},
	{broker.ErrCorruptMessage, kerr.CorruptMessage},
	{broker.ErrInvalidRecord, kerr.InvalidRecord},
	{broker.ErrRecordTooLarge, kerr.MessageTooLarge},
	{broker.ErrUnsupportedMessageFormat, kerr.UnsupportedForMessageFormat},
	{broker.ErrDuplicateSequence, kerr.DuplicateSequenceNumber},
	{broker.ErrOutOfOrderSequence, kerr.OutOfOrderSequenceNumber},
	{broker.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{broker.ErrUnknownProducerID, kerr.UnknownProducerID},
	{broker.ErrStorage, kerr.KafkaStorageError},
	{broker.ErrClosed, kerr.NotLeaderForPartition},
	{broker.ErrTopicDeletionDisabled, kerr.TopicDeletionDisabled},
	{broker.ErrPolicyViolation, kerr.PolicyViolation},
	{broker.ErrNotSupported, kerr.UnsupportedVersion},
	{broker.ErrTimeout, kerr.RequestTimedOut},
	{broker.ErrNotFound, kerr.ResourceNotFound},
	{broker.ErrUnacceptableCredential, kerr.UnacceptableCredential},
	{broker.ErrUnsupportedMechanism, kerr.UnsupportedSaslMechanism},
	{broker.ErrDuplicate, kerr.DuplicateResource},

	{group.ErrUnknownMemberID, kerr.UnknownMemberID},
	{group.ErrIllegalGeneration, kerr.IllegalGeneration},
	{group.ErrRebalanceInProgress, kerr.RebalanceInProgress},
	{group.ErrInconsistentGroupProtocol, kerr.InconsistentGroupProtocol},
	{group.ErrMemberIDRequired, kerr.MemberIDRequired},
	{group.ErrFencedInstanceID, kerr.FencedInstanceID},
	{group.ErrInvalidSessionTimeout, kerr.InvalidSessionTimeout},
	{group.ErrGroupMaxSizeReached, kerr.GroupMaxSizeReached},
	{group.ErrInvalidGroupID, kerr.InvalidGroupID},
	{group.ErrGroupIDNotFound, kerr.GroupIDNotFound},
	{group.ErrNonEmptyGroup, kerr.NonEmptyGroup},
	{group.ErrGroupSubscribedToTopic, kerr.GroupSubscribedToTopic},
	{group.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{group.ErrOffsetMetadataTooLarge, kerr.OffsetMetadataTooLarge},
	{group.ErrCorruptRecord, kerr.UnknownServerError},
	{group.ErrFencedMemberEpoch, kerr.FencedMemberEpoch},
	{group.ErrStaleMemberEpoch, kerr.StaleMemberEpoch},
	{group.ErrUnreleasedInstanceID, kerr.UnreleasedInstanceID},
	{group.ErrUnsupportedAssignor, kerr.UnsupportedAssignor},
	{group.ErrInvalidRequest, kerr.InvalidRequest},
	{group.ErrInvalidRegularExpression, kerr.InvalidRegularExpression},
	{group.ErrUnsupportedVersion, kerr.UnsupportedVersion},

	{txn.ErrProducerFenced, kerr.ProducerFenced},
	{txn.ErrInvalidProducerIDMapping, kerr.InvalidProducerIDMapping},
	{txn.ErrInvalidTxnState, kerr.InvalidTxnState},
	{txn.ErrConcurrentTransactions, kerr.ConcurrentTransactions},
	{txn.ErrInvalidTransactionTimeout, kerr.InvalidTransactionTimeout},
	{txn.ErrTransactionalIDNotFound, kerr.TransactionalIDNotFound},
	{txn.ErrInvalidProducerEpoch, kerr.InvalidProducerEpoch},
	{txn.ErrCoordinatorNotAvailable, kerr.CoordinatorNotAvailable},
	{txn.ErrCorruptRecord, kerr.UnknownServerError},
}

// errCode returns the Kafka code for err: 0 for nil, and
// UNKNOWN_SERVER_ERROR for anything the table doesn't name.
func errCode(err error) int16 {
	if err == nil {
		return 0
	}
	for _, e := range errorCodes {
		if errors.Is(err, e.err) {
			return e.code.Code
		}
	}
	return kerr.UnknownServerError.Code
}

// errMessage is the human text some responses carry beside the code.
func errMessage(err error) *string {
	if err == nil {
		return nil
	}
	s := err.Error()
	return &s
}

// txnCode is errCode for the transaction APIs: a fenced producer is
// PRODUCER_FENCED from the version that introduced it (KIP-588), and
// INVALID_PRODUCER_EPOCH before, which older clients know.
func txnCode(err error, version, fencedSince int16) int16 {
	if version < fencedSince && errors.Is(err, txn.ErrProducerFenced) {
		return kerr.InvalidProducerEpoch.Code
	}
	return errCode(err)
}
