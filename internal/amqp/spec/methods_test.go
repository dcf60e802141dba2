package spec

import (
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

// allMethods returns a zero value of every method the codec knows, found
// by asking NewMethod about every class and method id.
func allMethods(t testing.TB) []Method {
	t.Helper()
	var ms []Method
	for c := range 256 {
		for m := range 256 {
			if x, err := NewMethod(uint16(c), uint16(m)); err == nil {
				ms = append(ms, x)
			}
		}
	}
	return ms
}

// fill sets every field of the method struct *m to a distinct non-zero
// value derived from seed; bools follow the bits of seed so that packing
// is exercised with different patterns.
func fill(m Method, seed int) {
	v := reflect.ValueOf(m).Elem()
	bit := 0
	for i := range v.NumField() {
		f, name := v.Field(i), v.Type().Field(i).Name
		n := seed*31 + i + 1
		switch f.Kind() {
		case reflect.Bool:
			f.SetBool(seed>>bit&1 == 1)
			bit++
		case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
			f.SetUint(uint64(n) * 0x0101010101010101 & (1<<(8*f.Type().Size()) - 1))
		case reflect.String:
			f.SetString(fmt.Sprintf("%s-%d", strings.ToLower(name), n))
		case reflect.Map:
			f.Set(reflect.ValueOf(Table{"x-name": name, "x-n": int32(n), "nested": Table{"ok": true}}))
		default:
			panic("fill: unhandled kind " + f.Kind().String())
		}
	}
}

func TestEveryMethodRoundTrips(t *testing.T) {
	ms := allMethods(t)
	perClass := map[uint16]int{}
	for _, m := range ms {
		perClass[m.ClassID()]++
	}
	want := map[uint16]int{ClassConnection: 14, ClassChannel: 6, ClassExchange: 8, ClassQueue: 10, ClassBasic: 18, ClassConfirm: 2, ClassTx: 6}
	if !reflect.DeepEqual(perClass, want) {
		t.Fatalf("methods per class = %v, want %v", perClass, want)
	}
	for _, proto := range ms {
		// Zero value, all-bits-set, and a few other patterns.
		for _, seed := range []int{-1, 0, 1, 2, 0x55, 0xaa, 0xff} {
			t.Run(fmt.Sprintf("%s/%d", proto.Name(), seed), func(t *testing.T) {
				in, _ := NewMethod(proto.ClassID(), proto.MethodID())
				if seed >= 0 {
					fill(in, seed)
				}
				b, err := in.AppendTo([]byte("prefix"))
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.HasPrefix(b, []byte("prefix")) {
					t.Fatal("AppendTo did not append")
				}
				payload := b[len("prefix"):]
				out, err := DecodeMethod(payload)
				if err != nil {
					t.Fatalf("DecodeMethod(%x): %v", payload, err)
				}
				if !reflect.DeepEqual(in, out) {
					t.Fatalf("round trip:\n in  %+v\n out %+v", in, out)
				}
				// Read into a dirty value overwrites every field.
				again, _ := NewMethod(proto.ClassID(), proto.MethodID())
				fill(again, 7)
				if err := again.Read(payload); err != nil || !reflect.DeepEqual(in, again) {
					t.Fatalf("Read: %v\n in  %+v\n out %+v", err, in, again)
				}
				// Every strict prefix is truncated; a trailing byte is extra.
				for n := range len(payload) {
					if _, err := DecodeMethod(payload[:n]); !errors.Is(err, ErrMalformed) {
						t.Fatalf("DecodeMethod(%d of %d bytes) = %v, want ErrMalformed", n, len(payload), err)
					}
				}
				if _, err := DecodeMethod(append(payload[:len(payload):len(payload)], 0)); !errors.Is(err, ErrMalformed) {
					t.Fatalf("trailing byte: got %v, want ErrMalformed", err)
				}
			})
		}
	}
}

// TestMethodWireBytes pins the exact encoding of a few methods, written
// out by hand from the spec, so that packing and field order cannot drift
// together in the encoder and decoder.
func TestMethodWireBytes(t *testing.T) {
	tests := []struct {
		m    Method
		want string // hex
	}{
		{&BasicPublish{Exchange: "ex", RoutingKey: "rk", Mandatory: true},
			"003c0028" + "0000" + "02" + "6578" + "02" + "726b" + "01"},
		{&BasicPublish{Immediate: true}, "003c0028" + "0000" + "00" + "00" + "02"},
		{&QueueDeclare{Queue: "q", Durable: true, NoWait: true},
			"0032000a" + "0000" + "01" + "71" + "12" + "00000000"},
		{&ExchangeDeclare{Exchange: "e", Type: "topic", Passive: true, Internal: true, Arguments: Table{"alternate-exchange": "ae"}},
			"0028000a" + "0000" + "01" + "65" + "05" + "746f706963" + "09" +
				"0000001a" + "12" + hex.EncodeToString([]byte("alternate-exchange")) + "53" + "00000002" + "6165"},
		{&BasicNack{DeliveryTag: 0x0102030405060708, Multiple: false, Requeue: true},
			"003c0078" + "0102030405060708" + "02"},
		{&ConnectionClose{ReplyCode: NotFound, ReplyText: "NOT_FOUND", FailingClassID: ClassQueue, FailingMethodID: MethodQueueDeclare},
			"000a0032" + "0194" + "09" + hex.EncodeToString([]byte("NOT_FOUND")) + "0032" + "000a"},
		{&ConnectionTune{ChannelMax: 2047, FrameMax: 131072, Heartbeat: 60}, "000a001e" + "07ff" + "00020000" + "003c"},
		{&ConfirmSelect{NoWait: true}, "0055000a" + "01"},
		{&TxCommit{}, "005a0014"},
		{&ChannelOpenOK{Reserved1: "x"}, "0014000b" + "00000001" + "78"},
	}
	for _, tt := range tests {
		got, err := tt.m.AppendTo(nil)
		if err != nil {
			t.Fatalf("%s: %v", tt.m.Name(), err)
		}
		if hex.EncodeToString(got) != tt.want {
			t.Errorf("%s:\n got  %x\n want %s", tt.m.Name(), got, tt.want)
		}
		back, err := DecodeMethod(got)
		if err != nil || !reflect.DeepEqual(back, tt.m) {
			t.Errorf("%s: decode = %+v, %v", tt.m.Name(), back, err)
		}
	}
}

func TestMethodMetadata(t *testing.T) {
	content := map[string]bool{"basic.publish": true, "basic.return": true, "basic.deliver": true, "basic.get-ok": true}
	for _, m := range allMethods(t) {
		if m.HasContent() != content[m.Name()] {
			t.Errorf("%s: HasContent = %v", m.Name(), m.HasContent())
		}
		if MethodName(m.ClassID(), m.MethodID()) != m.Name() {
			t.Errorf("MethodName(%d, %d) = %q, want %q", m.ClassID(), m.MethodID(), MethodName(m.ClassID(), m.MethodID()), m.Name())
		}
	}
	sync := []Method{&ConnectionStart{}, &ChannelOpen{}, &QueueDeclare{}, &BasicGet{}, &BasicGetOK{}, &ConfirmSelect{}, &TxCommit{}}
	for _, m := range sync {
		if !m.Synchronous() {
			t.Errorf("%s: not synchronous", m.Name())
		}
	}
	async := []Method{&BasicPublish{}, &BasicDeliver{}, &BasicAck{}, &BasicNack{}, &BasicReject{}, &ConnectionBlocked{}, &ChannelFlowOK{}}
	for _, m := range async {
		if m.Synchronous() {
			t.Errorf("%s: synchronous", m.Name())
		}
	}
	if MethodName(ClassBasic, 999) != "" || MethodName(11, 10) != "" {
		t.Error("MethodName of unknown ids is not empty")
	}
}

func TestIsResponse(t *testing.T) {
	tests := []struct {
		req, resp Method
		want      bool
	}{
		{&ConnectionStart{}, &ConnectionStartOK{}, true},
		{&ConnectionTune{}, &ConnectionTuneOK{}, true},
		{&ConnectionOpen{}, &ConnectionOpenOK{}, true},
		{&ChannelClose{}, &ChannelCloseOK{}, true},
		{&QueueDeclare{}, &QueueDeclareOK{}, true},
		{&ExchangeUnbind{}, &ExchangeUnbindOK{}, true},
		{&BasicGet{}, &BasicGetOK{}, true},
		{&BasicGet{}, &BasicGetEmpty{}, true},
		{&BasicRecover{}, &BasicRecoverOK{}, true}, // missing from the stripped XML; added by the generator
		{&ConfirmSelect{}, &ConfirmSelectOK{}, true},
		{&TxRollback{}, &TxRollbackOK{}, true},
		{&ConnectionStart{}, &ConnectionTuneOK{}, false},
		{&QueueDeclare{}, &ExchangeDeclareOK{}, false}, // same method id, other class
		{&BasicPublish{}, &BasicAck{}, false},
		{&QueueDeclareOK{}, &QueueDeclare{}, false},
	}
	for _, tt := range tests {
		if got := IsResponse(tt.req, tt.resp); got != tt.want {
			t.Errorf("IsResponse(%s, %s) = %v, want %v", tt.req.Name(), tt.resp.Name(), got, tt.want)
		}
	}
}

func TestDecodeMethodUnknownIDs(t *testing.T) {
	tests := []struct {
		payload    []byte
		class, mth uint16
		knownClass bool
	}{
		{[]byte{0, 60, 0, 200}, 60, 200, true},
		{[]byte{0, 10, 0, 12, 1, 2}, 10, 12, true},
		{[]byte{0, 30, 0, 10}, 30, 10, false}, // class 30 (access) is gone from 0-9-1
		{[]byte{0xff, 0xff, 0, 0}, 0xffff, 0, false},
	}
	for _, tt := range tests {
		_, err := DecodeMethod(tt.payload)
		var ue *UnknownMethodError
		if !errors.As(err, &ue) || !errors.Is(err, ErrUnknownMethod) {
			t.Fatalf("DecodeMethod(%x) = %v, want *UnknownMethodError", tt.payload, err)
		}
		if ue.ClassID != tt.class || ue.MethodID != tt.mth || ue.KnownClass != tt.knownClass {
			t.Errorf("DecodeMethod(%x) = %+v", tt.payload, ue)
		}
	}
	for _, short := range [][]byte{nil, {0}, {0, 60, 0}} {
		if _, err := DecodeMethod(short); !errors.Is(err, ErrMalformed) {
			t.Errorf("DecodeMethod(%x) = %v, want ErrMalformed", short, err)
		}
	}
	// Read checks the ids are its own.
	ack, _ := (&BasicAck{DeliveryTag: 1}).AppendTo(nil)
	if err := (&BasicNack{}).Read(ack); !errors.Is(err, ErrMalformed) {
		t.Errorf("BasicNack.Read(basic.ack) = %v, want ErrMalformed", err)
	}
}

func TestEncodeInvalidValues(t *testing.T) {
	long := strings.Repeat("x", 256)
	tests := []Method{
		&BasicPublish{RoutingKey: long},
		&QueueDeclare{Queue: "q", Arguments: Table{"x": struct{}{}}},
		&QueueDeclare{Arguments: Table{long: "v"}},
		&ConnectionStart{ServerProperties: Table{"a": []any{1, make(chan int)}}},
	}
	for _, m := range tests {
		b, err := m.AppendTo([]byte("keep"))
		if !errors.Is(err, ErrInvalidValue) {
			t.Errorf("%s: err = %v, want ErrInvalidValue", m.Name(), err)
		}
		if string(b) != "keep" {
			t.Errorf("%s: on error AppendTo returned %q, want the input", m.Name(), b)
		}
		fb, err := AppendMethodFrame([]byte("keep"), 1, m)
		if err == nil || string(fb) != "keep" {
			t.Errorf("%s: AppendMethodFrame = %q, %v", m.Name(), fb, err)
		}
	}
	// 255 bytes is fine.
	if _, err := (&BasicPublish{RoutingKey: long[:255]}).AppendTo(nil); err != nil {
		t.Error(err)
	}
}

func TestReplyCodes(t *testing.T) {
	if ReplyCodeText(NotFound) != "NOT_FOUND" || ReplyCodeText(NotImplemented) != "NOT_IMPLEMENTED" || ReplyCodeText(999) != "" {
		t.Error("ReplyCodeText")
	}
	for code, hard := range map[uint16]bool{ReplySuccess: false, NoRoute: false, PreconditionFailed: false, AccessRefused: false,
		ConnectionForced: true, FrameError: true, CommandInvalid: true, ChannelError: true, NotImplemented: true, InternalError: true, 999: false} {
		if IsHardError(code) != hard {
			t.Errorf("IsHardError(%d) = %v", code, !hard)
		}
	}
	want := map[uint16]uint16{ReplySuccess: 200, ContentTooLarge: 311, NoRoute: 312, NoConsumers: 313, ConnectionForced: 320,
		InvalidPath: 402, AccessRefused: 403, NotFound: 404, ResourceLocked: 405, PreconditionFailed: 406,
		FrameError: 501, SyntaxError: 502, CommandInvalid: 503, ChannelError: 504, UnexpectedFrame: 505, ResourceError: 506,
		NotAllowed: 530, NotImplemented: 540, InternalError: 541}
	for got, w := range want {
		if got != w {
			t.Errorf("reply code %d, want %d", got, w)
		}
	}
	if FrameEnd != 0xCE || FrameMinSize != 4096 || FrameMethod != 1 || FrameHeader != 2 || FrameBody != 3 || FrameHeartbeat != 8 {
		t.Error("frame constants")
	}
	if ProtocolHeader != "AMQP"+string([]byte{0, ProtocolMajor, ProtocolMinor, ProtocolRevision}) {
		t.Error("ProtocolHeader disagrees with the spec's version")
	}
}
