package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
)

// The admin API's node side: users, permissions, vhosts, cluster,
// overview, connections and tasks.

// tagList reads tags given as a JSON array or as RabbitMQ's older
// comma-separated string.
type tagList []string

func (t *tagList) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = nil
		for _, tag := range strings.Split(s, ",") {
			if tag = strings.TrimSpace(tag); tag != "" {
				*t = append(*t, tag)
			}
		}
		return nil
	}
	var list []string
	if err := json.Unmarshal(b, &list); err != nil {
		return err
	}
	*t = list
	return nil
}

type userInfo struct {
	Name string  `json:"name"`
	Tags tagList `json:"tags"`
}

func (c *client) users(ctx context.Context) ([]userInfo, json.RawMessage, error) {
	return getAs[[]userInfo](ctx, c, path("users"))
}

func (c *client) getUser(ctx context.Context, name string) (userInfo, error) {
	var out userInfo
	_, err := c.get(ctx, path("users", name), nil, &out)
	return out, notFound(err, "user", name, "tern user list")
}

// putUser creates or updates a user; it answers whether it was created.
func (c *client) putUser(ctx context.Context, name, password string, tags []string) (bool, error) {
	body := map[string]any{"password": password, "tags": nonNil(tags)}
	_, status, err := c.send(ctx, http.MethodPut, path("users", name), nil, body)
	return status == http.StatusCreated, err
}

func (c *client) deleteUser(ctx context.Context, name string) error {
	_, _, err := c.send(ctx, http.MethodDelete, path("users", name), nil, nil)
	return notFound(err, "user", name, "tern user list")
}

type permissionInfo struct {
	User      string `json:"user"`
	VHost     string `json:"vhost"`
	Configure string `json:"configure"`
	Write     string `json:"write"`
	Read      string `json:"read"`
}

func (c *client) permissions(ctx context.Context) ([]permissionInfo, json.RawMessage, error) {
	return getAs[[]permissionInfo](ctx, c, path("permissions"))
}

func (c *client) setPermission(ctx context.Context, p permissionInfo) error {
	body := map[string]string{"configure": p.Configure, "write": p.Write, "read": p.Read}
	_, _, err := c.send(ctx, http.MethodPut, path("permissions", p.VHost, p.User), nil, body)
	return err
}

func (c *client) clearPermission(ctx context.Context, vhost, user string) error {
	_, _, err := c.send(ctx, http.MethodDelete, path("permissions", vhost, user), nil, nil)
	return err
}

type vhostInfo struct {
	Name                   string  `json:"name"`
	Description            string  `json:"description"`
	Tags                   tagList `json:"tags"`
	Messages               int64   `json:"messages"`
	MessagesReady          int64   `json:"messages_ready"`
	MessagesUnacknowledged int64   `json:"messages_unacknowledged"`
}

func (c *client) vhosts(ctx context.Context) ([]vhostInfo, json.RawMessage, error) {
	return getAs[[]vhostInfo](ctx, c, path("vhosts"))
}

func (c *client) getVHost(ctx context.Context, name string) (vhostInfo, error) {
	var out vhostInfo
	_, err := c.get(ctx, path("vhosts", name), nil, &out)
	return out, notFound(err, "vhost", name, "tern vhost list")
}

func (c *client) putVHost(ctx context.Context, name, description string, tags []string) error {
	body := map[string]any{"description": description, "tags": nonNil(tags)}
	_, _, err := c.send(ctx, http.MethodPut, path("vhosts", name), nil, body)
	return err
}

func (c *client) deleteVHost(ctx context.Context, name string) error {
	_, _, err := c.send(ctx, http.MethodDelete, path("vhosts", name), nil, nil)
	return notFound(err, "vhost", name, "tern vhost list")
}

type listener struct {
	Protocol  string `json:"protocol"`
	IPAddress string `json:"ip_address"`
	Port      int    `json:"port"`
}

type clusterInfo struct {
	ClusterID    string `json:"cluster_id"`
	ControllerID any    `json:"controller_id"`
	Nodes        []struct {
		ID        any        `json:"id"`
		Ready     bool       `json:"ready"`
		UptimeMS  int64      `json:"uptime_ms"`
		DataDir   string     `json:"data_dir"`
		DiskFree  int64      `json:"disk_free"`
		Listeners []listener `json:"listeners"`
	} `json:"nodes"`
}

type overviewInfo struct {
	ClusterName    string `json:"cluster_name"`
	Node           string `json:"node"`
	ProductName    string `json:"product_name"`
	ProductVersion string `json:"product_version"`
	UptimeMS       int64  `json:"uptime_ms"`
	ObjectTotals   struct {
		Connections int64 `json:"connections"`
		Exchanges   int64 `json:"exchanges"`
		Queues      int64 `json:"queues"`
		Consumers   int64 `json:"consumers"`
		Topics      int64 `json:"topics"`
		Partitions  int64 `json:"partitions"`
		Groups      int64 `json:"groups"`
	} `json:"object_totals"`
	QueueTotals struct {
		Messages               int64 `json:"messages"`
		MessagesReady          int64 `json:"messages_ready"`
		MessagesUnacknowledged int64 `json:"messages_unacknowledged"`
	} `json:"queue_totals"`
	Listeners []listener `json:"listeners"`
	DiskFree  int64      `json:"disk_free"`
}

func (c *client) cluster(ctx context.Context) (clusterInfo, json.RawMessage, error) {
	return getAs[clusterInfo](ctx, c, path("cluster"))
}

func (c *client) overview(ctx context.Context) (overviewInfo, json.RawMessage, error) {
	return getAs[overviewInfo](ctx, c, path("overview"))
}

type connectionInfo struct {
	Name        string `json:"name"`
	Protocol    string `json:"protocol"`
	PeerHost    string `json:"peer_host"`
	PeerPort    int    `json:"peer_port"`
	ConnectedAt int64  `json:"connected_at"`
	User        string `json:"user"`
	VHost       string `json:"vhost"`
	Client      string `json:"client"`
}

func (c *client) connections(ctx context.Context) ([]connectionInfo, json.RawMessage, error) {
	return getAs[[]connectionInfo](ctx, c, path("connections"))
}

type taskInfo struct {
	ID         any     `json:"id"`
	Kind       string  `json:"kind"`
	Target     string  `json:"target"`
	Done       float64 `json:"done"`
	Total      float64 `json:"total"`
	Unit       string  `json:"unit"`
	State      string  `json:"state"`
	StartedAt  int64   `json:"started_at"`
	FinishedAt int64   `json:"finished_at"`
	Error      string  `json:"error"`
}

func (c *client) tasks(ctx context.Context) ([]taskInfo, json.RawMessage, error) {
	return getAs[[]taskInfo](ctx, c, path("tasks"))
}
