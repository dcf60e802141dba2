package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"
)

// jsonOutput says whether --format json was asked for.
func (a *cli) jsonOutput() bool { return a.format == "json" }

// printJSON writes the API's JSON answer indented, for scripts.
func (a *cli) printJSON(raw json.RawMessage) error {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil
	}
	var buf bytes.Buffer
	if err := json.Indent(&buf, raw, "", "  "); err != nil {
		return fmt.Errorf("format answer: %w", err)
	}
	buf.WriteByte('\n')
	_, err := a.stdout.Write(buf.Bytes())
	return err
}

// printValue writes v as indented JSON (for answers the CLI assembles).
func (a *cli) printValue(v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(a.stdout, "%s\n", b)
	return err
}

// table writes aligned columns for people.
type table struct {
	out io.Writer
	buf bytes.Buffer
	tw  *tabwriter.Writer
}

func newTable(w io.Writer, headers ...string) *table {
	t := &table{out: w}
	t.tw = tabwriter.NewWriter(&t.buf, 0, 0, 2, ' ', 0)
	if len(headers) > 0 {
		t.row(anySlice(headers)...)
	}
	return t
}

func anySlice(s []string) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

func (t *table) row(cols ...any) {
	for i, c := range cols {
		if i > 0 {
			io.WriteString(t.tw, "\t")
		}
		// Tabs or newlines inside a cell would break the columns.
		io.WriteString(t.tw, cell(fmt.Sprint(c)))
	}
	io.WriteString(t.tw, "\n")
}

// flush writes the rows, without the padding an empty last cell leaves.
func (t *table) flush() error {
	if err := t.tw.Flush(); err != nil {
		return err
	}
	lines := strings.SplitAfter(t.buf.String(), "\n")
	var b strings.Builder
	for _, l := range lines {
		if strings.HasSuffix(l, "\n") {
			b.WriteString(strings.TrimRight(l[:len(l)-1], " "))
			b.WriteByte('\n')
		} else {
			b.WriteString(l)
		}
	}
	t.buf.Reset()
	_, err := io.WriteString(t.out, b.String())
	return err
}

func cell(s string) string {
	if strings.ContainsAny(s, "\t\n\r") {
		q := strconv.Quote(s)
		return q[1 : len(q)-1]
	}
	return s
}

// humanBytes renders a size in binary units: 512 B, 1.5 KiB, 3.0 GiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

// humanDuration renders a duration to the second (or the millisecond
// under a second): 3d4h, 2h5m, 42s, 250ms.
func humanDuration(d time.Duration) string {
	if d < 0 {
		d = 0
	}
	if d < time.Second {
		return d.Round(time.Millisecond).String()
	}
	d = d.Round(time.Second)
	days := d / (24 * time.Hour)
	d -= days * 24 * time.Hour
	h := d / time.Hour
	d -= h * time.Hour
	m := d / time.Minute
	s := (d - m*time.Minute) / time.Second
	switch {
	case days > 0:
		return fmt.Sprintf("%dd%dh", days, h)
	case h > 0:
		return fmt.Sprintf("%dh%dm", h, m)
	case m > 0:
		return fmt.Sprintf("%dm%ds", m, s)
	}
	return fmt.Sprintf("%ds", s)
}

// unixMillis renders a unix-milliseconds time in UTC, "-" for zero.
func unixMillis(ms int64) string {
	if ms <= 0 {
		return "-"
	}
	return time.UnixMilli(ms).UTC().Format(time.RFC3339)
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// offsetText renders an offset, "-" for none (-1).
func offsetText(o int64) string {
	if o < 0 {
		return "-"
	}
	return strconv.FormatInt(o, 10)
}

// printable shows a payload in a table cell: text as it is, anything
// else (binary, control characters) quoted.
func printable(b []byte) string {
	if utf8.Valid(b) && strings.IndexFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) && r != ' ' }) < 0 {
		return string(b)
	}
	return strconv.Quote(string(b))
}

// argsText renders AMQP arguments compactly, sorted by key.
func argsText(m map[string]any) string {
	if len(m) == 0 {
		return ""
	}
	b, err := json.Marshal(m) // encoding/json sorts map keys
	if err != nil {
		return fmt.Sprint(m)
	}
	return string(b)
}

// plural renders "1 partition", "3 partitions".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
