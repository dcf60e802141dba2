package vfs

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestInject(t *testing.T) {
	dir := t.TempDir()
	boom := errors.New("boom")
	var seen []Op
	fsys := Inject(Default(), func(op Op, path string) error {
		seen = append(seen, op)
		if op == OpSync && filepath.Ext(path) == ".fail" {
			return boom
		}
		return nil
	})
	for _, name := range []string{"a.ok", "a.fail"} {
		f, err := fsys.OpenFile(filepath.Join(dir, name), os.O_RDWR|os.O_CREATE, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.WriteAt([]byte("hello"), 0); err != nil {
			t.Fatal(err)
		}
		err = f.Sync()
		if want := filepath.Ext(name) == ".fail"; errors.Is(err, boom) != want {
			t.Fatalf("%s: Sync = %v", name, err)
		}
		// Wrapped OS files still expose their descriptor for sendfile.
		if _, ok := f.(syscall.Conn); !ok {
			t.Fatalf("%s: wrapper hides syscall.Conn", name)
		}
		if err := f.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if err := fsys.SyncDir(dir); err != nil {
		t.Fatal(err)
	}
	want := []Op{OpOpen, OpWrite, OpSync, OpClose, OpOpen, OpWrite, OpSync, OpClose, OpSyncDir}
	if len(seen) != len(want) {
		t.Fatalf("ops %v, want %v", seen, want)
	}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("ops %v, want %v", seen, want)
		}
	}
}
