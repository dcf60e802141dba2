package txn

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Config tunes a Coordinator. Zero values take Kafka's defaults.
type Config struct {
	// MaxTimeout is transaction.max.timeout.ms: the largest transaction
	// timeout a producer may ask for (default 15 minutes).
	MaxTimeout time.Duration
	// CheckInterval is how often open transactions are checked against
	// their timeouts (Kafka's
	// transaction.abort.timed.out.transaction.cleanup.interval.ms,
	// default 10 seconds).
	CheckInterval time.Duration
	Now           func() time.Time
	Logger        *slog.Logger
}

func (c *Config) defaults() {
	if c.MaxTimeout <= 0 {
		c.MaxTimeout = 15 * time.Minute
	}
	if c.CheckInterval <= 0 {
		c.CheckInterval = 10 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
}

// Record is one journal record: the key is the transactional id, the
// value its state (JSON, see txnState), nil for a removed id.
type Record struct{ Key, Value []byte }

// Journal stores the coordinator's records durably, in order. Append
// returns once the records are durable. Replay calls fn with every record
// from the first, in order.
type Journal interface {
	Append(ctx context.Context, recs []Record) error
	Replay(fn func(Record) error) error
}

// Participants is what a transaction touches outside the coordinator.
type Participants interface {
	// AllocateProducerID hands out a producer id never handed out before.
	AllocateProducerID(ctx context.Context) (int64, error)
	// WriteMarkers appends a commit or abort control marker of the
	// producer to each partition and returns once they are durable. A
	// partition that no longer exists is skipped.
	WriteMarkers(ctx context.Context, producerID int64, epoch int16, commit bool, parts []Partition) error
	// CommitOffsets commits a committed transaction's offsets to the
	// group, whatever the group's state, and returns once durable.
	CommitOffsets(ctx context.Context, group string, offsets []Offset) error
}

// Coordinator owns every transactional id of the node.
type Coordinator struct {
	cfg Config
	j   Journal
	p   Participants

	mu         sync.Mutex
	txns       map[string]*entry
	byProducer map[int64]*entry
	closed     bool

	ctx    context.Context // cancelled by Close: background completions stop
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// New replays the journal. Transactions a crash left between their
// commit point and their completion are finished by Start, once the
// participants (partitions, group coordinator) are open.
func New(cfg Config, j Journal, p Participants) (*Coordinator, error) {
	cfg.defaults()
	c := &Coordinator{cfg: cfg, j: j, p: p, txns: map[string]*entry{}, byProducer: map[int64]*entry{}}
	c.ctx, c.cancel = context.WithCancel(context.Background())
	err := j.Replay(func(r Record) error {
		id := string(r.Key)
		if old := c.txns[id]; old != nil {
			delete(c.byProducer, old.st.ProducerID)
			delete(c.txns, id)
		}
		if r.Value == nil {
			return nil
		}
		var st txnState
		if err := json.Unmarshal(r.Value, &st); err != nil {
			return fmt.Errorf("%w: %q: %w", ErrCorruptRecord, id, err)
		}
		state, ok := ParseState(st.State)
		if !ok {
			return fmt.Errorf("%w: %q: state %q", ErrCorruptRecord, id, st.State)
		}
		e := newEntry(id)
		e.st, e.state = st, state
		c.txns[id] = e
		c.byProducer[st.ProducerID] = e
		return nil
	})
	if err != nil {
		c.cancel()
		return nil, err
	}
	return c, nil
}

func newEntry(id string) *entry {
	return &entry{id: id, op: make(chan struct{}, 1), st: txnState{ProducerID: -1, LastEpoch: -1, StartMs: -1}}
}

// Start finishes the transactions the journal left prepared (a crash
// after the commit point) and starts the timeout checker. A completion
// that fails is logged and retried by the checker.
func (c *Coordinator) Start(ctx context.Context) {
	c.mu.Lock()
	var prepared []*entry
	for _, e := range c.txns {
		if e.state == PrepareCommit || e.state == PrepareAbort {
			prepared = append(prepared, e)
		}
	}
	c.mu.Unlock()
	now := c.cfg.Now().UnixMilli()
	for _, e := range prepared {
		e.lock()
		c.settle(ctx, e, now)
		e.unlock()
	}
	c.wg.Add(1)
	go c.timeoutLoop()
}

// Close stops the timeout checker. Requests in flight finish; later ones
// get ErrCoordinatorNotAvailable.
func (c *Coordinator) Close() {
	c.mu.Lock()
	c.closed = true
	c.mu.Unlock()
	c.cancel()
	c.wg.Wait()
}

// lookup finds (or, with create, makes) the entry of an id.
func (c *Coordinator) lookup(id string, create bool) (*entry, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, ErrCoordinatorNotAvailable
	}
	e := c.txns[id]
	if e == nil {
		if !create {
			return nil, fmt.Errorf("%w: transactional id %q was never initialised", ErrInvalidProducerIDMapping, id)
		}
		e = newEntry(id)
		c.txns[id] = e
	}
	return e, nil
}

func (c *Coordinator) view(e *entry) (txnState, State) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return e.st, e.state
}

// persist makes st the durable state of e, then the visible one.
func (c *Coordinator) persist(ctx context.Context, e *entry, st txnState, state State) error {
	st.State = state.String()
	st.UpdateMs = c.cfg.Now().UnixMilli()
	v, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("txn: encode %q: %w", e.id, err)
	}
	if err := c.j.Append(ctx, []Record{{Key: []byte(e.id), Value: v}}); err != nil {
		return fmt.Errorf("%w: %w", ErrCoordinatorNotAvailable, err)
	}
	c.mu.Lock()
	if e.st.ProducerID != st.ProducerID {
		if c.byProducer[e.st.ProducerID] == e {
			delete(c.byProducer, e.st.ProducerID)
		}
		c.byProducer[st.ProducerID] = e
	}
	e.st, e.state = st, state
	c.mu.Unlock()
	return nil
}

// checkProducer validates a request's producer id and epoch against the
// transactional id's.
func checkProducer(id string, st txnState, producerID int64, epoch int16) error {
	switch {
	case st.ProducerID < 0 || producerID != st.ProducerID:
		return fmt.Errorf("%w: transactional id %q has producer id %d, not %d", ErrInvalidProducerIDMapping, id, st.ProducerID, producerID)
	case epoch != st.Epoch:
		return fmt.Errorf("%w: transactional id %q is at epoch %d, not %d", ErrProducerFenced, id, st.Epoch, epoch)
	}
	return nil
}
