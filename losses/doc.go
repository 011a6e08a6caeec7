// Package losses has the loss functions of paddle.nn and paddle.nn.functional with Paddle's
// semantics: CrossEntropy (weight, ignore_index, soft labels, label smoothing, use_softmax), NLL,
// MSE, SquareErrorCost, L1, SmoothL1 (Paddle's delta), BCEWithLogits, BCE (probabilities), KLDiv
// (mean, batchmean, sum, none; log_target), MarginRanking, HingeEmbedding, CosineEmbedding and CTC.
//
// # Overview
//
// Every loss is a struct whose zero value is Paddle's default (mean reduction, ignore_index -100,
// softmax applied), with a constructor returning a pointer for Paddle-like code:
//
//	loss := losses.NewCrossEntropy().Forward(logits, labels) // F.cross_entropy(logits, labels)
//	ce := &losses.CrossEntropy{Weight: w, IgnoreIndex: new(255), Reduction: losses.ReduceSum}
//
// The structs implement Loss, which is what a training loop (oar.Model.Prepare) takes; plain
// functions such as SquareErrorCost become a Loss through Func. Everything is built from
// gradient-checked tensor ops (CrossEntropy with hard labels and no class weights is the fused
// tensor.SoftmaxCrossEntropy; otherwise one fused LogSoftmax followed by a gather or a weighted
// sum), so gradients flow back to the input as for any other op.
//
// # Labels
//
// Class labels are float32 tensors holding integer class ids (exact below 2^24), shaped [N] or
// [N, 1] for an input [N, C]. Labels receive no gradient from CrossEntropy, NLL, BCEWithLogits,
// BCE, KLDiv, CTC and the ranking and embedding losses, nor do weights; the regression losses (MSE,
// SquareErrorCost, L1, SmoothL1) are symmetric in their two arguments and pass a gradient to a
// label that requires one, as Paddle's subtract does.
//
// Reductions ReduceMean, ReduceSum and KLDiv's ReduceBatchMean return a 0-D tensor (shape []), as
// Paddle >= 2.5 does; ReduceNone keeps one loss per element or per sample.
//
// # Errors
//
// A programmer error panics with a *Error that names the loss and the offending value or shapes:
// a label shape that does not fit the input ("losses: NLL: label shape [3 2] does not fit input
// [3 4]: want [3] or [3 1]"), weights of the wrong size, or an unknown Reduction. A class label
// that is not an integer in [0, C) is checked once per call, by tensor.ClassIDs (in the fused
// tensor.SoftmaxCrossEntropy for a plain CrossEntropy), and panics with a *tensor.Error naming the
// op, the value and its index ("tensor: SoftmaxCrossEntropy: id 10 at index 3 is not an integer
// in [0, 10)"). Each Forward lists its panics.
package losses
