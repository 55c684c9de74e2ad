"""DCGAN on tiny 16x16 images, the way the PyTorch DCGAN example is written: a ConvTranspose2d/BatchNorm2d/ReLU/Tanh
generator, a Conv2d/BatchNorm2d/LeakyReLU/Sigmoid discriminator, weights_init by class name, BCELoss, two Adam
optimizers with betas=(0.5, 0.999), a fixed noise batch for samples and a checkpoint of both networks."""

import argparse
import os

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.optim as optim


class Generator(nn.Module):
    """(N, nz, 1, 1) -> (N, nc, 16, 16) in [-1, 1]."""

    def __init__(self, nz, ngf, nc):
        super().__init__()
        self.main = nn.Sequential(
            # nz x 1 x 1 -> (ngf*4) x 4 x 4
            nn.ConvTranspose2d(nz, ngf * 4, 4, 1, 0, bias=False),
            nn.BatchNorm2d(ngf * 4),
            nn.ReLU(True),
            # -> (ngf*2) x 8 x 8
            nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ngf * 2),
            nn.ReLU(True),
            # -> nc x 16 x 16
            nn.ConvTranspose2d(ngf * 2, nc, 4, 2, 1, bias=False),
            nn.Tanh(),
        )

    def forward(self, input):
        return self.main(input)


class Discriminator(nn.Module):
    """(N, nc, 16, 16) -> (N,) probabilities."""

    def __init__(self, nc, ndf):
        super().__init__()
        self.main = nn.Sequential(
            # nc x 16 x 16 -> ndf x 8 x 8
            nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
            nn.LeakyReLU(0.2, inplace=True),
            # -> (ndf*2) x 4 x 4
            nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
            nn.BatchNorm2d(ndf * 2),
            nn.LeakyReLU(0.2, inplace=True),
            # -> 1 x 1 x 1
            nn.Conv2d(ndf * 2, 1, 4, 1, 0, bias=False),
            nn.Sigmoid(),
        )

    def forward(self, input):
        return self.main(input).view(-1, 1).squeeze(1)


def weights_init(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight, 0.0, 0.02)
    elif classname.find("BatchNorm") != -1:
        torch.nn.init.normal_(m.weight, 1.0, 0.02)
        torch.nn.init.zeros_(m.bias)


def make_images(rng, n, nc, size):
    """Blurry blobs in [-1, 1]: the 'real' data, (n, nc, size, size) float32."""
    yy, xx = np.mgrid[0:size, 0:size].astype(np.float32) / (size - 1)
    cx, cy = rng.uniform(0.25, 0.75, (2, n, 1, 1)).astype(np.float32)
    r = rng.uniform(0.1, 0.3, (n, 1, 1)).astype(np.float32)
    blob = np.exp(-((xx - cx) ** 2 + (yy - cy) ** 2) / (2 * r**2))
    img = np.repeat(blob[:, None], nc, axis=1) * rng.uniform(0.5, 1.0, (n, nc, 1, 1)).astype(np.float32)
    return (img * 2 - 1).astype(np.float32)


def main():
    parser = argparse.ArgumentParser(description="DCGAN on tiny synthetic images")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--nz", type=int, default=8, help="size of the latent z vector")
    parser.add_argument("--ngf", type=int, default=8)
    parser.add_argument("--ndf", type=int, default=8)
    parser.add_argument("--nc", type=int, default=1)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--lr", type=float, default=0.0002)
    parser.add_argument("--beta1", type=float, default=0.5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--outf", default=".", help="folder for checkpoints")
    progutil.add_args(parser)
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    device = torch.device("cpu")

    netG = Generator(args.nz, args.ngf, args.nc).to(device)
    netG.apply(weights_init)
    netD = Discriminator(args.nc, args.ndf).to(device)
    netD.apply(weights_init)
    progutil.start(args, netG=netG, netD=netD)
    print(netG)
    print(netD)

    criterion = nn.BCELoss()
    fixed_noise = torch.from_numpy(rng.standard_normal((args.batch_size, args.nz, 1, 1)).astype(np.float32))
    real_label, fake_label = 1.0, 0.0

    optimizerD = optim.Adam(netD.parameters(), lr=args.lr, betas=(args.beta1, 0.999))
    optimizerG = optim.Adam(netG.parameters(), lr=args.lr, betas=(args.beta1, 0.999))

    data = make_images(rng, args.batch_size * args.steps, args.nc, 16)
    for i in range(args.steps):
        ############################
        # (1) Update D network: maximize log(D(x)) + log(1 - D(G(z)))
        ###########################
        netD.zero_grad()
        real_cpu = torch.from_numpy(data[i * args.batch_size:(i + 1) * args.batch_size]).to(device)
        batch_size = real_cpu.size(0)
        label = torch.full((batch_size,), real_label, dtype=real_cpu.dtype, device=device)

        output = netD(real_cpu)
        errD_real = criterion(output, label)
        errD_real.backward()
        D_x = output.mean().item()

        noise = torch.from_numpy(rng.standard_normal((batch_size, args.nz, 1, 1)).astype(np.float32))
        fake = netG(noise)
        label.fill_(fake_label)
        output = netD(fake.detach())
        errD_fake = criterion(output, label)
        errD_fake.backward()
        D_G_z1 = output.mean().item()
        errD = errD_real + errD_fake
        optimizerD.step()

        ############################
        # (2) Update G network: maximize log(D(G(z)))
        ###########################
        netG.zero_grad()
        label.fill_(real_label)  # fake labels are real for generator cost
        output = netD(fake)
        errG = criterion(output, label)
        errG.backward()
        D_G_z2 = output.mean().item()
        optimizerG.step()

        print(f"[{i}/{args.steps}] Loss_D: {errD.item():.4f} Loss_G: {errG.item():.4f} D(x): {D_x:.4f} "
              f"D(G(z)): {D_G_z1:.4f} / {D_G_z2:.4f}")
        progutil.log(args, step=i, loss=float(errD), loss_D=errD.item(), loss_G=errG.item(), D_x=D_x,
                     D_G_z1=D_G_z1, D_G_z2=D_G_z2)

    # do checkpointing
    torch.save(netG.state_dict(), os.path.join(args.outf, "netG.pth"))
    torch.save(netD.state_dict(), os.path.join(args.outf, "netD.pth"))

    # reload the generator from its checkpoint and draw a sample from the fixed noise
    netG2 = Generator(args.nz, args.ngf, args.nc)
    netG2.load_state_dict(torch.load(os.path.join(args.outf, "netG.pth")))
    netG2.eval()
    with torch.no_grad():
        sample = netG2(fixed_noise)
        sample_train = netG(fixed_noise)  # train mode: batch statistics
    print("sample shape", tuple(sample.shape), f"sum {sample.sum().item():.6f}")
    progutil.log(args, sample_sum=sample.sum().item(), sample_abs_sum=sample.abs().sum().item(),
                 sample_train_sum=sample_train.sum().item(), sample_shape=list(sample.shape),
                 sample_head=sample.flatten()[:8].tolist())
    progutil.finish(args, netG=netG, netD=netD)


if __name__ == "__main__":
    main()
