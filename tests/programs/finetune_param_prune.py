"""Fine-tune a pretrained MLP on a new task: frozen backbone, a weight-normalized head, magnitude pruning.

A network is first pretrained on a source task and its backbone saved; the fine-tuning model loads that
backbone, freezes it, reparametrizes its classifier with weight_norm, prunes the neck layer by L1 magnitude
(twice: iterative pruning) and the backbone globally, trains what is left, then makes the pruning permanent.
"""

import argparse

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.prune as prune
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm


class Net(nn.Module):
    def __init__(self, in_features=10, hidden=24, num_classes=3):
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(in_features, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.neck = nn.Linear(hidden, hidden)
        self.head = nn.Linear(hidden, num_classes)

    def forward(self, x):
        return self.head(F.relu(self.neck(self.backbone(x))))


def make_task(n, rng, proj, num_classes):
    x = rng.normal(size=(n, proj.shape[0])).astype(np.float32)
    y = np.argmax(np.tanh(x @ proj) + 0.1 * rng.normal(size=(n, num_classes)), axis=1)
    return torch.from_numpy(x), torch.from_numpy(y)


def train_steps(model, optimizer, x, y, steps, batch_size, rng, args, tag, offset=0):
    model.train()
    for i in range(steps):
        idx = torch.from_numpy(rng.choice(len(x), size=batch_size, replace=False))
        optimizer.zero_grad()
        loss = F.cross_entropy(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
        progutil.log(args, step=offset + i, phase=tag, loss=loss.item())
    return offset + steps


def sparsity(t):
    return float((t == 0).sum()) / t.numel()


def main():
    parser = argparse.ArgumentParser(description="fine-tuning with a frozen backbone, weight_norm and pruning")
    parser.add_argument("--pretrain-steps", type=int, default=15)
    parser.add_argument("--finetune-steps", type=int, default=16)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--lr", type=float, default=0.1)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--backbone-path", default="backbone.pt")
    parser.add_argument("--checkpoint", default="finetuned.pt")
    progutil.add_args(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    source = make_task(128, rng, rng.normal(size=(10, 5)), 5)
    target = make_task(96, rng, rng.normal(size=(10, 3)), 3)

    pretrained = Net(num_classes=5)
    model = Net(num_classes=3)
    progutil.start(args, pretrained=pretrained, model=model)

    # pretraining on the source task, then keep only the backbone
    opt = torch.optim.SGD(pretrained.parameters(), lr=args.lr, momentum=0.9)
    step = train_steps(pretrained, opt, *source, args.pretrain_steps, args.batch_size, rng, args, "pretrain")
    torch.save(pretrained.backbone.state_dict(), args.backbone_path)

    model.backbone.load_state_dict(torch.load(args.backbone_path))
    model.backbone.requires_grad_(False)
    weight_norm(model.head, name="weight", dim=0)
    prune.l1_unstructured(model.neck, name="weight", amount=0.25)
    prune.global_unstructured([(model.backbone[0], "weight"), (model.backbone[2], "weight")],
                              pruning_method=prune.L1Unstructured, amount=0.3)
    trainable = [name for name, p in model.named_parameters() if p.requires_grad]
    print("trainable:", trainable)
    optimizer = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=args.lr / 5,
                                 weight_decay=1e-4)

    half = args.finetune_steps // 2
    step = train_steps(model, optimizer, *target, half, args.batch_size, rng, args, "finetune", step)
    prune.l1_unstructured(model.neck, name="weight", amount=0.25)  # iterative: prunes a quarter of what is left
    step = train_steps(model, optimizer, *target, args.finetune_steps - half, args.batch_size, rng, args,
                       "finetune", step)

    sd = model.state_dict()
    keys_pruned = ",".join(sd)
    masks = {k: sparsity(v) for k, v in sd.items() if k.endswith("_mask")}
    with torch.no_grad():
        model(target[0][:2])  # the forward pre-hook recomputes weight = weight_orig * weight_mask
    applied = torch.equal(model.neck.weight, model.neck.weight_orig * model.neck.weight_mask)
    frozen_same = torch.equal(model.backbone[0].weight_orig, pretrained.backbone[0].weight)
    print("masks:", masks)
    for module, name in [(model.neck, "weight"), (model.backbone[0], "weight"), (model.backbone[2], "weight")]:
        prune.remove(module, name)
    sd = model.state_dict()
    g = model.head.parametrizations.weight.original0
    v = model.head.parametrizations.weight.original1
    wn_ok = torch.allclose(model.head.weight, g * v / v.norm(dim=1, keepdim=True))
    progutil.log(args, keys_pruned=keys_pruned, keys_removed=",".join(sd), trainable=",".join(trainable),
                 neck_sparsity=sparsity(sd["neck.weight"]), global_sparsity=sparsity(torch.cat(
                     [sd["backbone.0.weight"].flatten(), sd["backbone.2.weight"].flatten()])),
                 mask_neck=masks["neck.weight_mask"], applied=applied, frozen_same=frozen_same, wn_ok=wn_ok,
                 is_parametrized=parametrize.is_parametrized(model.head, "weight"))

    torch.save(model.state_dict(), args.checkpoint)
    restored = Net(num_classes=3)
    weight_norm(restored.head, name="weight", dim=0)
    restored.load_state_dict(torch.load(args.checkpoint))
    model.eval()
    restored.eval()
    x, y = target
    with torch.no_grad():
        logits = model(x)
        acc = (logits.argmax(1) == y).float().mean().item()
        gap = (restored(x) - logits).abs().max().item()
    print(f"fine-tuned accuracy {acc:.3f}")
    progutil.log(args, accuracy=acc, restored_gap=gap)
    progutil.finish(args, pretrained=pretrained, model=model)


if __name__ == "__main__":
    main()
