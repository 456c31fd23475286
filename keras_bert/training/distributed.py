"""Keras 3.15 fix-ups for `tf.distribute`: all-reduce gradients first, then clip/accumulate/apply;
`fit` under several workers (`fit_under_strategy`).

Keras 3.15's TensorFlow optimizer, under a strategy with more than one replica,
(1) clips each replica's partial gradient before summing them (so `clipnorm` does not
see the gradient of the global batch), and (2) with `gradient_accumulation_steps` fails
to trace: its `ops.cond` runs `merge_call` inside a replica-context branch ("`merge_call`
called while defining a new graph or a tf.function"). `reduce_before_apply(optimizer)`
makes the optimizer sum the gradients over replicas first and run the rest of the update
(clipping, weight decay, accumulation, the step) once in cross-replica context, which
fixes both. Sparse (IndexedSlices) gradients are made dense first, on one device too, so
`clipnorm` measures the true norm of embedding gradients whatever the batch split.
"""

import tensorflow as tf


class _ReduceFirst:
    def _backend_apply_gradients(self, grads, trainable_variables):
        # Sparse embedding gradients hold one row per lookup; clipping them measures the norm
        # of the unsummed rows, which depends on how the batch was split. Dense: exact norm.
        grads = [tf.convert_to_tensor(g) if isinstance(g, tf.IndexedSlices) else g for g in grads]
        ctx = tf.distribute.get_replica_context()
        strategy = tf.distribute.get_strategy()
        if ctx is None or strategy.num_replicas_in_sync == 1:
            return super()._backend_apply_gradients(grads, trainable_variables)
        grads = ctx.all_reduce(tf.distribute.ReduceOp.SUM, list(grads))

        def apply_once(distribution, grads):
            local = [distribution.experimental_local_results(g)[0] for g in grads]
            return super(_ReduceFirst, self)._backend_apply_gradients(local, trainable_variables)

        return ctx.merge_call(apply_once, args=(grads,))

    # Keras' TF optimizer reaches these through `maybe_merge_call`, which needs a replica
    # context; here they already run in cross-replica context, so update directly.
    def _cross_replica(self):
        return tf.distribute.has_strategy() and tf.distribute.in_cross_replica_context()

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        if not self._cross_replica():
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        pairs = [(g, v.value if hasattr(v, "value") else v) for g, v in zip(grads, trainable_variables)]
        self._distributed_tf_update_step(tf.distribute.get_strategy(), pairs, learning_rate)

    def _apply_weight_decay(self, variables):
        if self.weight_decay is None or not self._cross_replica():
            return super()._apply_weight_decay(variables)
        strategy = tf.distribute.get_strategy()
        for variable in variables:
            if self._use_weight_decay(variable):
                value = variable.value if hasattr(variable, "value") else variable
                lr = tf.cast(self.learning_rate, value.dtype)
                wd = tf.cast(self.weight_decay, value.dtype)
                strategy.extended.update(value, lambda v, wd=wd, lr=lr: v.assign_sub(v * wd * lr), group=False)

    def _backend_increment_gradient_accumulators(self, grads, acc_grads):
        if not self._cross_replica():
            return super()._backend_increment_gradient_accumulators(grads, acc_grads)
        strategy = tf.distribute.get_strategy()
        for grad, acc in zip(grads, acc_grads):
            strategy.extended.update(acc.value, lambda v, g: v.assign(v + g), args=(grad,), group=False)


def reduce_before_apply(optimizer):
    """Patches `optimizer` (and a LossScaleOptimizer's inner one) in place; returns it."""
    import keras

    target = optimizer.inner_optimizer if isinstance(optimizer, keras.optimizers.LossScaleOptimizer) else optimizer
    if not isinstance(target, _ReduceFirst):
        cls = type(target)
        target.__class__ = type(cls.__name__, (_ReduceFirst, cls), {"__module__": cls.__module__})
    return optimizer



def fit_under_strategy(model):
    """Patches `model` (in place; returns it) so Keras 3.15's `fit` runs under `MultiWorkerMirroredStrategy`.

    Two Keras bugs, seen with 2 worker processes: (1) under any strategy `fit` first builds
    the model from one batch averaged with `strategy.reduce("MEAN", batch)`, which takes one
    tensor, not the (features, labels, weights) structure (`MirroredStrategy` happens to
    accept it, multi-worker fails); only per-replica shapes are needed, so the first local
    replica's batch is used. (2) With several workers each step's logs are reduced with
    `strategy.reduce("MEAN", value, axis=0)`, which fails on scalar logs; they get a leading
    axis of 1 there, so the reduction is the mean over all replicas, as with `MirroredStrategy`.
    """
    import types

    import keras

    if getattr(model, "_keras_bert_fit_patched", False) or not hasattr(model, "_maybe_symbolic_build"):
        return model
    original_build, original_step = model._maybe_symbolic_build, model.train_step

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        strategy = getattr(self, "_distribute_strategy", None)
        if strategy is None or iterator is None:
            return original_build(iterator=iterator, data_batch=data_batch)
        for _, _, it in iterator:
            data_batch = next(it)
            break

        def local(value):
            if isinstance(value, tf.distribute.DistributedValues):
                return strategy.experimental_local_results(value)[0]
            return value

        with strategy.scope():
            self._symbolic_build(data_batch=keras.tree.map_structure(local, data_batch))

    def train_step(self, data):
        logs = original_step(data)
        strategy = tf.distribute.get_strategy()
        if not (isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)
                and strategy.extended._in_multi_worker_mode()):
            return logs
        return keras.tree.map_structure(lambda v: tf.reshape(v, [1]) if v.shape.rank == 0 else v, logs)

    # object.__setattr__: these are methods, not state for Keras to track or save.
    object.__setattr__(model, "_maybe_symbolic_build", types.MethodType(_maybe_symbolic_build, model))
    object.__setattr__(model, "train_step", types.MethodType(train_step, model))
    object.__setattr__(model, "_keras_bert_fit_patched", True)
    return model
