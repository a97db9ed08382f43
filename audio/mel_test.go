package audio

import (
	"math"
	"math/cmplx"
	"testing"
)

func TestHTKMel(t *testing.T) {
	for _, tc := range []struct{ hz, mel float64 }{{0, 0}, {700, 2595 * math.Log10(2)}, {1000, 999.9855}} {
		if got := HTKMel(tc.hz); math.Abs(got-tc.mel) > 1e-3 {
			t.Errorf("HTKMel(%g) = %g, want %g", tc.hz, got, tc.mel)
		}
		if got := HTKMelToHz(HTKMel(tc.hz)); math.Abs(got-tc.hz) > 1e-9 {
			t.Errorf("round trip of %g Hz gave %g", tc.hz, got)
		}
	}
}

func TestMelFilterbank(t *testing.T) {
	c := DefaultMelConfig()
	fb, err := MelFilterbank(c)
	if err != nil {
		t.Fatal(err)
	}
	binHz := float64(c.SampleRate) / float64(c.FFTSize)
	lo, hi := HTKMel(c.FMin), HTKMel(c.FMax)
	prevPeak := -1
	for m, f := range fb {
		if len(f) != c.FFTSize/2+1 {
			t.Fatalf("filter %d has %d bins", m, len(f))
		}
		peak, nonzero := 0, 0
		for k, w := range f {
			if w < 0 || w > 1 {
				t.Fatalf("filter %d bin %d weight %g outside [0,1]", m, k, w)
			}
			if w > f[peak] {
				peak = k
			}
			if w > 0 {
				nonzero++
			}
		}
		if nonzero == 0 {
			t.Fatalf("filter %d is empty", m)
		}
		if peak < prevPeak {
			t.Fatalf("filter %d peaks at bin %d, before filter %d's %d", m, peak, m-1, prevPeak)
		}
		prevPeak = peak
		// The peak sits within one bin of the mel-spaced centre.
		centre := HTKMelToHz(lo + (hi-lo)*float64(m+1)/float64(c.Mels+1))
		if math.Abs(float64(peak)*binHz-centre) > binHz {
			t.Errorf("filter %d peaks at %g Hz, centre %g Hz", m, float64(peak)*binHz, centre)
		}
	}
	// Between the first and last centres the weights of each bin sum to 1 (partition of unity).
	first, last := HTKMelToHz(lo+(hi-lo)/float64(c.Mels+1)), HTKMelToHz(lo+(hi-lo)*float64(c.Mels)/float64(c.Mels+1))
	for k := range fb[0] {
		f := float64(k) * binHz
		if f <= first || f >= last {
			continue
		}
		s := 0.0
		for m := range fb {
			s += fb[m][k]
		}
		if math.Abs(s-1) > 1e-9 {
			t.Fatalf("bin %d (%g Hz): weights sum to %g", k, f, s)
		}
	}
	if _, err := MelFilterbank(MelConfig{SampleRate: 16000, FrameLen: 400, Hop: 160, FFTSize: 256, Mels: 40, FMax: 8000}); err == nil {
		t.Error("FFT size below frame length accepted")
	}
	if _, err := MelFilterbank(MelConfig{SampleRate: 16000, FrameLen: 400, Hop: 160, FFTSize: 512, Mels: 40, FMax: 9000}); err == nil {
		t.Error("FMax above Nyquist accepted")
	}
}

// TestPowerSpectrumMatchesDFT checks the FFT path against a direct O(n²) DFT of the same
// windowed, zero-padded frame of a sine.
func TestPowerSpectrumMatchesDFT(t *testing.T) {
	c := DefaultMelConfig()
	l, err := NewLogMel(c)
	if err != nil {
		t.Fatal(err)
	}
	const hz = 1000.0
	frame := make([]float32, c.FrameLen)
	for i := range frame {
		frame[i] = float32(0.7 * math.Sin(2*math.Pi*hz*float64(i)/float64(c.SampleRate)+0.3))
	}
	p := l.PowerSpectrum(frame)
	maxP, peak := 0.0, 0
	for k := range p {
		var z complex128
		for i := range c.FrameLen {
			w := 0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/float64(c.FrameLen))
			z += complex(float64(frame[i])*w, 0) * cmplx.Exp(complex(0, -2*math.Pi*float64(k*i)/float64(c.FFTSize)))
		}
		want := real(z)*real(z) + imag(z)*imag(z)
		if math.Abs(p[k]-want) > 1e-9*(1+want) {
			t.Fatalf("bin %d: FFT power %g, DFT %g", k, p[k], want)
		}
		if p[k] > maxP {
			maxP, peak = p[k], k
		}
	}
	if want := int(math.Round(hz * float64(c.FFTSize) / float64(c.SampleRate))); peak != want {
		t.Fatalf("peak at bin %d, want %d", peak, want)
	}
}

