package main

import (
	"errors"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

var chartNaN = math.NaN()

// exampleCharts is the comparison the report draws: throughput on a linear
// axis, p99 latency on a log one, with a system missing from some groups.
func exampleCharts() []barChart {
	groups := []string{"queue 16 B", "queue 1 KiB", "fanout 1 KiB"}
	return []barChart{{
		Title: "Throughput (higher is better)", YLabel: "msg/s", Groups: groups,
		Series: []barSeries{
			{"Tern", []float64{67000, 52000, 7900}},
			{"RabbitMQ classic", []float64{22700, 15600, 2100}},
			{"RabbitMQ quorum", []float64{chartNaN, 27000, chartNaN}},
		},
	}, {
		Title: "p99 latency (lower is better)", YLabel: "ms", Groups: groups, LogY: true,
		Series: []barSeries{
			{"Tern", []float64{1.8, 3.1, 12}},
			{"RabbitMQ classic", []float64{14, 38, 420}},
			{"RabbitMQ quorum", []float64{chartNaN, 95, chartNaN}},
		},
	}}
}

// decodeChart renders panels and reads the PNG back, failing the test on any error.
func decodeChart(t *testing.T, panels ...barChart) image.Image {
	t.Helper()
	path := filepath.Join(t.TempDir(), "chart.png")
	if err := writeChartPNG(path, panels...); err != nil {
		t.Fatalf("writeChartPNG: %v", err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return img
}

// colourCounts counts pixels per exact colour; bar interiors are flat fills,
// so a palette colour's count tracks how much bar area was drawn.
func colourCounts(img image.Image) map[color.NRGBA]int {
	counts := map[color.NRGBA]int{}
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			counts[color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)]++
		}
	}
	return counts
}

func paletteCount(counts map[color.NRGBA]int, series int) int {
	c := chartPalette[series%len(chartPalette)]
	return counts[color.NRGBA{R: c.R, G: c.G, B: c.B, A: c.A}]
}

func TestChartRender(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	one := func(bc barChart) []barChart { return []barChart{bc} }
	tests := []struct {
		name   string
		panels []barChart
	}{
		{"two panels", exampleCharts()},
		{"log axis with non-positive values", one(barChart{
			Title: "p99", YLabel: "ms", Groups: []string{"a", "b", "c"}, LogY: true,
			Series: []barSeries{{"x", []float64{0, 5, 700}}, {"y", []float64{-3, 0.4, chartNaN}}},
		})},
		{"log axis with only non-positive values", one(barChart{
			Groups: []string{"a"}, LogY: true, Series: []barSeries{{"x", []float64{0}}},
		})},
		{"all NaN", one(barChart{
			Title: "nothing measured", Groups: []string{"a", "b"},
			Series: []barSeries{{"x", []float64{chartNaN, chartNaN}}, {"y", []float64{chartNaN, chartNaN}}},
		})},
		{"no series", one(barChart{Title: "empty", Groups: []string{"a"}})},
		{"untitled, one value", one(barChart{Groups: []string{"a"}, Series: []barSeries{{"x", []float64{1}}}})},
		{"legend wraps", one(barChart{
			Title: "many systems", Groups: []string{"a", "b"},
			Series: []barSeries{
				{"Tern", []float64{9, 8}}, {"RabbitMQ classic", []float64{7, 6}},
				{"RabbitMQ quorum", []float64{5, 4}}, {"RabbitMQ streams", []float64{3, 2}},
				{"NATS JetStream", []float64{1, 0.5}}, {"Kafka", []float64{2, 1}},
			},
		})},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			img := decodeChart(t, tt.panels...)
			// 640×420 px per panel at 96 dpi; the library rounds to whole pixels.
			b := img.Bounds()
			if w := 640 * len(tt.panels); math.Abs(float64(b.Dx()-w)) > 2 || math.Abs(float64(b.Dy()-420)) > 2 {
				t.Errorf("size %dx%d, want ≈%dx420", b.Dx(), b.Dy(), w)
			}
			counts := colourCounts(img)
			if len(counts) < 4 {
				t.Errorf("only %d distinct colours: image looks blank", len(counts))
			}
			// Every series at least has its legend swatch.
			for j := range tt.panels[0].Series {
				if paletteCount(counts, j) == 0 {
					t.Errorf("series %d colour %v not drawn", j, chartPalette[j])
				}
			}
		})
	}
}

