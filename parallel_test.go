package fadam

import (
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// TestParallelRunner checks that run calls every index exactly once, on the serial path and on
// the parallel one, with helpers joining calls while they poll and after they have exited.
func TestParallelRunner(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	var r parallelRunner
	for _, c := range []struct {
		n, work int
		pause   time.Duration // between calls: 0 keeps the helpers polling, 2·helperSpin lets them exit
	}{{0, 1 << 30, 0}, {1, 1 << 30, 0}, {7, 0, 0}, {7, 1 << 30, 0}, {100, 1 << 30, 0}, {100, 1 << 30, 2 * helperSpin}, {3, 1 << 30, 2 * helperSpin}} {
		for rep := range 20 {
			counts := make([]atomic.Int32, c.n)
			r.run(c.n, c.work, func(i int) { counts[i].Add(1) })
			for i := range counts {
				if got := counts[i].Load(); got != 1 {
					t.Fatalf("n=%d work=%d call %d: index %d ran %d times", c.n, c.work, rep, i, got)
				}
			}
			time.Sleep(c.pause)
		}
	}
}

// TestParallelRunnerIdleExit checks that the helpers exit once no work has come for helperSpin,
// so that an idle or dropped runner holds no goroutine.
func TestParallelRunnerIdleExit(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(4))
	before := runtime.NumGoroutine()
	var r parallelRunner
	for range 10 {
		r.run(64, 1<<30, func(int) {})
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.live.Load() != 0 || runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			t.Fatalf("helpers still live after 5 s: live=%d, goroutines %d before, %d now", r.live.Load(), before, runtime.NumGoroutine())
		}
		time.Sleep(time.Millisecond)
	}
}

// BenchmarkParallelThreshold times a FAdam step on GPT-shaped layouts of several sizes with the
// step forced onto one goroutine ("serial") and forced onto all ("parallel"), with the helpers
// either still polling from the previous step ("warm", a tight loop of steps) or exited
// ("cold", 1 ms between steps outside the timer, with the other CPU idle), and with the
// threshold as set ("auto"). The size at which parallel overtakes serial sets minParallelWork.
//
//	go test -run '^$' -bench ParallelThreshold -benchtime 200x -count 3 .
func BenchmarkParallelThreshold(b *testing.B) {
	saved := minParallelWork
	defer func() { minParallelWork = saved }()
	for _, size := range []struct{ d, layers int }{{32, 2}, {64, 2}, {64, 4}, {128, 2}, {128, 4}, {192, 4}} {
		ps := thresholdParams(size.d, size.layers)
		n := 0
		for _, p := range ps {
			n += len(p.Value)
		}
		for _, mode := range []string{"serial", "parallel", "auto"} {
			for _, cold := range []bool{false, true} {
				name := fmt.Sprintf("d%d-L%d-%dk/%s/warm", size.d, size.layers, n/1000, mode)
				if cold {
					name = name[:len(name)-4] + "cold"
				}
				b.Run(name, func(b *testing.B) {
					switch mode {
					case "serial":
						minParallelWork = 1 << 62
					case "parallel":
						minParallelWork = 0
					default:
						minParallelWork = saved
					}
					o, err := New(Defaults())
					if err != nil {
						b.Fatal(err)
					}
					if err := o.Step(ps); err != nil {
						b.Fatal(err)
					}
					for b.Loop() {
						if cold {
							b.StopTimer()
							time.Sleep(time.Millisecond)
							b.StartTimer()
						}
						if err := o.Step(ps); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
	}
}

// thresholdParams is the parameter set of a GPT of width d with the given number of layers
// (vocabulary 256, context 64), as the training benchmarks build it.
func thresholdParams(d, layers int) []Param {
	shapes := [][]int{{256, d}, {64, d}}
	for range layers {
		shapes = append(shapes, []int{d}, []int{d}, []int{d, 3 * d}, []int{3 * d}, []int{d, d}, []int{d},
			[]int{d}, []int{d}, []int{d, 4 * d}, []int{4 * d}, []int{4 * d, d}, []int{d})
	}
	shapes = append(shapes, []int{d}, []int{d})
	ps := make([]Param, len(shapes))
	for i, s := range shapes {
		n := 1
		for _, x := range s {
			n *= x
		}
		p := Param{Name: fmt.Sprint("p", i), Shape: s, Value: make([]float32, n), Grad: make([]float32, n)}
		for j := range p.Grad {
			p.Value[j] = float32(j%13) * 0.01
			p.Grad[j] = float32(j%7-3) * 0.001
		}
		ps[i] = p
	}
	return ps
}
