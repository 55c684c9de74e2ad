"""WGAN-GP (Gulrajani et al.) on tiny 16x16 images: a small Conv2d/LeakyReLU critic without BatchNorm, an MLP +
ConvTranspose2d generator, the gradient penalty on random interpolates through torch.autograd.grad with
create_graph=True, n_critic critic steps per generator step and Adam(betas=(0.5, 0.9)) as in the paper."""

import argparse
import os

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.optim as optim


class Generator(nn.Module):
    """(N, nz) -> (N, 1, 16, 16)."""

    def __init__(self, nz, ngf):
        super().__init__()
        self.ngf = ngf
        self.fc = nn.Sequential(nn.Linear(nz, ngf * 2 * 4 * 4), nn.ReLU(True))
        self.deconv = nn.Sequential(
            nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1),
            nn.ReLU(True),
            nn.ConvTranspose2d(ngf, 1, 4, 2, 1),
            nn.Tanh(),
        )

    def forward(self, z):
        x = self.fc(z).view(-1, self.ngf * 2, 4, 4)
        return self.deconv(x)


class Critic(nn.Module):
    """(N, 1, 16, 16) -> (N,) unbounded scores."""

    def __init__(self, ndf):
        super().__init__()
        self.main = nn.Sequential(
            nn.Conv2d(1, ndf, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1),
            nn.LeakyReLU(0.2),
            nn.Conv2d(ndf * 2, 1, 4, 1, 0),
        )

    def forward(self, x):
        return self.main(x).view(-1)


def gradient_penalty(critic, real, fake, alpha):
    """Mean over the batch of (||d critic(x_hat) / d x_hat||_2 - 1)^2 on x_hat = alpha*real + (1-alpha)*fake."""
    interp = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    out = critic(interp)
    grads = torch.autograd.grad(outputs=out, inputs=interp, grad_outputs=torch.ones_like(out),
                                create_graph=True, retain_graph=True, only_inputs=True)[0]
    grads = grads.view(grads.size(0), -1)
    return ((grads.norm(2, dim=1) - 1) ** 2).mean()


def make_images(rng, n):
    """Horizontal and vertical bars in [-1, 1]: (n, 1, 16, 16) float32."""
    img = -np.ones((n, 1, 16, 16), dtype=np.float32)
    pos = rng.integers(2, 14, n)
    vertical = rng.random(n) < 0.5
    for k in range(n):
        if vertical[k]:
            img[k, 0, :, pos[k] - 1:pos[k] + 1] = 1.0
        else:
            img[k, 0, pos[k] - 1:pos[k] + 1, :] = 1.0
    return img


def main():
    parser = argparse.ArgumentParser(description="WGAN-GP on tiny synthetic images")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--nz", type=int, default=8)
    parser.add_argument("--ngf", type=int, default=8)
    parser.add_argument("--ndf", type=int, default=8)
    parser.add_argument("--iters", type=int, default=4, help="generator iterations")
    parser.add_argument("--critic-iters", type=int, default=2)
    parser.add_argument("--lambda-gp", type=float, default=10.0)
    parser.add_argument("--lr", type=float, default=1e-4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--outf", default=".")
    progutil.add_args(parser)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)

    netG = Generator(args.nz, args.ngf)
    netD = Critic(args.ndf)
    progutil.start(args, netG=netG, netD=netD)

    optD = optim.Adam(netD.parameters(), lr=args.lr, betas=(0.5, 0.9))
    optG = optim.Adam(netG.parameters(), lr=args.lr, betas=(0.5, 0.9))
    data = make_images(rng, 64)
    fixed_z = torch.from_numpy(rng.standard_normal((4, args.nz)).astype(np.float32))

    step = 0
    for it in range(args.iters):
        # (1) critic: minimize D(fake) - D(real) + lambda * GP
        for p in netD.parameters():
            p.requires_grad_(True)
        for _ in range(args.critic_iters):
            idx = rng.integers(0, len(data), args.batch_size)
            real = torch.from_numpy(data[idx])
            z = torch.from_numpy(rng.standard_normal((args.batch_size, args.nz)).astype(np.float32))
            alpha = torch.from_numpy(rng.random((args.batch_size, 1, 1, 1)).astype(np.float32))
            netD.zero_grad()
            with torch.no_grad():
                fake = netG(z)
            d_real = netD(real).mean()
            d_fake = netD(fake).mean()
            gp = gradient_penalty(netD, real, fake, alpha)
            d_loss = d_fake - d_real + args.lambda_gp * gp
            d_loss.backward()
            optD.step()
            wdist = (d_real - d_fake).item()
            progutil.log(args, step=step, loss=d_loss.item(), gp=gp.item(), wasserstein=wdist)
            step += 1

        # (2) generator: minimize -D(G(z)); the critic is frozen
        for p in netD.parameters():
            p.requires_grad_(False)
        netG.zero_grad()
        z = torch.from_numpy(rng.standard_normal((args.batch_size, args.nz)).astype(np.float32))
        g_loss = -netD(netG(z)).mean()
        g_loss.backward()
        optG.step()
        print(f"iter {it}: D {d_loss.item():.4f} G {g_loss.item():.4f} GP {gp.item():.4f} W {wdist:.4f}")
        progutil.log(args, step=step, loss=g_loss.item(), g_loss=g_loss.item())
        step += 1

    torch.save({"netG": netG.state_dict(), "netD": netD.state_dict(), "optG": optG.state_dict()},
               os.path.join(args.outf, "wgan_gp.pt"))
    ckpt = torch.load(os.path.join(args.outf, "wgan_gp.pt"))
    netG2 = Generator(args.nz, args.ngf)
    netG2.load_state_dict(ckpt["netG"])
    with torch.no_grad():
        sample = netG2(fixed_z)
    print(f"sample sum {sample.sum().item():.6f}")
    progutil.log(args, sample_sum=sample.sum().item(), sample_head=sample.flatten()[:8].tolist(),
                 saved_steps=ckpt["optG"]["state"][0]["step"].item())
    progutil.finish(args, netG=netG, netD=netD)


if __name__ == "__main__":
    main()
