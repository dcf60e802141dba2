package main

import (
	"errors"
	"fmt"
	"image/color"
	"math"
	"os"
	"strconv"
	"strings"

	xfont "golang.org/x/image/font"
	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgimg"
)

// barChart is one panel: groups along the x axis (e.g. "queue 16 B", "queue 1 KiB"),
// one bar per series in each group (e.g. "Tern", "RabbitMQ classic").
type barChart struct {
	Title  string
	YLabel string      // e.g. "msg/s" or "ms"
	Groups []string    // x-axis categories
	Series []barSeries // bars within each group, in legend order
	LogY   bool        // logarithmic y axis (for latencies spanning 1 ms … 1 s); values ≤ 0 are then skipped
}

type barSeries struct {
	Name   string
	Values []float64 // one per group, same order as Groups; math.NaN() = no bar (system not measured)
}

var (
	errChartNoPanels   = errors.New("no panels")
	errChartNoGroups   = errors.New("no groups")
	errChartValueCount = errors.New("value count does not match group count")
	errChartInfinite   = errors.New("infinite value")
)

const (
	chartDPI      = 96
	chartPanelW   = 640 * vg.Inch / chartDPI
	chartPanelH   = 420 * vg.Inch / chartDPI
	chartBarShare = 0.8 // of each group's width; the rest separates groups
)

// chartPalette is Tableau 10: distinguishable, print-safe, and indexed by
// series position so a system keeps its colour across panels.
var chartPalette = []color.RGBA{
	{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0x59, 0xa1, 0x4f, 0xff},
	{0xe1, 0x57, 0x59, 0xff}, {0x76, 0xb7, 0xb2, 0xff}, {0xed, 0xc9, 0x48, 0xff},
	{0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
	{0xba, 0xb0, 0xac, 0xff},
}

// chartFont picks Liberation Sans: the library's serif default reads poorly
// at the small sizes that tick and value labels need.
func chartFont(size vg.Length, bold bool) font.Font {
	f := font.Font{Typeface: "Liberation", Variant: "Sans", Size: size}
	if bold {
		f.Weight = xfont.WeightBold
	}
	return f
}

// writeChartPNG renders the panels side by side (one row) into one PNG file at path,
// each panel about 640×420 px at 96 dpi, with a legend per panel.
func writeChartPNG(path string, panels ...barChart) error {
	if len(panels) == 0 {
		return fmt.Errorf("chart: %w", errChartNoPanels)
	}
	for _, bc := range panels {
		if err := bc.validate(); err != nil {
			return err
		}
	}

	img := vgimg.NewWith(vgimg.UseWH(chartPanelW*vg.Length(len(panels)), chartPanelH), vgimg.UseDPI(chartDPI))
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: 1, Cols: len(panels), PadX: vg.Points(12), PadTop: vg.Points(6), PadBottom: vg.Points(4), PadLeft: vg.Points(4), PadRight: vg.Points(8)}

	// Title and legend live in a header strip above the axes rather than inside
	// them, so the legend can never hide a bar; one common header height keeps
	// the panels' axes level with each other.
	plots := make([]*plot.Plot, len(panels))
	sizers := make([]func(draw.Canvas), len(panels))
	var header vg.Length
	for i, bc := range panels {
		plots[i], sizers[i] = bc.plot()
		header = max(header, bc.headerHeight(tiles.At(dc, i, 0).Size().X))
	}
	canvases := plot.Align([][]*plot.Plot{plots}, tiles, draw.Crop(dc, 0, 0, 0, -header))
	for i, bc := range panels {
		sizers[i](plots[i].DataCanvas(canvases[0][i]))
		plots[i].Draw(canvases[0][i])
		bc.drawHeader(tiles.At(dc, i, 0))
	}

	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("chart: %w", err)
	}
	if _, err := (vgimg.PngCanvas{Canvas: img}).WriteTo(f); err != nil {
		f.Close()
		return fmt.Errorf("chart: write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("chart: write %s: %w", path, err)
	}
	return nil
}

func (bc barChart) validate() error {
	if len(bc.Groups) == 0 {
		return fmt.Errorf("chart %q: %w", bc.Title, errChartNoGroups)
	}
	for _, s := range bc.Series {
		if len(s.Values) != len(bc.Groups) {
			return fmt.Errorf("chart %q: series %q has %d values for %d groups: %w",
				bc.Title, s.Name, len(s.Values), len(bc.Groups), errChartValueCount)
		}
		for i, v := range s.Values {
			if math.IsInf(v, 0) {
				return fmt.Errorf("chart %q: series %q, group %q: %w", bc.Title, s.Name, bc.Groups[i], errChartInfinite)
			}
		}
	}
	return nil
}

// drawn reports whether v gets a bar; a log axis has no place for v ≤ 0.
func (bc barChart) drawn(v float64) bool {
	return !math.IsNaN(v) && (!bc.LogY || v > 0)
}

