package main

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/spf13/cobra"
)

// The AMQP commands: queue, exchange, binding, publish, get. Each takes
// --vhost (default "/").

func (a *cli) vhostFlag(c *cobra.Command, vhost *string) {
	c.Flags().StringVar(vhost, "vhost", "/", "AMQP virtual host")
	_ = c.RegisterFlagCompletionFunc("vhost", a.flagCompletion(vhostNames))
}

func queueNames(ctx context.Context, c *client, cmd *cobra.Command) ([]string, error) {
	vhost, _ := cmd.Flags().GetString("vhost")
	if vhost == "" {
		vhost = "/"
	}
	qs, _, err := c.queues(ctx, vhost)
	names := make([]string, 0, len(qs))
	for _, q := range qs {
		names = append(names, q.Name)
	}
	return names, err
}

func exchangeNames(ctx context.Context, c *client, cmd *cobra.Command) ([]string, error) {
	vhost, _ := cmd.Flags().GetString("vhost")
	if vhost == "" {
		vhost = "/"
	}
	xs, _, err := c.exchanges(ctx, vhost)
	names := make([]string, 0, len(xs))
	for _, x := range xs {
		if x.Name != "" {
			names = append(names, x.Name)
		}
	}
	return names, err
}

// flagCompletion adapts a name list to a flag's completion.
func (a *cli) flagCompletion(list nameLister) cobra.CompletionFunc {
	return func(cmd *cobra.Command, _ []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return a.nameCompletion(list)(cmd, nil, prefix)
	}
}

func (a *cli) queueCmd() *cobra.Command {
	return groupCommand("queue", "Declare, list, purge and delete AMQP queues",
		a.queueDeclareCmd(), a.queueListCmd(), a.queueDeleteCmd(), a.queuePurgeCmd())
}

func (a *cli) queueDeclareCmd() *cobra.Command {
	var (
		vhost, argJSON       string
		durable, autoDelete  bool
		args                 []string
		queueTypeDescription = `Arguments are typed: --arg x-max-length=10 sends the number 10, true/false
send booleans, anything else a string; --arg-json '{"x-queue-type":"stream"}'
gives them as a JSON object (--arg wins on the same key).`
	)
	c := &cobra.Command{
		Use:   "declare NAME",
		Short: "Declare a queue (idempotent when the properties match)",
		Long:  "Declare a queue; declaring it again with the same properties changes nothing.\n\n" + queueTypeDescription,
		Example: `  tern queue declare orders
  tern queue declare jobs --arg x-max-length=1000 --arg x-overflow=reject-publish
  tern queue declare events --arg-json '{"x-queue-type":"stream"}'`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			qargs, err := parseArgs(args, argJSON)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			created, err := c.declareQueue(cmd.Context(), vhost, pos[0], declareQueue{Durable: durable, AutoDelete: autoDelete, Arguments: qargs})
			if err != nil {
				if statusOf(err) == http.StatusPreconditionFailed || statusOf(err) == http.StatusConflict {
					return fmt.Errorf("queue %q already exists with other properties (see \"tern queue list\"; delete it first to change them): %w", pos[0], err)
				}
				return vhostNotFound(err, vhost)
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"name": pos[0], "vhost": vhost, "created": created})
			}
			if created {
				fmt.Fprintf(a.stdout, "Declared queue %q.\n", pos[0])
			} else {
				fmt.Fprintf(a.stdout, "Queue %q already exists with these properties.\n", pos[0])
			}
			return nil
		},
	}
	a.vhostFlag(c, &vhost)
	c.Flags().BoolVar(&durable, "durable", true, "survive a broker restart")
	c.Flags().BoolVar(&autoDelete, "auto-delete", false, "delete the queue when its last consumer goes")
	c.Flags().StringArrayVar(&args, "arg", nil, "queue argument key=value (repeatable), e.g. x-max-length=10")
	c.Flags().StringVar(&argJSON, "arg-json", "", "queue arguments as a JSON object")
	return c
}

