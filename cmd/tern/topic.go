package main

import (
	"bufio"
	"fmt"
	"sort"
	"strings"

	"github.com/spf13/cobra"
)

func (a *cli) topicCmd() *cobra.Command {
	return groupCommand("topic", "Create, list, describe, alter and delete Kafka topics",
		a.topicCreateCmd(), a.topicListCmd(), a.topicDescribeCmd(), a.topicAlterCmd(), a.topicDeleteCmd())
}

var topicNames = namesOf((*client).topics, func(t topicSummary) string { return t.Name })

// topicSettings checks the --config and --partitions flags that create
// and alter share, and returns the configs.
func topicSettings(cmd *cobra.Command, configs []string, partitions int32) (map[string]string, error) {
	cfg, err := parseKV("config", configs)
	if err != nil {
		return nil, err
	}
	if cmd.Flags().Changed("partitions") && partitions < 1 {
		return nil, usageErrorf("--partitions must be at least 1")
	}
	return cfg, nil
}

func (a *cli) topicCreateCmd() *cobra.Command {
	var partitions int32
	var configs []string
	c := &cobra.Command{
		Use:   "create NAME",
		Short: "Create a topic",
		Example: `  tern topic create orders --partitions 6 --config retention.ms=86400000
  tern topic create audit --config cleanup.policy=compact`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := topicSettings(cmd, configs, partitions)
			if err != nil {
				return err
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			t, raw, err := c.createTopic(cmd.Context(), createTopic{Name: args[0], Partitions: partitions, Configs: cfg})
			if err != nil {
				if statusOf(err) == 409 {
					return fmt.Errorf("topic %q already exists (see it with \"tern topic describe %s\"): %w", args[0], args[0], err)
				}
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			fmt.Fprintf(a.stdout, "Created topic %q with %s.\n", args[0], plural(len(t.Partitions), "partition"))
			return nil
		},
	}
	c.Flags().Int32Var(&partitions, "partitions", 0, "number of partitions (default: the broker's num.partitions)")
	c.Flags().StringArrayVar(&configs, "config", nil, "topic config key=value (repeatable), e.g. retention.ms=86400000")
	return c
}

func (a *cli) topicListCmd() *cobra.Command {
	return listCommand(a, listing[topicSummary]{
		use:    "list",
		short:  "List topics with their partitions, messages and size",
		fetch:  (*client).topics,
		less:   func(x, y topicSummary) bool { return x.Name < y.Name },
		header: []string{"NAME", "PARTITIONS", "MESSAGES", "SIZE", "INTERNAL"},
		row: func(tp topicSummary) []any {
			internal := ""
			if tp.Internal {
				internal = "yes"
			}
			return []any{tp.Name, tp.Partitions, tp.Messages, humanBytes(tp.SizeBytes), internal}
		},
	})
}

func (a *cli) topicDescribeCmd() *cobra.Command {
	var allConfigs bool
	c := a.nameCommand("describe NAME", "Show a topic's partitions (offsets, size) and configs", topicNames,
		func(cmd *cobra.Command, c *client, name string) error {
			td, raw, err := c.topic(cmd.Context(), name)
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			a.printTopic(td, allConfigs)
			return nil
		})
	c.Flags().BoolVar(&allConfigs, "all-configs", false, "list every config with its source (default: only those set on the topic)")
	return c
}

func (a *cli) printTopic(td topicDetail, allConfigs bool) {
	var msgs, size int64
	for _, p := range td.Partitions {
		msgs += p.HighWatermark - p.StartOffset
		size += p.SizeBytes
	}
	fmt.Fprintf(a.stdout, "Topic:      %s\n", td.Name)
	if td.ID != "" {
		fmt.Fprintf(a.stdout, "ID:         %s\n", td.ID)
	}
	if td.Internal {
		fmt.Fprintf(a.stdout, "Internal:   yes\n")
	}
	fmt.Fprintf(a.stdout, "Partitions: %d\nMessages:   %d\nSize:       %s\n\n", len(td.Partitions), msgs, humanBytes(size))

	parts := append([]partitionInfo(nil), td.Partitions...)
	sort.Slice(parts, func(i, j int) bool { return parts[i].Partition < parts[j].Partition })
	t := newTable(a.stdout, "PARTITION", "LEADER", "START-OFFSET", "HIGH-WATERMARK", "MESSAGES", "SIZE")
	for _, p := range parts {
		t.row(p.Partition, p.Leader, p.StartOffset, p.HighWatermark, p.HighWatermark-p.StartOffset, humanBytes(p.SizeBytes))
	}
	_ = t.flush()

	cfgs := make([]topicConfig, 0, len(td.Configs))
	for _, c := range td.Configs {
		if allConfigs || c.Source == "topic" {
			cfgs = append(cfgs, c)
		}
	}
	sort.Slice(cfgs, func(i, j int) bool { return cfgs[i].Name < cfgs[j].Name })
	fmt.Fprintln(a.stdout)
	if len(cfgs) == 0 {
		fmt.Fprintln(a.stdout, "Configs: none set on the topic (--all-configs lists the values in effect)")
		return
	}
	if allConfigs {
		fmt.Fprintln(a.stdout, "Configs:")
	} else {
		fmt.Fprintln(a.stdout, "Configs set on the topic (--all-configs lists all):")
	}
	t = newTable(a.stdout, "NAME", "VALUE", "SOURCE")
	for _, c := range cfgs {
		v := c.Value
		if c.Sensitive {
			v = "(sensitive)"
		}
		src := c.Source
		if c.ReadOnly {
			src += " (read-only)"
		}
		t.row(c.Name, v, src)
	}
	_ = t.flush()
}

func (a *cli) topicAlterCmd() *cobra.Command {
	var configs, deleteConfigs []string
	var partitions int32
	c := &cobra.Command{
		Use:   "alter NAME",
		Short: "Set or delete topic configs, or add partitions",
		Example: `  tern topic alter orders --config retention.ms=3600000 --delete-config segment.bytes
  tern topic alter orders --partitions 12`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(topicNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := topicSettings(cmd, configs, partitions)
			if err != nil {
				return err
			}
			if len(cfg) == 0 && len(deleteConfigs) == 0 && partitions == 0 {
				return usageErrorf("nothing to change: pass --config k=v, --delete-config k or --partitions N")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			td, raw, err := c.alterTopic(cmd.Context(), args[0], alterTopic{Configs: cfg, DeleteConfigs: deleteConfigs, Partitions: partitions})
			if err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printJSON(raw)
			}
			var changes []string
			keys := make([]string, 0, len(cfg))
			for k := range cfg {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				changes = append(changes, fmt.Sprintf("set %s=%s", k, cfg[k]))
			}
			for _, k := range deleteConfigs {
				changes = append(changes, "deleted "+k)
			}
			if partitions > 0 {
				changes = append(changes, fmt.Sprintf("partitions now %d", len(td.Partitions)))
			}
			fmt.Fprintf(a.stdout, "Altered topic %q: %s.\n", args[0], strings.Join(changes, ", "))
			return nil
		},
	}
	c.Flags().StringArrayVar(&configs, "config", nil, "set a topic config key=value (repeatable)")
	c.Flags().StringArrayVar(&deleteConfigs, "delete-config", nil, "remove a topic config so the default applies (repeatable)")
	c.Flags().Int32Var(&partitions, "partitions", 0, "raise the partition count to N (partitions cannot be removed)")
	return c
}

func (a *cli) topicDeleteCmd() *cobra.Command {
	var yes bool
	c := a.nameCommand("delete NAME", "Delete a topic and all its records", topicNames,
		func(cmd *cobra.Command, c *client, name string) error {
			err := a.confirmDelete("topic", name, yes, func() (string, error) {
				td, _, err := c.topic(cmd.Context(), name)
				if err != nil {
					return "", err
				}
				var msgs int64
				for _, p := range td.Partitions {
					msgs += p.HighWatermark - p.StartOffset
				}
				return fmt.Sprintf("Delete topic %q (%s, %s)? [y/N] ", name, plural(len(td.Partitions), "partition"), plural(int(msgs), "message")), nil
			})
			if err != nil {
				return err
			}
			if err := c.deleteTopic(cmd.Context(), name); err != nil {
				return err
			}
			a.done("Deleted topic %q.\n", name)
			return nil
		})
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return c
}

// confirm asks a yes/no question on stderr and reads the answer from stdin.
// confirmDelete lets a delete go ahead: at once with --yes, else after
// a person on a terminal answers the question (which may look up what
// the delete will take); "Not deleted" and a failing exit otherwise.
func (a *cli) confirmDelete(kind, name string, yes bool, question func() (string, error)) error {
	if yes {
		return nil
	}
	if !a.stdinTTY {
		return usageErrorf("refusing to delete %s %q without confirmation: stdin is not a terminal, so pass --yes", kind, name)
	}
	q, err := question()
	if err != nil {
		return err
	}
	ok, err := a.confirm(q)
	if err != nil {
		return err
	}
	if !ok {
		fmt.Fprintln(a.stderr, "Not deleted.")
		return exitCode(exitError)
	}
	return nil
}

func (a *cli) confirm(question string) (bool, error) {
	fmt.Fprint(a.stderr, question)
	line, err := bufio.NewReader(a.stdin).ReadString('\n')
	if err != nil && line == "" {
		return false, fmt.Errorf("no answer: %w", err)
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
