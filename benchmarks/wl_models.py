"""Real models: a small character GPT, ResNet-18 (CIFAR variant) and a 2-layer word LSTM language model.

Each model is written once against the API lamina and PyTorch share; ``build(lib)`` functions
define the modules with ``lib.nn.Module`` as base, so the same source builds either framework's
model (identical parameter names, hence identical weights from ``load_weights``).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from _bench_util import Bench, framework, inputs, load_weights, to_numpy, to_tensor, train_bench

GPT_VOCAB, GPT_CONTEXT, GPT_WIDTH, GPT_HEADS, GPT_LAYERS, GPT_BATCH = 65, 64, 128, 4, 4, 32
LM_VOCAB, LM_WIDTH, LM_LAYERS, LM_BPTT, LM_BATCH = 10000, 200, 2, 35, 20


def gpt(lib: Any, vocab: int = GPT_VOCAB, context: int = GPT_CONTEXT, width: int = GPT_WIDTH,
        heads: int = GPT_HEADS, layers: int = GPT_LAYERS) -> Any:
    """A nanoGPT-style decoder: token + position embeddings, pre-LayerNorm blocks, tied lm_head.

    Shape: idx (B, T) int64 with T <= context -> logits (B, T, vocab)
    """
    nn, F = lib.nn, lib.nn.functional

    class CausalSelfAttention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.c_attn = nn.Linear(width, 3 * width)
            self.c_proj = nn.Linear(width, width)

        def forward(self, x: Any) -> Any:  # x: (B, T, C)
            B, T, C = x.shape
            q, k, v = self.c_attn(x).split(width, dim=2)
            q, k, v = (t.view(B, T, heads, C // heads).transpose(1, 2) for t in (q, k, v))   # as nanoGPT
            y = F.scaled_dot_product_attention(q, k, v, is_causal=True)  # (B, heads, T, C // heads)
            return self.c_proj(y.transpose(1, 2).reshape(B, T, C))

    class Block(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.ln_1 = nn.LayerNorm(width)
            self.attn = CausalSelfAttention()
            self.ln_2 = nn.LayerNorm(width)
            self.mlp = nn.Sequential(nn.Linear(width, 4 * width), nn.GELU(), nn.Linear(4 * width, width))

        def forward(self, x: Any) -> Any:
            x = x + self.attn(self.ln_1(x))
            return x + self.mlp(self.ln_2(x))

    class GPT(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = nn.ModuleDict({
                "wte": nn.Embedding(vocab, width), "wpe": nn.Embedding(context, width),
                "h": nn.ModuleList([Block() for _ in range(layers)]), "ln_f": nn.LayerNorm(width),
            })
            self.lm_head = nn.Linear(width, vocab, bias=False)
            self.transformer["wte"].weight = self.lm_head.weight  # weight tying, as in nanoGPT
            self.register_buffer("pos", lib.arange(context), persistent=False)

        def forward(self, idx: Any) -> Any:
            t = self.transformer
            x = t["wte"](idx) + t["wpe"](self.pos[: idx.shape[1]])
            for block in t["h"]:
                x = block(x)
            return self.lm_head(t["ln_f"](x))

    return GPT()


def _tokens(seed: int, shape: tuple[int, int], vocab: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and next-token targets: a (B, T + 1) seeded int64 array split into (B, T) and (B, T)."""
    rng = np.random.default_rng(seed)
    seq = rng.integers(0, vocab, (shape[0], shape[1] + 1)).astype(np.int64)
    return seq[:, :-1], seq[:, 1:]


def gpt_train(fw: str) -> Bench:
    """A training step of the small GPT: (32, 64) tokens, cross-entropy over (B*T, 65), AdamW.

    ``probe`` returns the eval logits (B*T*vocab values) followed by the loss before and after one
    training step (the step is one more warm-up step for the timing).
    """
    lib = framework(fw)
    model = gpt(lib)
    load_weights(lib, model, 21)
    xa, ya = _tokens(22, (GPT_BATCH, GPT_CONTEXT), GPT_VOCAB)
    x, y = to_tensor(lib, xa), to_tensor(lib, ya.reshape(-1))
    opt = lib.optim.AdamW(model.parameters(), lr=3e-4, weight_decay=0.1)

    def loss_fn(logits: Any) -> Any:
        return lib.nn.functional.cross_entropy(logits.view(-1, GPT_VOCAB), y)

    bench = train_bench(lib, model, model, loss_fn, opt, x)
    eval_probe = bench.probe

    def probe() -> np.ndarray:
        logits = eval_probe()
        with lib.no_grad():
            before = float(loss_fn(model(x)))
        bench.step()
        with lib.no_grad():
            after = float(loss_fn(model(x)))
        return np.concatenate([logits.ravel(), [before, after]])

    return Bench(bench.step, probe)


