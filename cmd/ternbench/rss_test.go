package main

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestParseVmRSS(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		ok   bool
	}{
		{"Name:\ttern\nVmPeak:\t  9000 kB\nVmRSS:\t    2048 kB\nThreads:\t8\n", 2, true},
		{"VmRSS: 1536 kB", 1.5, true},
		{"Name:\tzombie\nState:\tZ\n", 0, false}, // a zombie has no VmRSS
		{"VmRSS:\t12 MB\n", 0, false},
		{"VmRSS:\tlots kB\n", 0, false},
	} {
		got, err := parseVmRSS([]byte(tc.in))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("parseVmRSS(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}

func TestSampleRSS(t *testing.T) {
	stop := sampleRSS(context.Background(), os.Getpid(), 5*time.Millisecond)
	time.Sleep(50 * time.Millisecond)
	s := stop()
	if len(s) < 2 || rssMax(s) <= 0 || s[0].T > s[len(s)-1].T {
		t.Fatalf("samples %v: want several, positive, in time order", s)
	}
	// A process that is gone ends the sampling without samples or a hang.
	if s := sampleRSS(context.Background(), 1<<30, time.Millisecond)(); len(s) != 0 {
		t.Fatalf("samples of a missing pid: %v", s)
	}
}
