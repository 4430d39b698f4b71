package poster

import (
	"bytes"
	"encoding/binary"
	"image/color"
	"image/png"
	"strings"
	"testing"

	"github.com/skip2/go-qrcode"
	"golang.org/x/image/font/sfnt"
)

func TestPosterIsA5At300DPIWithAnIntactQR(t *testing.T) {
	const url = "https://scrm.example.com/c/abcdef"
	q, err := qrcode.New(url, qrcode.Medium)
	if err != nil {
		t.Fatal(err)
	}
	q.DisableBorder = true
	p := Poster{Title: "春季展会 · 添加顾问", Text: "扫码添加专属顾问，领取展会资料和专属优惠", Instruction: "微信扫一扫，添加专属顾问",
		Footer: "活码 #12", QR: q.Image(256)}
	out, err := Render(p)
	if err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(bytes.NewReader(out))
	if err != nil {
		t.Fatal(err)
	}
	if b := img.Bounds(); b.Dx() != Width || b.Dy() != Height || Width*10/Height != 148*10/210 {
		t.Fatalf("size %v, want %d×%d (A5)", b, Width, Height)
	}
	// The pHYs chunk says 300 dpi (11811 pixels per metre) on both axes.
	i := bytes.Index(out, []byte("pHYs"))
	if i < 0 || binary.BigEndian.Uint32(out[i+4:]) != 11811 || binary.BigEndian.Uint32(out[i+8:]) != 11811 || out[i+12] != 1 {
		t.Fatalf("no 300 dpi pHYs chunk")
	}

	// Every module of the QR lands where it belongs, in its colour.
	_, rect, err := render(p)
	if err != nil {
		t.Fatal(err)
	}
	if rect.Dx() < 1000 || rect.Dx() != rect.Dy() {
		t.Fatalf("QR square %v: want at least 1000 px (about 85 mm)", rect)
	}
	bits := q.Bitmap()
	n := len(bits)
	for r := 0; r < n; r++ {
		for c := 0; c < n; c++ {
			x := rect.Min.X + (2*c+1)*rect.Dx()/(2*n)
			y := rect.Min.Y + (2*r+1)*rect.Dy()/(2*n)
			dark := gray(img.At(x, y)) < 128
			if dark != bits[r][c] {
				t.Fatalf("module (%d,%d) is dark=%v, want %v", r, c, dark, bits[r][c])
			}
		}
	}

	// The title is drawn: the header band holds both its colour and the
	// paper colour of the letters.
	var band, letters int
	for x := 0; x < Width; x++ {
		switch img.At(x, 232-40) {
		case color.Color(brand):
			band++
		case color.Color(paper):
			letters++
		}
	}
	if band == 0 || letters == 0 {
		t.Fatalf("header band %d px, title %d px", band, letters)
	}
}

func gray(c color.Color) int {
	r, g, b, _ := c.RGBA()
	return int((r + g + b) / 3 >> 8)
}

// The fonts hold every character the posters set themselves, common Chinese
// characters of titles, and Latin letters, digits and punctuation.
func TestFontCoversThePostersText(t *testing.T) {
	if _, err := face(10); err != nil {
		t.Fatal(err)
	}
	var buf sfnt.Buffer
	for _, s := range []string{"微信扫一扫，添加专属顾问", "微信扫一扫，加入群聊", "微信扫一扫，添加离您最近的门店顾问", "微信扫一扫，加入离您最近的门店群",
		"春季展会新品发布会·报名领取优惠券（限时）", "ABC abc 0123 !?%&@#", "…"} {
		for _, r := range s {
			found := false
			for _, f := range fonts {
				if g, err := f.GlyphIndex(&buf, r); err == nil && g != 0 {
					found = true
				}
			}
			if !found {
				t.Errorf("no glyph for %q", r)
			}
		}
	}
}

func TestWrapKeepsLatinWordsAndClipsTheLastLine(t *testing.T) {
	f, err := face(64)
	if err != nil {
		t.Fatal(err)
	}
	lines := wrap(f, "Spring expo welcome 春季展会欢迎您", 600, 5)
	for _, l := range lines {
		if strings.HasPrefix(l, "pring") || strings.HasSuffix(l, "Sp") {
			t.Fatalf("a Latin word was broken: %q", lines)
		}
	}
	long := wrap(f, strings.Repeat("展会", 200), 600, 2)
	if len(long) != 2 || !strings.HasSuffix(long[1], "…") {
		t.Fatalf("long text = %q", long)
	}
	if _, err := Render(Poster{}); err == nil {
		t.Fatal("a poster without a title was drawn")
	}
}
