// Package audio turns speech recordings into the features the speech experiment trains on:
// it reads 16-bit PCM mono WAV files, resamples them with a windowed-sinc filter, and computes
// per-utterance normalised log-mel spectrograms (25 ms frames, 10 ms hop, Hann window, FFT from
// gonum's dsp/fourier, triangular filters on the HTK mel scale).
package audio
