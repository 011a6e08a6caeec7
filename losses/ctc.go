package losses

import (
	"math"

	"github.com/oarlab/oar/tensor"
)

// CTC is paddle.nn.CTCLoss, the connectionist temporal classification loss of Paddle's warpctc
// kernel: for each sample, -log of the total probability of the frame-wise alignments that reduce
// to its label sequence (merging repeats, then dropping blanks). As in Paddle, the input is
// unnormalized logits [max_logit_length, batch_size, num_classes+1] (Paddle calls them log_probs,
// but warpctc applies a softmax over the last axis itself); PyTorch's ctc_loss takes
// log-probabilities, so Paddle's loss of x is PyTorch's of log_softmax(x).
//
// Reductions: ReduceMean divides each sample's loss by its label length, then averages over the
// batch (Paddle's and PyTorch's 'mean'); ReduceSum sums; ReduceNone returns the [batch_size]
// per-sample losses. A label length of 0 makes ReduceMean divide by 0, as Paddle does (PyTorch
// divides by max(length, 1)). A sample whose label cannot fit its input length (too few frames for the
// labels and the blanks between repeats) has loss +Inf and passes no gradient.
//
// The loss and its gradient, softmax - posterior per frame, are computed in float64 by the
// forward-backward algorithm in log space, and join the graph as
// loss + grad·(input - stop_gradient(input)) (see BCE): exact, not differentiable twice.
type CTC struct {
	// Blank is the blank class, in [0, num_classes+1); default 0.
	Blank     int
	Reduction Reduction
	// NormByTimes divides each sample's gradient (not its loss) by its input length, as
	// Paddle's norm_by_times; default false.
	NormByTimes bool
}

// NewCTC returns Paddle's default CTCLoss(): blank 0, mean reduction.
func NewCTC() *CTC { return &CTC{} }

// Forward returns the CTC loss of logits [T, N, C] against labels [N, S] (class ids as float32,
// padded beyond each sample's length with anything), using the first inputLengths[n] frames and
// the first labelLengths[n] labels of sample n. It returns shape [] for ReduceMean and ReduceSum
// and [N] for ReduceNone. The labels get no gradient.
//
// It panics if logits is not 3-D, labels is not [N, S], the lengths are not N values with
// 0 <= inputLengths[n] <= T and 0 <= labelLengths[n] <= S, a used label is not an integer class in
// [0, C) other than Blank, Blank is outside [0, C), or Reduction is unknown.
func (l CTC) Forward(logits, labels *tensor.Tensor, inputLengths, labelLengths []int) *tensor.Tensor {
	const op = "CTC"
	checkReduction(op, l.Reduction)
	xs, ls := logits.Shape(), labels.Shape()
	if len(xs) != 3 {
		panicf(op, "logits shape %v: want [max_logit_length, batch_size, num_classes+1]", xs)
	}
	nt, n, c := xs[0], xs[1], xs[2]
	if len(ls) != 2 || ls[0] != n {
		panicf(op, "labels shape %v does not fit logits %v: want [%d, max_label_length]", ls, xs, n)
	}
	if len(inputLengths) != n || len(labelLengths) != n {
		panicf(op, "%d input lengths and %d label lengths for a batch of %d", len(inputLengths), len(labelLengths), n)
	}
	if l.Blank < 0 || l.Blank >= c {
		panicf(op, "blank %d outside [0, %d)", l.Blank, c)
	}
	x, lab := logits.Data(), labels.Data()
	val := make([]float32, n)
	grad := make([]float32, len(x))
	ids := make([]int, 0, ls[1])
	for b := range n {
		tb, lb := inputLengths[b], labelLengths[b]
		if tb < 0 || tb > nt || lb < 0 || lb > ls[1] {
			panicf(op, "sample %d: input length %d outside [0, %d] or label length %d outside [0, %d]", b, tb, nt, lb, ls[1])
		}
		ids = ids[:0]
		for j := range lb {
			v := lab[b*ls[1]+j]
			id := int(v)
			if float32(id) != v || id < 0 || id >= c || id == l.Blank {
				panicf(op, "label %v at [%d, %d] is not a class in [0, %d) other than the blank %d", v, b, j, c, l.Blank)
			}
			ids = append(ids, id)
		}
		scale := 1.0
		if l.NormByTimes && tb > 0 {
			scale = 1 / float64(tb)
		}
		val[b] = float32(ctcSample(x, grad, b, n, c, tb, ids, l.Blank, scale))
	}
	loss := tensor.New(val, n)
	switch {
	case logits.IsNoGrad():
		loss = loss.NoGrad()
	case logits.RequiresGrad():
		loss = loss.Add(tensor.New(grad, xs...).Mul(logits.Sub(logits.Detach())).Sum(0, 2))
	}
	switch l.Reduction {
	case ReduceNone:
		return loss
	case ReduceSum:
		return loss.Sum()
	}
	div := make([]float32, n)
	for b, lb := range labelLengths {
		div[b] = float32(lb)
	}
	return loss.Div(tensor.New(div, n)).Mean()
}