func (a *cli) queueListCmd() *cobra.Command {
	var vhost string
	c := listCommand(a, listing[queueInfo]{
		use:   "list",
		short: "List queues with their messages and consumers",
		fetch: func(c *client, ctx context.Context) ([]queueInfo, json.RawMessage, error) {
			return c.queues(ctx, vhost)
		},
		less:   func(x, y queueInfo) bool { return x.Name < y.Name },
		header: []string{"NAME", "TYPE", "DURABLE", "MESSAGES", "READY", "UNACKED", "READY-BYTES", "CONSUMERS", "ARGUMENTS"},
		row: func(q queueInfo) []any {
			return []any{q.Name, q.Type, yesNo(q.Durable), q.Messages, q.MessagesReady, q.MessagesUnacknowledged, humanBytes(q.MessageBytesReady), q.Consumers, argsText(q.Arguments)}
		},
	})
	a.vhostFlag(c, &vhost)
	return c
}

func (a *cli) queueDeleteCmd() *cobra.Command {
	var vhost string
	var ifUnused, ifEmpty bool
	c := a.nameCommand("delete NAME", "Delete a queue and its messages", queueNames,
		func(cmd *cobra.Command, c *client, name string) error {
			if err := c.deleteQueue(cmd.Context(), vhost, name, ifUnused, ifEmpty); err != nil {
				if s := statusOf(err); s == http.StatusPreconditionFailed || s == http.StatusConflict {
					return fmt.Errorf("queue %q not deleted: %w", name, err)
				}
				return err
			}
			a.done("Deleted queue %q.\n", name)
			return nil
		})
	a.vhostFlag(c, &vhost)
	c.Flags().BoolVar(&ifUnused, "if-unused", false, "only if the queue has no consumers")
	c.Flags().BoolVar(&ifEmpty, "if-empty", false, "only if the queue has no messages")
	return c
}

func (a *cli) queuePurgeCmd() *cobra.Command {
	var vhost string
	c := a.nameCommand("purge NAME", "Remove every ready message from a queue", queueNames,
		func(cmd *cobra.Command, c *client, name string) error {
			if err := c.purgeQueue(cmd.Context(), vhost, name); err != nil {
				return err
			}
			a.done("Purged queue %q.\n", name)
			return nil
		})
	a.vhostFlag(c, &vhost)
	return c
}

func (a *cli) exchangeCmd() *cobra.Command {
	return groupCommand("exchange", "Declare, list and delete AMQP exchanges",
		a.exchangeDeclareCmd(), a.exchangeListCmd(), a.exchangeDeleteCmd())
}

