package main

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

func (a *cli) groupCmd() *cobra.Command {
	return groupCommand("group", "List, describe, reset and delete Kafka consumer groups",
		a.groupListCmd(), a.groupDescribeCmd(), a.groupResetCmd(), a.groupDeleteCmd())
}

var groupNames = namesOf((*client).groups, func(g groupSummary) string { return g.Group })

func lagSeconds(s float64) string {
	if s <= 0 {
		return "0s"
	}
	return humanDuration(time.Duration(s * float64(time.Second)))
}

func (a *cli) groupListCmd() *cobra.Command {
	return listCommand(a, listing[groupSummary]{
		use:    "list",
		short:  "List consumer groups with their state, members and lag",
		fetch:  (*client).groups,
		less:   func(x, y groupSummary) bool { return x.Group < y.Group },
		header: []string{"GROUP", "STATE", "MEMBERS", "LAG", "LAG-TIME"},
		row: func(g groupSummary) []any {
			return []any{g.Group, g.State, g.Members, g.Lag, lagSeconds(g.LagSeconds)}
		},
	})
}

func (a *cli) groupDescribeCmd() *cobra.Command {
	return a.nameCommand("describe NAME", "Show a group's members and, per partition, committed offset, high watermark and lag", groupNames,
		func(cmd *cobra.Command, c *client, name string) error {
			g, raw, err := c.group(cmd.Context(), name)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.printGroup(g)
			return nil
		})
}

func (a *cli) printGroup(g groupDetail) {
	fmt.Fprintf(a.stdout, "Group:    %s\nState:    %s\n", g.Group, g.State)
	if g.ProtocolType != "" || g.Protocol != "" {
		fmt.Fprintf(a.stdout, "Protocol: %s %s\n", g.ProtocolType, g.Protocol)
	}
	fmt.Fprintf(a.stdout, "Members:  %d\n", len(g.Members))
	if len(g.Members) > 0 {
		fmt.Fprintln(a.stdout)
		members := append(g.Members[:0:0], g.Members...)
		sort.Slice(members, func(i, j int) bool { return members[i].MemberID < members[j].MemberID })
		t := newTable(a.stdout, "MEMBER", "CLIENT", "HOST", "ASSIGNMENTS")
		for _, m := range members {
			var as []string
			for _, as1 := range m.Assignments {
				ps := make([]string, len(as1.Partitions))
				for i, p := range as1.Partitions {
					ps[i] = fmt.Sprint(p)
				}
				as = append(as, as1.Topic+"["+strings.Join(ps, ",")+"]")
			}
			sort.Strings(as)
			id := m.MemberID
			if m.InstanceID != "" {
				id += " (" + m.InstanceID + ")"
			}
			t.row(id, m.ClientID, m.ClientHost, strings.Join(as, " "))
		}
		_ = t.flush()
	}
	fmt.Fprintln(a.stdout)
	if len(g.Offsets) == 0 {
		fmt.Fprintln(a.stdout, "No committed offsets.")
		return
	}
	offs := append(g.Offsets[:0:0], g.Offsets...)
	sort.Slice(offs, func(i, j int) bool {
		if offs[i].Topic != offs[j].Topic {
			return offs[i].Topic < offs[j].Topic
		}
		return offs[i].Partition < offs[j].Partition
	})
	t := newTable(a.stdout, "TOPIC", "PARTITION", "COMMITTED", "HIGH-WATERMARK", "LAG", "LAG-TIME")
	for _, o := range offs {
		t.row(o.Topic, o.Partition, offsetText(o.Committed), o.HighWatermark, o.Lag, lagSeconds(o.LagSeconds))
	}
	_ = t.flush()
}

