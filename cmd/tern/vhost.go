package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// vhost commands: list, create and delete AMQP virtual hosts.

func (a *cli) vhostCmd() *cobra.Command {
	return groupCommand("vhost", "List, create and delete AMQP virtual hosts",
		a.vhostListCmd(), a.vhostCreateCmd(), a.vhostDeleteCmd())
}

var vhostNames = namesOf((*client).vhosts, func(v vhostInfo) string { return v.Name })

func (a *cli) vhostListCmd() *cobra.Command {
	return listCommand(a, listing[vhostInfo]{
		use:    "list",
		short:  "List virtual hosts with their messages",
		fetch:  (*client).vhosts,
		less:   func(x, y vhostInfo) bool { return x.Name < y.Name },
		header: []string{"NAME", "MESSAGES", "READY", "UNACKED", "TAGS", "DESCRIPTION"},
		row: func(v vhostInfo) []any {
			return []any{v.Name, v.Messages, v.MessagesReady, v.MessagesUnacknowledged, strings.Join(v.Tags, ","), v.Description}
		},
	})
}

func (a *cli) vhostCreateCmd() *cobra.Command {
	var description string
	var tags []string
	c := &cobra.Command{
		Use:   "create NAME [--description D] [--tags t1,t2]",
		Short: "Create a virtual host",
		Long: `Create an AMQP virtual host: its own queues, exchanges and bindings, with
the predeclared exchanges. No user may open it until given permissions
there: "tern permission set USER --vhost NAME".`,
		Example: `  tern vhost create orders --description "order service"
  tern permission set app --vhost orders`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: cobra.NoFileCompletions,
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// PUT creates or updates; create must not update.
			if _, err := c.getVHost(ctx, name); err == nil {
				return fmt.Errorf("vhost %q already exists (see \"tern vhost list\")", name)
			} else if statusOf(err) != http.StatusNotFound {
				return err
			}
			if err := c.putVHost(ctx, name, description, tags); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"name": name, "description": description, "tags": nonNil(tags)})
			}
			fmt.Fprintf(a.stdout, "Created vhost %q. Give users access with \"tern permission set USER --vhost %s\".\n", name, name)
			return nil
		},
	}
	c.Flags().StringVar(&description, "description", "", "what the vhost is for")
	c.Flags().StringSliceVar(&tags, "tags", nil, "tags, comma-separated")
	return c
}

func (a *cli) vhostDeleteCmd() *cobra.Command {
	var yes bool
	c := a.nameCommand("delete NAME", "Delete a virtual host with its queues, messages, exchanges and permissions", vhostNames,
		func(cmd *cobra.Command, c *client, name string) error {
			ctx := cmd.Context()
			err := a.confirmDelete("vhost", name, yes, func() (string, error) {
				v, err := c.getVHost(ctx, name)
				if err != nil {
					return "", err
				}
				qs, _, err := c.queues(ctx, name)
				if err != nil {
					return "", err
				}
				return fmt.Sprintf("Delete vhost %q with its %s and %s, and close its connections? [y/N] ",
					name, plural(len(qs), "queue"), plural(int(v.Messages), "message")), nil
			})
			if err != nil {
				return err
			}
			if err := c.deleteVHost(ctx, name); err != nil {
				return err
			}
			a.done("Deleted vhost %q.\n", name)
			return nil
		})
	c.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return c
}
