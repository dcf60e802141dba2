package exchange

import (
	"fmt"
	"strings"
)

// xMatch is a headers binding's x-match mode.
type xMatch uint8

const (
	matchAll      xMatch = iota // every pattern header present and equal
	matchAny                    // at least one pattern header present and equal
	matchAllWithX               // as all, but "x-" pattern keys count too
	matchAnyWithX               // as any, but "x-" pattern keys count too
)

// parseXMatch validates the x-match binding argument as RabbitMQ's
// headers exchange does: absent means all; otherwise it must be the
// string all, any, all-with-x or any-with-x.
func parseXMatch(args Args) (xMatch, error) {
	v, ok := args["x-match"]
	if !ok {
		return matchAll, nil
	}
	s, ok := v.(string)
	if !ok {
		return 0, fmt.Errorf("%w: invalid x-match field type %T; expected a string", ErrPreconditionFailed, v)
	}
	switch s {
	case "all":
		return matchAll, nil
	case "any":
		return matchAny, nil
	case "all-with-x":
		return matchAllWithX, nil
	case "any-with-x":
		return matchAnyWithX, nil
	}
	return 0, fmt.Errorf("%w: invalid x-match field value %q; expected all, any, all-with-x, or any-with-x",
		ErrPreconditionFailed, s)
}

// headersBinding is one binding of a headers exchange, compiled: the
// pattern keeps only the keys that take part in matching.
type headersBinding struct {
	dest    Destination
	mode    xMatch
	pattern []hfield
}

type hfield struct {
	key  string
	val  any
	void bool // nil binding value: matches presence of the header only
}

// compileHeaders builds the matcher of a validated binding (parseXMatch
// succeeded). "x-match" never takes part; other "x-" keys take part only
// in the -with-x modes.
func compileHeaders(dest Destination, args Args) *headersBinding {
	mode, _ := parseXMatch(args)
	b := &headersBinding{dest: dest, mode: mode}
	for k, v := range args {
		if k == "x-match" {
			continue
		}
		if strings.HasPrefix(k, "x-") && (mode == matchAll || mode == matchAny) {
			continue
		}
		b.pattern = append(b.pattern, hfield{key: k, val: v, void: v == nil})
	}
	return b
}

// match reports whether a message with these headers matches the binding.
// An all binding with nothing to compare matches every message; an any
// binding with nothing to compare matches none (RabbitMQ's behaviour).
func (b *headersBinding) match(headers map[string]any) bool {
	all := b.mode == matchAll || b.mode == matchAllWithX
	for i := range b.pattern {
		f := &b.pattern[i]
		hv, present := headers[f.key]
		ok := present && (f.void || valuesEqual(f.val, hv))
		if all && !ok {
			return false
		}
		if !all && ok {
			return true
		}
	}
	return all
}