// plot builds the axes, bars and value labels. Bar widths are in points, not
// data units, so they are set by the returned func once the data area is known.
func (bc barChart) plot() (*plot.Plot, func(data draw.Canvas)) {
	p := plot.New()
	p.X.Tick.Label.Font = chartFont(10, false)
	p.Y.Tick.Label.Font = chartFont(10, false)
	p.Y.Label.TextStyle.Font = chartFont(11, false)
	p.Y.Label.Text = bc.YLabel
	p.X.Padding, p.Y.Padding = 0, 0 // bars stand on the x axis
	// Invisible ticks on the category axis, kept only to hold labels off the axis line.
	p.X.Tick.LineStyle.Width, p.X.Tick.Length = 0, vg.Points(3)
	ticks := make(plot.ConstantTicks, len(bc.Groups))
	for i, g := range bc.Groups {
		ticks[i] = plot.Tick{Value: float64(i), Label: g}
	}
	p.X.Tick.Marker = ticks

	grid := plotter.NewGrid()
	grid.Vertical.Color = nil
	grid.Horizontal.Color = color.Gray{Y: 0xe4}
	p.Add(grid)

	// Bars grow from 0, which a log axis lacks, so there they are stacked on
	// an undrawn bar reaching the axis minimum.
	lo, hi := bc.yRange()
	base := &plotter.BarChart{Values: make(plotter.Values, len(bc.Groups))}
	for i := range base.Values {
		base.Values[i] = lo
	}
	bars := make([]*plotter.BarChart, len(bc.Series))
	labels := make([]*plotter.Labels, len(bc.Series))
	for j, s := range bc.Series {
		bars[j] = &plotter.BarChart{Values: make(plotter.Values, len(s.Values)), Color: chartPalette[j%len(chartPalette)]}
		labels[j] = &plotter.Labels{}
		for i, v := range s.Values {
			if !bc.drawn(v) {
				continue // a zero-height bar without outline is a gap
			}
			bars[j].Values[i] = v
			if bc.LogY {
				bars[j].Values[i] = v - lo
			}
			labels[j].XYs = append(labels[j].XYs, plotter.XY{X: float64(i), Y: v})
			labels[j].Labels = append(labels[j].Labels, compactValue(v))
			labels[j].TextStyle = append(labels[j].TextStyle, text.Style{
				Color: color.Black, Font: chartFont(8, false), Handler: plot.DefaultTextHandler,
				XAlign: draw.XCenter, YAlign: draw.YBottom,
			})
		}
		if bc.LogY {
			bars[j].StackOn(base)
		}
		p.Add(bars[j], labels[j])
	}
	// Set after Add, which would otherwise stretch the ranges to the base bars.
	p.X.Min, p.X.Max = -0.5, float64(len(bc.Groups))-0.5
	p.Y.Min, p.Y.Max = lo, hi
	if bc.LogY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.TickerFunc(decadeTicks)
	} else {
		p.Y.Tick.Marker = compactTicks{plot.DefaultTicks{}}
	}

	return p, func(data draw.Canvas) {
		n := vg.Length(len(bars))
		w := data.Size().X / vg.Length(len(bc.Groups)) * chartBarShare / max(n, 1)
		for j, b := range bars {
			off := (vg.Length(j) - (n-1)/2) * w
			// A sliver of white between neighbours keeps similar colours apart.
			b.Width, b.Offset, b.LineStyle.Width = w*0.94, off, 0
			labels[j].Offset = vg.Point{X: off, Y: vg.Points(1.5)}
		}
	}
}

// yRange spans the drawn values. A log axis runs between whole decades so
// both ends carry labels, and starts below the smallest bar so that bar shows.
func (bc barChart) yRange() (lo, hi float64) {
	lo, hi = math.Inf(1), math.Inf(-1)
	for _, s := range bc.Series {
		for _, v := range s.Values {
			if bc.drawn(v) {
				lo, hi = math.Min(lo, v), math.Max(hi, v)
			}
		}
	}
	switch {
	case bc.LogY && math.IsInf(lo, 0):
		return 1, 10
	case bc.LogY:
		// Round, not Floor/Ceil: Log10(0.1) is a hair above -1.
		elo, ehi := int(math.Round(math.Log10(lo))), int(math.Round(math.Log10(hi)))
		if math.Pow10(elo) >= lo {
			elo--
		}
		if math.Pow10(ehi) < hi {
			ehi++
		}
		return math.Pow10(elo), math.Pow10(ehi)
	case math.IsInf(lo, 0):
		return 0, 1
	}
	lo, hi = math.Min(lo, 0), math.Max(hi, 0)
	if lo == hi {
		hi = 1
	}
	return lo, hi
}

