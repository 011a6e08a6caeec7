// Package metrics measures predictions against labels, as paddle.metric: the Metric protocol
// (Compute, Update, Accumulate, Reset, Name) that Model drives once per batch, top-k Accuracy,
// binary Precision and Recall, and the functional Accuracy the tutorial's evaluation calls.
//
// Labels are float32 tensors holding class ids, shaped [N] or [N, 1].
package metrics