def resnet18(lib: Any, classes: int = 10) -> Any:
    """ResNet-18 for 32x32 inputs: 3x3 stem conv 64 (no max-pool), BasicBlocks [2, 2, 2, 2].

    Shape: x (N, 3, 32, 32) -> logits (N, classes)
    """
    nn = lib.nn

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride=stride, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, padding=1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.relu = nn.ReLU(inplace=True)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride=stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x: Any) -> Any:
            identity = x if self.downsample is None else self.downsample(x)
            out = self.relu(self.bn1(self.conv1(x)))
            out = self.bn2(self.conv2(out))
            return self.relu(out + identity)

    class ResNet18(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 64, 3, padding=1, bias=False)
            self.bn1 = nn.BatchNorm2d(64)
            self.relu = nn.ReLU(inplace=True)
            stages, cin = [], 64
            for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
                stages.append(nn.Sequential(BasicBlock(cin, cout, stride), BasicBlock(cout, cout, 1)))
                cin = cout
            self.layer1, self.layer2, self.layer3, self.layer4 = stages
            self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
            self.fc = nn.Linear(512, classes)

        def forward(self, x: Any) -> Any:
            x = self.relu(self.bn1(self.conv1(x)))
            x = self.layer4(self.layer3(self.layer2(self.layer1(x))))
            return self.fc(self.avgpool(x).flatten(1))

    return ResNet18()


def resnet18_train(fw: str, batch: int = 32) -> Bench:
    """A training step of ResNet-18 on (32, 3, 32, 32): cross-entropy, SGD(0.1, momentum 0.9, wd 5e-4)."""
    lib = framework(fw)
    model = resnet18(lib)
    load_weights(lib, model, 23)
    xa, ya = inputs(24, (batch, 3, 32, 32), classes=10)
    x, y = to_tensor(lib, xa), to_tensor(lib, ya)
    opt = lib.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=5e-4)
    ce = lib.nn.CrossEntropyLoss()
    return train_bench(lib, model, model, lambda out: ce(out, y), opt, x)


def word_lm(lib: Any, dropout: float = 0.2) -> Any:
    """The word_language_model example's LSTM: Embedding -> dropout -> LSTM(2 layers) -> dropout -> Linear.

    Not tied (the example's default). Shape: tokens (T, B) int64, hidden ((2, B, 200), (2, B, 200))
    -> logits (T, B, 10000), hidden
    """
    nn = lib.nn

    class RNNModel(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.drop = nn.Dropout(dropout)
            self.encoder = nn.Embedding(LM_VOCAB, LM_WIDTH)
            self.rnn = nn.LSTM(LM_WIDTH, LM_WIDTH, LM_LAYERS, dropout=dropout)
            self.decoder = nn.Linear(LM_WIDTH, LM_VOCAB)

        def forward(self, tokens: Any, hidden: tuple[Any, Any]) -> tuple[Any, tuple[Any, Any]]:
            out, hidden = self.rnn(self.drop(self.encoder(tokens)), hidden)
            return self.decoder(self.drop(out)), hidden

    return RNNModel()


def word_lm_train(fw: str) -> Bench:
    """A bptt step of the word LSTM LM: (35, 20) tokens, SGD(lr 20) after clip_grad_norm_(0.25).

    Dropout 0.2 is kept (the example's default), drawn from each framework's own seeded RNG, so the
    two training runs differ; parity is checked in eval mode, where dropout is off. The hidden state
    carries over from step to step, detached, as in the example.
    """
    lib = framework(fw)
    model = word_lm(lib)
    load_weights(lib, model, 25)
    xa, ya = _tokens(26, (LM_BATCH, LM_BPTT), LM_VOCAB)  # (B, T); the model takes (T, B) like the example
    x, y = to_tensor(lib, xa.T.copy()), to_tensor(lib, ya.T.reshape(-1))
    opt = lib.optim.SGD(model.parameters(), lr=20.0)
    ce = lib.nn.CrossEntropyLoss()
    clip = lib.nn.utils.clip_grad_norm_

    def zeros() -> tuple[Any, Any]:
        return (lib.zeros(LM_LAYERS, LM_BATCH, LM_WIDTH), lib.zeros(LM_LAYERS, LM_BATCH, LM_WIDTH))

    state = {"hidden": zeros()}

    def step() -> None:
        hidden = tuple(h.detach() for h in state["hidden"])
        out, state["hidden"] = model(x, hidden)
        loss = ce(out.view(-1, LM_VOCAB), y)
        loss.backward()
        clip(model.parameters(), 0.25)
        opt.step()
        opt.zero_grad()

    def probe() -> np.ndarray:
        model.eval()
        with lib.no_grad():
            out = model(x, zeros())[0]
        model.train()
        return to_numpy(out)

    return Bench(step, probe)
