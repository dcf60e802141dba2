package broker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/ternmq/tern/internal/broker/group"
	"github.com/ternmq/tern/internal/broker/txn"
	"github.com/ternmq/tern/internal/compact"
	"github.com/ternmq/tern/internal/progress"
	"github.com/ternmq/tern/internal/storage"
	"github.com/ternmq/tern/internal/storage/vfs"
)

// Config is what the core needs; internal/server builds it from the node
// configuration.
type Config struct {
	DataDir           string
	NodeID            int32
	LogDefaults       storage.Config
	AutoCreateTopics  bool
	DefaultPartitions int32
	MaxMessageBytes   int32
	Group             group.Config
	Txn               txn.Config
	// RetentionCheckInterval is how often retention runs; zero disables
	// the background loop (tests call EnforceRetention directly).
	RetentionCheckInterval time.Duration
	Logger                 *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// FS is the filesystem every log uses; nil means the real one. Tests
	// inject faults through it.
	FS vfs.FS
	// DiskFreeLimit raises the resource alarm (publishers blocked) when
	// the data directory's filesystem has fewer free bytes. Zero disables.
	DiskFreeLimit int64
	// DefaultUser and DefaultPass are the administrator created on a data
	// directory that never had users (RabbitMQ's default_user).
	DefaultUser, DefaultPass string
	// LoopbackUsers may log in only from loopback addresses (RabbitMQ's
	// loopback_users), whichever protocol or API they use.
	LoopbackUsers []string
	// LoginFailuresPerMinute is how many failed logins one address may
	// make in a minute before its further attempts are refused until the
	// minute ends; 0 is unlimited.
	LoginFailuresPerMinute int
	// MaxConnectionsPerUser caps one user's open connections across
	// protocols (Connected); 0 is unlimited.
	MaxConnectionsPerUser int
	// ACL switches Kafka authorization on and sets its policy (acl.go).
	ACL ACLConfig
	// OnSync is told the duration of every group-commit fdatasync of every
	// log (storage.Options.OnSync), for metrics; nil skips timing.
	OnSync func(time.Duration)
	// DeadLetterProps rewrites an AMQP message's encoded properties for
	// dead-lettering (x-death headers, expiration removed) and returns its
	// headers for routing. The AMQP adapter provides it, since only it
	// knows the encoding; nil drops dead-lettered messages.
	DeadLetterProps func(props []byte, d DeathInfo) ([]byte, map[string]any, error)
	// Progress receives the progress of long operations: startup recovery
	// ("open_logs"), topic deletion ("delete_topic"), queue purges
	// ("purge_queue"). nil reports nothing.
	Progress *progress.Registry
	// Cleaner configures log compaction (compaction.go).
	Cleaner CleanerConfig
}

// DeathInfo describes why and where a message was dead-lettered.
type DeathInfo struct {
	Queue, Reason, Exchange, RoutingKey string
	Time                                time.Time
}

// Names of the broker's own logs inside DataDir. They start with "__" as
// Kafka's internal topics do, and are not topics: clients can't see them.
const (
	metaDirName   = "__cluster_metadata-0"
	groupsDirName = "__consumer_offsets-0"
)

