package txn

import "errors"

// Sentinel errors, each named for the Kafka error code it stands for; the
// Kafka adapter maps them in one table.
var (
	// ErrProducerFenced: the request's producer epoch is older than the
	// transactional id's (a newer producer took the id over, or the
	// coordinator aborted a timed-out transaction).
	ErrProducerFenced = errors.New("txn: producer fenced")
	// ErrInvalidProducerIDMapping: the producer id is not the one the
	// transactional id has, or the id has never been initialised.
	ErrInvalidProducerIDMapping = errors.New("txn: invalid producer id mapping")
	// ErrInvalidTxnState: the request does not fit the transaction's
	// state (EndTxn with nothing open, a commit of an aborted
	// transaction, a produce to a partition not added).
	ErrInvalidTxnState = errors.New("txn: invalid transaction state")
	// ErrConcurrentTransactions: the previous transaction is still being
	// completed; the client retries.
	ErrConcurrentTransactions = errors.New("txn: concurrent transactions")
	// ErrInvalidTransactionTimeout: the timeout is not positive or above
	// Config.MaxTimeout.
	ErrInvalidTransactionTimeout = errors.New("txn: invalid transaction timeout")
	// ErrTransactionalIDNotFound: DescribeTransactions of an unknown id.
	ErrTransactionalIDNotFound = errors.New("txn: transactional id not found")
	// ErrInvalidProducerEpoch: a produce with an epoch older than the
	// transaction's (the produce path's name for a fenced producer).
	ErrInvalidProducerEpoch = errors.New("txn: invalid producer epoch")
	// ErrCoordinatorNotAvailable: the coordinator is closed or its
	// journal failed. Retriable.
	ErrCoordinatorNotAvailable = errors.New("txn: coordinator not available")
	// ErrCorruptRecord: the journal holds a record that does not decode.
	ErrCorruptRecord = errors.New("txn: corrupt journal record")
)
