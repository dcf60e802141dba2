package interop_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/ternmq/tern/internal/broker"
)

// TestPikaSeesAccessRefused runs testdata/pika_refused.py as a user who
// may configure only queues named app.*: pika's queue_declare of another
// name raises ChannelClosedByBroker with RabbitMQ's 403 and text, the
// connection stays open for a passive declare (which needs no
// permission), and opening a vhost the user has no rights in fails with
// 530.
func TestPikaSeesAccessRefused(t *testing.T) {
	interop(t)
	needPython(t, "pika")
	b := startBroker(t)
	ctx := context.Background()
	core := b.Node().Broker
	if _, err := core.PutUser(ctx, "bob", "pw", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := core.SetPermission(ctx, broker.Permission{User: "bob", VHost: "/", Configure: `^app\.`, Write: ".*", Read: ".*"}); err != nil {
		t.Fatal(err)
	}
	if _, err := core.PutVHost(ctx, "other", "", nil); err != nil {
		t.Fatal(err)
	}
	v, err := core.VHost("/")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.DeclareQueue(ctx, "orders", false, true, false, false, nil, 0); err != nil {
		t.Fatal(err)
	}
	var r struct {
		Declare struct {
			Refused bool
			Code    int
			Text    string
		}
		ChannelClosed  bool `json:"channel_closed"`
		ConnectionOpen bool `json:"connection_open"`
		Passive        struct {
			OK   bool
			Code int
			Text string
		}
		OtherVHost struct {
			Refused bool
			Error   string
			Message string
		} `json:"other_vhost"`
	}
	base := "amqp://bob:pw@" + b.AMQPAddr
	runPy(t, 60*time.Second, &r, "pika_refused.py", "--url", base+"/%2F", "--queue", "orders", "--other-vhost-url", base+"/other")
	if !r.Declare.Refused || r.Declare.Code != 403 ||
		r.Declare.Text != "ACCESS_REFUSED - configure access to queue 'orders' in vhost '/' refused for user 'bob'" || !r.ChannelClosed {
		t.Errorf("queue_declare: %+v (channel closed %v)", r.Declare, r.ChannelClosed)
	}
	if !r.Passive.OK || !r.ConnectionOpen {
		t.Errorf("passive declare after the refusal: %+v, connection open %v", r.Passive, r.ConnectionOpen)
	}
	if !r.OtherVHost.Refused || r.OtherVHost.Error != "ProbableAccessDeniedError" ||
		!strings.Contains(r.OtherVHost.Message, `(530) "NOT_ALLOWED - access to vhost 'other' refused for user 'bob'"`) {
		t.Errorf("opening a vhost without rights: %+v", r.OtherVHost)
	}
}
