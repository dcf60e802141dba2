package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/spf13/cobra"
)

// The shapes most operator commands share, written once so that every
// list (and every command on one named object) behaves the same: the
// same aliases, argument checks, JSON passthrough and table layout.

// listing describes a "list" command: what it fetches, which items it
// keeps, how it orders them and the table it prints.
type listing[T any] struct {
	use, short string
	// fetch asks the API; the raw answer is what --format json prints.
	// The client comes first so a method expression, (*client).users,
	// fits.
	fetch func(c *client, ctx context.Context) ([]T, json.RawMessage, error)
	// keep filters the items by the command's flags; nil keeps them all.
	keep func(cmd *cobra.Command, item T) bool
	// less orders the table; nil keeps the API's order.
	less   func(x, y T) bool
	header []string
	row    func(T) []any
}

// listCommand builds a list command from l. The caller adds its flags
// (--vhost and the like) to the command it returns.
func listCommand[T any](a *cli, l listing[T]) *cobra.Command {
	return &cobra.Command{
		Use:     l.use,
		Aliases: []string{"ls"},
		Short:   l.short,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			items, raw, err := l.fetch(c, cmd.Context())
			if err != nil {
				return err
			}
			kept := items
			if l.keep != nil {
				kept = items[:0]
				for _, it := range items {
					if l.keep(cmd, it) {
						kept = append(kept, it)
					}
				}
			}
			if a.jsonOutput() {
				// The API's own answer while nothing was filtered out, so
				// scripts see every field it sends, not only those the
				// CLI decodes.
				if len(kept) == len(items) {
					return a.printJSON(raw)
				}
				return a.printValue(kept)
			}
			if l.less != nil {
				// sort.Slice, not a stable sort: ties keep the order they
				// have always printed in.
				sort.Slice(kept, func(i, j int) bool { return l.less(kept[i], kept[j]) })
			}
			t := newTable(a.stdout, l.header...)
			for _, it := range kept {
				t.row(l.row(it)...)
			}
			return t.flush()
		},
	}
}

// nameLister lists the names a NAME argument completes to.
type nameLister = func(context.Context, *client, *cobra.Command) ([]string, error)

// namesOf makes a nameLister from a list call and the name of an item.
func namesOf[T any](list func(*client, context.Context) ([]T, json.RawMessage, error), name func(T) string) nameLister {
	return func(ctx context.Context, c *client, _ *cobra.Command) ([]string, error) {
		items, _, err := list(c, ctx)
		names := make([]string, 0, len(items))
		for _, it := range items {
			names = append(names, name(it))
		}
		return names, err
	}
}

// nameCommand builds a command on one named object (delete NAME,
// describe NAME, …) whose first step is to reach the API: it checks the
// argument count, completes NAME from names, and hands run the client.
// Commands that validate their flags first keep their own RunE, so a
// usage mistake is reported before any connection problem.
func (a *cli) nameCommand(use, short string, names nameLister, run func(cmd *cobra.Command, c *client, name string) error) *cobra.Command {
	return &cobra.Command{
		Use:               use,
		Short:             short,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.nameCompletion(names),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, err := a.client(cmd)
			if err != nil {
				return err
			}
			return run(cmd, c, args[0])
		},
	}
}

// done tells people what a command did; with --format json it prints
// nothing, as the exit code says it worked.
func (a *cli) done(format string, args ...any) {
	if !a.jsonOutput() {
		fmt.Fprintf(a.stdout, format, args...)
	}
}
