package broker

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/ternmq/tern/internal/broker/exchange"
)

// Virtual hosts are created and deleted through the catalog: a "vhost"
// record creates one (or updates its description and tags), a
// "vhost_delete" record deletes it with everything in it — its queues
// (and their logs), exchanges, bindings and permissions — so one fsynced
// record decides the outcome of a delete that a crash interrupts: the
// next start finds the vhost gone and removes the queue directories no
// catalog entry keeps. "/" is created with the default user on a fresh
// data directory; a data directory from before vhost records existed
// still has it (seedDefaultVHost records it then).

// DefaultVHost is the virtual host that exists on a new node.
const DefaultVHost = "/"

// vhostRecord is a virtual host as the catalog stores it.
type vhostRecord struct {
	Name        string   `json:"name"`
	Description string   `json:"description,omitempty"`
	Tags        []string `json:"tags,omitempty"`
}

// VHostInfo describes a virtual host to the admin API.
type VHostInfo struct {
	Name, Description string
	Tags              []string
}

// Info describes the virtual host.
func (v *VHost) Info() VHostInfo {
	m := v.meta.Load()
	return VHostInfo{Name: v.name, Description: m.Description, Tags: slices.Clone(m.Tags)}
}

// Deleted reports whether the virtual host has been deleted; operations
// on it then fail with ErrClosed.
func (v *VHost) Deleted() bool { return v.deleted.Load() }

// liveLocked refuses operations on a deleted vhost; call with v.mu held
// (DeleteVHost sets deleted under it).
func (v *VHost) liveLocked() error {
	if v.deleted.Load() {
		return v.deletedError()
	}
	return nil
}

func (v *VHost) deletedError() error {
	return fmt.Errorf("%w: vhost '%s' is deleted", ErrClosed, v.name)
}

func validateVHostName(name string) error {
	if name == "" || len(name) > 255 || strings.ContainsAny(name, "\x00") {
		return fmt.Errorf("%w: vhost name must be 1-255 bytes without NUL", ErrInvalidRequest)
	}
	return nil
}

// PutVHost creates a virtual host, or updates the description and tags of
// an existing one; it reports whether the vhost was created. A new vhost
// has the predeclared exchanges and nothing else: no user may open it
// until given permissions there.
func (b *Broker) PutVHost(ctx context.Context, name, description string, tags []string) (bool, error) {
	if err := validateVHostName(name); err != nil {
		return false, err
	}
	if err := b.enter(); err != nil {
		return false, err
	}
	defer b.leave()
	rec := vhostRecord{Name: name, Description: description, Tags: normalizeTags(tags)}
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.meta.append(ctx, metaRecord{Type: metaVHost, VHost: name, VHostMeta: &rec}); err != nil {
		return false, err
	}
	if v, ok := b.vhosts[name]; ok {
		v.meta.Store(&rec)
		return false, nil
	}
	v := newVHost(b, name)
	v.meta.Store(&rec)
	b.vhosts[name] = v
	b.logger.Info("created virtual host", "vhost", name)
	return true, nil
}

// DeleteVHost deletes a virtual host and everything in it: its queues and
// their messages, stream queues and the topics they own
// (amqpstreamtopic.go), exchanges, bindings and every user's permissions
// there. Connections open in it are told (OnVHostDeleted) and anything
// they still try in it fails with ErrClosed, as RabbitMQ closes them with
// 320 CONNECTION_FORCED.
func (b *Broker) DeleteVHost(ctx context.Context, name string) error {
	if err := b.enter(); err != nil {
		return err
	}
	defer b.leave()
	b.mu.RLock()
	v := b.vhosts[name]
	b.mu.RUnlock()
	if v == nil {
		return fmt.Errorf("%w: virtual host %q", ErrNotFound, name)
	}
	// Lock order: VHost.mu, users.mu, Broker.mu, then the catalog's. The
	// record is written under users.mu so that a permission set
	// concurrently lands either before the delete (and goes with it) or
	// after it, refused because the vhost is gone.
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.deleted.Load() {
		return fmt.Errorf("%w: virtual host %q", ErrNotFound, name)
	}
	u := b.users
	u.mu.Lock()
	b.mu.Lock()
	err := b.meta.append(ctx, metaRecord{Type: metaVHostDelete, VHost: name})
	if err == nil {
		delete(b.vhosts, name)
	}
	b.mu.Unlock()
	if err != nil {
		u.mu.Unlock()
		return err
	}
	u.dropVHost(name)
	u.mu.Unlock()
	v.deleted.Store(true)
	b.logger.Info("deleting virtual host", "vhost", name, "queues", len(v.queues), "streams", len(v.streams))
	b.vhostSubsMu.Lock()
	subs := slices.Clone(b.vhostSubs)
	b.vhostSubsMu.Unlock()
	for _, fn := range subs {
		fn(name)
	}
	var errs []error
	for _, q := range v.queues {
		errs = append(errs, q.close(true), os.RemoveAll(q.dir))
	}
	for _, s := range v.streams {
		s.closeAll(true)
		if err := b.dropStreamTopic(ctx, name, s); err != nil {
			errs = append(errs, fmt.Errorf("stream %s: %w", s.name, err))
		}
	}
	v.queues, v.streams, v.router = map[string]*MQueue{}, map[string]*Stream{}, exchange.New()
	v.commit()
	if err := errors.Join(errs...); err != nil {
		// The vhost is gone from the catalog; what is left on disk is
		// removed at the next start.
		b.logger.Warn("virtual host deleted, but not all of its data was removed", "vhost", name, "err", err)
	}
	return nil
}

// OnVHostDeleted registers fn to be told the name of each virtual host
// deleted, after it is gone from the catalog and before its queues are
// removed, so a protocol adapter can close the connections open in it.
// fn must not block.
func (b *Broker) OnVHostDeleted(fn func(name string)) {
	b.vhostSubsMu.Lock()
	defer b.vhostSubsMu.Unlock()
	b.vhostSubs = append(b.vhostSubs, fn)
}

// seedDefaultVHost records "/" on a data directory whose catalog has no
// vhost record — a new one, or one from before vhosts could be created,
// where "/" existed implicitly — so that deleting "/" later sticks.
func (b *Broker) seedDefaultVHost(ctx context.Context) error {
	if !b.vhostUnrecorded {
		return nil
	}
	v, ok := b.vhosts[DefaultVHost]
	if !ok {
		return nil
	}
	rec := *v.meta.Load()
	if err := b.meta.append(ctx, metaRecord{Type: metaVHost, VHost: DefaultVHost, VHostMeta: &rec}); err != nil {
		return fmt.Errorf("record the default vhost: %w", err)
	}
	b.vhostUnrecorded = false
	return nil
}
