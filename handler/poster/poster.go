// Package poster draws the printable poster of a live code: an A5 page at
// 300 dpi with the code's title, its text, the QR and the scan instruction,
// set in Chinese.
//
// Chinese is set in Droid Sans Fallback (Copyright 2006-2010 Google Corp.,
// Apache License 2.0, see LICENSE-DroidSansFallback.txt), cut down to
// printable ASCII, Latin-1, general and CJK punctuation, full-width forms and
// every character of GB 2312 (7,445 characters, about 1 MB) with:
//
//	python3 -m fontTools.subset DroidSansFallbackFull.ttf --text-file=chars.txt \
//	    --output-file=DroidSansFallbackGB.ttf --no-hinting --layout-features='' --drop-tables+=GSUB,GPOS,GDEF
//
// That font has no Latin letters: those, digits and the Latin punctuation
// are set in Go Regular (golang.org/x/image/font/gofont, BSD licence). A
// character neither has is drawn as an empty box.
package poster

import (
	"bytes"
	_ "embed"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"strings"
	"sync"
	"unicode/utf8"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

//go:embed DroidSansFallbackGB.ttf
var fontData []byte

// A5 at 300 dpi: 148 × 210 mm.
const (
	Width  = 1748
	Height = 2480
	DPI    = 300
)

// Poster is what a poster shows.
type Poster struct {
	Title       string      // large, in the header band
	Text        string      // under the header; may be empty; wraps
	Instruction string      // under the QR: how to scan
	Footer      string      // small, at the bottom; may be empty
	QR          image.Image // scaled to fill its square, modules kept sharp
}

var (
	fonts      []*opentype.Font // Chinese first, then Latin
	parseErr   error
	parseOnce  sync.Once
	ink        = color.RGBA{0x1f, 0x23, 0x29, 0xff}
	muted      = color.RGBA{0x64, 0x6a, 0x73, 0xff}
	brand      = color.RGBA{0x07, 0x8a, 0x4f, 0xff}
	paper      = color.RGBA{0xff, 0xff, 0xff, 0xff}
	frame      = color.RGBA{0xe5, 0xe6, 0xeb, 0xff}
	errNoTitle = errors.New("poster: a poster needs a title")
)

// face is the poster's type at size pixels: each character from the first
// font that has it.
func face(size float64) (font.Face, error) {
	parseOnce.Do(func() {
		for _, data := range [][]byte{fontData, goregular.TTF} {
			f, err := opentype.Parse(data)
			if err != nil {
				parseErr = err
				return
			}
			fonts = append(fonts, f)
		}
	})
	if parseErr != nil {
		return nil, parseErr
	}
	fb := &fallback{fonts: fonts}
	for _, f := range fonts {
		ff, err := opentype.NewFace(f, &opentype.FaceOptions{Size: size, DPI: 72, Hinting: font.HintingNone})
		if err != nil {
			return nil, err
		}
		fb.faces = append(fb.faces, ff)
	}
	return fb, nil
}

// fallback is a font.Face that takes each character from the first of its
// faces whose font has a glyph for it.
type fallback struct {
	fonts []*sfnt.Font
	faces []font.Face
	buf   sfnt.Buffer
}

func (f *fallback) pick(r rune) font.Face {
	for i, fo := range f.fonts {
		if g, err := fo.GlyphIndex(&f.buf, r); err == nil && g != 0 {
			return f.faces[i]
		}
	}
	return f.faces[0]
}

func (f *fallback) Close() error {
	for _, ff := range f.faces {
		ff.Close()
	}
	return nil
}

func (f *fallback) Glyph(dot fixed.Point26_6, r rune) (image.Rectangle, image.Image, image.Point, fixed.Int26_6, bool) {
	return f.pick(r).Glyph(dot, r)
}

func (f *fallback) GlyphBounds(r rune) (fixed.Rectangle26_6, fixed.Int26_6, bool) {
	return f.pick(r).GlyphBounds(r)
}

func (f *fallback) GlyphAdvance(r rune) (fixed.Int26_6, bool) { return f.pick(r).GlyphAdvance(r) }

// Kern is zero: the two fonts' kerning tables know nothing of each other,
// and Chinese is set solid.
func (f *fallback) Kern(r0, r1 rune) fixed.Int26_6 { return 0 }

func (f *fallback) Metrics() font.Metrics { return f.faces[0].Metrics() }

// Render draws p as a PNG of Width × Height pixels that says it is 300 dpi,
// so it prints at A5 as it is.
func Render(p Poster) ([]byte, error) {
	img, _, err := render(p)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	// BestSpeed: a poster is mostly flat colour, so it stays small, and the
	// best compression took ten times as long to encode.
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, err
	}
	return withDPI(buf.Bytes(), DPI), nil
}