func TestLogMelAndNormalize(t *testing.T) {
	c := DefaultMelConfig()
	l, err := NewLogMel(c)
	if err != nil {
		t.Fatal(err)
	}
	// 0.5 s of a 1 kHz tone followed by digital silence.
	s := make([]float32, 16000)
	for i := range 8000 {
		s[i] = float32(0.5 * math.Sin(2*math.Pi*1000*float64(i)/16000))
	}
	n := l.Frames(len(s))
	if n != 98 {
		t.Fatalf("%d frames, want 98", n)
	}
	feat := l.Compute(s)
	if len(feat) != n*c.Mels {
		t.Fatalf("len %d", len(feat))
	}
	// The band whose centre is nearest 1 kHz is the loudest in a tone frame.
	lo, hi := HTKMel(c.FMin), HTKMel(c.FMax)
	best := 0
	for m := range c.Mels {
		if math.Abs(HTKMelToHz(lo+(hi-lo)*float64(m+1)/float64(c.Mels+1))-1000) <
			math.Abs(HTKMelToHz(lo+(hi-lo)*float64(best+1)/float64(c.Mels+1))-1000) {
			best = m
		}
	}
	row := feat[10*c.Mels : 11*c.Mels]
	for m, v := range row {
		if v > row[best] {
			t.Fatalf("band %d (%g) louder than the 1 kHz band %d (%g)", m, v, best, row[best])
		}
	}
	if got := feat[90*c.Mels]; got != float32(math.Log(logFloor)) {
		t.Fatalf("silent frame gives %g, want log floor", got)
	}
	NormalizeUtterance(feat, n, c.Mels)
	for m := range c.Mels {
		var s1, s2 float64
		for f := range n {
			v := float64(feat[f*c.Mels+m])
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatal("non-finite feature")
			}
			s1 += v
			s2 += v * v
		}
		if mean, vr := s1/float64(n), s2/float64(n)-(s1/float64(n))*(s1/float64(n)); math.Abs(mean) > 1e-5 || math.Abs(vr-1) > 1e-4 {
			t.Fatalf("band %d: mean %g variance %g after normalisation", m, mean, vr)
		}
	}
	if l.Frames(399) != 0 || len(l.Compute(make([]float32, 10))) != 0 {
		t.Fatal("short input should give no frames")
	}
}

func TestResample(t *testing.T) {
	tone := func(hz float64, rate, n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = float32(math.Sin(2 * math.Pi * hz * float64(i) / float64(rate)))
		}
		return x
	}
	// A 1 kHz tone at 22.05 kHz becomes the same tone at 16 kHz (away from the edges).
	y, err := Resample(tone(1000, 22050, 22050), 22050, 16000)
	if err != nil {
		t.Fatal(err)
	}
	if len(y) != 16000 {
		t.Fatalf("%d samples, want 16000", len(y))
	}
	want := tone(1000, 16000, 16000)
	for i := 200; i < 15800; i++ {
		if d := math.Abs(float64(y[i] - want[i])); d > 2e-3 {
			t.Fatalf("sample %d: %g, want %g", i, y[i], want[i])
		}
	}
	// A 10 kHz tone lies above the new Nyquist frequency and is removed, not aliased.
	z, _ := Resample(tone(10000, 22050, 22050), 22050, 16000)
	for i := 200; i < 15800; i++ {
		if math.Abs(float64(z[i])) > 0.02 {
			t.Fatalf("sample %d of a filtered 10 kHz tone is %g", i, z[i])
		}
	}
	// The polyphase table and direct evaluation agree.
	x := tone(440, 22050, 3000)
	for i := range x {
		x[i] += float32(math.Sin(float64(i) * 0.37))
	}
	a, b := resample(x, 22050, 16000, true), resample(x, 22050, 16000, false)
	for i := range a {
		if math.Abs(float64(a[i]-b[i])) > 1e-5 {
			t.Fatalf("sample %d: polyphase %g, direct %g", i, a[i], b[i])
		}
	}
	if _, err := Resample(y, 0, 16000); err == nil {
		t.Fatal("zero rate accepted")
	}
}
