// Package console_test drives the web console in a real headless Chromium
// against a real broker: Kafka and AMQP data made by real clients, every
// page clicked through, and what the page shows checked against the
// clients and the API.
//
// It needs /usr/bin/chromium (scripts/install-test-deps.sh installs it).
// Without it the test skips, unless TERN_REQUIRE_BROWSER=1 (CI), where it
// fails.
package console_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/fetch"
	"github.com/chromedp/chromedp"
	amqp "github.com/rabbitmq/amqp091-go"
	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kgo"
	"go.uber.org/goleak"

	"github.com/ternmq/tern/internal/testbroker"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const (
	chromium = "/usr/bin/chromium"
	// stepTimeout bounds one group of browser actions; the page polls
	// every 2-5 s, so a step waits for a few refreshes at most.
	stepTimeout = 60 * time.Second

	topic   = "console-orders"
	group   = "console-group"
	queue   = "console-queue"
	xchg    = "console-ex"
	created = "console-created"
)

// values are the records produced to topic: four on partition 0, two on 1.
var values = []string{"order-1", "order-2", "order-3", "order-4", "order-5", "order-6"}

func TestConsoleEndToEnd(t *testing.T) {
	requireChromium(t)
	b := testbroker.Start(t)
	if b.HTTPAddr == "" {
		t.Fatal("the test broker has no HTTP listener")
	}
	base := "http://" + b.HTTPAddr
	adm := seedKafka(t, b.Addr)
	conn, ch := seedAMQP(t, b.AMQPURL)

	u := newUI(t, base)

	u.step("login: a wrong password is refused with 401, then guest gets in", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Navigate(base+"/#/queues"),
			chromedp.WaitVisible(chromedp.CSS("#login-form")),
			typeInto("#login-user", "guest"),
			typeInto("#login-password", "wrong"),
			chromedp.Click(chromedp.CSS("#login-submit")),
			textHas("#login-error", "401"),
			typeInto("#login-password", "guest"),
			chromedp.Click(chromedp.CSS("#login-submit")),
			chromedp.WaitVisible(chromedp.CSS("#nav")),
			// Back on the page asked for before the login.
			textHas("#view h1", "Queues"),
			textIs("#whoami", "guest"),
			truthy("the credentials are in sessionStorage", `sessionStorage.getItem('tern.auth') === btoa('guest:guest')`),
		)
	})

	u.step("login: a user without the administrator tag sees 403", func(ctx context.Context) error {
		apiDo(t, base, http.MethodPut, "/api/users/viewer", map[string]any{"password": "viewer-pw", "tags": []string{}}, nil)
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#logout")),
			chromedp.WaitVisible(chromedp.CSS("#login-form")),
			truthy("the credentials are forgotten", `sessionStorage.getItem('tern.auth') === null`),
			typeInto("#login-user", "viewer"),
			typeInto("#login-password", "viewer-pw"),
			chromedp.Click(chromedp.CSS("#login-submit")),
			textHas("#login-error", "403"),
			textHas("#login-error", "administrator"),
			typeInto("#login-user", "guest"),
			typeInto("#login-password", "guest"),
			chromedp.Click(chromedp.CSS("#login-submit")),
			chromedp.WaitVisible(chromedp.CSS("#nav")),
		)
	})

	u.step("overview: totals and listeners match the API", func(ctx context.Context) error {
		var ov struct {
			ObjectTotals map[string]int `json:"object_totals"`
		}
		apiDo(t, base, http.MethodGet, "/api/overview", nil, &ov)
		if ov.ObjectTotals["queues"] != 1 || ov.ObjectTotals["topics"] < 1 || ov.ObjectTotals["groups"] != 1 {
			return fmt.Errorf("API object_totals = %v, want 1 queue, 1 group, at least 1 topic", ov.ObjectTotals)
		}
		actions := []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS("#nav-overview")),
			textHas("#view h1", "Overview"),
			textIs(`[data-testid="total-queues"] .card-value`, "1"),
			textIs(`[data-testid="total-groups"] .card-value`, "1"),
		}
		for _, k := range []string{"topics", "partitions", "exchanges"} {
			actions = append(actions, textIs(fmt.Sprintf(`[data-testid="total-%s"] .card-value`, k), fmt.Sprint(ov.ObjectTotals[k])))
		}
		actions = append(actions,
			textIs(`[data-testid="listener-row"][data-protocol="kafka"] td:nth-child(3)`, port(t, b.Addr)),
			textIs(`[data-testid="listener-row"][data-protocol="amqp"] td:nth-child(3)`, port(t, b.AMQPAddr)),
			textHas(`[data-testid="nodes-table"]`, b.Dir))
		return chromedp.Do(ctx, actions...)
	})

	u.step("topics: the list shows the produced topic", func(ctx context.Context) error {
		row := `[data-testid="topic-row"][data-name="` + topic + `"]`
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-topics")),
			textIs(row+` [data-col="partitions"]`, "2"),
			textIs(row+` [data-col="messages"]`, "6"),
		)
	})

	u.step("topics: creating an existing topic shows the API's 409 and reason", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			typeInto("#topic-create-name", topic),
			chromedp.Click(chromedp.CSS("#topic-create-submit")),
			textHas(`[data-testid="error-message"]`, "409"),
			textHas(`[data-testid="error-message"]`, topic),
			chromedp.Click(chromedp.CSS(`[data-testid="error-message"] .close`)),
			count(`[data-testid="error-message"]`, 0),
		)
	})

	u.step("topics: create one with the form", func(ctx context.Context) error {
		row := `[data-testid="topic-row"][data-name="` + created + `"]`
		err := chromedp.Do(ctx,
			typeInto("#topic-create-name", created),
			typeInto("#topic-create-partitions", "3"),
			typeInto("#topic-create-configs", "retention.ms=3600000"),
			chromedp.Click(chromedp.CSS("#topic-create-submit")),
			textIs(row+` [data-col="partitions"]`, "3"),
		)
		if err != nil {
			return err
		}
		details, err := adm.ListTopics(ctx, created)
		if err != nil || details[created].Err != nil || len(details[created].Partitions) != 3 {
			return fmt.Errorf("Kafka sees %s as %+v (%v), want 3 partitions", created, details[created], err)
		}
		cfgs, err := adm.DescribeTopicConfigs(ctx, created)
		if err != nil {
			return err
		}
		rc, err := cfgs.On(created, nil)
		if err != nil {
			return err
		}
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" && (c.Value == nil || *c.Value != "3600000") {
				return fmt.Errorf("retention.ms of %s = %v, want the form's 3600000", created, c.MaybeValue())
			}
		}
		return nil
	})

	u.step("topics: delete asks for the name, then the topic is gone", func(ctx context.Context) error {
		row := `[data-testid="topic-row"][data-name="` + created + `"]`
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(row+` [data-testid="topic-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			textHas("#confirm-dialog", created),
			truthy("confirm is disabled before the name is typed", `document.getElementById('confirm-ok').disabled`),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), created[:5]),
			truthy("confirm stays disabled for part of the name", `document.getElementById('confirm-ok').disabled`),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), created[5:]),
			truthy("confirm is enabled once the name is typed", `!document.getElementById('confirm-ok').disabled`),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			count(row, 0),
			count("#confirm-dialog", 0),
		)
		if err != nil {
			return err
		}
		return eventually(ctx, func() error {
			details, err := adm.ListTopics(ctx)
			if err != nil {
				return err
			}
			if details.Has(created) {
				return fmt.Errorf("Kafka still lists %s", created)
			}
			return nil
		})
	})

	u.step("topic detail: partitions and the records produced", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="topic-row"][data-name="`+topic+`"] [data-testid="topic-link"]`)),
			textIs("#topic-name", topic),
			textIs(`[data-testid="partition-row"][data-partition="0"] [data-col="hw"]`, "4"),
			textIs(`[data-testid="partition-row"][data-partition="1"] [data-col="hw"]`, "2"),
			textIs(`[data-testid="partition-row"][data-partition="0"] [data-col="start"]`, "0"),
			chromedp.Click(chromedp.CSS("#browse-fetch")),
			count(`[data-testid="record-row"]`, len(values)),
		)
		if err != nil {
			return err
		}
		if err := sameSet(ctx, `[data-testid="record-row"] [data-col="value"]`, values); err != nil {
			return err
		}
		return chromedp.Do(ctx,
			textIs(`[data-testid="record-row"][data-partition="1"][data-offset="1"] [data-col="key"]`, "key-6"),
			textHas(`[data-testid="record-row"][data-partition="0"][data-offset="2"] [data-col="headers"]`, "source: console-test"),
		)
	})

	u.step("topic detail: a small page, then load more from next_offsets", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			typeInto("#browse-limit", "3"),
			chromedp.Click(chromedp.CSS("#browse-fetch")),
			count(`[data-testid="record-row"]`, 3),
			chromedp.Click(chromedp.CSS("#browse-more")),
			count(`[data-testid="record-row"]`, len(values)),
		)
		if err != nil {
			return err
		}
		return sameSet(ctx, `[data-testid="record-row"] [data-col="value"]`, values)
	})

	u.step("topic detail: the newest record of each partition, and a config override", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			choose("#browse-from", "newest"),
			typeInto("#browse-limit", "1"),
			chromedp.Click(chromedp.CSS("#browse-fetch")),
			count(`[data-testid="record-row"]`, 2),
		)
		if err != nil {
			return err
		}
		if err := sameSet(ctx, `[data-testid="record-row"] [data-col="value"]`, []string{"order-4", "order-6"}); err != nil {
			return err
		}
		row := `[data-testid="topic-configs"] tr[data-config="retention.ms"]`
		err = chromedp.Do(ctx,
			typeInto("#config-key", "retention.ms"),
			typeInto("#config-value", "7200000"),
			chromedp.Click(chromedp.CSS("#config-set")),
			textIs(row+` td:nth-child(2)`, "7200000"),
			textIs(row+` td:nth-child(3)`, "topic"),
		)
		if err != nil {
			return err
		}
		cfgs, err := adm.DescribeTopicConfigs(ctx, topic)
		if err != nil {
			return err
		}
		rc, err := cfgs.On(topic, nil)
		if err != nil {
			return err
		}
		for _, c := range rc.Configs {
			if c.Key == "retention.ms" && c.MaybeValue() != "7200000" {
				return fmt.Errorf("Kafka sees retention.ms of %s = %q, want 7200000", topic, c.MaybeValue())
			}
		}
		return nil
	})

	u.step("browse page: choosing a topic reads it", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-browse")),
			choose("#browse-topic", topic),
			textHas("#view", "Topic "+topic),
			choose("#browse-partition", "1"),
			chromedp.Click(chromedp.CSS("#browse-fetch")),
			count(`[data-testid="record-row"]`, 2),
			textIs(`[data-testid="record-row"][data-offset="0"] [data-col="value"]`, "order-5"),
		)
	})

	u.step("groups: the list shows the committed group's lag", func(ctx context.Context) error {
		row := `[data-testid="group-row"][data-name="` + group + `"]`
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-groups")),
			textIs(row+` [data-col="lag"]`, "3"),
			textIs(row+` [data-col="members"]`, "0"),
			truthy("the group is empty", `document.querySelector('`+row+` [data-col="state"]').innerText.toLowerCase() === 'empty'`),
		)
	})

	u.step("group detail: offsets, lag and a lag chart sampled over time", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="group-row"][data-name="`+group+`"] [data-testid="group-link"]`)),
			textIs(`[data-testid="group-total-lag"] .card-value`, "3"),
			textIs(`[data-testid="group-offset-row"][data-partition="0"] [data-col="committed"]`, "1"),
			textIs(`[data-testid="group-offset-row"][data-partition="0"] [data-col="lag"]`, "3"),
			textIs(`[data-testid="group-offset-row"][data-partition="1"] [data-col="committed"]`, "2"),
			textIs(`[data-testid="group-offset-row"][data-partition="1"] [data-col="lag"]`, "0"),
			truthy("the chart has at least two samples and a line",
				`Number(document.getElementById('lag-chart').getAttribute('data-samples')) >= 2 && !!document.querySelector('#lag-chart path[data-testid="chart-line"]')`),
		)
	})

	u.step("group detail: reset to earliest, previewed first, then applied", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			choose("#reset-topic", topic),
			choose("#reset-to", "earliest"),
			truthy("apply is disabled before a preview", `document.getElementById('reset-apply').disabled`),
			chromedp.Click(chromedp.CSS("#reset-preview")),
			count(`[data-testid="reset-preview-table"] [data-testid="reset-row"]`, 2),
			textIs(`[data-testid="reset-row"][data-partition="0"] [data-col="previous"]`, "1"),
			textIs(`[data-testid="reset-row"][data-partition="0"] [data-col="new"]`, "0"),
			textIs(`[data-testid="reset-row"][data-partition="1"] [data-col="previous"]`, "2"),
			textIs(`[data-testid="reset-row"][data-partition="1"] [data-col="new"]`, "0"),
			truthy("apply is enabled after the preview", `!document.getElementById('reset-apply').disabled`),
		)
		if err != nil {
			return err
		}
		if err := committed(ctx, adm, map[int32]int64{0: 1, 1: 2}); err != nil {
			return fmt.Errorf("after the dry run: %w", err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#reset-apply")),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), group),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			count(`[data-testid="reset-applied-table"] [data-testid="reset-row"]`, 2),
			textIs(`[data-testid="group-total-lag"] .card-value`, "6"),
		)
		if err != nil {
			return err
		}
		return committed(ctx, adm, map[int32]int64{0: 0, 1: 0})
	})

	u.step("group detail: delete asks for the name, then the group is gone", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#group-delete")),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), group),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			textHas("#view h1", "Consumer groups"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="groups"]`)),
			count(`[data-testid="group-row"][data-name="`+group+`"]`, 0),
		)
		if err != nil {
			return err
		}
		groups, err := adm.ListGroups(ctx)
		if err != nil {
			return err
		}
		if _, ok := groups[group]; ok {
			return fmt.Errorf("Kafka still lists group %s", group)
		}
		return nil
	})

	u.step("queues: the list shows the queue's depth", func(ctx context.Context) error {
		row := `[data-testid="queue-row"][data-name="` + queue + `"]`
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-queues")),
			textIs(row+` [data-col="ready"]`, "3"),
			textIs(row+` [data-col="unacked"]`, "0"),
			textIs(row+` [data-col="consumers"]`, "0"),
		)
	})

	u.step("queues: declare with the form, delete with confirmation", func(ctx context.Context) error {
		const name = "console-declared"
		row := `[data-testid="queue-row"][data-name="` + name + `"]`
		err := chromedp.Do(ctx,
			typeInto("#queue-name", name),
			typeInto("#queue-args", `{"x-max-length": 10}`),
			chromedp.Click(chromedp.CSS("#queue-declare")),
			textIs(row+` [data-col="ready"]`, "0"),
		)
		if err != nil {
			return err
		}
		if err := exists(conn, func(c *amqp.Channel) error {
			_, err := c.QueueDeclarePassive(name, true, false, false, false, amqp.Table{"x-max-length": int64(10)})
			return err
		}); err != nil {
			return fmt.Errorf("the declared queue: %w", err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(row+` [data-testid="queue-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), name),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			count(row, 0),
		)
		if err != nil {
			return err
		}
		if exists(conn, func(c *amqp.Channel) error {
			_, err := c.QueueDeclarePassive(name, true, false, false, false, nil)
			return err
		}) == nil {
			return fmt.Errorf("queue %s still exists after the delete", name)
		}
		return nil
	})

	u.step("queue detail: bindings, and peek shows the messages and requeues them", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(`[data-testid="queue-row"][data-name="`+queue+`"] [data-testid="queue-link"]`)),
			textIs(`[data-testid="queue-ready"] .card-value`, "3"),
			textIs(`[data-testid="queue-bindings"] [data-testid="binding-row"][data-source="`+xchg+`"] [data-col="routing-key"]`, "console.#"),
			chromedp.Click(chromedp.CSS("#queue-peek")),
			count(`[data-testid="peek-message"]`, 3),
		)
		if err != nil {
			return err
		}
		got, err := chromedp.Run(ctx, texts(`[data-testid="peek-payload"]`))
		if err != nil {
			return err
		}
		if want := []string{"hello-1", "hello-2", "hello-3"}; !slices.Equal(got, want) {
			return fmt.Errorf("peeked payloads %q, want %q", got, want)
		}
		if err := chromedp.Do(ctx, textHas(`[data-testid="peek-message"]`, "content_type")); err != nil {
			return err
		}
		return eventually(ctx, func() error { return depth(ch, 3) })
	})

	u.step("queue detail: purge asks for the name, then the queue is empty", func(ctx context.Context) error {
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#queue-purge")),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), queue),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			textIs(`[data-testid="queue-ready"] .card-value`, "0"),
		)
		if err != nil {
			return err
		}
		return depth(ch, 0)
	})

	u.step("exchanges: defaults and the declared one; publish routes to the queue", func(ctx context.Context) error {
		row := `[data-testid="exchange-row"][data-name="` + xchg + `"]`
		actions := []chromedp.Action[chromedp.Void]{
			chromedp.Click(chromedp.CSS("#nav-exchanges")),
			textIs(row+` [data-col="type"]`, "topic"),
			count(`[data-testid="exchange-row"][data-name=""]`, 1),
		}
		for _, name := range []string{"amq.direct", "amq.fanout", "amq.topic", "amq.headers"} {
			actions = append(actions, count(`[data-testid="exchange-row"][data-name="`+name+`"]`, 1))
		}
		actions = append(actions,
			chromedp.Click(chromedp.CSS(row+` [data-testid="exchange-publish"]`)),
			truthy("the publish form has the exchange chosen", `(s => s.options[s.selectedIndex].text)(document.getElementById('publish-exchange')) === '`+xchg+`'`),
			typeInto("#publish-rk", "console.ui"),
			typeInto("#publish-payload", "published-from-ui"),
			typeInto("#publish-headers", "origin=console"),
			chromedp.Click(chromedp.CSS("#publish-submit")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="publish-routed"]`)),
		)
		if err := chromedp.Do(ctx, actions...); err != nil {
			return err
		}
		m, ok, err := ch.Get(queue, true)
		if err != nil || !ok {
			return fmt.Errorf("basic.get after the console's publish: ok=%v err=%v", ok, err)
		}
		if string(m.Body) != "published-from-ui" || m.Exchange != xchg || m.RoutingKey != "console.ui" ||
			m.DeliveryMode != amqp.Persistent || m.Headers["origin"] != "console" {
			return fmt.Errorf("got body %q exchange %q key %q mode %d headers %v; want what the form published",
				m.Body, m.Exchange, m.RoutingKey, m.DeliveryMode, m.Headers)
		}
		return chromedp.Do(ctx,
			typeInto("#publish-rk", "nowhere"),
			chromedp.Click(chromedp.CSS("#publish-submit")),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="publish-unrouted"]`)),
		)
	})

	u.step("exchanges: declare with the form, delete with confirmation", func(ctx context.Context) error {
		const name = "console-fanout"
		row := `[data-testid="exchange-row"][data-name="` + name + `"]`
		err := chromedp.Do(ctx,
			typeInto("#exchange-name", name),
			choose("#exchange-type", "fanout"),
			chromedp.Click(chromedp.CSS("#exchange-declare")),
			textIs(row+` [data-col="type"]`, "fanout"),
		)
		if err != nil {
			return err
		}
		if err := exists(conn, func(c *amqp.Channel) error {
			return c.ExchangeDeclarePassive(name, "fanout", true, false, false, false, nil)
		}); err != nil {
			return fmt.Errorf("the declared exchange: %w", err)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(row+` [data-testid="exchange-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), name),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			count(row, 0),
		)
		if err != nil {
			return err
		}
		if exists(conn, func(c *amqp.Channel) error {
			return c.ExchangeDeclarePassive(name, "fanout", true, false, false, false, nil)
		}) == nil {
			return fmt.Errorf("exchange %s still exists after the delete", name)
		}
		return nil
	})

	u.step("bindings: list, create, delete with confirmation", func(ctx context.Context) error {
		declared := `[data-testid="binding-row"][data-source="` + xchg + `"][data-destination="` + queue + `"]`
		made := `[data-testid="binding-row"][data-source="amq.direct"][data-destination="` + queue + `"][data-routing-key="ui-key"]`
		const between = "/api/bindings/%2F/e/amq.direct/q/" + queue
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-bindings")),
			textIs(declared+` [data-col="routing-key"]`, "console.#"),
			choose("#binding-source", "amq.direct"),
			typeInto("#binding-dest", queue),
			typeInto("#binding-rk", "ui-key"),
			chromedp.Click(chromedp.CSS("#binding-create")),
			count(made, 1),
		)
		if err != nil {
			return err
		}
		var bs []struct {
			RoutingKey string `json:"routing_key"`
		}
		apiDo(t, base, http.MethodGet, between, nil, &bs)
		if len(bs) != 1 || bs[0].RoutingKey != "ui-key" {
			return fmt.Errorf("API bindings amq.direct → %s = %+v, want one with key ui-key", queue, bs)
		}
		err = chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(made+` [data-testid="binding-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			count(made, 0),
			count(declared, 1),
		)
		if err != nil {
			return err
		}
		apiDo(t, base, http.MethodGet, between, nil, &bs)
		if len(bs) != 0 {
			return fmt.Errorf("API still has bindings amq.direct → %s: %+v", queue, bs)
		}
		return nil
	})

	u.step("connections: the live AMQP connection", func(ctx context.Context) error {
		row := `[data-testid="connection-row"][data-protocol="amqp"]`
		local := conn.LocalAddr().String()
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-connections")),
			truthy("a row for the test's AMQP connection "+local,
				`[...document.querySelectorAll('`+row+` [data-col="peer"]')].some(e => e.innerText.trim() === '`+local+`')`),
			textIs(row+` [data-col="user"]`, "guest"),
			textIs(row+` [data-col="vhost"]`, "/"),
		)
	})

	u.step("tasks: the topic delete and the purge are listed as done", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-tasks")),
			textIs(`[data-testid="task-row"][data-kind="delete_topic"][data-target="`+created+`"] [data-col="state"]`, "done"),
			count(`[data-testid="task-row"][data-kind="purge_queue"][data-state="done"]`, 1),
		)
	})

	u.step("tasks: a running task shows its progress and the banner", func(ctx context.Context) error {
		// The broker's tasks finish in milliseconds here, so the answer of
		// /api/tasks is replaced in the browser by one with a task at 40%.
		stop := u.fakeTasks(ctx, `[{"id":99,"kind":"delete_topic","target":"huge-topic","done":40,"total":100,"unit":"bytes","state":"running","started_at":`+
			fmt.Sprint(time.Now().UnixMilli())+`}]`)
		defer stop()
		return chromedp.Do(ctx,
			textHas(`[data-testid="task-row"][data-target="huge-topic"] [data-col="progress"]`, "40%"),
			textHas("#task-banner", "delete topic huge-topic — 40%"),
			chromedp.Click(chromedp.CSS("#nav-overview")),
			chromedp.WaitVisible(chromedp.CSS("#task-banner")),
		)
	})

	u.step("users: list, add and delete with confirmation", func(ctx context.Context) error {
		const name = "console-admin"
		row := `[data-testid="user-row"][data-name="` + name + `"]`
		err := chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS("#nav-users")),
			textHas(`[data-testid="user-row"][data-name="guest"]`, "you"),
			count(`[data-testid="user-row"][data-name="viewer"]`, 1),
			typeInto("#user-name", name),
			typeInto("#user-password", "s3cret"),
			typeInto("#user-tags", "administrator"),
			chromedp.Click(chromedp.CSS("#user-create")),
			textHas(row, "administrator"),
		)
		if err != nil {
			return err
		}
		// The new user may use the API: its password and tag took.
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+"/api/whoami", nil)
		req.SetBasicAuth(name, "s3cret")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("GET /api/whoami as %s = %d, want 200", name, resp.StatusCode)
		}
		return chromedp.Do(ctx,
			chromedp.Click(chromedp.CSS(row+` [data-testid="user-delete"]`)),
			chromedp.WaitVisible(chromedp.CSS("#confirm-dialog")),
			chromedp.SendKeys(chromedp.CSS("#confirm-input"), name),
			chromedp.Click(chromedp.CSS("#confirm-ok")),
			count(row, 0),
		)
	})

	u.step("a 401 in the middle of a session brings the login form back", func(ctx context.Context) error {
		return chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`sessionStorage.setItem('tern.auth', btoa('guest:stale'))`),
			chromedp.Click(chromedp.CSS("#nav-queues")),
			chromedp.WaitVisible(chromedp.CSS("#login-form")),
			textHas("#login-error", "401"),
			truthy("the stale credentials are forgotten", `sessionStorage.getItem('tern.auth') === null`),
			typeInto("#login-user", "guest"),
			typeInto("#login-password", "guest"),
			chromedp.Click(chromedp.CSS("#login-submit")),
			textHas("#view h1", "Queues"),
			chromedp.WaitVisible(chromedp.CSS(`[data-testid="queue-row"][data-name="`+queue+`"]`)),
		)
	})

	u.checkConsole()
}

// ---- the browser -------------------------------------------------------

func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromium); err != nil {
		if os.Getenv("TERN_REQUIRE_BROWSER") == "1" {
			t.Fatalf("%s: %v; TERN_REQUIRE_BROWSER=1 needs it: run scripts/install-test-deps.sh", chromium, err)
		}
		t.Skipf("%s not found (run scripts/install-test-deps.sh; TERN_REQUIRE_BROWSER=1 makes this a failure)", chromium)
	}
}

type ui struct {
	t    *testing.T
	ctx  context.Context // the tab; steps derive their timeouts from it
	base string

	mu       sync.Mutex
	problems []string // uncaught exceptions and console errors of the page
}

func newUI(t *testing.T, base string) *ui {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
		// No internet here: keep Chromium from dialing out on its own.
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	var closed atomic.Bool
	logf := func(format string, args ...any) {
		if !closed.Load() {
			t.Logf("chromedp: "+format, args...)
		}
	}
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(logf))
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		if err := chromedp.Cancel(cctx); err != nil {
			t.Logf("closing chromium: %v", err)
		}
		cancelTab()
		cancelAlloc()
		closed.Store(true)
	})
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start %s: %v", chromium, err)
	}
	u := &ui{t: t, ctx: ctx, base: base}
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			// Network errors (the refused logins' 401s) are expected; an
			// exception, a console.error or a CSP violation is a bug.
			if m.IsException() || (m.Type == "error" && m.Source != "network") {
				u.mu.Lock()
				u.problems = append(u.problems, m.String())
				u.mu.Unlock()
			}
		}
	}()
	return u
}

// step runs one group of actions under stepTimeout; on failure it logs
// what the page showed and a screenshot path, and stops the test.
func (u *ui) step(name string, fn func(ctx context.Context) error) {
	u.t.Helper()
	u.t.Logf("step: %s", name)
	ctx, cancel := context.WithTimeout(u.ctx, stepTimeout)
	defer cancel()
	if err := fn(ctx); err != nil {
		u.t.Fatalf("%s: %v\n%s", name, err, u.dump())
	}
}

// dump describes the page: its route, messages, visible text, a screenshot.
func (u *ui) dump() string {
	ctx, cancel := context.WithTimeout(u.ctx, 10*time.Second)
	defer cancel()
	text, err := chromedp.Run(ctx, chromedp.Evaluate[string](
		`'route: ' + location.hash + '\nmessages: ' + document.getElementById('messages').innerText + '\npage:\n' + document.getElementById('view').innerText`))
	if err != nil {
		text = fmt.Sprintf("(page text unavailable: %v)", err)
	}
	if png, err := chromedp.Run(ctx, chromedp.FullScreenshot(80)); err == nil {
		p := filepath.Join(u.t.TempDir(), "console-failure.jpg")
		if os.WriteFile(p, png, 0o600) == nil {
			text += "\nscreenshot: " + p
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.problems) > 0 {
		text += "\nbrowser console:\n" + strings.Join(u.problems, "\n")
	}
	return text
}

// checkConsole fails the test if the page threw or logged an error.
func (u *ui) checkConsole() {
	u.t.Helper()
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.problems) > 0 {
		u.t.Errorf("the browser console reported %d problem(s):\n%s", len(u.problems), strings.Join(u.problems, "\n"))
	}
}

// fakeTasks answers the page's /api/tasks calls with body until stop.
func (u *ui) fakeTasks(ctx context.Context, body string) (stop func()) {
	u.t.Helper()
	lctx, cancel := context.WithCancel(ctx)
	paused := chromedp.Events(lctx, fetch.RequestPaused)
	if _, err := chromedp.Call(ctx, fetch.Enable, fetch.EnableParams{
		Patterns: []*fetch.RequestPattern{{URLPattern: "*/api/tasks*"}},
	}); err != nil {
		cancel()
		u.t.Fatalf("intercept /api/tasks: %v", err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ev, err := range paused {
			if err != nil {
				return
			}
			_, _ = chromedp.Call(lctx, fetch.FulfillRequest, fetch.FulfillRequestParams{
				RequestID:       ev.RequestID,
				ResponseCode:    200,
				ResponseHeaders: []*fetch.HeaderEntry{{Name: "Content-Type", Value: "application/json"}},
				Body:            []byte(body),
			})
		}
	}()
	return func() {
		dctx, dcancel := context.WithTimeout(u.ctx, 10*time.Second)
		defer dcancel()
		if _, err := chromedp.Call(dctx, fetch.Disable, cdp.Empty{}); err != nil {
			u.t.Errorf("stop intercepting /api/tasks: %v", err)
		}
		cancel()
		<-done
	}
}

// ---- actions -----------------------------------------------------------

// js quotes s as a JavaScript string literal.
func js(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// truthy waits until the JavaScript expression is truthy.
func truthy(what, expr string) chromedp.Action[chromedp.Void] {
	poll := chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0))
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		if _, err := poll(ctx, t); err != nil {
			return chromedp.Void{}, fmt.Errorf("waiting until %s: %w", what, err)
		}
		return chromedp.Void{}, nil
	}
}

// textIs waits until the first element matching sel shows exactly want.
func textIs(sel, want string) chromedp.Action[chromedp.Void] {
	return withActual(sel, fmt.Sprintf("%s shows %q", sel, want),
		fmt.Sprintf(`(e => !!e && e.innerText.trim() === %s)(document.querySelector(%s))`, js(want), js(sel)))
}

// textHas waits until the first element matching sel contains want.
func textHas(sel, want string) chromedp.Action[chromedp.Void] {
	return withActual(sel, fmt.Sprintf("%s contains %q", sel, want),
		fmt.Sprintf(`(e => !!e && e.innerText.includes(%s))(document.querySelector(%s))`, js(want), js(sel)))
}

// withActual is truthy that, on failure, says what sel showed instead.
func withActual(sel, what, expr string) chromedp.Action[chromedp.Void] {
	wait := truthy(what, expr)
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := wait(ctx, t)
		if err == nil {
			return chromedp.Void{}, nil
		}
		actx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		got, aerr := chromedp.Evaluate[string](fmt.Sprintf(`(e => e ? e.innerText : '(no such element)')(document.querySelector(%s))`, js(sel)))(actx, t)
		if aerr != nil {
			return chromedp.Void{}, err
		}
		return chromedp.Void{}, fmt.Errorf("%w; it shows %q", err, got)
	}
}

// count waits until exactly n elements match sel.
func count(sel string, n int) chromedp.Action[chromedp.Void] {
	return truthy(fmt.Sprintf("%d elements match %s", n, sel), fmt.Sprintf(`document.querySelectorAll(%s).length === %d`, js(sel), n))
}

// texts reads the trimmed text of every element matching sel.
func texts(sel string) chromedp.Action[[]string] {
	return chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => e.innerText.trim())`, js(sel)))
}

