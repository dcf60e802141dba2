package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (a *cli) clusterCmd() *cobra.Command {
	status := &cobra.Command{
		Use:   "status",
		Short: "Show the nodes: ready, uptime, listeners, free disk; and object totals",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			cl, clRaw, err := c.cluster(ctx)
			if err != nil {
				return err
			}
			ov, ovRaw, err := c.overview(ctx)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(json.RawMessage(fmt.Sprintf(`{"cluster":%s,"overview":%s}`, clRaw, ovRaw)))
			}
			name := ov.ClusterName
			if name == "" {
				name = cl.ClusterID
			}
			fmt.Fprintf(a.stdout, "Cluster:    %s\n", name)
			if cl.ClusterID != "" && cl.ClusterID != name {
				fmt.Fprintf(a.stdout, "Cluster ID: %s\n", cl.ClusterID)
			}
			if ov.ProductVersion != "" {
				fmt.Fprintf(a.stdout, "Version:    %s %s\n", ov.ProductName, ov.ProductVersion)
			}
			if cl.ControllerID != nil {
				fmt.Fprintf(a.stdout, "Controller: %v\n", cl.ControllerID)
			}
			fmt.Fprintln(a.stdout)
			nodes := cl.Nodes
			sort.Slice(nodes, func(i, j int) bool { return fmt.Sprint(nodes[i].ID) < fmt.Sprint(nodes[j].ID) })
			t := newTable(a.stdout, "NODE", "READY", "UPTIME", "DISK-FREE", "LISTENERS", "DATA-DIR")
			for _, n := range nodes {
				t.row(n.ID, yesNo(n.Ready), humanDuration(time.Duration(n.UptimeMS)*time.Millisecond),
					humanBytes(n.DiskFree), listenersText(n.Listeners), n.DataDir)
			}
			if err := t.flush(); err != nil {
				return err
			}
			o := ov.ObjectTotals
			fmt.Fprintf(a.stdout, "\nKafka: %d topics, %d partitions, %d groups\n", o.Topics, o.Partitions, o.Groups)
			fmt.Fprintf(a.stdout, "AMQP:  %d queues, %d exchanges, %d consumers; %d messages (%d ready, %d unacked)\n",
				o.Queues, o.Exchanges, o.Consumers, ov.QueueTotals.Messages, ov.QueueTotals.MessagesReady, ov.QueueTotals.MessagesUnacknowledged)
			fmt.Fprintf(a.stdout, "Connections: %d\n", o.Connections)
			return nil
		},
	}
	return groupCommand("cluster", "Show the state of the cluster", status)
}

func listenersText(ls []listener) string {
	parts := make([]string, 0, len(ls))
	for _, l := range ls {
		parts = append(parts, l.Protocol+"="+net.JoinHostPort(l.IPAddress, strconv.Itoa(l.Port)))
	}
	sort.Strings(parts)
	return strings.Join(parts, " ")
}

func (a *cli) connectionCmd() *cobra.Command {
	var now time.Time // when the answer came: CONNECTED counts to it
	list := listCommand(a, listing[connectionInfo]{
		use:   "list",
		short: "List client connections (Kafka and AMQP)",
		fetch: func(c *client, ctx context.Context) ([]connectionInfo, json.RawMessage, error) {
			cs, raw, err := c.connections(ctx)
			now = time.Now()
			return cs, raw, err
		},
		less: func(x, y connectionInfo) bool {
			if x.Protocol != y.Protocol {
				return x.Protocol < y.Protocol
			}
			return x.Name < y.Name
		},
		header: []string{"PROTOCOL", "PEER", "USER", "VHOST", "CLIENT", "CONNECTED"},
		row: func(cn connectionInfo) []any {
			since := "-"
			if cn.ConnectedAt > 0 {
				since = humanDuration(now.Sub(time.UnixMilli(cn.ConnectedAt))) + " ago"
			}
			return []any{cn.Protocol, net.JoinHostPort(cn.PeerHost, strconv.Itoa(cn.PeerPort)), cn.User, cn.VHost, cn.Client, since}
		},
	})
	return groupCommand("connection", "Show client connections", list)
}

func (a *cli) taskCmd() *cobra.Command {
	list := listCommand(a, listing[taskInfo]{
		use:   "list",
		short: "List long-running operations (topic deletion, queue purge, recovery) with progress",
		fetch: (*client).tasks,
		// No less: the API lists newest first; keep that order.
		header: []string{"ID", "KIND", "TARGET", "STATE", "PROGRESS", "STARTED", "TOOK", "ERROR"},
		row: func(tk taskInfo) []any {
			took := "-"
			if tk.FinishedAt > 0 && tk.StartedAt > 0 {
				took = humanDuration(time.Duration(tk.FinishedAt-tk.StartedAt) * time.Millisecond)
			}
			return []any{tk.ID, tk.Kind, tk.Target, tk.State, progressText(tk), unixMillis(tk.StartedAt), took, tk.Error}
		},
	})
	return groupCommand("task", "Show long-running operations", list)
}

func progressText(t taskInfo) string {
	unit := t.Unit
	if unit != "" {
		unit = " " + unit
	}
	if t.Total <= 0 {
		return fmt.Sprintf("%g%s", t.Done, unit)
	}
	return fmt.Sprintf("%g/%g%s (%.0f%%)", t.Done, t.Total, unit, 100*t.Done/t.Total)
}
