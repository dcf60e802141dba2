package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"time"
)

// rssSample is the broker's resident set at a moment of a scenario.
type rssSample struct {
	T  float64 `json:"t"`  // seconds since the scenario started
	MB float64 `json:"mb"` // resident set, MiB
}

// sampleRSS reads the resident set of process pid every interval until
// the returned stop is called, which returns the samples. It watches the
// broker from outside, as an operator's monitoring would, so it works
// for any broker on this machine (for RabbitMQ, pass its beam.smp pid).
// A process that cannot be read ends the sampling; what was read stays.
func sampleRSS(ctx context.Context, pid int, interval time.Duration) (stop func() []rssSample) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		wg      sync.WaitGroup
		samples []rssSample
	)
	start := time.Now()
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			mb, err := readRSS(pid)
			if err != nil {
				return
			}
			samples = append(samples, rssSample{T: round(time.Since(start).Seconds(), 2), MB: round(mb, 1)})
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}()
	return func() []rssSample {
		cancel()
		wg.Wait()
		return samples
	}
}

// readRSS returns VmRSS of process pid in MiB.
func readRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, fmt.Errorf("rss of pid %d: %w", pid, err)
	}
	return parseVmRSS(b)
}

// parseVmRSS finds "VmRSS:   1234 kB" in a /proc/PID/status text.
func parseVmRSS(status []byte) (float64, error) {
	sc := bufio.NewScanner(bytes.NewReader(status))
	for sc.Scan() {
		rest, ok := bytes.CutPrefix(sc.Bytes(), []byte("VmRSS:"))
		if !ok {
			continue
		}
		f := bytes.Fields(rest)
		if len(f) != 2 || string(f[1]) != "kB" {
			return 0, fmt.Errorf("rss: malformed line %q", sc.Text())
		}
		kb, err := strconv.ParseFloat(string(f[0]), 64)
		if err != nil {
			return 0, fmt.Errorf("rss: %w", err)
		}
		return kb / 1024, nil
	}
	return 0, fmt.Errorf("rss: no VmRSS line")
}

// rssMax is the largest sample (0 for none).
func rssMax(s []rssSample) float64 {
	var m float64
	for _, x := range s {
		m = max(m, x.MB)
	}
	return m
}
