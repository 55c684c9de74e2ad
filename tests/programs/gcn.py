"""Semi-supervised node classification with a two-layer GCN (Kipf & Welling, 2017) on a small random graph.

The propagation matrix D^-1/2 (A + I) D^-1/2 is a sparse COO tensor; each layer is H' = A_hat @ (H @ W).
"""

import argparse

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.nn.functional as F


def make_graph(num_nodes, num_feats, num_classes, rng):
    """Nodes of one class link mostly among themselves; features are class centroids plus noise."""
    labels = rng.integers(0, num_classes, size=num_nodes)
    centroids = rng.normal(size=(num_classes, num_feats))
    feats = centroids[labels] + 1.5 * rng.normal(size=(num_nodes, num_feats))
    same = labels[:, None] == labels[None, :]
    prob = np.where(same, 0.25, 0.03)
    upper = np.triu(rng.random((num_nodes, num_nodes)) < prob, k=1)
    adj = upper | upper.T
    return feats.astype(np.float32), labels, adj


def normalized_adjacency(adj):
    """D^-1/2 (A + I) D^-1/2 as a sparse COO tensor."""
    n = adj.shape[0]
    a = adj.astype(np.float32) + np.eye(n, dtype=np.float32)
    rows, cols = np.nonzero(a)
    deg = a.sum(1)
    values = 1.0 / np.sqrt(deg[rows] * deg[cols])
    indices = torch.from_numpy(np.stack([rows, cols]).astype(np.int64))
    return torch.sparse_coo_tensor(indices, torch.from_numpy(values.astype(np.float32)), (n, n)).coalesce()


class GraphConvolution(nn.Module):
    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.weight = nn.Parameter(torch.empty(in_features, out_features))
        self.bias = nn.Parameter(torch.empty(out_features)) if bias else None
        self.reset_parameters()

    def reset_parameters(self):
        stdv = 1.0 / self.weight.size(1) ** 0.5
        self.weight.data.uniform_(-stdv, stdv)
        if self.bias is not None:
            self.bias.data.uniform_(-stdv, stdv)

    def forward(self, x, adj):
        support = torch.mm(x, self.weight)
        out = torch.spmm(adj, support)
        return out + self.bias if self.bias is not None else out


class GCN(nn.Module):
    def __init__(self, nfeat, nhid, nclass, dropout):
        super().__init__()
        self.gc1 = GraphConvolution(nfeat, nhid)
        self.gc2 = GraphConvolution(nhid, nclass)
        self.dropout = dropout

    def forward(self, x, adj):
        x = F.relu(self.gc1(x, adj))
        x = F.dropout(x, self.dropout, training=self.training)
        x = torch.sparse.mm(adj, x @ self.gc2.weight)
        return F.log_softmax(x + self.gc2.bias, dim=1)


def accuracy(output, labels):
    preds = output.max(1)[1].type_as(labels)
    return preds.eq(labels).double().sum().item() / len(labels)


def main():
    parser = argparse.ArgumentParser(description="GCN on a random planted-partition graph")
    parser.add_argument("--nodes", type=int, default=60)
    parser.add_argument("--features", type=int, default=12)
    parser.add_argument("--classes", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--weight-decay", type=float, default=5e-4)
    parser.add_argument("--dropout", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--checkpoint", default="gcn.pt")
    progutil.add_args(parser)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    torch.manual_seed(args.seed)
    feats, labels_np, adj_np = make_graph(args.nodes, args.features, args.classes, rng)
    features = torch.from_numpy(feats)
    features = features / features.norm(dim=1, keepdim=True)
    labels = torch.from_numpy(labels_np)
    adj = normalized_adjacency(adj_np)
    perm = rng.permutation(args.nodes)
    idx_train = torch.from_numpy(perm[: args.nodes // 3])
    idx_val = torch.from_numpy(perm[args.nodes // 3: args.nodes // 2])
    idx_test = torch.from_numpy(perm[args.nodes // 2:])

    model = GCN(nfeat=features.shape[1], nhid=args.hidden, nclass=args.classes, dropout=args.dropout)
    progutil.start(args, model=model)
    optimizer = torch.optim.Adam(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)

    for epoch in range(args.epochs):
        model.train()
        optimizer.zero_grad()
        output = model(features, adj)
        loss_train = F.nll_loss(output[idx_train], labels[idx_train])
        acc_train = accuracy(output[idx_train], labels[idx_train])
        loss_train.backward()
        optimizer.step()

        model.eval()
        with torch.no_grad():
            output = model(features, adj)
            loss_val = F.nll_loss(output[idx_val], labels[idx_val])
            acc_val = accuracy(output[idx_val], labels[idx_val])
        print(f"Epoch: {epoch + 1:04d} loss_train: {loss_train.item():.4f} acc_train: {acc_train:.4f} "
              f"loss_val: {loss_val.item():.4f} acc_val: {acc_val:.4f}")
        progutil.log(args, step=epoch, loss=float(loss_train), loss_val=float(loss_val), acc_train=acc_train,
                     acc_val=acc_val)

    torch.save(model.state_dict(), args.checkpoint)
    restored = GCN(nfeat=features.shape[1], nhid=args.hidden, nclass=args.classes, dropout=args.dropout)
    restored.load_state_dict(torch.load(args.checkpoint))
    restored.eval()
    with torch.no_grad():
        output = restored(features, adj)
        loss_test = F.nll_loss(output[idx_test], labels[idx_test])
        acc_test = accuracy(output[idx_test], labels[idx_test])
        # the dense product must agree with the sparse one
        dense_gap = (torch.mm(adj.to_dense(), features) - torch.sparse.mm(adj, features)).abs().max().item()
    print(f"Test set results: loss= {loss_test.item():.4f} accuracy= {acc_test:.4f}")
    progutil.log(args, test_loss=float(loss_test), test_acc=acc_test, nnz=int(adj._nnz()),
                 dense_gap_small=dense_gap < 1e-5)
    progutil.finish(args, model=model)


if __name__ == "__main__":
    main()
