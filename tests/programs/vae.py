"""Variational auto-encoder as in the PyTorch VAE example, on tiny 8x8 binary-ish images: Linear encoder to
(mu, logvar), the reparameterization trick (eps drawn from NumPy), a Linear/Sigmoid decoder, the loss
BCE(reduction='sum') + KLD, Adam, a test pass under no_grad, a checkpoint, and decoded samples."""

import argparse
import os

import numpy as np
import progutil
import torch
import torch.nn.functional as F
import torch.utils.data
from torch import nn, optim

PIXELS = 64


class VAE(nn.Module):
    """(N, 64) -> (reconstruction (N, 64), mu (N, nz), logvar (N, nz))."""

    def __init__(self, hidden, nz):
        super().__init__()
        self.fc1 = nn.Linear(PIXELS, hidden)
        self.fc21 = nn.Linear(hidden, nz)
        self.fc22 = nn.Linear(hidden, nz)
        self.fc3 = nn.Linear(nz, hidden)
        self.fc4 = nn.Linear(hidden, PIXELS)

    def encode(self, x):
        h1 = F.relu(self.fc1(x))
        return self.fc21(h1), self.fc22(h1)

    def reparameterize(self, mu, logvar, eps):
        std = torch.exp(0.5 * logvar)
        return mu + eps * std

    def decode(self, z):
        h3 = F.relu(self.fc3(z))
        return torch.sigmoid(self.fc4(h3))

    def forward(self, x, eps):
        mu, logvar = self.encode(x.view(-1, PIXELS))
        z = self.reparameterize(mu, logvar, eps)
        return self.decode(z), mu, logvar


def loss_function(recon_x, x, mu, logvar):
    """Reconstruction + KL divergence losses summed over all elements and batch."""
    BCE = F.binary_cross_entropy(recon_x, x.view(-1, PIXELS), reduction="sum")
    # see Appendix B from VAE paper: Kingma and Welling. Auto-Encoding Variational Bayes. ICLR, 2014
    KLD = -0.5 * torch.sum(1 + logvar - mu.pow(2) - logvar.exp())
    return BCE + KLD


def make_digits(rng, n):
    """Noisy strokes in [0, 1]: (n, 1, 8, 8) float32 and a class label per image."""
    labels = rng.integers(0, 4, n)
    img = np.zeros((n, 1, 8, 8), dtype=np.float32)
    for k, c in enumerate(labels):
        if c == 0:
            img[k, 0, 1:7, 3:5] = 1
        elif c == 1:
            img[k, 0, 3:5, 1:7] = 1
        elif c == 2:
            np.fill_diagonal(img[k, 0], 1)
        else:
            img[k, 0, 1:7, 1:7] = 1
            img[k, 0, 2:6, 2:6] = 0
    img = np.clip(img * 0.9 + rng.uniform(0, 0.1, img.shape), 0, 1).astype(np.float32)
    return img, labels


def main():
    parser = argparse.ArgumentParser(description="VAE example on tiny synthetic images")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--hidden", type=int, default=32)
    parser.add_argument("--nz", type=int, default=4)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log-interval", type=int, default=2)
    parser.add_argument("--outf", default=".")
    progutil.add_args(parser)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    train_x, train_y = make_digits(rng, 64)
    test_x, test_y = make_digits(rng, 32)
    train_set = torch.utils.data.TensorDataset(torch.from_numpy(train_x), torch.from_numpy(train_y))
    test_set = torch.utils.data.TensorDataset(torch.from_numpy(test_x), torch.from_numpy(test_y))
    # no shuffling: the order must not depend on the library's random stream
    train_loader = torch.utils.data.DataLoader(train_set, batch_size=args.batch_size, shuffle=False)
    test_loader = torch.utils.data.DataLoader(test_set, batch_size=args.batch_size, shuffle=False)

    model = VAE(args.hidden, args.nz)
    progutil.start(args, model=model)
    optimizer = optim.Adam(model.parameters(), lr=args.lr)

    step = 0
    for epoch in range(1, args.epochs + 1):
        model.train()
        train_loss = 0.0
        for batch_idx, (data, _) in enumerate(train_loader):
            eps = torch.from_numpy(rng.standard_normal((data.size(0), args.nz)).astype(np.float32))
            optimizer.zero_grad()
            recon_batch, mu, logvar = model(data, eps)
            loss = loss_function(recon_batch, data, mu, logvar)
            loss.backward()
            train_loss += loss.item()
            optimizer.step()
            if batch_idx % args.log_interval == 0:
                done, total = batch_idx * len(data), len(train_loader.dataset)
                print(f"Train Epoch: {epoch} [{done}/{total} ({100.0 * batch_idx / len(train_loader):.0f}%)]"
                      f"\tLoss: {loss.item() / len(data):.6f}")
            progutil.log(args, step=step, loss=loss.item())
            step += 1
        avg = train_loss / len(train_loader.dataset)
        print(f"====> Epoch: {epoch} Average loss: {avg:.4f}")

        model.eval()
        test_loss = 0.0
        with torch.no_grad():
            for data, _ in test_loader:
                eps = torch.from_numpy(rng.standard_normal((data.size(0), args.nz)).astype(np.float32))
                recon_batch, mu, logvar = model(data, eps)
                test_loss += loss_function(recon_batch, data, mu, logvar).item()
        test_loss /= len(test_loader.dataset)
        print(f"====> Test set loss: {test_loss:.4f}")
        progutil.log(args, epoch=epoch, train_loss=avg, test_loss=test_loss)

    path = os.path.join(args.outf, "vae.pt")
    torch.save(model.state_dict(), path)
    model2 = VAE(args.hidden, args.nz)
    model2.load_state_dict(torch.load(path, weights_only=True))
    model2.eval()
    with torch.no_grad():
        z = torch.from_numpy(rng.standard_normal((8, args.nz)).astype(np.float32))
        sample = model2.decode(z).view(8, 1, 8, 8)
    print("sample", tuple(sample.shape), f"mean {sample.mean().item():.6f}")
    progutil.log(args, sample_sum=sample.sum().item(), sample_max=sample.max().item(),
                 sample_row=sample[0, 0, 3].tolist())
    progutil.finish(args, model=model)


if __name__ == "__main__":
    main()
