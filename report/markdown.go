package report

import (
	"bufio"
	"fmt"
	"os"
	"runtime"
	"strings"
)

// Table is a Markdown table: a header row and data rows of cells. Rows shorter than the header
// are padded with empty cells.
type Table struct {
	Header []string
	Rows   [][]string
}

// Markdown renders the table in GitHub-flavoured Markdown, with columns padded to line up and
// "|" in cells escaped.
func (t Table) Markdown() string {
	ncol := len(t.Header)
	for _, r := range t.Rows {
		ncol = max(ncol, len(r))
	}
	if ncol == 0 {
		return ""
	}
	cell := func(row []string, j int) string {
		if j < len(row) {
			return strings.ReplaceAll(strings.ReplaceAll(row[j], "|", `\|`), "\n", " ")
		}
		return ""
	}
	width := make([]int, ncol)
	for j := range width {
		width[j] = max(3, len([]rune(cell(t.Header, j))))
		for _, r := range t.Rows {
			width[j] = max(width[j], len([]rune(cell(r, j))))
		}
	}
	var b strings.Builder
	line := func(row []string) {
		b.WriteString("|")
		for j := range width {
			c := cell(row, j)
			b.WriteString(" " + c + strings.Repeat(" ", width[j]-len([]rune(c))) + " |")
		}
		b.WriteString("\n")
	}
	line(t.Header)
	b.WriteString("|")
	for _, w := range width {
		b.WriteString(" " + strings.Repeat("-", w) + " |")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		line(r)
	}
	return b.String()
}

// MachineInfo describes the computer a report was produced on.
type MachineInfo struct {
	CPU        string // model name from /proc/cpuinfo, or "unknown"
	Cores      int    // logical CPUs usable by the process (runtime.NumCPU)
	GOMAXPROCS int
	GoVersion  string
	OS, Arch   string
}

// Machine describes the current machine.
func Machine() MachineInfo {
	return MachineInfo{
		CPU:        cpuModel("/proc/cpuinfo"),
		Cores:      runtime.NumCPU(),
		GOMAXPROCS: runtime.GOMAXPROCS(0),
		GoVersion:  runtime.Version(),
		OS:         runtime.GOOS,
		Arch:       runtime.GOARCH,
	}
}

// cpuModel returns the first "model name" in a cpuinfo file, or "unknown".
func cpuModel(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return "unknown"
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if ok && strings.TrimSpace(key) == "model name" {
			if v := strings.Join(strings.Fields(val), " "); v != "" {
				return v
			}
		}
	}
	return "unknown"
}

// String gives a one-line description, e.g.
// "AMD EPYC 7B13, 2 cores, GOMAXPROCS=2, go1.26.8 linux/amd64".
func (m MachineInfo) String() string {
	return fmt.Sprintf("%s, %d cores, GOMAXPROCS=%d, %s %s/%s", m.CPU, m.Cores, m.GOMAXPROCS, m.GoVersion, m.OS, m.Arch)
}

// Doc builds a Markdown document piece by piece. The zero value is an empty document.
type Doc struct {
	b strings.Builder
}

func (d *Doc) block(s string) {
	if d.b.Len() > 0 {
		d.b.WriteString("\n")
	}
	d.b.WriteString(strings.TrimRight(s, "\n"))
	d.b.WriteString("\n")
}

// Heading adds a heading of the given level (1 for "#").
func (d *Doc) Heading(level int, text string) {
	d.block(strings.Repeat("#", min(max(level, 1), 6)) + " " + text)
}

// Para adds a paragraph; the arguments are formatted as by fmt.Sprintf.
func (d *Doc) Para(format string, args ...any) { d.block(fmt.Sprintf(format, args...)) }

// Table adds a table.
func (d *Doc) Table(t Table) { d.block(t.Markdown()) }

// Image adds an image link; path is usually relative to the document.
func (d *Doc) Image(alt, path string) { d.block(fmt.Sprintf("![%s](%s)", alt, path)) }

// Code adds a fenced code block, for example the command line that produced the report.
func (d *Doc) Code(text string) { d.block("```\n" + strings.TrimRight(text, "\n") + "\n```") }

// Machine adds a line describing the machine.
func (d *Doc) Machine(m MachineInfo) { d.block("Machine: " + m.String() + ".") }

// String returns the document so far.
func (d *Doc) String() string { return d.b.String() }

// WriteFile writes the document to path atomically.
func (d *Doc) WriteFile(path string) error { return WriteFileAtomic(path, []byte(d.String())) }