// ctcSample computes sample b's loss from logits x [T, N, C] over its first t frames and writes
// scale times its gradient into grad (same layout). It returns +Inf, leaving the gradient zero,
// when no alignment exists.
func ctcSample(x, grad []float32, b, n, c, t int, ids []int, blank int, scale float64) float64 {
	at := func(ti, k int) int { return (ti*n+b)*c + k }
	// log-softmax of each frame
	lp := make([]float64, t*c)
	for ti := range t {
		mx := math.Inf(-1)
		for k := range c {
			mx = math.Max(mx, float64(x[at(ti, k)]))
		}
		s := 0.0
		for k := range c {
			s += math.Exp(float64(x[at(ti, k)]) - mx)
		}
		lse := mx + math.Log(s)
		for k := range c {
			lp[ti*c+k] = float64(x[at(ti, k)]) - lse
		}
	}
	// the extended label: blank, l1, blank, l2, ..., blank
	ext := make([]int, 2*len(ids)+1)
	for i := range ext {
		ext[i] = blank
		if i%2 == 1 {
			ext[i] = ids[i/2]
		}
	}
	m := len(ext)
	if t == 0 {
		if len(ids) == 0 {
			return 0
		}
		return math.Inf(1)
	}
	negInf := math.Inf(-1)
	alpha := make([]float64, t*m)
	beta := make([]float64, t*m)
	for i := range alpha {
		alpha[i], beta[i] = negInf, negInf
	}
	// skip says whether state s may be entered from s-2 (a label different from the one before)
	skip := func(s int) bool { return s >= 2 && ext[s] != blank && ext[s] != ext[s-2] }
	alpha[0] = lp[ext[0]]
	if m > 1 {
		alpha[1] = lp[ext[1]]
	}
	for ti := 1; ti < t; ti++ {
		for s := range m {
			a := alpha[(ti-1)*m+s]
			if s >= 1 {
				a = logAdd(a, alpha[(ti-1)*m+s-1])
			}
			if skip(s) {
				a = logAdd(a, alpha[(ti-1)*m+s-2])
			}
			alpha[ti*m+s] = a + lp[ti*c+ext[s]]
		}
	}
	last := (t - 1) * m
	beta[last+m-1] = lp[(t-1)*c+ext[m-1]]
	if m > 1 {
		beta[last+m-2] = lp[(t-1)*c+ext[m-2]]
	}
	for ti := t - 2; ti >= 0; ti-- {
		for s := range m {
			v := beta[(ti+1)*m+s]
			if s+1 < m {
				v = logAdd(v, beta[(ti+1)*m+s+1])
			}
			if s+2 < m && skip(s+2) {
				v = logAdd(v, beta[(ti+1)*m+s+2])
			}
			beta[ti*m+s] = v + lp[ti*c+ext[s]]
		}
	}
	logZ := alpha[last+m-1]
	if m > 1 {
		logZ = logAdd(logZ, alpha[last+m-2])
	}
	if math.IsInf(logZ, -1) {
		return math.Inf(1)
	}
	// d loss / d x[t, k] = softmax[t, k] - Σ_{s: ext[s]=k} exp(alpha+beta-lp - logZ)
	post := make([]float64, c)
	for ti := range t {
		for k := range post {
			post[k] = negInf
		}
		for s := range m {
			post[ext[s]] = logAdd(post[ext[s]], alpha[ti*m+s]+beta[ti*m+s]-lp[ti*c+ext[s]])
		}
		for k := range c {
			g := math.Exp(lp[ti*c+k]) - math.Exp(post[k]-logZ)
			grad[at(ti, k)] = float32(scale * g)
		}
	}
	return -logZ
}

// logAdd returns log(e^a + e^b).
func logAdd(a, b float64) float64 {
	if math.IsInf(a, -1) {
		return b
	}
	if math.IsInf(b, -1) {
		return a
	}
	if a < b {
		a, b = b, a
	}
	return a + math.Log1p(math.Exp(b-a))
}
