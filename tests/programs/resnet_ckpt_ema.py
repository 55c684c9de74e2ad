"""A small ResNet trained with activation checkpointing, Nesterov SGD and an EMA of its weights.

Each residual block runs under torch.utils.checkpoint (non-reentrant), so its activations are recomputed in the
backward pass; an AveragedModel keeps an exponential moving average of the parameters, is evaluated after every
epoch, and gets its BatchNorm statistics recomputed with update_bn at the end. Midway the run saves model, EMA,
optimizer and scheduler state to one checkpoint, rebuilds everything and resumes from it.
"""

import argparse

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn, update_bn
from torch.utils.checkpoint import checkpoint
from torch.utils.data import DataLoader, TensorDataset


class BasicBlock(nn.Module):
    expansion = 1

    def __init__(self, in_planes, planes, stride=1):
        super().__init__()
        self.conv1 = nn.Conv2d(in_planes, planes, kernel_size=3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, kernel_size=3, stride=1, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.shortcut = nn.Sequential()
        if stride != 1 or in_planes != planes:
            self.shortcut = nn.Sequential(
                nn.Conv2d(in_planes, planes, kernel_size=1, stride=stride, bias=False),
                nn.BatchNorm2d(planes),
            )

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, num_blocks=(1, 1), widths=(8, 16), num_classes=4, use_checkpoint=True):
        super().__init__()
        self.use_checkpoint = use_checkpoint
        self.in_planes = widths[0]
        self.conv1 = nn.Conv2d(1, widths[0], kernel_size=3, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(widths[0])
        blocks = []
        for i, (n, w) in enumerate(zip(num_blocks, widths)):
            for j in range(n):
                stride = 2 if i > 0 and j == 0 else 1
                blocks.append(BasicBlock(self.in_planes, w, stride))
                self.in_planes = w
        self.layers = nn.ModuleList(blocks)
        self.linear = nn.Linear(widths[-1], num_classes)

    def forward(self, x):
        out = F.relu(self.bn1(self.conv1(x)))
        for block in self.layers:
            if self.use_checkpoint and self.training and torch.is_grad_enabled():
                out = checkpoint(block, out, use_reentrant=False)
            else:
                out = block(out)
        out = F.adaptive_avg_pool2d(out, 1).flatten(1)
        return self.linear(out)


def make_data(n, num_classes, rng):
    """Images of oriented stripes: the class is the stripe direction, plus noise."""
    yy, xx = np.mgrid[0:8, 0:8]
    patterns = np.stack([np.sin(xx), np.sin(yy), np.sin(xx + yy), np.sin(xx - yy)])[:num_classes]
    labels = rng.integers(0, num_classes, size=n)
    images = patterns[labels] + 0.5 * rng.normal(size=(n, 8, 8))
    return torch.from_numpy(images[:, None].astype(np.float32)), torch.from_numpy(labels)


def evaluate(model, loader):
    model.eval()
    total, correct, loss = 0, 0, 0.0
    with torch.no_grad():
        for x, y in loader:
            logits = model(x)
            loss += F.cross_entropy(logits, y, reduction="sum").item()
            correct += (logits.argmax(1) == y).sum().item()
            total += y.numel()
    return loss / total, correct / total


def main():
    parser = argparse.ArgumentParser(description="ResNet with checkpointed blocks and an EMA model")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.05)
    parser.add_argument("--momentum", type=float, default=0.9)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--ema-decay", type=float, default=0.9)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--resume-at", type=int, default=2, help="save, rebuild and reload before this epoch")
    parser.add_argument("--checkpoint", default="resnet.pt")
    progutil.add_args(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    x_train, y_train = make_data(48, 4, rng)
    x_test, y_test = make_data(32, 4, rng)
    test_loader = DataLoader(TensorDataset(x_test, y_test), batch_size=32)

    def build(model):
        ema_model = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(args.ema_decay))
        optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum, nesterov=True,
                                    weight_decay=args.weight_decay)
        scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=args.epochs)
        return ema_model, optimizer, scheduler

    model = ResNet()
    progutil.start(args, model=model)
    ema_model, optimizer, scheduler = build(model)

    step = 0
    for epoch in range(args.epochs):
        if epoch == args.resume_at:
            # stop and resume: everything the run needs goes through one checkpoint file
            torch.save({"epoch": epoch, "step": step, "model": model.state_dict(), "ema": ema_model.state_dict(),
                        "optimizer": optimizer.state_dict(), "scheduler": scheduler.state_dict()}, args.checkpoint)
            del model, ema_model, optimizer, scheduler
            ckpt = torch.load(args.checkpoint)
            model = ResNet()
            model.load_state_dict(ckpt["model"])
            ema_model, optimizer, scheduler = build(model)
            ema_model.load_state_dict(ckpt["ema"])
            optimizer.load_state_dict(ckpt["optimizer"])
            scheduler.load_state_dict(ckpt["scheduler"])
            step = ckpt["step"]
            print(f"resumed at epoch {ckpt['epoch']} (lr {scheduler.get_last_lr()[0]:.4f})")
        model.train()
        order = rng.permutation(len(x_train))
        for start in range(0, len(order), args.batch_size):
            idx = torch.from_numpy(order[start:start + args.batch_size])
            x, y = x_train[idx], y_train[idx]
            optimizer.zero_grad()
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            optimizer.step()
            ema_model.update_parameters(model)
            progutil.log(args, step=step, loss=loss.item())
            step += 1
        scheduler.step()
        test_loss, test_acc = evaluate(model, test_loader)
        ema_loss, ema_acc = evaluate(ema_model, test_loader)
        print(f"epoch {epoch}: test loss {test_loss:.4f} acc {test_acc:.3f} | "
              f"ema loss {ema_loss:.4f} acc {ema_acc:.3f}")
        progutil.log(args, epoch=epoch, test_loss=test_loss, test_acc=test_acc, ema_loss=ema_loss, ema_acc=ema_acc,
                     lr=scheduler.get_last_lr()[0])

    train_loader = DataLoader(TensorDataset(x_train), batch_size=args.batch_size)
    update_bn(train_loader, ema_model)
    ema_loss, ema_acc = evaluate(ema_model, test_loader)
    print(f"after update_bn: ema loss {ema_loss:.4f} acc {ema_acc:.3f}")
    torch.save(ema_model.state_dict(), "ema.pt")
    restored = AveragedModel(ResNet(), multi_avg_fn=get_ema_multi_avg_fn(args.ema_decay))
    restored.load_state_dict(torch.load("ema.pt"))
    restored_loss, _ = evaluate(restored, test_loader)
    progutil.log(args, bn_ema_loss=ema_loss, bn_ema_acc=ema_acc, restored_loss=restored_loss,
                 n_averaged=int(ema_model.n_averaged))
    progutil.finish(args, model=model, ema=ema_model)


if __name__ == "__main__":
    main()
