package admin_test

import (
	"net/http"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/ternmq/tern/internal/testbroker"
)

type vhostAnswer struct {
	Name             string   `json:"name"`
	Description      string   `json:"description"`
	Tags             []string `json:"tags"`
	DefaultQueueType string   `json:"default_queue_type"`
	Messages         int64    `json:"messages"`
	MessagesReady    int64    `json:"messages_ready"`
}

// TestAPIVHosts: RabbitMQ's vhost routes — list, create (201) and update
// (204) with PUT, describe, the vhost's permissions, and DELETE taking
// the vhost's queues along and closing its AMQP connections (320).
func TestAPIVHosts(t *testing.T) {
	b := testbroker.Start(t)
	c := newClient(t, b)
	var list []vhostAnswer
	c.must(http.StatusOK, "GET", "/api/vhosts", nil, &list)
	if len(list) != 1 || list[0].Name != "/" || list[0].Description != "Default virtual host" || list[0].DefaultQueueType != "classic" || list[0].Tags == nil {
		t.Fatalf("vhosts of a new node: %+v", list)
	}
	var one vhostAnswer
	c.must(http.StatusOK, "GET", "/api/vhosts/%2F", nil, &one)
	if one.Name != "/" {
		t.Fatalf("GET %%2F: %+v", one)
	}

	c.must(http.StatusCreated, "PUT", "/api/vhosts/app", map[string]any{"description": "orders", "tags": "prod,eu"}, nil)
	c.must(http.StatusNoContent, "PUT", "/api/vhosts/app", map[string]any{"description": "orders service", "tags": []string{"prod"}}, nil)
	c.must(http.StatusCreated, "PUT", "/api/vhosts/empty", nil, nil) // a body is optional
	c.mustFail(http.StatusBadRequest, "PUT", "/api/vhosts/bad", "{", "JSON")
	c.must(http.StatusCreated, "PUT", "/api/permissions/app/guest", map[string]any{"configure": ".*", "write": ".*", "read": ".*"}, nil)
	c.must(http.StatusCreated, "PUT", "/api/queues/app/jobs", map[string]any{"durable": true}, nil)
	c.must(http.StatusOK, "POST", "/api/exchanges/app/amq.default/publish", map[string]any{"routing_key": "jobs", "payload": "p"}, nil)
	c.must(http.StatusOK, "GET", "/api/vhosts/app", nil, &one)
	if one.Description != "orders service" || len(one.Tags) != 1 || one.Tags[0] != "prod" || one.Messages != 1 || one.MessagesReady != 1 {
		t.Fatalf("app: %+v", one)
	}
	c.must(http.StatusOK, "GET", "/api/vhosts", nil, &list)
	if len(list) != 3 || list[0].Name != "/" || list[1].Name != "app" || list[2].Name != "empty" {
		t.Fatalf("vhosts: %+v", list)
	}
	var perms []struct{ User, VHost string }
	c.must(http.StatusOK, "GET", "/api/vhosts/app/permissions", nil, &perms)
	if len(perms) != 1 || perms[0].User != "guest" || perms[0].VHost != "app" {
		t.Fatalf("app's permissions: %+v", perms)
	}
	c.must(http.StatusOK, "GET", "/api/vhosts/empty/permissions", nil, &perms)
	if len(perms) != 0 {
		t.Fatalf("a new vhost has permissions: %+v", perms)
	}

	conn, err := amqp.Dial("amqp://guest:guest@" + b.AMQPAddr + "/app")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))
	c.must(http.StatusNoContent, "DELETE", "/api/vhosts/app", nil, nil)
	select {
	case e := <-closed:
		if e == nil || e.Code != 320 || e.Reason != "CONNECTION_FORCED - vhost 'app' is deleted" {
			t.Fatalf("connection closed with %v", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the deleted vhost's connection stayed open")
	}
	c.mustFail(http.StatusNotFound, "GET", "/api/vhosts/app", nil, "GET /api/vhosts")
	c.mustFail(http.StatusNotFound, "DELETE", "/api/vhosts/app", nil, "app")
	c.mustFail(http.StatusNotFound, "GET", "/api/queues/app", nil, "app")
	c.must(http.StatusOK, "GET", "/api/permissions", nil, &perms)
	if len(perms) != 1 || perms[0].VHost != "/" {
		t.Fatalf("permissions after the delete: %+v", perms)
	}
	b.Restart()
	c.must(http.StatusOK, "GET", "/api/vhosts", nil, &list)
	if len(list) != 2 || list[1].Name != "empty" {
		t.Fatalf("vhosts after a restart: %+v", list)
	}
}
