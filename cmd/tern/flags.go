package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// parseKV reads repeated k=v flags into a map.
func parseKV(flagName string, kvs []string) (map[string]string, error) {
	if len(kvs) == 0 {
		return nil, nil
	}
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--%s %q: want key=value", flagName, kv)
		}
		m[k] = v
	}
	return m, nil
}

// parseArgs reads AMQP arguments: --arg k=v with typed values (numbers,
// true/false; anything else a string) merged over --arg-json's object.
func parseArgs(kvs []string, argJSON string) (map[string]any, error) {
	args := map[string]any{}
	if argJSON != "" {
		dec := json.NewDecoder(strings.NewReader(argJSON))
		dec.UseNumber()
		if err := dec.Decode(&args); err != nil {
			return nil, usageErrorf("--arg-json: want a JSON object like '{\"x-max-length\": 10}': %v", err)
		}
	}
	for _, kv := range kvs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, usageErrorf("--arg %q: want key=value", kv)
		}
		args[k] = typedValue(v)
	}
	return args, nil
}

// typedValue turns "10" into a number and "true" into a bool, as
// RabbitMQ's arguments (x-max-length, x-message-ttl) expect; quote a value
// in --arg-json to keep it a string.
func typedValue(v string) any {
	if i, err := strconv.ParseInt(v, 10, 64); err == nil {
		return i
	}
	if f, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXnN") {
		return f
	}
	if b, err := strconv.ParseBool(v); err == nil && (v == "true" || v == "false") {
		return b
	}
	return v
}

// parseTime reads a point in time as RFC 3339, unix milliseconds, or a
// duration ago ("15m" = 15 minutes before now), and returns unix ms.
func parseTime(flagName, s string, now time.Time) (int64, error) {
	if ms, err := strconv.ParseInt(s, 10, 64); err == nil {
		return ms, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t.UnixMilli(), nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return now.Add(-d).UnixMilli(), nil
	}
	return 0, usageErrorf("--%s %q: want RFC 3339 (2024-05-01T12:00:00Z), unix milliseconds, or a duration ago (15m)", flagName, s)
}

// fixedCompletion completes a flag from a fixed list.
func fixedCompletion(values ...string) cobra.CompletionFunc {
	return func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return values, cobra.ShellCompDirectiveNoFileComp
	}
}

// nameCompletion completes the first argument with names the API lists
// (topics, groups, queues). Best effort: any failure completes nothing.
func (a *cli) nameCompletion(list nameLister) cobra.CompletionFunc {
	return func(cmd *cobra.Command, args []string, prefix string) ([]cobra.Completion, cobra.ShellCompDirective) {
		if len(args) > 0 {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		if a.timeout <= 0 || a.timeout > 3*time.Second {
			a.timeout = 3 * time.Second // a shell waits for this
		}
		c, err := a.client(cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		names, err := list(cmd.Context(), c, cmd)
		if err != nil {
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
		var out []cobra.Completion
		for _, n := range names {
			if strings.HasPrefix(n, prefix) {
				out = append(out, n)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// readAllLimit reads a whole stream (publish's body) up to max bytes.
func readAllLimit(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("the body is larger than %s", humanBytes(max))
	}
	return b, nil
}
