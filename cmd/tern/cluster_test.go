package main

import (
	"encoding/json"
	"strings"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

func TestClusterConnectionsTasks(t *testing.T) {
	n := startNode(t)
	n.ok("topic", "create", "t1", "--partitions", "2")
	n.ok("queue", "declare", "q1")

	out := n.ok("cluster", "status")
	wantContains(t, "cluster status", out, "NODE  READY  UPTIME  DISK-FREE  LISTENERS",
		"amqp="+n.AMQPAddr, "kafka="+n.Addr, "http="+n.HTTPAddr, "Kafka: 1 topics, 2 partitions, 0 groups",
		"AMQP:  1 queues")
	if r := row(out, "1"); len(r) < 4 || r[1] != "yes" || !strings.HasSuffix(r[4], "iB") && r[4] != "B" {
		t.Errorf("node row %v in\n%s", r, out)
	}
	var st struct {
		Cluster  clusterInfo  `json:"cluster"`
		Overview overviewInfo `json:"overview"`
	}
	if err := json.Unmarshal([]byte(n.ok("cluster", "status", "--format", "json")), &st); err != nil {
		t.Fatal(err)
	}
	if len(st.Cluster.Nodes) != 1 || !st.Cluster.Nodes[0].Ready || st.Overview.ObjectTotals.Topics != 1 || st.Overview.ProductName != "Tern" {
		t.Errorf("json: %+v", st)
	}

	conn, err := amqp.DialConfig(n.AMQPURL, amqp.Config{Properties: amqp.Table{"connection_name": "cli-test"}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	out = n.ok("connection", "list")
	if r := row(out, "amqp"); len(r) < 4 || r[2] != "guest" || r[3] != "/" {
		t.Errorf("amqp connection row %v in\n%s", r, out)
	}
	var cs []connectionInfo
	if err := json.Unmarshal([]byte(n.ok("connection", "list", "--format", "json")), &cs); err != nil {
		t.Fatal(err)
	}
	if len(cs) != 1 || cs[0].Protocol != "amqp" || cs[0].PeerPort == 0 {
		t.Errorf("connections: %+v", cs)
	}

	// Deleting a topic is a task with progress; startup recovery is one too.
	n.ok("topic", "delete", "t1", "--yes")
	out = n.ok("task", "list")
	wantContains(t, "task list", out, "ID  KIND", "open_logs", "delete_topic  t1")
	var ts []taskInfo
	if err := json.Unmarshal([]byte(n.ok("task", "list", "--format", "json")), &ts); err != nil {
		t.Fatal(err)
	}
	if len(ts) < 2 || ts[0].Kind != "delete_topic" || ts[0].Target != "t1" {
		t.Errorf("tasks: %+v", ts)
	}
}
