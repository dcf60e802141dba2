package storage

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"sync"

	"github.com/ternmq/tern/internal/storage/vfs"
)

// Checkpoint files hold small pieces of log state that are not in the
// segments: where recovery may start, the log start offset, the high
// watermark and the leader-epoch cache. Each file is one framed record
// (doc.go draws it); a file is replaced atomically by writing name.tmp,
// fsyncing it, renaming it over name and fsyncing the directory, so a crash
// leaves either the old or the new content, never a mix.

const (
	checkpointVersion = 1
	checkpointFrame   = 1 + 1 + 4 + 4 // version, kind, payload length, crc
	// maxCheckpointPayload bounds what a corrupt length field can make us
	// allocate.
	maxCheckpointPayload = 1 << 20

	recoveryPointFile = "recovery-point.checkpoint"
	startOffsetFile   = "log-start-offset.checkpoint"
	highWatermarkFile = "high-watermark.checkpoint"
	leaderEpochFile   = "leader-epoch.checkpoint"
)

// Checkpoint kinds, stored so a file renamed by mistake is not misread.
const (
	kindRecoveryPoint uint8 = 1
	kindStartOffset   uint8 = 2
	kindHighWatermark uint8 = 3
	kindLeaderEpoch   uint8 = 4
)

// errCheckpointVersion marks a checkpoint written by a newer Tern. It wraps
// ErrCorrupt for callers outside the package.
var errCheckpointVersion = fmt.Errorf("%w: unsupported checkpoint version", ErrCorrupt)

func encodeCheckpoint(kind uint8, payload []byte) []byte {
	b := make([]byte, 0, checkpointFrame+len(payload))
	b = append(b, checkpointVersion, kind)
	b = binary.BigEndian.AppendUint32(b, uint32(len(payload)))
	b = append(b, payload...)
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, castagnoli))
}

func decodeCheckpoint(b []byte, kind uint8) ([]byte, error) {
	if len(b) < checkpointFrame {
		return nil, fmt.Errorf("%w: checkpoint of %d bytes", ErrCorrupt, len(b))
	}
	if b[0] != checkpointVersion {
		return nil, fmt.Errorf("%w %d (this build reads %d)", errCheckpointVersion, b[0], checkpointVersion)
	}
	if b[1] != kind {
		return nil, fmt.Errorf("%w: checkpoint kind %d, want %d", ErrCorrupt, b[1], kind)
	}
	n := int(binary.BigEndian.Uint32(b[2:]))
	if n != len(b)-checkpointFrame {
		return nil, fmt.Errorf("%w: checkpoint payload %d bytes, file holds %d", ErrCorrupt, n, len(b)-checkpointFrame)
	}
	body := b[:6+n]
	if got, want := crc32.Checksum(body, castagnoli), binary.BigEndian.Uint32(b[6+n:]); got != want {
		return nil, fmt.Errorf("%w: checkpoint crc %08x, computed %08x", ErrCorrupt, want, got)
	}
	return b[6 : 6+n], nil
}

// readCheckpoint returns the payload of dir/name. A missing file returns an
// error satisfying errors.Is(err, fs.ErrNotExist).
func readCheckpoint(fsys vfs.FS, dir, name string, kind uint8) ([]byte, error) {
	path := filepath.Join(dir, name)
	f, err := fsys.OpenFile(path, os.O_RDONLY, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() > maxCheckpointPayload+checkpointFrame {
		return nil, fmt.Errorf("%w: checkpoint %s is %d bytes", ErrCorrupt, path, st.Size())
	}
	b := make([]byte, st.Size())
	if _, err := f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	p, err := decodeCheckpoint(b, kind)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// writeCheckpoint atomically replaces dir/name (tmp, fsync, rename, fsync
// dir).
func writeCheckpoint(fsys vfs.FS, dir, name string, kind uint8, payload []byte) error {
	path := filepath.Join(dir, name)
	tmp := path + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	_, werr := f.WriteAt(encodeCheckpoint(kind, payload), 0)
	if werr == nil {
		werr = f.Sync()
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		_ = fsys.Remove(tmp)
		return fmt.Errorf("storage: write %s: %w", tmp, werr)
	}
	if err := fsys.Rename(tmp, path); err != nil {
		return fmt.Errorf("storage: rename %s: %w", tmp, err)
	}
	if err := fsys.SyncDir(dir); err != nil {
		return fmt.Errorf("storage: sync dir %s: %w", dir, err)
	}
	return nil
}

// checkpointFile serializes writes of one checkpoint file. The payload is
// computed by the caller's function while mu is held, so when two writers
// race the last file written always holds the newer value (a writer never
// stores a value it computed before another writer's).
type checkpointFile struct {
	mu   sync.Mutex
	fs   vfs.FS
	dir  string
	name string
	kind uint8
}

func (c *checkpointFile) store(payload func() []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return writeCheckpoint(c.fs, c.dir, c.name, c.kind, payload())
}

func (c *checkpointFile) load() ([]byte, error) {
	return readCheckpoint(c.fs, c.dir, c.name, c.kind)
}

// recoveryPoint is the payload of recovery-point.checkpoint.
type recoveryPoint struct {
	// clean is set by Close and cleared by Open: it says the segment files
	// and their indexes were complete and fsynced when written.
	clean bool
	// offset: every segment whose base offset is below it, except the
	// last one, is fully written and fsynced with its indexes (it was
	// sealed by a roll). With clean, it is the log end offset.
	offset int64
	// activeBase and activeSize describe the last segment at a clean
	// close, so Open can tell that nothing changed it since.
	activeBase int64
	activeSize int64
}

const recoveryPointSize = 1 + 8 + 8 + 8

func (r recoveryPoint) encode() []byte {
	b := make([]byte, 0, recoveryPointSize)
	var flags byte
	if r.clean {
		flags = 1
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(r.offset))
	b = binary.BigEndian.AppendUint64(b, uint64(r.activeBase))
	return binary.BigEndian.AppendUint64(b, uint64(r.activeSize))
}

func decodeRecoveryPoint(p []byte) (recoveryPoint, error) {
	if len(p) != recoveryPointSize {
		return recoveryPoint{}, fmt.Errorf("%w: recovery point payload %d bytes", ErrCorrupt, len(p))
	}
	return recoveryPoint{
		clean:      p[0]&1 != 0,
		offset:     int64(binary.BigEndian.Uint64(p[1:])),
		activeBase: int64(binary.BigEndian.Uint64(p[9:])),
		activeSize: int64(binary.BigEndian.Uint64(p[17:])),
	}, nil
}

func encodeInt64(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func decodeInt64(p []byte) (int64, error) {
	if len(p) != 8 {
		return 0, fmt.Errorf("%w: int64 checkpoint payload %d bytes", ErrCorrupt, len(p))
	}
	return int64(binary.BigEndian.Uint64(p)), nil
}
