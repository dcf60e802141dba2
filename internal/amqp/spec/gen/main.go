// Command gen generates methods_gen.go of package spec from the AMQP 0-9-1
// spec XML that ships with github.com/rabbitmq/amqp091-go
// (spec/amqp0-9-1.stripped.extended.xml: the 0-9-1 spec with RabbitMQ's
// extensions). Run it with `go generate` in internal/amqp/spec; by default
// it asks `go list -m` where the module is, so the XML is exactly the one
// of the version go.mod requires.
//
// It generates the protocol, frame and reply-code constants, class and
// method ids, one struct per method with its encoder and decoder, and the
// tables NewMethod, MethodName, IsResponse, ReplyCodeText and IsHardError.
// Frames, field tables and content headers are hand-written in the package.
package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"flag"
	"fmt"
	"go/format"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
)

const clientModule = "github.com/rabbitmq/amqp091-go"

func main() {
	specPath := flag.String("spec", "", "path to amqp0-9-1.stripped.extended.xml (default: from the "+clientModule+" module)")
	out := flag.String("out", "methods_gen.go", "output file")
	flag.Parse()
	if err := run(*specPath, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(specPath, out string) error {
	if specPath == "" {
		dir, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", clientModule).Output()
		if err != nil {
			return fmt.Errorf("locating %s (is it in go.mod and downloaded?): %w", clientModule, err)
		}
		specPath = filepath.Join(strings.TrimSpace(string(dir)), "spec", "amqp0-9-1.stripped.extended.xml")
	}
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var s amqpSpec
	if err := xml.Unmarshal(raw, &s); err != nil {
		return fmt.Errorf("parsing %s: %w", specPath, err)
	}
	src, err := generate(&s)
	if err != nil {
		return err
	}
	formatted, err := format.Source(src)
	if err != nil {
		return fmt.Errorf("formatting generated code: %w\n%s", err, src)
	}
	return os.WriteFile(out, formatted, 0o644)
}

// The XML model: only what the generator reads.
type amqpSpec struct {
	Major     int        `xml:"major,attr"`
	Minor     int        `xml:"minor,attr"`
	Revision  int        `xml:"revision,attr"`
	Port      int        `xml:"port,attr"`
	Constants []constant `xml:"constant"`
	Domains   []domain   `xml:"domain"`
	Classes   []class    `xml:"class"`
}

type constant struct {
	Name  string `xml:"name,attr"`
	Value int    `xml:"value,attr"`
	Class string `xml:"class,attr"`
}

type domain struct {
	Name string `xml:"name,attr"`
	Type string `xml:"type,attr"`
}

type class struct {
	Name    string   `xml:"name,attr"`
	Index   int      `xml:"index,attr"`
	Methods []method `xml:"method"`
}

type method struct {
	Name        string     `xml:"name,attr"`
	Index       int        `xml:"index,attr"`
	Synchronous bool       `xml:"synchronous,attr"`
	Content     bool       `xml:"content,attr"`
	Deprecated  bool       `xml:"deprecated,attr"`
	Responses   []response `xml:"response"`
	Chassis     []chassis  `xml:"chassis"`
	Fields      []field    `xml:"field"`
}

type response struct {
	Name string `xml:"name,attr"`
}

type chassis struct {
	Name string `xml:"name,attr"`
}

type field struct {
	Name     string `xml:"name,attr"`
	Domain   string `xml:"domain,attr"`
	Type     string `xml:"type,attr"`
	Reserved bool   `xml:"reserved,attr"`
}

// goTypes maps the spec's primitive types to Go types.
var goTypes = map[string]string{
	"bit":       "bool",
	"octet":     "uint8",
	"short":     "uint16",
	"long":      "uint32",
	"longlong":  "uint64",
	"shortstr":  "string",
	"longstr":   "string",
	"timestamp": "time.Time",
	"table":     "Table",
}

// fieldNames renames fields whose mechanical CamelCase name would be
// unclear or would collide with a Method method: in connection.close and
// channel.close, class-id and method-id name the method that failed.
var fieldNames = map[string]string{
	"nowait":    "NoWait",
	"class-id":  "FailingClassID",
	"method-id": "FailingMethodID",
}

// methodNames are the Method interface's methods; no field may take them.
var methodNames = map[string]bool{
	"ClassID": true, "MethodID": true, "Name": true, "HasContent": true,
	"Synchronous": true, "AppendTo": true, "Read": true,
}

// extraResponses adds responses the stripped XML leaves out: basic.recover
// is answered by basic.recover-ok (0-9-1 spec; RabbitMQ does so).
var extraResponses = map[string][]string{
	"basic.recover": {"recover-ok"},
}

// camel turns "start-ok" into "StartOK" and "correlation-id" into
// "CorrelationID".
func camel(name string) string {
	var b strings.Builder
	for _, part := range strings.Split(name, "-") {
		switch part {
		case "id", "ok":
			b.WriteString(strings.ToUpper(part))
		case "":
		default:
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// typeName is the Go type for a method: class then method, "BasicGetOK".
func typeName(c class, m method) string { return camel(c.Name) + camel(m.Name) }

type genField struct {
	wire   string // the spec's field name
	goName string
	typ    string // primitive spec type
	note   string // domain and flags, for the comment
}

func resolveFields(domains map[string]string, c class, m method) ([]genField, error) {
	var fs []genField
	seen := map[string]bool{}
	for _, f := range m.Fields {
		typ, note := f.Type, f.Type
		if f.Domain != "" {
			d, ok := domains[f.Domain]
			if !ok {
				return nil, fmt.Errorf("%s.%s field %s: unknown domain %q", c.Name, m.Name, f.Name, f.Domain)
			}
			typ = d
			note = f.Domain
			if f.Domain != d {
				note += ", " + d
			}
		}
		if _, ok := goTypes[typ]; !ok {
			return nil, fmt.Errorf("%s.%s field %s: unknown type %q", c.Name, m.Name, f.Name, typ)
		}
		if f.Reserved {
			note += "; reserved, ignored by RabbitMQ"
		}
		name := camel(f.Name)
		if n, ok := fieldNames[f.Name]; ok {
			name = n
		}
		if methodNames[name] || seen[name] {
			return nil, fmt.Errorf("%s.%s field %s: Go name %s collides; add it to fieldNames", c.Name, m.Name, f.Name, name)
		}
		seen[name] = true
		fs = append(fs, genField{wire: f.Name, goName: name, typ: typ, note: note})
	}
	return fs, nil
}

type gen struct {
	bytes.Buffer
}

func (g *gen) p(format string, args ...any) { fmt.Fprintf(&g.Buffer, format+"\n", args...) }

func generate(s *amqpSpec) ([]byte, error) {
	domains := map[string]string{}
	for _, d := range s.Domains {
		domains[d.Name] = d.Type
	}
	if len(s.Classes) == 0 {
		return nil, errors.New("no classes in the spec")
	}

	type genMethod struct {
		c      class
		m      method
		typ    string
		fields []genField
	}
	var methods []genMethod
	needTime := false
	for _, c := range s.Classes {
		for _, m := range c.Methods {
			fs, err := resolveFields(domains, c, m)
			if err != nil {
				return nil, err
			}
			for _, f := range fs {
				needTime = needTime || f.typ == "timestamp"
			}
			methods = append(methods, genMethod{c: c, m: m, typ: typeName(c, m), fields: fs})
		}
	}

	var g gen
	g.p("// Code generated by \"go run ./gen\" from amqp091-go's spec/amqp0-9-1.stripped.extended.xml. DO NOT EDIT.")
	g.p("")
	g.p("package spec")
	if needTime {
		g.p(`import "time"`)
	}
	g.p("")
	g.p("// The protocol version and default port.")
	g.p("const (")
	g.p("ProtocolMajor = %d", s.Major)
	g.p("ProtocolMinor = %d", s.Minor)
	g.p("ProtocolRevision = %d", s.Revision)
	g.p("DefaultPort = %d", s.Port)
	g.p(")")
	g.p("")

	// Constants: frame types, frame sizes and reply codes.
	type code struct {
		goName, wire string
		value        int
		hard         bool
	}
	var codes []code
	g.p("// Frame constants.")
	g.p("const (")
	for _, k := range s.Constants {
		switch {
		case k.Name == "frame-min-size" || k.Name == "frame-end":
			g.p("%s = %d // %s", camel(k.Name), k.Value, k.Name)
		case strings.HasPrefix(k.Name, "frame-") && k.Class == "":
			g.p("%s FrameType = %d // %s", camel(k.Name), k.Value, k.Name)
		}
	}
	g.p(")")
	g.p("")
	for _, k := range s.Constants {
		if k.Class == "soft-error" || k.Class == "hard-error" || k.Name == "reply-success" {
			codes = append(codes, code{camel(k.Name), k.Name, k.Value, k.Class == "hard-error"})
		} else if !strings.HasPrefix(k.Name, "frame-") {
			return nil, fmt.Errorf("constant %s: neither a frame constant nor a reply code", k.Name)
		}
	}
	g.p("// Reply codes for connection.close, channel.close and basic.return.")
	g.p("// Soft errors close the channel, hard errors the connection.")
	g.p("const (")
	for _, k := range codes {
		kind := "soft error"
		if k.hard {
			kind = "hard error"
		} else if k.wire == "reply-success" {
			kind = "success"
		}
		g.p("%s = %d // %s, %s", k.goName, k.value, k.wire, kind)
	}
	g.p(")")
	g.p("")
	g.p("// ReplyCodeText returns the spec's name of a reply code in RabbitMQ's")
	g.p("// reply-text style (\"NOT_FOUND\"), or \"\" for an unknown code.")
	g.p("func ReplyCodeText(code uint16) string {")
	g.p("switch code {")
	for _, k := range codes {
		g.p("case %s: return %q", k.goName, strings.ToUpper(strings.ReplaceAll(k.wire, "-", "_")))
	}
	g.p("}")
	g.p("return \"\"")
	g.p("}")
	g.p("")
	g.p("// IsHardError reports whether the spec classes a reply code as a hard")
	g.p("// error, one that closes the connection rather than the channel.")
	g.p("func IsHardError(code uint16) bool {")
	g.p("switch code {")
	var hard []string
	for _, k := range codes {
		if k.hard {
			hard = append(hard, k.goName)
		}
	}
	g.p("case %s: return true", strings.Join(hard, ", "))
	g.p("}")
	g.p("return false")
	g.p("}")
	g.p("")

	g.p("// Class ids.")
	g.p("const (")
	for _, c := range s.Classes {
		g.p("Class%s = %d // %s", camel(c.Name), c.Index, c.Name)
	}
	g.p(")")
	g.p("")
	g.p("// Method ids, unique within their class.")
	g.p("const (")
	for _, gm := range methods {
		g.p("Method%s = %d // %s.%s", gm.typ, gm.m.Index, gm.c.Name, gm.m.Name)
	}
	g.p(")")
	g.p("")

	for _, gm := range methods {
		if err := genStruct(&g, gm.c, gm.m, gm.typ, gm.fields); err != nil {
			return nil, err
		}
	}

	g.p("var (")
	for _, gm := range methods {
		g.p("_ Method = (*%s)(nil)", gm.typ)
	}
	g.p(")")
	g.p("")

	g.p("// NewMethod returns a new zero method for the ids, or an")
	g.p("// *UnknownMethodError if the spec has no such class or method.")
	g.p("func NewMethod(classID, methodID uint16) (Method, error) {")
	g.p("switch classID {")
	for _, c := range s.Classes {
		g.p("case Class%s:", camel(c.Name))
		g.p("switch methodID {")
		for _, m := range c.Methods {
			g.p("case Method%s: return &%s{}, nil", typeName(c, m), typeName(c, m))
		}
		g.p("}")
		g.p("return nil, &UnknownMethodError{ClassID: classID, MethodID: methodID, KnownClass: true}")
	}
	g.p("}")
	g.p("return nil, &UnknownMethodError{ClassID: classID, MethodID: methodID}")
	g.p("}")
	g.p("")

	g.p("// MethodName returns \"class.method\" for the ids, or \"\" if unknown.")
	g.p("// Handy for the failing class and method ids of connection.close.")
	g.p("func MethodName(classID, methodID uint16) string {")
	g.p("m, err := NewMethod(classID, methodID)")
	g.p("if err != nil { return \"\" }")
	g.p("return m.Name()")
	g.p("}")
	g.p("")

	g.p("// IsResponse reports whether resp is a spec'd reply to the synchronous")
	g.p("// request req (connection.start → start-ok, basic.get → get-ok or")
	g.p("// get-empty, …).")
	g.p("func IsResponse(req, resp Method) bool {")
	g.p("if req.ClassID() != resp.ClassID() { return false }")
	g.p("switch uint32(req.ClassID())<<16 | uint32(req.MethodID()) {")
	for _, gm := range methods {
		names := map[string]bool{}
		var ids []string
		add := func(n string) error {
			if names[n] {
				return nil
			}
			names[n] = true
			for _, m := range gm.c.Methods {
				if m.Name == n {
					ids = append(ids, "Method"+typeName(gm.c, m))
					return nil
				}
			}
			return fmt.Errorf("%s.%s: response %q is not a method of the class", gm.c.Name, gm.m.Name, n)
		}
		for _, r := range gm.m.Responses {
			if err := add(r.Name); err != nil {
				return nil, err
			}
		}
		for _, r := range extraResponses[gm.c.Name+"."+gm.m.Name] {
			if err := add(r); err != nil {
				return nil, err
			}
		}
		if len(ids) == 0 {
			continue
		}
		g.p("case uint32(Class%s)<<16 | uint32(Method%s):", camel(gm.c.Name), gm.typ)
		var conds []string
		for _, id := range ids {
			conds = append(conds, "resp.MethodID() == "+id)
		}
		g.p("return %s", strings.Join(conds, " || "))
	}
	g.p("}")
	g.p("return false")
	g.p("}")
	return g.Bytes(), nil
}

func genStruct(g *gen, c class, m method, typ string, fields []genField) error {
	full := c.Name + "." + m.Name
	var props []string
	if m.Synchronous {
		props = append(props, "synchronous")
	} else {
		props = append(props, "asynchronous")
	}
	if m.Content {
		props = append(props, "carries content")
	}
	if m.Deprecated {
		props = append(props, "deprecated")
	}
	var receivers []string
	for _, ch := range m.Chassis {
		receivers = append(receivers, ch.Name)
	}
	sentBy := "either peer"
	if len(receivers) == 1 {
		sentBy = map[string]string{"client": "the server", "server": "the client"}[receivers[0]]
		if sentBy == "" {
			return fmt.Errorf("%s: unknown chassis %q", full, receivers[0])
		}
	}
	g.p("// %s is %s (class %d, method %d): %s; sent by %s.", typ, full, c.Index, m.Index, strings.Join(props, ", "), sentBy)
	g.p("type %s struct {", typ)
	for _, f := range fields {
		g.p("%s %s // %s (%s)", f.goName, goTypes[f.typ], f.wire, f.note)
	}
	g.p("}")
	g.p("")
	g.p("func (*%s) ClassID() uint16 { return Class%s }", typ, camel(c.Name))
	g.p("func (*%s) MethodID() uint16 { return Method%s }", typ, typ)
	g.p("func (*%s) Name() string { return %q }", typ, full)
	g.p("func (*%s) HasContent() bool { return %t }", typ, m.Content)
	g.p("func (*%s) Synchronous() bool { return %t }", typ, m.Synchronous)
	g.p("func (m *%s) AppendTo(b []byte) ([]byte, error) { return appendMethod(b, m) }", typ)
	g.p("func (m *%s) Read(payload []byte) error { return readMethod(m, payload) }", typ)
	g.p("")

	// Consecutive bits are packed into octets, least significant bit
	// first, eight to an octet.
	type group struct {
		bits   []genField
		single *genField
	}
	var groups []group
	for i := range fields {
		f := &fields[i]
		if f.typ != "bit" {
			groups = append(groups, group{single: f})
			continue
		}
		if n := len(groups); n > 0 && groups[n-1].single == nil && len(groups[n-1].bits) < 8 {
			groups[n-1].bits = append(groups[n-1].bits, *f)
		} else {
			groups = append(groups, group{bits: []genField{*f}})
		}
	}

	if len(fields) == 0 {
		g.p("func (*%s) appendArgs(*writer) {}", typ)
		g.p("func (*%s) readArgs(*reader) {}", typ)
		g.p("")
		return nil
	}

	g.p("func (m *%s) appendArgs(w *writer) {", typ)
	for _, gr := range groups {
		if f := gr.single; f != nil {
			switch f.typ {
			case "octet", "short", "long", "longlong", "timestamp":
				g.p("w.%s(m.%s)", f.typ, f.goName)
			default:
				g.p("w.%s(%q, m.%s)", f.typ, f.wire, f.goName)
			}
			continue
		}
		g.p("{")
		g.p("var bits uint8")
		for i, f := range gr.bits {
			g.p("if m.%s { bits |= 1 << %d }", f.goName, i)
		}
		g.p("w.octet(bits)")
		g.p("}")
	}
	g.p("}")
	g.p("")
	g.p("func (m *%s) readArgs(r *reader) {", typ)
	for _, gr := range groups {
		if f := gr.single; f != nil {
			g.p("m.%s = r.%s(%q)", f.goName, f.typ, f.wire)
			continue
		}
		g.p("{")
		g.p("bits := r.octet(%q)", gr.bits[0].wire)
		for i, f := range gr.bits {
			g.p("m.%s = bits&(1<<%s) != 0", f.goName, strconv.Itoa(i))
		}
		g.p("}")
	}
	g.p("}")
	g.p("")
	return nil
}
