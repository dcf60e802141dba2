package storage

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/ternmq/tern/internal/storage/vfs"
)

func TestCheckpointEncoding(t *testing.T) {
	payload := encodeInt64(4242)
	enc := encodeCheckpoint(kindHighWatermark, payload)
	if p, err := decodeCheckpoint(enc, kindHighWatermark); err != nil || string(p) != string(payload) {
		t.Fatalf("round trip: %v", err)
	}
	mod := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), enc...)) }
	tests := []struct {
		name    string
		b       []byte
		kind    uint8
		version bool // error is the unknown-version kind
	}{
		{"newer version", mod(func(b []byte) []byte { b[0] = 2; return b }), kindHighWatermark, true},
		{"wrong kind", enc, kindStartOffset, false},
		{"bad crc", mod(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), kindHighWatermark, false},
		{"torn", enc[:len(enc)-3], kindHighWatermark, false},
		{"empty", nil, kindHighWatermark, false},
		{"length lies", mod(func(b []byte) []byte { b[5] = 200; return b }), kindHighWatermark, false},
	}
	for _, tt := range tests {
		_, err := decodeCheckpoint(tt.b, tt.kind)
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, errCheckpointVersion) != tt.version {
			t.Errorf("%s: err = %v", tt.name, err)
		}
	}
	rp := recoveryPoint{clean: true, offset: 1, activeBase: 2, activeSize: 3}
	if got, err := decodeRecoveryPoint(rp.encode()); err != nil || got != rp {
		t.Fatalf("recovery point round trip: %+v %v", got, err)
	}
}

func TestWriteCheckpointIsAtomic(t *testing.T) {
	dir := t.TempDir()
	fsys := vfs.Default()
	if err := writeCheckpoint(fsys, dir, "x.checkpoint", kindHighWatermark, encodeInt64(1)); err != nil {
		t.Fatal(err)
	}
	// A failed rename leaves the previous content in place.
	failing := vfs.Inject(fsys, func(op vfs.Op, _ string) error {
		if op == vfs.OpRename {
			return errors.New("injected")
		}
		return nil
	})
	if err := writeCheckpoint(failing, dir, "x.checkpoint", kindHighWatermark, encodeInt64(2)); err == nil {
		t.Fatal("want error")
	}
	p, err := readCheckpoint(fsys, dir, "x.checkpoint", kindHighWatermark)
	if v, _ := decodeInt64(p); err != nil || v != 1 {
		t.Fatalf("content after failed replace: %d %v", v, err)
	}
}

func TestCheckpointVersionsOnOpen(t *testing.T) {
	// Evolution rules (docs/storage-format.md): a newer log start offset
	// checkpoint fails Open, since ignoring it would resurrect deleted
	// records; the others are recomputable and are ignored.
	tests := []struct {
		file    string
		wantErr bool
	}{
		{startOffsetFile, true},
		{recoveryPointFile, false},
		{highWatermarkFile, false},
		{leaderEpochFile, false},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			dir := t.TempDir()
			cfg := testConfig()
			l := openTest(t, dir, cfg, Options{})
			want := appendN(t, l, 5, 2, 10, 0)
			l.SetHighWatermark(10)
			if err := l.DeleteRecordsBefore(1); err != nil {
				t.Fatal(err)
			}
			if err := l.Close(); err != nil {
				t.Fatal(err)
			}
			p := filepath.Join(dir, tt.file)
			b, err := os.ReadFile(p)
			if err != nil {
				t.Fatal(err)
			}
			b[0] = checkpointVersion + 1
			if err := os.WriteFile(p, b, 0o644); err != nil {
				t.Fatal(err)
			}
			l2, err := Open(dir, cfg, Options{})
			if tt.wantErr {
				if !errors.Is(err, ErrCorrupt) {
					t.Fatalf("Open = %v, want ErrCorrupt", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer l2.Close()
			checkBatches(t, readBatches(t, l2, 1, l2.EndOffset()), want)
		})
	}
}
