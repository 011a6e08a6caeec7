package kernel

import "testing"

func TestParseMaxISA(t *testing.T) {
	for s, want := range map[string]isa{"": isaAVX512, "avx512": isaAVX512, "avx2": isaAVX2, "generic": isaGeneric} {
		if got := parseMaxISA(s); got != want {
			t.Errorf("parseMaxISA(%q) = %v, want %v", s, got, want)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("parseMaxISA(\"sse\") did not panic")
		}
	}()
	parseMaxISA("sse")
}
