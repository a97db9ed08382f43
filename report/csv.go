package report

import (
	"bytes"
	"encoding/csv"
	"fmt"
)

// WriteCSV writes a header row and data rows to path as CSV (RFC 4180, via encoding/csv),
// atomically. Every row must have as many fields as the header.
func WriteCSV(path string, header []string, rows [][]string) error {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(header); err != nil {
		return fmt.Errorf("report: CSV %s: %w", path, err)
	}
	for i, r := range rows {
		if len(r) != len(header) {
			return fmt.Errorf("report: CSV %s: row %d has %d fields, the header has %d", path, i, len(r), len(header))
		}
		if err := w.Write(r); err != nil {
			return fmt.Errorf("report: CSV %s: %w", path, err)
		}
	}
	w.Flush()
	if err := w.Error(); err != nil {
		return fmt.Errorf("report: CSV %s: %w", path, err)
	}
	return WriteFileAtomic(path, buf.Bytes())
}
