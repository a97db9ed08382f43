//go:build amd64 && !purego

package gemm

// cpuid executes CPUID with EAX = leaf and ECX = sub.
//
//go:noescape
func cpuid(leaf, sub uint32) (eax, ebx, ecx, edx uint32)

// l2Size returns the size in bytes of the L2 cache of the core running it, from CPUID's
// deterministic cache parameters (leaf 4 on Intel, 0x8000001D on AMD, which share one
// layout), or 0 where the CPU does not report it.
func l2Size() int {
	maxBasic, b, c, d := cpuid(0, 0)
	leaf := uint32(4)
	if b == 0x68747541 && d == 0x69746e65 && c == 0x444d4163 { // "AuthenticAMD"
		// Leaf 0x8000001D needs the topology extensions (CPUID 0x80000001 ECX bit 22).
		if maxExt, _, _, _ := cpuid(0x80000000, 0); maxExt < 0x8000001d {
			return 0
		}
		if _, _, ecx, _ := cpuid(0x80000001, 0); ecx&(1<<22) == 0 {
			return 0
		}
		leaf = 0x8000001d
	} else if maxBasic < 4 {
		return 0
	}
	for sub := uint32(0); sub < 16; sub++ {
		a, b, c, _ := cpuid(leaf, sub)
		kind, level := a&0x1f, a>>5&7
		if kind == 0 { // no more caches
			break
		}
		if level == 2 && (kind == 1 || kind == 3) { // data or unified
			// ways × partitions × line size × sets
			return int(b>>22+1) * int(b>>12&0x3ff+1) * int(b&0xfff+1) * int(c+1)
		}
	}
	return 0
}

// prefetchRowsTo asks the caches for rows rows of lines cache lines each, starting at p and
// stride floats apart, without waiting for them: into L1 (PREFETCHT0), or into L2 only
// (PREFETCHT1) when l2 is set, leaving L1 to the data in use.
//
//go:noescape
func prefetchRowsTo(p *float32, rows, stride, lines int, l2 bool)

// prefetchRows is prefetchRowsTo into L1.
func prefetchRows(p *float32, rows, stride, lines int) { prefetchRowsTo(p, rows, stride, lines, false) }

// prefetchRowsL2 is prefetchRowsTo into L2.
func prefetchRowsL2(p *float32, rows, stride, lines int) {
	prefetchRowsTo(p, rows, stride, lines, true)
}