func (a *cli) exchangeDeclareCmd() *cobra.Command {
	var (
		vhost, kind, argJSON          string
		durable, autoDelete, internal bool
		args                          []string
	)
	c := &cobra.Command{
		Use:     "declare NAME --type direct|topic|fanout|headers",
		Short:   "Declare an exchange (idempotent when the properties match)",
		Example: `  tern exchange declare events --type topic`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, pos []string) error {
			switch kind {
			case "direct", "topic", "fanout", "headers", "x-consistent-hash":
			default:
				return usageErrorf("--type %q: want direct, topic, fanout or headers", kind)
			}
			xargs, err := parseArgs(args, argJSON)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			created, err := c.declareExchange(cmd.Context(), vhost, pos[0], declareExchange{Type: kind, Durable: durable, AutoDelete: autoDelete, Internal: internal, Arguments: xargs})
			if err != nil {
				if statusOf(err) == http.StatusPreconditionFailed || statusOf(err) == http.StatusConflict {
					return fmt.Errorf("exchange %q already exists with other properties (see \"tern exchange list\"): %w", pos[0], err)
				}
				return vhostNotFound(err, vhost)
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"name": pos[0], "vhost": vhost, "created": created})
			}
			if created {
				fmt.Fprintf(a.stdout, "Declared %s exchange %q.\n", kind, pos[0])
			} else {
				fmt.Fprintf(a.stdout, "Exchange %q already exists with these properties.\n", pos[0])
			}
			return nil
		},
	}
	a.vhostFlag(c, &vhost)
	c.Flags().StringVar(&kind, "type", "", "exchange type: direct, topic, fanout or headers (required)")
	c.Flags().BoolVar(&durable, "durable", true, "survive a broker restart")
	c.Flags().BoolVar(&autoDelete, "auto-delete", false, "delete the exchange when its last binding goes")
	c.Flags().BoolVar(&internal, "internal", false, "clients cannot publish to it, only other exchanges")
	c.Flags().StringArrayVar(&args, "arg", nil, "exchange argument key=value (repeatable), e.g. alternate-exchange=unrouted")
	c.Flags().StringVar(&argJSON, "arg-json", "", "exchange arguments as a JSON object")
	_ = c.MarkFlagRequired("type")
	_ = c.RegisterFlagCompletionFunc("type", fixedCompletion("direct", "topic", "fanout", "headers"))
	return c
}

func exchangeName(n string) string {
	if n == "" {
		return "(AMQP default)"
	}
	return n
}

func (a *cli) exchangeListCmd() *cobra.Command {
	var vhost string
	c := listCommand(a, listing[exchangeInfo]{
		use:   "list",
		short: "List exchanges",
		fetch: func(c *client, ctx context.Context) ([]exchangeInfo, json.RawMessage, error) {
			return c.exchanges(ctx, vhost)
		},
		less:   func(x, y exchangeInfo) bool { return x.Name < y.Name },
		header: []string{"NAME", "TYPE", "DURABLE", "AUTO-DELETE", "INTERNAL", "ARGUMENTS"},
		row: func(x exchangeInfo) []any {
			return []any{exchangeName(x.Name), x.Type, yesNo(x.Durable), yesNo(x.AutoDelete), yesNo(x.Internal), argsText(x.Arguments)}
		},
	})
	a.vhostFlag(c, &vhost)
	return c
}

func (a *cli) exchangeDeleteCmd() *cobra.Command {
	var vhost string
	var ifUnused bool
	c := a.nameCommand("delete NAME", "Delete an exchange and its bindings", exchangeNames,
		func(cmd *cobra.Command, c *client, name string) error {
			if err := c.deleteExchange(cmd.Context(), vhost, name, ifUnused); err != nil {
				return err
			}
			a.done("Deleted exchange %q.\n", name)
			return nil
		})
	a.vhostFlag(c, &vhost)
	c.Flags().BoolVar(&ifUnused, "if-unused", false, "only if the exchange has no bindings")
	return c
}

func (a *cli) bindingCmd() *cobra.Command {
	return groupCommand("binding", "Declare, list and delete AMQP bindings",
		a.bindingDeclareCmd(), a.bindingListCmd(), a.bindingDeleteCmd())
}

// bindingSelector is the flags naming a binding's two ends.
type bindingSelector struct {
	vhost, source, dest, destType, routingKey string
}

func (a *cli) bindingFlags(s *bindingSelector, c *cobra.Command, required bool) {
	a.vhostFlag(c, &s.vhost)
	f := c.Flags()
	f.StringVar(&s.source, "source", "", "source exchange (\"\" is the default exchange)")
	f.StringVar(&s.dest, "destination", "", "destination queue or exchange")
	f.StringVar(&s.destType, "destination-type", "queue", "queue or exchange")
	f.StringVar(&s.routingKey, "routing-key", "", "routing key (binding key)")
	if required {
		_ = c.MarkFlagRequired("source")
		_ = c.MarkFlagRequired("destination")
	}
	_ = c.RegisterFlagCompletionFunc("destination-type", fixedCompletion("queue", "exchange"))
	_ = c.RegisterFlagCompletionFunc("source", a.flagCompletion(exchangeNames))
	_ = c.RegisterFlagCompletionFunc("destination", a.flagCompletion(queueNames))
}

