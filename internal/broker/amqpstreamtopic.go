package broker

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
)

// The topics behind stream queues.
//
// In vhost "/" a stream queue is the Kafka topic of its name, which Kafka
// clients produce to and fetch from as well: that is how AMQP and Kafka
// clients share data. In any other vhost V, stream queue Q is the topic
// "__amqp_" + hex(V) + "_" + Q, private to V: hex has no '_', so the
// first '_' after the prefix ends the vhost, and two (vhost, queue) pairs
// never share a topic. Those topics are internal: Kafka clients other
// than super users can neither see nor touch them (Authorizer.Allowed),
// and no stream of "/" may take a name with the prefix.
//
// A stream deletes its topic only if it owns it. In "/" it owns the
// topic if its declare created it (a Kafka topic it attached to outlives
// it); elsewhere it always owns its private topic. The catalog record of
// the stream names its topic and, when owned, the topic's id; deleting
// the stream (or its vhost) deletes the topic if the topic of that name
// still has that id. The stream's delete is logged first, so a crash
// before its topic is gone is finished at the next start (settleStreams).

// StreamTopicPrefix starts the names of the topics behind the stream
// queues of vhosts other than "/".
const StreamTopicPrefix = "__amqp_"

// IsStreamTopic reports whether a topic name is reserved for the stream
// queues of vhosts other than "/".
func IsStreamTopic(name string) bool { return strings.HasPrefix(name, StreamTopicPrefix) }

// streamTopic names the topic behind stream queue name of vhost, or says
// why there can be none: 406 for a name Kafka would refuse (characters
// other than [a-zA-Z0-9._-], or too long), 403 for a stream of "/" named
// with the reserved prefix.
func streamTopic(vhost, name string) (string, error) {
	// Reasons come before names: AMQP reply texts end at 255 bytes.
	if i := strings.IndexFunc(name, func(c rune) bool { return !topicNameChar(c) }); i >= 0 {
		return "", fmt.Errorf("%w: a stream queue is a Kafka topic, whose name takes only [a-zA-Z0-9._-]; queue name '%s' contains %q", ErrPreconditionFailed, name, []rune(name[i:])[0])
	}
	topic := name
	if vhost == DefaultVHost {
		if IsStreamTopic(name) {
			return "", fmt.Errorf("%w: queue name '%s' contains reserved prefix '%s' (the topics of other vhosts' streams)", ErrAccessRefused, name, StreamTopicPrefix)
		}
		if len(topic) > maxTopicNameLen {
			return "", fmt.Errorf("%w: a stream queue of vhost '/' is the Kafka topic of its name, at most %d bytes; queue name '%s' has %d", ErrPreconditionFailed, maxTopicNameLen, name, len(name))
		}
	} else {
		topic = StreamTopicPrefix + hex.EncodeToString([]byte(vhost)) + "_" + name
		if len(topic) > maxTopicNameLen {
			return "", fmt.Errorf("%w: stream queue would need a topic name of %d bytes, over Kafka's limit of %d ('%s' + the vhost name in hex + '_' + the queue name): shorten the queue or vhost name (queue '%s' in vhost '%s')",
				ErrPreconditionFailed, len(topic), maxTopicNameLen, StreamTopicPrefix, name, vhost)
		}
	}
	if err := ValidateTopicName(topic); err != nil {
		return "", fmt.Errorf("%w: stream queue '%s': %w", ErrPreconditionFailed, name, err)
	}
	return topic, nil
}

// openStreamTopic finds or creates the topic behind a new stream queue of
// v and returns its name and, if the stream owns it, its id.
func (v *VHost) openStreamTopic(ctx context.Context, name string) (string, [16]byte, error) {
	var none [16]byte
	topic, err := streamTopic(v.name, name)
	if err != nil {
		return "", none, err
	}
	info, err := v.b.Topic(ctx, topic, false)
	if err != nil {
		info, err = v.b.CreateTopic(ctx, CreateTopicRequest{Name: topic, Partitions: 1, ReplicationFactor: -1})
		if err == nil {
			return topic, info.ID, nil
		}
		if !errors.Is(err, ErrTopicExists) {
			return "", none, fmt.Errorf("%w: stream '%s': %w", ErrPreconditionFailed, name, err)
		}
		// A Kafka client created it meanwhile.
		if info, err = v.b.Topic(ctx, topic, false); err != nil {
			return "", none, fmt.Errorf("%w: stream '%s': %w", ErrPreconditionFailed, name, err)
		}
	}
	if v.name == DefaultVHost {
		return topic, none, nil // a Kafka topic: not ours to delete
	}
	// Another vhost's topic is private to its stream, whoever made it (a
	// super user through Kafka; a declare that crashed before its record).
	return topic, info.ID, nil
}

