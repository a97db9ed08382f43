package audio_test

import (
	"fmt"
	"math"

	"github.com/fadam-go/fadam/audio"
)

func Example() {
	// One second of a 440 Hz tone at 22.05 kHz, as a synthesiser would produce.
	tone := make([]float32, 22050)
	for i := range tone {
		tone[i] = float32(0.3 * math.Sin(2*math.Pi*440*float64(i)/22050))
	}
	x, err := audio.Resample(tone, 22050, 16000)
	if err != nil {
		panic(err)
	}
	lm, err := audio.NewLogMel(audio.DefaultMelConfig())
	if err != nil {
		panic(err)
	}
	feat := lm.Compute(x)
	frames := lm.Frames(len(x))
	audio.NormalizeUtterance(feat, frames, lm.Config.Mels)
	fmt.Println(len(x), "samples,", frames, "frames of", lm.Config.Mels, "log-mel bands")
	// Output: 16000 samples, 98 frames of 40 log-mel bands
}