func (s *bindingSelector) check() error {
	if s.destType != "queue" && s.destType != "exchange" {
		return usageErrorf("--destination-type %q: want queue or exchange", s.destType)
	}
	return nil
}

func (a *cli) bindingDeclareCmd() *cobra.Command {
	var sel bindingSelector
	var args []string
	var argJSON string
	c := &cobra.Command{
		Use:   "declare --source EX --destination Q [--routing-key K]",
		Short: "Bind a queue (or exchange) to an exchange",
		Example: `  tern binding declare --source events --destination audit --routing-key 'order.*'
  tern binding declare --source events --destination archive --destination-type exchange`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sel.check(); err != nil {
				return err
			}
			bargs, err := parseArgs(args, argJSON)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			if err := c.declareBinding(cmd.Context(), sel.vhost, sel.source, sel.destType, sel.dest, sel.routingKey, bargs); err != nil {
				if statusOf(err) == http.StatusNotFound {
					return fmt.Errorf("cannot bind %s %q to exchange %q (list them with \"tern exchange list\" and \"tern %s list\"): %w", sel.destType, sel.dest, sel.source, sel.destType, err)
				}
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"vhost": sel.vhost, "source": sel.source, "destination": sel.dest, "destination_type": sel.destType, "routing_key": sel.routingKey})
			}
			fmt.Fprintf(a.stdout, "Bound %s %q to exchange %q with routing key %q.\n", sel.destType, sel.dest, exchangeName(sel.source), sel.routingKey)
			return nil
		},
	}
	a.bindingFlags(&sel, c, true)
	c.Flags().StringArrayVar(&args, "arg", nil, "binding argument key=value (repeatable; headers exchanges match on them)")
	c.Flags().StringVar(&argJSON, "arg-json", "", "binding arguments as a JSON object")
	return c
}

func (a *cli) bindingListCmd() *cobra.Command {
	var sel bindingSelector
	c := listCommand(a, listing[bindingInfo]{
		use:   "list [--source EX] [--destination Q]",
		short: "List bindings, optionally only those of a source or destination",
		fetch: func(c *client, ctx context.Context) ([]bindingInfo, json.RawMessage, error) {
			return c.bindings(ctx, sel.vhost)
		},
		// A flag filters only when given: "" is a real source (the
		// default exchange) and routing key.
		keep: func(cmd *cobra.Command, b bindingInfo) bool {
			f := cmd.Flags()
			return !((f.Changed("source") && b.Source != sel.source) ||
				(f.Changed("destination") && b.Destination != sel.dest) ||
				(f.Changed("destination-type") && b.DestinationType != sel.destType) ||
				(f.Changed("routing-key") && b.RoutingKey != sel.routingKey))
		},
		less: func(x, y bindingInfo) bool {
			if x.Source != y.Source {
				return x.Source < y.Source
			}
			if x.Destination != y.Destination {
				return x.Destination < y.Destination
			}
			return x.RoutingKey < y.RoutingKey
		},
		header: []string{"SOURCE", "DESTINATION", "TYPE", "ROUTING-KEY", "ARGUMENTS", "PROPERTIES-KEY"},
		row: func(b bindingInfo) []any {
			return []any{exchangeName(b.Source), b.Destination, b.DestinationType, b.RoutingKey, argsText(b.Arguments), b.PropertiesKey}
		},
	})
	a.bindingFlags(&sel, c, false)
	return c
}

