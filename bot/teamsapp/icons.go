package teamsapp

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
)

// Icon sizes Teams requires of an app package.
const (
	ColorIconSize   = 192
	OutlineIconSize = 32
)

// accent is the color icon's background, the manifest's accentColor.
var accent = color.NRGBA{R: 0x0F, G: 0x6C, B: 0xBD, A: 0xFF}

// ColorIcon draws the full-color icon: a white device with a check mark on
// a rounded square of the accent color, 192×192.
func ColorIcon() image.Image {
	return draw(ColorIconSize, func(x, y float64) color.NRGBA {
		bg := coverage(x, y, ColorIconSize, func(x, y float64) bool { return inRoundRect(x, y, 0, 0, 1, 1, 0.18) })
		fg := coverage(x, y, ColorIconSize, glyph)
		// White over the accent, both over transparency.
		a := bg
		r := lerp(float64(accent.R), 255, fg)
		g := lerp(float64(accent.G), 255, fg)
		b := lerp(float64(accent.B), 255, fg)
		return color.NRGBA{R: uint8(math.Round(r)), G: uint8(math.Round(g)), B: uint8(math.Round(b)), A: uint8(math.Round(255 * a))}
	})
}

// OutlineIcon draws the outline icon Teams shows in its app bar: the same
// glyph, white on transparency, 32×32.
func OutlineIcon() image.Image {
	return draw(OutlineIconSize, func(x, y float64) color.NRGBA {
		fg := coverage(x, y, OutlineIconSize, smallGlyph)
		return color.NRGBA{R: 255, G: 255, B: 255, A: uint8(math.Round(255 * fg))}
	})
}

// EncodePNG encodes an icon.
func EncodePNG(img image.Image) ([]byte, error) {
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode icon: %w", err)
	}
	return buf.Bytes(), nil
}

// draw renders a size×size image from a function of pixel coordinates.
func draw(size int, px func(x, y float64) color.NRGBA) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	for y := range size {
		for x := range size {
			img.SetNRGBA(x, y, px(float64(x), float64(y)))
		}
	}
	return img
}

// coverage is the share of pixel (x, y) inside shape, whose coordinates
// run from 0 to 1 across the image: 4×4 samples a pixel, for smooth edges.
func coverage(x, y float64, size int, shape func(x, y float64) bool) float64 {
	const n = 4
	in := 0
	for i := range n {
		for j := range n {
			sx := (x + (float64(i)+0.5)/n) / float64(size)
			sy := (y + (float64(j)+0.5)/n) / float64(size)
			if shape(sx, sy) {
				in++
			}
		}
	}
	return float64(in) / (n * n)
}

// glyph is a phone with a check mark on its screen.
func glyph(x, y float64) bool {
	return phone(x, y, 0.06, 1, true)
}

// smallGlyph is glyph for 32 pixels: bolder, without the home bar.
func smallGlyph(x, y float64) bool {
	return phone(x, y, 0.075, 0.8, false)
}

// phone is the glyph with a frame of stroke, the check mark scaled by k.
func phone(x, y, stroke, k float64, homeBar bool) bool {
	// The device's frame: a rounded rectangle ring.
	frame := inRoundRect(x, y, 0.29, 0.14, 0.71, 0.86, 0.08) &&
		!inRoundRect(x, y, 0.29+stroke, 0.14+stroke, 0.71-stroke, 0.86-stroke, 0.08-stroke/2)
	bar := homeBar && inRoundRect(x, y, 0.43, 0.735, 0.57, 0.765, 0.015)
	// The check mark.
	w := stroke * 0.6
	cx, cy := 0.5+(x-0.5)/k, 0.49+(y-0.49)/k
	check := nearSegment(cx, cy, 0.405, 0.50, 0.48, 0.575, w/k) || nearSegment(cx, cy, 0.48, 0.575, 0.605, 0.405, w/k)
	return frame || bar || check
}

func inRoundRect(x, y, x0, y0, x1, y1, r float64) bool {
	if x < x0 || x > x1 || y < y0 || y > y1 {
		return false
	}
	cx := math.Max(x0+r, math.Min(x, x1-r))
	cy := math.Max(y0+r, math.Min(y, y1-r))
	return (x-cx)*(x-cx)+(y-cy)*(y-cy) <= r*r
}

// nearSegment reports whether (x, y) is within half of width w of the
// segment from (x0, y0) to (x1, y1).
func nearSegment(x, y, x0, y0, x1, y1, w float64) bool {
	dx, dy := x1-x0, y1-y0
	t := ((x-x0)*dx + (y-y0)*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	px, py := x0+t*dx, y0+t*dy
	return (x-px)*(x-px)+(y-py)*(y-py) <= w*w
}

func lerp(a, b, t float64) float64 { return a + (b-a)*t }
