package testbroker

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"
)

// binaries builds each command once per test process; tests that kill a
// real broker or drive it with the load tool share them.
var binaries struct {
	mu    sync.Mutex
	built map[string]*builtBinary
}

type builtBinary struct {
	once sync.Once
	path string
	err  error
}

// Binary returns the path of a freshly built tern binary.
func Binary(t testing.TB) string {
	t.Helper()
	return Command(t, "tern")
}

// Command returns the path of a freshly built ./cmd/NAME binary (built
// without the race detector: it is the system under test or the load
// tool, not the test).
func Command(t testing.TB, name string) string {
	t.Helper()
	binaries.mu.Lock()
	if binaries.built == nil {
		binaries.built = map[string]*builtBinary{}
	}
	b := binaries.built[name]
	if b == nil {
		b = &builtBinary{}
		binaries.built[name] = b
	}
	binaries.mu.Unlock()
	b.once.Do(func() {
		dir, err := os.MkdirTemp("", "tern-bin-")
		if err != nil {
			b.err = err
			return
		}
		b.path = filepath.Join(dir, name)
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		cmd := exec.Command("go", "build", "-o", b.path, "./cmd/"+name)
		cmd.Dir = root
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.err = fmt.Errorf("go build ./cmd/%s: %v\n%s", name, err, out)
		}
	})
	if b.err != nil {
		t.Fatal(b.err)
	}
	return b.path
}

// Process is a tern binary running as a child process, so a test can
// SIGKILL it the way a crash would.
type Process struct {
	t      testing.TB
	bin    string
	args   []string
	cmd    *exec.Cmd
	exited chan struct{}
	out    *SyncBuffer
	// Addr is the Kafka listener's host:port.
	Addr string
	// AMQPAddr is the AMQP listener's host:port.
	AMQPAddr string
	// Dir is the data directory, kept across restarts.
	Dir string
}

// StartProcess runs `tern serve` on a free loopback port with data in dir
// and waits until it accepts connections. Extra flags go after.
func StartProcess(t testing.TB, dir string, flags ...string) *Process {
	t.Helper()
	p := &Process{t: t, bin: Binary(t), Dir: dir, Addr: freeAddr(t), AMQPAddr: freeAddr(t)}
	p.args = append([]string{"serve", "--data.dir", dir, "--kafka.listen", p.Addr, "--amqp.listen", p.AMQPAddr, "--http.listen", "127.0.0.1:0"}, flags...)
	p.Start()
	t.Cleanup(func() {
		if p.cmd != nil {
			p.Kill()
		}
	})
	return p
}

// Start (re)starts the process on the same port and data directory.
func (p *Process) Start() {
	p.t.Helper()
	p.out = &SyncBuffer{}
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	if err := p.cmd.Start(); err != nil {
		p.t.Fatalf("start tern: %v", err)
	}
	exited := make(chan struct{})
	p.exited = exited
	go func(cmd *exec.Cmd) { cmd.Wait(); close(exited) }(p.cmd)
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", p.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			p.t.Fatalf("tern exited during start:\n%s", p.out.String())
		default:
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("tern did not listen on %s within 60s:\n%s", p.Addr, p.out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits for the process to die.
func (p *Process) Kill() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// Stop sends SIGTERM and waits for a clean exit.
func (p *Process) Stop() error {
	if p.cmd == nil {
		return nil
	}
	p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
		code := p.cmd.ProcessState.ExitCode()
		p.cmd = nil
		if code != 0 {
			return fmt.Errorf("tern exited with code %d after SIGTERM", code)
		}
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("tern did not exit within 30s of SIGTERM")
	}
}

// PID is the running process's id (0 when stopped).
func (p *Process) PID() int {
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Output is everything the process printed so far.
func (p *Process) Output() string { return p.out.String() }

// SyncBuffer is a bytes.Buffer safe to read while another goroutine (a
// child process's output copier, a command under test) writes to it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