func (a *cli) bindingDeleteCmd() *cobra.Command {
	var sel bindingSelector
	var propsKey string
	c := &cobra.Command{
		Use:   "delete --source EX --destination Q [--routing-key K]",
		Short: "Delete a binding",
		Long: `Delete the binding between an exchange and a queue (or exchange) with the
given routing key. When several bindings share the key (different
arguments), name one with --properties-key from "tern binding list".`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := sel.check(); err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			key := propsKey
			if key == "" {
				bs, err := c.bindingsBetween(ctx, sel.vhost, sel.source, sel.destType, sel.dest)
				if err != nil {
					return err
				}
				var match []bindingInfo
				for _, b := range bs {
					if b.RoutingKey == sel.routingKey {
						match = append(match, b)
					}
				}
				switch len(match) {
				case 0:
					return fmt.Errorf("no binding from exchange %q to %s %q with routing key %q (list bindings with \"tern binding list --source %s\")",
						exchangeName(sel.source), sel.destType, sel.dest, sel.routingKey, sel.source)
				case 1:
					key = match[0].PropertiesKey
				default:
					keys := make([]string, len(match))
					for i, b := range match {
						keys[i] = b.PropertiesKey
					}
					return usageErrorf("%d bindings match (their arguments differ): pick one with --properties-key (%s)", len(match), strings.Join(keys, ", "))
				}
			}
			if err := c.deleteBinding(ctx, sel.vhost, sel.source, sel.destType, sel.dest, key); err != nil {
				if statusOf(err) == http.StatusNotFound {
					return fmt.Errorf("binding not found (list bindings with \"tern binding list\"): %w", err)
				}
				return err
			}
			a.done("Deleted binding from exchange %q to %s %q (routing key %q).\n", exchangeName(sel.source), sel.destType, sel.dest, sel.routingKey)
			return nil
		},
	}
	a.bindingFlags(&sel, c, true)
	c.Flags().StringVar(&propsKey, "properties-key", "", "the binding's properties key (from \"tern binding list\"); default: found by routing key")
	return c
}

// Largest publish body read from stdin.
const maxPublishBody = 64 << 20

