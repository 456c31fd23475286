"""Knowledge distillation: a smaller student learns a fine-tuned teacher's outputs (keras.ops only).

`Distiller(student, teacher)` is a `keras.Model` trained with plain `fit`. Its
loss is `alpha * CE(labels, student) + (1 - alpha) * T^2 KL(softmax(t / T) ||
softmax(s / T))` (Hinton et al.), plus optionally the mean squared difference of
mapped blocks' hidden states and the KL divergence of their attention
distributions (TinyBERT / MiniLM), weighted by `hidden_weight` and
`attention_weight`.

Why not `keras.distillation.Distiller` (Keras 3.15): it runs the teacher at every
step, where a frozen teacher's logits can be computed once per example (pass
`y = {"labels": ..., "teacher_logits": ...}`; on a CPU that halves the cost
of distilling a 2-layer student from a 6-layer teacher), and its feature losses
need the layers at the top level of the model, while ours sit inside the
encoder. The temperature-scaled logit loss is the same as its
`LogitsDistillation(loss=keras.losses.KLDivergence())` (the tests compare them);
with its default `loss="kl_divergence"`, Keras 3.15 resolves the string to the
function, misses its own `isinstance(KLDivergence)` branch and applies KL to
the scaled logits rather than to the softmax probabilities.
"""

import math

import keras
from keras import ops

from keras_bert.compression._common import encoder_config, encoder_of


def evenly_spaced(teacher_layers, student_layers):
    """Teacher block indices for each student block, spread evenly, the last to the last (6 -> 2: [2, 5])."""
    if not 1 <= student_layers <= teacher_layers:
        raise ValueError(f"a student needs 1 to {teacher_layers} blocks, got {student_layers}")
    return [int(math.floor((j + 1) * teacher_layers / student_layers + 1e-9)) - 1 for j in range(student_layers)]


