package display

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Rate is the sample rate of announcements: espeak-ng's, so its voice
// needs no resampling.
const Rate = 22050

// PCM is mono 16-bit audio at Rate.
type PCM []int16

// Duration is how long the audio plays.
func (p PCM) Duration() time.Duration { return time.Duration(len(p)) * time.Second / Rate }

// RMS is the audio's loudness, 0 for silence, 32767 at most.
func (p PCM) RMS() float64 {
	if len(p) == 0 {
		return 0
	}
	var sum float64
	for _, s := range p {
		sum += float64(s) * float64(s)
	}
	return math.Sqrt(sum / float64(len(p)))
}

// WAV encodes the audio as a RIFF WAVE file.
func (p PCM) WAV() []byte {
	data := len(p) * 2
	b := make([]byte, 0, 44+data)
	le := binary.LittleEndian
	b = append(b, "RIFF"...)
	b = le.AppendUint32(b, uint32(36+data))
	b = append(b, "WAVEfmt "...)
	b = le.AppendUint32(b, 16)     // fmt chunk size
	b = le.AppendUint16(b, 1)      // PCM
	b = le.AppendUint16(b, 1)      // mono
	b = le.AppendUint32(b, Rate)   // samples per second
	b = le.AppendUint32(b, Rate*2) // bytes per second
	b = le.AppendUint16(b, 2)      // bytes per frame
	b = le.AppendUint16(b, 16)     // bits per sample
	b = append(b, "data"...)
	b = le.AppendUint32(b, uint32(data))
	for _, s := range p {
		b = le.AppendUint16(b, uint16(s))
	}
	return b
}

// ParseWAV reads a mono 16-bit PCM WAVE file at Rate.
func ParseWAV(b []byte) (PCM, error) {
	if len(b) < 12 || string(b[:4]) != "RIFF" || string(b[8:12]) != "WAVE" {
		return nil, errors.New("not a WAVE file")
	}
	var channels, bits uint16
	var rate uint32
	for i := 12; i+8 <= len(b); {
		id, size := string(b[i:i+4]), int(binary.LittleEndian.Uint32(b[i+4:i+8]))
		body := b[i+8:]
		if size > len(body) || size < 0 {
			size = len(body) // espeak-ng writing to a pipe leaves the size unset
		}
		switch id {
		case "fmt ":
			if size < 16 {
				return nil, errors.New("short fmt chunk")
			}
			if f := binary.LittleEndian.Uint16(body[0:]); f != 1 {
				return nil, fmt.Errorf("WAVE format %d is not PCM", f)
			}
			channels, rate, bits = binary.LittleEndian.Uint16(body[2:]), binary.LittleEndian.Uint32(body[4:]), binary.LittleEndian.Uint16(body[14:])
		case "data":
			if channels != 1 || bits != 16 || rate != Rate {
				return nil, fmt.Errorf("WAVE of %d channels, %d bits, %d Hz: want mono 16-bit %d Hz", channels, bits, rate, Rate)
			}
			p := make(PCM, size/2)
			binary.Read(bytes.NewReader(body[:size/2*2]), binary.LittleEndian, p)
			return p, nil
		}
		i += 8 + size + size%2
	}
	return nil, errors.New("no data in WAVE file")
}

// Chime is a two-note "ding-dong" that makes heads turn before the voice.
func Chime() PCM {
	var p PCM
	for _, note := range []struct {
		hz  float64
		dur time.Duration
	}{{784, 450 * time.Millisecond}, {587, 700 * time.Millisecond}} {
		n := int(note.dur.Seconds() * Rate)
		for i := 0; i < n; i++ {
			t := float64(i) / Rate
			env := math.Exp(-3.5*t) * math.Min(1, float64(i)/200) // soft attack, bell-like decay
			v := 0.6*math.Sin(2*math.Pi*note.hz*t) + 0.2*math.Sin(2*math.Pi*2*note.hz*t)
			p = append(p, int16(v*env*0.55*32767))
		}
	}
	return p
}

// Silence is d of silence.
func Silence(d time.Duration) PCM { return make(PCM, int(d.Seconds()*Rate)) }

// Gain scales the audio by volume, 0 to 100.
func (p PCM) Gain(volume int) PCM {
	f := float64(max(0, min(volume, 100))) / 100
	out := make(PCM, len(p))
	for i, s := range p {
		out[i] = int16(float64(s) * f)
	}
	return out
}