func (a *cli) groupResetCmd() *cobra.Command {
	var (
		topic            string
		partitions       []int32
		to, timestamp    string
		offset, shift    int64
		dryRun           bool
		resetTargetsHelp = "earliest, latest, offset (--offset N), timestamp (--timestamp T) or shift (--shift ±N)"
	)
	c := &cobra.Command{
		Use:   "reset-offsets NAME --topic T --to TARGET",
		Short: "Move a group's committed offsets (the group must have no members)",
		Long: `Move a group's committed offsets on a topic, for every partition or those
given with --partition. --to is ` + resetTargetsHelp + `.
The group must be empty: stop its consumers first. --dry-run shows the
change without making it.`,
		Example: `  tern group reset-offsets billing --topic orders --to earliest --dry-run
  tern group reset-offsets billing --topic orders --partition 0 --to offset --offset 42
  tern group reset-offsets billing --topic orders --to timestamp --timestamp 2024-05-01T00:00:00Z
  tern group reset-offsets billing --topic orders --to shift --shift -10`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(groupNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			req := resetOffsets{Topic: topic, Partitions: partitions, To: to, DryRun: dryRun}
			f := cmd.Flags()
			for _, name := range []string{"offset", "timestamp", "shift"} {
				if f.Changed(name) && to != name {
					return usageErrorf("--%s goes with --to %s", name, name)
				}
			}
			switch to {
			case "earliest", "latest":
			case "offset":
				if !f.Changed("offset") || offset < 0 {
					return usageErrorf("--to offset needs --offset N (0 or more)")
				}
				req.Offset = &offset
			case "timestamp":
				if !f.Changed("timestamp") {
					return usageErrorf("--to timestamp needs --timestamp T")
				}
				ms, err := parseTime("timestamp", timestamp, time.Now())
				if err != nil {
					return err
				}
				req.Timestamp = &ms
			case "shift":
				if !f.Changed("shift") {
					return usageErrorf("--to shift needs --shift N (negative moves back)")
				}
				req.Shift = &shift
			default:
				return usageErrorf("--to %q: want %s", to, resetTargetsHelp)
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ans, raw, err := c.resetOffsets(cmd.Context(), args[0], req)
			if err != nil {
				if statusOf(err) == http.StatusConflict {
					return fmt.Errorf("group %q has active members: stop its consumers (see \"tern group describe %s\"), then reset: %w", args[0], args[0], err)
				}
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			offs := ans.Offsets
			sort.Slice(offs, func(i, j int) bool {
				if offs[i].Topic != offs[j].Topic {
					return offs[i].Topic < offs[j].Topic
				}
				return offs[i].Partition < offs[j].Partition
			})
			t := newTable(a.stdout, "TOPIC", "PARTITION", "PREVIOUS", "NEW")
			for _, o := range offs {
				t.row(o.Topic, o.Partition, offsetText(o.Previous), offsetText(o.New))
			}
			if err := t.flush(); err != nil {
				return err
			}
			if dryRun {
				fmt.Fprintln(a.stdout, "Dry run: nothing changed (run without --dry-run to apply).")
			}
			return nil
		},
	}
	fl := c.Flags()
	fl.StringVar(&topic, "topic", "", "topic whose offsets move (required)")
	fl.Int32SliceVar(&partitions, "partition", nil, "partition to move (repeatable or comma-separated; default all)")
	fl.StringVar(&to, "to", "", "target: "+resetTargetsHelp+" (required)")
	fl.Int64Var(&offset, "offset", 0, "offset for --to offset")
	fl.StringVar(&timestamp, "timestamp", "", "time for --to timestamp: RFC 3339, unix ms, or a duration ago (1h)")
	fl.Int64Var(&shift, "shift", 0, "records to move by for --to shift (negative moves back)")
	fl.BoolVar(&dryRun, "dry-run", false, "show the new offsets without committing them")
	_ = c.MarkFlagRequired("topic")
	_ = c.MarkFlagRequired("to")
	_ = c.RegisterFlagCompletionFunc("to", fixedCompletion("earliest", "latest", "offset", "timestamp", "shift"))
	_ = c.RegisterFlagCompletionFunc("topic", a.flagCompletion(topicNames))
	return c
}

func (a *cli) groupDeleteCmd() *cobra.Command {
	return a.nameCommand("delete NAME", "Delete a consumer group and its committed offsets (it must have no members)", groupNames,
		func(cmd *cobra.Command, c *client, name string) error {
			if err := c.deleteGroup(cmd.Context(), name); err != nil {
				if statusOf(err) == http.StatusConflict {
					return fmt.Errorf("group %q has active members: stop its consumers first: %w", name, err)
				}
				return err
			}
			a.done("Deleted group %q.\n", name)
			return nil
		})
}
