package storage

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"testing"
)

func TestSliceWriteToTCP(t *testing.T) {
	cfg := testConfig()
	cfg.SegmentBytes = 1 << 20
	l := openTest(t, t.TempDir(), cfg, Options{})
	appendN(t, l, 200, 8, 100, 0) // ~180 KiB: several sendfile rounds
	s, err := l.Read(5, 1<<30, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	want, err := s.AppendTo(nil)
	if err != nil {
		t.Fatal(err)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	got := make(chan []byte, 1)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			got <- nil
			return
		}
		defer c.Close()
		b, _ := io.ReadAll(c)
		got <- b
	}()
	conn, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	// Send the same slice twice: an explicit offset, so the file's shared
	// position does not matter.
	for i := 0; i < 2; i++ {
		n, err := s.WriteTo(conn)
		if err != nil || n != s.Size() {
			t.Fatalf("WriteTo = %d, %v; want %d", n, err, s.Size())
		}
	}
	conn.Close()
	if b := <-got; !bytes.Equal(b, append(append([]byte(nil), want...), want...)) {
		t.Fatalf("socket received %d bytes, want %d equal bytes", len(b), 2*len(want))
	}
}

func TestSliceWriteToFallbacks(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig(), Options{})
	appendN(t, l, 5, 2, 50, 0)
	s, err := l.Read(0, 1<<20, l.EndOffset())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Release()
	want, _ := s.AppendTo([]byte("prefix"))
	if !bytes.HasPrefix(want, []byte("prefix")) || int64(len(want)) != 6+s.Size() {
		t.Fatal("AppendTo did not append")
	}
	want = want[6:]
	var buf bytes.Buffer
	if n, err := s.WriteTo(&buf); err != nil || n != s.Size() || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteTo(buffer) = %d, %v", n, err)
	}
	// An *os.File is a syscall.Conn too; an O_APPEND file refuses
	// sendfile and must fall back to copying.
	f, err := os.OpenFile(t.TempDir()+"/out", os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if n, err := s.WriteTo(f); err != nil || n != s.Size() {
		t.Fatalf("WriteTo(file) = %d, %v", n, err)
	}
	if b, _ := os.ReadFile(f.Name()); !bytes.Equal(b, want) {
		t.Fatal("file content differs")
	}
	var empty Slice
	if n, err := empty.WriteTo(&buf); n != 0 || err != nil || empty.Size() != 0 {
		t.Fatal("empty slice wrote")
	}
	empty.Release()
}

// TestSliceHeader reads only the first batch's header of a read, the
// batch holding the offset asked for, even mid-batch and across segments.
func TestSliceHeader(t *testing.T) {
	l := openTest(t, t.TempDir(), testConfig(), Options{})
	appendN(t, l, 30, 5, 100, 1_000_000) // batch i: offsets 5i..5i+4, ts 1_000_000+1000i
	for _, off := range []int64{0, 4, 7, 149} {
		s, err := l.Read(off, 1, l.EndOffset())
		if err != nil {
			t.Fatal(err)
		}
		h, err := s.Header()
		s.Release()
		if err != nil {
			t.Fatalf("Header at %d: %v", off, err)
		}
		i := off / 5
		if h.BaseOffset != 5*i || h.BaseTimestamp != 1_000_000+1000*i || h.MaxTimestamp != h.BaseTimestamp+4 {
			t.Errorf("offset %d: header base %d ts %d..%d, want batch %d", off, h.BaseOffset, h.BaseTimestamp, h.MaxTimestamp, i)
		}
	}
	if _, err := (Slice{}).Header(); !errors.Is(err, ErrCorrupt) {
		t.Errorf("empty slice Header err = %v, want ErrCorrupt", err)
	}
}
