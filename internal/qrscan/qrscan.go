// Package qrscan reads the QR code of a printed ticket the way a phone
// does: from several frames. A phone's camera sees the ticket at a new size
// in every frame and needs one good read; ZXing-family decoders (gozxing
// here) misplace their finder patterns on a few perfectly sharp images at
// one exact scale, and read the same code at another (see zxing#1900: "the
// primary use case is decoding from a camera where you can just try again
// on the next image"). Scan tries the image as printed, then as a camera
// further away would see it. Tests use it to check that what the kiosk
// printed scans, and says what was sent.
package qrscan

import (
	"errors"
	"fmt"
	"image"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

// scales are the frames tried: the printed image, then reduced by 2, 3, 4.
var scales = []int{1, 2, 3, 4}

// Scan returns the text of the QR code in img, from the first frame that
// reads it; an error if none does.
func Scan(img image.Image) (string, error) {
	var errs []error
	for _, n := range scales {
		text, err := scan(shrink(img, n))
		if err == nil {
			return text, nil
		}
		errs = append(errs, fmt.Errorf("at 1/%d: %w", n, err))
	}
	return "", fmt.Errorf("the QR code does not scan: %w", errors.Join(errs...))
}

func scan(img image.Image) (string, error) {
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		return "", err
	}
	res, err := qrcode.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		return "", err
	}
	return res.GetText(), nil
}

// shrink averages n×n blocks of img into a grey image (n 1: img itself).
func shrink(img image.Image, n int) image.Image {
	if n == 1 {
		return img
	}
	b := img.Bounds()
	out := image.NewGray(image.Rect(0, 0, b.Dx()/n, b.Dy()/n))
	for y := 0; y < out.Rect.Dy(); y++ {
		for x := 0; x < out.Rect.Dx(); x++ {
			var sum uint32
			for dy := 0; dy < n; dy++ {
				for dx := 0; dx < n; dx++ {
					r, g, bl, _ := img.At(b.Min.X+n*x+dx, b.Min.Y+n*y+dy).RGBA()
					sum += (r + g + bl) / 3 >> 8
				}
			}
			out.Pix[y*out.Stride+x] = uint8(sum / uint32(n*n))
		}
	}
	return out
}
