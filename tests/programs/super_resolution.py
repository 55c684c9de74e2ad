"""Sub-pixel CNN super-resolution (Shi et al. 2016) as in the PyTorch super_resolution example, on tiny
synthetic luminance images: Conv2d layers ending in nn.PixelShuffle(upscale_factor), orthogonal_ weight init,
MSELoss, Adam, PSNR = 10 * log10(1 / mse) on a test set after every epoch, and checkpoints."""

import argparse
import os
from math import log10

import numpy as np
import progutil
import torch
import torch.nn as nn
import torch.nn.init as init
import torch.optim as optim
from torch.utils.data import DataLoader, Dataset


class Net(nn.Module):
    """(N, 1, H, W) -> (N, 1, H * r, W * r)."""

    def __init__(self, upscale_factor, width=16):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv1 = nn.Conv2d(1, width, (5, 5), (1, 1), (2, 2))
        self.conv2 = nn.Conv2d(width, width, (3, 3), (1, 1), (1, 1))
        self.conv3 = nn.Conv2d(width, width // 2, (3, 3), (1, 1), (1, 1))
        self.conv4 = nn.Conv2d(width // 2, upscale_factor ** 2, (3, 3), (1, 1), (1, 1))
        self.pixel_shuffle = nn.PixelShuffle(upscale_factor)
        self._initialize_weights()

    def forward(self, x):
        x = self.relu(self.conv1(x))
        x = self.relu(self.conv2(x))
        x = self.relu(self.conv3(x))
        x = self.pixel_shuffle(self.conv4(x))
        return x

    def _initialize_weights(self):
        init.orthogonal_(self.conv1.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv2.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv3.weight, init.calculate_gain("relu"))
        init.orthogonal_(self.conv4.weight)


class SyntheticImages(Dataset):
    """Pairs (low-res (1, s, s), high-res (1, s*r, s*r)); low-res is the high-res image box-averaged by r."""

    def __init__(self, rng, n, size, upscale_factor):
        hr = size * upscale_factor
        yy, xx = np.mgrid[0:hr, 0:hr].astype(np.float32) / hr
        fx, fy, ph = rng.uniform(0.5, 3.0, (3, n, 1, 1)).astype(np.float32)
        self.target = (0.5 + 0.5 * np.sin(2 * np.pi * (fx * xx + fy * yy) + ph)).astype(np.float32)[:, None]
        r = upscale_factor
        self.input = self.target.reshape(n, 1, size, r, size, r).mean(axis=(3, 5)).astype(np.float32)

    def __len__(self):
        return len(self.input)

    def __getitem__(self, index):
        return torch.from_numpy(self.input[index]), torch.from_numpy(self.target[index])


def main():
    parser = argparse.ArgumentParser(description="PyTorch Super Res Example (tiny)")
    parser.add_argument("--upscale_factor", type=int, default=2, help="super resolution upscale factor")
    parser.add_argument("--batchSize", type=int, default=4, help="training batch size")
    parser.add_argument("--testBatchSize", type=int, default=4, help="testing batch size")
    parser.add_argument("--nEpochs", type=int, default=3, help="number of epochs to train for")
    parser.add_argument("--lr", type=float, default=0.001, help="Learning Rate. Default=0.001")
    parser.add_argument("--size", type=int, default=8, help="low-resolution image side")
    parser.add_argument("--seed", type=int, default=123, help="random seed to use. Default=123")
    parser.add_argument("--outf", default=".")
    progutil.add_args(parser)
    opt = parser.parse_args()
    print(opt.upscale_factor, opt.batchSize, opt.nEpochs)

    torch.manual_seed(opt.seed)
    rng = np.random.default_rng(opt.seed)
    device = torch.device("cpu")

    print("===> Loading datasets")
    train_set = SyntheticImages(rng, 16, opt.size, opt.upscale_factor)
    test_set = SyntheticImages(rng, 8, opt.size, opt.upscale_factor)
    training_data_loader = DataLoader(dataset=train_set, batch_size=opt.batchSize, shuffle=False)
    testing_data_loader = DataLoader(dataset=test_set, batch_size=opt.testBatchSize, shuffle=False)

    print("===> Building model")
    model = Net(upscale_factor=opt.upscale_factor).to(device)
    progutil.start(opt, model=model)
    criterion = nn.MSELoss()
    optimizer = optim.Adam(model.parameters(), lr=opt.lr)

    step = 0
    for epoch in range(1, opt.nEpochs + 1):
        epoch_loss = 0
        for iteration, batch in enumerate(training_data_loader, 1):
            input, target = batch[0].to(device), batch[1].to(device)
            optimizer.zero_grad()
            loss = criterion(model(input), target)
            epoch_loss += loss.item()
            loss.backward()
            optimizer.step()
            print(f"===> Epoch[{epoch}]({iteration}/{len(training_data_loader)}): Loss: {loss.item():.4f}")
            progutil.log(opt, step=step, loss=loss.item())
            step += 1
        print(f"===> Epoch {epoch} Complete: Avg. Loss: {epoch_loss / len(training_data_loader):.4f}")

        avg_psnr = 0
        with torch.no_grad():
            for batch in testing_data_loader:
                input, target = batch[0].to(device), batch[1].to(device)
                prediction = model(input)
                mse = criterion(prediction, target)
                psnr = 10 * log10(1 / mse.item())
                avg_psnr += psnr
        avg_psnr /= len(testing_data_loader)
        print(f"===> Avg. PSNR: {avg_psnr:.4f} dB")
        progutil.log(opt, epoch=epoch, psnr=avg_psnr)

        model_out_path = os.path.join(opt.outf, f"model_epoch_{epoch}.pth")
        torch.save(model.state_dict(), model_out_path)
        print(f"Checkpoint saved to {os.path.basename(model_out_path)}")

    # super-resolve one test image with the last checkpoint
    net = Net(upscale_factor=opt.upscale_factor)
    net.load_state_dict(torch.load(os.path.join(opt.outf, f"model_epoch_{opt.nEpochs}.pth")))
    with torch.no_grad():
        out = net(test_set[0][0].unsqueeze(0)).clamp(0, 1)
    print("output", tuple(out.shape))
    progutil.log(opt, out_shape=list(out.shape), out_sum=out.sum().item(), out_row=out[0, 0, 5, :8].tolist())
    progutil.finish(opt, model=model)


if __name__ == "__main__":
    main()