// decadeTicks labels each power of ten with unlabelled 2…9 ticks between. It
// replaces plot.LogTicks, which drops the lowest decade below 1 through
// truncating an inexact Log10.
func decadeTicks(lo, hi float64) []plot.Tick {
	var ticks []plot.Tick
	for e := int(math.Round(math.Log10(lo))); math.Pow10(e) <= hi; e++ {
		d := math.Pow10(e)
		ticks = append(ticks, plot.Tick{Value: d, Label: compactValue(d)})
		for m := 2.0; m < 10 && d*m < hi; m++ {
			ticks = append(ticks, plot.Tick{Value: d * m})
		}
	}
	return ticks
}

var (
	chartTitleStyle  = text.Style{Color: color.Black, Font: chartFont(13, true), XAlign: draw.XCenter, YAlign: draw.YTop, Handler: plot.DefaultTextHandler}
	chartLegendStyle = text.Style{Color: color.Black, Font: chartFont(10, false), Handler: plot.DefaultTextHandler}
	chartLegendGap   = vg.Points(14) // between legend entries in a row
	chartLegendRow   = chartLegendStyle.FontExtents().Height + vg.Points(4)
)

// legendRows lays the legend out left to right, wrapping to a new row where
// the panel is too narrow; a horizontal legend costs far less plot height.
func (bc barChart) legendRows(width vg.Length) (rows [][]int, widths []vg.Length) {
	var w vg.Length
	for j, s := range bc.Series {
		ew := plot.NewLegend().ThumbnailWidth + chartLegendStyle.Width(" "+s.Name)
		if len(rows) == 0 || w+chartLegendGap+ew > width {
			rows, widths, w = append(rows, nil), append(widths, 0), -chartLegendGap
		}
		w += chartLegendGap + ew
		rows[len(rows)-1] = append(rows[len(rows)-1], j)
		widths[len(widths)-1] = w
	}
	return rows, widths
}

func (bc barChart) headerHeight(width vg.Length) vg.Length {
	rows, _ := bc.legendRows(width)
	h := vg.Length(len(rows))*chartLegendRow + vg.Points(8)
	if bc.Title != "" {
		h += chartTitleStyle.FontExtents().Height + vg.Points(4)
	}
	return h
}

// drawHeader puts the title and then the legend, centred, at the top of the panel's tile.
func (bc barChart) drawHeader(c draw.Canvas) {
	y := c.Max.Y
	if bc.Title != "" {
		c.FillText(chartTitleStyle, vg.Point{X: c.Center().X, Y: y}, bc.Title)
		y -= chartTitleStyle.FontExtents().Height + vg.Points(4)
	}
	rows, widths := bc.legendRows(c.Size().X)
	for r, row := range rows {
		x := c.Center().X - widths[r]/2
		for _, j := range row {
			l := plot.NewLegend()
			l.TextStyle, l.Top, l.Left = chartLegendStyle, true, true
			l.Add(bc.Series[j].Name, &plotter.BarChart{Color: chartPalette[j%len(chartPalette)]})
			ew := l.ThumbnailWidth + chartLegendStyle.Width(" "+bc.Series[j].Name)
			l.Draw(draw.Canvas{Canvas: c.Canvas, Rectangle: vg.Rectangle{
				Min: vg.Point{X: x, Y: y - chartLegendRow}, Max: vg.Point{X: x + ew, Y: y},
			}})
			x += ew + chartLegendGap
		}
		y -= chartLegendRow
	}
}

// compactTicks relabels another Ticker's labelled ticks with compactValue,
// so the y axis reads "40k" instead of "40000".
type compactTicks struct{ plot.Ticker }

func (t compactTicks) Ticks(lo, hi float64) []plot.Tick {
	ticks := t.Ticker.Ticks(lo, hi)
	for i := range ticks {
		if ticks[i].Label != "" {
			ticks[i].Label = compactValue(ticks[i].Value)
		}
	}
	return ticks
}

// compactValue formats v to three significant digits with a k/M/G suffix,
// e.g. 52000 → "52k", 22700 → "22.7k", 3.14159 → "3.14"; bar labels must
// stay narrower than the bars.
func compactValue(v float64) string {
	if v == 0 || math.IsNaN(v) || math.IsInf(v, 0) {
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	// Round first, so that 999999 becomes "1M" and not "1000k".
	mag := math.Floor(math.Log10(math.Abs(v)))
	v = math.Round(v/math.Pow10(int(mag)-2)) * math.Pow10(int(mag)-2)
	suffix := ""
	for _, u := range []struct {
		div float64
		s   string
	}{{1e9, "G"}, {1e6, "M"}, {1e3, "k"}} {
		if math.Abs(v) >= u.div {
			v, suffix = v/u.div, u.s
			break
		}
	}
	prec := max(0, 2-int(math.Floor(math.Log10(math.Abs(v)))))
	s := strconv.FormatFloat(v, 'f', prec, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	return s + suffix
}
