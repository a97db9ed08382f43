package report_test

import (
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/fadam-go/fadam/report"
)

func Example() {
	// Final validation losses of two optimizers over three seeds each.
	final := map[string][]float64{
		"fadam": {2.31, 2.29, 2.33},
		"adamw": {2.41, 2.38, 2.44},
	}
	t := report.Table{Header: []string{"optimizer", "final loss"}}
	for _, name := range []string{"fadam", "adamw"} {
		t.Rows = append(t.Rows, []string{name, report.MeanStdString(final[name], 3)})
	}
	fmt.Print(t.Markdown())
	// Output:
	// | optimizer | final loss    |
	// | --------- | ------------- |
	// | fadam     | 2.310 ± 0.020 |
	// | adamw     | 2.410 ± 0.030 |
}

func ExampleLinePlot() {
	dir, err := os.MkdirTemp("", "report")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// One curve per seed; the plot shows their mean and a min–max band.
	var runs []report.Curve
	for seed := range 3 {
		c := report.Curve{}
		for step := 0; step <= 100; step += 20 {
			c.X = append(c.X, float64(step))
			c.Y = append(c.Y, 3/(1+float64(step)/50)+0.05*float64(seed))
		}
		runs = append(runs, c)
	}
	lp := report.LinePlot{
		Title: "Validation loss", XLabel: "step", YLabel: "loss (nats/byte)",
		Series: []report.Series{{Name: "fadam", Runs: runs}},
	}
	p, err := lp.Plot()
	if err != nil {
		log.Fatal(err)
	}
	if err := report.SavePlot(p, filepath.Join(dir, "loss")); err != nil {
		log.Fatal(err)
	}
	_, errSVG := os.Stat(filepath.Join(dir, "loss.svg"))
	_, errPNG := os.Stat(filepath.Join(dir, "loss.png"))
	fmt.Println(errSVG == nil, errPNG == nil)
	// Output: true true
}
