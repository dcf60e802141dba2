package group

import (
	"bytes"
	"regexp"
	"slices"
	"time"
)

// Subscriptions of consumer groups: which topics the members subscribe to
// (by name or by regular expression), and the metadata of those topics
// that the group epoch was computed with. Any difference in that metadata
// (a subscribed topic created, deleted or given more partitions) bumps the
// group epoch, so the target assignment follows the catalog.

// topics returns the configured catalog, or an empty one.
func (m *machine) topics() Topics {
	if m.cfg.Topics == nil {
		return noTopics{}
	}
	return m.cfg.Topics
}

type noTopics struct{}

func (noTopics) TopicByName(string) (TopicMeta, bool) { return TopicMeta{}, false }
func (noTopics) TopicByID([16]byte) (TopicMeta, bool) { return TopicMeta{}, false }
func (noTopics) TopicNames() []string                 { return nil }
func (m *machine) topicID(name string) ([16]byte, bool) {
	t, ok := m.topics().TopicByName(name)
	return t.ID, ok
}

// compileRegex compiles a subscription's regular expression as Kafka
// matches it: against the whole topic name.
func compileRegex(re string) (*regexp.Regexp, error) {
	return regexp.Compile("^(?:" + re + ")$")
}

// refreshRegexes resolves the regular expressions the members subscribe
// to that were never resolved, or not for RegexRefreshInterval (or every
// one when force), and forgets those nobody subscribes to. It reports
// whether what any of them matches changed.
func (m *machine) refreshRegexes(cg *consumerGroup, now time.Time, allowed func(string) bool, force bool) bool {
	subscribed := cg.forgetUnsubscribedRegexes()
	changed := false
	var names []string
	for _, re := range sortedKeys(subscribed) {
		old, ok := cg.regexes[re]
		if ok && !force && now.Sub(old.resolved) < m.cfg.RegexRefreshInterval {
			continue
		}
		rx, err := compileRegex(re)
		if err != nil {
			// Validated when the member subscribed; match nothing rather
			// than fail the group.
			m.cfg.Logger.Error("cannot compile subscribed regular expression", "regex", re, "err", err)
			rx = nil
		}
		if names == nil {
			names = m.topics().TopicNames()
		}
		var matched []string
		for _, t := range names {
			if rx != nil && rx.MatchString(t) && (allowed == nil || allowed(t)) {
				matched = append(matched, t)
			}
		}
		slices.Sort(matched)
		if !ok || !slices.Equal(old.topics, matched) {
			changed = true
			cg.names = nil
		}
		cg.regexes[re] = resolvedRegex{topics: matched, resolved: now}
	}
	return changed
}

// subscriptionMetadata is the metadata of every subscribed topic that
// exists, sorted by name.
func (m *machine) subscriptionMetadata(cg *consumerGroup) []TopicMeta {
	var out []TopicMeta
	for _, name := range cg.subscribedNames() {
		if t, ok := m.topics().TopicByName(name); ok {
			out = append(out, t)
		}
	}
	sortTopicMetas(out)
	return out
}

// assignSpec builds the assignors' input from the group: every member with
// the existing topics it subscribes to, and its current target.
func (m *machine) assignSpec(cg *consumerGroup) assignSpec {
	s := assignSpec{partitions: map[[16]byte]int32{}}
	byName := map[string]TopicMeta{}
	for _, t := range cg.subscribedMeta {
		byName[t.Name] = t
	}
	for _, id := range cg.memberIDs() {
		mem := cg.members[id]
		am := assignMember{id: id, current: cg.targets[id]}
		for name := range cg.memberTopics(mem) {
			if t, ok := byName[name]; ok && t.Partitions > 0 {
				am.topics = append(am.topics, t.ID)
				s.partitions[t.ID] = t.Partitions
			}
		}
		slices.SortFunc(am.topics, func(a, b [16]byte) int { return bytes.Compare(a[:], b[:]) })
		s.members = append(s.members, am)
	}
	return s
}

// sortedUnique returns the names sorted, without duplicates.
func sortedUnique(names []string) []string {
	out := slices.Clone(names)
	slices.Sort(out)
	return slices.Compact(out)
}

// forgetUnsubscribedRegexes drops the resolutions of regular expressions
// no member subscribes to any more, and returns those subscribed.
func (cg *consumerGroup) forgetUnsubscribedRegexes() map[string]bool {
	subscribed := map[string]bool{}
	for _, mem := range cg.members {
		if mem.subscribedRegex != "" {
			subscribed[mem.subscribedRegex] = true
		}
	}
	for re := range cg.regexes {
		if !subscribed[re] {
			delete(cg.regexes, re)
			cg.names = nil
		}
	}
	return subscribed
}
