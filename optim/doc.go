// Package optim has the optimizers, learning-rate schedulers and gradient clipping of
// paddle.optimizer, with the update formulas of Paddle's kernels, and optimizer state that saves
// and loads so that training resumes exactly.
//
// # Overview
//
// An optimizer is made from a model's parameters and a learning rate, and its options are fields
// whose defaults are Paddle's:
//
//	opt := optim.NewAdam(net.Params(), 0.001)
//	opt.GradClip = optim.ClipGradByGlobalNorm{ClipNorm: 1}
//	opt.Scheduler = optim.NewLinearWarmup(optim.NewCosineAnnealingDecay(0.001, 100, 0), 10, 0, 0.001)
//	for ... {
//		loss.Backward()
//		opt.Step()
//		opt.ClearGrad()
//		opt.Scheduler.Step()
//	}
//
// SGD, Momentum (optionally Nesterov), Adam, AdamW, RMSProp, Adagrad, Adadelta, Adamax and Lamb
// implement Optimizer. A float WeightDecay is Paddle's L2 regularization, added to the gradient
// (after clipping) for SGD, Momentum, Adam, RMSProp, Adagrad, Adadelta and Adamax; AdamW's is
// decoupled, and Lamb's is the lamb_weight_decay inside its trust ratio. Parameters whose Grad is nil are skipped. Step
// is a fused loop per parameter over the tensors' data, allocation-free after the first call.
//
// Schedulers (StepDecay, MultiStepDecay, PiecewiseDecay, ExponentialDecay, CosineAnnealingDecay,
// LinearWarmup, ReduceOnPlateau, NoamDecay, NaturalExpDecay, InverseTimeDecay, PolynomialDecay,
// LambdaDecay, MultiplicativeDecay, OneCycleLR, CyclicLR, LinearLR) follow Paddle's lr.py: they
// start at epoch 0 with the base rate, the program calls Step (ReduceOnPlateau: StepMetric) and
// the attached optimizer reads LR at each of its Steps.
//
// # Writing an optimizer
//
// Every optimizer embeds a Base, which holds the parameters, the learning rate or Scheduler,
// WeightDecay, GradClip and the per-parameter buffers, and implements Optimizer and Scheduled
// with them. What differs is a Rule: the buffers it keeps (Slots), the checks of its
// hyper-parameters at each Step (Prepare) and the update of one parameter (Update). RMSProp, in
// one short file, is the model to copy; Base's documentation has a minimal one.
//
// # State
//
// State, Save/Load (files) and Write/Read (streams) store the rule's buffers as tensors named
// after their parameter ("fc.weight.moment1", "fc.weight.moment2", "fc.weight.velocity") and
// scalars in the metadata ("optimizer", "lr", "fc.weight.step", "scheduler.last_epoch", ...) of a
// safetensors file, which Save writes atomically. Loading checks the optimizer type, every name
// and shape, the numbers and the scheduler type, and returns all mismatches at once; it never
// panics on a bad file and changes nothing unless everything fits. A run saved after k steps and
// resumed into a fresh optimizer (with the parameters restored) continues bit for bit as the
// uninterrupted run.
//
// # Errors
//
// Programmer errors panic with a *Error naming the optimizer or scheduler and the value: a
// learning rate that is not positive and finite, a β or momentum outside [0, 1), a negative weight
// decay, a parameter given twice, SetLR with a scheduler attached. Constructors check their
// arguments; Step checks the option fields, which may change between steps. Reading a state
// returns an error.
package optim