def student_from_teacher(teacher, config=None, num_layers=None, layers=None):
    """A student of the teacher's class (labels and head options kept), initialised from the teacher where shapes allow.

    Either `num_layers`/`layers` (the teacher's sizes with fewer blocks, copied
    from the teacher's blocks `layers`, default evenly spaced: DistilBERT's
    initialisation) or `config` (a `BertConfig`, preset name or dict; the
    vocabulary and position count are the teacher's). A `config` with the
    teacher's widths is initialised from its blocks too; any other starts
    from random weights (embeddings cannot be copied across widths).
    """
    from keras_bert.compression.prune import drop_layers
    from keras_bert.config import BertConfig

    teacher_config = encoder_of(teacher).config
    if config is None:
        if layers is None:
            layers = evenly_spaced(teacher_config.num_layers, num_layers or max(1, teacher_config.num_layers // 2))
        return drop_layers(teacher, keep=layers)
    if isinstance(config, str):
        config = BertConfig.preset(config)
    elif isinstance(config, dict):
        config = BertConfig.from_dict(config)
    student_config = BertConfig.from_dict({**config.to_dict(), "vocab_size": teacher_config.vocab_size,
                                           "max_position_embeddings": teacher_config.max_position_embeddings,
                                           "type_vocab_size": teacher_config.type_vocab_size})
    same_widths = all(getattr(student_config, f) == getattr(teacher_config, f)
                      for f in ("hidden_size", "num_heads", "intermediate_size", "hidden_act",
                                "position_embedding_type"))
    if same_widths:
        return drop_layers(teacher, keep=layers or evenly_spaced(teacher_config.num_layers, student_config.num_layers))
    model_config = teacher.get_config()
    encoder_config(model_config)["config"] = student_config.to_dict()
    return teacher.__class__.from_config(model_config)


def distillation_loss(teacher_logits, student_logits, temperature):
    """T^2 * KL(softmax(teacher / T) || softmax(student / T)), averaged over the batch."""
    t = ops.log_softmax(ops.cast(teacher_logits, "float32") / temperature, axis=-1)
    s = ops.log_softmax(ops.cast(student_logits, "float32") / temperature, axis=-1)
    return ops.mean(ops.sum(ops.exp(t) * (t - s), axis=-1)) * temperature ** 2


def forward_with_states(model, inputs, training=False, attention=False):
    """A classifier's (logits, block outputs, attention probabilities or None), running its layers one by one."""
    from keras_bert.layers import attention_mask_from_padding
    from keras_bert.models import BertClassifier

    if not isinstance(model, BertClassifier):
        raise TypeError(f"hidden-state and attention losses need BertClassifier models, got {type(model).__name__}")
    encoder = encoder_of(model)
    x = encoder.embeddings(inputs["token_ids"], inputs["segment_ids"], training=training)
    mask = attention_mask_from_padding(inputs["padding_mask"])
    hidden, probabilities = [], []
    for block in encoder.transformer_layers:
        if attention:
            x, p = block(x, attention_mask=mask, training=training, return_attention_scores=True)
            probabilities.append(p)
        else:
            x = block(x, attention_mask=mask, training=training)
        hidden.append(x)
    if model.pooling == "cls":
        features = encoder.pooler(x)
    else:
        features = model.get_layer("pooling")(x, inputs["padding_mask"])
    logits = model.get_layer("logits")(model.get_layer("classifier_dropout")(features, training=training))
    return ops.cast(logits, "float32"), hidden, (probabilities if attention else None)


class Distiller(keras.Model):
    """Trains `student` on labels and a teacher's outputs; `distiller.student` is the result.

    `y` for `fit`: the integer labels (the teacher then runs at each step), or a
    dict `{"labels", "teacher_logits"}` with logits computed beforehand, and
    optionally `"label_weights"` (0 for inputs without a gold label, such as
    `augment_texts` output: the labels' loss averages over weighted rows only).
    `alpha`: weight of the labels' cross-entropy (1 - alpha for the teacher's
    logits). `hidden_weight` / `attention_weight` (need `teacher`, same hidden
    size and head count): MSE of block outputs over real tokens and KL of
    attention distributions, student block j against teacher block
    `layer_map[j]` (default evenly spaced, last to last).
    """

    def __init__(self, student, teacher=None, temperature=2.0, alpha=0.5, hidden_weight=0.0, attention_weight=0.0,
                 layer_map=None, **kwargs):
        super().__init__(**kwargs)
        if temperature <= 0:
            raise ValueError(f"temperature must be positive, got {temperature}")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.student = student
        self.teacher = teacher
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.hidden_weight = float(hidden_weight)
        self.attention_weight = float(attention_weight)
        self.feature_losses = bool(hidden_weight or attention_weight)
        if teacher is not None:
            teacher.trainable = False
        if self.feature_losses:
            if teacher is None:
                raise ValueError("hidden_weight / attention_weight need the teacher model")
            s, t = encoder_of(student).config, encoder_of(teacher).config
            if (s.hidden_size, s.num_heads) != (t.hidden_size, t.num_heads):
                raise ValueError(f"hidden-state/attention losses need the same hidden size and heads; student "
                                 f"{s.hidden_size}/{s.num_heads}, teacher {t.hidden_size}/{t.num_heads}")
            self.layer_map = list(layer_map or evenly_spaced(t.num_layers, s.num_layers))
            if len(self.layer_map) != s.num_layers or not all(0 <= i < t.num_layers for i in self.layer_map):
                raise ValueError(f"layer_map needs {s.num_layers} teacher block indices in [0, {t.num_layers}), "
                                 f"got {self.layer_map}")
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")

    def call(self, inputs, training=None):
        if self.feature_losses and training:
            return forward_with_states(self.student, inputs, training=True, attention=self.attention_weight > 0)
        return ops.cast(self.student(inputs, training=training), "float32")

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        labels, teacher_logits = (y["labels"], y.get("teacher_logits")) if isinstance(y, dict) else (y, None)
        label_weights = y.get("label_weights") if isinstance(y, dict) else None
        logits, hidden, attention = y_pred if isinstance(y_pred, tuple) else (y_pred, None, None)
        teacher_hidden = teacher_attention = None
        if self.feature_losses:
            teacher_logits, teacher_hidden, teacher_attention = forward_with_states(
                self.teacher, x, training=False, attention=self.attention_weight > 0)
        elif teacher_logits is None:
            if self.teacher is None:
                raise ValueError("no teacher: give Distiller(student, teacher) or y={'labels', 'teacher_logits'}")
            teacher_logits = ops.cast(self.teacher(x, training=False), "float32")
        teacher_logits = ops.stop_gradient(teacher_logits)
        hard = keras.losses.sparse_categorical_crossentropy(labels, logits, from_logits=True)
        if label_weights is None:
            hard = ops.mean(hard)
        else:
            weights = ops.cast(label_weights, "float32")
            hard = ops.sum(hard * weights) / ops.maximum(ops.sum(weights), 1.0)
        loss = self.alpha * hard + (1.0 - self.alpha) * distillation_loss(teacher_logits, logits, self.temperature)
        if self.hidden_weight and hidden is not None:
            mask = ops.cast(x["padding_mask"], "float32")[..., None]
            count = ops.sum(mask) * ops.cast(ops.shape(hidden[0])[-1], "float32")
            total = 0.0
            for j, i in enumerate(self.layer_map):
                diff = ops.cast(hidden[j], "float32") - ops.stop_gradient(ops.cast(teacher_hidden[i], "float32"))
                total = total + ops.sum(ops.square(diff) * mask) / count
            loss = loss + self.hidden_weight * total / len(self.layer_map)
        if self.attention_weight and attention is not None:
            queries = ops.cast(x["padding_mask"], "float32")[:, None, :]
            total = 0.0
            for j, i in enumerate(self.layer_map):
                t = ops.stop_gradient(teacher_attention[i])
                kl = ops.sum(t * (ops.log(ops.maximum(t, 1e-9)) - ops.log(ops.maximum(attention[j], 1e-9))), -1)
                total = total + ops.sum(kl * queries) / (ops.sum(queries) * ops.cast(ops.shape(kl)[1], "float32"))
            loss = loss + self.attention_weight * total / len(self.layer_map)
        return loss

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        labels = y["labels"] if isinstance(y, dict) else y
        weights = y.get("label_weights") if isinstance(y, dict) else None
        logits = y_pred[0] if isinstance(y_pred, tuple) else y_pred
        self.accuracy.update_state(labels, logits, sample_weight=weights)
        return self.get_metrics_result()
