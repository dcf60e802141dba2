package admin

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/ternmq/tern/internal/amqp/spec"
	"github.com/ternmq/tern/internal/broker"
	"github.com/ternmq/tern/internal/broker/exchange"
)

// exchangeName maps the management API's name of the default exchange.
func exchangeName(r *http.Request) string {
	if n := pathValue(r, "name"); n != "amq.default" {
		return n
	}
	return ""
}

type exchangeJSON struct {
	Name       string         `json:"name"`
	VHost      string         `json:"vhost"`
	Type       string         `json:"type"`
	Durable    bool           `json:"durable"`
	AutoDelete bool           `json:"auto_delete"`
	Internal   bool           `json:"internal"`
	Arguments  map[string]any `json:"arguments"`
}

func exchangeOut(vhost string, x exchange.ExchangeRecord) exchangeJSON {
	return exchangeJSON{
		Name: x.Name, VHost: vhost, Type: string(x.Type), Durable: x.Durable,
		AutoDelete: x.AutoDelete, Internal: x.Internal, Arguments: argsOut(x.Args),
	}
}

func (a *api) exchangeRoutes(mux *http.ServeMux) {
	list := func(r *http.Request, b *Backend) (int, any, error) {
		vs, err := vhostsOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		out := []exchangeJSON{}
		for _, v := range vs {
			for _, x := range v.Exchanges() {
				out = append(out, exchangeOut(v.Name(), x))
			}
		}
		return http.StatusOK, out, nil
	}
	a.route(mux, "GET /api/exchanges", list)
	a.route(mux, "GET /api/exchanges/{vhost}", list)
	a.route(mux, "GET /api/exchanges/{vhost}/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		name := exchangeName(r)
		if x, ok := v.Exchange(name); ok {
			return http.StatusOK, exchangeOut(v.Name(), x), nil
		}
		return 0, nil, errorf(http.StatusNotFound, "no exchange %q in vhost %q (list exchanges with GET /api/exchanges)", name, v.Name())
	})
	a.route(mux, "PUT /api/exchanges/{vhost}/{name}", a.declareExchange)
	a.route(mux, "DELETE /api/exchanges/{vhost}/{name}", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		// AMQP's exchange.delete of a missing exchange succeeds; the
		// management API answers 404, which catches a typo.
		name := exchangeName(r)
		if _, ok := v.Exchange(name); !ok {
			return 0, nil, errorf(http.StatusNotFound, "no exchange %q in vhost %q (list exchanges with GET /api/exchanges)", name, v.Name())
		}
		return http.StatusNoContent, nil, v.DeleteExchange(r.Context(), name, queryBool(r, "if-unused"))
	})
	a.route(mux, "POST /api/exchanges/{vhost}/{name}/publish", a.publish)
}