// render draws p and says where its QR went.
func render(p Poster) (*image.RGBA, image.Rectangle, error) {
	if strings.TrimSpace(p.Title) == "" {
		return nil, image.Rectangle{}, errNoTitle
	}
	img := image.NewRGBA(image.Rect(0, 0, Width, Height))
	draw.Draw(img, img.Bounds(), image.NewUniform(paper), image.Point{}, draw.Src)

	// Header band with the title, up to two lines.
	const margin = 140
	title, err := face(112)
	if err != nil {
		return nil, image.Rectangle{}, err
	}
	defer title.Close()
	titleLines := wrap(title, p.Title, Width-2*margin, 2)
	band := 150 + len(titleLines)*150
	draw.Draw(img, image.Rect(0, 0, Width, band), image.NewUniform(brand), image.Point{}, draw.Src)
	y := 120 + 112
	for _, l := range titleLines {
		centre(img, title, l, y, paper)
		y += 150
	}

	// The text, up to four lines.
	y = band + 150
	if strings.TrimSpace(p.Text) != "" {
		text, err := face(64)
		if err != nil {
			return nil, image.Rectangle{}, err
		}
		defer text.Close()
		for _, l := range wrap(text, p.Text, Width-2*margin, 4) {
			centre(img, text, l, y, muted)
			y += 96
		}
		y += 20
	}

	// The QR in a framed square, as large as the rest leaves room for.
	side := min(1100, Height-y-420)
	x0 := (Width - side) / 2
	box := image.Rect(x0-24, y-24, x0+side+24, y+side+24)
	draw.Draw(img, box, image.NewUniform(frame), image.Point{}, draw.Src)
	draw.Draw(img, box.Inset(6), image.NewUniform(paper), image.Point{}, draw.Src)
	qrRect := image.Rect(x0, y, x0+side, y+side)
	if p.QR != nil {
		draw.NearestNeighbor.Scale(img, qrRect, p.QR, p.QR.Bounds(), draw.Over, nil)
	}
	y += side + 24 + 150

	instr, err := face(76)
	if err != nil {
		return nil, image.Rectangle{}, err
	}
	defer instr.Close()
	for _, l := range wrap(instr, p.Instruction, Width-2*margin, 2) {
		centre(img, instr, l, y, ink)
		y += 110
	}
	if p.Footer != "" {
		small, err := face(44)
		if err != nil {
			return nil, image.Rectangle{}, err
		}
		defer small.Close()
		centre(img, small, clip(small, p.Footer, Width-2*margin), Height-110, muted)
	}

	return img, qrRect, nil
}

// centre draws s centred on the baseline y.
func centre(dst draw.Image, f font.Face, s string, y int, c color.Color) {
	d := &font.Drawer{Dst: dst, Src: image.NewUniform(c), Face: f}
	w := d.MeasureString(s).Round()
	d.Dot = fixed.P((Width-w)/2, y)
	d.DrawString(s)
}

// wrap breaks s into at most n lines no wider than width, by character (as
// Chinese is set) but keeping Latin words whole where it can; the last line
// ends in "…" when s does not fit. Line breaks in s are kept.
func wrap(f font.Face, s string, width, n int) []string {
	var lines []string
	for _, para := range strings.Split(strings.TrimSpace(s), "\n") {
		line := ""
		for _, word := range words(strings.TrimSpace(para)) {
			if font.MeasureString(f, line+word).Round() <= width {
				line += word
				continue
			}
			if line != "" {
				lines = append(lines, strings.TrimRight(line, " "))
				line = ""
			}
			// A word wider than a line is broken anywhere.
			for _, r := range word {
				if font.MeasureString(f, line+string(r)).Round() > width {
					lines = append(lines, line)
					line = ""
				}
				line += string(r)
			}
		}
		lines = append(lines, strings.TrimRight(line, " "))
	}
	if len(lines) > n {
		lines = append(lines[:n-1], clip(f, strings.Join(lines[n-1:], ""), width))
		if !strings.HasSuffix(lines[n-1], "…") {
			lines[n-1] = clip(f, lines[n-1]+"……", width)
		}
	}
	return lines
}

// words splits s into runs that wrap keeps together: a Latin word with its
// trailing space, or one other character.
func words(s string) []string {
	var out []string
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if r < 0x80 && r != ' ' {
			end := strings.IndexFunc(s, func(r rune) bool { return r >= 0x80 || r == ' ' })
			if end < 0 {
				end = len(s)
			}
			for end < len(s) && s[end] == ' ' {
				end++
			}
			out = append(out, s[:end])
			s = s[end:]
			continue
		}
		out = append(out, s[:size])
		s = s[size:]
	}
	return out
}

// clip shortens s to fit width, ending in "…" when it had to.
func clip(f font.Face, s string, width int) string {
	if font.MeasureString(f, s).Round() <= width {
		return s
	}
	r := []rune(s)
	for len(r) > 0 && font.MeasureString(f, string(r)+"…").Round() > width {
		r = r[:len(r)-1]
	}
	return string(r) + "…"
}

// withDPI adds a pHYs chunk after the PNG header so that viewers and print
// dialogs size the image at dpi.
func withDPI(pngData []byte, dpi int) []byte {
	const ihdrEnd = 8 + 4 + 4 + 13 + 4 // signature, IHDR length, type, data, CRC
	if len(pngData) < ihdrEnd {
		return pngData
	}
	perMetre := uint32(float64(dpi)/0.0254 + 0.5)
	chunk := make([]byte, 4+4+9+4)
	binary.BigEndian.PutUint32(chunk[0:], 9)
	copy(chunk[4:], "pHYs")
	binary.BigEndian.PutUint32(chunk[8:], perMetre)
	binary.BigEndian.PutUint32(chunk[12:], perMetre)
	chunk[16] = 1 // the unit is the metre
	binary.BigEndian.PutUint32(chunk[17:], crc32.ChecksumIEEE(chunk[4:17]))
	out := make([]byte, 0, len(pngData)+len(chunk))
	out = append(out, pngData[:ihdrEnd]...)
	out = append(out, chunk...)
	return append(out, pngData[ihdrEnd:]...)
}
