package admin

import (
	"errors"
	"net/http"
	"sort"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/group"
)

func (a *api) groupRoutes(mux *http.ServeMux) {
	a.route(mux, "GET /api/groups", a.listGroups)
	a.route(mux, "GET /api/groups/{group}", a.describeGroup)
	a.route(mux, "DELETE /api/groups/{group}", func(r *http.Request, b *Backend) (int, any, error) {
		name := pathValue(r, "group")
		if err := b.Broker.Groups.DeleteGroups([]string{name})[0]; err != nil {
			if errors.Is(err, group.ErrNonEmptyGroup) {
				return 0, nil, errorf(http.StatusConflict, "group %q has active members; stop its consumers before deleting it", name)
			}
			if errors.Is(err, group.ErrGroupIDNotFound) {
				return 0, nil, errorf(http.StatusNotFound, "group %q not found (list groups with GET /api/groups)", name)
			}
			return 0, nil, err
		}
		return http.StatusNoContent, nil, nil
	})
	a.route(mux, "POST /api/groups/{group}/offsets", a.resetOffsets)
}

type groupJSON struct {
	Group        string  `json:"group"`
	State        string  `json:"state"`
	ProtocolType string  `json:"protocol_type"`
	Members      int     `json:"members"`
	Lag          int64   `json:"lag"`
	LagSeconds   float64 `json:"lag_seconds"`
}

// lagsByGroup sums the core's per-partition lags.
func lagsByGroup(b *broker.Broker) map[string][]broker.GroupLag {
	out := map[string][]broker.GroupLag{}
	for _, l := range b.GroupLags() {
		out[l.Group] = append(out[l.Group], l)
	}
	return out
}

func (a *api) listGroups(_ *http.Request, b *Backend) (int, any, error) {
	listing := b.Broker.Groups.List(nil)
	names := make([]string, len(listing))
	for i, l := range listing {
		names[i] = l.Group
	}
	descs := b.Broker.Groups.Describe(names)
	lags := lagsByGroup(b.Broker)
	out := []groupJSON{}
	for i, l := range listing {
		g := groupJSON{Group: l.Group, State: l.State, ProtocolType: l.ProtocolType, Members: len(descs[i].Members)}
		for _, pl := range lags[l.Group] {
			g.Lag += pl.Lag
			g.LagSeconds = max(g.LagSeconds, pl.LagAge.Seconds())
		}
		out = append(out, g)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Group < out[j].Group })
	return http.StatusOK, out, nil
}

type assignmentJSON struct {
	Topic      string  `json:"topic"`
	Partitions []int32 `json:"partitions"`
}

type memberJSON struct {
	MemberID    string           `json:"member_id"`
	InstanceID  string           `json:"instance_id,omitempty"`
	ClientID    string           `json:"client_id"`
	ClientHost  string           `json:"client_host"`
	Assignments []assignmentJSON `json:"assignments"`
}

type groupOffsetJSON struct {
	Topic         string  `json:"topic"`
	Partition     int32   `json:"partition"`
	Committed     int64   `json:"committed"`
	HighWatermark int64   `json:"high_watermark"`
	Lag           int64   `json:"lag"`
	LagSeconds    float64 `json:"lag_seconds"`
}

type groupDetailJSON struct {
	Group        string            `json:"group"`
	State        string            `json:"state"`
	ProtocolType string            `json:"protocol_type"`
	Protocol     string            `json:"protocol"`
	Members      []memberJSON      `json:"members"`
	Offsets      []groupOffsetJSON `json:"offsets"`
}

func (a *api) describeGroup(r *http.Request, b *Backend) (int, any, error) {
	name := pathValue(r, "group")
	d := b.Broker.Groups.Describe([]string{name})[0]
	if d.Err != nil {
		return 0, nil, d.Err
	}
	lags := b.Broker.GroupLagsOf(name)
	if d.State == "Dead" && len(lags) == 0 {
		return 0, nil, errorf(http.StatusNotFound, "group %q not found (list groups with GET /api/groups)", name)
	}
	out := groupDetailJSON{Group: name, State: d.State, ProtocolType: d.ProtocolType, Protocol: d.Protocol, Members: []memberJSON{}, Offsets: []groupOffsetJSON{}}
	for _, m := range d.Members {
		mj := memberJSON{MemberID: m.MemberID, InstanceID: m.InstanceID, ClientID: m.ClientID, ClientHost: m.ClientHost, Assignments: []assignmentJSON{}}
		// Consumer groups carry the consumer protocol's assignment;
		// other protocol types (Connect, say) are opaque here.
		if d.ProtocolType == "consumer" && len(m.Assignment) > 0 {
			var as kmsg.ConsumerMemberAssignment
			if err := as.ReadFrom(m.Assignment); err == nil {
				for _, t := range as.Topics {
					mj.Assignments = append(mj.Assignments, assignmentJSON{Topic: t.Topic, Partitions: t.Partitions})
				}
			}
		}
		out.Members = append(out.Members, mj)
	}
	for _, l := range lags {
		out.Offsets = append(out.Offsets, groupOffsetJSON{
			Topic: l.Topic, Partition: l.Partition, Committed: l.Committed,
			HighWatermark: l.HighWatermark, Lag: l.Lag, LagSeconds: l.LagAge.Seconds(),
		})
	}
	return http.StatusOK, out, nil
}

