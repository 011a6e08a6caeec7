package nn

import (
	"math/rand/v2"
	"sync"
)

// source is the process-wide random source of initializers and of new Dropout layers. Layers
// draw from it once, when they are created, so a program that builds its network in a fixed
// order after Seed gets the same weights every run.
var source = struct {
	sync.Mutex
	rng *rand.Rand
}{rng: rand.New(rand.NewPCG(0x6f6172, 1))}

// Seed reseeds the source that initializers and new Dropout layers draw from (oar.Seed calls it).
func Seed(n uint64) {
	source.Lock()
	defer source.Unlock()
	source.rng = rand.New(rand.NewPCG(n, 0x6f6172))
}

// withRand runs fn with the shared source, under its lock.
func withRand(fn func(rng *rand.Rand)) {
	source.Lock()
	defer source.Unlock()
	fn(source.rng)
}

// newSeed draws a seed for a layer's own generator from the shared source.
func newSeed() (s uint64) {
	withRand(func(rng *rand.Rand) { s = rng.Uint64() })
	return s
}
