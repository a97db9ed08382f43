package gradcheck

import "testing"

func TestCheckFindsCorrectAndWrongGradients(t *testing.T) {
	x := []float32{0.5, -1.25, 2}
	loss := func() float64 { // Σ x³
		s := 0.0
		for _, v := range x {
			s += float64(v) * float64(v) * float64(v)
		}
		return s
	}
	good := []float32{3 * 0.25, 3 * 1.5625, 3 * 4}
	r, err := Check(loss, x, good, 1e-3, 0, 1)
	if err != nil {
		t.Fatal(err)
	}
	if r.MaxRelErr > 1e-4 {
		t.Fatalf("correct gradient rejected: %+v", r)
	}
	bad := []float32{3 * 0.25, 3 * 1.5625, 2 * 4}
	r, _ = Check(loss, x, bad, 1e-3, 0, 1)
	if r.MaxRelErr < 0.1 || r.Index != 2 {
		t.Fatalf("wrong gradient not found: %+v", r)
	}
	if x[0] != 0.5 || x[1] != -1.25 || x[2] != 2 {
		t.Fatalf("x not restored: %v", x)
	}
	if _, err := Check(loss, x, good[:2], 1e-3, 0, 1); err == nil {
		t.Fatal("length mismatch accepted")
	}
}

func TestDirectionalFindsCorrectAndWrongGradients(t *testing.T) {
	x := []float32{0.5, -1.25, 2, 0.75}
	loss := func() float64 { // Σ x³
		s := 0.0
		for _, v := range x {
			s += float64(v) * float64(v) * float64(v)
		}
		return s
	}
	good := []float32{3 * 0.25, 3 * 1.5625, 3 * 4, 3 * 0.5625}
	ana, num, err := Directional(loss, x, good, 1e-3, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Σ 3x²·(±h), h = 1e-3: at most 3·(0.25+1.5625+4+0.5625)·1e-3 in size, never 0 for these
	// magnitudes whatever the signs.
	if ana == 0 || abs(ana-num) > 1e-6*abs(ana) {
		t.Fatalf("correct gradient: analytic %v, numeric %v", ana, num)
	}
	bad := []float32{3 * 0.25, 3 * 1.5625, 2 * 4, 3 * 0.5625}
	ana, num, _ = Directional(loss, x, bad, 1e-3, 1)
	if abs(ana-num) < 1e-2*abs(num) {
		t.Fatalf("wrong gradient not found: analytic %v, numeric %v", ana, num)
	}
	if x[0] != 0.5 || x[1] != -1.25 || x[2] != 2 || x[3] != 0.75 {
		t.Fatalf("x not restored: %v", x)
	}
	if _, _, err := Directional(loss, x, good[:2], 1e-3, 1); err == nil {
		t.Fatal("length mismatch accepted")
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}