// Broker is the protocol-neutral core: the catalog of topics and their
// partitions, produce and fetch, producer ids, and the group coordinator.
// Both protocol adapters call it; it never sees wire types.
//
// Lock order: Broker.cfgMu before Broker.mu before partition.mu; metaLog.mu is taken with
// Broker.mu held (catalog changes are logged before they are applied).
type Broker struct {
	cfg    Config
	logger *slog.Logger

	// cfgMu serializes catalog and config changes end to end (read the
	// current state, resolve configs, log the change, apply it), so two
	// concurrent changes can neither lose one another nor apply in an
	// order different from the catalog log's. Taken before mu.
	cfgMu sync.Mutex

	mu              sync.RWMutex
	topics          map[string]*Topic
	vhosts          map[string]*VHost
	brokerOverrides map[string]string
	nextProducerID  int64 // first id of the unreserved range
	producerIDEnd   int64 // ids below this are reserved in the metadata log
	closed          bool

	alarm diskAlarm
	// vhostSubs are told of deleted virtual hosts (OnVHostDeleted).
	vhostSubsMu sync.Mutex
	vhostSubs   []func(string)
	// staleStreamTopics are topics of deleted stream queues that owned
	// them, by name with their id, still there at start: a crash came
	// between the stream's delete and its topic's. settleStreams deletes
	// them.
	staleStreamTopics map[string][16]byte

	// vhostUnrecorded: the catalog has no vhost record yet, so "/" is
	// implicit until seedDefaultVHost records it.
	vhostUnrecorded bool
	meta            *metaLog
	users           *users
	logins          loginGuard
	conns           connCounts
	acls            aclStore
	groupLog        *storage.Log
	Groups          *group.Coordinator
	txnLog          *storage.Log
	Txns            *txn.Coordinator
	cleaner         *compact.Cleaner // compaction.go
	stop            chan struct{}
	bg              sync.WaitGroup
	inflight        sync.WaitGroup
	closeOnce       sync.Once
}

// Open recovers the broker's state from cfg.DataDir (creating it if
// needed) and starts its background work. Call Close to stop it.
// Opening every log (and recovering those a crash left unclean) is
// reported to cfg.Progress as one "open_logs" task counting the topic
// partitions and AMQP queues opened; the crash tests read "recover" in a
// log line as a recovery, so the task is not named so.
func Open(cfg Config) (_ *Broker, err error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	recovery := cfg.Progress.Start("open_logs", cfg.DataDir, "partitions", 0)
	defer func() { recovery.Finish(err) }()
	if err := os.MkdirAll(cfg.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("data dir: %w", err)
	}
	b := &Broker{
		cfg:             cfg,
		logger:          cfg.Logger,
		topics:          map[string]*Topic{},
		vhosts:          map[string]*VHost{},
		brokerOverrides: map[string]string{},
		users:           newUsers(),
		logins:          loginGuard{limit: cfg.LoginFailuresPerMinute, now: cfg.Now, logger: cfg.Logger, byAddr: map[netip.Addr]*loginWindow{}},
		conns:           connCounts{limit: cfg.MaxConnectionsPerUser},
		stop:            make(chan struct{}),
	}
	metaCfg := storage.DefaultConfig()
	metaCfg.Sync = storage.SyncAlways
	metaCfg.RetentionAge, metaCfg.RetentionBytes = -1, -1
	ml, err := storage.Open(filepath.Join(cfg.DataDir, metaDirName), metaCfg, b.storageOptions())
	if err != nil {
		return nil, fmt.Errorf("open metadata log: %w", err)
	}
	b.meta = &metaLog{log: ml}
	if err := b.loadCatalog(recovery); err != nil {
		ml.Close()
		return nil, err
	}
	b.users.publishGrants()
	b.acls.publish()
	if err := b.seedDefaultVHost(context.Background()); err != nil {
		b.closeLogs()
		return nil, err
	}
	if err := b.settleStreams(context.Background()); err != nil {
		b.closeLogs()
		return nil, err
	}
	if err := b.seedDefaultUser(context.Background()); err != nil {
		b.closeLogs()
		return nil, err
	}
	gl, err := b.openInternalLog(groupsDirName)
	if err != nil {
		b.closeLogs()
		return nil, fmt.Errorf("open group log: %w", err)
	}
	b.groupLog = gl
	gcfg := cfg.Group
	gcfg.Topics = groupTopics{b}
	if gcfg.Logger == nil {
		gcfg.Logger = cfg.Logger.With("component", "group")
	}
	if gcfg.Now == nil {
		gcfg.Now = cfg.Now
	}
	coord, err := group.NewCoordinator(gcfg, &groupJournal{log: gl})
	if err != nil {
		b.closeLogs()
		return nil, fmt.Errorf("load consumer groups: %w", err)
	}
	b.Groups = coord
	if err := b.openTxns(); err != nil {
		b.Groups.Close()
		b.closeLogs()
		return nil, err
	}
	b.startCleaner()
	if cfg.RetentionCheckInterval > 0 {
		b.bg.Add(1)
		go b.retentionLoop()
	}
	if cfg.DiskFreeLimit > 0 {
		b.alarm.limit, b.alarm.freeFn = cfg.DiskFreeLimit, statfsFree(cfg.DataDir)
		b.alarm.check()
		b.bg.Add(1)
		go b.alarmLoop()
	}
	return b, nil
}