type resetJSON struct {
	Topic     string `json:"topic"`
	Partition int32  `json:"partition"`
	Previous  int64  `json:"previous"`
	New       int64  `json:"new"`
}

// resetOffsets is kafka-consumer-groups --reset-offsets: it commits new
// offsets for a group that has no members, as Kafka requires (a live
// member would overwrite them with its next commit).
func (a *api) resetOffsets(r *http.Request, b *Backend) (int, any, error) {
	br := b.Broker
	name := pathValue(r, "group")
	var req struct {
		Topic      string  `json:"topic"`
		Partitions []int32 `json:"partitions"`
		To         string  `json:"to"`
		Offset     int64   `json:"offset"`
		Timestamp  int64   `json:"timestamp"`
		Shift      int64   `json:"shift"`
		DryRun     bool    `json:"dry_run"`
	}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	t, err := br.Topic(r.Context(), req.Topic, false)
	if err != nil {
		return 0, nil, err
	}
	if d := br.Groups.Describe([]string{name})[0]; len(d.Members) > 0 {
		return 0, nil, errorf(http.StatusConflict, "group %q has %d active members; stop its consumers, then reset its offsets", name, len(d.Members))
	}
	parts := req.Partitions
	if len(parts) == 0 {
		for p := range t.Partitions {
			parts = append(parts, p)
		}
	}
	prev, err := br.Groups.FetchOffsets(name, map[string][]int32{req.Topic: parts})
	if err != nil {
		return 0, nil, err
	}
	previous := map[int32]int64{}
	for _, c := range prev {
		previous[c.Partition] = c.Offset
	}
	var out []resetJSON
	var commits []group.OffsetCommit
	for _, p := range parts {
		if p < 0 || p >= t.Partitions {
			return 0, nil, errorf(http.StatusBadRequest, "topic %q has partitions 0 to %d", req.Topic, t.Partitions-1)
		}
		start, hw, _, err := br.PartitionOffsets(req.Topic, p)
		if err != nil {
			return 0, nil, err
		}
		old, ok := previous[p]
		if !ok {
			old = -1
		}
		var to int64
		switch req.To {
		case "earliest":
			to = start
		case "latest":
			to = hw
		case "offset":
			to = req.Offset
		case "timestamp":
			o, _, err := br.OffsetForTimestamp(req.Topic, p, req.Timestamp)
			if err != nil {
				return 0, nil, err
			}
			to = o
			if o < 0 {
				to = hw
			}
		case "shift":
			base := old
			if base < 0 {
				base = start
			}
			to = base + req.Shift
		default:
			return 0, nil, errorf(http.StatusBadRequest, `"to" must be earliest, latest, offset, timestamp or shift, not %q`, req.To)
		}
		to = min(max(to, start), hw)
		out = append(out, resetJSON{Topic: req.Topic, Partition: p, Previous: old, New: to})
		commits = append(commits, group.OffsetCommit{Topic: req.Topic, Partition: p, Offset: to, LeaderEpoch: -1})
	}
	if !req.DryRun {
		gerr, perr := br.Groups.CommitOffsets(r.Context(), name, "", "", -1, commits)
		if gerr != nil {
			if errors.Is(gerr, group.ErrUnknownMemberID) || errors.Is(gerr, group.ErrIllegalGeneration) || errors.Is(gerr, group.ErrRebalanceInProgress) {
				return 0, nil, errorf(http.StatusConflict, "group %q is not empty; stop its consumers, then reset its offsets", name)
			}
			return 0, nil, gerr
		}
		for _, e := range perr {
			if e != nil {
				return 0, nil, e
			}
		}
	}
	return http.StatusOK, map[string]any{"offsets": out, "dry_run": req.DryRun}, nil
}