// typeInto clears the field, then types v as a user would.
func typeInto(sel, v string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.WaitVisible(chromedp.CSS(sel)),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(e => { e.value = ''; e.dispatchEvent(new Event('input', {bubbles: true})); })(document.querySelector(%s))`, js(sel))),
		chromedp.SendKeys(chromedp.CSS(sel), v),
	)
}

// choose waits for the option, selects it and fires change, as a user's pick does.
func choose(sel, value string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		truthy(fmt.Sprintf("%s offers %q", sel, value),
			fmt.Sprintf(`(s => !!s && [...s.options].some(o => o.value === %s))(document.querySelector(%s))`, js(value), js(sel))),
		chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(s => { s.value = %s; s.dispatchEvent(new Event('change', {bubbles: true})); })(document.querySelector(%s))`, js(value), js(sel))),
	)
}

// sameSet checks that the elements matching sel show exactly want, in any order.
func sameSet(ctx context.Context, sel string, want []string) error {
	got, err := chromedp.Run(ctx, texts(sel))
	if err != nil {
		return err
	}
	slices.Sort(got)
	w := slices.Sorted(slices.Values(want))
	if !slices.Equal(got, w) {
		return fmt.Errorf("%s shows %q, want %q", sel, got, w)
	}
	return nil
}

