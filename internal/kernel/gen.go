package kernel

// The assembly and its Go declarations and stubs are generated from the
// scripts in asmgen, one per kernel file, on the emitter asmgen/emit.py
// (Python 3 standard library only). Run go generate ./... from the module
// root after editing one; see "Assembly" in doc.go.

//go:generate python3 -B asmgen/adam.py
//go:generate python3 -B asmgen/convdw.py
//go:generate python3 -B asmgen/dot.py
//go:generate python3 -B asmgen/gemm.py
//go:generate python3 -B asmgen/gemm512.py
//go:generate python3 -B asmgen/im2col.py
//go:generate python3 -B asmgen/pack.py
//go:generate python3 -B asmgen/pool.py
//go:generate python3 -B asmgen/rows.py
//go:generate python3 -B asmgen/vec.py
//go:generate python3 -B asmgen/convdw512.py
//go:generate python3 -B asmgen/dot512.py
//go:generate python3 -B asmgen/pool512.py
//go:generate python3 -B asmgen/direct512.py