// TestChartNaNGap checks a NaN draws no bar (only the legend swatch keeps the
// colour) while the panel still renders.
func TestChartNaNGap(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	panel := func(second float64) barChart {
		return barChart{Title: "t", Groups: []string{"a", "b"}, Series: []barSeries{
			{"x", []float64{10, 20}}, {"y", []float64{15, second}},
		}}
	}
	for _, logY := range []bool{false, true} {
		with, without := panel(20), panel(chartNaN)
		with.LogY, without.LogY = logY, logY
		n := paletteCount(colourCounts(decodeChart(t, with)), 1)
		m := paletteCount(colourCounts(decodeChart(t, without)), 1)
		// The NaN removes one of two equal-height bars, roughly halving the area.
		if m <= 0 || float64(m) > 0.7*float64(n) {
			t.Errorf("logY=%v: series colour covers %d px with a NaN, %d px without", logY, m, n)
		}
	}
}

func TestChartErrors(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ok := barChart{Title: "ok", Groups: []string{"a"}, Series: []barSeries{{"x", []float64{1}}}}
	tests := []struct {
		name   string
		panels []barChart
		want   error
	}{
		{"no panels", nil, errChartNoPanels},
		{"empty groups", []barChart{ok, {Title: "bad", Series: []barSeries{{"x", nil}}}}, errChartNoGroups},
		{"too few values", []barChart{{Title: "bad", Groups: []string{"a", "b"}, Series: []barSeries{{"x", []float64{1}}}}}, errChartValueCount},
		{"too many values", []barChart{{Title: "bad", Groups: []string{"a"}, Series: []barSeries{{"x", []float64{1, 2}}}}}, errChartValueCount},
		{"infinite value", []barChart{{Title: "bad", Groups: []string{"a"}, Series: []barSeries{{"x", []float64{math.Inf(1)}}}}}, errChartInfinite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "chart.png")
			err := writeChartPNG(path, tt.panels...)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("file written despite error %v", err)
			}
		})
	}
	if err := writeChartPNG(filepath.Join(t.TempDir(), "missing", "chart.png"), ok); err == nil {
		t.Error("writing into a missing directory succeeded")
	}
}

func TestChartCompactValue(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{0, "0"}, {3.14159, "3.14"}, {3.1, "3.1"}, {0.052, "0.052"}, {12, "12"}, {420, "420"},
		{7900, "7.9k"}, {22700, "22.7k"}, {52000, "52k"}, {67000, "67k"}, {123456, "123k"},
		{999999, "1M"}, {1.5e6, "1.5M"}, {2e9, "2G"}, {-2100, "-2.1k"},
	}
	for _, tt := range tests {
		if got := compactValue(tt.in); got != tt.want {
			t.Errorf("compactValue(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestChartYRange(t *testing.T) {
	tests := []struct {
		logY   bool
		values []float64
		lo, hi float64
	}{
		{false, []float64{67000, chartNaN, 2100}, 0, 67000},
		{false, []float64{chartNaN}, 0, 1},
		{false, []float64{0}, 0, 1},
		{false, []float64{-5, 3}, -5, 3},
		{true, []float64{1.8, 3.1, 12}, 1, 100},
		{true, []float64{0.1, 420}, 0.01, 1000},
		{true, []float64{1, 1000}, 0.1, 1000},
		{true, []float64{0, -3, chartNaN}, 1, 10},
	}
	for _, tt := range tests {
		bc := barChart{Groups: make([]string, len(tt.values)), LogY: tt.logY, Series: []barSeries{{"x", tt.values}}}
		if lo, hi := bc.yRange(); !closeTo(lo, tt.lo) || !closeTo(hi, tt.hi) {
			t.Errorf("logY=%v %v: range [%v, %v], want [%v, %v]", tt.logY, tt.values, lo, hi, tt.lo, tt.hi)
		}
	}
}

func TestChartDecadeTicks(t *testing.T) {
	var labels []string
	for _, tk := range decadeTicks(0.01, 1000) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	if got, want := strings.Join(labels, " "), "0.01 0.1 1 10 100 1k"; got != want {
		t.Errorf("decade labels %q, want %q", got, want)
	}
}

func closeTo(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) }

// TestChartExample writes the example chart where TERNBENCH_CHART_EXAMPLE
// points, so its look can be checked by eye after layout changes.
func TestChartExample(t *testing.T) {
	path := os.Getenv("TERNBENCH_CHART_EXAMPLE")
	if path == "" {
		t.Skip("TERNBENCH_CHART_EXAMPLE not set")
	}
	if err := writeChartPNG(path, exampleCharts()...); err != nil {
		t.Fatal(err)
	}
}
