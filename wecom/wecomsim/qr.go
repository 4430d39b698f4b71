package wecomsim

import (
	"bytes"
	"crypto/sha256"
	"image"
	"image/color"
	"image/png"
	"net/http"
)

// serveQR answers a qr_code URL with a PNG that looks like a QR code. It is
// not a scannable code (there is no WeChat to scan it with); it gives the
// console and demo a real image to show, and its pattern differs per code.
func (s *Sim) serveQR(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	s.mu.Lock()
	_, ok := s.st.qr[token]
	s.mu.Unlock()
	if !ok {
		writeCtlError(w, notFound("token", "unknown qr code"))
		return
	}
	const modules, scale, quiet = 25, 8, 4
	size := (modules + 2*quiet) * scale
	img := image.NewPaletted(image.Rect(0, 0, size, size), color.Palette{color.White, color.Black})
	seed := sha256.Sum256([]byte(token))
	bit := func(x, y int) bool {
		i := (y*modules + x) % (len(seed) * 8)
		return seed[i/8]>>(i%8)&1 == 1 != ((x*7+y*13)%5 == 0)
	}
	finder := func(x, y, ox, oy int) (bool, bool) {
		dx, dy := x-ox, y-oy
		if dx < 0 || dy < 0 || dx > 7 || dy > 7 {
			return false, false
		}
		if dx == 7 || dy == 7 {
			return true, false
		}
		ring := max(abs(dx-3), abs(dy-3))
		return true, ring != 2
	}
	for y := 0; y < modules; y++ {
		for x := 0; x < modules; x++ {
			dark := bit(x, y)
			for _, o := range [][2]int{{0, 0}, {modules - 7, 0}, {0, modules - 7}} {
				ox, oy := o[0], o[1]
				if ox > 0 {
					ox--
				}
				if oy > 0 {
					oy--
				}
				if in, d := finder(x, y, ox, oy); in {
					dark = d
				}
			}
			if !dark {
				continue
			}
			for py := 0; py < scale; py++ {
				for px := 0; px < scale; px++ {
					img.SetColorIndex((x+quiet)*scale+px, (y+quiet)*scale+py, 1)
				}
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	w.Write(b.Bytes())
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
