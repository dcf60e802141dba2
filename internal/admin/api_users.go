package admin

import (
	"encoding/json"
	"net/http"
	"strings"

	"github.com/ternmq/tern/internal/broker"
)

type userJSON struct {
	Name string   `json:"name"`
	Tags []string `json:"tags"`
}

type permissionJSON struct {
	User      string `json:"user"`
	VHost     string `json:"vhost"`
	Configure string `json:"configure"`
	Write     string `json:"write"`
	Read      string `json:"read"`
}

func permissionOut(p broker.Permission) permissionJSON {
	return permissionJSON{User: p.User, VHost: p.VHost, Configure: p.Configure, Write: p.Write, Read: p.Read}
}

// tagsIn accepts RabbitMQ's two spellings of tags: "a,b" or ["a", "b"].
type tagsIn []string

func (t *tagsIn) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*t = strings.Split(s, ",")
		return nil
	}
	var l []string
	if err := json.Unmarshal(b, &l); err != nil {
		return err
	}
	*t = l
	return nil
}

func (a *api) userRoutes(mux *http.ServeMux) {
	a.route(mux, "GET /api/users", func(r *http.Request, b *Backend) (int, any, error) {
		out := []userJSON{}
		for _, u := range b.Broker.Users() {
			out = append(out, userJSON{Name: u.Name, Tags: nonNil(u.Tags)})
		}
		return http.StatusOK, out, nil
	})
	a.route(mux, "GET /api/users/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		u, err := b.Broker.User(pathValue(r, "name"))
		if err != nil {
			return 0, nil, err
		}
		return http.StatusOK, userJSON{Name: u.Name, Tags: nonNil(u.Tags)}, nil
	})
	a.route(mux, "PUT /api/users/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		var req struct {
			Password string `json:"password"`
			Tags     tagsIn `json:"tags"`
		}
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		isNew, err := b.Broker.PutUser(r.Context(), pathValue(r, "name"), req.Password, req.Tags)
		if err != nil {
			return 0, nil, err
		}
		if isNew {
			return http.StatusCreated, nil, nil
		}
		return http.StatusNoContent, nil, nil
	})
	a.route(mux, "DELETE /api/users/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		return http.StatusNoContent, nil, b.Broker.DeleteUser(r.Context(), pathValue(r, "name"))
	})
	a.route(mux, "GET /api/permissions", func(r *http.Request, b *Backend) (int, any, error) {
		out := []permissionJSON{}
		for _, p := range b.Broker.Permissions() {
			out = append(out, permissionOut(p))
		}
		return http.StatusOK, out, nil
	})
	a.route(mux, "GET /api/users/{name}/permissions", func(r *http.Request, b *Backend) (int, any, error) {
		out := []permissionJSON{}
		for _, p := range b.Broker.Permissions() {
			if p.User == pathValue(r, "name") {
				out = append(out, permissionOut(p))
			}
		}
		return http.StatusOK, out, nil
	})
	a.route(mux, "GET /api/permissions/{vhost}/{user}", func(r *http.Request, b *Backend) (int, any, error) {
		p, ok := b.Broker.PermissionOf(pathValue(r, "vhost"), pathValue(r, "user"))
		if !ok {
			return 0, nil, errorf(http.StatusNotFound, "user %q has no permissions in vhost %q", pathValue(r, "user"), pathValue(r, "vhost"))
		}
		return http.StatusOK, permissionOut(p), nil
	})
	a.route(mux, "PUT /api/permissions/{vhost}/{user}", func(r *http.Request, b *Backend) (int, any, error) {
		var req permissionJSON
		if err := decode(r, &req); err != nil {
			return 0, nil, err
		}
		isNew, err := b.Broker.SetPermission(r.Context(), broker.Permission{
			User: pathValue(r, "user"), VHost: pathValue(r, "vhost"),
			Configure: req.Configure, Write: req.Write, Read: req.Read,
		})
		if err != nil {
			return 0, nil, err
		}
		if isNew {
			return http.StatusCreated, nil, nil
		}
		return http.StatusNoContent, nil, nil
	})
	a.route(mux, "DELETE /api/permissions/{vhost}/{user}", func(r *http.Request, b *Backend) (int, any, error) {
		return http.StatusNoContent, nil, b.Broker.ClearPermission(r.Context(), pathValue(r, "vhost"), pathValue(r, "user"))
	})
}