func (a *api) declareExchange(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	req := struct {
		Type       string   `json:"type"`
		Durable    *bool    `json:"durable"`
		AutoDelete bool     `json:"auto_delete"`
		Internal   bool     `json:"internal"`
		Arguments  argsJSON `json:"arguments"`
	}{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	if req.Type == "" {
		return 0, nil, errorf(http.StatusBadRequest, `an exchange needs a type: {"type": "direct"} (or fanout, topic, headers)`)
	}
	name := exchangeName(r)
	_, existed := v.Exchange(name)
	durable := req.Durable == nil || *req.Durable
	if err := v.DeclareExchange(r.Context(), name, req.Type, false, durable, req.AutoDelete, req.Internal, req.Arguments); err != nil {
		return 0, nil, err
	}
	if existed {
		return http.StatusNoContent, nil, nil
	}
	return http.StatusCreated, nil, nil
}

// publish is the management API's "publish message": it answers once the
// message is durable in every queue it reached, as a publisher confirm.
func (a *api) publish(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	req := struct {
		RoutingKey      string   `json:"routing_key"`
		Payload         string   `json:"payload"`
		PayloadEncoding string   `json:"payload_encoding"`
		Properties      argsJSON `json:"properties"`
	}{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	body := []byte(req.Payload)
	switch req.PayloadEncoding {
	case "", "string":
	case "base64":
		if body, err = base64.StdEncoding.DecodeString(req.Payload); err != nil {
			return 0, nil, errorf(http.StatusBadRequest, "payload is not valid base64: %v", err)
		}
	default:
		return 0, nil, errorf(http.StatusBadRequest, "payload_encoding %q: use string or base64", req.PayloadEncoding)
	}
	props, err := propertiesIn(req.Properties)
	if err != nil {
		return 0, nil, err
	}
	hdr := spec.ContentHeader{ClassID: spec.ClassBasic, BodySize: uint64(len(body)), Properties: props}
	raw, err := hdr.AppendTo(nil)
	if err != nil {
		return 0, nil, errorf(http.StatusBadRequest, "properties: %v", err)
	}
	msg := broker.QueueMessage{
		Exchange: exchangeName(r), RoutingKey: req.RoutingKey, Props: raw, Body: body,
		Persistent: props.DeliveryMode == 2, Priority: props.Priority, Timestamp: time.Now().UnixMilli(),
	}
	if props.Expiration != "" {
		ms, err := time.ParseDuration(props.Expiration + "ms")
		if err != nil || ms < 0 {
			return 0, nil, errorf(http.StatusBadRequest, "properties.expiration %q must be whole milliseconds", props.Expiration)
		}
		msg.ExpiresAt = msg.Timestamp + ms.Milliseconds()
	}
	res, wait, err := v.Publish(msg, props.Headers)
	if err != nil {
		return 0, nil, err
	}
	if err := wait(); err != nil {
		return 0, nil, err
	}
	return http.StatusOK, map[string]bool{"routed": res.Routed && !res.Refused}, nil
}

type bindingJSON struct {
	Source          string         `json:"source"`
	VHost           string         `json:"vhost"`
	Destination     string         `json:"destination"`
	DestinationType string         `json:"destination_type"`
	RoutingKey      string         `json:"routing_key"`
	Arguments       map[string]any `json:"arguments"`
	PropertiesKey   string         `json:"properties_key"`
}

// propertiesKey names a binding in a URL, in the shape of RabbitMQ's:
// the routing key ("~" when empty), and a digest of the arguments after
// a "~" when there are any.
func propertiesKey(rk string, args map[string]any) string {
	if len(args) == 0 {
		if rk == "" {
			return "~"
		}
		return rk
	}
	j, _ := json.Marshal(toJSON(args)) // maps marshal with sorted keys
	sum := sha256.Sum256(j)
	return rk + "~" + base64.RawURLEncoding.EncodeToString(sum[:9])
}

func bindingOut(vhost string, br exchange.BindingRecord) bindingJSON {
	return bindingJSON{
		Source: br.Source, VHost: vhost, Destination: br.Destination.Name,
		DestinationType: string(br.Destination.Kind), RoutingKey: br.RoutingKey,
		Arguments: argsOut(br.Args), PropertiesKey: propertiesKey(br.RoutingKey, br.Args),
	}
}

func (a *api) bindingRoutes(mux *http.ServeMux) {
	list := func(r *http.Request, b *Backend) (int, any, error) {
		vs, err := vhostsOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		out := []bindingJSON{}
		for _, v := range vs {
			for _, br := range v.Bindings() {
				out = append(out, bindingOut(v.Name(), br))
			}
		}
		return http.StatusOK, out, nil
	}
	a.route(mux, "GET /api/bindings", list)
	a.route(mux, "GET /api/bindings/{vhost}", list)
	for _, kind := range []string{"q", "e"} {
		base := "/api/bindings/{vhost}/e/{source}/" + kind + "/{dest}"
		a.route(mux, "GET "+base, a.bindingsBetween)
		a.route(mux, "POST "+base, a.bind)
		a.route(mux, "DELETE "+base+"/{props}", a.unbind)
	}
	a.route(mux, "GET /api/queues/{vhost}/{name}/bindings", func(r *http.Request, b *Backend) (int, any, error) {
		v, err := vhostOf(r, b)
		if err != nil {
			return 0, nil, err
		}
		out := []bindingJSON{}
		for _, br := range v.Bindings() {
			if br.Destination == exchange.QueueDest(pathValue(r, "name")) {
				out = append(out, bindingOut(v.Name(), br))
			}
		}
		return http.StatusOK, out, nil
	})
}

// bindingEnds reads the source and destination of a binding path.
func bindingEnds(r *http.Request) (source string, dest exchange.Destination) {
	source = pathValue(r, "source")
	if source == "amq.default" {
		source = ""
	}
	if r.Pattern != "" && strings.Contains(r.Pattern, "/q/") {
		return source, exchange.QueueDest(pathValue(r, "dest"))
	}
	return source, exchange.ExchangeDest(pathValue(r, "dest"))
}

func (a *api) matching(r *http.Request, v *broker.VHost) []exchange.BindingRecord {
	source, dest := bindingEnds(r)
	var out []exchange.BindingRecord
	for _, br := range v.Bindings() {
		if br.Source == source && br.Destination == dest {
			out = append(out, br)
		}
	}
	return out
}

func (a *api) bindingsBetween(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	out := []bindingJSON{}
	for _, br := range a.matching(r, v) {
		out = append(out, bindingOut(v.Name(), br))
	}
	return http.StatusOK, out, nil
}

// created is a 201 answer with a Location header.
type created struct {
	location string
	body     any
}

func (a *api) bind(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	req := struct {
		RoutingKey string   `json:"routing_key"`
		Arguments  argsJSON `json:"arguments"`
	}{}
	if err := decode(r, &req); err != nil {
		return 0, nil, err
	}
	source, dest := bindingEnds(r)
	var args map[string]any
	if len(req.Arguments) > 0 {
		args = req.Arguments
	}
	if err := v.Bind(r.Context(), dest.Name, dest.Kind == exchange.DestQueue, source, req.RoutingKey, args); err != nil {
		return 0, nil, err
	}
	key := propertiesKey(req.RoutingKey, args)
	return http.StatusCreated, created{location: r.URL.EscapedPath() + "/" + url.PathEscape(key), body: map[string]string{"properties_key": key}}, nil
}

func (a *api) unbind(r *http.Request, b *Backend) (int, any, error) {
	v, err := vhostOf(r, b)
	if err != nil {
		return 0, nil, err
	}
	want := pathValue(r, "props")
	for _, br := range a.matching(r, v) {
		if propertiesKey(br.RoutingKey, br.Args) != want {
			continue
		}
		err := v.Unbind(r.Context(), br.Destination.Name, br.Destination.Kind == exchange.DestQueue, br.Source, br.RoutingKey, br.Args)
		return http.StatusNoContent, nil, err
	}
	return 0, nil, errorf(http.StatusNotFound, "no binding with properties key %q between these; list them with GET /api/bindings to find its properties_key", want)
}
