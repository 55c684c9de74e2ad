"""A mixed-precision style training loop with a gradient scaler, as the PyTorch AMP recipe writes it:
scaler.scale(loss).backward(), scaler.unscale_(optimizer), clip_grad_norm_, scaler.step(optimizer),
scaler.update(). One batch is scaled up so far that its loss overflows: that step is skipped and the scale
backs off. The scaler's state_dict goes into the checkpoint and training resumes from it; last, the CUDA-era
torch.cuda.amp.GradScaler() a program may still build is tried on this CPU-only machine."""

import argparse
import os
import warnings

import numpy as np
import progutil
import torch
import torch.nn as nn


class MLP(nn.Module):
    """(N, d_in) -> (N, d_out)."""

    def __init__(self, d_in, hidden, d_out):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(d_in, hidden), nn.GELU(), nn.Linear(hidden, hidden), nn.ReLU(),
                                 nn.Linear(hidden, d_out))

    def forward(self, x):
        return self.net(x)


def train_step(model, optimizer, scaler, criterion, x, y, max_norm, amp=False):
    optimizer.zero_grad(set_to_none=True)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=amp):
        loss = criterion(model(x), y)
    scaler.scale(loss).backward()
    scaler.unscale_(optimizer)
    grad_norm = torch.nn.utils.clip_grad_norm_(model.parameters(), max_norm)
    scaler.step(optimizer)
    scaler.update()
    return loss, grad_norm


def main():
    parser = argparse.ArgumentParser(description="GradScaler training loop")
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--resume-steps", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--max-norm", type=float, default=1.0)
    parser.add_argument("--overflow-step", type=int, default=3, help="the step whose batch overflows")
    parser.add_argument("--amp", action="store_true", help="run the forward pass under bfloat16 autocast")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--outf", default=".")
    progutil.add_args(parser)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    w_true = rng.standard_normal((6, 2)).astype(np.float32)

    def batch(scale=1.0):
        x = rng.standard_normal((args.batch_size, 6)).astype(np.float32)
        y = np.tanh(x @ w_true).astype(np.float32)
        return torch.from_numpy(x * np.float32(scale)), torch.from_numpy(y)

    model = MLP(6, 16, 2)
    progutil.start(args, model=model)
    criterion = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    scaler = torch.amp.GradScaler("cpu", init_scale=2.0 ** 10, growth_factor=2.0, backoff_factor=0.5,
                                  growth_interval=2)

    for step in range(args.steps):
        x, y = batch(1e30 if step == args.overflow_step else 1.0)
        loss, grad_norm = train_step(model, optimizer, scaler, criterion, x, y, args.max_norm, args.amp)
        print(f"step {step}: loss {loss.item():.6f} grad_norm {grad_norm.item():.6f} scale {scaler.get_scale()}")
        progutil.log(args, step=step, loss=float(loss), grad_norm=grad_norm.item(), scale=scaler.get_scale(),
                     growth_tracker=scaler.state_dict()["_growth_tracker"])

    path = os.path.join(args.outf, "checkpoint.pt")
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "scaler": scaler.state_dict()},
               path)
    checkpoint = torch.load(path)
    model2 = MLP(6, 16, 2)
    model2.load_state_dict(checkpoint["model"])
    optimizer2 = torch.optim.SGD(model2.parameters(), lr=args.lr, momentum=0.9)
    optimizer2.load_state_dict(checkpoint["optimizer"])
    scaler2 = torch.amp.GradScaler("cpu")
    scaler2.load_state_dict(checkpoint["scaler"])
    sd = scaler2.state_dict()
    print("resumed scaler", sorted(sd), sd["scale"], sd["growth_interval"])
    progutil.log(args, resumed_scale=sd["scale"], resumed_keys=",".join(sorted(sd)),
                 growth_interval=sd["growth_interval"], growth_tracker=sd["_growth_tracker"])

    for step in range(args.steps, args.steps + args.resume_steps):
        x, y = batch()
        loss, grad_norm = train_step(model2, optimizer2, scaler2, criterion, x, y, args.max_norm, args.amp)
        print(f"step {step}: loss {loss.item():.6f} scale {scaler2.get_scale()}")
        progutil.log(args, step=step, loss=float(loss), grad_norm=grad_norm.item(), scale=scaler2.get_scale(),
                     growth_tracker=scaler2.state_dict()["_growth_tracker"])

    # the CUDA-era spelling on a machine without CUDA: deprecated, and disabled with a warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        legacy = torch.cuda.amp.GradScaler()
    kinds = sorted({w.category.__name__ for w in caught})
    x, y = batch()
    loss, grad_norm = train_step(model2, optimizer2, legacy, criterion, x, y, args.max_norm, args.amp)
    scaled = legacy.scale(torch.tensor(3.0))
    print("legacy scaler enabled:", legacy.is_enabled(), "warnings:", kinds)
    progutil.log(args, step=args.steps + args.resume_steps, loss=float(loss), legacy_enabled=legacy.is_enabled(),
                 legacy_scale=legacy.get_scale(), legacy_state=legacy.state_dict(),
                 legacy_warnings=",".join(kinds),
                 scaled=scaled.item())
    progutil.finish(args, model=model2)


if __name__ == "__main__":
    main()