func (b *Broker) storageOptions() storage.Options {
	return storage.Options{Logger: b.logger.With("component", "storage"), Now: b.cfg.Now, FS: b.cfg.FS, OnSync: b.cfg.OnSync}
}

// logDefaults returns the broker-wide defaults for topic logs as
// configured at start; brokerConfigs layers the dynamic overrides on top.
func (b *Broker) logDefaults() storage.Config {
	return b.cfg.LogDefaults
}

// enter registers an in-flight operation so Close can wait for it; it
// fails once the broker is closing.
func (b *Broker) enter() error {
	b.mu.RLock()
	defer b.mu.RUnlock()
	if b.closed {
		return ErrClosed
	}
	b.inflight.Add(1)
	return nil
}

func (b *Broker) leave() { b.inflight.Done() }

// Close stops background work, waits for in-flight appends, and closes
// every log cleanly so the next start skips recovery.
func (b *Broker) Close() error {
	var err error
	b.closeOnce.Do(func() {
		b.mu.Lock()
		b.closed = true
		b.mu.Unlock()
		close(b.stop)
		b.bg.Wait()
		if b.Txns != nil {
			b.Txns.Close()
		}
		b.inflight.Wait()
		if b.cleaner != nil {
			b.cleaner.Close()
		}
		if b.Groups != nil {
			err = errors.Join(err, b.Groups.Close())
		}
		err = errors.Join(err, b.closeLogs())
	})
	return err
}

func (b *Broker) closeLogs() error {
	var errs []error
	// Virtual hosts first: their stream consumers read topic partitions.
	b.mu.Lock()
	vhosts := b.vhosts
	b.mu.Unlock()
	for _, v := range vhosts {
		errs = append(errs, v.close())
	}
	b.mu.Lock()
	for _, t := range b.topics {
		for _, p := range t.partitions {
			errs = append(errs, p.close())
		}
	}
	b.mu.Unlock()
	if b.groupLog != nil {
		errs = append(errs, b.groupLog.Close())
	}
	if b.txnLog != nil {
		errs = append(errs, b.txnLog.Close())
	}
	if b.meta != nil {
		errs = append(errs, b.meta.log.Close())
	}
	return errors.Join(errs...)
}

// NodeID is this broker's id.
func (b *Broker) NodeID() int32 { return b.cfg.NodeID }

// ClusterID identifies the cluster; a single node is a cluster of one.
func (b *Broker) ClusterID() string { return "tern-cluster" }

func (b *Broker) retentionLoop() {
	defer b.bg.Done()
	t := time.NewTicker(b.cfg.RetentionCheckInterval)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			return
		case <-t.C:
			b.EnforceRetention(context.Background())
		}
	}
}

// EnforceRetention applies every topic's retention once and reports how
// many segments were deleted.
func (b *Broker) EnforceRetention(ctx context.Context) int {
	total := 0
	for _, p := range b.allPartitions() {
		if ctx.Err() != nil {
			break
		}
		n, err := p.log.EnforceRetention()
		if err != nil {
			b.logger.Warn("retention failed", "topic", p.topic, "partition", p.index, "err", err)
			continue
		}
		if n > 0 {
			p.txns.trimBefore(p.log.StartOffset())
			b.logger.Info("retention deleted segments", "topic", p.topic, "partition", p.index, "segments", n, "log_start_offset", p.log.StartOffset())
		}
		total += n
	}
	return total
}

func (b *Broker) allPartitions() []*partition {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var out []*partition
	for _, t := range b.topics {
		out = append(out, t.partitions...)
	}
	return out
}

func (b *Broker) nowMs() int64 { return b.cfg.Now().UnixMilli() }

func nowMs() int64 { return time.Now().UnixMilli() }
