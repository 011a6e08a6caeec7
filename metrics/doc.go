// Package metrics measures predictions against labels, as paddle.metric: the Metric protocol
// (Compute, Update, Accumulate, Reset, Name) that Model drives once per batch; the metrics
// Accuracy (top-k), Precision and Recall (binary), each built by New<Type>; and TopKAccuracy,
// paddle.metric.accuracy, the functional form the tutorial's evaluation calls.
//
// Accuracy's labels are float32 tensors holding class ids, shaped [N] or [N, 1], checked once per
// call by tensor.ClassIDs; Precision's and Recall's hold 0 or 1, one per prediction.
package metrics
