"""Sequence classification with home-made normalization and loss modules built on torch's private bases.

SequenceBatchNorm accepts (N, C, L) input only; GhostBatchNorm1d normalizes each virtual batch of a training
batch separately (Hoffer et al., 2017) and uses the running statistics at eval time; FocalLoss (Lin et al., 2017)
derives from _Loss so it takes the usual ``reduction`` argument (and the legacy size_average/reduce ones).
"""

import argparse
import warnings

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.modules.batchnorm import _BatchNorm
from torch.nn.modules.loss import _Loss


class SequenceBatchNorm(_BatchNorm):
    def _check_input_dim(self, input):
        if input.dim() != 3:
            raise ValueError(f"SequenceBatchNorm: expected 3D input (N, C, L), got {input.dim()}D input")


class GhostBatchNorm1d(_BatchNorm):
    def __init__(self, num_features, virtual_batch_size=8, **kwargs):
        super().__init__(num_features, **kwargs)
        self.virtual_batch_size = virtual_batch_size

    def _check_input_dim(self, input):
        if input.dim() != 2:
            raise ValueError(f"GhostBatchNorm1d: expected 2D input (N, C), got {input.dim()}D input")

    def forward(self, input):
        if not self.training:
            return super().forward(input)
        chunks = input.split(self.virtual_batch_size, dim=0)
        return torch.cat([super(GhostBatchNorm1d, self).forward(chunk) for chunk in chunks], dim=0)

    def extra_repr(self):
        return super().extra_repr() + f", virtual_batch_size={self.virtual_batch_size}"


class FocalLoss(_Loss):
    def __init__(self, gamma=2.0, alpha=None, size_average=None, reduce=None, reduction="mean"):
        super().__init__(size_average, reduce, reduction)
        self.gamma = gamma
        self.register_buffer("alpha", None if alpha is None else torch.as_tensor(alpha, dtype=torch.float32))

    def forward(self, input, target):
        log_p = F.log_softmax(input, dim=1).gather(1, target.unsqueeze(1)).squeeze(1)
        loss = -((1 - log_p.exp()) ** self.gamma) * log_p
        if self.alpha is not None:
            loss = loss * self.alpha[target]
        if self.reduction == "mean":
            return loss.mean()
        if self.reduction == "sum":
            return loss.sum()
        return loss


class Net(nn.Module):
    def __init__(self, in_channels=2, channels=8, hidden=16, num_classes=3, virtual_batch_size=8):
        super().__init__()
        self.conv1 = nn.Conv1d(in_channels, channels, kernel_size=3, padding=1)
        self.bn1 = SequenceBatchNorm(channels)
        self.conv2 = nn.Conv1d(channels, channels, kernel_size=3, padding=1, bias=False)
        self.bn2 = SequenceBatchNorm(channels, momentum=None, affine=False)  # cumulative moving average
        self.fc1 = nn.Linear(channels, hidden)
        self.bn3 = GhostBatchNorm1d(hidden, virtual_batch_size=virtual_batch_size, momentum=0.2)
        self.fc2 = nn.Linear(hidden, num_classes)

    def forward(self, x):
        x = F.relu(self.bn1(self.conv1(x)))
        x = F.relu(self.bn2(self.conv2(x)))
        x = x.mean(dim=2)
        return self.fc2(F.relu(self.bn3(self.fc1(x))))


def make_data(n, length, rng):
    """Two-channel sequences: class 0 a rising ramp, 1 a falling ramp, 2 an oscillation, plus noise and offset."""
    t = np.linspace(-1, 1, length)
    shapes = np.stack([np.stack([t, -t]), np.stack([-t, t]), np.stack([np.sin(6 * t), np.cos(6 * t)])])
    y = rng.integers(0, 3, size=n)
    x = shapes[y] + 0.4 * rng.normal(size=(n, 2, length)) + rng.normal(size=(n, 2, 1))
    return torch.from_numpy(x.astype(np.float32)), torch.from_numpy(y)


def main():
    parser = argparse.ArgumentParser(description="custom _BatchNorm and _Loss subclasses")
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=24)
    parser.add_argument("--length", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--gamma", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--checkpoint", default="custom_bn.pt")
    progutil.add_args(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    x_train, y_train = make_data(96, args.length, rng)
    x_test, y_test = make_data(48, args.length, rng)

    model = Net()
    progutil.start(args, model=model)
    criterion = FocalLoss(gamma=args.gamma, alpha=[1.0, 1.0, 0.5])
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    print(model)

    errors = []
    for bad, layer in [(torch.zeros(4, 8), model.bn1), (torch.zeros(4, 16, 2), model.bn3)]:
        try:
            layer(bad)
        except ValueError as e:
            errors.append(str(e))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = FocalLoss(size_average=False).reduction, FocalLoss(reduce=False).reduction
    progutil.log(args, errors=" | ".join(errors), legacy=",".join(legacy), legacy_warned=len(caught) > 0,
                 bn3_repr=repr(model.bn3))

    step = 0
    for epoch in range(args.epochs):
        model.train()
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), args.batch_size):
            idx = torch.from_numpy(order[start:start + args.batch_size])
            optimizer.zero_grad()
            loss = criterion(model(x_train[idx]), y_train[idx])
            loss.backward()
            optimizer.step()
            progutil.log(args, step=step, loss=loss.item())
            step += 1
        model.eval()
        with torch.no_grad():
            logits = model(x_test)
            test_loss = criterion(logits, y_test).item()
            per_sample = FocalLoss(gamma=args.gamma, reduction="none")(logits, y_test)
            acc = (logits.argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch}: focal {test_loss:.4f} accuracy {acc:.3f}")
        progutil.log(args, epoch=epoch, test_loss=test_loss, test_acc=acc, worst=per_sample.max().item(),
                     bn1_mean=model.bn1.running_mean.tolist(), bn2_var=model.bn2.running_var.tolist(),
                     bn3_tracked=int(model.bn3.num_batches_tracked))

    torch.save(model.state_dict(), args.checkpoint)
    restored = Net()
    restored.load_state_dict(torch.load(args.checkpoint))
    restored.eval()
    with torch.no_grad():
        gap = (restored(x_test) - model(x_test)).abs().max().item()
    progutil.log(args, restored_gap=gap, keys=",".join(model.state_dict()))
    progutil.finish(args, model=model, criterion=criterion)


if __name__ == "__main__":
    main()
