package admin

import (
	"net"
	"net/http"
	"sort"
	"strconv"
	"time"
)

type listenerJSON struct {
	Protocol  string `json:"protocol"`
	IPAddress string `json:"ip_address"`
	Port      int    `json:"port"`
}

func listenersJSON(ls []Listener) []listenerJSON {
	out := make([]listenerJSON, 0, len(ls))
	for _, l := range ls {
		if l.Addr == nil {
			continue
		}
		host, port, _ := net.SplitHostPort(l.Addr.String())
		p, _ := strconv.Atoi(port)
		out = append(out, listenerJSON{Protocol: l.Protocol, IPAddress: host, Port: p})
	}
	return out
}

func (a *api) overviewRoutes(mux *http.ServeMux) {
	a.route(mux, "GET /api/overview", a.overview)
	a.route(mux, "GET /api/cluster", a.cluster)
	a.route(mux, "GET /api/connections", a.connections)
	a.route(mux, "GET /api/whoami", func(r *http.Request, b *Backend) (int, any, error) {
		user, _, _ := r.BasicAuth()
		u, err := b.Broker.User(user)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, userJSON{Name: u.Name, Tags: nonNil(u.Tags)}, nil
	})
	// Progress of long operations is readable during recovery too, when
	// nothing else is: it is what an operator watches then. It needs an
	// administrator once the user store is loaded.
	a.patterns = append(a.patterns, "GET /api/tasks")
	mux.HandleFunc("GET /api/tasks", func(w http.ResponseWriter, r *http.Request) {
		if b := a.backend.Load(); b != nil {
			if err := a.authorize(r, b.Broker); err != nil {
				a.fail(w, r, err)
				return
			}
		}
		a.reply(w, http.StatusOK, a.tasks())
	})
}

type taskJSON struct {
	ID         uint64 `json:"id"`
	Kind       string `json:"kind"`
	Target     string `json:"target"`
	Done       int64  `json:"done"`
	Total      int64  `json:"total"`
	Unit       string `json:"unit"`
	State      string `json:"state"`
	StartedAt  int64  `json:"started_at"`
	FinishedAt int64  `json:"finished_at,omitempty"`
	Error      string `json:"error,omitempty"`
}

func (a *api) tasks() []taskJSON {
	out := []taskJSON{}
	for _, t := range a.cfg.Progress.List() {
		out = append(out, taskJSON{
			ID: t.ID, Kind: t.Kind, Target: t.Target, Done: t.Done, Total: t.Total, Unit: t.Unit,
			State: t.State, StartedAt: unixMs(t.StartedAt), FinishedAt: unixMs(t.FinishedAt), Error: t.Error,
		})
	}
	return out
}

type overviewJSON struct {
	ClusterName    string         `json:"cluster_name"`
	Node           string         `json:"node"`
	ProductName    string         `json:"product_name"`
	ProductVersion string         `json:"product_version"`
	UptimeMs       int64          `json:"uptime_ms"`
	ObjectTotals   map[string]int `json:"object_totals"`
	QueueTotals    struct {
		Messages        int64 `json:"messages"`
		MessagesReady   int64 `json:"messages_ready"`
		MessagesUnacked int64 `json:"messages_unacknowledged"`
	} `json:"queue_totals"`
	MessageStats map[string]int64 `json:"message_stats"`
	Listeners    []listenerJSON   `json:"listeners"`
	DiskFree     int64            `json:"disk_free"`
}

func (a *api) overview(_ *http.Request, b *Backend) (int, any, error) {
	br := b.Broker
	o := overviewJSON{
		ClusterName: br.ClusterID(), Node: nodeName(br.NodeID()), ProductName: "Tern",
		ProductVersion: a.cfg.Version, UptimeMs: time.Since(a.started).Milliseconds(),
		Listeners: listenersJSON(b.Listeners), MessageStats: map[string]int64{},
	}
	conns := 0
	for _, f := range b.Connections {
		conns += len(f())
	}
	parts := br.PartitionStats()
	queues := br.QueueStats()
	consumers := 0
	for _, q := range queues {
		o.QueueTotals.MessagesReady += q.Ready
		o.QueueTotals.MessagesUnacked += q.Unacked
		consumers += q.Consumers
		o.MessageStats["publish"] += q.Published
		o.MessageStats["deliver_get"] += q.Delivered
		o.MessageStats["ack"] += q.Acked
	}
	o.QueueTotals.Messages = o.QueueTotals.MessagesReady + o.QueueTotals.MessagesUnacked
	for _, p := range parts {
		o.MessageStats["produce_records"] += p.ProducedRecords
		o.MessageStats["produce_bytes"] += p.ProducedBytes
		o.MessageStats["fetch_bytes"] += p.FetchedBytes
	}
	exchanges := 0
	for _, v := range br.VHosts() {
		exchanges += len(v.Exchanges())
	}
	o.ObjectTotals = map[string]int{
		"connections": conns, "queues": len(queues), "consumers": consumers,
		"exchanges": exchanges, "topics": len(br.Topics()), "partitions": len(parts),
		"groups": len(br.Groups.List(nil)),
	}
	if free, err := br.DiskFree(); err == nil {
		o.DiskFree = free
	}
	return http.StatusOK, o, nil
}

func nodeName(id int32) string { return "tern@" + strconv.Itoa(int(id)) }

func (a *api) cluster(_ *http.Request, b *Backend) (int, any, error) {
	br := b.Broker
	dir, _ := br.LogDirs()
	node := map[string]any{
		"id": br.NodeID(), "name": nodeName(br.NodeID()), "ready": a.cfg.Ready == nil || a.cfg.Ready(),
		"uptime_ms": time.Since(a.started).Milliseconds(), "data_dir": dir,
		"listeners": listenersJSON(b.Listeners), "version": a.cfg.Version,
	}
	if free, err := br.DiskFree(); err == nil {
		node["disk_free"] = free
	}
	return http.StatusOK, map[string]any{
		"cluster_id": br.ClusterID(), "controller_id": br.NodeID(), "nodes": []any{node},
	}, nil
}

type connectionJSON struct {
	Name        string `json:"name"`
	Protocol    string `json:"protocol"`
	PeerHost    string `json:"peer_host"`
	PeerPort    int    `json:"peer_port"`
	ConnectedAt int64  `json:"connected_at"`
	User        string `json:"user"`
	VHost       string `json:"vhost,omitempty"`
	Client      string `json:"client"`
	Channels    int    `json:"channels"`
}

func (a *api) connections(_ *http.Request, b *Backend) (int, any, error) {
	out := []connectionJSON{}
	for proto, f := range b.Connections {
		for _, c := range f() {
			cj := connectionJSON{
				Protocol: proto, ConnectedAt: unixMs(c.Since), User: c.User, VHost: c.VHost,
				Client: c.Client, Channels: c.Channels,
			}
			if c.Remote != nil {
				host, port, _ := net.SplitHostPort(c.Remote.String())
				cj.PeerHost = host
				cj.PeerPort, _ = strconv.Atoi(port)
				// RabbitMQ names a connection "peer -> local"; the peer is
				// what identifies it here.
				cj.Name = c.Remote.String()
			}
			out = append(out, cj)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ConnectedAt < out[j].ConnectedAt })
	return http.StatusOK, out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
