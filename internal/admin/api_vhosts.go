package admin

import (
	"net/http"

	"github.com/ternmq/tern/internal/broker"
)

// Virtual hosts, in the shapes of RabbitMQ's management API: GET lists
// them with their message totals, PUT creates one (201) or updates its
// description and tags (204), DELETE removes it with everything in it.

type vhostJSON struct {
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	Tags             []string `json:"tags"`
	DefaultQueueType string   `json:"default_queue_type"`
	Tracing          bool     `json:"tracing"`
	Messages         int64    `json:"messages"`
	MessagesReady    int64    `json:"messages_ready"`
	MessagesUnacked  int64    `json:"messages_unacknowledged"`
}

func vhostOut(v *broker.VHost) vhostJSON {
	info := v.Info()
	out := vhostJSON{Name: info.Name, Description: info.Description, Tags: nonNil(info.Tags), DefaultQueueType: "classic"}
	for _, q := range v.QueueInfos() {
		out.MessagesReady += q.Ready
		out.MessagesUnacked += q.Unacked
	}
	out.Messages = out.MessagesReady + out.MessagesUnacked
	return out
}

func (a *api) vhostRoutes(mux *http.ServeMux) {
	a.route(mux, "GET /api/vhosts", func(r *http.Request, b *Backend) (int, any, error) {
		out := []vhostJSON{}
		for _, v := range b.Broker.VHosts() {
			out = append(out, vhostOut(v))
		}
		return http.StatusOK, out, nil
	})
	a.route(mux, "GET /api/vhosts/{vhost}", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, vhostOut(v), nil
	})
	a.route(mux, "PUT /api/vhosts/{vhost}", func(r *http.Request, b *Backend) (int, any, error) {
		var req struct {
			Description string `json:"description"`
			Tags        tagsIn `json:"tags"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		isNew, err := b.Broker.PutVHost(r.Context(), pathValue(r, "vhost"), req.Description, req.Tags)
		if err != nil {
			return 0, nil, err
		}
		if isNew {
			return http.StatusCreated, nil, nil
		}
		return http.StatusNoContent, nil, nil
	})
	a.route(mux, "DELETE /api/vhosts/{vhost}", func(r *http.Request, b *Backend) (int, any, error) {
		if _, err := vhostOf(r, b); err != nil {
			return 0, nil, err
		}
		return http.StatusNoContent, nil, b.Broker.DeleteVHost(r.Context(), pathValue(r, "vhost"))
	})
	a.route(mux, "GET /api/vhosts/{vhost}/permissions", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		out := []permissionJSON{}
		for _, p := range b.Broker.Permissions() {
			if p.VHost == v.Name() {
				out = append(out, permissionOut(p))
			}
		}
		return http.StatusOK, out, nil
	})
}
