package main

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/spf13/cobra"
)

// user and permission commands. Note: on `user create` and `user passwd`,
// --password is the user's new password, so the admin password comes
// from TERN_PASSWORD (or the default) there.

func (a *cli) userCmd() *cobra.Command {
	return groupCommand("user", "List, create and delete users, and change passwords",
		a.userListCmd(), a.userCreateCmd(), a.userDeleteCmd(), a.userPasswdCmd())
}

var userNames = namesOf((*client).users, func(u userInfo) string { return u.Name })

func (a *cli) userListCmd() *cobra.Command {
	return listCommand(a, listing[userInfo]{
		use:    "list",
		short:  "List users and their tags",
		fetch:  (*client).users,
		less:   func(x, y userInfo) bool { return x.Name < y.Name },
		header: []string{"NAME", "TAGS"},
		row:    func(u userInfo) []any { return []any{u.Name, strings.Join(u.Tags, ",")} },
	})
}

const newPasswordHelp = "the user's new password (the admin password then comes from TERN_PASSWORD)"

func (a *cli) userCreateCmd() *cobra.Command {
	var password string
	var tags []string
	c := &cobra.Command{
		Use:   "create NAME --password P [--tags administrator]",
		Short: "Create a user",
		Long: `Create a user. Tags give roles: "administrator" may use the admin API.
To open AMQP connections the user needs permissions on a vhost:
"tern permission set NAME".

--password here is the new user's password, so pass the admin's password
in TERN_PASSWORD.`,
		Example: `  tern user create app --password s3cret
  tern permission set app --vhost / --configure '^app\.' --write '.*' --read '.*'
  TERN_PASSWORD=adminpw tern --user admin user create ops --password pw --tags administrator`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if password == "" {
				return usageErrorf("--password must not be empty")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			// PUT creates or replaces; create must not replace.
			if _, err := c.getUser(ctx, name); err == nil {
				return fmt.Errorf("user %q already exists (change its password with \"tern user passwd %s --password P\")", name, name)
			} else if statusOf(err) != http.StatusNotFound {
				return err
			}
			if _, err := c.putUser(ctx, name, password, tags); err != nil {
				return err
			}
			if a.jsonOutput() {
				return a.printValue(map[string]any{"name": name, "tags": nonNil(tags)})
			}
			fmt.Fprintf(a.stdout, "Created user %q", name)
			if len(tags) > 0 {
				fmt.Fprintf(a.stdout, " with tags %s", strings.Join(tags, ","))
			}
			fmt.Fprintln(a.stdout, ".")
			return nil
		},
	}
	c.Flags().StringVar(&password, "password", "", newPasswordHelp)
	c.Flags().StringSliceVar(&tags, "tags", nil, "tags, comma-separated: administrator, management, …")
	_ = c.MarkFlagRequired("password")
	_ = c.RegisterFlagCompletionFunc("tags", fixedCompletion("administrator", "management", "monitoring"))
	return c
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func (a *cli) userDeleteCmd() *cobra.Command {
	return a.nameCommand("delete NAME", "Delete a user and its permissions", userNames,
		func(cmd *cobra.Command, c *client, name string) error {
			if err := c.deleteUser(cmd.Context(), name); err != nil {
				return err
			}
			a.done("Deleted user %q.\n", name)
			return nil
		})
}

func (a *cli) userPasswdCmd() *cobra.Command {
	var password string
	c := &cobra.Command{
		Use:               "passwd NAME --password P",
		Short:             "Change a user's password (its tags stay)",
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(userNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			if password == "" {
				return usageErrorf("--password must not be empty")
			}
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			u, err := c.getUser(ctx, args[0])
			if err != nil {
				return err
			}
			if _, err := c.putUser(ctx, args[0], password, u.Tags); err != nil {
				return err
			}
			a.done("Changed the password of user %q.\n", args[0])
			return nil
		},
	}
	c.Flags().StringVar(&password, "password", "", newPasswordHelp)
	_ = c.MarkFlagRequired("password")
	return c
}

func (a *cli) permissionCmd() *cobra.Command {
	return groupCommand("permission", "List, set and clear users' permissions on vhosts",
		a.permissionListCmd(), a.permissionSetCmd(), a.permissionClearCmd())
}

func (a *cli) permissionListCmd() *cobra.Command {
	var user, vhost string
	c := listCommand(a, listing[permissionInfo]{
		use:   "list",
		short: "List permissions (optionally of one --user or --vhost)",
		fetch: (*client).permissions,
		keep: func(_ *cobra.Command, p permissionInfo) bool {
			return (user == "" || p.User == user) && (vhost == "" || p.VHost == vhost)
		},
		less: func(x, y permissionInfo) bool {
			if x.User != y.User {
				return x.User < y.User
			}
			return x.VHost < y.VHost
		},
		header: []string{"USER", "VHOST", "CONFIGURE", "WRITE", "READ"},
		row:    func(p permissionInfo) []any { return []any{p.User, p.VHost, p.Configure, p.Write, p.Read} },
	})
	c.Flags().StringVar(&user, "for-user", "", "only this user's permissions")
	c.Flags().StringVar(&vhost, "vhost", "", "only permissions on this vhost")
	_ = c.RegisterFlagCompletionFunc("vhost", a.flagCompletion(vhostNames))
	_ = c.RegisterFlagCompletionFunc("for-user", a.flagCompletion(userNames))
	return c
}

func (a *cli) permissionSetCmd() *cobra.Command {
	var p permissionInfo
	c := &cobra.Command{
		Use:   "set USER [--vhost /] [--configure RE] [--write RE] [--read RE]",
		Short: "Set a user's permissions on a vhost (regular expressions over resource names)",
		Long: `Set a user's permissions on a vhost, as RabbitMQ does: each is a regular
expression over the names of the queues and exchanges the user may
configure (declare, delete), write (publish to) and read (consume from).
"" grants nothing; the default ".*" grants everything.`,
		Example: `  tern permission set app
  tern permission set app --configure '^$' --write '^orders$' --read '^app\.'`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(userNames),
		RunE: func(cmd *cobra.Command, args []string) error {
			p.User = args[0]
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			if err := c.setPermission(cmd.Context(), p); err != nil {
				if statusOf(err) == http.StatusNotFound {
					return fmt.Errorf("user %q or vhost %q not found (list users with \"tern user list\"): %w", p.User, p.VHost, err)
				}
				return err
			}
			if a.jsonOutput() {
				return a.printValue(p)
			}
			fmt.Fprintf(a.stdout, "Set permissions of user %q on vhost %q: configure %q, write %q, read %q.\n", p.User, p.VHost, p.Configure, p.Write, p.Read)
			return nil
		},
	}
	a.vhostFlag(c, &p.VHost)
	c.Flags().StringVar(&p.Configure, "configure", ".*", "names the user may declare and delete")
	c.Flags().StringVar(&p.Write, "write", ".*", "names the user may publish to")
	c.Flags().StringVar(&p.Read, "read", ".*", "names the user may consume from")
	return c
}

func (a *cli) permissionClearCmd() *cobra.Command {
	var vhost string
	c := a.nameCommand("clear USER [--vhost /]", "Remove a user's permissions on a vhost", userNames,
		func(cmd *cobra.Command, c *client, user string) error {
			if err := c.clearPermission(cmd.Context(), vhost, user); err != nil {
				if statusOf(err) == http.StatusNotFound {
					return fmt.Errorf("user %q has no permissions on vhost %q (see \"tern permission list\"): %w", user, vhost, err)
				}
				return err
			}
			a.done("Cleared permissions of user %q on vhost %q.\n", user, vhost)
			return nil
		})
	a.vhostFlag(c, &vhost)
	return c
}