// eventually retries check every 100 ms until it passes or ctx ends.
func eventually(ctx context.Context, check func() error) error {
	for {
		err := check()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// ---- data --------------------------------------------------------------

// seedKafka makes topic (2 partitions, values) and group, a consumer
// group that read everything but committed only partition 0 offset 1 and
// partition 1 offset 2 (lag 3), then left (so it is empty).
func seedKafka(t *testing.T, addr string) *kadm.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cl, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.RecordPartitioner(kgo.ManualPartitioner()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	adm := kadm.NewClient(cl)
	if _, err := adm.CreateTopic(ctx, 2, 1, nil, topic); err != nil {
		t.Fatalf("create %s: %v", topic, err)
	}
	var recs []*kgo.Record
	for i, v := range values {
		p := int32(0)
		if i >= 4 {
			p = 1
		}
		recs = append(recs, &kgo.Record{
			Topic: topic, Partition: p, Key: fmt.Appendf(nil, "key-%d", i+1), Value: []byte(v),
			Headers: []kgo.RecordHeader{{Key: "source", Value: []byte("console-test")}},
		})
	}
	if err := cl.ProduceSync(ctx, recs...).FirstErr(); err != nil {
		t.Fatalf("produce: %v", err)
	}

	cons, err := kgo.NewClient(kgo.SeedBrokers(addr), kgo.ConsumerGroup(group), kgo.ConsumeTopics(topic),
		kgo.DisableAutoCommit(), kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()))
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []*kgo.Record
	for len(got) < len(values) {
		fs := cons.PollFetches(ctx)
		if err := fs.Err(); err != nil {
			t.Fatalf("consume: %v", err)
		}
		got = append(got, fs.Records()...)
	}
	var commit []*kgo.Record
	for _, r := range got {
		if (r.Partition == 0 && r.Offset == 0) || (r.Partition == 1 && r.Offset == 1) {
			commit = append(commit, r)
		}
	}
	if err := cons.CommitRecords(ctx, commit...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	cons.Close() // leaves the group
	if err := committed(ctx, adm, map[int32]int64{0: 1, 1: 2}); err != nil {
		t.Fatal(err)
	}
	return adm
}

// committed checks the group's committed offsets of topic.
func committed(ctx context.Context, adm *kadm.Client, want map[int32]int64) error {
	offs, err := adm.FetchOffsets(ctx, group)
	if err != nil {
		return fmt.Errorf("fetch offsets of %s: %w", group, err)
	}
	for p, w := range want {
		o, ok := offs.Lookup(topic, p)
		if !ok || o.Err != nil || o.At != w {
			return fmt.Errorf("%s committed %s/%d = %+v (found %v), want %d", group, topic, p, o, ok, w)
		}
	}
	return nil
}

// seedAMQP declares xchg (topic) → queue on "console.#" and puts three
// persistent messages in queue; the connection stays open for the
// connections page.
func seedAMQP(t *testing.T, url string) (*amqp.Connection, *amqp.Channel) {
	t.Helper()
	conn, err := amqp.Dial(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(xchg, "topic", true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDeclare(queue, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(queue, "console.#", xchg, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	confirms := ch.NotifyPublish(make(chan amqp.Confirmation, 3))
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i := 1; i <= 3; i++ {
		err := ch.PublishWithContext(ctx, "", queue, false, false, amqp.Publishing{
			ContentType: "text/plain", DeliveryMode: amqp.Persistent, Body: fmt.Appendf(nil, "hello-%d", i),
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	for range 3 {
		select {
		case c := <-confirms:
			if !c.Ack {
				t.Fatalf("publish %d was nacked", c.DeliveryTag)
			}
		case <-ctx.Done():
			t.Fatal("no publisher confirm")
		}
	}
	return conn, ch
}

// exists runs a passive declare on a channel of its own: a failed one
// closes the channel it ran on.
func exists(conn *amqp.Connection, declare func(*amqp.Channel) error) error {
	c, err := conn.Channel()
	if err != nil {
		return err
	}
	defer c.Close()
	return declare(c)
}

// depth checks the queue's ready count with a passive declare.
func depth(ch *amqp.Channel, want int) error {
	q, err := ch.QueueDeclarePassive(queue, true, false, false, false, nil)
	if err != nil {
		return err
	}
	if q.Messages != want {
		return fmt.Errorf("%s holds %d messages, want %d", queue, q.Messages, want)
	}
	return nil
}

// apiDo calls the admin API as guest and decodes the answer into out.
func apiDo(t *testing.T, base, method, path string, body, out any) {
	t.Helper()
	var rd *strings.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = strings.NewReader(string(b))
	} else {
		rd = strings.NewReader("")
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.SetBasicAuth("guest", "guest")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		var e struct{ Error, Reason string }
		_ = json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("%s %s = %d %s: %s", method, path, resp.StatusCode, e.Error, e.Reason)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}

func port(t *testing.T, addr string) string {
	t.Helper()
	_, p, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}
