package api

import (
	"fmt"
	"html/template"
	"math"
	"strings"
	"time"
)

// The dashboard's charts are SVG drawn here, with no script and nothing
// fetched: lines in a fixed viewBox stretched to the page's width (strokes
// keep their width), colours from the page's stylesheet, so light and dark
// themes apply, and the labels as HTML text around them, which stays
// readable however narrow the screen.

const chartW, chartH = 600.0, 120.0

type point struct {
	t time.Time
	v float64
}

type series struct {
	name  string // in the legend
	class string // CSS class of the line (colour)
	pts   []point
}

// lineChart draws series over their common time span, from zero to their
// highest value, labelled with label. id names the figure for tests and
// styles.
func lineChart(title, id string, ss []series, label func(float64) string) template.HTML {
	var t0, t1 time.Time
	top := 0.0
	n := 0
	for _, s := range ss {
		for _, p := range s.pts {
			if n == 0 || p.t.Before(t0) {
				t0 = p.t
			}
			if n == 0 || p.t.After(t1) {
				t1 = p.t
			}
			top = max(top, p.v)
			n++
		}
	}
	esc := template.HTMLEscapeString
	var b strings.Builder
	fmt.Fprintf(&b, `<figure class="chart" id="chart-%s"><figcaption>%s</figcaption>`, esc(id), esc(title))
	if n == 0 {
		b.WriteString(`<p class="muted">No samples yet.</p></figure>`)
		return template.HTML(b.String())
	}
	scale := niceCeil(top)
	b.WriteString(`<div class="plot"><div class="yaxis">`)
	fmt.Fprintf(&b, `<span>%s</span><span>%s</span>`, esc(label(scale)), esc(label(0)))
	fmt.Fprintf(&b, `</div><svg viewBox="0 0 %.0f %.0f" preserveAspectRatio="none" role="img" aria-label="%s">`, chartW, chartH, esc(title))
	for _, f := range []float64{0, 0.5, 1} {
		y := chartH - f*chartH
		fmt.Fprintf(&b, `<line class="grid" x1="0" x2="%.0f" y1="%.1f" y2="%.1f" vector-effect="non-scaling-stroke"/>`, chartW, y, y)
	}
	span := t1.Sub(t0).Seconds()
	for _, s := range ss {
		if len(s.pts) == 0 {
			continue
		}
		var pts []string
		for _, p := range s.pts {
			x := chartW
			if span > 0 {
				x = p.t.Sub(t0).Seconds() / span * chartW
			}
			y := chartH
			if scale > 0 {
				y = chartH - p.v/scale*chartH
			}
			pts = append(pts, fmt.Sprintf("%.1f,%.1f", x, y))
		}
		if len(pts) == 1 {
			// One sample: a level line across, rather than nothing.
			y := pts[0][strings.IndexByte(pts[0], ',')+1:]
			pts = []string{"0," + y, fmt.Sprintf("%.0f,%s", chartW, y)}
		}
		fmt.Fprintf(&b, `<polyline class="line %s" points="%s" vector-effect="non-scaling-stroke"><title>%s</title></polyline>`,
			esc(s.class), strings.Join(pts, " "), esc(s.name))
	}
	b.WriteString(`</svg></div><div class="xaxis">`)
	fmt.Fprintf(&b, `<span>%s ago</span><span>now</span></div>`, esc(roundDuration(t1.Sub(t0))))
	if len(ss) > 1 {
		b.WriteString(`<ul class="legend">`)
		for _, s := range ss {
			fmt.Fprintf(&b, `<li><span class="swatch %s"></span>%s</li>`, esc(s.class), esc(s.name))
		}
		b.WriteString(`</ul>`)
	}
	b.WriteString(`</figure>`)
	return template.HTML(b.String())
}

// niceCeil rounds v up to 1, 2 or 5 times a power of ten, so the axis
// reads as a round number.
func niceCeil(v float64) float64 {
	if v <= 0 {
		return 0
	}
	p := math.Pow(10, math.Floor(math.Log10(v)))
	for _, m := range []float64{1, 2, 5, 10} {
		if v <= m*p {
			return m * p
		}
	}
	return 10 * p
}

// progressBar draws a fraction from 0 to 1 as a bar.
func progressBar(f float64) template.HTML {
	f = min(max(f, 0), 1)
	return template.HTML(fmt.Sprintf(`<svg class="bar" viewBox="0 0 100 6" preserveAspectRatio="none" role="img" aria-label="%.0f%%">`+
		`<rect class="track" width="100" height="6" rx="3"/><rect class="fill" width="%.2f" height="6" rx="3"/></svg>`, 100*f, 100*f))
}