func (a *cli) publishCmd() *cobra.Command {
	var (
		vhost, exchange, routingKey, body, contentType string
		headers                                        []string
		persistent                                     bool
	)
	c := &cobra.Command{
		Use:   "publish --exchange EX --routing-key K [--body B]",
		Short: "Publish one AMQP message (the body from --body or stdin)",
		Long: `Publish one message through an exchange. The body is --body, or all of
stdin. The default exchange ("", the default of --exchange) routes to the
queue named by the routing key. It fails when no queue received the message.`,
		Example: `  tern publish --routing-key orders --body 'hello'
  tern publish --exchange events --routing-key order.created --header source=cli < order.json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			hdrs, err := parseKV("header", headers)
			if err != nil {
				return err
			}
			var payload []byte
			if cmd.Flags().Changed("body") {
				payload = []byte(body)
			} else {
				if a.stdinTTY {
					fmt.Fprintln(a.stderr, "Reading the message body from stdin (end with Ctrl-D)…")
				}
				if payload, err = readAllLimit(a.stdin, maxPublishBody); err != nil {
					return fmt.Errorf("read stdin: %w", err)
				}
			}
			msg := publishMessage{RoutingKey: routingKey, Properties: map[string]any{}}
			if utf8.Valid(payload) {
				msg.Payload, msg.PayloadEncoding = string(payload), "string"
			} else {
				msg.Payload, msg.PayloadEncoding = base64.StdEncoding.EncodeToString(payload), "base64"
			}
			if persistent {
				msg.Properties["delivery_mode"] = 2
			} else {
				msg.Properties["delivery_mode"] = 1
			}
			if contentType != "" {
				msg.Properties["content_type"] = contentType
			}
			if len(hdrs) > 0 {
				h := make(map[string]any, len(hdrs))
				for k, v := range hdrs {
					h[k] = v
				}
				msg.Properties["headers"] = h
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			routed, raw, err := c.publish(cmd.Context(), vhost, exchange, msg)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				if err := a.printJSON(raw); err != nil {
					return err
				}
			}
			if !routed {
				return fmt.Errorf("the message reached exchange %q but no queue is bound to it with a matching routing key %q, so it was dropped (check \"tern binding list --source %s\")",
					exchangeName(exchange), routingKey, exchange)
			}
			a.done("Published %s to exchange %q with routing key %q.\n", humanBytes(int64(len(payload))), exchangeName(exchange), routingKey)
			return nil
		},
	}
	a.vhostFlag(c, &vhost)
	f := c.Flags()
	f.StringVar(&exchange, "exchange", "", "exchange to publish to (default: the default exchange, which routes by queue name)")
	f.StringVar(&routingKey, "routing-key", "", "routing key")
	f.StringVar(&body, "body", "", "message body (default: read stdin)")
	f.StringArrayVar(&headers, "header", nil, "message header key=value (repeatable)")
	f.BoolVar(&persistent, "persistent", true, "delivery mode 2: the message survives a restart in a durable queue")
	f.StringVar(&contentType, "content-type", "", "content_type property, e.g. application/json")
	_ = c.RegisterFlagCompletionFunc("exchange", a.flagCompletion(exchangeNames))
	return c
}

func (a *cli) getCmd() *cobra.Command {
	var (
		vhost      string
		count      int
		requeue    bool
		ack        bool
		getExample = `  tern get orders            # peek at the first message; it stays in the queue
  tern get orders -n 10 --ack  # take ten messages off the queue`
	)
	c := &cobra.Command{
		Use:   "get QUEUE",
		Short: "Fetch messages from a queue: peek (requeue, the default) or take (--ack)",
		Long: `Fetch up to -n messages from a queue. By default they are requeued
(a peek: they stay in the queue, marked redelivered); --ack removes them.`,
		Example:           getExample,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(queueNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			if count < 1 {
				return usageErrorf("-n must be at least 1")
			}
			if cmd.Flags().Changed("requeue") && cmd.Flags().Changed("ack") && requeue == ack {
				return usageErrorf("--requeue and --ack exclude each other")
			}
			mode := "ack_requeue_true"
			if ack || (cmd.Flags().Changed("requeue") && !requeue) {
				mode = "ack_requeue_false"
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			msgs, raw, err := c.getMessages(cmd.Context(), vhost, args[0], count, mode)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			if len(msgs) == 0 {
				fmt.Fprintf(a.stdout, "Queue %q has no ready messages.\n", args[0])
				return nil
			}
			t := newTable(a.stdout, "#", "EXCHANGE", "ROUTING-KEY", "REDELIVERED", "SIZE", "PAYLOAD")
			for i, m := range msgs {
				payload := []byte(m.Payload)
				if m.PayloadEncoding == "base64" {
					if payload, err = base64.StdEncoding.DecodeString(m.Payload); err != nil {
						return fmt.Errorf("message %d: %w", i+1, err)
					}
				}
				t.row(i+1, exchangeName(m.Exchange), m.RoutingKey, yesNo(m.Redelivered), humanBytes(int64(len(payload))), printable(payload))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if mode == "ack_requeue_false" {
				fmt.Fprintf(a.stdout, "Removed %d message(s) from queue %q; %d left ready.\n", len(msgs), args[0], msgs[len(msgs)-1].MessageCount)
			} else {
				fmt.Fprintf(a.stdout, "Requeued %d message(s): they stay in queue %q (--ack removes them).\n", len(msgs), args[0])
			}
			return nil
		},
	}
	a.vhostFlag(c, &vhost)
	c.Flags().IntVarP(&count, "count", "n", 1, "how many messages")
	c.Flags().BoolVar(&requeue, "requeue", true, "put the messages back (a peek)")
	c.Flags().BoolVar(&ack, "ack", false, "acknowledge the messages: they leave the queue")
	return c
}