// streamFromRecord is the stream a catalog record describes. A record
// from before streams named their topic has the topic of its name, which
// it does not own.
func (b *Broker) streamFromRecord(rec amqpQueueRecord) *Stream {
	st := &Stream{b: b, name: rec.Name, topic: rec.Topic, args: rec.Args}
	if st.topic == "" {
		st.topic, st.legacy = rec.Name, true
	}
	hex.Decode(st.topicID[:], []byte(rec.TopicID))
	return st
}

// record is the stream's catalog record.
func (s *Stream) record() amqpQueueRecord {
	rec := amqpQueueRecord{Name: s.name, Args: s.args, Topic: s.topic}
	if s.owned() {
		rec.TopicID = hex.EncodeToString(s.topicID[:])
	}
	return rec
}

// dropStreamTopic deletes the topic of a deleted stream queue of vhost if
// the stream owned it and the topic of that name is still the one it
// owned; otherwise the topic, and its records, stay.
func (b *Broker) dropStreamTopic(ctx context.Context, vhost string, s *Stream) error {
	if !s.owned() {
		why := "the stream attached to it and did not create it"
		if s.legacy {
			why = "the stream was declared before streams recorded whether they created their topic"
		}
		b.logger.Info("stream queue deleted; its topic is kept", "vhost", vhost, "queue", s.name, "topic", s.topic, "why", why)
		return nil
	}
	deleted, err := b.deleteTopic(ctx, s.topic, &s.topicID)
	if errors.Is(err, ErrUnknownTopicOrPartition) {
		return nil
	}
	if err == nil && !deleted {
		b.logger.Info("stream queue deleted; its topic is kept: it was deleted and created again since the stream created it", "vhost", vhost, "queue", s.name, "topic", s.topic)
	}
	return err
}

// settleStreams runs at start, once the catalog is loaded. It finishes
// deleting the topics of deleted streams that a crash left (recorded by
// loadAMQP in staleStreamTopics), and moves streams of vhosts other than
// "/" declared before they had private topics onto their own: the topic
// of their name, which other vhosts could read, is kept with what it
// holds; a stream whose vhost and name are too long for a private topic
// is deleted.
func (b *Broker) settleStreams(ctx context.Context) error {
	for topic, id := range b.staleStreamTopics {
		if _, err := b.deleteTopic(ctx, topic, &id); err != nil && !errors.Is(err, ErrUnknownTopicOrPartition) {
			return fmt.Errorf("finish deleting stream topic %s: %w", topic, err)
		}
		b.logger.Info("finished deleting the topic of a deleted stream queue", "topic", topic)
	}
	b.staleStreamTopics = nil
	for _, v := range b.VHosts() {
		if v.name == DefaultVHost {
			continue
		}
		if err := v.upgradeStreams(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (v *VHost) upgradeStreams(ctx context.Context) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, st := range v.streams {
		if !st.legacy {
			continue
		}
		if _, err := streamTopic(v.name, st.name); err != nil {
			v.b.logger.Warn("stream queue deleted: it shared the topic of its name with other vhosts (declared before streams had private topics) and cannot have a private one; the topic is kept",
				"vhost", v.name, "queue", st.name, "topic", st.topic, "err", err)
			if err := v.removeStreamLocked(ctx, st); err != nil {
				return fmt.Errorf("stream %s of vhost %s: %w", st.name, v.name, err)
			}
			continue
		}
		topic, id, err := v.openStreamTopic(ctx, st.name)
		if err != nil {
			return fmt.Errorf("stream %s of vhost %s: %w", st.name, v.name, err)
		}
		old := st.topic
		st.topic, st.topicID, st.legacy = topic, id, false
		rec := st.record()
		if err := v.b.meta.append(ctx, metaRecord{Type: metaAMQPQueue, VHost: v.name, AMQPQueue: &rec}); err != nil {
			return err
		}
		v.b.logger.Warn("stream queue moved to a topic of its own: it shared the topic of its name with other vhosts (declared before streams had private topics); the messages it had stay in that topic, which is kept",
			"vhost", v.name, "queue", st.name, "topic", topic, "kept_topic", old)
	}
	v.commit()
	return nil
}
